/* test_audit.c - the audit trail (domain/audit.h) on :memory: with a
 * pinned clock: a change is recorded with who, when, object, key, old and
 * new; no change, no entry; newest first; paging; a change and its entries
 * in one transaction (audit_change_*). */
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

static size_t entries(void)
{
    struct audit_list l;
    assert_int_equal(audit_list(a, 0, 100, &l), AUDIT_OK);
    size_t n = l.n;
    audit_list_free(&l);
    return n;
}

/* Committed when every entry was written; rolled back when one was not, or
 * when the change itself failed; each failure named for a person. */
static void test_change_transaction(void **state)
{
    (void)state;
    assert_int_equal(audit_change_begin(a), AUDIT_CHANGE_DONE);
    assert_int_equal(audit_record(a, "x", "o", "kept", "", "v"), AUDIT_OK);
    assert_int_equal(audit_change_end(a, 1), AUDIT_CHANGE_DONE);
    assert_int_equal(entries(), 1);
    assert_int_equal(audit_change_begin(a), AUDIT_CHANGE_DONE);
    assert_int_equal(audit_record(a, "x", "o", "lost", "", "v"), AUDIT_OK);
    assert_int_equal(audit_change_end(a, 0), AUDIT_CHANGE_RECORD);
    assert_int_equal(entries(), 1);
    assert_int_equal(audit_change_begin(a), AUDIT_CHANGE_DONE);
    assert_int_equal(audit_record(a, "x", "o", "lost", "", "v"), AUDIT_OK);
    audit_change_cancel(a);
    assert_int_equal(entries(), 1);
    /* each ended its transaction: the next begins */
    assert_int_equal(audit_change_begin(a), AUDIT_CHANGE_DONE);
    assert_int_equal(audit_change_end(a, 1), AUDIT_CHANGE_DONE);
    assert_string_equal(audit_change_what(AUDIT_CHANGE_BEGIN),
                        "start a transaction");
    assert_string_equal(audit_change_what(AUDIT_CHANGE_RECORD),
                        "record the change in the audit trail");
    assert_string_equal(audit_change_what(AUDIT_CHANGE_COMMIT),
                        "commit the change");
    assert_string_equal(audit_change_what(AUDIT_CHANGE_DONE), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_transaction, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
