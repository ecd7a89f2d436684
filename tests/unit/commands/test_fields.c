/* test_fields.c - the commands' one field reader (component/commands/fields.c):
 * blanks, numbers and ids, each with one rule. */
#include "testkit.h"

#include "commands/fields.h"
#include "xep0004_forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void test_trim(void **state)
{
    (void)state;
    char out[8];
    assert_int_equal(fields_trim("  ab c \t\n", out, sizeof out), 0);
    assert_string_equal(out, "ab c");
    assert_int_equal(fields_trim("   ", out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(fields_trim(" 12345678 ", out, sizeof out), -1);
}

static void test_number(void **state)
{
    (void)state;
    int64_t n = 0;
    assert_int_equal(fields_number("42", &n), 0);
    assert_int_equal(n, 42);
    assert_int_equal(fields_number("9223372036854775807", &n), 0);
    assert_int_equal(n, INT64_MAX);
    const char *bad[] = {"", "0", "-1", "+5", "12 foo", " 7", "7 ", "1e3",
                         "9223372036854775808", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        n = 99;
        assert_int_equal(fields_number(bad[i], &n), -1);
        assert_int_equal(n, 99);
    }
}

/* n lines "line 1\nline 2..." as one text (free it). */
static char *lines_text(int n)
{
    char *text = calloc((size_t)n, 16);
    assert_non_null(text);
    for (int i = 1; i <= n; i++)
        sprintf(text + strlen(text), i < n ? "line %d\n" : "line %d", i);
    return text;
}

static void test_add_lines_continues(void **state)
{
    (void)state;
    struct form *f = form_new(FORM_RESULT, NULL);
    char *text = lines_text(FORM_MAX_VALUES * 2 + 1);
    assert_int_equal(fields_add_lines(f, text, "transcript", "Transcript",
                                      "Transcript (continued)", SIZE_MAX),
                     0);
    const struct form_field *a = form_field_find(f, "transcript");
    const struct form_field *b = form_field_find(f, "transcript-2");
    const struct form_field *c = form_field_find(f, "transcript-3");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_null(form_field_find(f, "transcript-4"));
    assert_int_equal(a->n_values, FORM_MAX_VALUES);
    assert_int_equal(c->n_values, 1);
    assert_string_equal(a->label, "Transcript");
    assert_string_equal(b->label, "Transcript (continued)");
    assert_string_equal(b->values[0], "line 101");
    assert_string_equal(c->values[0], "line 201");
    free(text);
    form_free(f);
}

static void test_add_lines_budget(void **state)
{
    (void)state;
    struct form *f = form_new(FORM_RESULT, NULL);
    /* "a&b" is 7 bytes as XML, and each value takes <value></value> */
    size_t one = strlen("a&amp;b") + sizeof "<value></value>";
    assert_int_equal(fields_add_lines(f, "a&b\na&b\na&b", "note-1",
                                      "Note 1", NULL, 2 * one),
                     1);
    const struct form_field *a = form_field_find(f, "note-1");
    assert_non_null(a);
    assert_int_equal(a->n_values, 2);
    assert_string_equal(a->label, "Note 1");
    assert_string_equal(a->values[1], "a&b");
    form_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_add_lines_continues),
        cmocka_unit_test(test_add_lines_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
