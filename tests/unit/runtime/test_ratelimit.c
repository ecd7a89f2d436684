/* test_ratelimit.c - the per-JID token buckets (component/runtime/ratelimit.c) with
 * explicit time, and the hook in dispatch that applies them to stanzas. */
#include "testkit.h"

#include "runtime/config.h"
#include "runtime/lowq.h"
#include "runtime/ratelimit.h"
#include "xep0199_ping.h"

#include <stdlib.h>

/* ---- the buckets ---------------------------------------------------- */

static void test_burst_then_refuse(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(2, 3, 100);
    assert_non_null(rl);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "a@x", 5000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", 5000), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "a@x", 5000), RATELIMIT_OVER);
    assert_int_equal(ratelimit_count(rl), 1);
    assert_int_equal(ratelimit_per_second(rl), 2);
    assert_int_equal(ratelimit_burst(rl), 3);
    ratelimit_free(rl);
}

static void test_refill_at_the_rate(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(2, 3, 100);
    for (int i = 0; i < 3; i++)
        ratelimit_take(rl, "a@x", 1000);
    /* 2 a second: half a token after 250 ms, one after 500 ms */
    assert_int_equal(ratelimit_take(rl, "a@x", 1250), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "a@x", 1500), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", 1500), RATELIMIT_OVER);
    /* refusals do not cost: the next token is due 500 ms after the last */
    assert_int_equal(ratelimit_take(rl, "a@x", 2000), RATELIMIT_PASS);
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "a@x", 3600000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", 3600000), RATELIMIT_OVER);
    ratelimit_free(rl);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1, 1, 100);
    assert_int_equal(ratelimit_take(rl, "a@x", 1000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", 1000), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "b@x", 1000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "A@x", 1000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_count(rl), 3);
    ratelimit_free(rl);
}

static void test_log_every_ten_seconds_with_count(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1, 1, 100);
    unsigned long n = 99;
    ratelimit_take(rl, "a@x", 1000);
    for (int i = 0; i < 5; i++)
        ratelimit_take(rl, "a@x", 1000);
    assert_true(ratelimit_log_due(rl, "a@x", 1000, &n));
    assert_int_equal(n, 5);
    for (uint64_t t = 1000; t < 11000; t += 100) {
        if (ratelimit_take(rl, "a@x", t) == RATELIMIT_OVER)
            assert_false(ratelimit_log_due(rl, "a@x", t, &n));
    }
    assert_int_equal(ratelimit_take(rl, "a@x", 11000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", 11000), RATELIMIT_OVER);
    assert_true(ratelimit_log_due(rl, "a@x", 11000, &n));
    /* 100 tries in the loop, 9 passed (a token a second), then one more */
    assert_int_equal(n, 100 - 9 + 1);
    ratelimit_free(rl);
}

static void test_sweep_drops_full_buckets(void **state)
{
    (void)state;
    /* 10 a second, burst 20: any bucket is full 2 s after its last take */
    struct ratelimit *rl = ratelimit_new(10, 20, 100);
    ratelimit_take(rl, "old@x", 1000);
    ratelimit_take(rl, "mid@x", 2000);
    ratelimit_take(rl, "new@x", 2900);
    assert_int_equal(ratelimit_sweep(rl, 2999), 0);
    assert_int_equal(ratelimit_sweep(rl, 3000), 1); /* old@x */
    assert_int_equal(ratelimit_count(rl), 2);
    /* take() sweeps by itself, at most once a second */
    ratelimit_take(rl, "mid@x", 3500);
    assert_int_equal(ratelimit_count(rl), 2);
    ratelimit_take(rl, "other@x", 5000);
    assert_int_equal(ratelimit_count(rl), 2); /* new@x went, other@x came */
    ratelimit_take(rl, "x@x", 100000);
    assert_int_equal(ratelimit_count(rl), 1);
    ratelimit_free(rl);
}

static void test_cap_evicts_least_recently_used(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1, 1, 3);
    ratelimit_take(rl, "a@x", 1000);
    ratelimit_take(rl, "b@x", 1000);
    ratelimit_take(rl, "c@x", 1000);
    assert_int_equal(ratelimit_take(rl, "a@x", 1000), RATELIMIT_OVER);
    /* b@x is now the least recently used: d@x takes its place */
    assert_int_equal(ratelimit_take(rl, "d@x", 1000), RATELIMIT_PASS);
    assert_int_equal(ratelimit_count(rl), 3);
    assert_int_equal(ratelimit_take(rl, "a@x", 1000), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "c@x", 1000), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "b@x", 1000), RATELIMIT_PASS);
    ratelimit_free(rl);
}

static void test_memory_stays_bounded(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(20, 60, 1000);
    char key[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "user%d@flood.example", i);
        assert_int_equal(ratelimit_take(rl, key, 1000), RATELIMIT_PASS);
        assert_true(ratelimit_count(rl) <= 1000);
    }
    assert_int_equal(ratelimit_count(rl), 1000);
    ratelimit_free(rl);
}

static void test_clock_going_back_and_big_numbers(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1, 2, 10);
    ratelimit_take(rl, "a@x", 50000);
    ratelimit_take(rl, "a@x", 50000);
    assert_int_equal(ratelimit_take(rl, "a@x", 10), RATELIMIT_OVER);
    assert_int_equal(ratelimit_take(rl, "a@x", 51000), RATELIMIT_PASS);
    ratelimit_free(rl);
    rl = ratelimit_new(100000, 100000, 10);
    assert_non_null(rl);
    assert_int_equal(ratelimit_take(rl, "a@x", 0), RATELIMIT_PASS);
    assert_int_equal(ratelimit_take(rl, "a@x", UINT64_MAX / 2), RATELIMIT_PASS);
    ratelimit_free(rl);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(ratelimit_new(0, 1, 1));
    assert_null(ratelimit_new(1, 0, 1));
    assert_null(ratelimit_new(1, 1, 0));
    ratelimit_free(NULL);
    assert_int_equal(ratelimit_take(NULL, "a@x", 1), RATELIMIT_PASS);
    assert_int_equal(ratelimit_count(NULL), 0);
    assert_int_equal(ratelimit_sweep(NULL, 1), 0);
    assert_false(ratelimit_log_due(NULL, "a@x", 1, NULL));
}

/* ---- the hook in dispatch -------------------------------------------- */

static struct config cfg;
static int handled; /* message/presence handler calls */

static enum dispatch_result count_stanza(struct app *app, xmpp_stanza_t *st,
                                         void *ud)
{
    (void)app, (void)st, (void)ud;
    handled++;
    return DISPATCH_HANDLED;
}

/* An app with [limits] rate per second, burst (rate 0: off, -1: no
 * config), ping and a counting message and presence handler. */
static void app_with_limits(int rate, int burst)
{
    testkit_setup();
    config_defaults(&cfg);
    cfg.limit_rate = rate;
    cfg.limit_burst = burst;
    tk.app.cfg = rate >= 0 ? &cfg : NULL;
    handled = 0;
    assert_int_equal(xep0199_register(&tk.app), 0);
    assert_int_equal(
        dispatch_add(tk.app.dispatch, "message", count_stanza, NULL), 0);
    assert_int_equal(
        dispatch_add(tk.app.dispatch, "presence", count_stanza, NULL), 0);
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown();
    return 0;
}

static void ping(const char *from)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<iq type='get' id='p' from='%s' to='helpdesk.localhost'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>",
             from);
    testkit_feed(xml);
}

static void test_iq_over_the_limit_gets_resource_constraint(void **state)
{
    (void)state;
    app_with_limits(1, 3);
    for (int i = 0; i < 3; i++) {
        ping("Flood@localhost/a");
        assert_int_equal(tk.n_sent, 1);
        assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    }
    for (int i = 0; i < 3; i++) {
        ping(i ? "flood@localhost/b" : "flood@localhost/a");
        assert_int_equal(tk.n_sent, 1); /* every iq answered, once */
        assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "error");
        assert_string_equal(testkit_error(0), "resource-constraint");
        assert_true(testkit_contains(0, "type=\"wait\""));
        assert_true(testkit_contains(0, "at most 1 per second"));
        assert_true(testkit_contains(0, "slow down"));
    }
    ping("other@localhost/a"); /* other users are not affected */
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    for (int i = 0; i < 20; i++) { /* nor the server itself */
        ping("localhost");
        assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    }
    testkit_feed("<iq type='result' id='r' from='flood@localhost/a' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(tk.n_sent, 0);
}

static void message(const char *from, const char *type)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<message type='%s' id='m' from='%s' "
             "to='chat-1@helpdesk.localhost'><body>x</body></message>",
             type, from);
    testkit_feed(xml);
}

static void test_every_message_over_the_limit_gets_an_error(void **state)
{
    (void)state;
    app_with_limits(1, 3);
    for (int i = 0; i < 3; i++)
        message("m@localhost/a", "groupchat");
    assert_int_equal(handled, 3);
    for (int i = 0; i < 50; i++) { /* one error each, to the sender only */
        message("m@localhost/a", i % 2 ? "groupchat" : "chat");
        assert_int_equal(tk.n_sent, 1);
        assert_string_equal(testkit_error(0), "resource-constraint");
        assert_true(testkit_contains(0, "type=\"wait\""));
        assert_true(testkit_contains(0, "to=\"m@localhost/a\""));
        assert_true(testkit_contains(0, "from=\"chat-1@helpdesk.localhost\""));
        assert_true(testkit_contains(0, "not delivered"));
        assert_false(testkit_contains(0, "<body>")); /* not a copy */
    }
    assert_int_equal(handled, 3);
    message("m@localhost/a", "error"); /* bounces are still handled */
    assert_int_equal(tk.n_sent, 0);
    assert_int_equal(handled, 4);
}

/* Through dispatch_stanza() without a pass: the answers to refused
 * messages stay in the low-priority queue. */
static void message_held(const char *from, int n)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<message type='groupchat' id='r%d' from='%s' "
             "to='chat-1@helpdesk.localhost'><body>x</body></message>",
             n, from);
    xmpp_stanza_t *s = xmpp_stanza_new_from_string(tk.app.ctx, xml);
    dispatch_stanza(tk.app.dispatch, &tk.app, s);
    xmpp_stanza_release(s);
}

static void assert_answers(int first, int n)
{
    char id[32];
    assert_int_equal(tk.n_sent, n);
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "r%d", first + i);
        assert_string_equal(xmpp_stanza_get_id(tk.sent[i]), id);
        assert_string_equal(testkit_error(i), "resource-constraint");
        assert_true(testkit_contains(i, "to=\"m@localhost/a\""));
        assert_true(testkit_contains(i, "not delivered"));
    }
    testkit_clear();
}

static void test_message_answers_wait_behind_other_traffic(void **state)
{
    (void)state;
    app_with_limits(1, 3);
    for (int i = 0; i < 3; i++)
        message("m@localhost/a", "groupchat");
    testkit_clear();
    for (int i = 0; i < 10; i++)
        message_held("m@localhost/a", i);
    assert_int_equal(tk.n_sent, 0); /* nothing yet: they wait */
    assert_int_equal(dispatch_refusals_pending(tk.app.dispatch), 10);
    ping("other@localhost/a"); /* other traffic goes at once */
    assert_int_equal(tk.n_sent, 1 + 10); /* the pass after it: all ten */
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    xmpp_stanza_release(tk.sent[0]);
    memmove(tk.sent, tk.sent + 1, 10 * sizeof tk.sent[0]);
    tk.n_sent = 10;
    assert_answers(0, 10); /* in the order of the messages */
    for (int i = 10; i < 20; i++)
        message_held("m@localhost/a", i);
    dispatch_send_refusals(tk.app.dispatch, &tk.app, 4); /* the 4 oldest */
    assert_answers(10, 4);
    assert_int_equal(dispatch_refusals_pending(tk.app.dispatch), 6);
    /* a pass after a busy one sends none of the young ones */
    assert_int_equal(dispatch_refusals_due(tk.app.dispatch, 0, 0), 0);
    assert_int_equal(dispatch_refusals_due(tk.app.dispatch, 0, 1), 6);
    assert_int_equal(dispatch_refusals_due(tk.app.dispatch, 500, 1), 0);
    dispatch_send_refusals(tk.app.dispatch, &tk.app, 100);
    assert_answers(14, 6);
    assert_int_equal(dispatch_refusals_pending(tk.app.dispatch), 0);
}

static void test_a_full_queue_answers_its_oldest_at_once(void **state)
{
    (void)state;
    app_with_limits(1, 1);
    message("m@localhost/a", "groupchat");
    testkit_clear();
    for (int i = 0; i < LOWQ_DEFAULT_CAPACITY; i++)
        message_held("m@localhost/a", i);
    assert_int_equal(tk.n_sent, 0);
    /* one more: the oldest goes now, nothing is dropped, order kept */
    for (int i = 0; i < 5; i++)
        message_held("m@localhost/a", LOWQ_DEFAULT_CAPACITY + i);
    assert_answers(0, 5);
    assert_int_equal(dispatch_refusals_pending(tk.app.dispatch),
                     LOWQ_DEFAULT_CAPACITY);
    dispatch_send_refusals(tk.app.dispatch, &tk.app, 60);
    assert_answers(5, 60);
    /* dispatch_free() frees what still waits (ASan: no leak) */
}

static void presence(const char *from, const char *type)
{
    char xml[256];
    snprintf(xml, sizeof xml,
             "<presence%s%s%s from='%s' to='helpdesk.localhost'/>",
             type ? " type='" : "", type ? type : "", type ? "'" : "", from);
    testkit_feed(xml);
}

static void test_presence_over_the_limit(void **state)
{
    (void)state;
    app_with_limits(1, 2);
    presence("p@localhost/a", NULL);
    presence("p@localhost/a", "subscribe");
    assert_int_equal(handled, 2);
    presence("p@localhost/a", NULL); /* available (a join): answered */
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(testkit_error(0), "resource-constraint");
    presence("p@localhost/a", "probe");
    presence("p@localhost/a", "subscribe");
    assert_int_equal(tk.n_sent, 0); /* dropped without an answer */
    assert_int_equal(handled, 2);
    presence("p@localhost/a", "unavailable"); /* always handled */
    presence("p@localhost/a", "error");
    assert_int_equal(handled, 4);
    assert_int_equal(tk.n_sent, 0);
    presence("localhost", NULL); /* the server is not limited */
    assert_int_equal(handled, 5);
}

static void test_no_limit_without_config_or_when_off(void **state)
{
    (void)state;
    for (int off = 0; off < 2; off++) {
        app_with_limits(off ? 0 : -1, 1);
        for (int i = 0; i < 200; i++) {
            ping("busy@localhost/a");
            assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
        }
        if (!off)
            testkit_teardown();
    }
}

static void test_defaults_let_normal_use_through(void **state)
{
    (void)state;
    struct config defaults;
    config_defaults(&defaults);
    assert_int_equal(defaults.limit_rate, 30);
    assert_int_equal(defaults.limit_burst, 150);
    app_with_limits(defaults.limit_rate, defaults.limit_burst);
    for (int i = 0; i < 150; i++) {
        ping("tech@localhost/desk");
        assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    }
    /* the next is refused; on a loaded machine the 150 may have taken
     * long enough (over 33 ms) to earn a token back, so ping until the
     * bucket is empty: a few at most, never a refusal-free run */
    int extra = 0;
    do {
        ping("tech@localhost/desk");
    } while (!testkit_error(0) && ++extra < 100);
    assert_true(extra < 100);
    assert_non_null(testkit_error(0));
    assert_string_equal(testkit_error(0), "resource-constraint");
    assert_true(testkit_contains(0, "at most 30 per second (bursts of 150)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refuse),
        cmocka_unit_test(test_refill_at_the_rate),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_log_every_ten_seconds_with_count),
        cmocka_unit_test(test_sweep_drops_full_buckets),
        cmocka_unit_test(test_cap_evicts_least_recently_used),
        cmocka_unit_test(test_memory_stays_bounded),
        cmocka_unit_test(test_clock_going_back_and_big_numbers),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test_teardown(
            test_iq_over_the_limit_gets_resource_constraint, teardown),
        cmocka_unit_test_teardown(
            test_every_message_over_the_limit_gets_an_error, teardown),
        cmocka_unit_test_teardown(
            test_message_answers_wait_behind_other_traffic, teardown),
        cmocka_unit_test_teardown(test_a_full_queue_answers_its_oldest_at_once,
                                  teardown),
        cmocka_unit_test_teardown(test_presence_over_the_limit, teardown),
        cmocka_unit_test_teardown(test_no_limit_without_config_or_when_off,
                                  teardown),
        cmocka_unit_test_teardown(test_defaults_let_normal_use_through,
                                  teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
