/* test_commands_rating.c - rate and report (commands/rating.c) through the
 * ad-hoc framework on a ":memory:" store with a pinned clock: the score
 * rule, once per ended session, the report table and its date fields. */
#include "testkit.h"

#include "commands/rating.h"
#include "domain/directory.h"
#include "domain/sessions.h"
#include "runtime/clock.h"

#include <stdbool.h>

#define T0 1767261600 /* 2026-01-01T10:00:00Z */
#define ALICE "alice@localhost/portal"
#define ADMIN "admin@localhost/gajim"
#define FIELD(var, value)                                                      \
    "<field var='" var "'><value>" value "</value></field>"
#define SUBMIT(fields) "<x xmlns='jabber:x:data' type='submit'>" fields "</x>"

static struct domain *dom(void)
{
    return tk.app.domain;
}

/* Alice's session 1, taken by Tess after 30 s, ended. */
static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tess = {0, "tess@localhost", "Tess", false};
    struct contact c = {0};
    struct sess_result r;
    int64_t ticket, id;
    (void)state;
    testkit_setup_domain();
    assert_int_equal(commands_rating_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &c.company_id),
                     DIR_OK);
    snprintf(c.jid, sizeof c.jid, "alice@localhost");
    assert_int_equal(directory_contact_create(dom()->dir, &c, &c.id), DIR_OK);
    assert_int_equal(directory_tech_create(dom()->dir, &tess, NULL), DIR_OK);
    clock_set(T0);
    assert_int_equal(sessions_start_chat(dom()->sessions, c.jid, c.id,
                                         "Printer", &ticket, &id),
                     SESS_OK);
    clock_set(T0 + 30);
    assert_int_equal(
        sessions_tech_join(dom()->sessions, id, "tess@localhost", &r), SESS_OK);
    assert_int_equal(
        sessions_end_by_tech(dom()->sessions, id, "tess@localhost", NULL, &r),
        SESS_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

static xmpp_stanza_t *run(const char *from, const char *node,
                          const char *payload)
{
    return testkit_command(from, node, NULL, NULL, payload);
}

static void test_rate(void **state)
{
    (void)state;
    testkit_expect_status(run(ALICE, "rate", NULL), "executing");
    testkit_expect_error(
        run(ALICE, "rate", SUBMIT(FIELD("session", "1") FIELD("score", "0"))),
        "modify", "bad-request", "got \"0\"");
    testkit_expect_error(
        run(ALICE, "rate", SUBMIT(FIELD("session", "1") FIELD("score", "10"))),
        "modify", "bad-request", "got \"10\"");
    xmpp_stanza_t *r = run(ALICE, "rate",
                           SUBMIT(FIELD("session", "1") FIELD("score", "5")
                                      FIELD("comment", "Great")));
    testkit_expect_status(r, "completed");
    testkit_expect_error(
        run(ALICE, "rate", SUBMIT(FIELD("session", "1") FIELD("score", "4"))),
        "cancel", "not-allowed", "rated already");
    testkit_expect_error(run("tess@localhost/dino", "rate", NULL), NULL,
                         "forbidden", "");
}

static void test_report(void **state)
{
    (void)state;
    assert_int_equal(
        sessions_rate(dom()->sessions, 1, "alice@localhost", 3, NULL), SESS_OK);
    clock_set(T0 + 86400);
    xmpp_stanza_t *r = run(ADMIN, "report", SUBMIT(""));
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    assert_int_equal(f->n_reported, 7);
    assert_int_equal(f->n_items, 2); /* tech Tess, company Acme */
    form_free(f);
    assert_true(testkit_contains(0, "Tess"));
    assert_true(testkit_contains(0, "3.0"));
    /* a range without the session: no rows */
    r = run(ADMIN, "report",
            SUBMIT(FIELD("since", "2025-01-01") FIELD("until", "2025-12-31")));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 0);
    form_free(f);
    testkit_expect_error(run(ADMIN, "report", SUBMIT(FIELD("until", "soon"))),
                         "modify", "bad-request", "got \"soon\"");
    testkit_expect_error(
        run(ADMIN, "report",
            SUBMIT(FIELD("since", "2026-02-01") FIELD("until", "2026-01-01"))),
        "modify", "bad-request", "since");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
