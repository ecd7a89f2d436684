/* xep0359_stanza_id.c - see xep0359_stanza_id.h */
#include "xep0359_stanza_id.h"

#include "runtime/stanza.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

xmpp_stanza_t *stanza_id_add(xmpp_stanza_t *parent, const char *by,
                             const char *id)
{
    xmpp_stanza_t *sid = stanza_add_child_ns(parent, "stanza-id", NS_SID);

    xmpp_stanza_set_attribute(sid, "by", by);
    xmpp_stanza_set_attribute(sid, "id", id);
    return sid;
}

int stanza_id_is_by(xmpp_stanza_t *el, const char *by)
{
    const char *name, *ns, *attr;

    if (!xmpp_stanza_is_tag(el))
        return 0;
    name = xmpp_stanza_get_name(el);
    ns = xmpp_stanza_get_ns(el);
    attr = xmpp_stanza_get_attribute(el, "by");
    return name && ns && attr && !strcmp(name, "stanza-id") &&
           !strcmp(ns, NS_SID) && !strcasecmp(attr, by);
}

/* A shallow copy of stanza: name, namespace and attributes, no children. */
static xmpp_stanza_t *stanza_id__shell(xmpp_stanza_t *stanza)
{
    xmpp_ctx_t *ctx = xmpp_stanza_get_context(stanza);
    xmpp_stanza_t *out = xmpp_stanza_new(ctx);
    int count = xmpp_stanza_get_attribute_count(stanza);
    const char **attrs =
        count > 0 ? calloc(2 * (size_t)count, sizeof *attrs) : NULL;
    int n;

    if (!out || (count > 0 && !attrs)) {
        if (out)
            xmpp_stanza_release(out);
        free(attrs);
        return NULL;
    }
    xmpp_stanza_set_name(out, xmpp_stanza_get_name(stanza));
    n = count > 0 ? xmpp_stanza_get_attributes(stanza, attrs, 2 * count) : 0;
    for (int i = 0; i + 1 < n; i += 2)
        xmpp_stanza_set_attribute(out, attrs[i], attrs[i + 1]);
    free(attrs);
    return out;
}

xmpp_stanza_t *stanza_id_copy_filtered(xmpp_stanza_t *stanza, const char *by,
                                       stanza_id_drop_fn drop, void *ud)
{
    xmpp_stanza_t *out = stanza_id__shell(stanza);

    if (!out)
        return NULL;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(stanza); c;
         c = xmpp_stanza_get_next(c)) {
        if (stanza_id_is_by(c, by) || (drop && drop(c, ud)))
            continue;
        xmpp_stanza_t *copy = xmpp_stanza_copy(c);
        if (!copy) {
            xmpp_stanza_release(out);
            return NULL;
        }
        xmpp_stanza_add_child_ex(out, copy, 0);
    }
    return out;
}
