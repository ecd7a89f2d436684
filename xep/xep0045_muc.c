/* xep0045_muc.c - XEP-0045 room engine. See xep0045_muc.h. */
#include "xep0045_muc.h"

#include "runtime/app.h"
#include "runtime/clock.h"
#include "runtime/disco.h"
#include "runtime/dispatch.h"
#include "runtime/stanza.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0199_ping.h"
#include "xep0203_delay.h"
#include "xep0359_stanza_id.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_CHATSTATES "http://jabber.org/protocol/chatstates"
#define NS_MAM "urn:xmpp:mam:2"

#define MUC__ROOM_MAX 1024 /* bytes of a room local part, with the NUL */
#define MUC__JID_MAX 3072  /* bytes of a JID, with the NUL */
#define MUC__NICK_BUF (MUC_NICK_MAX + 2) /* one byte more than allowed */
#define MUC__MAX_CODES 8

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

/* A copy of what an event reports, safe from changes made by callbacks. */
struct muc__snap {
    char room[MUC__ROOM_MAX];
    char nick[MUC__NICK_BUF];
    char bare[MUC__JID_MAX];
    char full[MUC__JID_MAX];
    enum muc_role role;
    enum muc_affiliation aff;
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

/* ---- names and small helpers ---------------------------------------- */

const char *muc_role_name(enum muc_role role)
{
    switch (role) {
    case MUC_ROLE_VISITOR:
        return "visitor";
    case MUC_ROLE_PARTICIPANT:
        return "participant";
    case MUC_ROLE_MODERATOR:
        return "moderator";
    default:
        return "none";
    }
}

const char *muc_affiliation_name(enum muc_affiliation affiliation)
{
    switch (affiliation) {
    case MUC_AFFIL_MEMBER:
        return "member";
    case MUC_AFFIL_ADMIN:
        return "admin";
    case MUC_AFFIL_OWNER:
        return "owner";
    default:
        return "none";
    }
}

void muc_err_set(struct muc_err *err, const char *type, const char *condition,
                 const char *text)
{
    if (!err)
        return;
    snprintf(err->type, sizeof err->type, "%s", type ? type : "cancel");
    snprintf(err->condition, sizeof err->condition, "%s",
             condition ? condition : "undefined-condition");
    snprintf(err->text, sizeof err->text, "%s", text ? text : "");
}

/* Copy src into dst (size len), lowercasing ASCII up to the first '/'.
 * Returns 0, or -1 when it does not fit. */
static int muc__norm(char *dst, size_t len, const char *src, size_t n)
{
    int in_bare = 1;

    if (n >= len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (src[i] == '/')
            in_bare = 0;
        dst[i] = in_bare ? (char)tolower((unsigned char)src[i]) : src[i];
    }
    dst[n] = '\0';
    return 0;
}

static void muc__room_jid(struct muc *m, const char *room, char *buf,
                          size_t len)
{
    snprintf(buf, len, "%s@%s", room, m->app->jid);
}

static void muc__occ_jid(struct muc *m, const char *room, const char *nick,
                         char *buf, size_t len)
{
    snprintf(buf, len, "%s@%s/%s", room, m->app->jid, nick);
}

/* A new id from libstrophe's UUID generator copied into buf ("" when it
 * fails). */
static void muc__uuid(struct muc *m, char *buf, size_t len)
{
    char *u = xmpp_uuid_gen(m->app->ctx);

    snprintf(buf, len, "%s", u ? u : "");
    if (u)
        xmpp_free(m->app->ctx, u);
}

/* Split the to and from of st. Returns 0, or -1 when st is not for a room
 * of ours (no local part, other domain, no from, too long). */
static int muc__parse(struct muc *m, xmpp_stanza_t *st, struct muc__req *rq)
{
    const char *to = xmpp_stanza_get_to(st);
    const char *from = xmpp_stanza_get_from(st);
    const char *at, *slash, *dom_end;
    size_t dom_len, flen;

    memset(rq, 0, sizeof *rq);
    if (!to || !from || !*from)
        return -1;
    at = strchr(to, '@');
    slash = strchr(to, '/');
    if (!at || at == to || (slash && slash < at))
        return -1;
    dom_end = slash ? slash : to + strlen(to);
    dom_len = (size_t)(dom_end - (at + 1));
    if (dom_len != strlen(m->app->jid) ||
        strncasecmp(at + 1, m->app->jid, dom_len) != 0)
        return -1;
    if (muc__norm(rq->room, sizeof rq->room, to, (size_t)(at - to)))
        return -1;
    flen = strcspn(from, "/");
    if (muc__norm(rq->from, sizeof rq->from, from, strlen(from)) ||
        muc__norm(rq->bare, sizeof rq->bare, from, flen))
        return -1;
    if (slash) {
        rq->has_nick = 1;
        snprintf(rq->nick, sizeof rq->nick, "%s", slash + 1);
    }
    muc__room_jid(m, rq->room, rq->room_jid, sizeof rq->room_jid);
    rq->st = st;
    rq->type = xmpp_stanza_get_type(st);
    return 0;
}

static struct muc__room *muc__room_find(struct muc *m, const char *name);

/* Ask the policy about room; info may be NULL. A room with occupants is
 * known without asking (the hot path: every message). */
static int muc__known(struct muc *m, const char *room,
                      struct muc_room_info *info)
{
    struct muc_room_info tmp;
    struct muc_room_info *out = info ? info : &tmp;

    if (!info && muc__room_find(m, room))
        return 1;
    memset(out, 0, sizeof *out);
    return m->policy.room(m->app, room, out, m->ud) == 1;
}

/* ---- nick validation ------------------------------------------------ */

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

/* ---- rooms and occupants -------------------------------------------- */

/* FNV-1a of a room name. */
static size_t muc__hash(const char *name)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

static struct muc__room *muc__room_find(struct muc *m, const char *name)
{
    struct muc__room *r;

    if (!m->n_buckets)
        return NULL;
    r = m->buckets[muc__hash(name) & (m->n_buckets - 1)];
    while (r && strcmp(r->name, name))
        r = r->hnext;
    return r;
}

/* Put r into its bucket. */
static void muc__bucket_add(struct muc *m, struct muc__room *r)
{
    struct muc__room **b = &m->buckets[muc__hash(r->name) & (m->n_buckets - 1)];

    r->hnext = *b;
    *b = r;
}

/* Make room for one more room: the array and, rehashed, the buckets. */
static int muc__rooms_grow(struct muc *m)
{
    if (m->n_rooms == m->cap_rooms) {
        size_t cap = m->cap_rooms ? m->cap_rooms * 2 : 64;
        struct muc__room **grown = realloc(m->rooms, cap * sizeof *grown);
        if (!grown)
            return -1;
        m->rooms = grown;
        m->cap_rooms = cap;
    }
    if (m->n_rooms < m->n_buckets)
        return 0;
    size_t n = m->n_buckets ? m->n_buckets * 2 : 64;
    struct muc__room **b = calloc(n, sizeof *b);
    if (!b)
        return -1;
    free(m->buckets);
    m->buckets = b;
    m->n_buckets = n;
    for (size_t i = 0; i < m->n_rooms; i++)
        muc__bucket_add(m, m->rooms[i]);
    return 0;
}

static struct muc__room *muc__room_get(struct muc *m, const char *name)
{
    struct muc__room *r = muc__room_find(m, name);

    if (r)
        return r;
    if (muc__rooms_grow(m))
        return NULL;
    r = calloc(1, sizeof *r);
    if (!r || !(r->name = strdup(name))) {
        free(r);
        return NULL;
    }
    r->slot = m->n_rooms;
    m->rooms[m->n_rooms++] = r;
    muc__bucket_add(m, r);
    return r;
}

static void muc__occ_free(struct muc__occ *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_res; i++)
        free(o->res[i]);
    free(o->res);
    if (o->pres)
        xmpp_stanza_release(o->pres);
    free(o->pres_jid);
    free(o->nick);
    free(o->bare);
    free(o);
}

static void muc__room_free(struct muc__room *r)
{
    for (size_t i = 0; i < r->n_occ; i++)
        muc__occ_free(r->occ[i]);
    free(r->occ);
    free(r->name);
    free(r);
}

/* Take r out of the engine's list (without freeing it). */
static void muc__room_detach(struct muc *m, struct muc__room *r)
{
    struct muc__room **p;

    if (r->slot >= m->n_rooms || m->rooms[r->slot] != r)
        return;
    p = &m->buckets[muc__hash(r->name) & (m->n_buckets - 1)];
    while (*p && *p != r)
        p = &(*p)->hnext;
    if (*p)
        *p = r->hnext;
    m->rooms[r->slot] = m->rooms[--m->n_rooms];
    m->rooms[r->slot]->slot = r->slot;
}

static struct muc__occ *muc__occ_by_nick(struct muc__room *r, const char *nick)
{
    for (size_t i = 0; r && i < r->n_occ; i++)
        if (!strcmp(r->occ[i]->nick, nick))
            return r->occ[i];
    return NULL;
}

static struct muc__occ *muc__occ_by_bare(struct muc__room *r, const char *bare)
{
    for (size_t i = 0; r && i < r->n_occ; i++)
        if (!strcmp(r->occ[i]->bare, bare))
            return r->occ[i];
    return NULL;
}

static int muc__res_index(struct muc__occ *o, const char *full)
{
    for (size_t i = 0; i < o->n_res; i++)
        if (!strcmp(o->res[i], full))
            return (int)i;
    return -1;
}

/* The occupant that has the resource full, with its index in *idx. */
static struct muc__occ *muc__occ_by_full(struct muc__room *r, const char *full,
                                         int *idx)
{
    for (size_t i = 0; r && i < r->n_occ; i++) {
        int k = muc__res_index(r->occ[i], full);
        if (k >= 0) {
            if (idx)
                *idx = k;
            return r->occ[i];
        }
    }
    return NULL;
}

static struct muc__occ *muc__occ_add(struct muc__room *r, const char *nick,
                                     const char *bare,
                                     const struct muc_admit *adm)
{
    struct muc__occ **grown = realloc(r->occ, (r->n_occ + 1) * sizeof *grown);
    struct muc__occ *o;

    if (!grown)
        return NULL;
    r->occ = grown;
    o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->nick = strdup(nick);
    o->bare = strdup(bare);
    if (!o->nick || !o->bare) {
        muc__occ_free(o);
        return NULL;
    }
    o->role = adm->role;
    o->aff = adm->affiliation;
    r->occ[r->n_occ++] = o;
    return o;
}

static int muc__res_add(struct muc__occ *o, const char *full)
{
    char **grown = realloc(o->res, (o->n_res + 1) * sizeof *grown);

    if (!grown)
        return -1;
    o->res = grown;
    if (!(o->res[o->n_res] = strdup(full)))
        return -1;
    o->n_res++;
    return 0;
}

/* Take o out of r and free it; frees r too when it is left empty. */
static void muc__occ_drop(struct muc *m, struct muc__room *r,
                          struct muc__occ *o)
{
    for (size_t i = 0; i < r->n_occ; i++) {
        if (r->occ[i] == o) {
            memmove(&r->occ[i], &r->occ[i + 1],
                    (r->n_occ - i - 1) * sizeof *r->occ);
            r->n_occ--;
            break;
        }
    }
    muc__occ_free(o);
    if (r->n_occ == 0) {
        muc__room_detach(m, r);
        muc__room_free(r);
    }
}

/* Drop resource idx; frees the occupant with its last resource and the
 * room with its last occupant. */
static void muc__res_remove(struct muc *m, struct muc__room *r,
                            struct muc__occ *o, size_t idx)
{
    free(o->res[idx]);
    memmove(&o->res[idx], &o->res[idx + 1],
            (o->n_res - idx - 1) * sizeof *o->res);
    o->n_res--;
    if (o->n_res == 0)
        muc__occ_drop(m, r, o);
}

/* 1 for the MUC elements a client must not have reflected. */
static int muc__is_muc_x(xmpp_stanza_t *c)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    return xmpp_stanza_is_tag(c) && name && ns && !strcmp(name, "x") &&
           (!strcmp(ns, NS_MUC) || !strcmp(ns, NS_MUC_USER));
}

/* A new <presence/> with copies of the children of src (minus MUC x). */
static xmpp_stanza_t *muc__pres_payload(xmpp_ctx_t *ctx, xmpp_stanza_t *src)
{
    xmpp_stanza_t *p = xmpp_presence_new(ctx);

    for (xmpp_stanza_t *c = xmpp_stanza_get_children(src); p && c;
         c = xmpp_stanza_get_next(c)) {
        xmpp_stanza_t *copy;
        if (!xmpp_stanza_is_tag(c) || muc__is_muc_x(c))
            continue;
        if ((copy = xmpp_stanza_copy(c)))
            xmpp_stanza_add_child_ex(p, copy, 0);
    }
    return p;
}

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

/* ---- building stanzas ----------------------------------------------- */

/* Answer rq->st with an error (by the room), optionally carrying the
 * <x xmlns='...muc'/> of a refused join. Never answers an error. */
static void muc__error(struct muc *m, const struct muc__req *rq,
                       const char *type, const char *condition,
                       const char *text, int with_muc_x)
{
    xmpp_stanza_t *st = rq->st;
    const char *kind = xmpp_stanza_get_name(st);
    const char *id = xmpp_stanza_get_id(st);
    xmpp_stanza_t *reply, *err, *t;

    if (rq->type && !strcmp(rq->type, "error"))
        return;
    reply = xmpp_stanza_new(m->app->ctx);
    xmpp_stanza_set_name(reply, kind ? kind : "message");
    xmpp_stanza_set_type(reply, "error");
    if (id)
        xmpp_stanza_set_id(reply, id);
    xmpp_stanza_set_to(reply, xmpp_stanza_get_from(st));
    xmpp_stanza_set_from(reply, xmpp_stanza_get_to(st));
    if (with_muc_x)
        stanza_add_child_ns(reply, "x", NS_MUC);
    err = stanza_add_child_ns(reply, "error", NULL);
    xmpp_stanza_set_type(err, type);
    xmpp_stanza_set_attribute(err, "by", rq->room_jid);
    stanza_add_child_ns(err, condition, NS_STANZAS);
    if (text && *text) {
        t = stanza_add_text_child(err, "text", NS_STANZAS, text);
        xmpp_stanza_set_attribute(t, "xml:lang", "en");
    }
    app_send(m->app, reply);
    xmpp_stanza_release(reply);
}

/* muc__error with a policy refusal; fallback when err is empty. */
static void muc__refuse(struct muc *m, const struct muc__req *rq,
                        const struct muc_err *err, const char *type,
                        const char *condition, const char *text, int with_muc_x)
{
    if (err->condition[0])
        muc__error(m, rq, err->type[0] ? err->type : "cancel", err->condition,
                   err->text, with_muc_x);
    else
        muc__error(m, rq, type, condition, text, with_muc_x);
}

static void muc__sort_codes(int *codes, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && codes[j - 1] > codes[j]; j--) {
            int t = codes[j];
            codes[j] = codes[j - 1];
            codes[j - 1] = t;
        }
}

static void muc__add_codes(xmpp_stanza_t *x, const struct muc__pres *p,
                           int self)
{
    int codes[2 * MUC__MAX_CODES + 1];
    size_t n = 0;
    char num[16];

    for (size_t i = 0; i < MUC__MAX_CODES && p->codes[i]; i++)
        codes[n++] = p->codes[i];
    if (self) {
        codes[n++] = 110;
        for (size_t i = 0; i < MUC__MAX_CODES && p->self_codes[i]; i++)
            codes[n++] = p->self_codes[i];
    }
    muc__sort_codes(codes, n);
    for (size_t i = 0; i < n; i++) {
        xmpp_stanza_t *s = stanza_add_child_ns(x, "status", NULL);
        snprintf(num, sizeof num, "%d", codes[i]);
        xmpp_stanza_set_attribute(s, "code", num);
    }
}

/* The presence of an occupant (from its occupant JID) to one resource. */
static xmpp_stanza_t *muc__pres_build(struct muc *m, const char *from,
                                      const char *to, const struct muc__pres *p,
                                      int self)
{
    xmpp_stanza_t *pr = p->payload ? muc__pres_payload(m->app->ctx, p->payload)
                                   : xmpp_presence_new(m->app->ctx);
    xmpp_stanza_t *x, *item;

    if (!pr)
        return NULL;
    xmpp_stanza_set_from(pr, from);
    xmpp_stanza_set_to(pr, to);
    if (p->type)
        xmpp_stanza_set_type(pr, p->type);
    if (p->id && *p->id)
        xmpp_stanza_set_id(pr, p->id);
    x = stanza_add_child_ns(pr, "x", NS_MUC_USER);
    item = stanza_add_child_ns(x, "item", NULL);
    xmpp_stanza_set_attribute(item, "affiliation",
                              muc_affiliation_name(p->aff));
    xmpp_stanza_set_attribute(item, "role", muc_role_name(p->role));
    if (p->jid)
        xmpp_stanza_set_attribute(item, "jid", p->jid);
    if (p->reason && *p->reason)
        stanza_add_text_child(item, "reason", NULL, p->reason);
    if (p->destroy) {
        xmpp_stanza_t *d = stanza_add_child_ns(x, "destroy", NULL);
        if (*p->destroy)
            stanza_add_text_child(d, "reason", NULL, p->destroy);
    }
    muc__add_codes(x, p, self);
    return pr;
}

static void muc__pres_send(struct muc *m, const char *from, const char *to,
                           const struct muc__pres *p, int self)
{
    xmpp_stanza_t *pr = muc__pres_build(m, from, to, p, self);

    if (!pr)
        return;
    app_send(m->app, pr);
    xmpp_stanza_release(pr);
}

/* The current presence of occupant o, as everyone sees it. */
static void muc__pres_of(const struct muc__occ *o, struct muc__pres *p)
{
    memset(p, 0, sizeof *p);
    p->payload = o->pres;
    p->role = o->role;
    p->aff = o->aff;
    p->jid = o->pres_jid ? o->pres_jid : (o->n_res ? o->res[0] : NULL);
}

/* Send o's presence p to every resource in the room except skip (may be
 * NULL); o's own resources get it as self-presence (110). */
static void muc__pres_to_room(struct muc *m, struct muc__room *r,
                              const struct muc__occ *o,
                              const struct muc__pres *p, const char *skip)
{
    char from[MUC__JID_MAX];

    muc__occ_jid(m, r->name, o->nick, from, sizeof from);
    for (size_t i = 0; i < r->n_occ; i++) {
        struct muc__occ *to = r->occ[i];
        for (size_t k = 0; k < to->n_res; k++) {
            if (skip && !strcmp(to->res[k], skip))
                continue;
            muc__pres_send(m, from, to->res[k], p, to == o);
        }
    }
}

/* Send msg (its to set for each) to every resource of every occupant. */
static void muc__msg_to_room(struct muc *m, const char *room,
                             xmpp_stanza_t *msg)
{
    struct muc__room *r = muc__room_find(m, room);

    for (size_t i = 0; r && i < r->n_occ; i++) {
        for (size_t k = 0; k < r->occ[i]->n_res; k++) {
            xmpp_stanza_set_to(msg, r->occ[i]->res[k]);
            app_send(m->app, msg);
        }
    }
}

/* A new <message type='groupchat'/> from from with an id (may be NULL). */
static xmpp_stanza_t *muc__groupchat_new(struct muc *m, const char *from,
                                         const char *id)
{
    xmpp_stanza_t *msg = xmpp_message_new(m->app->ctx, "groupchat", NULL, id);

    if (msg)
        xmpp_stanza_set_from(msg, from);
    return msg;
}

/* ---- history and subject -------------------------------------------- */

struct muc__hist {
    struct muc *m;
    const char *room;
    const char *room_jid;
    const char *to;
    xmpp_stanza_t **items;
    size_t n, cap;
};

/* History limits asked for in the join's <history/> (-1: none). */
struct muc__hist_limits {
    long maxchars;
    long maxstanzas;
    time_t since;
};

static long muc__attr_long(xmpp_stanza_t *el, const char *name)
{
    const char *v = xmpp_stanza_get_attribute(el, name);
    char *end;
    long n;

    if (!v || !*v)
        return -1;
    n = strtol(v, &end, 10);
    return *end || n < 0 ? -1 : n;
}

static void muc__hist_limits(xmpp_stanza_t *join, struct muc__hist_limits *l)
{
    xmpp_stanza_t *x = xmpp_stanza_get_child_by_name_and_ns(join, "x", NS_MUC);
    xmpp_stanza_t *h = x ? xmpp_stanza_get_child_by_name(x, "history") : NULL;
    const char *since;
    long seconds;
    time_t t;

    l->maxchars = l->maxstanzas = -1;
    l->since = 0;
    if (!h)
        return;
    l->maxchars = muc__attr_long(h, "maxchars");
    l->maxstanzas = muc__attr_long(h, "maxstanzas");
    seconds = muc__attr_long(h, "seconds");
    if (seconds >= 0)
        l->since = clock_now() - seconds;
    since = xmpp_stanza_get_attribute(h, "since");
    if (since && delay_parse(since, &t) == 0 && t > l->since)
        l->since = t;
}

/* policy->history callback: build the message for the joiner. */
static void muc__hist_item(const struct muc_history_item *item, void *fn_ud)
{
    struct muc__hist *h = fn_ud;
    char from[MUC__JID_MAX];
    xmpp_stanza_t *msg;

    if (!item || !item->body)
        return;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 16;
        xmpp_stanza_t **grown = realloc(h->items, cap * sizeof *grown);
        if (!grown)
            return;
        h->items = grown;
        h->cap = cap;
    }
    if (item->nick)
        muc__occ_jid(h->m, h->room, item->nick, from, sizeof from);
    else
        snprintf(from, sizeof from, "%s", h->room_jid);
    msg = muc__groupchat_new(h->m, from, item->stanza_id);
    if (!msg)
        return;
    xmpp_stanza_set_to(msg, h->to);
    stanza_add_text_child(msg, "body", NULL, item->body);
    delay_add(msg, h->room_jid, item->when);
    if (item->stanza_id && *item->stanza_id)
        stanza_id_add(msg, h->room_jid, item->stanza_id);
    h->items[h->n++] = msg;
}

/* Index of the first item to send so that the tail fits the limits. */
static size_t muc__hist_start(struct muc__hist *h,
                              const struct muc__hist_limits *l)
{
    size_t start = h->n;
    long chars = 0;

    while (start > 0) {
        if (l->maxstanzas >= 0 && (long)(h->n - start) >= l->maxstanzas)
            break;
        if (l->maxchars >= 0) {
            char *text = NULL;
            size_t len = 0;
            xmpp_stanza_to_text(h->items[start - 1], &text, &len);
            if (text)
                xmpp_free(h->m->app->ctx, text);
            if (chars + (long)len > l->maxchars)
                break;
            chars += (long)len;
        }
        start--;
    }
    return start;
}

static void muc__send_history(struct muc *m, const struct muc__req *rq)
{
    struct muc__hist h = {
        .m = m, .room = rq->room, .room_jid = rq->room_jid, .to = rq->from};
    struct muc__hist_limits l;

    if (!m->policy.history)
        return;
    muc__hist_limits(rq->st, &l);
    if (l.maxchars == 0 || l.maxstanzas == 0)
        return;
    m->policy.history(m->app, rq->room, l.since, muc__hist_item, &h, m->ud);
    for (size_t i = muc__hist_start(&h, &l); i < h.n; i++)
        app_send(m->app, h.items[i]);
    for (size_t i = 0; i < h.n; i++)
        xmpp_stanza_release(h.items[i]);
    free(h.items);
}

/* The subject message from the bare room JID; to may be NULL. */
static xmpp_stanza_t *muc__subject_msg(struct muc *m, const char *room_jid,
                                       const char *subject, time_t when)
{
    char id[64];
    xmpp_stanza_t *msg;

    muc__uuid(m, id, sizeof id);
    msg = muc__groupchat_new(m, room_jid, *id ? id : NULL);
    if (!msg)
        return NULL;
    stanza_add_text_child(msg, "subject", NULL, subject ? subject : "");
    if (when)
        delay_add(msg, room_jid, when);
    return msg;
}

static void muc__send_subject(struct muc *m, const struct muc__req *rq,
                              const struct muc_room_info *info)
{
    xmpp_stanza_t *msg =
        muc__subject_msg(m, rq->room_jid, info->subject, info->subject_when);

    if (!msg)
        return;
    xmpp_stanza_set_to(msg, rq->from);
    app_send(m->app, msg);
    xmpp_stanza_release(msg);
}

/* ---- entering ------------------------------------------------------- */

/* What the joiner gets, in XEP-0045 order: the others' presence, the
 * broadcast of its own (first resource only), self-presence, history,
 * subject. */
static void muc__join_sequence(struct muc *m, const struct muc__req *rq,
                               const struct muc_room_info *info,
                               struct muc__room *r, struct muc__occ *o,
                               const int *self_codes, int broadcast)
{
    char from[MUC__JID_MAX];
    struct muc__pres p;

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

/* ---- leaving and presence updates ----------------------------------- */

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

/* Remove the resource rq->from (if it is in the room). */
static void muc__remove_req(struct muc *m, const struct muc__req *rq,
                            const struct muc__leave *lv)
{
    struct muc__room *r = muc__room_find(m, rq->room);
    int idx = -1;
    struct muc__occ *o = muc__occ_by_full(r, rq->from, &idx);

    if (o)
        muc__remove(m, r, o, (size_t)idx, lv);
}

/* An error bounced by an occupant's resource: drop it when the condition
 * says the resource is unreachable (XEP-0045 "ghost users"). */
static void muc__ghost(struct muc *m, const struct muc__req *rq)
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

/* Available presence to room/nick. */
static void muc__available(struct muc *m, const struct muc__req *rq,
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

static enum dispatch_result muc__on_presence(struct app *app, xmpp_stanza_t *st,
                                             void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc_room_info info;
    int join;

    (void)app;
    if (muc__parse(m, st, &rq))
        return DISPATCH_PASS;
    muc_flush(m); /* occupants change: what was held goes to the old ones */
    join = !rq.type && xmpp_stanza_get_child_by_name_and_ns(st, "x", NS_MUC);
    if (!muc__known(m, rq.room, &info)) {
        if (!join)
            return DISPATCH_PASS;
        muc__error(m, &rq, "cancel", "item-not-found",
                   "There is no such room on this service.", 1);
        return DISPATCH_HANDLED;
    }
    if (rq.type && !strcmp(rq.type, "error")) {
        muc__ghost(m, &rq);
    } else if (rq.type && !strcmp(rq.type, "unavailable")) {
        struct muc__leave lv = {.reason = MUC_LEAVE_SELF, .payload = st};
        muc__remove_req(m, &rq, &lv);
    } else if (!rq.type && !rq.has_nick) {
        if (join)
            muc__error(m, &rq, "modify", "jid-malformed",
                       "Join as room@service/nickname.", 1);
    } else if (!rq.type) {
        muc__available(m, &rq, &info, join);
    }
    return DISPATCH_HANDLED;
}

/* ---- messages ------------------------------------------------------- */

/* 1 for what only the room may say about a message: a XEP-0203 (or legacy
 * jabber:x:delay) delay, and muc#user elements (items, status codes). */
static int muc__is_room_claim(xmpp_stanza_t *c, void *ud)
{
    const char *name = xmpp_stanza_get_name(c);
    const char *ns = xmpp_stanza_get_ns(c);

    (void)ud;
    if (!xmpp_stanza_is_tag(c) || !name || !ns)
        return 0;
    return (!strcmp(name, "delay") && !strcmp(ns, NS_DELAY)) ||
           (!strcmp(name, "x") &&
            (!strcmp(ns, "jabber:x:delay") || !strcmp(ns, NS_MUC_USER)));
}

/* ---- group commit --------------------------------------------------- */

static int muc__enqueue(struct muc *m, const char *room, xmpp_stanza_t *out,
                        xmpp_stanza_t *orig)
{
    struct muc__queued *q;

    if (m->n_queue == m->cap_queue) {
        size_t cap = m->cap_queue ? m->cap_queue * 2 : 64;
        q = realloc(m->queue, cap * sizeof *q);
        if (!q)
            return -1;
        m->queue = q;
        m->cap_queue = cap;
    }
    q = &m->queue[m->n_queue];
    if (!(q->room = strdup(room)))
        return -1;
    q->out = xmpp_stanza_clone(out);
    q->orig = orig ? xmpp_stanza_clone(orig) : NULL;
    m->n_queue++;
    return 0;
}

/* The commit failed: tell the sender of a held message to send it again. */
static void muc__held_failed(struct muc *m, xmpp_stanza_t *orig,
                             const struct muc_err *err)
{
    struct muc__req rq;

    if (muc__parse(m, orig, &rq) != 0)
        return;
    muc__refuse(m, &rq, err, "wait", "internal-server-error",
                "The message could not be saved; send it again.", 0);
}

/* 1 when the queue holds a stored message waiting for the commit. */
static int muc__queue_holds(const struct muc *m)
{
    for (size_t i = 0; i < m->n_queue; i++)
        if (m->queue[i].orig)
            return 1;
    return 0;
}

/* muc_flush(): commit, then send the queue or refuse its held messages.
 * held: a held message outside the queue also waits for this commit.
 * Returns the commit's result (0 or -1, with *err) and the number of
 * queued messages made durable in *durable. */
static int muc__flush(struct muc *m, int held, struct muc_err *err,
                      size_t *durable)
{
    struct muc__queued *q = m->queue;
    size_t n = m->n_queue;
    int rc = 0;

    memset(err, 0, sizeof *err);
    *durable = 0;
    /* always asked: it closes a transaction store() opened for a message
     * that was then refused */
    if (m->policy.commit)
        rc = m->policy.commit(m->app, err, m->ud);
    else if (held || muc__queue_holds(m)) /* nothing to make it durable */
        rc = -1;
    m->queue = NULL; /* sending may not re-enter, but stay safe */
    m->n_queue = m->cap_queue = 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i].orig && rc != 0)
            muc__held_failed(m, q[i].orig, err);
        else
            muc__msg_to_room(m, q[i].room, q[i].out);
        *durable += q[i].orig && rc == 0;
        xmpp_stanza_release(q[i].out);
        if (q[i].orig)
            xmpp_stanza_release(q[i].orig);
        free(q[i].room);
    }
    free(q);
    return rc;
}

/* Send out to the room now, or queue it behind what waits for the commit.
 * orig: out reflects a held message (orig is what its sender sent). */
static void muc__deliver(struct muc *m, const char *room, xmpp_stanza_t *out,
                         xmpp_stanza_t *orig)
{
    struct muc_err err;
    size_t durable;

    if (orig || m->n_queue) {
        if (muc__enqueue(m, room, out, orig) == 0)
            return;
        /* no memory to wait: make it durable before it is seen */
        if (muc__flush(m, orig != NULL, &err, &durable) != 0 && orig) {
            muc__held_failed(m, orig, &err);
            return;
        }
    }
    muc__msg_to_room(m, room, out);
}

size_t muc_flush(struct muc *muc)
{
    struct muc_err err;
    size_t durable;

    if (!muc || (!muc->n_queue && !muc->policy.commit))
        return 0;
    muc__flush(muc, 0, &err, &durable);
    return durable;
}

int muc_holding(const struct muc *muc)
{
    return muc && muc->n_queue;
}

/* Reflect msg from room/nick to every resource with the stored stanza-id
 * (stored NULL: not stored, no stanza-id). Removes any stanza-id the
 * client claimed in the room's name, and its delays and muc#user items. */
static void muc__reflect(struct muc *m, const char *room, const char *nick,
                         xmpp_stanza_t *st, const struct muc_stored *stored)
{
    char room_jid[MUC__JID_MAX], from[MUC__JID_MAX];
    xmpp_stanza_t *copy;

    muc__room_jid(m, room, room_jid, sizeof room_jid);
    muc__occ_jid(m, room, nick, from, sizeof from);
    copy = stanza_id_copy_filtered(st, room_jid, muc__is_room_claim, NULL);
    if (!copy)
        return;
    xmpp_stanza_set_from(copy, from);
    xmpp_stanza_set_type(copy, "groupchat");
    /* The server parses this once per occupant: leave out the stream's own
     * namespace (implied) and the "lang" that libstrophe's parser makes of
     * xml:lang (it is not xml:lang any more; sending it back says nothing
     * a client can read). */
    xmpp_stanza_del_attribute(copy, "xmlns");
    xmpp_stanza_del_attribute(copy, "lang");
    if (stored)
        stanza_id_add(copy, room_jid, stored->id);
    muc__deliver(m, room, copy, stored && stored->held ? st : NULL);
    xmpp_stanza_release(copy);
}

/* Store msg through the policy; refuse on failure. 0 when stored. */
static int muc__store(struct muc *m, const struct muc_msg *msg,
                      struct muc_stored *out, struct muc_err *err)
{
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    if (m->policy.store(m->app, msg, out, err, m->ud) != 0 || !out->id[0]) {
        if (!err->condition[0])
            muc_err_set(err, "wait", "internal-server-error",
                        "The message could not be saved; send it again.");
        return -1;
    }
    out->id[sizeof out->id - 1] = '\0';
    if (!out->when)
        out->when = clock_now();
    return 0;
}

/* 1 when st is a subject change: a <subject/> without body or thread. */
static int muc__is_subject_change(xmpp_stanza_t *st)
{
    return xmpp_stanza_get_child_by_name(st, "subject") &&
           !xmpp_stanza_get_child_by_name(st, "body") &&
           !xmpp_stanza_get_child_by_name(st, "thread");
}

static void muc__groupchat(struct muc *m, const struct muc__req *rq)
{
    struct muc__occ *o =
        muc__occ_by_full(muc__room_find(m, rq->room), rq->from, NULL);
    char nick[MUC__NICK_BUF];
    char *body;
    struct muc_msg msg;
    struct muc_stored stored;
    struct muc_err err;

    if (!o) {
        muc__error(m, rq, "cancel", "not-acceptable",
                   "You are not in this room; join it first.", 0);
        return;
    }
    if (muc__is_subject_change(rq->st)) {
        muc__error(m, rq, "auth", "forbidden",
                   "The subject of this room cannot be changed.", 0);
        return;
    }
    body = stanza_child_text(rq->st, "body", NULL);
    if (o->role < MUC_ROLE_PARTICIPANT) {
        if (body && *body)
            muc__error(m, rq, "auth", "forbidden",
                       "You have no voice in this room: the chat has ended", 0);
    } else if (!body || !*body) {
        muc__reflect(m, rq->room, o->nick, rq->st, NULL);
    } else {
        snprintf(nick, sizeof nick, "%s", o->nick);
        msg = (struct muc_msg){.room = rq->room,
                               .from_bare = rq->bare,
                               .from_full = rq->from,
                               .nick = nick,
                               .body = body,
                               .id = xmpp_stanza_get_id(rq->st)};
        if (muc__store(m, &msg, &stored, &err))
            muc__error(m, rq, err.type, err.condition, err.text, 0);
        else
            muc__reflect(m, rq->room, nick, rq->st, &stored);
    }
    if (body)
        xmpp_free(m->app->ctx, body);
}

/* Build and send a mediated invitation. */
static void muc__send_invite(struct muc *m, const char *room_jid,
                             const char *from_jid, const char *to_jid,
                             const char *reason)
{
    char id[64];
    xmpp_stanza_t *msg, *x, *inv;

    muc__uuid(m, id, sizeof id);
    msg = xmpp_message_new(m->app->ctx, NULL, to_jid, *id ? id : NULL);
    if (!msg)
        return;
    xmpp_stanza_set_from(msg, room_jid);
    x = stanza_add_child_ns(msg, "x", NS_MUC_USER);
    inv = stanza_add_child_ns(x, "invite", NULL);
    if (from_jid)
        xmpp_stanza_set_attribute(inv, "from", from_jid);
    if (reason && *reason)
        stanza_add_text_child(inv, "reason", NULL, reason);
    app_send(m->app, msg);
    xmpp_stanza_release(msg);
}

/* An occupant asks the room to invite someone. */
static void muc__client_invite(struct muc *m, const struct muc__req *rq,
                               xmpp_stanza_t *inv)
{
    const char *to = xmpp_stanza_get_attribute(inv, "to");
    char *reason;
    struct muc_err err;

    memset(&err, 0, sizeof err);
    if (!muc__occ_by_full(muc__room_find(m, rq->room), rq->from, NULL)) {
        muc__error(m, rq, "cancel", "not-acceptable",
                   "You are not in this room; join it first.", 0);
        return;
    }
    if (!to || !*to) {
        muc__error(m, rq, "modify", "bad-request",
                   "The invitation has no 'to' address.", 0);
        return;
    }
    if (!m->policy.invite ||
        m->policy.invite(m->app, rq->room, rq->bare, to, &err, m->ud) != 0) {
        muc__refuse(m, rq, &err, "auth", "forbidden",
                    "Only the helpdesk invites people to this room.", 0);
        return;
    }
    reason = stanza_child_text(inv, "reason", NULL);
    muc__send_invite(m, rq->room_jid, rq->bare, to, reason);
    if (reason)
        xmpp_free(m->app->ctx, reason);
}

/* A message to the bare room JID that is not groupchat. */
static void muc__direct(struct muc *m, const struct muc__req *rq)
{
    xmpp_stanza_t *x =
        xmpp_stanza_get_child_by_name_and_ns(rq->st, "x", NS_MUC_USER);
    xmpp_stanza_t *inv = x ? xmpp_stanza_get_child_by_name(x, "invite") : NULL;

    if (inv)
        muc__client_invite(m, rq, inv);
    else if ((x && xmpp_stanza_get_child_by_name(x, "decline")) ||
             (rq->type && !strcmp(rq->type, "headline")))
        return; /* declines and headlines are dropped */
    else
        muc__error(m, rq, "modify", "bad-request",
                   "Send messages to the room as type 'groupchat'.", 0);
}

static enum dispatch_result muc__on_message(struct app *app, xmpp_stanza_t *st,
                                            void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;

    (void)app;
    if (muc__parse(m, st, &rq) || !muc__known(m, rq.room, NULL))
        return DISPATCH_PASS;
    if (rq.has_nick || !rq.type || strcmp(rq.type, "groupchat"))
        muc_flush(m); /* only groupchat messages may pass a held batch */
    if (rq.type && !strcmp(rq.type, "error"))
        muc__ghost(m, &rq);
    else if (rq.has_nick && rq.type && !strcmp(rq.type, "groupchat"))
        muc__error(m, &rq, "modify", "bad-request",
                   "Send groupchat messages to the room, not to an occupant.",
                   0);
    else if (rq.has_nick)
        muc__error(m, &rq, "cancel", "not-acceptable",
                   "Private messages are not available in this room; write "
                   "to the room instead.",
                   0);
    else if (rq.type && !strcmp(rq.type, "groupchat"))
        muc__groupchat(m, &rq);
    else
        muc__direct(m, &rq);
    return DISPATCH_HANDLED;
}

/* ---- disco and self-ping -------------------------------------------- */

static void muc__add_feature(xmpp_stanza_t *q, const char *var)
{
    xmpp_stanza_set_attribute(stanza_add_child_ns(q, "feature", NULL), "var",
                              var);
}

static void muc__add_identity(xmpp_stanza_t *q, const char *name)
{
    xmpp_stanza_t *id = stanza_add_child_ns(q, "identity", NULL);

    xmpp_stanza_set_attribute(id, "category", "conference");
    xmpp_stanza_set_attribute(id, "type", "text");
    if (name && *name)
        xmpp_stanza_set_attribute(id, "name", name);
}

/* The muc#roominfo form (XEP-0128) of a room. */
static void muc__add_roominfo(struct muc *m, xmpp_stanza_t *q, const char *room,
                              const struct muc_room_info *info)
{
    struct form *f = form_new(FORM_RESULT, NS_MUC_ROOMINFO);
    char count[32];
    xmpp_stanza_t *x;

    if (!f)
        return;
    snprintf(count, sizeof count, "%zu", muc_occupants(m, room, NULL, NULL));
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_description",
                         "Description", info->description, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_subject",
                         "Current Discussion Topic", info->subject, 0);
    form_add_value_field(f, FIELD_TEXT_SINGLE, "muc#roominfo_occupants",
                         "Number of occupants", count, 0);
    x = form_to_stanza(f, m->app->ctx);
    if (x)
        xmpp_stanza_add_child_ex(q, x, 0);
    form_free(f);
}

static void muc__room_info(struct muc *m, const struct muc__req *rq,
                           xmpp_stanza_t *q, const struct muc_room_info *info)
{
    static const char *const features[] = {NS_DISCO_INFO,
                                           NS_MUC,
                                           NS_MUC "#stable_id",
                                           NS_MUC_SELF_PING,
                                           "muc_hidden",
                                           "muc_membersonly",
                                           "muc_moderated",
                                           "muc_nonanonymous",
                                           "muc_persistent",
                                           "muc_unsecured",
                                           NS_SID};

    muc__add_identity(q, info->name);
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++)
        muc__add_feature(q, features[i]);
    if (m->policy.mam)
        muc__add_feature(q, NS_MAM);
    muc__add_roominfo(m, q, rq->room, info);
}

/* XEP-0045 reserved nick: the occupant's nick, or the one the policy
 * forces; an empty query when there is none. */
static void muc__reserved_nick(struct muc *m, const struct muc__req *rq,
                               xmpp_stanza_t *q)
{
    struct muc__occ *o =
        muc__occ_by_bare(muc__room_find(m, rq->room), rq->bare);
    struct muc_admit adm;
    struct muc_err err;

    if (o) {
        muc__add_identity(q, o->nick);
        return;
    }
    memset(&adm, 0, sizeof adm);
    memset(&err, 0, sizeof err);
    if (m->policy.admit(m->app, rq->room, rq->bare, &adm, &err, m->ud) == 0 &&
        adm.nick[0]) {
        adm.nick[sizeof adm.nick - 1] = '\0';
        muc__add_identity(q, adm.nick);
    }
}

/* disco#info / disco#items to a room (room@domain, no nick). */
static void muc__disco_room(struct muc *m, const struct muc__req *rq,
                            xmpp_stanza_t *payload,
                            const struct muc_room_info *info)
{
    const char *ns = xmpp_stanza_get_ns(payload);
    const char *node = xmpp_stanza_get_attribute(payload, "node");
    int items = ns && !strcmp(ns, NS_DISCO_ITEMS);
    int reserved = !items && node && !strcmp(node, "x-roomuser-item");
    xmpp_stanza_t *res, *q;

    if (node && *node && !reserved) {
        muc__error(m, rq, "cancel", "item-not-found",
                   "This room has no such node.", 0);
        return;
    }
    res = stanza_iq_result(m->app->ctx, rq->st);
    q = stanza_add_child_ns(res, "query",
                            items ? NS_DISCO_ITEMS : NS_DISCO_INFO);
    if (node)
        xmpp_stanza_set_attribute(q, "node", node);
    if (reserved)
        muc__reserved_nick(m, rq, q);
    else if (!items)
        muc__room_info(m, rq, q, info);
    app_send(m->app, res);
    xmpp_stanza_release(res);
}

/* The disco entity provider: rooms and occupants of known rooms. */
static int muc__disco(struct app *app, xmpp_stanza_t *iq,
                      xmpp_stanza_t *payload, void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc_room_info info;

    (void)app;
    if (muc__parse(m, iq, &rq) || !muc__known(m, rq.room, &info))
        return 0;
    if (!rq.has_nick)
        muc__disco_room(m, &rq, payload, &info);
    else if (!muc__occ_by_full(muc__room_find(m, rq.room), rq.from, NULL))
        muc__error(m, &rq, "modify", "bad-request",
                   "Only occupants may query an occupant of this room.", 0);
    else
        muc__error(m, &rq, "cancel", "service-unavailable",
                   "This room does not relay queries; ask the occupant's own "
                   "JID.",
                   0);
    return 1;
}

/* urn:xmpp:ping: the component itself (XEP-0199), a room, or a XEP-0410
 * self-ping to an occupant JID. */
static void muc__ping(struct app *app, xmpp_stanza_t *iq,
                      xmpp_stanza_t *payload, void *ud)
{
    struct muc *m = ud;
    struct muc__req rq;
    struct muc__occ *o;

    (void)payload;
    if (muc__parse(m, iq, &rq)) {
        send_iq_result(app, iq);
        return;
    }
    if (!muc__known(m, rq.room, NULL)) {
        muc__error(m, &rq, "cancel", "item-not-found",
                   "There is no such room on this service.", 0);
        return;
    }
    o = muc__occ_by_full(muc__room_find(m, rq.room), rq.from, NULL);
    if (!rq.has_nick || (o && !strcmp(o->nick, rq.nick)))
        send_iq_result(app, iq);
    else if (!o)
        muc__error(m, &rq, "cancel", "not-acceptable",
                   "You are not in this room.", 0);
    else if (!muc__occ_by_nick(muc__room_find(m, rq.room), rq.nick))
        muc__error(m, &rq, "cancel", "item-not-found",
                   "There is no occupant with that nickname.", 0);
    else
        muc__error(m, &rq, "cancel", "service-unavailable",
                   "This room does not relay pings to other occupants.", 0);
}

/* ---- the app's API -------------------------------------------------- */

/* Lowercase name into buf; 0, or -1 when it does not fit. */
static int muc__key(char *buf, size_t len, const char *name)
{
    return name ? muc__norm(buf, len, name, strlen(name)) : -1;
}

int muc_send_notice(struct muc *muc, const char *room, const char *body,
                    struct muc_err *err)
{
    char key[MUC__ROOM_MAX], room_jid[MUC__JID_MAX];
    struct muc_err tmp;
    struct muc_err *e = err ? err : &tmp;
    struct muc_stored stored;
    struct muc_msg msg;
    xmpp_stanza_t *st;

    if (!muc || !body || muc__key(key, sizeof key, room) ||
        !muc__known(muc, key, NULL)) {
        muc_err_set(err, "cancel", "item-not-found", "There is no such room.");
        return -1;
    }
    muc_flush(muc); /* a notice comes after the messages before it */
    msg = (struct muc_msg){.room = key, .body = body};
    if (muc__store(muc, &msg, &stored, e))
        return -1;
    if (stored.held && (!muc->policy.commit ||
                        muc->policy.commit(muc->app, e, muc->ud) != 0)) {
        if (!e->condition[0])
            muc_err_set(e, "wait", "internal-server-error",
                        "The notice could not be saved.");
        return -1; /* a notice is never held: commit it at once */
    }
    muc__room_jid(muc, key, room_jid, sizeof room_jid);
    st = muc__groupchat_new(muc, room_jid, stored.id);
    if (!st)
        return 0; /* stored: it reaches everyone through the history */
    stanza_add_text_child(st, "body", NULL, body);
    stanza_id_add(st, room_jid, stored.id);
    muc__msg_to_room(muc, key, st);
    xmpp_stanza_release(st);
    return 0;
}

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

int muc_invite(struct muc *muc, const char *room, const char *from_jid,
               const char *to_jid, const char *reason)
{
    char key[MUC__ROOM_MAX], room_jid[MUC__JID_MAX];

    if (!muc || !to_jid || muc__key(key, sizeof key, room) ||
        !muc__known(muc, key, NULL))
        return -1;
    muc__room_jid(muc, key, room_jid, sizeof room_jid);
    muc__send_invite(muc, room_jid, from_jid, to_jid, reason);
    return 0;
}

int muc_set_subject(struct muc *muc, const char *room, const char *subject)
{
    char key[MUC__ROOM_MAX], room_jid[MUC__JID_MAX];
    xmpp_stanza_t *st;

    if (!muc || muc__key(key, sizeof key, room) || !muc__known(muc, key, NULL))
        return -1;
    muc_flush(muc); /* after the messages before it */
    muc__room_jid(muc, key, room_jid, sizeof room_jid);
    st = muc__subject_msg(muc, room_jid, subject, 0);
    if (!st)
        return -1;
    muc__msg_to_room(muc, key, st);
    xmpp_stanza_release(st);
    return 0;
}

int muc_nick_valid(const char *nick)
{
    return nick && muc__nick_ok(nick);
}

enum muc_role muc_role_of(struct muc *muc, const char *room,
                          const char *bare_jid)
{
    char key[MUC__ROOM_MAX], bare[MUC__JID_MAX];
    struct muc__occ *o;

    if (!muc || muc__key(key, sizeof key, room) ||
        muc__key(bare, sizeof bare, bare_jid))
        return MUC_ROLE_NONE;
    o = muc__occ_by_bare(muc__room_find(muc, key), bare);
    return o ? o->role : MUC_ROLE_NONE;
}

size_t muc_occupants(struct muc *muc, const char *room, muc_occupant_fn fn,
                     void *fn_ud)
{
    char key[MUC__ROOM_MAX];
    struct muc__room *r;

    if (!muc || muc__key(key, sizeof key, room) ||
        !(r = muc__room_find(muc, key)))
        return 0;
    for (size_t i = 0; fn && i < r->n_occ; i++) {
        struct muc_occupant_info info = {.nick = r->occ[i]->nick,
                                         .bare_jid = r->occ[i]->bare,
                                         .role = r->occ[i]->role,
                                         .affiliation = r->occ[i]->aff,
                                         .n_resources = r->occ[i]->n_res};
        fn(&info, fn_ud);
    }
    return r->n_occ;
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

/* ---- lifecycle ------------------------------------------------------ */

struct muc *xep0045_new(struct app *app, const struct muc_policy *policy,
                        void *ud)
{
    struct muc *m;

    if (!app || !policy || !policy->room || !policy->admit || !policy->store)
        return NULL;
    if (!(m = calloc(1, sizeof *m)))
        return NULL;
    m->app = app;
    m->policy = *policy;
    m->ud = ud;
    if (disco_add_identity(app->disco, "conference", "text",
                           "chatdesk rooms") ||
        disco_add_feature(app->disco, NS_MUC) ||
        dispatch_add(app->dispatch, "presence", muc__on_presence, m) ||
        dispatch_add(app->dispatch, "message", muc__on_message, m) ||
        dispatch_add_iq(app->dispatch, "get", "ping", NS_PING, muc__ping, m)) {
        free(m);
        return NULL;
    }
    disco_set_entity_info(app->disco, muc__disco, m);
    return m;
}

void xep0045_free(struct muc *muc)
{
    if (!muc)
        return;
    for (size_t i = 0; i < muc->n_queue; i++) {
        xmpp_stanza_release(muc->queue[i].out);
        if (muc->queue[i].orig)
            xmpp_stanza_release(muc->queue[i].orig);
        free(muc->queue[i].room);
    }
    free(muc->queue);
    for (size_t i = 0; i < muc->n_rooms; i++)
        muc__room_free(muc->rooms[i]);
    free(muc->rooms);
    free(muc->buckets);
    free(muc);
}
