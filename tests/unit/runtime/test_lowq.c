/* test_lowq.c - the low-priority queue of answers to refused messages
 * (component/runtime/lowq.c): bounded, first in first out, and when its
 * answers may go (lowq_due), with explicit time. */
// clang-format off: cmocka.h needs these first
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <string.h>

#include "runtime/lowq.h"

static void test_bounded(void **state)
{
    (void)state;
    struct lowq *q = lowq_new(3);
    assert_non_null(q);
    assert_null(lowq_new(0));
    for (int i = 0; i < 3; i++) {
        assert_false(lowq_full(q));
        assert_int_equal(lowq_push(q, "bob@x/r", "room@c", "m", 10), 0);
    }
    assert_true(lowq_full(q));
    assert_int_equal(lowq_len(q), 3);
    assert_int_equal(lowq_push(q, "bob@x/r", "room@c", "m", 10), -1);
    assert_int_equal(lowq_len(q), 3); /* refused, the caller answers now */
    assert_int_equal(lowq_push(q, NULL, "room@c", "m", 10), -1);
    lowq_pop(q);
    assert_false(lowq_full(q));
    assert_int_equal(lowq_push(q, "bob@x/r", NULL, NULL, 11), 0);
    lowq_free(q); /* frees what still waits (ASan: no leak) */
}

static void test_first_in_first_out(void **state)
{
    (void)state;
    struct lowq *q = lowq_new(4);
    char id[16];
    /* wraps around the ring several times */
    for (int round = 0, next = 0; round < 5; round++) {
        for (int i = 0; i < 3; i++) {
            snprintf(id, sizeof id, "m%d", round * 3 + i);
            assert_int_equal(lowq_push(q, i % 2 ? "a@x/1" : "b@x/2",
                                       "room@c", id, (uint64_t)round),
                             0);
        }
        for (int i = 0; i < 3; i++, next++) {
            const struct lowq_item *it = lowq_peek(q);
            assert_non_null(it);
            snprintf(id, sizeof id, "m%d", next);
            assert_string_equal(it->id, id);
            assert_string_equal(it->to, i % 2 ? "a@x/1" : "b@x/2");
            assert_string_equal(it->from, "room@c");
            assert_int_equal(it->at_ms, (uint64_t)round);
            lowq_pop(q);
        }
    }
    assert_null(lowq_peek(q));
    lowq_pop(q); /* harmless when empty */
    assert_int_equal(lowq_push(q, "a@x", NULL, NULL, 0), 0);
    assert_null(lowq_peek(q)->from);
    assert_null(lowq_peek(q)->id);
    lowq_free(q);
}

static void test_due_waits_for_a_quiet_pass_and_a_short_send_queue(
    void **state)
{
    (void)state;
    struct lowq *q = lowq_new(1000);
    assert_int_equal(lowq_due(q, 0, 0, 1), 0); /* nothing waits */
    for (int i = 0; i < 200; i++)
        assert_int_equal(lowq_push(q, "a@x/1", "room@c", "m", 1000), 0);
    /* busy pass (it read stanzas): other traffic first */
    assert_int_equal(lowq_due(q, 1000, 0, 0), 0);
    assert_int_equal(lowq_due(q, 1000 + LOWQ_MAX_WAIT_MS - 1, 0, 0), 0);
    /* quiet pass: up to what brings the send queue to LOWQ_SENDQ_SHORT */
    assert_int_equal(lowq_due(q, 1000, 0, 1), LOWQ_SENDQ_SHORT);
    assert_int_equal(lowq_due(q, 1000, 10, 1), LOWQ_SENDQ_SHORT - 10);
    /* a long send queue: the wire is busy, none */
    assert_int_equal(lowq_due(q, 1000, LOWQ_SENDQ_SHORT, 1), 0);
    assert_int_equal(lowq_due(q, 1000, 5000, 1), 0);
    assert_int_equal(lowq_due(q, 1000, -1, 1), 0); /* no connection */
    lowq_free(q);
    q = lowq_new(10);
    for (int i = 0; i < 3; i++)
        lowq_push(q, "a@x/1", "room@c", "m", 1000);
    assert_int_equal(lowq_due(q, 1000, 0, 1), 3); /* all there is */
    lowq_free(q);
}

static void test_due_never_starves_old_answers(void **state)
{
    (void)state;
    struct lowq *q = lowq_new(1000);
    for (int i = 0; i < 100; i++) /* 100 old, then 100 new */
        lowq_push(q, "a@x/1", "room@c", "m", 1000);
    for (int i = 0; i < 100; i++)
        lowq_push(q, "a@x/1", "room@c", "m", 1800);
    uint64_t t = 1000 + LOWQ_MAX_WAIT_MS;
    /* every pass busy: the old ones go, within the send queue's budget */
    assert_int_equal(lowq_due(q, t, 0, 0), LOWQ_SENDQ_SHORT);
    assert_int_equal(lowq_due(q, t, LOWQ_SENDQ_SHORT - 1, 0), 1);
    assert_int_equal(lowq_due(q, t, LOWQ_SENDQ_SHORT, 0), 0);
    for (int i = 0; i < 90; i++)
        lowq_pop(q);
    assert_int_equal(lowq_due(q, t, 0, 0), 10); /* not the new ones */
    assert_int_equal(lowq_due(q, 800 + t, 0, 0), LOWQ_SENDQ_SHORT);
    assert_int_equal(lowq_due(q, 5, 0, 0), 0); /* the clock went back */
    lowq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_first_in_first_out),
        cmocka_unit_test(
            test_due_waits_for_a_quiet_pass_and_a_short_send_queue),
        cmocka_unit_test(test_due_never_starves_old_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
