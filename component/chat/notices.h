/* notices.h - who hears about what: chat requests to Online techs
 * (XEP-0249 with a body), the queue room, take-overs, abandonments, and
 * the notice of a session transition. Depends on rooms.h only. */
#ifndef CHATDESK_CHAT_NOTICES_H
#define CHATDESK_CHAT_NOTICES_H

#include <stdint.h>

struct app;
struct sess_result;
struct sess_info;

/* A new waiting session: invite every Online tech, post in the queue. */
void chat_notify_request(struct app *app, int64_t session_id);

/* A tech just became Online: invite it to every waiting session. */
void chat_notify_tech_online(struct app *app, const char *tech);

/* A tech took a waiting session: tell the queue, the room ("Tom Tech has
 * joined and will help you.", SPEC §9) and the other techs. */
void chat_notify_taken(struct app *app, int64_t session_id, const char *tech);

/* The contact became Offline: its waiting sessions are abandoned, through
 * chat_abandon_later(). Nothing while chatdesk stops: its next start sees
 * the contact's presence again. */
void chat_notify_contact_offline(struct app *app, const char *contact);

/* Waiting session id is to be abandoned (its contact is Offline): queued,
 * and chat_abandon_pass() abandons CHAT_ABANDON_BATCH of the queue in one
 * transaction after each event-loop pass (app->busy keeps the loop from
 * sleeping meanwhile), so thousands of sessions of contacts gone while
 * chatdesk was away never hold the loop, and a stop is not kept waiting.
 * A contact back Online before its turn keeps its session. */
#define CHAT_ABANDON_BATCH 256
void chat_abandon_later(struct app *app, int64_t session_id);
void chat_abandon_pass(struct app *app);

/* "You are number N in line." in the room of waiting session id (SPEC §9),
 * when its contact is in the room (else relayed, chat/relay.h); nothing for
 * a session not waiting. Remembered as told (chat/places.h). */
void chat_notify_position(struct app *app, int64_t session_id);

/* The contact of waiting session id left its room or went Offline: it is
 * abandoned after app->chat->rejoin_grace seconds unless the contact is
 * back in the room by then (a portal reload); at once without a grace. */
void chat_contact_gone_later(struct app *app, int64_t session_id);

/* Each waiting session of contact, through chat_contact_gone_later(). */
void chat_contact_offline_later(struct app *app, const char *contact);

/* Once a second: abandon the sessions whose grace is over. */
void chat_gone_tick(struct app *app);

/* A transition happened (joined, ended, abandoned, callback): broadcast its
 * notice, post it in the queue when the queue cares, take the contact's
 * voice when the session stopped being live, and tell the sessions behind
 * it their new place when it left the queue. */
void chat_after_transition(struct app *app, const struct sess_result *r);

#endif
