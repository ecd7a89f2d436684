/* rooms.h - the low-level room helpers every chat file uses: the module's
 * state (struct chat), room JIDs, display names, and the notices the chat
 * side posts into rooms. Depends on nothing else in chat/; see chat.h for
 * the module as a whole. */
#ifndef CHATDESK_CHAT_ROOMS_H
#define CHATDESK_CHAT_ROOMS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domain/sessions.h"

struct app;
struct muc;

#define CHAT_QUEUE_ROOM "queue"
/* The nick of every room's own occupant, the moderator that posts the
 * notices (SPEC §3). */
#define CHAT_NOTICE_NICK "Helpdesk"
#define CHAT_JID_MAX 512

#define CHAT_GONE_MAX 256 /* waiting sessions whose contact may come back */

/* A waiting session whose contact left: abandoned at due unless back. */
struct chat_gone {
    int64_t session;
    time_t due;
};

/* app->chat: created by chat_register(), freed by chat_free(). */
struct pshare;

struct chat {
    struct chat_gone gone[CHAT_GONE_MAX];
    size_t n_gone;
    long rejoin_grace; /* seconds; 0 = abandon at once */
    struct muc *muc;
    /* A notice the session store already committed (inside a transition):
     * the room policy's store() hands it to the MUC engine instead of
     * storing again. Set only around chat_broadcast_stored(). */
    const struct sess_stored *prestored;
    unsigned long queue_seq; /* ids of the queue room's live lines */
    int multicast_asked;     /* disco#info answers multicast.c waits for */
    /* Several processes on one PostgreSQL database (connections = auto):
     * presence shared through it (domain/presence_share.h); else NULL. */
    struct pshare *pshare;
    int queue_moved; /* chat/places.h: read the queue at the next tick */
    /* waiting sessions whose contact went Offline, abandoned a batch a
     * loop pass (chat/notices.h); not while stopping */
    int64_t *abandon;
    size_t n_abandon, cap_abandon;
    int stopping;
};

/* "chat-<id>@<component>" into buf; returns buf. */
const char *chat_room_jid(struct app *app, int64_t id, char *buf, size_t len);

/* The display name of a bare JID: the directory's name made safe to show
 * (runtime/nick's nick_clean_text()), else the local part. */
void chat_display_name(struct app *app, const char *bare, char *buf,
                       size_t len);

/* Broadcast a notice the store committed already (no second copy); does
 * nothing when notice->stored is false. */
void chat_broadcast_stored(struct app *app, int64_t session_id,
                           const struct sess_stored *notice);

/* Post a line in the queue room (not stored: the queue is live only). */
void chat_queue_post(struct app *app, const char *text);

/* After a session ended: the contact keeps the room but loses voice. 1
 * when the contact is in the room here (done), 0 when not (with several
 * processes the room may be served by another one: chat/relay.h). */
int chat_revoke_contact_voice(struct app *app, const struct sess_info *s);

/* Tell the contact of waiting session id that it is number `place` in line
 * ("You are number N in line."). 1 when the contact is in the room here
 * (told), 0 when not. */
int chat_tell_place(struct app *app, int64_t session_id, int place);
/* The same with the place read from the store (0 when it is not waiting). */
int chat_tell_position(struct app *app, int64_t session_id);

#endif
