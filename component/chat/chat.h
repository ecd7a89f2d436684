/* chat.h - chat sessions on the wire (SPEC §2-§4): the glue between the
 * session domain (sessions.c, presence.c, permissions.c) and the protocol
 * modules (MUC rooms, ad-hoc commands, invitations, presence stanzas).
 *
 * Rooms: chat-<id>@<component> for each session, queue@<component> for the
 * techs. Everything the rooms know comes from the store, so sessions and
 * their history survive a restart of chatdesk.
 */
#ifndef CHATDESK_CHAT_H
#define CHATDESK_CHAT_H

struct app;

/* Creates app->chat: the MUC engine with chatdesk's room policy, the chat
 * ad-hoc commands and the presence handler. Needs app->domain and the
 * XEP-0050 framework. Returns 0 or -1. */
int chat_register(struct app *app);

/* Releases app->chat. NULL-safe. */
void chat_free(struct app *app);

/* After each successful handshake: forget presence (the server will tell
 * again), ask every known tech and contact for presence. */
void chat_on_online(struct app *app);

/* A clean stop: every occupant is told the rooms go away (332). */
void chat_stopping(struct app *app);

#endif
