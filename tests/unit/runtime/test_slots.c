/* test_slots.c - the route-slot prober (component/runtime/slots.c): what
 * a round sends, which probes it takes off the stream, and what it decides
 * from the ones that came back: open a connection for a vacant slot, close
 * one that holds none, nothing while one is connecting or at the maximum. */
#include "testkit.h"

#include "runtime/slots.h"

static struct slots *s;

static int setup(void **state)
{
    (void)state;
    testkit_setup();
    s = slots_new(&tk.app, 4);
    assert_non_null(s);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    slots_free(s);
    testkit_teardown();
    return 0;
}

static const enum slots_link ONE[] = {SLOTS_LINK_ONLINE};
static const enum slots_link TWO[] = {SLOTS_LINK_ONLINE, SLOTS_LINK_ONLINE};

/* Run the first round at t=0..SOON: returns when its probes were sent. */
static void send_round(uint64_t *now, const enum slots_link *links,
                       unsigned n)
{
    testkit_clear();
    for (int i = 0; i < 100 && !tk.n_sent; i++) {
        struct slots_action a = slots_poll(s, *now, links, n);
        assert_int_equal(a.what, SLOTS_NOTHING);
        *now += 100;
    }
    assert_int_equal(tk.n_sent, SLOTS_PROBES + 1);
}

/* Probe i of the round just sent comes back on link. */
static void back(int i, unsigned link)
{
    assert_int_equal(slots_receive(s, link, tk.sent[i]), 1);
}

static struct slots_action judge(uint64_t *now, const enum slots_link *links,
                                 unsigned n)
{
    *now += SLOTS_WAIT_MS;
    return slots_poll(s, *now, links, n);
}

static void test_a_round_probes_the_domain(void **state)
{
    (void)state;
    uint64_t now = 1000;
    send_round(&now, ONE, 1);
    for (int i = 0; i < SLOTS_PROBES; i++) {
        char to[64];
        snprintf(to, sizeof to, "probe-%d@helpdesk.localhost", i);
        assert_string_equal(xmpp_stanza_get_to(tk.sent[i]), to);
        assert_string_equal(xmpp_stanza_get_type(tk.sent[i]), "headline");
        assert_string_equal(xmpp_stanza_get_from(tk.sent[i]),
                            "helpdesk.localhost");
        assert_non_null(xmpp_stanza_get_child_by_name_and_ns(
            tk.sent[i], "slot", NS_CHATDESK_SLOTS));
    }
    assert_string_equal(xmpp_stanza_get_to(tk.sent[SLOTS_PROBES]),
                        "helpdesk.localhost");
    /* the next round asks other JIDs */
    for (int i = 0; i <= SLOTS_PROBES; i++)
        back(i, 0);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_NOTHING);
    assert_int_equal(slots_last_back(s), SLOTS_PROBES + 1);
    assert_int_equal(slots_domain_link(s), 0);
    now += SLOTS_PERIOD_MS - 200;
    assert_int_equal(slots_poll(s, now, ONE, 1).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, SLOTS_PROBES + 1); /* not yet */
    send_round(&now, ONE, 1);
    assert_true(testkit_contains(0, "probe-32@"));
}

static void test_a_missing_probe_opens_a_connection(void **state)
{
    (void)state;
    uint64_t now = 0;
    send_round(&now, ONE, 1);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, 0);
    struct slots_action a = judge(&now, ONE, 1);
    assert_int_equal(a.what, SLOTS_OPEN);
    assert_int_equal(slots_last_back(s), SLOTS_PROBES / 2 + 1);
    /* no decision while the new one connects */
    const enum slots_link pending[] = {SLOTS_LINK_ONLINE,
                                       SLOTS_LINK_PENDING};
    send_round(&now, pending, 2);
    assert_int_equal(judge(&now, pending, 2).what, SLOTS_NOTHING);
    /* online, and every probe comes back over the two */
    slots_link_changed(s, 1);
    send_round(&now, TWO, 2);
    for (int i = 0; i <= SLOTS_PROBES; i++)
        back(i, (unsigned)i % 2);
    assert_int_equal(judge(&now, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(slots_last_back(s), SLOTS_PROBES + 1);
}

static void test_at_the_maximum_nothing_opens(void **state)
{
    (void)state;
    uint64_t now = 0;
    const enum slots_link four[] = {SLOTS_LINK_ONLINE, SLOTS_LINK_ONLINE,
                                    SLOTS_LINK_ONLINE, SLOTS_LINK_ONLINE};
    send_round(&now, four, 4);
    for (int i = 1; i <= SLOTS_PROBES; i++)
        back(i, (unsigned)i % 4);
    assert_int_equal(judge(&now, four, 4).what, SLOTS_NOTHING);
}

static void test_a_connection_without_probes_closes(void **state)
{
    (void)state;
    uint64_t now = 0;
    for (int round = 1; round <= SLOTS_IDLE_ROUNDS; round++) {
        send_round(&now, TWO, 2);
        for (int i = 0; i <= SLOTS_PROBES; i++)
            back(i, 0);
        struct slots_action a = judge(&now, TWO, 2);
        if (round < SLOTS_IDLE_ROUNDS) {
            assert_int_equal(a.what, SLOTS_NOTHING);
            now += SLOTS_PERIOD_MS;
        } else {
            assert_int_equal(a.what, SLOTS_CLOSE);
            assert_int_equal(a.link, 1);
        }
    }
}

static void test_only_our_domain_sends_probes(void **state)
{
    (void)state;
    uint64_t now = 0;
    send_round(&now, ONE, 1);
    xmpp_stanza_t *m = xmpp_stanza_copy(tk.sent[0]);
    xmpp_stanza_set_from(m, "tom@localhost/desk");
    assert_int_equal(slots_receive(s, 0, m), 0); /* dispatched as usual */
    xmpp_stanza_release(m);
    m = xmpp_message_new(tk.app.ctx, "chat", "helpdesk.localhost", NULL);
    xmpp_stanza_set_from(m, "helpdesk.localhost");
    assert_int_equal(slots_receive(s, 0, m), 0); /* no <slot/> */
    xmpp_stanza_release(m);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_OPEN);
    assert_int_equal(slots_last_back(s), 0);
}

static int foreign_calls;
static char foreign_round[64];

static void on_foreign(struct app *app, const char *round, int n,
                       unsigned link, void *ud)
{
    (void)app, (void)ud;
    foreign_calls++;
    snprintf(foreign_round, sizeof foreign_round, "%s", round);
    assert_int_equal(n, 5);
    assert_int_equal(link, 1);
}

static void test_another_process_probe(void **state)
{
    (void)state;
    slots_set_foreign(s, on_foreign, NULL);
    xmpp_stanza_t *m = xmpp_stanza_new_from_string(
        tk.app.ctx, "<message from='helpdesk.localhost' to='probe-9@"
                    "helpdesk.localhost' type='headline'><slot xmlns='"
                    "urn:chatdesk:slots' round='other-7' n='5'/></message>");
    assert_int_equal(slots_receive(s, 1, m), 1);
    xmpp_stanza_release(m);
    assert_int_equal(foreign_calls, 1);
    assert_string_equal(foreign_round, "other-7");
}

/* Probes another process received count as answered: its slots are
 * held, not vacant, and nothing is opened. */
static int elsewhere_calls;

static int others_got_the_odd_ones(struct app *app, const char *round,
                                   unsigned char *seen, size_t nseen,
                                   void *ud)
{
    (void)app, (void)round, (void)ud;
    elsewhere_calls++;
    for (size_t k = 1; k < nseen; k += 2)
        seen[k] = 1;
    return (int)(nseen / 2);
}

static void test_probes_other_processes_got(void **state)
{
    (void)state;
    uint64_t now = 0;
    slots_set_elsewhere(s, others_got_the_odd_ones, NULL);
    send_round(&now, ONE, 1);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, 0);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_NOTHING);
    assert_int_equal(elsewhere_calls, 1);
    assert_int_equal(slots_last_back(s), SLOTS_PROBES + 1);
    /* and a round where others got them but some still vanish */
    now += SLOTS_PERIOD_MS;
    send_round(&now, ONE, 1);
    back(0, 0);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_OPEN);
}

/* Another process died (runtime/cluster.h): the next round goes out at
 * once, or after the delay, not at the end of the period; a round in
 * flight is judged first. slots_held() counts the connections that got a
 * probe. */
static void test_hurry_and_held(void **state)
{
    (void)state;
    uint64_t now = 0;
    send_round(&now, TWO, 2);
    for (int i = 0; i <= SLOTS_PROBES; i++)
        back(i, 0); /* all on #0: #1 holds no slot */
    slots_hurry(s, now, 0, 0); /* while the round is in flight */
    assert_int_equal(judge(&now, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(slots_held(s), 1);
    testkit_clear();
    now += 1;
    assert_int_equal(slots_poll(s, now, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, SLOTS_PROBES + 1); /* at once, not +5 s */
    for (int i = 0; i <= SLOTS_PROBES; i++)
        back(i, (unsigned)i % 2);
    assert_int_equal(judge(&now, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(slots_held(s), 2);
    /* a later hurry: not before its time, then well before the period */
    testkit_clear();
    slots_hurry(s, now, 2000, 0);
    assert_int_equal(slots_poll(s, now + 1500, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, 0);
    assert_int_equal(slots_poll(s, now + 2000, TWO, 2).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, SLOTS_PROBES + 1);
    assert_true(2000 < SLOTS_PERIOD_MS);
}

/* A process that held two slots died: the round that finds slots vacant
 * opens two connections at once, not one a round; never beyond the
 * maximum (4 here), and only for that round. */
static void test_hurry_opens_what_the_dead_held(void **state)
{
    (void)state;
    uint64_t now = 0;
    const enum slots_link three[] = {SLOTS_LINK_ONLINE, SLOTS_LINK_ONLINE,
                                     SLOTS_LINK_ONLINE};
    slots_hurry(s, now, 0, 5); /* more than the maximum allows */
    send_round(&now, three, 3);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, (unsigned)i % 3);
    assert_int_equal(judge(&now, three, 3).what, SLOTS_OPEN);
    assert_int_equal(slots_poll(s, now + 1, three, 3).what, SLOTS_NOTHING);
    /* two online and every probe back: then a vacancy opens one only */
    now += SLOTS_PERIOD_MS;
    slots_hurry(s, now, 0, 2);
    send_round(&now, TWO, 2);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, (unsigned)i % 2);
    assert_int_equal(judge(&now, TWO, 2).what, SLOTS_OPEN);
    assert_int_equal(slots_poll(s, now + 1, TWO, 2).what, SLOTS_OPEN);
    assert_int_equal(slots_poll(s, now + 2, TWO, 2).what, SLOTS_NOTHING);
    /* later, a vacancy without a hurry: one connection */
    now += SLOTS_PERIOD_MS;
    send_round(&now, three, 3);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, (unsigned)i % 3);
    assert_int_equal(judge(&now, three, 3).what, SLOTS_OPEN);
    assert_int_equal(slots_poll(s, now + 1, three, 3).what, SLOTS_NOTHING);
}

/* Another process goes first (slots_hurry with a delay): a vacancy a
 * round finds before the hurried round opens nothing; the hurried round
 * opens a connection if the slot is still vacant. */
static void test_a_deferred_hurry_lets_the_first_fill(void **state)
{
    (void)state;
    uint64_t now = 0;
    send_round(&now, ONE, 1); /* a regular round, in flight */
    slots_hurry(s, now, 2500, 0);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, 0);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_NOTHING); /* defer */
    testkit_clear();
    assert_int_equal(slots_poll(s, now + 1000, ONE, 1).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, 0); /* the hurried round not yet */
    now += 1500;
    assert_int_equal(slots_poll(s, now, ONE, 1).what, SLOTS_NOTHING);
    assert_int_equal(tk.n_sent, SLOTS_PROBES + 1);
    for (int i = 0; i <= SLOTS_PROBES; i += 2)
        back(i, 0);
    assert_int_equal(judge(&now, ONE, 1).what, SLOTS_OPEN); /* still */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_round_probes_the_domain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_missing_probe_opens_a_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_at_the_maximum_nothing_opens,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_connection_without_probes_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_our_domain_sends_probes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_process_probe, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hurry_and_held, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hurry_opens_what_the_dead_held,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_deferred_hurry_lets_the_first_fill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_probes_other_processes_got,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
