/* relay.c - see relay.h */
#include "chat/relay.h"

#include "chat/rooms.h"
#include "domain/domain.h"
#include "domain/sessions.h"
#include "runtime/app.h"
#include "runtime/config.h"
#include "runtime/dispatch.h"
#include "runtime/log.h"
#include "runtime/stanza.h"
#include "xep0045_muc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* One process serves every room (a fixed number of connections, not
 * connections = auto): nothing is ever relayed. */
static bool chat__relay_alone(const struct app *app)
{
    return !app->cfg || app->cfg->connections != 0;
}

/* Send r (consumed; NULL when out of memory: nothing) in a headline to
 * room@DOMAIN from DOMAIN. Callers ask chat__relay_alone() first. */
static void chat__relay_send(struct app *app, const char *room,
                             xmpp_stanza_t *r)
{
    char to[CHAT_JID_MAX];
    if (!r)
        return;
    snprintf(to, sizeof to, "%s@%s", room, app->jid);
    xmpp_stanza_t *m = xmpp_message_new(app->ctx, "headline", to, NULL);
    if (m) {
        xmpp_stanza_add_child(m, r);
        xmpp_stanza_set_from(m, app->jid);
        app_send(app, m);
        xmpp_stanza_release(m);
    }
    xmpp_stanza_release(r);
}

static xmpp_stanza_t *chat__relay_new(struct app *app)
{
    xmpp_stanza_t *r = xmpp_stanza_new(app->ctx);
    if (r) {
        xmpp_stanza_set_name(r, "relay");
        xmpp_stanza_set_ns(r, NS_CHATDESK_RELAY);
    }
    return r;
}

void chat_relay_notice(struct app *app, const char *room, const char *body,
                       const char *id, void *ud)
{
    (void)ud;
    if (chat__relay_alone(app))
        return;
    xmpp_stanza_t *r = chat__relay_new(app);
    if (r) {
        xmpp_stanza_set_attribute(r, "id", id);
        stanza_add_text_child(r, "body", NULL, body);
    }
    chat__relay_send(app, room, r);
}

void chat_relay_room(struct app *app, int64_t session_id,
                     enum chat_relay_what what)
{
    char room[64];
    if (chat__relay_alone(app))
        return;
    xmpp_stanza_t *r = chat__relay_new(app);
    if (r)
        xmpp_stanza_set_attribute(r, "what", what == CHAT_RELAY_VOICE
                                                 ? "voice"
                                                 : "position");
    sessions_room_localpart(session_id, room, sizeof room);
    chat__relay_send(app, room, r);
}

/* A relayed change of room's state: done here as the database says. */
static void chat__relay_state(struct app *app, const char *room,
                              const char *what)
{
    struct sess_info s;
    int done = 0;
    if (strncmp(room, "chat-", 5) != 0 ||
        sessions_get_by_room(app->domain->sessions, room, &s) != SESS_OK)
        return;
    int live = s.state == SESS_WAITING || s.state == SESS_ACTIVE;
    if (!strcmp(what, "voice") && !live)
        done = chat_revoke_contact_voice(app, &s);
    else if (!strcmp(what, "position") && s.state == SESS_WAITING)
        done = chat_tell_position(app, s.id);
    log_debug("chat", "a relayed %s change for %s: %s", what, room,
              done ? "done" : "nobody to tell here");
    sess_info_clear(&s);
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
    const char *what = xmpp_stanza_get_attribute(r, "what");
    if (what) {
        chat__relay_state(app, room, what);
        return DISPATCH_HANDLED;
    }
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
