/* cluster.c - see cluster.h */
#include "runtime/cluster.h"

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
    sqlite3 *db;
    sqlite3_stmt *stmt[C_COUNT];
    char err[300];
};

struct cluster *cluster_open(struct store *st, char *err, size_t errlen)
{
    struct cluster *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "cluster: out of memory");
        return NULL;
    }
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

int cluster_leader(struct cluster *c)
{
    (void)c;
    return 1; /* sqlite: runtime/lock keeps this process alone */
}

const char *cluster_error(const struct cluster *c)
{
    return c->err;
}

static int cluster__done(struct cluster *c, sqlite3_stmt *st, int rc)
{
    if (rc != SQLITE_DONE)
        snprintf(c->err, sizeof c->err, "%s", sqlite3_errmsg(c->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int cluster_probe_seen(struct cluster *c, const char *round, int n,
                       time_t now)
{
    sqlite3_stmt *st = c->stmt[C_SEEN];
    sqlite3_bind_text(st, 1, round, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, n);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
    return cluster__done(c, st, sqlite3_step(st));
}

int cluster_probes_elsewhere(struct cluster *c, const char *round,
                             unsigned char *seen, size_t nseen)
{
    sqlite3_stmt *st = c->stmt[C_ELSEWHERE];
    int rc, count = 0;
    sqlite3_bind_text(st, 1, round, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_int(st, 0);
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
    sqlite3_stmt *st = c->stmt[C_PRUNE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
    return cluster__done(c, st, sqlite3_step(st));
}
