/* cluster.c - see cluster.h */
#include "runtime/cluster.h"

#include "runtime/clock.h"
#include "runtime/db.h"
#include "runtime/log.h"
#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cluster__stmt { C_SEEN, C_ELSEWHERE, C_PRUNE, C_COUNT };

static const char *const cluster__sql[C_COUNT] = {
    [C_SEEN] = "INSERT INTO slot_probes (round, n, at) VALUES (?1, ?2, ?3) "
               "ON CONFLICT DO NOTHING",
    [C_ELSEWHERE] = "SELECT n FROM slot_probes WHERE round = ?1",
    [C_PRUNE] = "DELETE FROM slot_probes WHERE at < ?1",
};

struct cluster {
    struct store *store;
    struct db *db;
    struct db_stmt *stmt[C_COUNT];
    int leader;           /* holds the lock (store_try_lead) */
    uint64_t next_try_ms; /* a follower asks again then, a leader checks */
    char err[300];
};

struct cluster *cluster_open(struct store *st, char *err, size_t errlen)
{
    struct cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "cluster: out of memory");
        return NULL;
    }
    c->store = st;
    c->db = store_db(st);
    if (store_prepare_all(c->db, cluster__sql, c->stmt, C_COUNT, "cluster",
                          err, errlen) != 0) {
        cluster_close(c);
        return NULL;
    }
    return c;
}

void cluster_close(struct cluster *c)
{
    if (!c)
        return;
    store_finalize_all(c->stmt, C_COUNT);
    free(c);
}

const char *cluster_error(const struct cluster *c)
{
    return c->err;
}

void cluster_set_leader(struct cluster *c)
{
    c->leader = 1;
}

int cluster_check_leader(struct cluster *c)
{
    if (c->leader && store_holds_lead(c->store) == 0) {
        c->leader = 0;
        log_warn("cluster", "this process lost the leader's lock (its "
                 "database connection was opened again and another process "
                 "leads now): it stops running the PSA sender, retention "
                 "and the search index");
    }
    return c->leader;
}

int cluster_leader(struct cluster *c)
{
    uint64_t now = clock_mono_ms();
    if (now < c->next_try_ms)
        return c->leader;
    c->next_try_ms = now + 1000;
    if (c->leader)
        return cluster_check_leader(c);
    int got = store_try_lead(c->store);
    if (got < 0)
        log_warn("cluster", "cannot ask for the leader's lock: %s",
                 db_errmsg(c->db));
    if (got == 1) {
        c->leader = 1;
        log_info("cluster", "this process leads now: it runs the PSA "
                 "sender, retention and the search index");
    }
    return c->leader;
}

static int cluster__done(struct cluster *c, struct db_stmt *st, int rc)
{
    if (rc != DB_DONE)
        snprintf(c->err, sizeof c->err, "%s", db_errmsg(c->db));
    db_reset(st);
    db_clear_bindings(st);
    return rc == DB_DONE ? 0 : -1;
}

int cluster_probe_seen(struct cluster *c, const char *round, int n,
                       time_t now)
{
    struct db_stmt *st = c->stmt[C_SEEN];
    db_bind_text(st, 1, round, -1, DB_STATIC);
    db_bind_int(st, 2, n);
    db_bind_int64(st, 3, (int64_t)now);
    return cluster__done(c, st, db_step(st));
}

int cluster_probes_elsewhere(struct cluster *c, const char *round,
                             unsigned char *seen, size_t nseen)
{
    struct db_stmt *st = c->stmt[C_ELSEWHERE];
    int rc, count = 0;
    db_bind_text(st, 1, round, -1, DB_STATIC);
    while ((rc = db_step(st)) == DB_ROW) {
        int n = db_column_int(st, 0);
        size_t i = n < 0 ? nseen - 1 : (size_t)n;
        if (nseen && i < nseen && !seen[i]) {
            seen[i] = 1;
            count++;
        }
    }
    return cluster__done(c, st, rc) ? -1 : count;
}

int cluster_prune(struct cluster *c, time_t before)
{
    struct db_stmt *st = c->stmt[C_PRUNE];
    db_bind_int64(st, 1, (int64_t)before);
    return cluster__done(c, st, db_step(st));
}
