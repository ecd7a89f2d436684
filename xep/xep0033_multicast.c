/* xep0033_multicast.c - XEP-0033 bcc copies. See xep0033_multicast.h. */
#include "xep0033_multicast.h"

#include <string.h>

/* The stanza's own <addresses/>: never passed on. */
static int xep0033__is_addresses(xmpp_stanza_t *c)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    return xmpp_stanza_is_tag(c) && name && ns && !strcmp(name, "addresses") &&
           !strcmp(ns, NS_ADDRESS);
}

/* A shallow copy of st: its name and attributes, no children. */
static xmpp_stanza_t *xep0033__shell(xmpp_stanza_t *st)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(st);
    xmpp_stanza_t *out = xmpp_stanza_new(ctx);
    const char *attrs[32];
    int n;

    if (!out)
        return NULL;
    xmpp_stanza_set_name(out, xmpp_stanza_get_name(st));
    n = xmpp_stanza_get_attributes(st, attrs, 32);
    for (int i = 0; i + 1 < n; i += 2)
        xmpp_stanza_set_attribute(out, attrs[i], attrs[i + 1]);
    return out;
}

static xmpp_stanza_t *xep0033__addresses(xmpp_ctx_t *ctx,
                                         const char *const *jids, size_t n)
{
    xmpp_stanza_t *list = xmpp_stanza_new(ctx);

    if (!list)
        return NULL;
    xmpp_stanza_set_name(list, "addresses");
    xmpp_stanza_set_ns(list, NS_ADDRESS);
    for (size_t i = 0; i < n; i++) {
        xmpp_stanza_t *a = xmpp_stanza_new(ctx);
        if (!a) {
            xmpp_stanza_release(list);
            return NULL;
        }
        xmpp_stanza_set_name(a, "address");
        xmpp_stanza_set_attribute(a, "type", "bcc");
        xmpp_stanza_set_attribute(a, "jid", jids[i]);
        xmpp_stanza_add_child_ex(list, a, 0);
    }
    return list;
}

xmpp_stanza_t *xep0033_bcc_copy(xmpp_stanza_t *st, const char *service,
                                const char *const *jids, size_t n)
{
    xmpp_stanza_t *out, *list;

    if (!n || n > XEP0033_MAX_ADDRESSES || !(out = xep0033__shell(st)))
        return NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(st); c;
         c = xmpp_stanza_get_next(c)) {
        if (xep0033__is_addresses(c))
            continue;
        xmpp_stanza_t *cc = xmpp_stanza_copy(c);
        if (!cc || xmpp_stanza_add_child_ex(out, cc, 0) != XMPP_EOK) {
            if (cc)
                xmpp_stanza_release(cc);
            xmpp_stanza_release(out);
            return NULL;
        }
    }
    if (!(list = xep0033__addresses(xmpp_stanza_get_context(st), jids, n))) {
        xmpp_stanza_release(out);
        return NULL;
    }
    xmpp_stanza_add_child_ex(out, list, 0);
    xmpp_stanza_set_to(out, service);
    return out;
}
