/* test_canned.c - canned replies on :memory: (domain/canned.h): add, edit,
 * remove, names, refusals quoting the value, the "!name" call and the
 * {contact}/{tech} expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/canned.h"
#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct store *st;
static struct canned *c;

static int setup(void **state)
{
    char err[256];
    (void)state;
    st = store_open(testdb_target(":memory:"), err, sizeof err);
    c = st ? canned_open(st, err, sizeof err) : NULL;
    return c ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    canned_close(c);
    store_close(st);
    return 0;
}

static void expect_error(int rc, int want, const char *needle)
{
    assert_int_equal(rc, want);
    if (!strstr(canned_error(c), needle))
        fail_msg("'%s' lacks '%s'", canned_error(c), needle);
}

static void test_add_edit_remove(void **state)
{
    char *text = NULL, *old = NULL, *names = NULL;
    (void)state;
    assert_int_equal(canned_add(c, "Hello", "Hi {contact}, {tech} here."),
                     CANNED_OK);
    assert_int_equal(canned_add(c, "bye", "Bye!"), CANNED_OK);
    assert_int_equal(canned_get(c, "HELLO", &text), CANNED_OK);
    assert_string_equal(text, "Hi {contact}, {tech} here.");
    free(text);
    assert_int_equal(canned_names(c, &names), CANNED_OK);
    assert_string_equal(names, "bye, hello");
    free(names);
    expect_error(canned_add(c, "hello", "again"), CANNED_ERR_EXISTS,
                 "\"!hello\"");
    assert_int_equal(canned_edit(c, "hello", "Hello {contact}!", &old),
                     CANNED_OK);
    assert_string_equal(old, "Hi {contact}, {tech} here.");
    free(old);
    assert_int_equal(canned_remove(c, "bye", &old), CANNED_OK);
    assert_string_equal(old, "Bye!");
    free(old);
    expect_error(canned_remove(c, "bye", NULL), CANNED_ERR_NOT_FOUND,
                 "no canned reply \"!bye\"");
    expect_error(canned_edit(c, "nope", "x", NULL), CANNED_ERR_NOT_FOUND,
                 "\"!nope\"");
    expect_error(canned_add(c, "two words", "x"), CANNED_ERR_INVALID,
                 "got \"two words\"");
    expect_error(canned_add(c, "", "x"), CANNED_ERR_INVALID, "got \"\"");
    expect_error(canned_add(c, "ok", ""), CANNED_ERR_INVALID, "empty");
    assert_int_equal(canned_names(c, &names), CANNED_OK);
    assert_string_equal(names, "hello");
    free(names);
}

static void test_call_and_expand(void **state)
{
    char name[CANNED_NAME_MAX + 2];
    (void)state;
    assert_int_equal(canned_call("!Hello", name, sizeof name), 1);
    assert_string_equal(name, "hello");
    assert_int_equal(canned_call("!hello there", name, sizeof name), 0);
    assert_int_equal(canned_call(" !hello", name, sizeof name), 0);
    assert_int_equal(canned_call("!", name, sizeof name), 0);
    assert_int_equal(canned_call("hello", name, sizeof name), 0);
    char *x = canned_expand("Hi {contact}, {tech} here. {other} {contact}",
                            "Alice Liddell", "Tom");
    assert_string_equal(x, "Hi Alice Liddell, Tom here. {other} Alice "
                           "Liddell");
    free(x);
    x = canned_expand("", "A", "B");
    assert_string_equal(x, "");
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_edit_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_and_expand, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
