/* xep0249_invite.c - see xep0249_invite.h */
#include "xep0249_invite.h"

#include "runtime/app.h"
#include "runtime/disco.h"
#include "runtime/stanza.h"

#include <stdio.h>

int xep0249_register(struct app *app)
{
    return disco_add_feature(app->disco, NS_CONFERENCE);
}

void xep0249_send_invite(struct app *app, const char *to_jid,
                         const char *room_jid, const char *reason,
                         const char *body)
{
    char fallback[600];
    if (!body) {
        snprintf(fallback, sizeof fallback, "%s - join %s",
                 reason ? reason : "You are invited to a chat", room_jid);
        body = fallback;
    }
    xmpp_stanza_t *msg = xmpp_message_new(app->ctx, "normal", to_jid, NULL);
    xmpp_stanza_set_from(msg, app->jid);
    stanza_add_text_child(msg, "body", NULL, body);
    xmpp_stanza_t *x = stanza_add_child_ns(msg, "x", NS_CONFERENCE);
    xmpp_stanza_set_attribute(x, "jid", room_jid);
    if (reason)
        xmpp_stanza_set_attribute(x, "reason", reason);
    /* an invitation is only good while the chat waits: not for offline
     * storage (XEP-0334) */
    stanza_add_child_ns(msg, "no-store", "urn:xmpp:hints");
    app_send(app, msg);
    xmpp_stanza_release(msg);
}
