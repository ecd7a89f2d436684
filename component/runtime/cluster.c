/* cluster.c - see cluster.h */
#include "runtime/cluster.h"

#include "runtime/clock.h"
#include "runtime/db.h"
#include "runtime/log.h"
#include "runtime/store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

enum cluster__stmt { C_SEEN, C_ELSEWHERE, C_PRUNE, C_COUNT };

static const char *const cluster__sql[C_COUNT] = {
    [C_SEEN] = "INSERT INTO slot_probes (round, n, at) VALUES (?1, ?2, ?3) "
               "ON CONFLICT DO NOTHING",
    [C_ELSEWHERE] = "SELECT n FROM slot_probes WHERE round = ?1",
    [C_PRUNE] = "DELETE FROM slot_probes WHERE at < ?1",
};

/* The leases (PostgreSQL only: the database's clock, pg_stat_activity). */
enum cluster__peer_stmt { P_BEAT, P_LIST, P_PRUNE, P_LEAVE, P_COUNT };

#define CLUSTER__NOW_MS "(extract(epoch from clock_timestamp()) * 1000)::bigint"

static const char *const cluster__peer_sql[P_COUNT] = {
    [P_BEAT] = "INSERT INTO cluster_peers (id, backend, slots, beat) "
               "VALUES (?1, pg_backend_pid(), ?2, " CLUSTER__NOW_MS ") "
               "ON CONFLICT (id) DO UPDATE SET backend = excluded.backend, "
               "slots = excluded.slots, beat = excluded.beat",
    [P_LIST] = "SELECT p.id, p.slots, CASE WHEN p.beat >= " CLUSTER__NOW_MS
               " - ?1 AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE "
               "a.pid = p.backend) THEN 1 ELSE 0 END FROM cluster_peers p",
    [P_PRUNE] = "DELETE FROM cluster_peers WHERE beat < " CLUSTER__NOW_MS
                " - 60000",
    [P_LEAVE] = "DELETE FROM cluster_peers WHERE id = ?1",
};

struct cluster__peer {
    int64_t id;
    unsigned slots;
};

struct cluster {
    struct store *store;
    struct db *db;
    struct db_stmt *stmt[C_COUNT];
    struct db_stmt *peer_stmt[P_COUNT]; /* NULL until cluster_join() */
    int64_t id;                         /* this process's lease */
    struct cluster__peer alive[CLUSTER_PEERS_MAX]; /* at the last look */
    unsigned n_alive;
    unsigned gone, gone_slots; /* peers gone at the last look, their slots */
    int changed;               /* the living set changed (not yet told) */
    int looked;                /* a look succeeded once */
    uint64_t next_beat_ms, next_watch_ms, next_prune_ms;
    int failing; /* the last look failed (logged once) */
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
    store_finalize_all(c->peer_stmt, P_COUNT);
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

int cluster_join(struct cluster *c, char *err, size_t errlen)
{
    uint64_t r = 0;
    if (db_kind(c->db) != DB_KIND_PG || c->peer_stmt[P_BEAT])
        return 0;
    if (store_prepare_all(c->db, cluster__peer_sql, c->peer_stmt, P_COUNT,
                          "cluster", err, errlen) != 0)
        return -1;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (uint64_t)getpid() << 20 ^ clock_mono_ms();
    c->id = (int64_t)(r >> 1); /* positive, a BIGINT */
    struct db_stmt *st = c->peer_stmt[P_BEAT];
    db_bind_int64(st, 1, c->id);
    db_bind_int(st, 2, 0);
    if (cluster__done(c, st, db_step(st)) != 0) {
        snprintf(err, errlen, "cluster: cannot write the lease: %s", c->err);
        return -1;
    }
    log_info("cluster", "lease %" PRId64 " written: other processes on "
             "the database learn within %d ms when this one stops",
             c->id, CLUSTER_LEASE_MS);
    return 0;
}

void cluster_leave(struct cluster *c)
{
    if (!c || !c->peer_stmt[P_LEAVE])
        return;
    struct db_stmt *st = c->peer_stmt[P_LEAVE];
    db_bind_int64(st, 1, c->id);
    if (cluster__done(c, st, db_step(st)) != 0)
        log_warn("cluster", "cannot delete the lease: %s", c->err);
}

static int cluster__alive_in(const struct cluster__peer *list, unsigned n,
                             int64_t id)
{
    for (unsigned i = 0; i < n; i++)
        if (list[i].id == id)
            return 1;
    return 0;
}

unsigned cluster_peers_alive(const struct cluster *c)
{
    return c->n_alive;
}

int64_t cluster_id(const struct cluster *c)
{
    return c->id;
}

unsigned cluster_peer_ids(const struct cluster *c, int64_t *ids,
                          unsigned max)
{
    for (unsigned i = 0; i < c->n_alive && i < max; i++)
        ids[i] = c->alive[i].id;
    return c->n_alive;
}

int cluster_peers_changed(struct cluster *c)
{
    int changed = c->changed;
    c->changed = 0;
    return changed;
}

unsigned cluster_gone(const struct cluster *c, unsigned *slots)
{
    *slots = c->gone_slots;
    return c->gone;
}

/* Read the leases: the living now (into c->alive), and how many of those
 * alive at the last look are not. -1 on an error. */
static int cluster__look(struct cluster *c)
{
    struct cluster__peer now[CLUSTER_PEERS_MAX];
    unsigned n = 0;
    int rc;
    struct db_stmt *st = c->peer_stmt[P_LIST];
    db_bind_int64(st, 1, CLUSTER_LEASE_MS);
    while ((rc = db_step(st)) == DB_ROW) {
        int64_t id = db_column_int64(st, 0);
        if (id == c->id || !db_column_int(st, 2) || n == CLUSTER_PEERS_MAX)
            continue;
        now[n].id = id;
        now[n].slots = (unsigned)db_column_int(st, 1);
        n++;
    }
    if (cluster__done(c, st, rc) != 0)
        return -1;
    int gone = 0;
    c->gone_slots = 0;
    for (unsigned i = 0; i < c->n_alive; i++)
        if (!cluster__alive_in(now, n, c->alive[i].id)) {
            gone++;
            c->gone_slots += c->alive[i].slots;
        }
    /* none gone: the living set grew iff n differs */
    if (gone || n != c->n_alive || !c->looked)
        c->changed = 1;
    c->looked = 1;
    memcpy(c->alive, now, n * sizeof now[0]);
    c->n_alive = n;
    c->gone = (unsigned)gone;
    return gone;
}

/* Whether this process goes first: the fewest slots of the living, then
 * the lowest id. */
static int cluster__first(const struct cluster *c, unsigned held)
{
    for (unsigned i = 0; i < c->n_alive; i++)
        if (c->alive[i].slots < held ||
            (c->alive[i].slots == held && c->alive[i].id < c->id))
            return 0;
    return 1;
}

static int cluster__beat(struct cluster *c, uint64_t now_ms, unsigned held)
{
    struct db_stmt *st = c->peer_stmt[P_BEAT];
    c->next_beat_ms = now_ms + CLUSTER_BEAT_MS;
    db_bind_int64(st, 1, c->id);
    db_bind_int(st, 2, (int)held);
    if (cluster__done(c, st, db_step(st)) != 0)
        return -1;
    if (now_ms < c->next_prune_ms)
        return 0;
    c->next_prune_ms = now_ms + 60000;
    return cluster__done(c, c->peer_stmt[P_PRUNE],
                         db_step(c->peer_stmt[P_PRUNE]));
}

int cluster_watch(struct cluster *c, uint64_t now_ms, unsigned slots_held)
{
    if (!c->peer_stmt[P_BEAT] || now_ms < c->next_watch_ms)
        return CLUSTER_CALM;
    c->next_watch_ms = now_ms + CLUSTER_WATCH_MS;
    int gone = 0;
    if ((now_ms >= c->next_beat_ms &&
         cluster__beat(c, now_ms, slots_held) != 0) ||
        (gone = cluster__look(c)) < 0) {
        if (!c->failing)
            log_warn("cluster", "cannot keep the lease: %s", c->err);
        c->failing = 1;
        return -1;
    }
    if (c->failing)
        log_info("cluster", "the lease is kept again");
    c->failing = 0;
    if (gone <= 0)
        return CLUSTER_CALM;
    int first = cluster__first(c, slots_held);
    log_info("cluster", "%d other process%s on the database stopped or "
             "died (%u still alive): %s", gone, gone == 1 ? "" : "es",
             c->n_alive, first ? "probing the route slots now"
                               : "another process probes first");
    return first ? CLUSTER_GONE_FIRST : CLUSTER_GONE_SECOND;
}
