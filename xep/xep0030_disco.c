/* xep0030_disco.c - see xep0030_disco.h */
#include "xep0030_disco.h"

#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"

#include <string.h>

/* 1 when the iq is addressed to the component's own domain (no local part,
 * no resource). Room JIDs are answered by the MUC module. */
static int xep0030__to_service(struct app *app, xmpp_stanza_t *iq)
{
    const char *to = xmpp_stanza_get_to(iq);
    return !to || !strcmp(to, app->jid);
}

/* 1 when the iq's to has a local part (user@domain...): such entities (MUC
 * rooms, occupants) answer through the disco entity provider. */
static int xep0030__to_entity(xmpp_stanza_t *iq)
{
    const char *to = xmpp_stanza_get_to(iq);
    const char *at = to ? strchr(to, '@') : NULL;
    const char *slash = to ? strchr(to, '/') : NULL;
    return at && at != to && (!slash || at < slash);
}

static void xep0030__info(struct app *app, xmpp_stanza_t *iq,
                          xmpp_stanza_t *payload, void *ud)
{
    (void)ud;
    const char *node = xmpp_stanza_get_attribute(payload, "node");
    if (xep0030__to_entity(iq) &&
        disco_answer_entity(app->disco, app, iq, payload))
        return;
    if (!xep0030__to_service(app, iq) || (node && *node)) {
        send_error(app, iq, "cancel", "item-not-found",
                   "There is no such entity or node on this service.");
        return;
    }
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *q = stanza_add_child_ns(res, "query", NS_DISCO_INFO);
    disco_fill_info(app->disco, q);
    disco_fill_info_ext(app->disco, app, q);
    app_send(app, res);
    xmpp_stanza_release(res);
}

static void xep0030__items(struct app *app, xmpp_stanza_t *iq,
                           xmpp_stanza_t *payload, void *ud)
{
    (void)ud;
    const char *node = xmpp_stanza_get_attribute(payload, "node");
    if (xep0030__to_entity(iq) &&
        disco_answer_entity(app->disco, app, iq, payload))
        return;
    if (!xep0030__to_service(app, iq)) {
        send_error(app, iq, "cancel", "item-not-found",
                   "There is no such entity on this service.");
        return;
    }
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *q = stanza_add_child_ns(res, "query", NS_DISCO_ITEMS);
    if (node)
        xmpp_stanza_set_attribute(q, "node", node);
    if (disco_fill_items(app->disco, app, node, xmpp_stanza_get_from(iq), q) !=
            0 &&
        node && *node) {
        xmpp_stanza_release(res);
        send_error(app, iq, "cancel", "item-not-found",
                   "There is no such node on this service.");
        return;
    }
    app_send(app, res);
    xmpp_stanza_release(res);
}

int xep0030_register(struct app *app)
{
    if (disco_add_identity(app->disco, "component", "generic",
                           "chatdesk helpdesk chat") ||
        disco_add_feature(app->disco, NS_DISCO_INFO) ||
        disco_add_feature(app->disco, NS_DISCO_ITEMS))
        return -1;
    if (dispatch_add_iq(app->dispatch, "get", "query", NS_DISCO_INFO,
                        xep0030__info, NULL) ||
        dispatch_add_iq(app->dispatch, "get", "query", NS_DISCO_ITEMS,
                        xep0030__items, NULL))
        return -1;
    return 0;
}

xmpp_stanza_t *xep0030_request(xmpp_ctx_t *ctx, const char *to, const char *id,
                               const char *ns)
{
    xmpp_stanza_t *iq = xmpp_iq_new(ctx, "get", id);

    if (!iq)
        return NULL;
    xmpp_stanza_set_to(iq, to);
    if (!stanza_add_child_ns(iq, "query", ns)) {
        xmpp_stanza_release(iq);
        return NULL;
    }
    return iq;
}

int xep0030_info_has_feature(xmpp_stanza_t *reply, const char *var)
{
    const char *type = xmpp_stanza_get_type(reply);
    xmpp_stanza_t *q =
        xmpp_stanza_get_child_by_name_and_ns(reply, "query", NS_DISCO_INFO);

    if (!type || strcmp(type, "result") || !q)
        return 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children(q); c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *v = xmpp_stanza_get_attribute(c, "var");
        if (xmpp_stanza_is_tag(c) && name && !strcmp(name, "feature") && v &&
            !strcmp(v, var))
            return 1;
    }
    return 0;
}
