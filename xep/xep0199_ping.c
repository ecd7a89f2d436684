/* xep0199_ping.c - see xep0199_ping.h */
#include "xep0199_ping.h"

#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"

static void xep0199__ping(struct app *app, xmpp_stanza_t *iq,
                          xmpp_stanza_t *payload, void *ud)
{
    (void)payload;
    (void)ud;
    send_iq_result(app, iq);
}

int xep0199_register(struct app *app)
{
    if (disco_add_feature(app->disco, NS_PING))
        return -1;
    return dispatch_add_iq(app->dispatch, "get", "ping", NS_PING,
                           xep0199__ping, NULL);
}
