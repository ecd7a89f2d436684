/* chat_internal.h - shared between the chat_*.c files; see chat.h. */
#ifndef CHATDESK_CHAT_INTERNAL_H
#define CHATDESK_CHAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/directory.h"
#include "domain/sessions.h"

struct app;
struct muc;

#define CHAT_QUEUE_ROOM "queue"
#define CHAT_JID_MAX 512

struct chat {
    struct muc *muc;
    /* A notice the session store already committed (inside a transition):
     * the room policy's store() hands it to the MUC engine instead of
     * storing again. Set only around chat_broadcast_stored(). */
    const struct sess_stored *prestored;
};

/* chat.c */
struct chat *chat_of(struct app *app);
/* "chat-<id>@<component>" into buf. */
const char *chat_room_jid(struct app *app, int64_t id, char *buf, size_t len);
/* The display name of a bare JID: the directory's name, else the local
 * part. */
void chat_display_name(struct app *app, const char *bare, char *buf,
                       size_t len);
/* Broadcast a notice the store committed already (no second copy). */
void chat_broadcast_stored(struct app *app, int64_t session_id,
                           const struct sess_stored *notice);
/* Post a line in the queue room (not stored: the queue is live only). */
void chat_queue_post(struct app *app, const char *text);
/* After a session ended: the contact keeps the room but loses voice. */
void chat_revoke_contact_voice(struct app *app, const struct sess_info *s);

/* chat_notify.c */
/* A new waiting session: invite every Online tech, post in the queue. */
void chat_notify_request(struct app *app, int64_t session_id);
/* A tech just became Online: invite it to every waiting session. */
void chat_notify_tech_online(struct app *app, const char *tech);
/* A tech took a waiting session: tell the queue and the other techs. */
void chat_notify_taken(struct app *app, int64_t session_id, const char *tech);
/* The contact became Offline: its waiting sessions are abandoned. */
void chat_notify_contact_offline(struct app *app, const char *contact);
/* A transition happened (abandoned, callback): broadcast its notice and
 * post it in the queue. */
void chat_after_transition(struct app *app, const struct sess_result *r);

/* chat_presence.c */
/* How long after connecting the server gets to report who is online
 * before contacts of waiting sessions still Offline count as gone. */
#define CHAT_PRESENCE_GRACE_MS 5000
int chat_presence_register(struct app *app);
/* Cancels the grace timer of chat_on_online(). */
void chat_presence_free(struct app *app);
/* The presence of an occupant of the queue room counts as the tech's
 * presence (a resource of its own). */
void chat_presence_from_queue(struct app *app, const char *full_jid,
                              bool available, const char *show);

/* chat_commands.c */
int chat_commands_register(struct app *app);

#endif
