/* muc_internal.h - what the files of the XEP-0045 room engine share; the
 * public interface is xep0045_muc.h, and nothing outside xep/xep0045_muc/
 * includes this header.
 *
 * The engine is split by concern. A file calls functions of the files
 * before it in this list, never of one after it:
 *   rooms.c      the room table (hash by name) and its occupants and their
 *                resources as data; addressing (a stanza's to and from, room
 *                and occupant JIDs); error replies; role and affiliation
 *                names, muc_err_set(), muc_role_of(), muc_occupants()
 *   presence.c   the MUC presence of an occupant: built (<item/>, status
 *                codes, <destroy/>) and sent to one resource or the room
 *   messages.c   groupchat messages (stored through the policy, then
 *                reflected; chat states and other bodiless messages
 *                reflected unstored), the group-commit queue and
 *                muc_flush(), the history and subject a joiner gets,
 *                invitations, muc_send_notice(), muc_set_subject()
 *   occupants.c  nick rules; join, leave, presence updates, ghosts; the
 *                policy's events; muc_set_role(), muc_destroy(),
 *                muc_shutdown() (uses presence.c and messages.c)
 *   queries.c    disco#info / disco#items of rooms, the reserved-nick node
 *                and XEP-0410 self-ping (uses rooms.c only)
 *   admin.c      the muc#admin and muc#owner queries (uses rooms.c only)
 *   engine.c     xep0045_new(), xep0045_free() and the presence and
 *                message handlers that route each stanza to the above
 */
#ifndef CHATDESK_MUC_INTERNAL_H
#define CHATDESK_MUC_INTERNAL_H

#include "xep0045_muc.h"

#include <stddef.h>
#include <strophe.h>

#define MUC__ROOM_MAX 1024 /* bytes of a room local part, with the NUL */
#define MUC__JID_MAX 3072  /* bytes of a JID, with the NUL */
#define MUC__NICK_BUF (MUC_NICK_MAX + 2) /* one byte more than allowed */
#define MUC__MAX_CODES 8
/* bytes a stored message's stanza may grow by on its way out: stanza-id,
 * delay, the MAM <result/><forwarded/> wrapper and their JIDs */
#define MUC__ENVELOPE 2048

/* ---- state ---------------------------------------------------------- */

struct muc__occ {
    char *nick;
    char *bare;
    enum muc_role role;
    enum muc_affiliation aff;
    char **res; /* full JIDs, in join order */
    size_t n_res;
    xmpp_stanza_t *pres; /* <presence/> holding the children to reflect */
    char *pres_jid;      /* the resource that sent it */
};

struct muc__room {
    char *name;
    struct muc__occ **occ;
    size_t n_occ;
    struct muc__room *hnext; /* next in its hash bucket */
    size_t slot;             /* its index in muc->rooms */
};

/* A reflection waiting for the group commit (muc_flush()). */
struct muc__queued {
    char *room;
    xmpp_stanza_t *out;  /* what every occupant gets (to= set per resource) */
    xmpp_stanza_t *orig; /* held message: the sender's stanza, for an error */
    uint64_t batch; /* held and handed over (policy->submit): its batch */
};

struct muc {
    struct app *app;
    struct muc_policy policy;
    void *ud;
    struct muc__room **rooms; /* open rooms, in no particular order */
    size_t n_rooms, cap_rooms;
    struct muc__room **buckets; /* hash index by name, chained */
    size_t n_buckets;           /* a power of two, >= n_rooms */
    struct muc__queued *queue;  /* in arrival order */
    size_t n_queue, cap_queue;
    char *multicast; /* XEP-0033 service for room messages, or NULL */
};

/* A stanza addressed to a room or an occupant, taken apart. */
struct muc__req {
    xmpp_stanza_t *st;
    const char *type; /* may be NULL */
    char room[MUC__ROOM_MAX];
    char room_jid[MUC__JID_MAX];
    char nick[MUC__NICK_BUF]; /* the resource of to (cut after 65 bytes) */
    int has_nick;
    char from[MUC__JID_MAX]; /* bare part lowercased */
    char bare[MUC__JID_MAX];
};

/* The MUC presence to build for one occupant. */
struct muc__pres {
    const char *type;       /* NULL (available) or "unavailable" */
    xmpp_stanza_t *payload; /* a <presence/> whose children are copied */
    enum muc_role role;
    enum muc_affiliation aff;
    const char *jid;     /* the occupant's full JID for <item jid=/> */
    const char *reason;  /* <item><reason/></item>, or NULL */
    const char *destroy; /* not NULL: add <destroy/> with this reason */
    const char *id;
    int codes[MUC__MAX_CODES];      /* for everyone; 0 ends */
    int self_codes[MUC__MAX_CODES]; /* besides 110, for the occupant */
};

/* How a resource leaves. */
struct muc__leave {
    enum muc_leave_reason reason;
    int code;               /* 307, 333 or 0 */
    xmpp_stanza_t *payload; /* the unavailable presence, or NULL */
    const char *item_reason;
};

/* ---- rooms.c: the room table, addressing, errors ----------------------- */

/* room@domain into buf. */
void muc__room_jid(struct muc *m, const char *room, char *buf, size_t len);

/* room@domain/nick into buf. */
void muc__occ_jid(struct muc *m, const char *room, const char *nick, char *buf,
                  size_t len);

/* room@domain/<the notice occupant's nick> into buf. */
void muc__notice_jid(struct muc *m, const char *room, char *buf, size_t len);

/* A new id from libstrophe's UUID generator copied into buf ("" when it
 * fails). */
void muc__uuid(struct muc *m, char *buf, size_t len);

/* Split the to and from of st. Returns 0, or -1 when st is not for a room
 * of ours (no local part, other domain, no from, too long). */
int muc__parse(struct muc *m, xmpp_stanza_t *st, struct muc__req *rq);

/* Ask the policy about room; info may be NULL. A room with occupants is
 * known without asking (the hot path: every message). */
int muc__known(struct muc *m, const char *room, struct muc_room_info *info);

/* Lowercase name into buf; 0, or -1 when it does not fit. */
int muc__key(char *buf, size_t len, const char *name);

/* The open room called name (lowercased), or NULL. */
struct muc__room *muc__room_find(struct muc *m, const char *name);

/* The open room called name, opened (empty) when it is not; NULL when
 * out of memory. */
struct muc__room *muc__room_get(struct muc *m, const char *name);

/* Take r out of the engine's list (without freeing it). */
void muc__room_detach(struct muc *m, struct muc__room *r);

/* Free r with its occupants (take it out with muc__room_detach() first
 * when it is in the engine's list). */
void muc__room_free(struct muc__room *r);

/* The occupant of r (may be NULL) with that nick, or NULL. */
struct muc__occ *muc__occ_by_nick(struct muc__room *r, const char *nick);

/* The occupant of r (may be NULL) with that bare JID, or NULL. */
struct muc__occ *muc__occ_by_bare(struct muc__room *r, const char *bare);

/* The occupant that has the resource full, with its index in *idx. */
struct muc__occ *muc__occ_by_full(struct muc__room *r, const char *full,
                                  int *idx);

/* A new occupant of r (without resources) with the role and affiliation
 * of adm; NULL when out of memory. */
struct muc__occ *muc__occ_add(struct muc__room *r, const char *nick,
                              const char *bare, const struct muc_admit *adm);

/* Add the resource full to o. 0, or -1 when out of memory. */
int muc__res_add(struct muc__occ *o, const char *full);

/* Take o out of r and free it; frees r too when it is left empty. */
void muc__occ_drop(struct muc *m, struct muc__room *r, struct muc__occ *o);

/* Drop resource idx; frees the occupant with its last resource and the
 * room with its last occupant. */
void muc__res_remove(struct muc *m, struct muc__room *r, struct muc__occ *o,
                     size_t idx);

/* Answer rq->st with an error (by the room), optionally carrying the
 * <x xmlns='...muc'/> of a refused join. Never answers an error. */
void muc__error(struct muc *m, const struct muc__req *rq, const char *type,
                const char *condition, const char *text, int with_muc_x);

/* muc__error with a policy refusal; fallback when err is empty. */
void muc__refuse(struct muc *m, const struct muc__req *rq,
                 const struct muc_err *err, const char *type,
                 const char *condition, const char *text, int with_muc_x);

/* ---- presence.c: an occupant's MUC presence ---------------------------- */

/* A new <presence/> with copies of the children of src (minus MUC x). */
xmpp_stanza_t *muc__pres_payload(xmpp_ctx_t *ctx, xmpp_stanza_t *src);

/* Send the presence p of the occupant at from to the resource to; self:
 * it is that occupant's own (status 110 and p->self_codes). */
void muc__pres_send(struct muc *m, const char *from, const char *to,
                    const struct muc__pres *p, int self);

/* The current presence of occupant o, as everyone sees it. */
void muc__pres_of(const struct muc__occ *o, struct muc__pres *p);

/* The presence of the room's own occupant (policy->notice_nick: a
 * moderator and owner, its JID the component's) to the resource to. */
void muc__pres_notice_send(struct muc *m, const char *room, const char *to);

/* Send o's presence p to every resource in the room except skip (may be
 * NULL); o's own resources get it as self-presence (110). */
void muc__pres_to_room(struct muc *m, struct muc__room *r,
                       const struct muc__occ *o, const struct muc__pres *p,
                       const char *skip);

/* ---- messages.c: messages, the group commit, history, subject ---------- */

/* The room's history (policy->history) to the joiner rq->from, within
 * the limits of the join's <history/>. */
void muc__send_history(struct muc *m, const struct muc__req *rq);

/* The subject message of the room (info) to the joiner rq->from. */
void muc__send_subject(struct muc *m, const struct muc__req *rq,
                       const struct muc_room_info *info);

/* A groupchat message to the room: checked, stored through the policy,
 * then reflected (or queued for the group commit). */
void muc__groupchat(struct muc *m, const struct muc__req *rq);

/* A message to the bare room JID that is not groupchat. */
void muc__direct(struct muc *m, const struct muc__req *rq);

/* Free what waits for the commit, sending nothing. */
void muc__queue_free(struct muc *m);

/* ---- occupants.c: entering, leaving, presence updates ------------------ */

/* Remove the resource rq->from (if it is in the room). */
void muc__remove_req(struct muc *m, const struct muc__req *rq,
                     const struct muc__leave *lv);

/* An error bounced by an occupant's resource: drop it when the condition
 * says the resource is unreachable (XEP-0045 "ghost users"). */
void muc__ghost(struct muc *m, const struct muc__req *rq);

/* Available presence to room/nick. */
void muc__available(struct muc *m, const struct muc__req *rq,
                    const struct muc_room_info *info, int join);

/* ---- queries.c: disco and self-ping ------------------------------------ */

/* The disco entity provider: rooms and occupants of known rooms. */
int muc__disco(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
               void *ud);

/* urn:xmpp:ping: the component itself (XEP-0199), a room, or a XEP-0410
 * self-ping to an occupant JID. */
void muc__ping(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
               void *ud);

/* ---- admin.c: muc#admin and muc#owner ---------------------------------- */

/* iq get muc#admin: a moderator gets the occupants of the affiliation its
 * <item/> names; others get <forbidden/>. */
void muc__admin_get(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                    void *ud);

/* iq set muc#admin: <forbidden/> (membership follows the policy). */
void muc__admin_set(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                    void *ud);

/* iq get or set muc#owner: <forbidden/> (the configuration is fixed). */
void muc__owner(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *payload,
                void *ud);

#endif
