/* xep0045_muc.h - XEP-0045 Multi-User Chat: a members-only, non-anonymous,
 * persistent, moderated room engine for the component's own domain.
 *
 * The engine speaks the protocol; the app decides. Who may enter a room,
 * with which role and affiliation, where messages are stored, what the
 * history and the subject are: all of that comes from a struct muc_policy
 * the app supplies. The engine keeps only the occupants in memory:
 * room -> occupant (one per bare JID, one nick) -> its full JIDs (several
 * resources of one bare JID share the occupant and its nick).
 *
 * Rooms are addressed as room@<app->jid>; occupants as room@<app->jid>/nick.
 * Room names (local parts) and bare JIDs handed to the policy are lowercased
 * (ASCII); resources and nicks are kept as given and compared byte for byte.
 *
 * What the engine answers (XEP-0045 order of events):
 *  - Join (available presence to room/nick with <x xmlns='...muc'/>): the
 *    policy admits or refuses (presence type=error with <text/>); a bad nick
 *    (empty, > MUC_NICK_MAX bytes, control characters, only blanks) gets
 *    <not-acceptable/>, a nick held by another bare JID <conflict/>. A bare
 *    JID already in the room keeps its nick (status 210 if it asked for
 *    another). The joiner gets: every other occupant's presence, its own
 *    presence (110, 100, 201 when the policy says so, 210 when the nick was
 *    changed), the history (XEP-0203 delay + XEP-0359 stanza-id; at most
 *    MUC_HISTORY_MAX messages and max_stanza_bytes of XML, after a line
 *    pointing to the archive when that cut it), then the subject (always,
 *    even empty). The others get the new occupant's
 *    presence unless it is an extra resource of an occupant already there.
 *    A join from a full JID already in the room resends all of that.
 *  - The room's own occupant (policy->notice_nick, a moderator without
 *    resources): every joiner gets its presence before its own; notices and
 *    the history's notices come from room/notice_nick; nobody else may take
 *    that nick (compared without regard to ASCII case: <conflict/>).
 *  - Groupchat messages: non-occupants get <not-acceptable/>, and so does a
 *    message that would not fit in one stanza once stamped (max_stanza_bytes
 *    less 2 KiB for stanza-id, delay and a MAM wrapper), before anything is
 *    stored; visitors
 *    <forbidden/>; a message with a <body/> is stored through the policy
 *    BEFORE it is reflected to every resource of every occupant (the sender
 *    too) with <stanza-id by='room@domain'/>; messages without a body (chat
 *    states, markers) are reflected without being stored (a visitor's are
 *    dropped). With group commit (policy->commit, muc_flush()) the
 *    reflections of stored messages wait for the commit. Any stanza-id claiming by='room@domain' from the client is
 *    removed. A subject change by an occupant is <forbidden/>.
 *  - Private messages to room/nick are refused with <not-acceptable/>
 *    (<bad-request/> for type groupchat).
 *  - Mediated invitations sent by occupants go through policy->invite.
 *  - Presence updates are reflected to everyone; unavailable presence
 *    removes the resource (110 to it) and, with the last resource, the
 *    occupant (unavailable broadcast). Presence without the MUC <x/> from a
 *    non-occupant gets the XEP-0045 kick (110, 307, 333). Nick changes are
 *    refused with <not-acceptable/>. An error bounced by an occupant's
 *    resource (gone, item-not-found, recipient-unavailable, redirect,
 *    remote-server-*) removes that resource as a ghost (status 333).
 *  - muc#admin: a moderator's get of an affiliation list gets the
 *    occupants with that affiliation; anyone else's get, and every set,
 *    <forbidden/>. muc#owner (configuration) get and set: <forbidden/>.
 *    Both with a text, and never for the bare service JID.
 *  - disco#info / disco#items on a room (through disco_set_entity_info),
 *    the reserved-nick node x-roomuser-item, and XEP-0410 self-ping (with
 *    the muc#self-ping-optimization feature). Only an occupant or a JID the
 *    policy admits gets the room's name, description, subject and occupant
 *    count (muc#roominfo); anyone else gets the features alone.
 *
 * Stanzas to a JID without a local part or to another domain are passed on
 * (DISPATCH_PASS). To a room the policy does not know, an available presence
 * (a join) and a groupchat, chat or normal message (to the room or to an
 * occupant) are answered with <item-not-found/> and a text naming the room;
 * anything else is passed on.
 *
 * Ownership: xep0045_new() returns the engine, freed by exactly one
 * xep0045_free(). Strings passed in are copied or only read during the
 * call; strings in structs handed to policy callbacks are borrowed for the
 * duration of the callback. Callbacks may call back into the engine (e.g.
 * muc_send_notice() from an event). Single-threaded.
 */
#ifndef CHATDESK_XEP0045_MUC_H
#define CHATDESK_XEP0045_MUC_H

#include <stddef.h>
#include <stdint.h>
#include <strophe.h>
#include <time.h>

struct app;
struct muc;

#define NS_MUC "http://jabber.org/protocol/muc"
#define NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
#define NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define NS_MUC_ROOMINFO "http://jabber.org/protocol/muc#roominfo"
#define NS_MUC_SELF_PING "http://jabber.org/protocol/muc#self-ping-optimization"

#define MUC_NICK_MAX 64   /* bytes of a nick */
#define MUC_ID_MAX 128    /* bytes of a stanza-id, with the NUL */
#define MUC_NAME_MAX 256  /* bytes of a room name, with the NUL */
#define MUC_TEXT_MAX 2048 /* bytes of a description / subject, with NUL */
#define MUC_ERR_TEXT 256  /* bytes of an error text, with the NUL */
#define MUC_HISTORY_MAX 500 /* messages of history a joiner gets at most */

enum muc_role {
    MUC_ROLE_NONE = 0,
    MUC_ROLE_VISITOR,
    MUC_ROLE_PARTICIPANT,
    MUC_ROLE_MODERATOR
};

enum muc_affiliation {
    MUC_AFFIL_NONE = 0,
    MUC_AFFIL_MEMBER,
    MUC_AFFIL_ADMIN,
    MUC_AFFIL_OWNER
};

/* "none", "visitor", ... / "none", "member", ... */
const char *muc_role_name(enum muc_role role);
const char *muc_affiliation_name(enum muc_affiliation affiliation);

/* A refusal: an XMPP error type ("cancel", "auth", "modify", "wait"), a
 * defined condition ("registration-required", "forbidden", ...) and a text
 * a person can act on. Fill it with muc_err_set(). */
struct muc_err {
    char type[16];
    char condition[48];
    char text[MUC_ERR_TEXT];
};

/* Fill err (which may be NULL); strings are truncated to fit. */
void muc_err_set(struct muc_err *err, const char *type, const char *condition,
                 const char *text);

/* What the policy says about a room it knows. */
struct muc_room_info {
    char name[MUC_NAME_MAX];        /* disco identity name; "" for none */
    char description[MUC_TEXT_MAX]; /* muc#roominfo_description */
    char subject[MUC_TEXT_MAX];     /* the subject ("" for none) */
    time_t subject_when;            /* when it was set; 0 for unknown */
};

/* The policy's answer to a join. */
struct muc_admit {
    enum muc_role role; /* visitor, participant or moderator */
    enum muc_affiliation affiliation;
    char nick[MUC_NICK_MAX + 1]; /* a forced nick, or "" to take the one
                                    asked for */
    int created; /* 1: say the room was just created (status 201) */
};

/* A groupchat message (or a system notice) to store. */
struct muc_msg {
    const char *room;      /* local part */
    const char *from_bare; /* sender's bare JID; NULL for a system notice */
    const char *from_full; /* sender's full JID; NULL for a system notice */
    const char *nick;      /* sender's nick; NULL for a system notice */
    const char *body;
    const char *id; /* the client's message id, or NULL */
    const char *origin_id; /* its XEP-0359 <origin-id/>, or NULL */
};

/* Where a stored message landed: the stanza-id and time to stamp. held:
 * the policy wrote it into a transaction that only policy->commit makes
 * durable (group commit); the engine holds its reflection until then. */
struct muc_stored {
    char id[MUC_ID_MAX];
    time_t when;
    int held;
    /* 1: the policy had stored this message before (the same origin-id
     * from the same sender, re-sent after a reconnect); id is the stored
     * copy's. The engine flushes, then reflects it to the sending resource
     * only, and to nobody else. */
    int duplicate;
    /* 1 (with policy->submit): the policy cannot answer yet, as an earlier
     * copy of this message (its origin-id) is still on its way to the disk;
     * nothing was stored. The engine settles everything (muc_flush()) and
     * asks store() once more, which must then answer. */
    int settle_first;
    /* Non-NULL: the policy stored this body instead of the one sent (e.g.
     * a canned reply, SPEC §9); the reflection carries it. malloc()ed by
     * the policy on success only; the engine frees it. */
    char *body;
};

/* One message of the history. nick NULL: a system notice (sent from
 * room/notice_nick). */
struct muc_history_item {
    const char *nick;
    const char *from_bare; /* may be NULL */
    const char *body;
    time_t when;
    const char *stanza_id;
};

typedef void (*muc_history_fn)(const struct muc_history_item *item,
                               void *fn_ud);

enum muc_event_kind {
    MUC_EVENT_JOINED,  /* a resource entered (first: the occupant did) */
    MUC_EVENT_LEFT,    /* a resource left (last: the occupant did) */
    MUC_EVENT_PRESENCE /* an occupant's resource changed its show */
};

enum muc_leave_reason {
    MUC_LEAVE_SELF = 0, /* unavailable presence */
    MUC_LEAVE_KICKED,   /* muc_set_role(..., MUC_ROLE_NONE) */
    MUC_LEAVE_ERROR,    /* a bounced stanza showed the resource is gone */
    MUC_LEAVE_DESTROYED /* muc_destroy() */
};

struct muc_event {
    enum muc_event_kind kind;
    const char *room;
    const char *nick;
    const char *bare_jid;
    const char *full_jid;
    enum muc_role role;
    enum muc_affiliation affiliation;
    const char *show; /* JOINED/PRESENCE: "", "chat", "away", "xa", "dnd" */
    int first;        /* JOINED: 1 when the occupant just entered */
    int last;         /* LEFT: 1 when the occupant's last resource left */
    enum muc_leave_reason reason; /* LEFT */
};

/* The app's side. Callbacks get the app and the ud given to xep0045_new().
 * notice_nick, room, admit and store are required; the others may be
 * NULL. */
struct muc_policy {
    /* The nick of the room's own occupant, present in every room as a
     * moderator; notices come from it. A string that outlives the engine
     * (a literal). */
    const char *notice_nick;
    /* 1 when room is a room of the app, with *out filled; 0 when unknown. */
    int (*room)(struct app *app, const char *room, struct muc_room_info *out,
                void *ud);
    /* May bare_jid enter room? 0 with *out filled (out arrives zeroed), or
     * -1 with *err filled: registration-required (auth) for non-members,
     * item-not-found (cancel) for no such room, forbidden... When err is
     * left empty, registration-required is sent. Also asked, without
     * consequence, for the reserved-nick disco node and room disco#info. */
    int (*admit)(struct app *app, const char *room, const char *bare_jid,
                 struct muc_admit *out, struct muc_err *err, void *ud);
    /* Persist msg BEFORE it is broadcast. 0 with *out filled (a non-empty
     * unique id; when 0 means clock_now(); duplicate, see above), or -1
     * with *err filled (left empty: internal-server-error). Nothing is
     * broadcast on -1. */
    int (*store)(struct app *app, const struct muc_msg *msg,
                 struct muc_stored *out, struct muc_err *err, void *ud);
    /* Group commit: make every message stored with out->held since the last
     * call durable. 0: the engine sends their reflections; -1: none of them
     * was kept, and each sender gets *err (left empty: wait /
     * internal-server-error). Required when store() ever sets held. */
    int (*commit)(struct app *app, struct muc_err *err, void *ud);
    /* Group commit on another thread (optional, both or neither; commit
     * is still asked by every muc_flush() after them). submit: hand every
     * message stored with out->held since the last call over to be made
     * durable, without waiting; returns the batch's number (increasing),
     * 0 when nothing was held. settle: the next finished batch, oldest
     * first: 1 with *batch durable, -1 with *batch lost (*err filled, or
     * left empty: wait / internal-server-error), 0 when none finished;
     * wait: block until one does while any is in flight. */
    uint64_t (*submit)(struct app *app, void *ud);
    int (*settle)(struct app *app, int wait, uint64_t *batch,
                  struct muc_err *err, void *ud);
    /* Call fn for the room's messages newer than since (0: all), oldest
     * first, as many as the app wants a joiner to see; the engine sends at
     * most the last MUC_HISTORY_MAX of them and max_stanza_bytes of XML in
     * all, after a line saying the archive has the rest. 0 or -1. */
    int (*history)(struct app *app, const char *room, time_t since,
                   muc_history_fn fn, void *fn_ud, void *ud);
    /* Occupants entering, leaving, changing presence. */
    void (*event)(struct app *app, const struct muc_event *ev, void *ud);
    /* An occupant (from_bare) asks the room to invite to_jid (mediated
     * invitation). 0: the engine sends it; -1 with *err: refused. NULL:
     * every invitation from occupants is refused with <forbidden/>. */
    int (*invite)(struct app *app, const char *room, const char *from_bare,
                  const char *to_jid, struct muc_err *err, void *ud);
    /* 1: rooms answer XEP-0313 queries (urn:xmpp:mam:2 in room disco). */
    int mam;
    /* A notice was stored for room (its key) as id, but nobody is in the
     * room here: with several processes on one domain another one may
     * serve it (the app relays it there, muc_relay_notice()). May be
     * NULL. */
    void (*notice_unheard)(struct app *app, const char *room,
                           const char *body, const char *id, void *ud);
};

/* ---- lifecycle ------------------------------------------------------ */

/* A new engine on app, with a copy of *policy and ud for its callbacks.
 * Adds the message and presence handlers, the disco entity provider
 * (disco_set_entity_info), the iq ping, muc#admin and muc#owner handlers,
 * and the service's conference identity and muc feature. Call it after xep0030_register()
 * and xep0199_register(): it takes over urn:xmpp:ping iqs and still answers
 * those to the component itself. NULL on failure (missing required
 * callback, out of memory); the dispatch table may then hold some of the
 * handlers, so treat it as fatal. */
struct muc *xep0045_new(struct app *app, const struct muc_policy *policy,
                        void *ud);

/* Free the engine and every occupant, sending nothing. The dispatch and
 * disco tables still point at it: free it after them, or dispatch nothing
 * after it. NULL is fine. */
void xep0045_free(struct muc *muc);

/* ---- what the app may do -------------------------------------------- */

/* Fan room messages out through the XEP-0033 service at service (a copy
 * kept; NULL or "" goes back to one stanza per occupant resource): a
 * message the room sends to two or more resources goes to the service
 * once, with their JIDs as bcc addresses (up to XEP0033_MAX_ADDRESSES a
 * stanza). Presences stay one per occupant (each differs). 0, or -1 when
 * out of memory. */
int muc_set_multicast(struct muc *muc, const char *service);

/* The multicast service in use (borrowed), or NULL. */
const char *muc_multicast(const struct muc *muc);

/* Group commit. While a stored message is held (struct muc_stored.held),
 * the engine queues what it would send to occupants -- that message's
 * reflection and every groupchat reflection after it, so that order is
 * kept -- instead of sending it. muc_flush() asks policy->commit and then
 * sends the queue, or, when the commit failed, answers each held message's
 * sender with the error instead. Only groupchat messages to rooms may be
 * handled while something is held: the app calls muc_flush() before it
 * handles any other stanza, before its timers, after each pass of its
 * event loop and before a stream close. The engine flushes by itself
 * before a notice, a subject change, a presence, a non-groupchat message, a
 * role change, a destroy and the shutdown. A notice the policy holds is
 * committed at once (muc_send_notice() fails when that fails). policy->commit, when set, is called by every
 * flush, held messages or not. Returns the number of messages made
 * durable. */
size_t muc_flush(struct muc *muc);

/* The end of an event-loop pass with policy->submit: hand what is held
 * over, then send (or refuse) the queue's head as far as its batches have
 * settled, without waiting; later reflections stay queued behind the ones
 * still waiting, so order is kept. Without policy->submit it is
 * muc_flush(). Returns the number of messages made durable. */
size_t muc_pump(struct muc *muc);

/* 1 while something waits for muc_flush(). */
int muc_holding(const struct muc *muc);

/* A system notice: stored through policy->store, then sent as groupchat
 * from room/notice_nick to every occupant's resources. 0, or -1 with *err
 * (may be NULL) filled when the room is unknown or the store refused. */
int muc_send_notice(struct muc *muc, const char *room, const char *body,
                    struct muc_err *err);

/* A notice stored elsewhere (another process, policy->notice_unheard) as
 * id: sent like muc_send_notice() sends it, to the occupants here, and
 * stored nowhere. The number of resources it went to (0 for an unknown
 * room or nobody in it). */
size_t muc_relay_notice(struct muc *muc, const char *room, const char *body,
                        const char *id);

/* Change the role of the occupant bare_jid: everyone gets its presence
 * with the new role (and reason, may be NULL). MUC_ROLE_NONE kicks it
 * (status 307; policy event LEFT with MUC_LEAVE_KICKED). The engine keeps
 * the role only while the occupant is in the room: the policy's admit
 * must answer the same on a later join. 0, or -1 when not an occupant. */
int muc_set_role(struct muc *muc, const char *room, const char *bare_jid,
                 enum muc_role role, const char *reason);

/* Send a XEP-0045 mediated invitation from the room to to_jid, in the name
 * of from_jid (the inviter), with an optional reason. 0 or -1 (unknown
 * room). */
int muc_invite(struct muc *muc, const char *room, const char *from_jid,
               const char *to_jid, const char *reason);

/* Tell every occupant the subject changed (a message from the bare room
 * JID with <subject/>). The app keeps the subject: update what
 * policy->room returns first. 0, or -1 when the room is unknown. */
int muc_set_subject(struct muc *muc, const char *room, const char *subject);

/* The role of bare_jid in room, MUC_ROLE_NONE when not an occupant. */
enum muc_role muc_role_of(struct muc *muc, const char *room,
                          const char *bare_jid);

/* One occupant, as listed by muc_occupants(); borrowed for the call. */
struct muc_occupant_info {
    const char *nick;
    const char *bare_jid;
    enum muc_role role;
    enum muc_affiliation affiliation;
    size_t n_resources;
};

typedef void (*muc_occupant_fn)(const struct muc_occupant_info *info,
                                void *fn_ud);

/* Call fn (may be NULL) for every occupant of room, in join order; do not
 * change the room from fn. Returns the number of occupants. */
size_t muc_occupants(struct muc *muc, const char *room, muc_occupant_fn fn,
                     void *fn_ud);

/* Remove everyone from room: each resource gets unavailable presence with
 * <destroy/> (and reason, may be NULL); the policy gets LEFT events with
 * MUC_LEAVE_DESTROYED. The room may be joined again later if the policy
 * still knows it. */
void muc_destroy(struct muc *muc, const char *room, const char *reason);

/* Service shutdown: every resource in every room gets unavailable presence
 * with 110 and 332; all occupants are forgotten without policy events. */
void muc_shutdown(struct muc *muc);

#endif
