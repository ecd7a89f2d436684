/* test_fields.c - the commands' one field reader (component/commands/fields.c):
 * blanks, numbers and ids, each with one rule. */
#include "testkit.h"

#include "commands/fields.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
