/* presence_share.c - see presence_share.h */
#include "domain/presence_share.h"

#include "domain/directory.h"
#include "runtime/db.h"
#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSHARE_PRUNE_SECONDS 600

enum pshare__stmt {
    P_NEXT,
    P_PUT,
    P_DROP_OWN,
    P_READ,
    P_ALIVE,
    P_JOIN,
    P_REVIVE,
    P_STALE,
    P_GONE,
    P_PRUNE,
    P_COUNT
};

static const char *const pshare__sql[P_COUNT] = {
    [P_NEXT] = "UPDATE presence_seq SET seq = seq + 1 WHERE id = 1 "
               "RETURNING seq",
    [P_PUT] = "INSERT INTO presence_shared (jid, resource, source, available,"
              " show, is_tech, seq, changed) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
              " ?7, ?8) ON CONFLICT (jid, resource, source) DO UPDATE SET"
              " available = excluded.available, show = excluded.show,"
              " is_tech = excluded.is_tech, seq = excluded.seq,"
              " changed = excluded.changed",
    [P_DROP_OWN] = "UPDATE presence_shared SET available = 0, seq = ?1,"
                   " changed = ?2 WHERE source = ?3 AND available = 1",
    /* a row counts while its source is alive (not declared gone) */
    [P_READ] = "SELECT p.jid, p.resource, p.source, CASE WHEN p.available = 1"
               " AND s.source IS NOT NULL THEN 1 ELSE 0 END, p.show,"
               " p.is_tech, p.seq FROM presence_shared p LEFT JOIN"
               " presence_sources s ON s.source = p.source"
               " WHERE p.seq > ?1 AND p.source <> ?2 ORDER BY p.seq",
    [P_ALIVE] = "UPDATE presence_sources SET alive = ?1 WHERE source = ?2",
    [P_JOIN] = "INSERT INTO presence_sources (source, alive) VALUES (?2, ?1)"
               " ON CONFLICT (source) DO UPDATE SET alive = excluded.alive",
    [P_REVIVE] = "UPDATE presence_shared SET seq = ?1, changed = ?2"
                 " WHERE source = ?3 AND available = 1",
    [P_STALE] = "UPDATE presence_shared SET seq = ?1, changed = ?2"
                " WHERE source IN (SELECT source FROM presence_sources"
                " WHERE alive < ?3)",
    [P_GONE] = "DELETE FROM presence_sources WHERE alive < ?1",
    [P_PRUNE] = "DELETE FROM presence_shared WHERE changed < ?1 AND"
                " (available = 0 OR source NOT IN (SELECT source FROM"
                " presence_sources))",
};

struct pshare {
    struct store *store;
    struct db *db;
    struct db_stmt *stmt[P_COUNT];
    char source[PSHARE_SOURCE_MAX];
    int64_t last;     /* the highest sequence merged */
    time_t next_beat; /* pshare_beat() does its work then */
    char err[300];
};

static int pshare__fail(struct pshare *ps, struct db_stmt *st)
{
    snprintf(ps->err, sizeof ps->err, "%s", db_errmsg(ps->db));
    if (st) {
        db_reset(st);
        db_clear_bindings(st);
    }
    return -1;
}

/* Run st to its end (a write). 0 or -1. */
static int pshare__run(struct pshare *ps, struct db_stmt *st)
{
    int rc = db_step(st);
    if (rc != DB_DONE)
        return pshare__fail(ps, st);
    db_reset(st);
    db_clear_bindings(st);
    return 0;
}

/* In a transaction: the next change sequence (locks presence_seq's row
 * until the commit, so changes commit in sequence order). */
static int pshare__next(struct pshare *ps, int64_t *seq)
{
    struct db_stmt *st = ps->stmt[P_NEXT];
    if (db_step(st) != DB_ROW)
        return pshare__fail(ps, st);
    *seq = db_column_int64(st, 0);
    db_reset(st);
    return 0;
}

static int pshare__begin(struct pshare *ps, int64_t *seq)
{
    if (store_begin(ps->store) != 0)
        return pshare__fail(ps, NULL);
    if (pshare__next(ps, seq) != 0) {
        store_rollback(ps->store);
        return -1;
    }
    return 0;
}

static int pshare__end(struct pshare *ps, int rc)
{
    if (rc == 0 && store_commit(ps->store) == 0)
        return 0;
    if (rc == 0)
        pshare__fail(ps, NULL);
    store_rollback(ps->store);
    return -1;
}

static int pshare__join(struct pshare *ps, time_t now)
{
    struct db_stmt *st = ps->stmt[P_JOIN];
    db_bind_int64(st, 1, (int64_t)now);
    db_bind_text(st, 2, ps->source, -1, DB_STATIC);
    return pshare__run(ps, st);
}

struct pshare *pshare_open(struct store *st, const char *source, char *err,
                           size_t errlen)
{
    struct pshare *ps = calloc(1, sizeof *ps);
    if (!ps || !source || !*source ||
        strlen(source) >= sizeof ps->source || strchr(source, '/')) {
        snprintf(err, errlen, "presence_share: %s",
                 ps ? "a bad source name" : "out of memory");
        free(ps);
        return NULL;
    }
    ps->store = st;
    ps->db = store_db(st);
    snprintf(ps->source, sizeof ps->source, "%s", source);
    if (store_prepare_all(ps->db, pshare__sql, ps->stmt, P_COUNT,
                          "presence_share", err, errlen) != 0) {
        pshare_close(ps);
        return NULL;
    }
    return ps;
}

void pshare_close(struct pshare *ps)
{
    if (!ps)
        return;
    store_finalize_all(ps->stmt, P_COUNT);
    free(ps);
}

const char *pshare_error(const struct pshare *ps)
{
    return ps->err;
}

int pshare_put(struct pshare *ps, const char *full_jid, bool available,
               enum presence_show show, bool is_tech, time_t now)
{
    char bare[DIR_JID_MAX];
    if (!full_jid || directory_jid_bare(full_jid, bare, sizeof bare) != 0) {
        snprintf(ps->err, sizeof ps->err, "a malformed JID");
        return -1;
    }
    const char *slash = strchr(full_jid, '/');
    int64_t seq;
    if (ps->next_beat == 0 && pshare_beat(ps, now, PSHARE_STALE_SECONDS))
        return -1; /* the first write: the source must exist first */
    if (pshare__begin(ps, &seq) != 0)
        return -1;
    struct db_stmt *st = ps->stmt[P_PUT];
    db_bind_text(st, 1, bare, -1, DB_STATIC);
    db_bind_text(st, 2, slash ? slash + 1 : "", -1, DB_STATIC);
    db_bind_text(st, 3, ps->source, -1, DB_STATIC);
    db_bind_int(st, 4, available ? 1 : 0);
    db_bind_int(st, 5, (int)show);
    db_bind_int(st, 6, is_tech ? 1 : 0);
    db_bind_int64(st, 7, seq);
    db_bind_int64(st, 8, (int64_t)now);
    return pshare__end(ps, pshare__run(ps, st));
}

/* seq and now into st's ?1 and ?2, the source into ?3. */
static int pshare__own(struct pshare *ps, struct db_stmt *st, time_t now)
{
    int64_t seq;
    if (pshare__begin(ps, &seq) != 0)
        return -1;
    db_bind_int64(st, 1, seq);
    db_bind_int64(st, 2, (int64_t)now);
    db_bind_text(st, 3, ps->source, -1, DB_STATIC);
    return pshare__end(ps, pshare__run(ps, st));
}

int pshare_drop_own(struct pshare *ps, time_t now)
{
    return pshare__own(ps, ps->stmt[P_DROP_OWN], now);
}

static void pshare__apply(struct pshare *ps, struct db_stmt *st,
                          struct presence_tracker *tr, pshare_change_fn cb,
                          void *ud)
{
    char key[DIR_JID_MAX + 1100 + PSHARE_SOURCE_MAX];
    const char *jid = (const char *)db_column_text(st, 0);
    const char *res = (const char *)db_column_text(st, 1);
    const char *src = (const char *)db_column_text(st, 2);
    int available = db_column_int(st, 3);
    int show = db_column_int(st, 4);
    bool is_tech = db_column_int(st, 5) != 0;
    struct presence_change ch;
    if (show < PRESENCE_SHOW_NONE || show > PRESENCE_SHOW_DND)
        show = PRESENCE_SHOW_NONE;
    snprintf(key, sizeof key, "%s/%s~%s", jid ? jid : "", res ? res : "",
             src ? src : "");
    if (presence_update(tr, key, available != 0, (enum presence_show)show,
                        is_tech, &ch) == 0 &&
        cb)
        cb(jid, is_tech, &ch, ud);
}

int pshare_merge(struct pshare *ps, struct presence_tracker *tr,
                 pshare_change_fn cb, void *ud)
{
    struct db_stmt *st = ps->stmt[P_READ];
    int rc, n = 0;
    db_bind_int64(st, 1, ps->last);
    db_bind_text(st, 2, ps->source, -1, DB_STATIC);
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t seq = db_column_int64(st, 6);
        pshare__apply(ps, st, tr, cb, ud);
        if (seq > ps->last)
            ps->last = seq;
        n++;
    }
    if (rc != DB_DONE)
        return pshare__fail(ps, st);
    db_reset(st);
    db_clear_bindings(st);
    return n;
}

void pshare_rewind(struct pshare *ps)
{
    ps->last = 0;
}

/* This source's beat; declared gone meanwhile: back, rows and all. */
static int pshare__alive(struct pshare *ps, time_t now)
{
    struct db_stmt *st = ps->stmt[P_ALIVE];
    db_bind_int64(st, 1, (int64_t)now);
    db_bind_text(st, 2, ps->source, -1, DB_STATIC);
    if (pshare__run(ps, st) != 0)
        return -1;
    if (db_changes(ps->db) > 0)
        return 0;
    if (pshare__join(ps, now) != 0)
        return -1;
    return pshare__own(ps, ps->stmt[P_REVIVE], now);
}

/* Sources silent since before cutoff: their rows change (readers drop
 * them), the sources go. One transaction. */
static int pshare__expire(struct pshare *ps, time_t now, time_t cutoff)
{
    int64_t seq;
    if (pshare__begin(ps, &seq) != 0)
        return -1;
    struct db_stmt *st = ps->stmt[P_STALE];
    db_bind_int64(st, 1, seq);
    db_bind_int64(st, 2, (int64_t)now);
    db_bind_int64(st, 3, (int64_t)cutoff);
    int rc = pshare__run(ps, st);
    if (rc == 0) {
        st = ps->stmt[P_GONE];
        db_bind_int64(st, 1, (int64_t)cutoff);
        rc = pshare__run(ps, st);
    }
    return pshare__end(ps, rc);
}

int pshare_beat(struct pshare *ps, time_t now, int stale_after)
{
    if (now < ps->next_beat)
        return 0;
    ps->next_beat = now + PSHARE_BEAT_SECONDS;
    if (pshare__alive(ps, now) != 0 ||
        pshare__expire(ps, now, now - stale_after) != 0)
        return -1;
    struct db_stmt *st = ps->stmt[P_PRUNE];
    db_bind_int64(st, 1, (int64_t)(now - PSHARE_PRUNE_SECONDS));
    return pshare__run(ps, st);
}
