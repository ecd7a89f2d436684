/* test_cluster.c - what processes on one database tell each other
 * (component/runtime/cluster.c): probes of another process's round are
 * noted once each, read back by round, and pruned by age. */
#include "testkit.h"

#include "runtime/cluster.h"
#include "runtime/store.h"

static void test_probes_noted_read_and_pruned(void **state)
{
    (void)state;
    char err[256];
    struct store *st = store_open(":memory:", err, sizeof err);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probes_noted_read_and_pruned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
