/* test_nick.c - display names made safe to show and to use as room nicks
 * (component/runtime/nick.c). */
#include "testkit.h"

#include "runtime/nick.h"

#include <unicode/usprep.h>

#define RLO "\xe2\x80\xae"  /* U+202E RIGHT-TO-LEFT OVERRIDE */
#define LRI "\xe2\x81\xa6"  /* U+2066 LEFT-TO-RIGHT ISOLATE */
#define PDI "\xe2\x81\xa9"  /* U+2069 POP DIRECTIONAL ISOLATE */
#define LRM "\xe2\x80\x8e"  /* U+200E LEFT-TO-RIGHT MARK */
#define RLM "\xe2\x80\x8f"  /* U+200F RIGHT-TO-LEFT MARK */
#define ZWSP "\xe2\x80\x8b" /* U+200B ZERO WIDTH SPACE */
#define NBSP "\xc2\xa0"
#define IDSP "\xe3\x80\x80" /* U+3000 IDEOGRAPHIC SPACE */
#define SHY "\xc2\xad"      /* U+00AD SOFT HYPHEN */
#define PUA "\xee\x80\x80"  /* U+E000 private use */
#define HEB_SHALOM "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d" /* four Hebrew letters   \
                                                       */

/* 1 when nick passes RFC 3920 resourceprep unchanged. */
static int prepped(const char *nick)
{
    UErrorCode st = U_ZERO_ERROR;
    UStringPrepProfile *p = usprep_openByType(USPREP_RFC3920_RESOURCEPREP, &st);
    UChar in[256], out[256];
    int32_t n = 0, m;
    char back[256];
    int32_t bn = 0;

    assert_true(U_SUCCESS(st));
    u_strFromUTF8(in, 256, &n, nick, -1, &st);
    m = usprep_prepare(p, in, n, out, 256, USPREP_DEFAULT, NULL, &st);
    usprep_close(p);
    if (U_FAILURE(st))
        return 0;
    u_strToUTF8(back, sizeof back, &bn, out, m, &st);
    return U_SUCCESS(st) && !strcmp(back, nick);
}

static void expect_nick(const char *name, const char *want)
{
    char out[NICK_MAX + 1];

    assert_int_equal(nick_from_name(name, out, sizeof out), 0);
    assert_string_equal(out, want);
    assert_true(prepped(out));
}

static void test_text_drops_controls_and_format(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(nick_clean_text("Alice" RLO "llednil", out, sizeof out),
                     12);
    assert_string_equal(out, "Alicellednil");
    nick_clean_text(LRI "Bob" PDI " " LRM RLM ZWSP SHY PUA "Smith", out,
                    sizeof out);
    assert_string_equal(out, "Bob Smith");
    nick_clean_text("  Carl\t\n\r" NBSP IDSP "  Globex \x7f\xc2\x85", out,
                    sizeof out);
    assert_string_equal(out, "Carl Globex");
    /* malformed UTF-8 goes, the rest stays */
    nick_clean_text("D\xff"
                    "a\xc3"
                    "ve\xe2\x82",
                    out, sizeof out);
    assert_string_equal(out, "Dave");
    assert_int_equal(nick_clean_text(" " RLO " \t" ZWSP, out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_text_cuts_on_a_character(void **state)
{
    char out[6];

    (void)state;
    /* "Zoë Ö": Z o ë(2) ' ' Ö(2) = 7 bytes; 5 fit: "Zoë" then the
     * space would need the Ö too */
    assert_int_equal(nick_clean_text("Zo\xc3\xab \xc3\x96", out, sizeof out),
                     4);
    assert_string_equal(out, "Zo\xc3\xab");
    assert_int_equal(nick_clean_text("abc", out, 1), 0);
    assert_string_equal(out, "");
}

static void test_nick_is_a_valid_resourcepart(void **state)
{
    (void)state;
    expect_nick("Alice Liddell", "Alice Liddell");
    expect_nick(RLO "Alice Liddell", "Alice Liddell");
    expect_nick("Al" RLO "ice" LRI "!" PDI, "Alice!");
    expect_nick("  Tom \t\n Tech  ", "Tom Tech");
    expect_nick(HEB_SHALOM, HEB_SHALOM);
    /* mixed directions keep the first strong one */
    expect_nick("Alice " HEB_SHALOM, "Alice");
    expect_nick(HEB_SHALOM " Alice 2", HEB_SHALOM);
    /* resourceprep maps what it maps (NFKC): the result is its output */
    expect_nick("\xef\xac\x81le", "file"); /* U+FB01 ligature fi */
}

static void test_nick_is_short(void **state)
{
    char out[NICK_MAX + 1];
    char name[300];

    (void)state;
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    assert_int_equal(nick_from_name(name, out, sizeof out), 0);
    assert_int_equal(strlen(out), NICK_MAX);
    /* a two-byte character across the limit is left out whole */
    memset(name, 'y', NICK_MAX - 1);
    snprintf(name + NICK_MAX - 1, sizeof name - NICK_MAX + 1, "\xc3\xa9zz");
    assert_int_equal(nick_from_name(name, out, sizeof out), 0);
    assert_int_equal(strlen(out), NICK_MAX - 1);
}

static void test_nothing_usable(void **state)
{
    char out[NICK_MAX + 1] = "old";

    (void)state;
    assert_int_equal(nick_from_name("   ", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(nick_from_name(RLO LRM ZWSP "\t", out, sizeof out), -1);
    assert_int_equal(nick_from_name("", out, sizeof out), -1);
    assert_int_equal(nick_from_name(PUA PUA, out, sizeof out), -1);
    assert_int_equal(nick_from_name("Alice", out, NICK_MAX), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_drops_controls_and_format),
        cmocka_unit_test(test_text_cuts_on_a_character),
        cmocka_unit_test(test_nick_is_a_valid_resourcepart),
        cmocka_unit_test(test_nick_is_short),
        cmocka_unit_test(test_nothing_usable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
