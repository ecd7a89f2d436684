/* presence_share.c - see presence_share.h */
#include "domain/presence_share.h"

#include "domain/directory.h"
#include "runtime/db.h"
#include "runtime/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PSHARE_PRUNE_EVERY 60 /* seconds between two prunes */
#define PSHARE__SRC 128       /* a source as stored, with its NUL */

enum pshare__stmt {
    P_NEXT,
    P_PUT,
    P_DROP_OWN,
    P_READ,
    P_PRUNE_OFF,
    P_SOURCES,
    P_PRUNE_SOURCE,
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
    /* whether a row's source is alive is the caller's (pshare_peers) */
    [P_READ] = "SELECT jid, resource, source, available, show, is_tech, seq"
               " FROM presence_shared WHERE seq > ?1 AND source <> ?2"
               " ORDER BY seq",
    [P_PRUNE_OFF] = "DELETE FROM presence_shared WHERE available = 0 AND"
                    " changed < ?1",
    [P_SOURCES] = "SELECT DISTINCT source FROM presence_shared WHERE"
                  " changed < ?1 AND source <> ?2",
    [P_PRUNE_SOURCE] = "DELETE FROM presence_shared WHERE source = ?1 AND"
                       " changed < ?2",
};

struct pshare {
    struct store *store;
    struct db *db;
    struct db_stmt *stmt[P_COUNT];
    char source[PSHARE__SRC];        /* this process's id, as stored */
    int64_t peers[PSHARE_PEERS_MAX]; /* the others alive (pshare_peers) */
    size_t n_peers;
    bool peers_known;  /* pshare_peers() was called */
    int64_t last;      /* the highest sequence merged */
    time_t next_prune; /* pshare_prune() does its work then */
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

struct pshare *pshare_open(struct store *st, int64_t source, char *err,
                           size_t errlen)
{
    struct pshare *ps = calloc(1, sizeof *ps);
    if (!ps || source <= 0) {
        snprintf(err, errlen, "presence_share: %s",
                 ps ? "a bad source id" : "out of memory");
        free(ps);
        return NULL;
    }
    ps->store = st;
    ps->db = store_db(st);
    snprintf(ps->source, sizeof ps->source, "%" PRId64, source);
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

int pshare_drop_own(struct pshare *ps, time_t now)
{
    struct db_stmt *st = ps->stmt[P_DROP_OWN];
    int64_t seq;
    if (pshare__begin(ps, &seq) != 0)
        return -1;
    db_bind_int64(st, 1, seq);
    db_bind_int64(st, 2, (int64_t)now);
    db_bind_text(st, 3, ps->source, -1, DB_STATIC);
    return pshare__end(ps, pshare__run(ps, st));
}

/* Whether the source text src names a process alive (pshare_peers). */
static bool pshare__alive(const struct pshare *ps, const char *src)
{
    char *end;
    if (!src || !*src)
        return false;
    long long id = strtoll(src, &end, 10);
    if (*end)
        return false; /* not an id (a row written before migration 18) */
    for (size_t i = 0; i < ps->n_peers; i++)
        if (ps->peers[i] == (int64_t)id)
            return true;
    return false;
}

static void pshare__apply(struct pshare *ps, struct db_stmt *st,
                          struct presence_tracker *tr, pshare_change_fn cb,
                          void *ud)
{
    char key[DIR_JID_MAX + 1100 + PSHARE__SRC];
    const char *jid = (const char *)db_column_text(st, 0);
    const char *res = (const char *)db_column_text(st, 1);
    const char *src = (const char *)db_column_text(st, 2);
    int available = db_column_int(st, 3) && pshare__alive(ps, src);
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

int pshare_peers(struct pshare *ps, const int64_t *ids, size_t n)
{
    if (n > PSHARE_PEERS_MAX)
        n = PSHARE_PEERS_MAX;
    bool same = ps->peers_known && n == ps->n_peers;
    for (size_t i = 0; same && i < n; i++) {
        int64_t *end = ps->peers + ps->n_peers;
        same = false;
        for (int64_t *p = ps->peers; p < end && !same; p++)
            same = *p == ids[i];
    }
    ps->peers_known = true;
    if (same)
        return 0;
    if (n)
        memcpy(ps->peers, ids, n * sizeof ids[0]);
    ps->n_peers = n;
    ps->last = 0; /* read every row again: who counts changed */
    return 1;
}

/* The sources of rows unchanged since before cutoff that are not alive
 * (at most max, into out). The number, or -1. */
static int pshare__dead_sources(struct pshare *ps, time_t cutoff,
                                char out[][PSHARE__SRC], int max)
{
    struct db_stmt *st = ps->stmt[P_SOURCES];
    int rc, n = 0;
    db_bind_int64(st, 1, (int64_t)cutoff);
    db_bind_text(st, 2, ps->source, -1, DB_STATIC);
    while ((rc = db_step(st)) == DB_ROW && n < max) {
        const char *src = (const char *)db_column_text(st, 0);
        if (src && !pshare__alive(ps, src) && strlen(src) < sizeof out[0])
            snprintf(out[n++], sizeof out[0], "%s", src);
    }
    if (rc != DB_DONE && rc != DB_ROW)
        return pshare__fail(ps, st);
    db_reset(st);
    db_clear_bindings(st);
    return n;
}

int pshare_prune(struct pshare *ps, time_t now)
{
    char dead[16][PSHARE__SRC];
    if (!ps->peers_known || now < ps->next_prune)
        return 0;
    ps->next_prune = now + PSHARE_PRUNE_EVERY;
    time_t cutoff = now - PSHARE_PRUNE_SECONDS;
    struct db_stmt *st = ps->stmt[P_PRUNE_OFF];
    db_bind_int64(st, 1, (int64_t)cutoff);
    if (pshare__run(ps, st) != 0)
        return -1;
    int n = pshare__dead_sources(ps, cutoff, dead, 16);
    for (int i = 0; i < n; i++) {
        st = ps->stmt[P_PRUNE_SOURCE];
        db_bind_text(st, 1, dead[i], -1, DB_STATIC);
        db_bind_int64(st, 2, (int64_t)cutoff);
        if (pshare__run(ps, st) != 0)
            return -1;
    }
    return n < 0 ? -1 : 0;
}
