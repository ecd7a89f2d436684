/* test_jid.c - the one JID normalisation (component/runtime/jid.c). */
#include "testkit.h"

#include "runtime/jid.h"

static void test_bare_lower(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(jid_bare_lower("Alice@Example.COM/Phone", out, sizeof out),
                     0);
    assert_string_equal(out, "alice@example.com");
    assert_int_equal(jid_bare_lower("helpdesk.Example.com", out, sizeof out),
                     0);
    assert_string_equal(out, "helpdesk.example.com");
    assert_int_equal(jid_bare_lower("", out, sizeof out), 0);
    assert_string_equal(out, "");
    /* only ASCII letters change */
    assert_int_equal(jid_bare_lower("\xc3\x89t\xc3\xa9@X.org", out, sizeof out),
                     0);
    assert_string_equal(out, "\xc3\x89t\xc3\xa9@x.org");
}

static void test_in_place(void **state)
{
    (void)state;
    char buf[32] = "Bob@Example.com/Desk";
    assert_int_equal(jid_bare_lower(buf, buf, sizeof buf), 0);
    assert_string_equal(buf, "bob@example.com");
}

static void test_too_long_is_untouched(void **state)
{
    (void)state;
    char out[6] = "keep";
    assert_int_equal(jid_bare_lower("ab@cd/x", out, sizeof out), 0);
    assert_string_equal(out, "ab@cd");
    snprintf(out, sizeof out, "keep");
    assert_int_equal(jid_bare_lower("abc@cd/x", out, sizeof out), -1);
    assert_string_equal(out, "keep");
    assert_int_equal(jid_lower("abcdef", 6, out, sizeof out), -1);
    assert_string_equal(out, "keep");
}

/* jid_lower keeps the resource's case and copies only n bytes. */
static void test_lower_keeps_resource(void **state)
{
    (void)state;
    char out[64];
    const char *full = "Room@Chat.Example/Nick Name";
    assert_int_equal(jid_lower(full, strlen(full), out, sizeof out), 0);
    assert_string_equal(out, "room@chat.example/Nick Name");
    assert_int_equal(jid_lower(full, 4, out, sizeof out), 0);
    assert_string_equal(out, "room");
    assert_int_equal(jid_lower("A/B/C", 5, out, sizeof out), 0);
    assert_string_equal(out, "a/B/C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_lower),
        cmocka_unit_test(test_in_place),
        cmocka_unit_test(test_too_long_is_untouched),
        cmocka_unit_test(test_lower_keeps_resource),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
