/* test_metrics.c - the Prometheus text of runtime/metrics: counters by
 * kind, the commit histogram's cumulative buckets, the store snapshot, the
 * outbox feed, and a cut buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/metrics.h"

static char *render(void)
{
    size_t need = metrics_render(NULL, 0) + 1;
    char *buf = malloc(need);
    assert_non_null(buf);
    assert_int_equal(metrics_render(buf, need), need - 1);
    return buf;
}

static void has(const char *text, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\n%s\n", line);
    if (!strstr(text, want))
        fail_msg("no line '%s' in:\n%s", line, text);
}

static void test_counters(void **state)
{
    (void)state;
    assert_int_equal(metrics_kind_of("message"), METRICS_MESSAGE);
    assert_int_equal(metrics_kind_of("iq"), METRICS_IQ);
    assert_int_equal(metrics_kind_of("stream:error"), METRICS_OTHER);
    metrics_stanza_in(METRICS_MESSAGE);
    metrics_stanza_in(METRICS_MESSAGE);
    metrics_stanza_out(METRICS_PRESENCE);
    metrics_reconnect();
    metrics_set_outbox_depth(7);
    metrics_outbox_failure();
    metrics_set_cluster(2, 1);
    metrics_peers_gone(1);
    metrics_peers_gone(2);
    char *t = render();
    has(t, "chatdesk_stanzas_total{direction=\"in\",kind=\"message\"} 2");
    has(t, "chatdesk_stanzas_total{direction=\"out\",kind=\"message\"} 0");
    has(t, "chatdesk_stanzas_total{direction=\"out\",kind=\"presence\"} 1");
    has(t, "chatdesk_stanzas_total{direction=\"in\",kind=\"iq\"} 0");
    has(t, "chatdesk_reconnects_total 1");
    has(t, "chatdesk_outbox_depth 7");
    has(t, "chatdesk_outbox_failures_total 1");
    has(t, "chatdesk_route_slots 2");
    has(t, "chatdesk_cluster_peers 1");
    has(t, "chatdesk_cluster_peers_gone_total 3");
    has(t, "# TYPE chatdesk_commit_seconds histogram");
    free(t);
}

static void test_commit_histogram(void **state)
{
    (void)state;
    metrics_commit(100);     /* 0.0001 s: the first bucket */
    metrics_commit(3000);    /* 0.003 s */
    metrics_commit(5000000); /* 5 s: only +Inf */
    char *t = render();
    has(t, "chatdesk_commit_seconds_bucket{le=\"0.00025\"} 1");
    has(t, "chatdesk_commit_seconds_bucket{le=\"0.0025\"} 1");
    has(t, "chatdesk_commit_seconds_bucket{le=\"0.005\"} 2");
    has(t, "chatdesk_commit_seconds_bucket{le=\"1\"} 2");
    has(t, "chatdesk_commit_seconds_bucket{le=\"+Inf\"} 3");
    has(t, "chatdesk_commit_seconds_count 3");
    has(t, "chatdesk_commit_seconds_sum 5.003100");
    free(t);
}

static void test_store_snapshot(void **state)
{
    (void)state;
    static const char *const names[] = {"waiting", "active"};
    static const long counts[] = {3, 1};
    char *t = render();
    assert_null(strstr(t, "chatdesk_sessions{"));
    free(t);
    metrics_set_store(names, counts, 2, 42);
    t = render();
    has(t, "chatdesk_sessions{state=\"waiting\"} 3");
    has(t, "chatdesk_sessions{state=\"active\"} 1");
    has(t, "chatdesk_messages_stored_total 42");
    free(t);
}

static void test_cut_buffer(void **state)
{
    (void)state;
    char small[32];
    size_t need = metrics_render(small, sizeof small);
    assert_true(need > sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_commit_histogram),
        cmocka_unit_test(test_store_snapshot),
        cmocka_unit_test(test_cut_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
