/* xep0092_version.c - see xep0092_version.h */
#include "xep0092_version.h"

#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"

static void xep0092__get(struct app *app, xmpp_stanza_t *iq,
                         xmpp_stanza_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    xmpp_stanza_t *res = stanza_iq_result(app->ctx, iq);
    xmpp_stanza_t *q = stanza_add_child_ns(res, "query", NS_VERSION);
    stanza_add_text_child(q, "name", NULL, "chatdesk");
    stanza_add_text_child(q, "version", NULL, CHATDESK_VERSION);
    app_send(app, res);
    xmpp_stanza_release(res);
}

int xep0092_register(struct app *app)
{
    if (disco_add_feature(app->disco, NS_VERSION))
        return -1;
    return dispatch_add_iq(app->dispatch, "get", "query", NS_VERSION,
                           xep0092__get, NULL);
}
