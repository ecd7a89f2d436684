/* chat.h - chat sessions on the wire (SPEC §2-§4): the glue between the
 * session domain (domain/sessions.h, domain/presence.h) and the protocol
 * modules (MUC rooms, invitations, presence stanzas). The chat ad-hoc
 * commands live in commands/chat.h, above this module.
 *
 * The bare component JID answers a chat message with a help text (help.h).
 *
 * Rooms: chat-<id>@<component> for each session, queue@<component> for the
 * techs. Everything the rooms know comes from the store, so sessions and
 * their history survive a restart of chatdesk.
 *
 * The files of chat/, each depending only on those below it:
 *   chat.c      this header: register, free, online, stopping
 *   policy.c    the room policy the MUC engine asks (policy.h)
 *   presence.c  presence to the component and its reactions (presence.h)
 *   notices.c   who hears about a request, a take-over, a transition
 *   help.c      the component JID's answer to a chat message, the hint
 *               that tells a tech how chatdesk sees his presence
 *   multicast.c whether room messages go through the server's XEP-0033
 *               service ([component] multicast, multicast.h)
 *   rooms.c     struct chat, room JIDs, display names, posting notices
 */
#ifndef CHATDESK_CHAT_H
#define CHATDESK_CHAT_H

struct app;

/* Creates app->chat: the MUC engine with chatdesk's room policy and the
 * presence handler and the component JID's help (help.h); sets app->flush
 * (the group commit). Needs app->domain.
 * Returns 0 or -1. */
int chat_register(struct app *app);

/* Releases app->chat. NULL-safe. */
void chat_free(struct app *app);

/* After each successful handshake: forget presence (the server will tell
 * again), ask every known tech and contact for presence. */
void chat_on_online(struct app *app);

/* After one more connection came online (several route slots, SPEC §11):
 * ask everyone for presence again, forgetting nothing. */
void chat_on_link_online(struct app *app);

/* Once a second (the runtime's tick): a waiting session whose contact
 * left and did not come back within [chat] rejoin_grace is abandoned; a
 * queue that moved tells its waiting contacts their places (places.h). */
void chat_tick(struct app *app);

/* After every event-loop pass: a batch of the sessions waiting to be
 * abandoned (chat/notices.h). */
void chat_pass(struct app *app);

/* A clean stop: every occupant is told the rooms go away (332). */
void chat_stopping(struct app *app);

#endif
