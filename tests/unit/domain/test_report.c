/* test_report.c - the admins' report (domain/report.h) on :memory: with a
 * pinned clock: per tech (credit to the closer) and per company, sessions,
 * median time to answer, abandoned, callbacks, average rating; the date
 * range; report_parse_day. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/report.h"
#include "domain/sessions.h"
#include "domain/settings.h"
#include "runtime/clock.h"
#include "runtime/config.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

#define T0 1767225600 /* 2026-01-01 00:00:00 UTC */
#define DAY 86400

static struct store *st;
static struct domain *dom;
static struct config cfg;

static int setup(void **state)
{
    char err[256];
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tom = {0, "tom@localhost", "Tom Tech", false};
    struct contact c = {0};
    (void)state;
    config_defaults(&cfg);
    st = store_open(testdb_target(":memory:"), err, sizeof err);
    dom = st ? domain_open(st, &cfg, err, sizeof err) : NULL;
    if (!dom)
        return -1;
    assert_int_equal(directory_company_create(dom->dir, &co, &c.company_id),
                     DIR_OK);
    snprintf(c.jid, sizeof c.jid, "alice@localhost");
    assert_int_equal(directory_contact_create(dom->dir, &c, NULL), DIR_OK);
    assert_int_equal(directory_tech_create(dom->dir, &tom, NULL), DIR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    domain_close(dom);
    store_close(st);
    clock_reset();
    return 0;
}

enum end { ENDED, ABANDONED, CALLBACK };

/* A session created at `at`, answered by tom after wait seconds (wait < 0:
 * never), ended how, rated score (0: not). */
static void mk(time_t at, long wait, enum end how, int score)
{
    struct sess_result r;
    struct settings set;
    int64_t ticket, id;
    clock_set(at);
    assert_int_equal(sessions_start_chat(dom->sessions, "alice@localhost", 1,
                                         "Help", &ticket, &id),
                     SESS_OK);
    if (wait >= 0) {
        clock_set(at + wait);
        assert_int_equal(
            sessions_tech_join(dom->sessions, id, "tom@localhost", &r),
            SESS_OK);
    }
    settings_defaults_apply(&set, NULL);
    if (how == ENDED)
        assert_int_equal(
            sessions_end_by_tech(dom->sessions, id, "tom@localhost", NULL, &r),
            SESS_OK);
    else if (how == ABANDONED)
        assert_int_equal(sessions_contact_gone(dom->sessions, id, &r), SESS_OK);
    else
        assert_int_equal(sessions_callback(dom->sessions, id, "alice@localhost",
                                           "+1 555 0100", NULL, &set, at + 3600,
                                           false, &r),
                         SESS_OK);
    if (score)
        assert_int_equal(
            sessions_rate(dom->sessions, id, "alice@localhost", score, NULL),
            SESS_OK);
}

static void test_report(void **state)
{
    struct report rep;
    char err[256];
    (void)state;
    mk(T0, 10, ENDED, 5);
    mk(T0 + 100, 30, ENDED, 2);
    mk(T0 + 200, 20, ENDED, 0);
    mk(T0 + 300, -1, ABANDONED, 0);
    mk(T0 + 400, -1, CALLBACK, 0);
    mk(T0 + 40 * DAY, 99, ENDED, 1); /* outside the range */
    assert_int_equal(
        reports_build(dom->reports, T0, T0 + 30 * DAY, &rep, err, sizeof err),
        0);
    assert_int_equal(rep.n, 3); /* tech "", tech tom, company Acme */
    const struct report_row *none = &rep.rows[0], *tom = &rep.rows[1],
                            *acme = &rep.rows[2];
    assert_int_equal(none->by, REPORT_TECH);
    assert_string_equal(none->key, "");
    assert_int_equal(none->sessions, 2);
    assert_int_equal(none->abandoned, 1);
    assert_int_equal(none->callbacks, 1);
    assert_int_equal(none->median_answer, -1);
    assert_string_equal(tom->key, "tom@localhost");
    assert_string_equal(tom->name, "Tom Tech");
    assert_int_equal(tom->sessions, 3);
    assert_int_equal(tom->median_answer, 20);
    assert_int_equal(tom->ratings, 2);
    assert_true(tom->avg_rating > 3.49 && tom->avg_rating < 3.51);
    assert_int_equal(acme->by, REPORT_COMPANY);
    assert_string_equal(acme->key, "Acme");
    assert_int_equal(acme->sessions, 5);
    assert_int_equal(acme->median_answer, 20);
    assert_int_equal(acme->abandoned, 1);
    assert_int_equal(acme->callbacks, 1);
    report_free(&rep);
    assert_int_equal(
        reports_build(dom->reports, T0 - DAY, T0, &rep, err, sizeof err), 0);
    assert_int_equal(rep.n, 0);
    report_free(&rep);
}

static void test_parse_day(void **state)
{
    time_t t;
    (void)state;
    assert_int_equal(report_parse_day("2026-01-01", &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(report_parse_day("2026-02-30", &t), -1);
    assert_int_equal(report_parse_day("2026-1-01", &t), -1);
    assert_int_equal(report_parse_day("2026-01-01x", &t), -1);
    assert_int_equal(report_parse_day("", &t), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test(test_parse_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
