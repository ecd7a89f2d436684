/* test_dispatch.c - the dispatch table and the built-in XEPs (disco,
 * version, ping), stanza by stanza, and the group-commit flush hook. */
#include "testkit.h"

#include "runtime/conn.h"
#include "xep0030_disco.h"
#include "xep0092_version.h"
#include "xep0199_ping.h"

static int group_setup(void **state)
{
    (void)state;
    testkit_setup();
    assert_int_equal(xep0030_register(&tk.app), 0);
    assert_int_equal(xep0092_register(&tk.app), 0);
    assert_int_equal(xep0199_register(&tk.app), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    testkit_teardown();
    return 0;
}

static int timer_calls, flush_calls, flushed_before_timer;

static void count_flush(struct app *app)
{
    (void)app;
    flush_calls++;
}

static void count_timer(struct app *app)
{
    (void)app;
    flushed_before_timer = flush_calls > 0;
    timer_calls++;
}

/* Timers run once when due, after the group commit is flushed; set again
 * re-arms, cancel disarms. */
static void test_timers(void **state)
{
    (void)state;
    struct dispatch *d = tk.app.dispatch;
    tk.app.flush = count_flush;
    timer_calls = flush_calls = flushed_before_timer = 0;
    assert_int_equal(dispatch_timer_set(d, count_timer, 60000), 0);
    dispatch_run_timers(d, &tk.app);
    assert_int_equal(timer_calls, 0); /* not due */
    assert_int_equal(dispatch_timer_set(d, count_timer, 0), 0); /* re-arm */
    dispatch_run_timers(d, &tk.app);
    assert_int_equal(timer_calls, 1);
    assert_true(flushed_before_timer);
    dispatch_run_timers(d, &tk.app);
    assert_int_equal(timer_calls, 1); /* one-shot */
    assert_int_equal(dispatch_timer_set(d, count_timer, 0), 0);
    dispatch_timer_cancel(d, count_timer);
    dispatch_run_timers(d, &tk.app);
    assert_int_equal(timer_calls, 1);
    tk.app.flush = NULL;
}

static void test_ping_answered(void **state)
{
    (void)state;
    testkit_feed("<iq type='get' id='p1' from='a@localhost/r' "
                 "to='helpdesk.localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    assert_string_equal(xmpp_stanza_get_id(tk.sent[0]), "p1");
    assert_string_equal(xmpp_stanza_get_to(tk.sent[0]), "a@localhost/r");
    assert_string_equal(xmpp_stanza_get_from(tk.sent[0]),
                        "helpdesk.localhost");
}

static void test_unknown_iq_is_service_unavailable(void **state)
{
    (void)state;
    const char *types[] = {"get", "set"};
    for (int i = 0; i < 2; i++) {
        char xml[256];
        snprintf(xml, sizeof xml,
                 "<iq type='%s' id='u' from='a@localhost/r' "
                 "to='helpdesk.localhost'><q xmlns='urn:x:unknown'/></iq>",
                 types[i]);
        testkit_feed(xml);
        assert_int_equal(tk.n_sent, 1);
        assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "error");
        assert_string_equal(testkit_error(0), "service-unavailable");
        assert_true(testkit_contains(0, "<text"));
    }
}

static void test_iq_without_payload_is_bad_request(void **state)
{
    (void)state;
    testkit_feed("<iq type='get' id='e' from='a@localhost/r' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(testkit_error(0), "bad-request");
}

static void test_results_and_errors_are_not_answered(void **state)
{
    (void)state;
    testkit_feed("<iq type='result' id='r' from='a@localhost/r' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(tk.n_sent, 0);
    testkit_feed("<iq type='error' id='r' from='a@localhost/r' "
                 "to='helpdesk.localhost'><q xmlns='urn:x'/></iq>");
    assert_int_equal(tk.n_sent, 0);
}

/* dispatch_await(): the reply with our id from the JID we asked, once;
 * the same id from anyone else is ignored. xep0030_info_has_feature()
 * reads the answer. */
static int replies, had_feature;

static void on_reply(struct app *app, xmpp_stanza_t *reply, void *ud)
{
    (void)app;
    assert_ptr_equal(ud, &replies);
    replies++;
    had_feature = xep0030_info_has_feature(reply, "urn:x:want");
}

static void test_await_reply(void **state)
{
    (void)state;
    replies = had_feature = 0;
    assert_int_equal(dispatch_await(tk.app.dispatch, "q1",
                                    "multicast.localhost", on_reply,
                                    &replies),
                     0);
    testkit_feed("<iq type='result' id='q1' from='mallory@localhost/r' "
                 "to='helpdesk.localhost'><query xmlns='http://jabber.org/"
                 "protocol/disco#info'><feature var='urn:x:want'/></query>"
                 "</iq>");
    assert_int_equal(replies, 0);
    testkit_feed("<iq type='result' id='q1' from='Multicast.localhost' "
                 "to='helpdesk.localhost'><query xmlns='http://jabber.org/"
                 "protocol/disco#info'><feature var='urn:x:other'/>"
                 "<feature var='urn:x:want'/></query></iq>");
    assert_int_equal(replies, 1);
    assert_int_equal(had_feature, 1);
    testkit_feed("<iq type='result' id='q1' from='multicast.localhost' "
                 "to='helpdesk.localhost'/>");
    assert_int_equal(replies, 1); /* once */
    assert_int_equal(tk.n_sent, 0);
    assert_int_equal(dispatch_await(tk.app.dispatch, "q2",
                                    "multicast.localhost", on_reply,
                                    &replies),
                     0);
    testkit_feed("<iq type='error' id='q2' from='multicast.localhost' "
                 "to='helpdesk.localhost'><error type='cancel'>"
                 "<service-unavailable xmlns='urn:ietf:params:xml:ns:"
                 "xmpp-stanzas'/></error></iq>");
    assert_int_equal(replies, 2);
    assert_int_equal(had_feature, 0); /* an error lists no feature */
    for (int i = 0; i < DISPATCH_AWAITS; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%d", i);
        assert_int_equal(dispatch_await(tk.app.dispatch, id, "x.localhost",
                                        on_reply, &replies),
                         0);
    }
    assert_int_equal(dispatch_await(tk.app.dispatch, "k0", "x.localhost",
                                    on_reply, &replies),
                     0); /* the same id again replaces it */
    assert_int_equal(dispatch_await(tk.app.dispatch, "full", "x.localhost",
                                    on_reply, &replies),
                     -1);
}

static void test_disco_info(void **state)
{
    (void)state;
    testkit_feed("<iq type='get' id='d' from='a@localhost/r' "
                 "to='helpdesk.localhost'><query "
                 "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_string_equal(xmpp_stanza_get_type(tk.sent[0]), "result");
    assert_true(testkit_contains(0, "category=\"component\""));
    assert_true(testkit_contains(0, "var=\"urn:xmpp:ping\""));
    assert_true(testkit_contains(0, "var=\"jabber:iq:version\""));
    testkit_feed("<iq type='get' id='d2' from='a@localhost/r' "
                 "to='helpdesk.localhost'><query node='nope' "
                 "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    assert_string_equal(testkit_error(0), "item-not-found");
}

static void test_version(void **state)
{
    (void)state;
    testkit_feed("<iq type='get' id='v' from='a@localhost/r' "
                 "to='helpdesk.localhost'><query "
                 "xmlns='jabber:iq:version'/></iq>");
    assert_int_equal(tk.n_sent, 1);
    assert_true(testkit_contains(0, "<name>chatdesk</name>"));
    assert_true(testkit_contains(0, "<version>" CHATDESK_VERSION));
}

static int calls[2];

static enum dispatch_result first(struct app *app, xmpp_stanza_t *s,
                                  void *ud)
{
    (void)app, (void)s, (void)ud;
    calls[0]++;
    return DISPATCH_PASS;
}

static enum dispatch_result second(struct app *app, xmpp_stanza_t *s,
                                   void *ud)
{
    (void)app, (void)s, (void)ud;
    calls[1]++;
    return DISPATCH_HANDLED;
}

static void test_message_handlers_in_order(void **state)
{
    (void)state;
    assert_int_equal(dispatch_add(tk.app.dispatch, "message", first, NULL),
                     0);
    assert_int_equal(dispatch_add(tk.app.dispatch, "message", second, NULL),
                     0);
    assert_int_equal(dispatch_add(tk.app.dispatch, "presence", first, NULL),
                     0);
    assert_int_equal(dispatch_add(tk.app.dispatch, "bogus", first, NULL),
                     -1);
    testkit_feed("<message from='a@localhost/r' to='helpdesk.localhost'>"
                 "<body>hi</body></message>");
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], 1);
    testkit_feed("<presence from='a@localhost/r' to='helpdesk.localhost'/>");
    assert_int_equal(calls[0], 2);
    assert_int_equal(calls[1], 1);
}

/* ---- group commit: app->flush before everything but groupchat ---------- */

static char trail[32]; /* 'F': app->flush, 'H': a handler, in call order */
static struct dispatch *saved_dispatch;

static void trail_add(char c)
{
    size_t n = strlen(trail);
    assert_true(n + 1 < sizeof trail);
    trail[n] = c;
}

static void flush_hook(struct app *app)
{
    assert_ptr_equal(app, &tk.app);
    trail_add('F');
}

static enum dispatch_result trail_stanza(struct app *app, xmpp_stanza_t *s,
                                         void *ud)
{
    (void)app, (void)s, (void)ud;
    trail_add('H');
    return DISPATCH_HANDLED;
}

static void trail_iq(struct app *app, xmpp_stanza_t *iq, xmpp_stanza_t *p,
                     void *ud)
{
    (void)p, (void)ud;
    trail_add('H');
    send_error(app, iq, "cancel", "feature-not-implemented", "test");
}

/* A dispatch table of its own (the group's has handlers that swallow
 * messages) with recording handlers, and the flush hook. */
static int flush_setup(void **state)
{
    (void)state;
    saved_dispatch = tk.app.dispatch;
    tk.app.dispatch = dispatch_new();
    assert_non_null(tk.app.dispatch);
    assert_int_equal(dispatch_add_iq(tk.app.dispatch, "get", "q", "urn:x:flush",
                                     trail_iq, NULL),
                     0);
    assert_int_equal(
        dispatch_add(tk.app.dispatch, "message", trail_stanza, NULL), 0);
    assert_int_equal(
        dispatch_add(tk.app.dispatch, "presence", trail_stanza, NULL), 0);
    tk.app.flush = flush_hook;
    return 0;
}

static int flush_teardown(void **state)
{
    (void)state;
    testkit_clear();
    dispatch_free(tk.app.dispatch);
    tk.app.dispatch = saved_dispatch;
    tk.app.flush = NULL;
    return 0;
}

/* Feed xml; the trail it left is want. */
static void expect_trail(const char *xml, const char *want)
{
    memset(trail, 0, sizeof trail);
    testkit_feed(xml);
    if (strcmp(trail, want))
        fail_msg("%s: trail '%s', want '%s'", xml, trail, want);
}

static void test_flush_before_all_but_groupchat(void **state)
{
    (void)state;
    expect_trail("<iq type='get' id='f' from='a@localhost/r' "
                 "to='helpdesk.localhost'><q xmlns='urn:x:flush'/></iq>",
                 "FH");
    expect_trail("<presence from='a@localhost/r' to='room@helpdesk.localhost/"
                 "A'/>",
                 "FH");
    expect_trail("<message type='chat' from='a@localhost/r' "
                 "to='helpdesk.localhost'><body>hi</body></message>",
                 "FH");
    expect_trail("<message from='a@localhost/r' to='helpdesk.localhost'>"
                 "<body>normal</body></message>",
                 "FH");
    expect_trail("<message type='error' from='a@localhost/r' "
                 "to='room@helpdesk.localhost'/>",
                 "FH");
    /* results too: an iq the table does not route still flushes */
    expect_trail("<iq type='result' id='r' from='a@localhost/r' "
                 "to='helpdesk.localhost'/>",
                 "F");
    /* groupchat may pass what is held: no flush */
    expect_trail("<message type='groupchat' from='a@localhost/r' "
                 "to='room@helpdesk.localhost'><body>x</body></message>",
                 "H");
    expect_trail("<message type='groupchat' from='a@localhost/r' "
                 "to='room@helpdesk.localhost'><composing xmlns='http://"
                 "jabber.org/protocol/chatstates'/></message>",
                 "H");
    /* no hook: nothing to call */
    tk.app.flush = NULL;
    expect_trail("<presence from='a@localhost/r' to='helpdesk.localhost'/>",
                 "H");
}

static void test_backoff_is_capped_exponential(void **state)
{
    (void)state;
    assert_int_equal(conn_backoff_ms(0, 30000), 250);
    assert_int_equal(conn_backoff_ms(1, 30000), 500);
    assert_int_equal(conn_backoff_ms(2, 30000), 1000);
    assert_int_equal(conn_backoff_ms(6, 30000), 16000);
    assert_int_equal(conn_backoff_ms(7, 30000), 30000);
    assert_int_equal(conn_backoff_ms(1000, 30000), 30000);
    assert_int_equal(conn_backoff_ms(3, 2000), 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers),
        cmocka_unit_test(test_ping_answered),
        cmocka_unit_test(test_unknown_iq_is_service_unavailable),
        cmocka_unit_test(test_iq_without_payload_is_bad_request),
        cmocka_unit_test(test_results_and_errors_are_not_answered),
        cmocka_unit_test(test_disco_info),
        cmocka_unit_test(test_await_reply),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_message_handlers_in_order),
        cmocka_unit_test_setup_teardown(test_flush_before_all_but_groupchat,
                                        flush_setup, flush_teardown),
        cmocka_unit_test(test_backoff_is_capped_exponential),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
