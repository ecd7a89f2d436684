/* test_audit.c - the audit trail (domain/audit.h) on :memory: with a
 * pinned clock: a change is recorded with who, when, object, key, old and
 * new; no change, no entry; newest first; paging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/audit.h"
#include "runtime/clock.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

#define T0 1767225600

static struct store *st;
static struct audit *a;

static int setup(void **state)
{
    char err[256];
    (void)state;
    st = store_open(testdb_target(":memory:"), err, sizeof err);
    a = st ? audit_open(st, err, sizeof err) : NULL;
    clock_set(T0);
    return a ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    audit_close(a);
    store_close(st);
    clock_reset();
    return 0;
}

static void test_record_and_list(void **state)
{
    struct audit_list l;
    char key[16];
    (void)state;
    assert_int_equal(audit_record(a, "admin@localhost", "settings",
                                  "answer_timeout", "60", "90"),
                     AUDIT_OK);
    assert_int_equal(
        audit_record(a, "admin@localhost", "settings", "chat", "on", "on"),
        AUDIT_OK); /* unchanged: nothing */
    clock_set(T0 + 5);
    assert_int_equal(
        audit_record(a, "chatdeskctl", "tech:tom@localhost", "*", "tech", NULL),
        AUDIT_OK);
    assert_int_equal(audit_list(a, 0, 10, &l), AUDIT_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].who, "chatdeskctl");
    assert_string_equal(l.items[0].object, "tech:tom@localhost");
    assert_string_equal(l.items[0].new_value, "");
    assert_int_equal(l.items[0].at, T0 + 5);
    assert_string_equal(l.items[1].key, "answer_timeout");
    assert_string_equal(l.items[1].old_value, "60");
    assert_string_equal(l.items[1].new_value, "90");
    audit_list_free(&l);
    for (int i = 0; i < 7; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(audit_record(a, "x", "o", key, "", "v"), AUDIT_OK);
    }
    assert_int_equal(audit_list(a, 3, 4, &l), AUDIT_OK);
    assert_int_equal(l.n, 4);
    assert_string_equal(l.items[0].key, "k3");
    assert_string_equal(l.items[3].key, "k0");
    audit_list_free(&l);
    assert_int_equal(audit_list(a, 100, 4, &l), AUDIT_OK);
    assert_int_equal(l.n, 0);
    audit_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_and_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
