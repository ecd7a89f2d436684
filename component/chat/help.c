/* help.c - see help.h */
#include "chat/help.h"

#include "chat/rooms.h"
#include "domain/domain.h"
#include "runtime/app.h"
#include "runtime/dispatch.h"
#include "runtime/jid.h"
#include "runtime/stanza.h"

#include <stdio.h>
#include <string.h>

const char *chat_help_presence(struct app *app, char *buf, size_t len)
{
    const char *c = app->jid;
    snprintf(buf, len,
             "chatdesk sends chat requests only to techs it sees online. "
             "Either approve the presence subscription request from %s in "
             "your client (poezio: /accept %s; profanity: /sub allow %s), or "
             "bookmark the queue room %s@%s with auto-join (XEP-0402; "
             "Converse.js cannot approve a request from a bare domain, so "
             "there this is the way): while you sit in the queue room, "
             "chatdesk sees you online.",
             c, c, c, CHAT_QUEUE_ROOM, c);
    return buf;
}

/* The commands paragraph for techs and admins. */
static void chat__help_commands(struct app *app, char *buf, size_t len)
{
    const char *c = app->jid;
    snprintf(buf, len,
             "Requests come as invitations to rooms chat-N@%s: join one to "
             "take it. Your tools are ad-hoc commands (XEP-0050) on %s "
             "(sessions, history, view-session, end-session, push-chat, "
             "closing-note, tickets, create-ticket, and the admin ones). "
             "Converse.js: Settings, Commands tab, address %s, List "
             "available commands. Gajim: Discover Services, select %s, "
             "Execute Command. poezio: /ad-hoc %s. profanity: /cmd list %s, "
             "then /cmd exec sessions %s. Dino has no command UI.",
             c, c, c, c, c, c, c);
}

/* The help text for the sender's role into buf. */
static void chat__help_text(struct app *app, const char *bare, char *buf,
                            size_t len)
{
    char part[1200], presence[700];
    int n = snprintf(buf, len,
                     "This is chatdesk, the helpdesk chat service at %s; "
                     "messages to this address reach nobody. ",
                     app->jid);
    if (n < 0 || (size_t)n >= len)
        return;
    switch (domain_role(app->domain, bare)) {
    case ROLE_ADMIN:
    case ROLE_TECH:
        chat__help_commands(app, part, sizeof part);
        snprintf(buf + n, len - n, "%s\n%s", part,
                 chat_help_presence(app, presence, sizeof presence));
        break;
    case ROLE_CONTACT:
        snprintf(buf + n, len - n,
                 "To chat with a tech, use your provider's client portal, "
                 "or run the ad-hoc command start-chat on %s.",
                 app->jid);
        break;
    default:
        snprintf(buf + n, len - n,
                 "You are not in its directory: ask your provider's "
                 "administrator to add you.");
    }
}

void chat_help_send(struct app *app, const char *bare_jid, const char *type,
                    const char *text)
{
    xmpp_stanza_t *msg = xmpp_message_new(app->ctx, type, bare_jid, NULL);
    stanza_add_text_child(msg, "body", NULL, text);
    app_send(app, msg);
    xmpp_stanza_release(msg);
}

static enum dispatch_result chat__help(struct app *app, xmpp_stanza_t *st,
                                       void *ud)
{
    (void)ud;
    const char *to = xmpp_stanza_get_to(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *type = xmpp_stanza_get_type(st);
    if (!to || strchr(to, '@') || !from || !strchr(from, '@') ||
        (type && strcmp(type, "chat") && strcmp(type, "normal")) ||
        !xmpp_stanza_get_child_by_name(st, "body"))
        return DISPATCH_PASS;
    char bare[CHAT_JID_MAX], text[2400];
    if (jid_bare_lower(from, bare, sizeof bare) != 0)
        return DISPATCH_PASS;
    chat__help_text(app, bare, text, sizeof text);
    chat_help_send(app, from, type ? type : "normal", text);
    return DISPATCH_HANDLED;
}

int chat_help_register(struct app *app)
{
    return dispatch_add(app->dispatch, "message", chat__help, NULL);
}
