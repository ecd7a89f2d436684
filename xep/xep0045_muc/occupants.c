/* occupants.c - entering and leaving rooms, presence updates, roles,
 * destroy and shutdown. See muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/stanza.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A copy of what an event reports, safe from changes made by callbacks. */
struct muc__snap {
    char room[MUC__ROOM_MAX];
    char nick[MUC__NICK_BUF];
    char bare[MUC__JID_MAX];
    char full[MUC__JID_MAX];
    enum muc_role role;
    enum muc_affiliation aff;
};

/* ---- nick validation ---------------------------------------------------- */

/* Decode one UTF-8 sequence at s; returns its length (0 if malformed). */
static size_t muc__utf8(const unsigned char *s, unsigned long *cp)
{
    size_t n;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0)
        n = 2, *cp = s[0] & 0x1F;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3, *cp = s[0] & 0x0F;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4, *cp = s[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    return n;
}

/* Code points that show nothing: spaces and zero-width characters. */
static int muc__blank(unsigned long cp)
{
    return cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || (cp >= 0x205F && cp <= 0x2064) || cp == 0x3000 ||
           cp == 0xFEFF;
}

/* 1 when nick is 1..MUC_NICK_MAX bytes of UTF-8 without control characters
 * and shows at least one visible character. */
static int muc__nick_ok(const char *nick)
{
    const unsigned char *s = (const unsigned char *)nick;
    size_t len = strlen(nick);
    int visible = 0;

    if (len == 0 || len > MUC_NICK_MAX)
        return 0;
    while (*s) {
        unsigned long cp;
        size_t n = muc__utf8(s, &cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return 0;
        if (!muc__blank(cp))
            visible = 1;
        s += n;
    }
    return visible;
}

/* ---- occupant state and policy events ----------------------------------- */

static void muc__set_pres(struct muc *m, struct muc__occ *o, xmpp_stanza_t *st,
                          const char *full)
{
    xmpp_stanza_t *p = muc__pres_payload(m->app->ctx, st);
    char *jid = strdup(full);

    if (!p || !jid) {
        if (p)
            xmpp_stanza_release(p);
        free(jid);
        return;
    }
    if (o->pres)
        xmpp_stanza_release(o->pres);
    free(o->pres_jid);
    o->pres = p;
    o->pres_jid = jid;
}

/* The text of child name of st compared with the same in the occupant's
 * stored presence: 1 when they differ. */
static int muc__child_differs(struct muc *m, xmpp_stanza_t *a, xmpp_stanza_t *b,
                              const char *name)
{
    char *ta = a ? stanza_child_text(a, name, NULL) : NULL;
    char *tb = b ? stanza_child_text(b, name, NULL) : NULL;
    int differs = strcmp(ta ? ta : "", tb ? tb : "") != 0;

    if (ta)
        xmpp_free(m->app->ctx, ta);
    if (tb)
        xmpp_free(m->app->ctx, tb);
    return differs;
}

static void muc__snap(struct muc__snap *s, const char *room,
                      const struct muc__occ *o, const char *full)
{
    snprintf(s->room, sizeof s->room, "%s", room);
    snprintf(s->nick, sizeof s->nick, "%s", o->nick);
    snprintf(s->bare, sizeof s->bare, "%s", o->bare);
    snprintf(s->full, sizeof s->full, "%s", full);
    s->role = o->role;
    s->aff = o->aff;
}

static void muc__emit(struct muc *m, enum muc_event_kind kind,
                      const struct muc__snap *s, const char *show, int edge,
                      enum muc_leave_reason reason)
{
    struct muc_event ev;

    if (!m->policy.event)
        return;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.room = s->room;
    ev.nick = s->nick;
    ev.bare_jid = s->bare;
    ev.full_jid = s->full;
    ev.role = s->role;
    ev.affiliation = s->aff;
    ev.show = show;
    ev.first = kind == MUC_EVENT_JOINED ? edge : 0;
    ev.last = kind == MUC_EVENT_LEFT ? edge : 0;
    ev.reason = reason;
    m->policy.event(m->app, &ev, m->ud);
}

/* The <show/> of the occupant's stored presence, copied into buf. */
static const char *muc__show(struct muc *m, struct muc__occ *o, char *buf,
                             size_t len)
{
    char *t = o->pres ? stanza_child_text(o->pres, "show", NULL) : NULL;

    snprintf(buf, len, "%s", t ? t : "");
    if (t)
        xmpp_free(m->app->ctx, t);
    return buf;
}

/* ---- entering ----------------------------------------------------------- */

/* What the joiner gets, in XEP-0045 order: the others' presence (the
 * notice occupant's first), the broadcast of its own (first resource only),
 * self-presence, history, subject. */
static void muc__join_sequence(struct muc *m, const struct muc__req *rq,
                               const struct muc_room_info *info,
                               struct muc__room *r, struct muc__occ *o,
                               const int *self_codes, int broadcast)
{
    char from[MUC__JID_MAX];
    struct muc__pres p;

    muc__pres_notice_send(m, r->name, rq->from);
    for (size_t i = 0; i < r->n_occ; i++) {
        if (r->occ[i] == o)
            continue;
        muc__pres_of(r->occ[i], &p);
        muc__occ_jid(m, r->name, r->occ[i]->nick, from, sizeof from);
        muc__pres_send(m, from, rq->from, &p, 0);
    }
    muc__pres_of(o, &p);
    p.jid = rq->from;
    if (broadcast)
        muc__pres_to_room(m, r, o, &p, rq->from);
    memcpy(p.self_codes, self_codes, sizeof p.self_codes);
    p.id = xmpp_stanza_get_id(rq->st);
    muc__occ_jid(m, r->name, o->nick, from, sizeof from);
    muc__pres_send(m, from, rq->from, &p, 1);
    muc__send_history(m, rq);
    muc__send_subject(m, rq, info);
}

/* Ask the policy; refuse on its behalf. 0 when admitted. */
static int muc__admit(struct muc *m, const struct muc__req *rq,
                      struct muc_admit *adm)
{
    struct muc_err err;

    memset(adm, 0, sizeof *adm);
    memset(&err, 0, sizeof err);
    if (m->policy.admit(m->app, rq->room, rq->bare, adm, &err, m->ud) != 0) {
        muc__refuse(m, rq, &err, "auth", "registration-required",
                    "You are not a member of this room.", 1);
        return -1;
    }
    if (adm->role == MUC_ROLE_NONE) {
        muc__error(m, rq, "auth", "forbidden", "You may not enter this room.",
                   1);
        return -1;
    }
    adm->nick[sizeof adm->nick - 1] = '\0';
    return 0;
}

/* The nick the joiner gets (the one it has, a forced one or the one asked
 * for), or NULL after refusing a bad or taken nick. */
static const char *muc__pick_nick(struct muc *m, const struct muc__req *rq,
                                  const struct muc_admit *adm,
                                  struct muc__occ *existing)
{
    struct muc__room *r = muc__room_find(m, rq->room);
    const char *nick = existing       ? existing->nick
                       : adm->nick[0] ? adm->nick
                                      : rq->nick;
    struct muc__occ *holder;

    if (!muc__nick_ok(nick)) {
        muc__error(m, rq, "modify", "not-acceptable",
                   "Choose a nickname of 1 to 64 bytes, with a visible "
                   "character and no control characters.",
                   1);
        return NULL;
    }
    if (!strcasecmp(nick, m->policy.notice_nick)) {
        char text[MUC_ERR_TEXT];

        snprintf(text, sizeof text,
                 "The nickname '%s' belongs to the room itself (its "
                 "notices); choose another.",
                 m->policy.notice_nick);
        muc__error(m, rq, "cancel", "conflict", text, 1);
        return NULL;
    }
    holder = muc__occ_by_nick(r, nick);
    if (holder && holder != existing) {
        muc__error(m, rq, "cancel", "conflict",
                   "That nickname is used by another occupant of this room.",
                   1);
        return NULL;
    }
    return nick;
}

static void muc__join(struct muc *m, const struct muc__req *rq,
                      const struct muc_room_info *info)
{
    struct muc_admit adm;
    struct muc__room *r;
    struct muc__occ *o, *existing;
    const char *nick;
    struct muc__snap snap;
    char show[16];
    int codes[MUC__MAX_CODES] = {100};
    size_t n = 1;

    if (muc__admit(m, rq, &adm))
        return;
    existing = muc__occ_by_bare(muc__room_find(m, rq->room), rq->bare);
    if (!(nick = muc__pick_nick(m, rq, &adm, existing)))
        return;
    r = muc__room_get(m, rq->room);
    o = existing ? existing : r ? muc__occ_add(r, nick, rq->bare, &adm) : NULL;
    if (!o || muc__res_add(o, rq->from)) {
        if (o && !existing)
            muc__occ_drop(m, r, o);
        else if (r && r->n_occ == 0) {
            muc__room_detach(m, r);
            muc__room_free(r);
        }
        muc__error(m, rq, "wait", "resource-constraint",
                   "The room is out of memory; try again later.", 1);
        return;
    }
    muc__set_pres(m, o, rq->st, rq->from);
    if (adm.created && !existing)
        codes[n++] = 201;
    if (strcmp(o->nick, rq->nick) != 0)
        codes[n++] = 210;
    muc__snap(&snap, rq->room, o, rq->from); /* history may call back */
    muc__show(m, o, show, sizeof show);
    muc__join_sequence(m, rq, info, r, o, codes, !existing);
    muc__emit(m, MUC_EVENT_JOINED, &snap, show, !existing, MUC_LEAVE_SELF);
}

/* A join from a resource already in the room: send it everything again;
 * tell the others when its presence changed. */
static void muc__resync(struct muc *m, const struct muc__req *rq,
                        const struct muc_room_info *info, struct muc__room *r,
                        struct muc__occ *o)
{
    int codes[MUC__MAX_CODES] = {100};
    int changed = muc__child_differs(m, rq->st, o->pres, "show") ||
                  muc__child_differs(m, rq->st, o->pres, "status");
    struct muc__pres p;

    muc__set_pres(m, o, rq->st, rq->from);
    if (strcmp(o->nick, rq->nick) != 0)
        codes[1] = 210;
    if (changed) {
        muc__pres_of(o, &p);
        muc__pres_to_room(m, r, o, &p, rq->from);
    }
    muc__join_sequence(m, rq, info, r, o, codes, 0);
}

/* ---- leaving and presence updates --------------------------------------- */

/* Remove resource idx of o: it gets unavailable self-presence; with the
 * occupant's last resource everyone else gets unavailable too. The policy
 * hears of it last, once the state is consistent. */
static void muc__remove(struct muc *m, struct muc__room *r, struct muc__occ *o,
                        size_t idx, const struct muc__leave *lv)
{
    struct muc__snap snap;
    struct muc__pres p;
    char from[MUC__JID_MAX];
    int last = o->n_res == 1;

    muc__snap(&snap, r->name, o, o->res[idx]);
    memset(&p, 0, sizeof p);
    p.type = "unavailable";
    p.payload = lv->payload;
    p.role = MUC_ROLE_NONE;
    p.aff = o->aff;
    p.jid = snap.full;
    p.reason = lv->item_reason;
    p.codes[0] = lv->code;
    muc__occ_jid(m, r->name, o->nick, from, sizeof from);
    muc__pres_send(m, from, o->res[idx], &p, 1);
    for (size_t i = 0; last && i < r->n_occ; i++) {
        if (r->occ[i] == o)
            continue;
        for (size_t k = 0; k < r->occ[i]->n_res; k++)
            muc__pres_send(m, from, r->occ[i]->res[k], &p, 0);
    }
    muc__res_remove(m, r, o, idx);
    muc__emit(m, MUC_EVENT_LEFT, &snap, NULL, last, lv->reason);
}

void muc__remove_req(struct muc *m, const struct muc__req *rq,
                     const struct muc__leave *lv)
{
    struct muc__room *r = muc__room_find(m, rq->room);
    int idx = -1;
    struct muc__occ *o = muc__occ_by_full(r, rq->from, &idx);

    if (o)
        muc__remove(m, r, o, (size_t)idx, lv);
}

void muc__ghost(struct muc *m, const struct muc__req *rq)
{
    static const char *const gone[] = {
        "gone",     "item-not-found",          "recipient-unavailable",
        "redirect", "remote-server-not-found", "remote-server-timeout"};
    xmpp_stanza_t *err = xmpp_stanza_get_child_by_name(rq->st, "error");
    struct muc__leave lv = {.reason = MUC_LEAVE_ERROR, .code = 333};

    for (xmpp_stanza_t *c = err ? xmpp_stanza_get_children(err) : NULL; c;
         c = xmpp_stanza_get_next(c)) {
        const char *name = xmpp_stanza_get_name(c);
        const char *ns = xmpp_stanza_get_ns(c);
        if (!xmpp_stanza_is_tag(c) || !name || !ns || strcmp(ns, NS_STANZAS))
            continue;
        for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++) {
            if (!strcmp(name, gone[i])) {
                muc__remove_req(m, rq, &lv);
                return;
            }
        }
        return;
    }
}

/* Presence without the MUC <x/> from a non-occupant: the XEP-0045 kick
 * (110, 307, 333) so a desynchronised client knows to join again. */
static void muc__kick_stray(struct muc *m, const struct muc__req *rq)
{
    struct muc__pres p;
    char from[MUC__JID_MAX];

    memset(&p, 0, sizeof p);
    p.type = "unavailable";
    p.reason = "You are not in the room.";
    p.self_codes[0] = 307;
    p.self_codes[1] = 333;
    muc__occ_jid(m, rq->room, rq->nick, from, sizeof from);
    muc__pres_send(m, from, xmpp_stanza_get_from(rq->st), &p, 1);
}

/* A presence update from an occupant's resource: reflect it to all. */
static void muc__update(struct muc *m, const struct muc__req *rq,
                        struct muc__room *r, struct muc__occ *o)
{
    struct muc__pres p;
    struct muc__snap snap;
    char show[16];

    muc__set_pres(m, o, rq->st, rq->from);
    muc__pres_of(o, &p);
    muc__pres_to_room(m, r, o, &p, NULL);
    muc__snap(&snap, r->name, o, rq->from);
    muc__emit(m, MUC_EVENT_PRESENCE, &snap, muc__show(m, o, show, sizeof show),
              0, MUC_LEAVE_SELF);
}

void muc__available(struct muc *m, const struct muc__req *rq,
                    const struct muc_room_info *info, int join)
{
    struct muc__room *r = muc__room_find(m, rq->room);
    struct muc__occ *o = muc__occ_by_full(r, rq->from, NULL);

    if (o && join)
        muc__resync(m, rq, info, r, o);
    else if (o && strcmp(o->nick, rq->nick) != 0)
        muc__error(m, rq, "cancel", "not-acceptable",
                   "Nicknames cannot be changed in this room.", 1);
    else if (o)
        muc__update(m, rq, r, o);
    else if (join)
        muc__join(m, rq, info);
    else
        muc__kick_stray(m, rq);
}

/* ---- the app's API ------------------------------------------------------ */

/* Kick every resource of bare_jid (status 307), one at a time: callbacks
 * may change the room in between. */
static void muc__kick(struct muc *m, const char *room, const char *bare,
                      const char *reason)
{
    struct muc__leave lv = {
        .reason = MUC_LEAVE_KICKED, .code = 307, .item_reason = reason};
    struct muc__room *r;
    struct muc__occ *o;

    while ((r = muc__room_find(m, room)) && (o = muc__occ_by_bare(r, bare)))
        muc__remove(m, r, o, o->n_res - 1, &lv);
}

int muc_set_role(struct muc *muc, const char *room, const char *bare_jid,
                 enum muc_role role, const char *reason)
{
    char key[MUC__ROOM_MAX], bare[MUC__JID_MAX];
    struct muc__room *r;
    struct muc__occ *o;
    struct muc__pres p;

    if (!muc || muc__key(key, sizeof key, room) ||
        muc__key(bare, sizeof bare, bare_jid))
        return -1;
    muc_flush(muc);
    r = muc__room_find(muc, key);
    if (!(o = muc__occ_by_bare(r, bare)))
        return -1;
    if (role == MUC_ROLE_NONE) {
        muc__kick(muc, key, bare, reason);
        return 0;
    }
    o->role = role;
    muc__pres_of(o, &p);
    p.reason = reason;
    muc__pres_to_room(muc, r, o, &p, NULL);
    return 0;
}

/* Send every resource of r unavailable presence built from p. */
static void muc__evict_all(struct muc *m, struct muc__room *r,
                           struct muc__pres *p, int self)
{
    char from[MUC__JID_MAX];

    for (size_t i = 0; i < r->n_occ; i++) {
        muc__occ_jid(m, r->name, r->occ[i]->nick, from, sizeof from);
        for (size_t k = 0; k < r->occ[i]->n_res; k++) {
            p->jid = r->occ[i]->res[k];
            muc__pres_send(m, from, r->occ[i]->res[k], p, self);
        }
    }
}

void muc_destroy(struct muc *muc, const char *room, const char *reason)
{
    char key[MUC__ROOM_MAX];
    struct muc__room *r;
    struct muc__pres p;
    struct muc__snap snap;

    if (!muc || muc__key(key, sizeof key, room))
        return;
    muc_flush(muc);
    if (!(r = muc__room_find(muc, key)))
        return;
    muc__room_detach(muc, r); /* callbacks below no longer see it */
    memset(&p, 0, sizeof p);
    p.type = "unavailable";
    p.destroy = reason ? reason : "";
    muc__evict_all(muc, r, &p, 0);
    for (size_t i = 0; i < r->n_occ; i++) {
        for (size_t k = 0; k < r->occ[i]->n_res; k++) {
            muc__snap(&snap, r->name, r->occ[i], r->occ[i]->res[k]);
            muc__emit(muc, MUC_EVENT_LEFT, &snap, NULL,
                      k + 1 == r->occ[i]->n_res, MUC_LEAVE_DESTROYED);
        }
    }
    muc__room_free(r);
}

void muc_shutdown(struct muc *muc)
{
    struct muc__pres p;

    if (!muc)
        return;
    muc_flush(muc);
    memset(&p, 0, sizeof p);
    p.type = "unavailable";
    p.self_codes[0] = 332;
    for (size_t i = 0; i < muc->n_rooms; i++) {
        muc__evict_all(muc, muc->rooms[i], &p, 1);
        muc__room_free(muc->rooms[i]);
    }
    free(muc->rooms);
    free(muc->buckets);
    muc->rooms = muc->buckets = NULL;
    muc->n_rooms = muc->cap_rooms = muc->n_buckets = 0;
}
