/* app.c - see app.h */
#include "runtime/app.h"

void app_send(struct app *app, xmpp_stanza_t *stanza)
{
    if (!xmpp_stanza_get_from(stanza) && app->jid)
        xmpp_stanza_set_from(stanza, app->jid);
    if (app->send)
        app->send(app->send_ud, stanza);
}
