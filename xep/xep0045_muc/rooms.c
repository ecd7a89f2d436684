/* rooms.c - the room table, addressing and error replies of the XEP-0045
 * engine. See muc_internal.h. */
#include "muc_internal.h"

#include "runtime/app.h"
#include "runtime/jid.h"
#include "runtime/stanza.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- names and small helpers -------------------------------------------- */

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

void muc__room_jid(struct muc *m, const char *room, char *buf, size_t len)
{
    snprintf(buf, len, "%s@%s", room, m->app->jid);
}

void muc__occ_jid(struct muc *m, const char *room, const char *nick, char *buf,
                  size_t len)
{
    snprintf(buf, len, "%s@%s/%s", room, m->app->jid, nick);
}

void muc__notice_jid(struct muc *m, const char *room, char *buf, size_t len)
{
    muc__occ_jid(m, room, m->policy.notice_nick, buf, len);
}

void muc__uuid(struct muc *m, char *buf, size_t len)
{
    char *u = xmpp_uuid_gen(m->app->ctx);

    snprintf(buf, len, "%s", u ? u : "");
    if (u)
        xmpp_free(m->app->ctx, u);
}

int muc__parse(struct muc *m, xmpp_stanza_t *st, struct muc__req *rq)
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
    if (jid_lower(to, (size_t)(at - to), rq->room, sizeof rq->room))
        return -1;
    flen = strcspn(from, "/");
    if (jid_lower(from, strlen(from), rq->from, sizeof rq->from) ||
        jid_lower(from, flen, rq->bare, sizeof rq->bare))
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

int muc__known(struct muc *m, const char *room, struct muc_room_info *info)
{
    struct muc_room_info tmp;
    struct muc_room_info *out = info ? info : &tmp;

    if (!info && muc__room_find(m, room))
        return 1;
    memset(out, 0, sizeof *out);
    return m->policy.room(m->app, room, out, m->ud) == 1;
}

int muc__key(char *buf, size_t len, const char *name)
{
    return name ? jid_lower(name, strlen(name), buf, len) : -1;
}

/* ---- rooms and occupants ------------------------------------------------ */

/* FNV-1a of a room name. */
static size_t muc__hash(const char *name)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)h;
}

struct muc__room *muc__room_find(struct muc *m, const char *name)
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

struct muc__room *muc__room_get(struct muc *m, const char *name)
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

void muc__room_free(struct muc__room *r)
{
    for (size_t i = 0; i < r->n_occ; i++)
        muc__occ_free(r->occ[i]);
    free(r->occ);
    free(r->name);
    free(r);
}

void muc__room_detach(struct muc *m, struct muc__room *r)
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

struct muc__occ *muc__occ_by_nick(struct muc__room *r, const char *nick)
{
    for (size_t i = 0; r && i < r->n_occ; i++)
        if (!strcmp(r->occ[i]->nick, nick))
            return r->occ[i];
    return NULL;
}

struct muc__occ *muc__occ_by_bare(struct muc__room *r, const char *bare)
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

struct muc__occ *muc__occ_by_full(struct muc__room *r, const char *full,
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

struct muc__occ *muc__occ_add(struct muc__room *r, const char *nick,
                              const char *bare, const struct muc_admit *adm)
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

int muc__res_add(struct muc__occ *o, const char *full)
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

void muc__occ_drop(struct muc *m, struct muc__room *r, struct muc__occ *o)
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

void muc__res_remove(struct muc *m, struct muc__room *r, struct muc__occ *o,
                     size_t idx)
{
    free(o->res[idx]);
    memmove(&o->res[idx], &o->res[idx + 1],
            (o->n_res - idx - 1) * sizeof *o->res);
    o->n_res--;
    if (o->n_res == 0)
        muc__occ_drop(m, r, o);
}

/* ---- error replies ------------------------------------------------------ */

void muc__error(struct muc *m, const struct muc__req *rq, const char *type,
                const char *condition, const char *text, int with_muc_x)
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

void muc__refuse(struct muc *m, const struct muc__req *rq,
                 const struct muc_err *err, const char *type,
                 const char *condition, const char *text, int with_muc_x)
{
    if (err->condition[0])
        muc__error(m, rq, err->type[0] ? err->type : "cancel", err->condition,
                   err->text, with_muc_x);
    else
        muc__error(m, rq, type, condition, text, with_muc_x);
}

/* ---- the app's API ------------------------------------------------------ */

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
