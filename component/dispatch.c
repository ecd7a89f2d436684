/* dispatch.c - see dispatch.h */
#include "dispatch.h"

#include "app.h"
#include "stanza.h"

#include <stdlib.h>
#include <string.h>

struct dispatch_iq_entry {
    char *type, *name, *ns;
    dispatch_iq_fn fn;
    void *ud;
};

struct dispatch_entry {
    int is_message;
    dispatch_stanza_fn fn;
    void *ud;
};

struct dispatch {
    struct dispatch_iq_entry *iqs;
    size_t n_iqs;
    struct dispatch_entry *others;
    size_t n_others;
};

struct dispatch *dispatch_new(void)
{
    return calloc(1, sizeof(struct dispatch));
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_iqs; i++) {
        free(d->iqs[i].type);
        free(d->iqs[i].name);
        free(d->iqs[i].ns);
    }
    free(d->iqs);
    free(d->others);
    free(d);
}

static struct dispatch_iq_entry *dispatch__find_iq(struct dispatch *d,
                                                   const char *type,
                                                   const char *name,
                                                   const char *ns)
{
    for (size_t i = 0; i < d->n_iqs; i++) {
        struct dispatch_iq_entry *e = &d->iqs[i];
        if (!strcmp(e->type, type) && !strcmp(e->name, name) &&
            !strcmp(e->ns, ns))
            return e;
    }
    return NULL;
}

int dispatch_add_iq(struct dispatch *d, const char *type, const char *name,
                    const char *ns, dispatch_iq_fn fn, void *ud)
{
    struct dispatch_iq_entry *e = dispatch__find_iq(d, type, name, ns);
    if (e) {
        e->fn = fn;
        e->ud = ud;
        return 0;
    }
    struct dispatch_iq_entry *grown =
        realloc(d->iqs, (d->n_iqs + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->iqs = grown;
    e = &d->iqs[d->n_iqs];
    e->type = strdup(type);
    e->name = strdup(name);
    e->ns = strdup(ns);
    e->fn = fn;
    e->ud = ud;
    if (!e->type || !e->name || !e->ns) {
        free(e->type);
        free(e->name);
        free(e->ns);
        return -1;
    }
    d->n_iqs++;
    return 0;
}

int dispatch_add(struct dispatch *d, const char *kind, dispatch_stanza_fn fn,
                 void *ud)
{
    int is_message = !strcmp(kind, "message");
    if (!is_message && strcmp(kind, "presence"))
        return -1;
    struct dispatch_entry *grown =
        realloc(d->others, (d->n_others + 1) * sizeof *grown);
    if (!grown)
        return -1;
    d->others = grown;
    d->others[d->n_others++] =
        (struct dispatch_entry){.is_message = is_message, .fn = fn, .ud = ud};
    return 0;
}

static xmpp_stanza_t *dispatch__first_element(xmpp_stanza_t *stanza)
{
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(stanza); c;
         c = xmpp_stanza_get_next(c)) {
        if (xmpp_stanza_is_tag(c))
            return c;
    }
    return NULL;
}

static void dispatch__iq(struct dispatch *d, struct app *app,
                         xmpp_stanza_t *iq)
{
    const char *type = xmpp_stanza_get_type(iq);
    if (!type || (strcmp(type, "get") && strcmp(type, "set")))
        return; /* results and errors belong to id handlers */
    xmpp_stanza_t *payload = dispatch__first_element(iq);
    if (!payload) {
        send_error(app, iq, "modify", "bad-request",
                   "This iq has no payload element.");
        return;
    }
    const char *name = xmpp_stanza_get_name(payload);
    const char *ns = xmpp_stanza_get_ns(payload);
    struct dispatch_iq_entry *e =
        name && ns ? dispatch__find_iq(d, type, name, ns) : NULL;
    if (e) {
        e->fn(app, iq, payload, e->ud);
        return;
    }
    send_error(app, iq, "cancel", "service-unavailable",
               "chatdesk does not offer this request here.");
}

void dispatch_stanza(struct dispatch *d, struct app *app,
                     xmpp_stanza_t *stanza)
{
    const char *kind = xmpp_stanza_get_name(stanza);
    if (!kind)
        return;
    if (!strcmp(kind, "iq")) {
        dispatch__iq(d, app, stanza);
        return;
    }
    int is_message = !strcmp(kind, "message");
    if (!is_message && strcmp(kind, "presence"))
        return;
    for (size_t i = 0; i < d->n_others; i++) {
        struct dispatch_entry *e = &d->others[i];
        if (e->is_message == is_message &&
            e->fn(app, stanza, e->ud) == DISPATCH_HANDLED)
            return;
    }
}
