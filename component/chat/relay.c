/* relay.c - see relay.h */
#include "chat/relay.h"

#include "chat/rooms.h"
#include "runtime/app.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "runtime/stanza.h"
#include "xep0045_muc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void chat_relay_notice(struct app *app, const char *room, const char *body,
                       const char *id, void *ud)
{
    char to[CHAT_JID_MAX];
    (void)ud;
    if (!app->cfg || app->cfg->connections != 0)
        return; /* one process serves every room */
    snprintf(to, sizeof to, "%s@%s", room, app->jid);
    xmpp_stanza_t *m = xmpp_message_new(app->ctx, "headline", to, NULL);
    xmpp_stanza_t *r = xmpp_stanza_new(app->ctx);
    if (m && r) {
        xmpp_stanza_set_name(r, "relay");
        xmpp_stanza_set_ns(r, NS_CHATDESK_RELAY);
        xmpp_stanza_set_attribute(r, "id", id);
        stanza_add_text_child(r, "body", NULL, body);
        xmpp_stanza_add_child(m, r);
        xmpp_stanza_set_from(m, app->jid);
        app_send(app, m);
    }
    if (r)
        xmpp_stanza_release(r);
    if (m)
        xmpp_stanza_release(m);
}

static enum dispatch_result chat__relay_in(struct app *app,
                                           xmpp_stanza_t *st, void *ud)
{
    const char *from = xmpp_stanza_get_from(st);
    const char *to = xmpp_stanza_get_to(st);
    xmpp_stanza_t *r =
        xmpp_stanza_get_child_by_name_and_ns(st, "relay", NS_CHATDESK_RELAY);
    char room[CHAT_JID_MAX];
    (void)ud;
    if (!r || !from || strcasecmp(from, app->jid) || !to ||
        !strchr(to, '@'))
        return DISPATCH_PASS;
    snprintf(room, sizeof room, "%.*s", (int)(strchr(to, '@') - to), to);
    char *body = stanza_child_text(r, "body", NULL);
    const char *id = xmpp_stanza_get_attribute(r, "id");
    size_t n = body && id ? muc_relay_notice(app->chat->muc, room, body, id)
                          : 0;
    log_debug("chat", "a notice relayed for %s reached %zu resource%s here",
              room, n, n == 1 ? "" : "s");
    if (body)
        xmpp_free(app->ctx, body);
    return DISPATCH_HANDLED;
}

int chat_relay_register(struct app *app)
{
    return dispatch_add(app->dispatch, "message", chat__relay_in, NULL);
}
