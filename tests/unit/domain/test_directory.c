/* test_directory.c - companies, contacts, techs and roles on :memory:. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/directory.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

struct fixture {
    struct store *st;
    struct directory *dir;
};

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    if (!fx.st) {
        print_error("store_open: %s\n", err);
        return -1;
    }
    fx.dir = directory_open(fx.st, err, sizeof err);
    if (!fx.dir) {
        print_error("directory_open: %s\n", err);
        store_close(fx.st);
        return -1;
    }
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    directory_close(fx->dir);
    store_close(fx->st);
    return 0;
}

static int64_t add_company(struct directory *dir, const char *name)
{
    struct company c = {0};
    int64_t id = 0;
    snprintf(c.name, sizeof c.name, "%s", name);
    if (directory_company_create(dir, &c, &id) != DIR_OK)
        fail_msg("create company %s: %s", name, directory_error(dir));
    return id;
}

static int64_t add_contact(struct directory *dir, int64_t company,
                           const char *jid)
{
    struct contact c = {0};
    int64_t id = 0;
    c.company_id = company;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    snprintf(c.name, sizeof c.name, "Name of %s", jid);
    if (directory_contact_create(dir, &c, &id) != DIR_OK)
        fail_msg("create contact %s: %s", jid, directory_error(dir));
    return id;
}

static void test_schema_version(void **state)
{
    struct fixture *fx = *state;
    assert_true(store_schema_version(fx->st) >= 2);
}

static void test_jid_bare(void **state)
{
    (void)state;
    char out[DIR_JID_MAX];
    assert_int_equal(
        directory_jid_bare("Alice@Example.COM/Home", out, sizeof out), 0);
    assert_string_equal(out, "alice@example.com");
    assert_int_equal(directory_jid_bare("bob@localhost", out, sizeof out), 0);
    assert_string_equal(out, "bob@localhost");
    static const char *const bad[] = {"",      "example.com", "@example.com",
                                      "bob@",  "bo b@x",      "a@b@c",
                                      "a:b@x", "/res"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (directory_jid_bare(bad[i], out, sizeof out) != -1)
            fail_msg("\"%s\" accepted", bad[i]);
    }
    assert_int_equal(directory_jid_bare("a@b", out, 3), -1); /* too small */
}

static void test_tristate_parse(void **state)
{
    (void)state;
    enum tristate t;
    assert_int_equal(tristate_parse("", &t), 0);
    assert_int_equal(t, TRI_INHERIT);
    assert_int_equal(tristate_parse("ON", &t), 0);
    assert_int_equal(t, TRI_ON);
    assert_int_equal(tristate_parse("false", &t), 0);
    assert_int_equal(t, TRI_OFF);
    assert_int_equal(tristate_parse("maybe", &t), -1);
    assert_string_equal(tristate_name(TRI_INHERIT), "inherit");
    assert_string_equal(tristate_name(TRI_ON), "on");
    assert_string_equal(tristate_name(TRI_OFF), "off");
}

static void test_company_crud(void **state)
{
    struct fixture *fx = *state;
    struct company c = {0}, got;
    int64_t id = 0;
    snprintf(c.name, sizeof c.name, "Acme, Inc.");
    c.chat = TRI_OFF;
    c.callback = TRI_ON;
    assert_int_equal(directory_company_create(fx->dir, &c, &id), DIR_OK);
    assert_true(id > 0);
    assert_int_equal(directory_company_get(fx->dir, id, &got), DIR_OK);
    assert_string_equal(got.name, "Acme, Inc.");
    assert_int_equal(got.chat, TRI_OFF);
    assert_int_equal(got.pre_ticket, TRI_INHERIT);
    assert_int_equal(got.callback, TRI_ON);
    /* Names are unique regardless of case. */
    snprintf(c.name, sizeof c.name, "ACME, inc.");
    assert_int_equal(directory_company_create(fx->dir, &c, NULL),
                     DIR_ERR_EXISTS);
    assert_non_null(strstr(directory_error(fx->dir), "exists"));
    assert_int_equal(directory_company_find(fx->dir, "acme, INC.", &got),
                     DIR_OK);
    assert_int_equal(got.id, id);
    got.pre_ticket = TRI_OFF;
    got.chat = TRI_INHERIT;
    assert_int_equal(directory_company_update(fx->dir, &got), DIR_OK);
    assert_int_equal(directory_company_get(fx->dir, id, &got), DIR_OK);
    assert_int_equal(got.pre_ticket, TRI_OFF);
    assert_int_equal(got.chat, TRI_INHERIT);
    got.id = 999;
    assert_int_equal(directory_company_update(fx->dir, &got),
                     DIR_ERR_NOT_FOUND);
    c.name[0] = '\0';
    assert_int_equal(directory_company_create(fx->dir, &c, NULL),
                     DIR_ERR_INVALID);
    assert_int_equal(directory_company_find(fx->dir, "Nobody", &got),
                     DIR_ERR_NOT_FOUND);
    assert_non_null(strstr(directory_error(fx->dir), "Nobody"));
}

static void test_contact_crud(void **state)
{
    struct fixture *fx = *state;
    int64_t acme = add_company(fx->dir, "Acme");
    int64_t globex = add_company(fx->dir, "Globex");
    struct contact c = {0}, got;
    int64_t id = 0;
    c.company_id = acme;
    snprintf(c.jid, sizeof c.jid, "Alice@LocalHost");
    snprintf(c.name, sizeof c.name, "Alice");
    snprintf(c.phone, sizeof c.phone, "+44 20 7946 0000");
    c.chat = TRI_OFF;
    assert_int_equal(directory_contact_create(fx->dir, &c, &id), DIR_OK);
    assert_int_equal(
        directory_contact_find(fx->dir, "ALICE@localhost/web", &got), DIR_OK);
    assert_int_equal(got.id, id);
    assert_string_equal(got.jid, "alice@localhost");
    assert_string_equal(got.phone, "+44 20 7946 0000");
    assert_int_equal(got.chat, TRI_OFF);
    assert_int_equal(got.company_id, acme);
    /* Same JID in another case is the same contact. */
    assert_int_equal(directory_contact_create(fx->dir, &c, NULL),
                     DIR_ERR_EXISTS);
    got.company_id = globex;
    got.chat = TRI_ON;
    assert_int_equal(directory_contact_update(fx->dir, &got), DIR_OK);
    assert_int_equal(directory_contact_get(fx->dir, id, &got), DIR_OK);
    assert_int_equal(got.company_id, globex);
    assert_int_equal(got.chat, TRI_ON);
    /* Unknown company, resource, malformed JID. */
    c.company_id = 12345;
    snprintf(c.jid, sizeof c.jid, "bob@localhost");
    assert_int_equal(directory_contact_create(fx->dir, &c, NULL),
                     DIR_ERR_NOT_FOUND);
    c.company_id = acme;
    snprintf(c.jid, sizeof c.jid, "bob@localhost/phone");
    assert_int_equal(directory_contact_create(fx->dir, &c, NULL),
                     DIR_ERR_INVALID);
    assert_non_null(strstr(directory_error(fx->dir), "bare"));
    snprintf(c.jid, sizeof c.jid, "not a jid");
    assert_int_equal(directory_contact_create(fx->dir, &c, NULL),
                     DIR_ERR_INVALID);
    assert_int_equal(directory_contact_find(fx->dir, "nobody@localhost", &got),
                     DIR_ERR_NOT_FOUND);
}

static int count_contact(const struct contact *c, void *ud)
{
    (void)c;
    (*(int *)ud)++;
    return 0;
}

static int stop_after_two(const struct company *c, void *ud)
{
    (void)c;
    return ++*(int *)ud == 2;
}

static void test_lists(void **state)
{
    struct fixture *fx = *state;
    int64_t a = add_company(fx->dir, "B Company");
    int64_t b = add_company(fx->dir, "A Company");
    add_company(fx->dir, "C Company");
    add_contact(fx->dir, a, "x1@localhost");
    add_contact(fx->dir, a, "x2@localhost");
    add_contact(fx->dir, b, "y1@localhost");
    int n = 0;
    assert_int_equal(directory_contact_list(fx->dir, 0, count_contact, &n),
                     DIR_OK);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(directory_contact_list(fx->dir, a, count_contact, &n),
                     DIR_OK);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(directory_company_list(fx->dir, stop_after_two, &n),
                     DIR_OK);
    assert_int_equal(n, 2);
}

static void test_techs_and_roles(void **state)
{
    struct fixture *fx = *state;
    int64_t acme = add_company(fx->dir, "Acme");
    add_contact(fx->dir, acme, "carol@localhost");
    struct tech t = {0}, got;
    int64_t id = 0;
    snprintf(t.jid, sizeof t.jid, "Tech1@LocalHost");
    snprintf(t.name, sizeof t.name, "Tess");
    assert_int_equal(directory_tech_create(fx->dir, &t, &id), DIR_OK);
    snprintf(t.jid, sizeof t.jid, "boss@localhost");
    t.admin = true;
    assert_int_equal(directory_tech_create(fx->dir, &t, NULL), DIR_OK);
    /* A contact cannot also be a tech, nor the other way round. */
    snprintf(t.jid, sizeof t.jid, "carol@localhost");
    assert_int_equal(directory_tech_create(fx->dir, &t, NULL), DIR_ERR_EXISTS);
    assert_non_null(strstr(directory_error(fx->dir), "already a contact"));
    add_contact(fx->dir, acme, "dave@localhost");
    struct contact c = {0};
    c.company_id = acme;
    snprintf(c.jid, sizeof c.jid, "TECH1@localhost");
    assert_int_equal(directory_contact_create(fx->dir, &c, NULL),
                     DIR_ERR_EXISTS);

    const char *admins[] = {"Root@LocalHost", "carol@localhost"};
    assert_int_equal(
        directory_role(fx->dir, "tech1@localhost/gajim", admins, 2), ROLE_TECH);
    assert_int_equal(directory_role(fx->dir, "boss@localhost", NULL, 0),
                     ROLE_ADMIN);
    assert_int_equal(directory_role(fx->dir, "root@localhost", admins, 2),
                     ROLE_ADMIN); /* config admin, not in the table */
    assert_int_equal(directory_role(fx->dir, "carol@localhost", admins, 2),
                     ROLE_ADMIN); /* config wins */
    assert_int_equal(directory_role(fx->dir, "carol@localhost", NULL, 0),
                     ROLE_CONTACT);
    assert_int_equal(directory_role(fx->dir, "DAVE@localhost", admins, 2),
                     ROLE_CONTACT);
    assert_int_equal(directory_role(fx->dir, "eve@localhost", admins, 2),
                     ROLE_NONE);
    assert_int_equal(directory_role(fx->dir, "garbage", admins, 2), ROLE_NONE);
    assert_string_equal(directory_role_name(ROLE_ADMIN), "admin");

    assert_int_equal(directory_tech_get(fx->dir, id, &got), DIR_OK);
    assert_string_equal(got.jid, "tech1@localhost");
    got.admin = true;
    assert_int_equal(directory_tech_update(fx->dir, &got), DIR_OK);
    assert_int_equal(directory_role(fx->dir, "tech1@localhost", NULL, 0),
                     ROLE_ADMIN);
    assert_int_equal(directory_tech_remove(fx->dir, "Tech1@localhost"), DIR_OK);
    assert_int_equal(directory_role(fx->dir, "tech1@localhost", NULL, 0),
                     ROLE_NONE);
    assert_int_equal(directory_tech_remove(fx->dir, "tech1@localhost"),
                     DIR_ERR_NOT_FOUND);
    assert_int_equal(directory_tech_find(fx->dir, "tech1@localhost", &got),
                     DIR_ERR_NOT_FOUND);
}

static int count_tech(const struct tech *t, void *ud)
{
    (void)t;
    (*(int *)ud)++;
    return 0;
}

static void test_tech_list_and_limits(void **state)
{
    struct fixture *fx = *state;
    struct tech t = {0};
    for (int i = 0; i < 5; i++) {
        snprintf(t.jid, sizeof t.jid, "t%d@localhost", i);
        assert_int_equal(directory_tech_create(fx->dir, &t, NULL), DIR_OK);
    }
    int n = 0;
    assert_int_equal(directory_tech_list(fx->dir, count_tech, &n), DIR_OK);
    assert_int_equal(n, 5);
    memset(t.name, 'x', sizeof t.name); /* no NUL: too long */
    snprintf(t.jid, sizeof t.jid, "t9@localhost");
    assert_int_equal(directory_tech_create(fx->dir, &t, NULL), DIR_ERR_INVALID);
    assert_non_null(strstr(directory_error(fx->dir), "too long"));
}

/* The presence hint goes once per tech: the first mark says "send", every
 * later one (a restart included: it is in the store) says "sent before";
 * a JID that is no tech never gets one. */
static void test_tech_hint_once(void **state)
{
    struct fixture *fx = *state;
    struct tech t = {0, "tess@localhost", "Tess", false};
    assert_int_equal(directory_tech_create(fx->dir, &t, NULL), DIR_OK);
    assert_int_equal(directory_tech_hint_once(fx->dir, "Tess@LOCALHOST"), 1);
    assert_int_equal(directory_tech_hint_once(fx->dir, "tess@localhost"), 0);
    assert_int_equal(directory_tech_hint_once(fx->dir, "nobody@localhost"), 0);
    assert_int_equal(directory_tech_hint_once(fx->dir, "not a jid"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
        cmocka_unit_test(test_jid_bare),
        cmocka_unit_test(test_tristate_parse),
        cmocka_unit_test_setup_teardown(test_company_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_techs_and_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tech_list_and_limits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tech_hint_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
