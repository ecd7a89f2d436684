/* test_cluster.c - what processes on one database tell each other
 * (component/runtime/cluster.c): probes of another process's round are
 * noted once each, read back by round, and pruned by age. */
#include "testkit.h"
#include "testdb.h"

#include "runtime/cluster.h"
#include "runtime/store.h"

static void test_probes_noted_read_and_pruned(void **state)
{
    (void)state;
    char err[256];
    struct store *st = store_open(testdb_target(":memory:"), err, sizeof err);
    assert_non_null(st);
    struct cluster *c = cluster_open(st, err, sizeof err);
    assert_non_null(c);
    unsigned char seen[5] = {0};
    assert_int_equal(cluster_probe_seen(c, "a-1", 0, 100), 0);
    assert_int_equal(cluster_probe_seen(c, "a-1", 3, 100), 0);
    assert_int_equal(cluster_probe_seen(c, "a-1", 3, 101), 0); /* again */
    assert_int_equal(cluster_probe_seen(c, "a-1", -1, 101), 0);
    assert_int_equal(cluster_probe_seen(c, "b-1", 1, 150), 0);
    assert_int_equal(cluster_probes_elsewhere(c, "a-1", seen, 5), 3);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 0);
    assert_int_equal(seen[3], 1);
    assert_int_equal(seen[4], 1); /* the domain's own probe */
    assert_int_equal(cluster_prune(c, 120), 0);
    memset(seen, 0, sizeof seen);
    assert_int_equal(cluster_probes_elsewhere(c, "a-1", seen, 5), 0);
    assert_int_equal(cluster_probes_elsewhere(c, "b-1", seen, 5), 1);
    cluster_close(c);
    store_close(st);
}

/* One leader: on PostgreSQL the first process to take the lock, until its
 * connection ends; on sqlite every process (there is only one). */
static void test_one_leader(void **state)
{
    (void)state;
    char err[256];
    struct store *a = store_open(testdb_target(":memory:"), err, sizeof err);
    struct store *b = store_open(testdb_target(":memory:"), err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    struct cluster *ca = cluster_open(a, err, sizeof err);
    struct cluster *cb = cluster_open(b, err, sizeof err);
    assert_non_null(ca);
    assert_non_null(cb);
    if (testdb_is_pg() && !cluster_leader(ca)) {
        /* a chatdesk of an e2e test on the shared test server holds the
         * database's lock now: nothing to learn here this time */
        cluster_close(ca);
        cluster_close(cb);
        store_close(a);
        store_close(b);
        skip();
    }
    assert_int_equal(cluster_leader(ca), 1);
    assert_int_equal(cluster_leader(ca), 1); /* asked once, kept */
    assert_int_equal(cluster_leader(cb), testdb_is_pg() ? 0 : 1);
    assert_int_equal(cluster_check_leader(ca), 1); /* still holds it */
    if (testdb_is_pg()) {
        /* a's session loses the lock (as when its connection is opened
         * again) and b takes it: a finds out at its next check */
        assert_int_equal(db_exec(store_db(a),
                                 "SELECT pg_advisory_unlock_all()", NULL),
                         DB_OK);
        assert_int_equal(store_try_lead(b), 1);
        assert_int_equal(store_holds_lead(a), 0);
        assert_int_equal(store_holds_lead(b), 1);
        assert_int_equal(cluster_check_leader(ca), 0);
        assert_int_equal(cluster_leader(ca), 0);
        assert_int_equal(db_exec(store_db(b),
                                 "SELECT pg_advisory_unlock_all()", NULL),
                         DB_OK);
    }
    cluster_close(ca);
    store_close(a); /* the leader's connection ends: the lock is free */
    /* once PostgreSQL has ended that connection's backend (a moment) */
    int got = 0;
    for (int i = 0; i < 200 && (got = store_try_lead(b)) == 0; i++)
        usleep(10000);
    assert_int_equal(got, 1);
    cluster_close(cb);
    store_close(b);
}

/* Watch until something other than CLUSTER_CALM comes (a backend ends a
 * moment after its connection closes); now_ms steps past the watch
 * period each time. */
static int watch_for_change(struct cluster *c, uint64_t *now, unsigned held)
{
    int w = CLUSTER_CALM;
    for (int i = 0; i < 300 && w == CLUSTER_CALM; i++) {
        *now += CLUSTER_WATCH_MS;
        w = cluster_watch(c, *now, held);
        if (w == CLUSTER_CALM)
            usleep(10000);
    }
    return w;
}

/* The leases: a process learns at its next look that another one stopped
 * (its lease deleted) or died (its database connection ended); the one
 * holding the fewest route slots goes first. On sqlite nothing is
 * written and nothing is ever seen. */
static void test_leases(void **state)
{
    (void)state;
    char err[256], path[64];
    snprintf(path, sizeof path, "/tmp/chatdesk-leases-%ld.db", (long)getpid());
    struct store *st[3];
    struct cluster *c[3];
    for (int i = 0; i < 3; i++) {
        st[i] = store_open(testdb_target(path), err, sizeof err);
        assert_non_null(st[i]);
        c[i] = cluster_open(st[i], err, sizeof err);
        assert_non_null(c[i]);
        assert_int_equal(cluster_join(c[i], err, sizeof err), 0);
    }
    uint64_t now = 0;
    const unsigned held[3] = {1, 0, 1}; /* #1: a hot standby */
    int pg = testdb_is_pg();
    for (int i = 0; i < 3; i++) { /* the first look: every lease is new */
        assert_int_equal(cluster_watch(c[i], now, held[i]), CLUSTER_CALM);
        assert_int_equal(cluster_peers_changed(c[i]), pg);
        assert_int_equal(cluster_peers_changed(c[i]), 0); /* told once */
        assert_int_equal(cluster_id(c[i]) > 0, pg);
    }
    now += CLUSTER_WATCH_MS;
    for (int i = 0; i < 3; i++) { /* the slots held are in the leases now */
        assert_int_equal(cluster_watch(c[i], now, held[i]), CLUSTER_CALM);
        assert_int_equal(cluster_peers_changed(c[i]), 0); /* the same */
    }
    if (!pg) {
        cluster_leave(c[2]);
        now += CLUSTER_WATCH_MS;
        assert_int_equal(cluster_watch(c[0], now, 1), CLUSTER_CALM);
    } else {
        /* #2 stops cleanly: the standby goes first, #0 after it */
        cluster_leave(c[2]);
        uint64_t t = now;
        assert_int_equal(watch_for_change(c[1], &t, 0), CLUSTER_GONE_FIRST);
        unsigned slots = 0;
        assert_int_equal(cluster_gone(c[1], &slots), 1);
        assert_int_equal(slots, 1); /* from #2's lease */
        assert_int_equal(cluster_peers_alive(c[1]), 1);
        int64_t ids[4] = {0};
        assert_int_equal(cluster_peers_changed(c[1]), 1);
        assert_int_equal(cluster_peer_ids(c[1], ids, 4), 1);
        assert_true(ids[0] == cluster_id(c[0]));
        assert_int_equal(watch_for_change(c[0], &now, 1),
                         CLUSTER_GONE_SECOND);
        assert_int_equal(cluster_peers_changed(c[0]), 1);
        /* #1 dies (its connection ends, as with kill -9): #0 is alone */
        cluster_close(c[1]);
        store_close(st[1]);
        c[1] = NULL, st[1] = NULL;
        assert_int_equal(watch_for_change(c[0], &now, 1), CLUSTER_GONE_FIRST);
        /* #1 again, alive but its beat stops (a hung process, a lost
         * host): gone once the beat is CLUSTER_LEASE_MS old */
        st[1] = store_open(testdb_target(path), err, sizeof err);
        c[1] = cluster_open(st[1], err, sizeof err);
        assert_non_null(c[1]);
        assert_int_equal(cluster_join(c[1], err, sizeof err), 0);
        now += CLUSTER_WATCH_MS;
        assert_int_equal(cluster_peers_changed(c[0]), 1); /* #1 died */
        assert_int_equal(cluster_watch(c[0], now, 1), CLUSTER_CALM);
        assert_int_equal(cluster_peers_alive(c[0]), 1);
        /* a new peer changes the set too (its shared presence counts) */
        assert_int_equal(cluster_peers_changed(c[0]), 1);
        assert_int_equal(cluster_peer_ids(c[0], ids, 4), 1);
        assert_true(ids[0] == cluster_id(c[1]));
        assert_int_equal(db_exec(store_db(st[1]),
                                 "UPDATE cluster_peers SET beat = beat - "
                                 "3500 WHERE backend = pg_backend_pid()",
                                 NULL),
                         DB_OK);
        assert_int_equal(watch_for_change(c[0], &now, 1), CLUSTER_GONE_FIRST);
    }
    for (int i = 0; i < 3; i++) {
        cluster_close(c[i]);
        store_close(st[i]);
    }
    testdb_remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes_noted_read_and_pruned),
        cmocka_unit_test(test_one_leader),
        cmocka_unit_test(test_leases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
