/* test_errors.c - the one table per domain result enum (chat/errors.c):
 * every refusal code has its XMPP type and condition, pinned here. */
#include "testkit.h"

#include "chat/errors.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "domain/tickets.h"

struct expect {
    int code;
    const char *type, *cond;
};

static void expect_cond(const struct xmpp_cond *c, const char *type,
                        const char *cond)
{
    assert_non_null(c);
    assert_string_equal(c->type, type);
    assert_string_equal(c->cond, cond);
}

static void test_sess_command(void **state)
{
    (void)state;
    static const struct expect want[] = {
        {SESS_ERR_NOT_FOUND, "cancel", "item-not-found"},
        {SESS_ERR_STATE, "cancel", "not-allowed"},
        {SESS_ERR_FORBIDDEN, "auth", "forbidden"},
        {SESS_ERR_DISABLED, "auth", "forbidden"},
        {SESS_ERR_NOT_YET, "cancel", "not-allowed"},
        {SESS_ERR_NOT_CONTACT, "auth", "not-authorized"},
        {SESS_ERR_INVALID, "modify", "bad-request"},
        {SESS_ERR_STORE, "wait", "internal-server-error"},
    };
    assert_int_equal(sizeof want / sizeof want[0], SESS_ERR_STORE);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        expect_cond(errors_sess(want[i].code, ERRORS_COMMAND), want[i].type,
                    want[i].cond);
}

/* SPEC §3: a message the session cannot take is <forbidden/>; a body the
 * store refuses is <not-acceptable/>. */
static void test_sess_room(void **state)
{
    (void)state;
    static const struct expect want[] = {
        {SESS_ERR_NOT_FOUND, "cancel", "item-not-found"},
        {SESS_ERR_STATE, "auth", "forbidden"},
        {SESS_ERR_FORBIDDEN, "auth", "forbidden"},
        {SESS_ERR_DISABLED, "auth", "forbidden"},
        {SESS_ERR_NOT_YET, "cancel", "not-allowed"},
        {SESS_ERR_NOT_CONTACT, "auth", "not-authorized"},
        {SESS_ERR_INVALID, "modify", "not-acceptable"},
        {SESS_ERR_STORE, "wait", "internal-server-error"},
    };
    assert_int_equal(sizeof want / sizeof want[0], SESS_ERR_STORE);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        expect_cond(errors_sess(want[i].code, ERRORS_ROOM), want[i].type,
                    want[i].cond);
}

static void test_hist(void **state)
{
    (void)state;
    static const struct expect want[] = {
        {HIST_ERR_NOT_FOUND, "cancel", "item-not-found"},
        {HIST_ERR_FORBIDDEN, "auth", "forbidden"},
        {HIST_ERR_INVALID, "modify", "bad-request"},
        {HIST_ERR_STORE, "wait", "internal-server-error"},
    };
    assert_int_equal(sizeof want / sizeof want[0], HIST_ERR_STORE);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        expect_cond(errors_hist(want[i].code), want[i].type, want[i].cond);
}

static void test_ticket(void **state)
{
    (void)state;
    static const struct expect want[] = {
        {TICKET_ERR_NOT_FOUND, "cancel", "item-not-found"},
        {TICKET_ERR_CLOSED, "cancel", "not-acceptable"},
        {TICKET_ERR_INVALID, "modify", "bad-request"},
        {TICKET_ERR_STORE, "wait", "internal-server-error"},
    };
    assert_int_equal(sizeof want / sizeof want[0], TICKET_ERR_STORE);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        expect_cond(errors_ticket(want[i].code), want[i].type, want[i].cond);
}

/* Every code from the first refusal to the last has an entry, and a code
 * outside the enum (OK, negative, past the end) reads as a store failure. */
static void test_every_code_and_outside(void **state)
{
    (void)state;
    for (int code = SESS_ERR_NOT_FOUND; code <= SESS_ERR_STORE; code++) {
        assert_non_null(errors_sess(code, ERRORS_COMMAND)->cond);
        assert_non_null(errors_sess(code, ERRORS_ROOM)->cond);
    }
    for (int code = HIST_ERR_NOT_FOUND; code <= HIST_ERR_STORE; code++)
        assert_non_null(errors_hist(code)->cond);
    for (int code = TICKET_ERR_NOT_FOUND; code <= TICKET_ERR_STORE; code++)
        assert_non_null(errors_ticket(code)->cond);
    const int outside[] = {0, -1, 99};
    for (size_t i = 0; i < 3; i++) {
        assert_true(errors_internal(errors_sess(outside[i], ERRORS_COMMAND)));
        assert_true(errors_internal(errors_sess(outside[i], ERRORS_ROOM)));
        assert_true(errors_internal(errors_hist(outside[i])));
        assert_true(errors_internal(errors_ticket(outside[i])));
    }
    assert_false(errors_internal(errors_hist(HIST_ERR_FORBIDDEN)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sess_command),
        cmocka_unit_test(test_sess_room),
        cmocka_unit_test(test_hist),
        cmocka_unit_test(test_ticket),
        cmocka_unit_test(test_every_code_and_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
