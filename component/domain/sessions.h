/* sessions.h - chat sessions: persistence and the state machine (SPEC §3,
 * §4). Plain C; xep/ turns stanzas into these calls.
 *
 * A session belongs to one ticket and one contact, and is the MUC room
 * chat-<id>. Its members are its contact and the techs who joined. Tables:
 * sessions, session_members, messages (schema migration 3).
 *
 * States and transitions ("live" = waiting or active):
 *
 *   op              waiting     active      ended  abandoned  callback closed
 *   tech_join       active (1)  active (2)  STATE  STATE      STATE    STATE
 *   contact_gone    abandoned   -           -      -          -        -
 *   end_by_tech     ended       ended       STATE  closed     closed   STATE
 *   end_by_contact  abandoned   ended       STATE  STATE      STATE    STATE
 *   callback        callback    STATE       STATE  STATE      STATE    STATE
 *   add_message     ok          ok          STATE  STATE      STATE    STATE
 *
 *   (1) this join took the session (result.took): tell the other techs.
 *   (2) another tech joins: only a member is added.
 *   -   contact_gone leaves every other state unchanged and succeeds.
 *   STATE: refused with SESS_ERR_STATE and a text naming the state, e.g.
 *   "This session has already ended".
 *   end_by_contact on a waiting session gives abandoned, not ended: SPEC §3
 *   defines abandoned as "the contact left or ended while waiting".
 *
 * Transcript: every function that moves a session out of the live states
 * (to ended, abandoned or callback) first stores a system notice in the room
 * ("Bob ended the chat.", "Alice left before a technician answered.", the
 * callback request with phone and note) and then appends the whole room as a
 * transcript note to the ticket (ticket_add_note kind transcript), in the
 * same transaction as the state change: the transcript is written exactly
 * once and is complete, because a session that is not live refuses further
 * messages. Closing (abandoned|callback -> closed) writes no transcript.
 * A callback also adds a ticket note of kind callback; a closing note adds
 * one of kind closing_note (each edit appends a new one). If the ticket
 * store refuses a note, the whole transition is rolled back (SESS_ERR_STORE).
 *
 * Transcript text: one entry per message, oldest first,
 *   [YYYY-MM-DD HH:MM:SS UTC] nick: body      (chat)
 *   [YYYY-MM-DD HH:MM:SS UTC] * body          (system notice)
 * joined by "\n". A body with line breaks continues on following lines
 * indented by four spaces, so every line starting with '[' opens a message.
 *
 * Contact end rules (end_by_contact) and callback rules come from
 * permissions (PERM_END_CHAT, PERM_CALLBACK) with: waited = now - created
 * (for an answered session: answered_at - created), idle = now -
 * last_activity. last_activity is the creation time, then the time a tech
 * took the session, then the time of each chat message (system notices do
 * not count).
 *
 * Closer and closing note: the tech who ends (or closes) a session is its
 * closer. Only the closer may add or edit the closing note. A session ended
 * by its contact has no closer; the first tech member who writes its closing
 * note becomes the closer.
 *
 * Who may call what is checked by the caller (roles come from the directory
 * and the config); this module checks only what it knows: the contact of a
 * session may not act as its tech, only the session's contact may end it as
 * contact or ask for a callback, chat messages come from members.
 *
 * Result codes (chat/errors.c gives each its XMPP condition):
 *   SESS_OK
 *   SESS_ERR_NOT_FOUND   no such session
 *   SESS_ERR_STATE       not from this state
 *   SESS_ERR_FORBIDDEN   not this session's role
 *   SESS_ERR_DISABLED    callbacks switched off
 *   SESS_ERR_NOT_YET     a timing rule refuses
 *   SESS_ERR_NOT_CONTACT not a contact (directory)
 *   SESS_ERR_INVALID     bad argument
 *   SESS_ERR_STORE       database / ticket store
 * On anything but SESS_OK sessions_error() holds a sentence for the XMPP
 * <text/>, borrowed until the next call.
 *
 * Transactions: every writing function runs in its own transaction and
 * returns only after COMMIT, so a stanza id it returns may be broadcast at
 * once. Writing functions must therefore not be called inside a caller's
 * transaction (they refuse with SESS_ERR_STORE).
 *
 * Ownership: struct sessions borrows the store, directory and ticket store
 * (they must outlive it) and owns its prepared statements. Strings in a
 * struct sess_info / sess_member / sess_message are heap copies owned by
 * the struct (never NULL; "" for no value): free them with the _clear and
 * _list_free functions. struct sess_result is plain data. Arguments are
 * borrowed for the call. JID arguments may carry a resource (ignored) and
 * any case; they are stored bare and lowercased.
 */
#ifndef CHATDESK_SESSIONS_H
#define CHATDESK_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "domain/directory.h"

struct store;
struct directory;
struct ticket_store;
struct settings;

#define SESS_STANZA_ID_LEN 16      /* hex characters of a stanza id */
#define SESS_NOTE_MAX 1024         /* longest callback note, bytes */
#define SESS_CLOSING_NOTE_MAX 8192 /* longest closing note, bytes */
#define SESS_BODY_MAX 65536        /* longest message body, bytes */
#define SESS_PHONE_MIN 3
#define SESS_PHONE_MAX 32
#define SESS_NOTICE_MAX 1600 /* a system notice body, incl. NUL */
#define SESS_ORIGIN_ID_MAX 128 /* longest XEP-0359 origin-id kept, bytes */

enum sess_code {
    SESS_OK = 0,
    SESS_ERR_NOT_FOUND,
    SESS_ERR_STATE,
    SESS_ERR_FORBIDDEN,
    SESS_ERR_DISABLED,
    SESS_ERR_NOT_YET,
    SESS_ERR_NOT_CONTACT,
    SESS_ERR_INVALID,
    SESS_ERR_STORE
};

enum sess_state {
    SESS_WAITING = 0,
    SESS_ACTIVE,
    SESS_ENDED,
    SESS_ABANDONED,
    SESS_CALLBACK,
    SESS_CLOSED
};

enum sess_member_kind {
    SESS_MEMBER_NONE = 0,
    SESS_MEMBER_CONTACT,
    SESS_MEMBER_TECH
};

enum sess_msg_kind { SESS_MSG_CHAT = 0, SESS_MSG_SYSTEM };

/* The lists of the ad-hoc `sessions` command, and two for the component. */
enum sess_view {
    SESS_VIEW_MINE = 0,    /* open work: the sessions the tech is a member
                              of in waiting, active or callback state
                              (ended and closed leave it): active first,
                              then newest */
    SESS_VIEW_WAITING,     /* waiting, oldest first (queue order) */
    SESS_VIEW_ABANDONED,   /* abandoned, oldest first (to follow up) */
    SESS_VIEW_CALLBACKS,   /* callback, oldest first (to call back) */
    SESS_VIEW_LIVE,        /* waiting and active, by id (restart recovery) */
    SESS_VIEW_CONTACT_LIVE /* the contact's waiting and active sessions */
};

struct sess_info {
    int64_t id;
    int64_t ticket_id;
    int64_t company_id; /* 0 = none */
    char *contact_jid;
    enum sess_state state;
    char *description;
    time_t created;
    time_t answered_at; /* 0 = not answered */
    char *answered_by;
    time_t ended_at; /* 0 while live */
    char *closer_jid;
    time_t last_activity;
    char *callback_phone;
    char *callback_note;
    char *closing_note;
    char *closing_note_by;
    time_t closing_note_at; /* 0 = no note */
};

struct sess_list {
    struct sess_info *items;
    size_t n;
};

struct sess_member {
    char *jid;
    enum sess_member_kind kind;
    char *nick;
    time_t joined_at;
};

struct sess_member_list {
    struct sess_member *items;
    size_t n;
};

struct sess_message {
    int64_t id;
    char stanza_id[SESS_STANZA_ID_LEN + 1];
    char *from_jid; /* "" for system notices (the room's own occupant) */
    char *nick;     /* "" for system notices */
    char *body;
    time_t created;
    enum sess_msg_kind kind;
};

struct sess_message_list {
    struct sess_message *items;
    size_t n;
};

/* A stored message, committed: what the caller needs to broadcast it. */
struct sess_stored {
    bool stored; /* false: nothing was stored */
    bool held;   /* stored inside sessions_hold(): durable only once
                    sessions_commit_held() returns SESS_OK */
    bool duplicate; /* sessions_add_message_once(): not stored again; id,
                       stanza_id and at are the earlier copy's */
    int64_t id;
    char stanza_id[SESS_STANZA_ID_LEN + 1];
    time_t at;
    char body[SESS_NOTICE_MAX]; /* notices only; "" for add_message */
};

/* What a transition did. Filled on SESS_OK (and zeroed otherwise). */
struct sess_result {
    int64_t session_id;
    enum sess_state before;
    enum sess_state after;
    bool took;                 /* tech_join: this join answered it */
    struct sess_stored notice; /* a system notice to broadcast */
};

struct sessions;

/* Prepare the statements (schema version >= 3). NULL with err on failure. */
struct sessions *sessions_open(struct store *st, struct directory *dir,
                               struct ticket_store *tickets, char *err,
                               size_t errlen);
void sessions_close(struct sessions *s); /* NULL is fine */

/* The sentence for the last failure, borrowed until the next call. */
const char *sessions_error(const struct sessions *s);

/* Pre-ticket chat: a waiting session for an existing ticket, with the
 * contact as its first member. description must be non-empty (at most
 * TICKET_SUMMARY_MAX bytes). company_id 0 = the contact's company, if the
 * contact is in the directory. *id_out (may be NULL) gets the session id. */
int sessions_create_waiting(struct sessions *s, const char *contact,
                            int64_t company_id, int64_t ticket_id,
                            const char *description, int64_t *id_out);

/* Pre-ticket chat in one transaction (SPEC §3): the ticket (company and
 * contact_id as in struct ticket_draft, summary = description) and its
 * waiting session with the contact as first member are committed together,
 * or neither is. *ticket_out and *id_out get their ids on SESS_OK. */
int sessions_start_chat(struct sessions *s, const char *contact,
                        int64_t contact_id, const char *description,
                        int64_t *ticket_out, int64_t *id_out);

/* Push-chat: an active session for ticket_id (which must exist and be
 * open), answered by tech, with both as members. The company and the
 * description come from the ticket. The contact must not be the tech. */
int sessions_create_active(struct sessions *s, int64_t ticket_id,
                           const char *contact, const char *tech,
                           int64_t *id_out);

/* A tech joins (see the table). Joining again is fine (nothing changes). */
int sessions_tech_join(struct sessions *s, int64_t id, const char *tech,
                       struct sess_result *r);

/* The contact left the room or went Offline: waiting -> abandoned with a
 * notice and the transcript; other states unchanged (SESS_OK). */
int sessions_contact_gone(struct sessions *s, int64_t id,
                          struct sess_result *r);
/* The same for each of ids in one transaction (out[i] for ids[i]; a session
 * not waiting any more, or gone, is left as it is: before == after): a
 * contact with many waiting sessions costs one commit, not one each. On
 * failure nothing changed and every out[i] is zeroed. */
int sessions_contact_gone_many(struct sessions *s, const int64_t *ids,
                               size_t n, struct sess_result *out);

/* A tech ends (waiting|active -> ended) or closes (abandoned|callback ->
 * closed) the session and becomes its closer. note (may be NULL or "") is
 * the closing note. */
int sessions_end_by_tech(struct sessions *s, int64_t id, const char *tech,
                         const char *note, struct sess_result *r);

/* The session's contact ends it, if PERM_END_CHAT allows at now under the
 * settings st: active -> ended, waiting -> abandoned. Refusals:
 * SESS_ERR_NOT_YET with the rule's sentence, SESS_ERR_FORBIDDEN for another
 * JID, SESS_ERR_NOT_CONTACT when the JID is not in the directory. */
int sessions_end_by_contact(struct sessions *s, int64_t id, const char *contact,
                            const struct settings *st, time_t now,
                            struct sess_result *r);

/* The session's contact asks for a callback (waiting -> callback), if
 * PERM_CALLBACK allows at now. phone: 3..32 characters of digits, spaces
 * and + - ( ), with at least 3 digits (leading and trailing spaces are
 * trimmed). note may be NULL or "" (at most SESS_NOTE_MAX bytes).
 * nobody_online: no tech is Online now, which allows it at once (SPEC §9,
 * leave a message; the caller knows presence, the sessions do not). */
int sessions_callback(struct sessions *s, int64_t id, const char *contact,
                      const char *phone, const char *note,
                      const struct settings *st, time_t now, bool nobody_online,
                      struct sess_result *r);

/* Add or edit the closing note of an ended or closed session (see closer
 * above); note "" removes it. Also appended to the ticket. */
int sessions_set_closing_note(struct sessions *s, int64_t id, const char *jid,
                              const char *note);

/* Store a message in a live session and COMMIT it (or write it into the
 * held transaction, see sessions_hold()); *out (required) gets its
 * id, stanza id and time. Chat messages need from_jid to be a member; nick
 * NULL or "" uses the member's nick. For system notices from_jid and nick
 * are ignored and stored as "" (the room's own occupant posts them). A chat
 * message updates last_activity. */
int sessions_add_message(struct sessions *s, int64_t id, const char *from_jid,
                         const char *nick, const char *body,
                         enum sess_msg_kind kind, struct sess_stored *out);

/* sessions_add_message() for a message that carries its sender's XEP-0359
 * origin-id (NULL or "": none; chat messages only; one longer than
 * SESS_ORIGIN_ID_MAX bytes is ignored). A client that reconnects re-sends
 * what it has not seen reflected: when the session already holds a chat
 * message from the same bare JID with the same origin-id, nothing is
 * stored and SESS_OK comes with out->duplicate set (out->stored false) and
 * out->id, stanza_id and at of the stored copy. The copy found may be in
 * the held batch (sessions_hold()): it is durable once that commits. */
int sessions_add_message_once(struct sessions *s, int64_t id,
                              const char *from_jid, const char *nick,
                              const char *body, enum sess_msg_kind kind,
                              const char *origin_id, struct sess_stored *out);

/* Group commit. sessions_hold() opens one write transaction (BEGIN
 * IMMEDIATE); until sessions_commit_held(), sessions_add_message() writes
 * into it (out->held = true) instead of committing each message, so one
 * COMMIT -- one fsync -- makes a whole batch durable. Nothing written in it
 * may be shown to anyone before sessions_commit_held() returns SESS_OK; on
 * any other result every message of the batch is gone (a failed write
 * dooms the batch: later add_message calls fail, the commit rolls back).
 * Every other writing call refuses while held (SESS_ERR_STORE, "inside an
 * open transaction"): commit first. Holding twice is a no-op; committing
 * without a hold returns SESS_OK. */
int sessions_hold(struct sessions *s);
int sessions_commit_held(struct sessions *s);
bool sessions_held(const struct sessions *s);

/* A tech hands an active session over (SPEC §9) to another tech to_tech
 * (the session stays active; the target becomes a member when it joins),
 * or back to the queue (to_tech NULL or "": active -> waiting; answered_at
 * keeps the first answer). In one transaction: the state, a row of table
 * transfers (from, to, when; migration 10) and the room's notice
 * (r->notice: "Tom Tech handed this chat over to Tina Tech, who will join
 * shortly." or "... put this chat back in the queue; ..."). Refusals:
 * SESS_ERR_STATE unless active; SESS_ERR_FORBIDDEN for the session's own
 * contact as from_tech; SESS_ERR_INVALID when to_tech is from_tech, the
 * contact or not a JID. Whether to_tech is a tech and Online is the
 * caller's to check. */
int sessions_transfer(struct sessions *s, int64_t id, const char *from_tech,
                      const char *to_tech, struct sess_result *r);

/* Who handed the session over to whom, oldest first. to_jid "" = back to
 * the queue. Strings are heap copies owned by the list. */
struct sess_transfer {
    char *from_jid;
    char *to_jid;
    time_t at;
};

struct sess_transfer_list {
    struct sess_transfer *items;
    size_t n;
};

int sessions_transfers(struct sessions *s, int64_t id,
                       struct sess_transfer_list *out);
void sess_transfer_list_free(struct sess_transfer_list *l); /* NULL is fine */

/* The session's contact rates an ended session once (SPEC §9): score
 * 1..5, comment NULL or "" or at most SESS_NOTE_MAX bytes. In one
 * transaction: a row of table ratings (migration 12) and a ticket note of
 * kind rating ("Rating of chat session 12: 4/5" and the comment on the
 * next line), authored by the contact. Refusals: SESS_ERR_FORBIDDEN for
 * another JID, SESS_ERR_STATE unless ended or when rated already,
 * SESS_ERR_INVALID for the score or comment. */
int sessions_rate(struct sessions *s, int64_t id, const char *contact,
                  int score, const char *comment);
/* The rating of session id: *score 1..5 and *comment (heap; may be NULL
 * to skip). SESS_ERR_NOT_FOUND (score 0) when it has none. */
int sessions_rating(struct sessions *s, int64_t id, int *score, char **comment);

/* Retention ([retention] messages_days): delete up to limit room
 * messages created before `before`, oldest first, of sessions that are no
 * longer live (waiting and active sessions keep theirs, their transcript
 * is still to be written); the ticket notes stay. One short transaction a
 * call, so the caller purges in batches (the tick). The search index
 * follows through migration 5's delete trigger. *purged (may be NULL)
 * gets the count. */
int sessions_purge(struct sessions *s, time_t before, size_t limit,
                   size_t *purged);

/* A chat message checked and stamped on the event loop, stored later by
 * the commit writer (domain/writer.h) on its own connection. */
struct sess_pending {
    int64_t session_id;
    char from[DIR_JID_MAX]; /* bare JID of the member */
    char nick[DIR_NAME_MAX];
    char *body; /* owned: sess_pending_clear() */
    char origin_id[SESS_ORIGIN_ID_MAX + 1]; /* "": none */
    char stanza_id[SESS_STANZA_ID_LEN + 1];
    time_t at;
    /* A committed copy with the same origin-id from the same member was
     * found: nothing to store (body NULL); stanza_id and at are the
     * copy's (see sessions_add_message_once()). */
    bool duplicate;
};

/* The checks of sessions_add_message_once() for a chat message (live
 * session, body, a member, the origin-id among the committed messages),
 * then a stanza id and the time, without writing: *out is what
 * sessions_store_pending() stores. The stanza id may be shown only once
 * that store's transaction committed. A copy still in flight (handed to
 * the writer, not yet committed) is not seen here: the writer's own list
 * of pending origin-ids answers for those (writer_pending_origin()). Read
 * only: any thread that owns s. SESS_OK (maybe with out->duplicate), or
 * the add_message refusals (*out then holds nothing). On sqlite the
 * checks that passed (session live, sender a member, his nick) are kept
 * for his next message until s next begins a write transaction (every
 * change of a state or of the members does): there this process is the
 * only one that changes sessions. With PostgreSQL each call reads. */
int sessions_prepare_message(struct sessions *s, int64_t id,
                             const char *from_jid, const char *nick,
                             const char *body, const char *origin_id,
                             struct sess_pending *out);

/* Write a prepared message (its stanza id, time and origin-id kept) into
 * the held transaction of s (sessions_hold(); SESS_ERR_STORE without one);
 * a failure dooms the batch as in sessions_add_message(). */
int sessions_store_pending(struct sessions *s, const struct sess_pending *p);

/* Free what a sess_pending owns (NULL is fine). */
void sess_pending_clear(struct sess_pending *p);

/* Getters. */
int sessions_get(struct sessions *s, int64_t id, struct sess_info *out);
/* localpart "chat-<id>" (case-insensitive, decimal, no sign or leading
 * zeros); anything else is SESS_ERR_NOT_FOUND. */
int sessions_get_by_room(struct sessions *s, const char *localpart,
                         struct sess_info *out);
/* The session id a room localpart names, without reading the database:
 * 0 and *id, or -1 (*id 0) for anything sessions_get_by_room() refuses
 * as not a room. */
int sessions_room_id(const char *localpart, int64_t *id);
/* "chat-<id>" into buf; returns buf. */
char *sessions_room_localpart(int64_t id, char *buf, size_t buflen);
int sessions_members(struct sessions *s, int64_t id,
                     struct sess_member_list *out);
/* SESS_MEMBER_NONE also for an unknown session or a malformed JID. */
enum sess_member_kind sessions_is_member(struct sessions *s, int64_t id,
                                         const char *jid);
/* jid: the tech for MINE, the contact for CONTACT_LIVE, else ignored.
 * limit 0 = no limit. */
int sessions_list(struct sessions *s, enum sess_view view, const char *jid,
                  size_t limit, struct sess_list *out);
/* The place of waiting session id in the queue (SPEC §9): 1 + the waiting
 * sessions created before it (ties by id), so 1 = next. SESS_ERR_STATE
 * when it is not waiting. */
int sessions_queue_position(struct sessions *s, int64_t id, int *pos);
/* A waiting session and the place its contact was told last (0: none). */
struct sess_place {
    int64_t id;
    int told;
};
/* Every waiting session in queue order ((*out)[0] is number 1), one read;
 * the caller frees *out. */
int sessions_waiting_places(struct sessions *s, struct sess_place **out,
                            size_t *n);
/* The place session id's contact was told last: start-chat's position (a
 * new waiting session is last in line), then what sessions_places_told()
 * recorded; 0 for none. */
int sessions_place_told(struct sessions *s, int64_t id, int *told);
/* Record the places told (told[i].told to session told[i].id), in one
 * transaction (in the held one when there is one). */
int sessions_places_told(struct sessions *s, const struct sess_place *told,
                         size_t n);
/* The last `limit` messages (0 = all), oldest first. */
int sessions_history(struct sessions *s, int64_t id, size_t limit,
                     struct sess_message_list *out);
/* The transcript text (format above) in *out, heap, caller frees. */
int sessions_transcript(struct sessions *s, int64_t id, char **out);

/* Freeing. NULL is fine; structs are zeroed. */
void sess_info_clear(struct sess_info *i);
void sess_list_free(struct sess_list *l);
void sess_member_list_free(struct sess_member_list *l);
void sess_message_list_free(struct sess_message_list *l);

/* Names: "waiting", "active", ...; "contact"/"tech"/"none"; parse returns 0
 * or -1. sess_state_text() is the refusal sentence naming the state. */
const char *sess_state_name(enum sess_state st);
int sess_state_parse(const char *name, enum sess_state *out);
const char *sess_state_text(enum sess_state st);
const char *sess_member_kind_name(enum sess_member_kind k);

/* What the metrics show of the store: sessions by state and the number of
 * messages stored. */
struct sess_stats {
    long by_state[SESS_CLOSED + 1];
    long messages;
};

/* Fill *out (read only; outside a held batch). SESS_OK or SESS_ERR_STORE. */
int sessions_stats(struct sessions *s, struct sess_stats *out);

/* 0 if phone is acceptable for a callback (rules above), else -1. */
int sessions_phone_check(const char *phone);

#endif
