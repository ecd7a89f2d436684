/* test_office_hours.c - office hours: DST in three zones, midnight-crossing
 * ranges, holidays, parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/office_hours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static time_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

static void make(struct office_hours *oh, const char *zone, const char *week,
                 const char *holidays)
{
    char err[256] = "";
    office_hours_init(oh);
    if (office_hours_set_timezone(oh, zone, err, sizeof err) != 0 ||
        office_hours_parse_week(oh, week, err, sizeof err) != 0 ||
        office_hours_parse_holidays(oh, holidays, err, sizeof err) != 0)
        fail_msg("setup failed: %s", err);
}

#define OPEN(oh, ...) assert_true(office_hours_is_open(oh, utc(__VA_ARGS__)))
#define SHUT(oh, ...) assert_false(office_hours_is_open(oh, utc(__VA_ARGS__)))

static void test_default_is_always_open_utc(void **state)
{
    (void)state;
    struct office_hours oh;
    office_hours_init(&oh);
    assert_string_equal(oh.timezone, "UTC");
    OPEN(&oh, 2026, 1, 1, 0, 0);
    OPEN(&oh, 2026, 7, 4, 23, 59);
}

static void test_london_spring_forward(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "Europe/London", "mon-sun 09:00-17:00", "");
    /* Sat 28 Mar, GMT: 09:00 local = 09:00 UTC. */
    SHUT(&oh, 2026, 3, 28, 8, 59);
    OPEN(&oh, 2026, 3, 28, 9, 0);
    /* Sun 29 Mar, BST from 01:00 UTC: 09:00 local = 08:00 UTC. */
    SHUT(&oh, 2026, 3, 29, 7, 59);
    OPEN(&oh, 2026, 3, 29, 8, 0);
    OPEN(&oh, 2026, 3, 29, 15, 59);
    SHUT(&oh, 2026, 3, 29, 16, 0);
    /* The skipped hour 01:00-02:00 local never happens. */
    make(&oh, "Europe/London", "sun 01:00-02:00", "");
    SHUT(&oh, 2026, 3, 29, 0, 59); /* 00:59 GMT */
    SHUT(&oh, 2026, 3, 29, 1, 0);  /* 02:00 BST */
}

static void test_london_fall_back(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "Europe/London", "mon-sun 09:00-17:00", "");
    OPEN(&oh, 2026, 10, 24, 8, 30); /* Sat 09:30 BST */
    SHUT(&oh, 2026, 10, 25, 8, 30); /* Sun 08:30 GMT */
    OPEN(&oh, 2026, 10, 25, 9, 0);
    /* The repeated hour 01:00-02:00 local is open both times. */
    make(&oh, "Europe/London", "sun 01:00-02:00", "");
    SHUT(&oh, 2026, 10, 24, 23, 59); /* 00:59 BST */
    OPEN(&oh, 2026, 10, 25, 0, 30);  /* 01:30 BST */
    OPEN(&oh, 2026, 10, 25, 1, 30);  /* 01:30 GMT */
    SHUT(&oh, 2026, 10, 25, 2, 0);   /* 02:00 GMT */
}

static void test_new_york_spring_forward(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "America/New_York", "sat-sun 09:00-17:00", "");
    OPEN(&oh, 2026, 3, 7, 14, 0); /* Sat 09:00 EST */
    SHUT(&oh, 2026, 3, 7, 13, 59);
    OPEN(&oh, 2026, 3, 8, 13, 0); /* Sun 09:00 EDT */
    SHUT(&oh, 2026, 3, 8, 12, 59);
    SHUT(&oh, 2026, 3, 8, 21, 0); /* Sun 17:00 EDT */
    /* 01:00-04:00 local lasts two real hours that night. */
    make(&oh, "America/New_York", "sun 01:00-04:00", "");
    SHUT(&oh, 2026, 3, 8, 5, 59); /* 00:59 EST */
    OPEN(&oh, 2026, 3, 8, 6, 0);  /* 01:00 EST */
    OPEN(&oh, 2026, 3, 8, 6, 59); /* 01:59 EST */
    OPEN(&oh, 2026, 3, 8, 7, 0);  /* 03:00 EDT */
    SHUT(&oh, 2026, 3, 8, 8, 0);  /* 04:00 EDT */
}

static void test_new_york_fall_back(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "America/New_York", "sun 01:00-02:00", "");
    SHUT(&oh, 2026, 11, 1, 4, 59); /* 00:59 EDT */
    OPEN(&oh, 2026, 11, 1, 5, 30); /* 01:30 EDT */
    OPEN(&oh, 2026, 11, 1, 6, 30); /* 01:30 EST */
    SHUT(&oh, 2026, 11, 1, 7, 0);  /* 02:00 EST */
    make(&oh, "America/New_York", "sun 09:00-17:00", "");
    OPEN(&oh, 2026, 11, 1, 14, 0); /* 09:00 EST */
    SHUT(&oh, 2026, 11, 1, 13, 59);
}

static void test_auckland_both_transitions(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "Pacific/Auckland", "mon-fri 09:00-17:00", "");
    /* Local Monday morning is Sunday evening in UTC. */
    OPEN(&oh, 2026, 4, 5, 21, 0); /* Mon 6 Apr 09:00 NZST */
    SHUT(&oh, 2026, 4, 5, 20, 59);
    OPEN(&oh, 2026, 4, 3, 3, 59); /* Fri 3 Apr 16:59 NZDT */
    SHUT(&oh, 2026, 4, 3, 4, 0);
    OPEN(&oh, 2026, 9, 27, 20, 0); /* Mon 28 Sep 09:00 NZDT */
    SHUT(&oh, 2026, 9, 27, 19, 59);
    OPEN(&oh, 2026, 9, 24, 21, 0); /* Fri 25 Sep 09:00 NZST */
    SHUT(&oh, 2026, 9, 24, 20, 59);
    /* Fall back (5 Apr): 02:00-03:00 local happens twice. */
    make(&oh, "Pacific/Auckland", "sun 02:00-03:00", "");
    SHUT(&oh, 2026, 4, 4, 12, 59); /* 01:59 NZDT */
    OPEN(&oh, 2026, 4, 4, 13, 0);  /* 02:00 NZDT */
    OPEN(&oh, 2026, 4, 4, 14, 0);  /* 02:00 NZST */
    SHUT(&oh, 2026, 4, 4, 15, 0);  /* 03:00 NZST */
    /* Spring forward (27 Sep): 02:00-03:00 local is skipped. */
    SHUT(&oh, 2026, 9, 26, 13, 59); /* 01:59 NZST */
    SHUT(&oh, 2026, 9, 26, 14, 0);  /* 03:00 NZDT */
}

static void test_range_crossing_midnight(void **state)
{
    (void)state;
    struct office_hours oh;
    /* 2026-01-02 is a Friday. */
    make(&oh, "UTC", "fri 22:00-02:00", "");
    SHUT(&oh, 2026, 1, 2, 21, 59);
    OPEN(&oh, 2026, 1, 2, 22, 0);
    OPEN(&oh, 2026, 1, 3, 1, 59);
    SHUT(&oh, 2026, 1, 3, 2, 0);
    SHUT(&oh, 2026, 1, 3, 22, 30); /* Saturday night: no range */
    SHUT(&oh, 2026, 1, 1, 23, 0);  /* Thursday night */
    /* Saturday's range runs into Sunday (weekday wrap 6 -> 0). */
    make(&oh, "UTC", "sat 23:00-01:00", "");
    OPEN(&oh, 2026, 1, 4, 0, 30);
    SHUT(&oh, 2026, 1, 4, 1, 0);
    /* Crossing midnight in a DST zone: Sat 31 Oct 22:00 EDT to Sun 02:00. */
    make(&oh, "America/New_York", "sat 22:00-02:00", "");
    OPEN(&oh, 2026, 11, 1, 2, 0);  /* Sat 22:00 EDT */
    OPEN(&oh, 2026, 11, 1, 6, 59); /* Sun 01:59 EST */
    SHUT(&oh, 2026, 11, 1, 7, 0);  /* Sun 02:00 EST */
}

static void test_holidays(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "UTC", "mon-sun 09:00-17:00; fri 22:00-02:00", "2026-01-02");
    SHUT(&oh, 2026, 1, 2, 10, 0); /* the holiday itself */
    SHUT(&oh, 2026, 1, 2, 23, 0); /* range starting on the holiday */
    SHUT(&oh, 2026, 1, 3, 1, 0);  /* ... including after midnight */
    OPEN(&oh, 2026, 1, 3, 10, 0); /* next day is normal */
    OPEN(&oh, 2026, 1, 1, 10, 0); /* day before too */
    /* A range that starts the evening before a holiday runs to its end. */
    make(&oh, "UTC", "fri 22:00-02:00; sat 09:00-17:00", "2026-01-03");
    OPEN(&oh, 2026, 1, 3, 1, 0);
    SHUT(&oh, 2026, 1, 3, 10, 0);
    /* Holidays are local dates: 25 Dec in Auckland starts on 24 Dec UTC. */
    make(&oh, "Pacific/Auckland", "always", "2026-12-25");
    OPEN(&oh, 2026, 12, 24, 10, 59); /* 24 Dec 23:59 NZDT */
    SHUT(&oh, 2026, 12, 24, 11, 0);  /* 25 Dec 00:00 NZDT */
    OPEN(&oh, 2026, 12, 25, 11, 0);  /* 26 Dec 00:00 NZDT */
    /* Year boundary: Thu 31 Dec is a holiday, its night range too. */
    make(&oh, "UTC", "thu 22:00-02:00", "2026-12-31");
    SHUT(&oh, 2027, 1, 1, 1, 0);
}

static void test_none_is_always_closed(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "UTC", "none", "");
    SHUT(&oh, 2026, 1, 5, 12, 0);
    SHUT(&oh, 2026, 1, 10, 0, 0);
}

static void test_tz_restored(void **state)
{
    (void)state;
    struct office_hours oh;
    make(&oh, "Pacific/Auckland", "always", "");
    setenv("TZ", "America/New_York", 1);
    tzset();
    (void)office_hours_is_open(&oh, utc(2026, 1, 1, 0, 0));
    assert_string_equal(getenv("TZ"), "America/New_York");
    unsetenv("TZ");
    tzset();
    (void)office_hours_is_open(&oh, utc(2026, 1, 1, 0, 0));
    assert_null(getenv("TZ"));
}

static void expect_week_error(const char *text, const char *needle)
{
    struct office_hours oh, before;
    char err[256] = "";
    make(&oh, "UTC", "mon 09:00-10:00", "");
    before = oh;
    assert_int_equal(office_hours_parse_week(&oh, text, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("error for \"%s\" is \"%s\", want \"%s\"", text, err, needle);
    assert_memory_equal(&oh, &before, sizeof oh); /* unchanged */
}

static void test_week_parse_errors(void **state)
{
    (void)state;
    expect_week_error("mnn-fri 09:00-17:00", "bad day \"mnn\"");
    expect_week_error("mon-frx 09:00-17:00", "bad day \"frx\"");
    expect_week_error("mon-fri 25:00-17:00", "bad time \"25:00\"");
    expect_week_error("mon 9:60-10:00", "bad time \"9:60\"");
    expect_week_error("mon 09:00-24:30", "bad time \"24:30\"");
    expect_week_error("mon 24:00-02:00", "bad time \"24:00\"");
    expect_week_error("mon 09:00-09:00", "empty range \"09:00-09:00\"");
    expect_week_error("mon 09:00", "bad range \"09:00\"");
    expect_week_error("mon-fri", "no hours in \"mon-fri\"");
    expect_week_error("09:00-17:00", "no day given in \"09:00-17:00\"");
    expect_week_error("", "no office hours given");
    expect_week_error("  ;  ", "no office hours given");
    expect_week_error("mon-fri 09:00-17:00; sat 10:00-1200",
                      "in \"sat 10:00-1200\"");
    expect_week_error("mon 01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,"
                      "05:00-06:00,06:00-07:00,07:00-08:00,08:00-09:00,"
                      "09:00-10:00",
                      "too many ranges for mon");
}

static void expect_week_format(const char *text, const char *want)
{
    struct office_hours oh, again;
    char err[256] = "", buf[512];
    office_hours_init(&oh);
    if (office_hours_parse_week(&oh, text, err, sizeof err) != 0)
        fail_msg("\"%s\": %s", text, err);
    assert_int_equal(office_hours_format_week(&oh, buf, sizeof buf), 0);
    assert_string_equal(buf, want);
    again = oh;
    assert_int_equal(office_hours_parse_week(&again, buf, err, sizeof err), 0);
    assert_memory_equal(&again, &oh, sizeof oh);
}

static void test_week_format_round_trip(void **state)
{
    (void)state;
    expect_week_format("mon-fri 09:00-17:00; sat 10:00-12:00",
                       "mon-fri 09:00-17:00; sat 10:00-12:00");
    expect_week_format("sat 10:00-12:00; mon-fri 13:00-17:00, 09:00-12:00",
                       "mon-fri 09:00-12:00,13:00-17:00; sat 10:00-12:00");
    expect_week_format("fri-mon 08:00-09:00",
                       "mon 08:00-09:00; fri-sun 08:00-09:00");
    expect_week_format("Monday 9:00 - 17:00; WED,fri 22:00-00:00",
                       "mon 09:00-17:00; wed 22:00-24:00; "
                       "fri 22:00-24:00");
    expect_week_format("none", "none");
    expect_week_format("always", "mon-sun 00:00-24:00");
    expect_week_format("mon-fri 22:00-02:00;", "mon-fri 22:00-02:00");
    char small[8];
    struct office_hours oh;
    office_hours_init(&oh);
    assert_int_equal(office_hours_format_week(&oh, small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_holidays_parse(void **state)
{
    (void)state;
    struct office_hours oh;
    char err[256] = "", buf[256];
    office_hours_init(&oh);
    assert_int_equal(office_hours_parse_holidays(
                         &oh, "2026-12-26 2026-12-25,2026-12-25, 2028-02-29",
                         err, sizeof err),
                     0);
    assert_int_equal(oh.n_holidays, 3);
    assert_int_equal(office_hours_format_holidays(&oh, buf, sizeof buf), 0);
    assert_string_equal(buf, "2026-12-25,2026-12-26,2028-02-29");
    static const char *const bad[] = {"2026-02-29", "2026-13-01", "tomorrow",
                                      "2026-1-01", "2026-04-31x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "2026-12-25,%s", bad[i]);
        assert_int_equal(
            office_hours_parse_holidays(&oh, text, err, sizeof err), -1);
        if (!strstr(err, bad[i]))
            fail_msg("error \"%s\" does not name \"%s\"", err, bad[i]);
        assert_int_equal(oh.n_holidays, 3); /* unchanged */
    }
    /* the whole bad entry is quoted, not its first word */
    assert_int_equal(
        office_hours_parse_holidays(&oh, "2026-12-25, Dec 32 2026 ;2027-01-01",
                                    err, sizeof err),
        -1);
    assert_non_null(strstr(err, "bad holiday \"Dec 32 2026\""));
    assert_int_equal(office_hours_parse_holidays(&oh, "", err, sizeof err), 0);
    assert_int_equal(oh.n_holidays, 0);
    assert_int_equal(office_hours_format_holidays(&oh, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
}

static void test_timezone_check(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(
        office_hours_check_timezone("Europe/London", err, sizeof err), 0);
    assert_int_equal(office_hours_check_timezone("UTC", err, sizeof err), 0);
    assert_int_equal(
        office_hours_check_timezone("Mars/Olympus", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown timezone \"Mars/Olympus\""));
    assert_int_equal(
        office_hours_check_timezone("../../etc/passwd", err, sizeof err), -1);
    assert_non_null(strstr(err, "bad timezone"));
    assert_int_equal(office_hours_check_timezone("", err, sizeof err), -1);
    assert_int_equal(office_hours_check_timezone("Europe", err, sizeof err),
                     -1);
    struct office_hours oh;
    office_hours_init(&oh);
    assert_int_equal(
        office_hours_set_timezone(&oh, "Nowhere/Land", err, sizeof err), -1);
    assert_string_equal(oh.timezone, "UTC");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_always_open_utc),
        cmocka_unit_test(test_london_spring_forward),
        cmocka_unit_test(test_london_fall_back),
        cmocka_unit_test(test_new_york_spring_forward),
        cmocka_unit_test(test_new_york_fall_back),
        cmocka_unit_test(test_auckland_both_transitions),
        cmocka_unit_test(test_range_crossing_midnight),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_none_is_always_closed),
        cmocka_unit_test(test_tz_restored),
        cmocka_unit_test(test_week_parse_errors),
        cmocka_unit_test(test_week_format_round_trip),
        cmocka_unit_test(test_holidays_parse),
        cmocka_unit_test(test_timezone_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
