/* test_settings.c - defaults, round trip, validation, unset, on :memory:. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/settings.h"
#include "runtime/store.h"

#include <string.h>

struct fixture {
    struct store *st;
    struct settings_store *ss;
};

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.ss = fx.st ? settings_open(fx.st, err, sizeof err) : NULL;
    if (!fx.ss) {
        print_error("setup: %s\n", err);
        store_close(fx.st);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    settings_close(fx->ss);
    store_close(fx->st);
    return 0;
}

static const struct settings_defaults defs = {45, 1800};

static void test_defaults(void **state)
{
    struct fixture *fx = *state;
    struct settings s;
    char err[256], buf[256];
    assert_int_equal(settings_load(fx->ss, &defs, &s, err, sizeof err), 0);
    assert_true(s.chat);
    assert_true(s.pre_ticket);
    assert_true(s.callback);
    assert_int_equal(s.answer_timeout, 45);
    assert_int_equal(s.idle_timeout, 1800);
    assert_string_equal(s.hours.timezone, "UTC");
    assert_int_equal(settings_value(&s, "office_hours", buf, sizeof buf), 0);
    assert_string_equal(buf, "mon-sun 00:00-24:00");
    assert_int_equal(settings_load(fx->ss, NULL, &s, err, sizeof err), 0);
    assert_int_equal(s.answer_timeout, 60);
    assert_int_equal(s.idle_timeout, 3600);
    assert_int_equal(settings_is_stored(fx->ss, "chat"), 0);
}

static void test_round_trip(void **state)
{
    struct fixture *fx = *state;
    static const char *const in[][3] = {
        /* key, value given, canonical value read back */
        {"chat", "off", "off"},
        {"pre-ticket", "false", "off"},
        {"callback", "1", "on"},
        {"timezone", "Europe/London", "Europe/London"},
        {"office_hours", "sat 10:00-12:00; Mon-Fri 9:00-17:00",
         "mon-fri 09:00-17:00; sat 10:00-12:00"},
        {"holidays", "2026-12-26 2026-12-25", "2026-12-25,2026-12-26"},
        {"answer_timeout", "90", "90"},
        {"idle-timeout", "604800", "604800"},
    };
    char err[256], buf[256];
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        if (settings_set(fx->ss, in[i][0], in[i][1], err, sizeof err) != 0)
            fail_msg("set %s: %s", in[i][0], err);
    }
    struct settings s;
    assert_int_equal(settings_load(fx->ss, &defs, &s, err, sizeof err), 0);
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        assert_int_equal(settings_value(&s, in[i][0], buf, sizeof buf), 0);
        assert_string_equal(buf, in[i][2]);
        assert_int_equal(settings_is_stored(fx->ss, in[i][0]), 1);
    }
    assert_false(s.chat);
    assert_false(s.pre_ticket);
    assert_int_equal(s.answer_timeout, 90);
    assert_int_equal(s.hours.n_holidays, 2);
    /* Unset: back to the config default. */
    assert_int_equal(settings_unset(fx->ss, "answer-timeout", err, sizeof err),
                     0);
    assert_int_equal(settings_load(fx->ss, &defs, &s, err, sizeof err), 0);
    assert_int_equal(s.answer_timeout, 45);
    assert_int_equal(settings_is_stored(fx->ss, "answer_timeout"), 0);
}

static void expect_set_error(struct settings_store *ss, const char *key,
                             const char *value, const char *needle)
{
    char err[256] = "";
    assert_int_equal(settings_set(ss, key, value, err, sizeof err), -1);
    if (!strstr(err, needle))
        fail_msg("set %s=%s: error \"%s\" lacks \"%s\"", key, value, err,
                 needle);
}

static void test_validation(void **state)
{
    struct fixture *fx = *state;
    expect_set_error(fx->ss, "chat", "inherit", "chat: \"inherit\" is not");
    expect_set_error(fx->ss, "chat", "maybe", "is not on or off");
    expect_set_error(fx->ss, "colour", "red", "unknown setting \"colour\"");
    expect_set_error(fx->ss, "timezone", "Mars/Base", "unknown timezone");
    expect_set_error(fx->ss, "office_hours", "mon-fry 09:00-17:00",
                     "office_hours: bad day \"fry\"");
    expect_set_error(fx->ss, "holidays", "2026-02-30",
                     "holidays: bad holiday \"2026-02-30\"");
    expect_set_error(fx->ss, "answer_timeout", "-1", "answer_timeout:");
    expect_set_error(fx->ss, "idle_timeout", "10s", "idle_timeout:");
    expect_set_error(fx->ss, "idle_timeout", "", "idle_timeout:");
    /* the one rule of config_timeout_parse(), as in the config file and
     * the settings command */
    expect_set_error(fx->ss, "answer_timeout", "0",
                     "answer_timeout: must be a whole number of seconds "
                     "from 1 to 604800, not \"0\"");
    expect_set_error(fx->ss, "idle_timeout", "604801",
                     "not \"604801\"");
    /* Nothing was stored by the failures. */
    for (size_t i = 0; settings_keys[i]; i++)
        assert_int_equal(settings_is_stored(fx->ss, settings_keys[i]), 0);
    assert_int_equal(settings_is_stored(fx->ss, "colour"), -1);
}

static void test_corrupt_value_is_reported(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct settings s;
    assert_int_equal(db_exec(store_db(fx->st), "INSERT INTO settings VALUES "
                                  "('idle_timeout', 'soon'),"
                                  "('future_key', 'x')", NULL),
                     DB_OK);
    assert_int_equal(settings_load(fx->ss, &defs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "idle_timeout"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_value_is_reported, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
