/* test_permissions.c - every override combination of the pure decision,
 * then the store-backed check on :memory:. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "runtime/clock.h"
#include "domain/directory.h"
#include "domain/permissions.h"
#include "domain/settings.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

static const enum tristate tris[3] = {TRI_INHERIT, TRI_ON, TRI_OFF};

static struct perm_inputs base_inputs(void)
{
    struct perm_inputs in;
    memset(&in, 0, sizeof in);
    in.is_contact = true;
    in.global_chat = true;
    in.global_pre_ticket = true;
    in.global_callback = true;
    in.is_open = true;
    in.answer_timeout = 60;
    in.idle_timeout = 3600;
    return in;
}

/* The rule written out independently: the most specific defined level. */
static bool expected_chat(bool global, enum tristate company,
                          enum tristate contact, enum perm_level *level)
{
    if (contact == TRI_ON || contact == TRI_OFF) {
        *level = PERM_LEVEL_CONTACT;
        return contact == TRI_ON;
    }
    if (company == TRI_ON || company == TRI_OFF) {
        *level = PERM_LEVEL_COMPANY;
        return company == TRI_ON;
    }
    *level = PERM_LEVEL_GLOBAL;
    return global;
}

static void test_chat_all_18_combinations(void **state)
{
    (void)state;
    static const char *const want_text[] = {
        [PERM_LEVEL_GLOBAL] = "not enabled by your provider",
        [PERM_LEVEL_COMPANY] = "disabled for your company",
        [PERM_LEVEL_CONTACT] = "disabled for your account",
    };
    int seen = 0;
    for (int g = 0; g < 2; g++) {
        for (int co = 0; co < 3; co++) {
            for (int ct = 0; ct < 3; ct++) {
                struct perm_inputs in = base_inputs();
                struct perm_decision d;
                enum perm_level lv;
                in.global_chat = g;
                in.company_chat = tris[co];
                in.contact_chat = tris[ct];
                bool want = expected_chat(g, tris[co], tris[ct], &lv);
                perm_decide(PERM_CHAT, &in, &d);
                assert_int_equal(d.allowed, want);
                assert_int_equal(d.level, lv);
                assert_int_equal(d.verdict,
                                 want ? PERM_ALLOW : PERM_DENY_DISABLED);
                assert_true(d.reason[0] != '\0');
                if (!want && !strstr(d.reason, want_text[lv]))
                    fail_msg("g=%d co=%d ct=%d: reason \"%s\"", g, co, ct,
                             d.reason);
                assert_int_equal(perm_resolve(g, tris[co], tris[ct], NULL),
                                 want);
                seen++;
            }
        }
    }
    assert_int_equal(seen, 18);
}

static void test_seed_example(void **state)
{
    (void)state;
    /* Global on, contact off: that contact cannot chat, others can. */
    struct perm_inputs in = base_inputs();
    struct perm_decision d;
    in.contact_chat = TRI_OFF;
    perm_decide(PERM_CHAT, &in, &d);
    assert_false(d.allowed);
    assert_string_equal(d.reason,
                        "Chat is disabled for your account by your provider.");
    in.contact_chat = TRI_INHERIT;
    perm_decide(PERM_CHAT, &in, &d);
    assert_true(d.allowed);
}

static void test_pre_ticket_combinations(void **state)
{
    (void)state;
    for (int chat = 0; chat < 2; chat++) {
        for (int g = 0; g < 2; g++) {
            for (int co = 0; co < 3; co++) {
                struct perm_inputs in = base_inputs();
                struct perm_decision d;
                in.contact_chat = chat ? TRI_ON : TRI_OFF;
                in.global_pre_ticket = g;
                in.company_pre_ticket = tris[co];
                bool flag = tris[co] == TRI_INHERIT ? g : tris[co] == TRI_ON;
                perm_decide(PERM_PRE_TICKET, &in, &d);
                assert_int_equal(d.allowed, chat && flag);
                if (!chat)
                    assert_non_null(strstr(d.reason, "Chat is disabled"));
                else if (!flag)
                    assert_non_null(strstr(d.reason, "without a ticket"));
                if (!d.allowed)
                    assert_int_equal(d.verdict, PERM_DENY_DISABLED);
            }
        }
    }
}

static void test_callback_combinations(void **state)
{
    (void)state;
    static const long waits[] = {0, 59, 60, 61};
    for (int g = 0; g < 2; g++) {
        for (int co = 0; co < 3; co++) {
            for (int open = 0; open < 2; open++) {
                for (size_t w = 0; w < 4; w++) {
                    struct perm_inputs in = base_inputs();
                    struct perm_decision d;
                    in.global_callback = g;
                    in.company_callback = tris[co];
                    in.is_open = open;
                    in.waited = waits[w];
                    bool flag =
                        tris[co] == TRI_INHERIT ? g : tris[co] == TRI_ON;
                    bool timing = !open || waits[w] >= 60;
                    perm_decide(PERM_CALLBACK, &in, &d);
                    assert_int_equal(d.allowed, flag && timing);
                    if (!flag)
                        assert_int_equal(d.verdict, PERM_DENY_DISABLED);
                    else if (!timing)
                        assert_int_equal(d.verdict, PERM_DENY_NOT_YET);
                }
            }
        }
    }
    struct perm_inputs in = base_inputs();
    struct perm_decision d;
    in.waited = 12;
    perm_decide(PERM_CALLBACK, &in, &d);
    /* minutes, not seconds; plurals right */
    assert_non_null(strstr(d.reason, "once you have waited 1 minute for"));
    assert_non_null(strstr(d.reason, "(you have waited 12 seconds so far)"));
    in.waited = 1;
    perm_decide(PERM_CALLBACK, &in, &d);
    assert_non_null(strstr(d.reason, "(you have waited 1 second so far)"));
    /* Leave a message (SPEC §9): nobody Online allows it at once, not when
     * callbacks are off. */
    in.waited = 0;
    in.nobody_online = true;
    perm_decide(PERM_CALLBACK, &in, &d);
    assert_true(d.allowed);
    assert_non_null(strstr(d.reason, "No technician is available"));
    in.company_callback = TRI_OFF;
    perm_decide(PERM_CALLBACK, &in, &d);
    assert_false(d.allowed);
    assert_int_equal(d.verdict, PERM_DENY_DISABLED);
    in.nobody_online = false;
    perm_decide(PERM_CALLBACK, &in, &d);
    assert_string_equal(d.reason,
                        "Callbacks are disabled for your company by your "
                        "provider.");
}

static void test_end_chat(void **state)
{
    (void)state;
    struct perm_inputs in = base_inputs();
    struct perm_decision d;
    in.waiting = true;
    in.waited = 59;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_false(d.allowed);
    assert_int_equal(d.verdict, PERM_DENY_NOT_YET);
    in.waited = 60;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_true(d.allowed);
    in.waited = 5;
    in.is_open = false;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_true(d.allowed);
    assert_non_null(strstr(d.reason, "outside office hours"));
    /* Active: idle timeout decides; the wait does not matter. */
    in.is_open = true;
    in.waiting = false;
    in.waited = 1000;
    in.idle = 3599;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_false(d.allowed);
    assert_non_null(strstr(d.reason, "once nobody has written for 1 hour "
                                      "(the last message was 59 minutes "
                                      "ago)"));
    in.idle_timeout = 7200;
    in.idle = 61;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_non_null(strstr(d.reason, "for 2 hours (the last message was 1 "
                                      "minute ago)"));
    in.idle_timeout = 3600;
    in.idle = 3600;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_true(d.allowed);
    in.idle = 0;
    in.is_open = false;
    perm_decide(PERM_END_CHAT, &in, &d);
    assert_true(d.allowed);
}

static void test_not_a_contact(void **state)
{
    (void)state;
    static const enum perm_action actions[] = {PERM_CHAT, PERM_PRE_TICKET,
                                               PERM_CALLBACK, PERM_END_CHAT};
    for (size_t i = 0; i < 4; i++) {
        struct perm_inputs in = base_inputs();
        struct perm_decision d;
        in.is_contact = false;
        in.is_open = false;
        perm_decide(actions[i], &in, &d);
        assert_false(d.allowed);
        assert_int_equal(d.verdict, PERM_DENY_NOT_CONTACT);
        assert_non_null(strstr(d.reason, "not registered"));
    }
}

/* ---- store-backed ------------------------------------------------------ */

struct fixture {
    struct store *st;
    struct directory *dir;
    struct settings_store *ss;
    struct settings s;
};

static const struct settings_defaults defs = {30, 600};
static const time_t new_year = 1767225600; /* 2026-01-01 00:00 UTC */

static void add_contact(struct directory *dir, int64_t company, const char *jid,
                        enum tristate chat)
{
    struct contact c = {0};
    c.company_id = company;
    c.chat = chat;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    if (directory_contact_create(dir, &c, NULL) != DIR_OK)
        fail_msg("%s", directory_error(dir));
}

/* Acme (callbacks off) with alice (inherit) and bob (chat off); office
 * hours "none" (always closed). */
static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.dir = fx.st ? directory_open(fx.st, err, sizeof err) : NULL;
    fx.ss = fx.dir ? settings_open(fx.st, err, sizeof err) : NULL;
    if (!fx.ss) {
        print_error("setup: %s\n", err);
        return -1;
    }
    struct company co = {0};
    int64_t acme = 0;
    snprintf(co.name, sizeof co.name, "Acme");
    co.callback = TRI_OFF;
    assert_int_equal(directory_company_create(fx.dir, &co, &acme), DIR_OK);
    add_contact(fx.dir, acme, "alice@localhost", TRI_INHERIT);
    add_contact(fx.dir, acme, "bob@localhost", TRI_OFF);
    assert_int_equal(
        settings_set(fx.ss, "office_hours", "none", err, sizeof err), 0);
    assert_int_equal(settings_load(fx.ss, &defs, &fx.s, err, sizeof err), 0);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    settings_close(fx->ss);
    directory_close(fx->dir);
    store_close(fx->st);
    return 0;
}

static void test_check_chat_from_store(void **state)
{
    struct fixture *fx = *state;
    struct perm_decision d;
    char err[256];
    assert_int_equal(perm_check(fx->dir, &fx->s, "Alice@localhost/portal",
                                PERM_CHAT, new_year, NULL, &d),
                     0);
    assert_true(d.allowed);
    assert_int_equal(perm_check(fx->dir, &fx->s, "bob@localhost", PERM_CHAT,
                                new_year, NULL, &d),
                     0);
    assert_false(d.allowed);
    assert_int_equal(d.level, PERM_LEVEL_CONTACT);
    assert_int_equal(perm_check(fx->dir, &fx->s, "eve@localhost", PERM_CHAT,
                                new_year, NULL, &d),
                     0);
    assert_int_equal(d.verdict, PERM_DENY_NOT_CONTACT);
    /* Global chat off: alice (inherit) loses chat too. */
    assert_int_equal(settings_set(fx->ss, "chat", "off", err, sizeof err), 0);
    assert_int_equal(settings_load(fx->ss, &defs, &fx->s, err, sizeof err), 0);
    assert_int_equal(perm_check(fx->dir, &fx->s, "alice@localhost",
                                PERM_PRE_TICKET, new_year, NULL, &d),
                     0);
    assert_false(d.allowed);
    assert_int_equal(d.level, PERM_LEVEL_GLOBAL);
}

static void test_check_callback_from_store(void **state)
{
    struct fixture *fx = *state;
    struct perm_decision d;
    struct perm_inputs in;
    char err[256];
    /* Callbacks are off for Acme even though it is outside office hours. */
    struct perm_session sess = {true, 100, 0, false};
    assert_int_equal(perm_check(fx->dir, &fx->s, "alice@localhost",
                                PERM_CALLBACK, new_year, &sess, &d),
                     0);
    assert_false(d.allowed);
    assert_int_equal(d.level, PERM_LEVEL_COMPANY);
    /* The timeouts come from the settings (here the config defaults). */
    assert_int_equal(perm_gather(fx->dir, &fx->s, "alice@localhost", new_year,
                                 &sess, &in, err, sizeof err),
                     0);
    assert_int_equal(in.answer_timeout, 30);
    assert_int_equal(in.idle_timeout, 600);
    assert_false(in.is_open);
    assert_true(in.is_contact);
    assert_true(in.waiting);
    assert_int_equal(in.waited, 100);
    assert_int_equal(in.company_callback, TRI_OFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_all_18_combinations),
        cmocka_unit_test(test_seed_example),
        cmocka_unit_test(test_pre_ticket_combinations),
        cmocka_unit_test(test_callback_combinations),
        cmocka_unit_test(test_end_chat),
        cmocka_unit_test(test_not_a_contact),
        cmocka_unit_test_setup_teardown(test_check_chat_from_store, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_check_callback_from_store, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
