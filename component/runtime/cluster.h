/* cluster.h - what several chatdesk processes on one database tell each
 * other through it (SPEC §11).
 *
 * Route-slot probes (runtime/slots.h): a process that receives a probe of
 * another process's round notes it here (slot_probes, migration 14), and
 * the sender, judging its round, counts those as answered: the slot is
 * held, by someone else. Without that a process would take every probe
 * another one holds for a vacant slot. With sqlite only one process runs
 * on a database (runtime/lock), so nothing is ever noted; the table is
 * there so PostgreSQL shares it. Rows older than a minute are pruned.
 *
 * Loop thread only; every call is one short autocommit statement.
 */
#ifndef CHATDESK_CLUSTER_H
#define CHATDESK_CLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct store;
struct cluster;

struct cluster *cluster_open(struct store *st, char *err, size_t errlen);
void cluster_close(struct cluster *c);

/* Probe n (-1: the domain's own) of round came to this process at now.
 * 0 or -1. */
int cluster_probe_seen(struct cluster *c, const char *round, int n,
                       time_t now);

/* For each probe of round another process noted, seen[n] = 1 (n from 0 to
 * nseen - 2; the domain's probe, n = -1, is seen[nseen - 1]). The number
 * noted, or -1. */
int cluster_probes_elsewhere(struct cluster *c, const char *round,
                             unsigned char *seen, size_t nseen);

/* Forget what was noted before before. 0 or -1. */
int cluster_prune(struct cluster *c, time_t before);

/* Exactly once across processes: 1 when this process runs the work only
 * one process may do (the PSA webhook sender, retention, the search
 * index). On sqlite always (one process per database). On PostgreSQL the
 * holder of the instance lock (store_try_lead(), a session-level advisory
 * lock, released by PostgreSQL when the holder's connection ends, e.g.
 * with a kill -9); a follower asks for it again at most once a second,
 * and takes over within about a second of the leader's death; a leader
 * checks once a second that it still holds the lock
 * (cluster_check_leader()). 0 or 1. */
int cluster_leader(struct cluster *c);

/* What cluster_leader() does once a second while leading: ask the
 * database whether this connection still holds the lock (a connection
 * lost and opened again may not have it back, store_holds_lead()); if
 * not, this process stops leading (logged) and asks again like any
 * follower. Returns the state after the check. */
int cluster_check_leader(struct cluster *c);

/* This process took the lock already (store_claim_instance at start). */
void cluster_set_leader(struct cluster *c);

/* Leases: how a process learns at once that another one sharing the
 * PostgreSQL database died (its route slots are vacant, runtime/slots.h).
 * Each process keeps a row in cluster_peers (migration 17): a random id,
 * the route slots it holds, its database backend's pid, and a beat in the
 * database's clock, written every CLUSTER_BEAT_MS. Every CLUSTER_WATCH_MS
 * it reads the others': a peer seen alive before is gone when its row is
 * (a clean stop deletes it), when its backend is no longer in
 * pg_stat_activity (PostgreSQL ends the backend as soon as the client's
 * socket closes: a crash, kill -9), or when its beat is older than
 * CLUSTER_LEASE_MS (a lost host, a hung process). False alarms (a peer
 * whose database connection was opened again) cost one probe round. Rows
 * older than a minute are pruned. PostgreSQL only: on sqlite one process
 * runs per database and nothing is written. */
#define CLUSTER_BEAT_MS 1000
#define CLUSTER_WATCH_MS 500
#define CLUSTER_LEASE_MS 3000
#define CLUSTER_PEERS_MAX 64

enum cluster_watch {
    CLUSTER_CALM = 0,    /* no peer gone (or not time to look yet) */
    CLUSTER_GONE_FIRST,  /* a peer is gone; this process, holding the
                          * fewest slots of the living (then the lowest
                          * id), should probe at once */
    CLUSTER_GONE_SECOND  /* a peer is gone; another process goes first */
};

/* Start the leases (PostgreSQL only; on sqlite 0 and nothing happens):
 * write this process's first beat. 0, or -1 with err. */
int cluster_join(struct cluster *c, char *err, size_t errlen);

/* Between passes: beat and look at the others when due (now_ms:
 * clock_mono_ms()); slots_held goes into the lease. CLUSTER_CALM until
 * cluster_join(); -1 on a database error (cluster_error()). */
int cluster_watch(struct cluster *c, uint64_t now_ms, unsigned slots_held);

/* Other processes alive at the last look. */
unsigned cluster_peers_alive(const struct cluster *c);

/* This process's lease id (positive once cluster_join() wrote it, else
 * 0): a name for it that the others' leases list. */
int64_t cluster_id(const struct cluster *c);

/* The lease ids of the other processes alive at the last look, at most max
 * into ids. How many there are. */
unsigned cluster_peer_ids(const struct cluster *c, int64_t *ids,
                          unsigned max);

/* 1 once after a look that found the set of living peers changed (one
 * gone, or one new or back: a peer declared gone by mistake beats again),
 * and at the first look; then 0 until the next change. What hangs off a
 * peer's life (its shared presence, domain/presence_share.h) follows it. */
int cluster_peers_changed(struct cluster *c);

/* The peers found gone at the last look; *slots: the route slots they
 * held (from their leases), how many vacant slots to expect
 * (slots_hurry()). */
unsigned cluster_gone(const struct cluster *c, unsigned *slots);

/* Delete this process's lease (a clean stop), so the others learn at
 * their next look. */
void cluster_leave(struct cluster *c);

/* The last error, for the log. */
const char *cluster_error(const struct cluster *c);

#endif
