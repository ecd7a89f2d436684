/* test_presence.c - the presence tracker: SPEC §2's mapping table, several
 * resources, change notifications, online techs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/presence.h"

#include <stdio.h>
#include <string.h>

static int setup(void **state)
{
    *state = presence_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    presence_free(*state);
    return 0;
}

static void test_mapping_table(void **state)
{
    (void)state;
    static const struct {
        const char *show;
        enum cd_presence contact;
        enum cd_presence tech;
    } rows[] = {
        {NULL, CD_ONLINE, CD_ONLINE},   {"", CD_ONLINE, CD_ONLINE},
        {"chat", CD_ONLINE, CD_ONLINE}, {"away", CD_AWAY, CD_AWAY},
        {"xa", CD_AWAY, CD_AWAY},       {"dnd", CD_AWAY, CD_BUSY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enum presence_show show;
        assert_int_equal(presence_show_parse(rows[i].show, &show), 0);
        assert_int_equal(presence_map(show, false), rows[i].contact);
        assert_int_equal(presence_map(show, true), rows[i].tech);

        /* The same through the tracker, as contact and as tech. */
        struct presence_tracker *tr = presence_new();
        assert_non_null(tr);
        assert_int_equal(
            presence_update(tr, "c@localhost/portal", true, show, false, NULL),
            0);
        assert_int_equal(
            presence_update(tr, "t@localhost/gajim", true, show, true, NULL),
            0);
        assert_int_equal(presence_of(tr, "c@localhost", false),
                         rows[i].contact);
        assert_int_equal(presence_of(tr, "t@localhost", true), rows[i].tech);
        /* Unavailable, and nobody at all: Offline. */
        assert_int_equal(
            presence_update(tr, "t@localhost/gajim", false, show, true, NULL),
            0);
        assert_int_equal(presence_of(tr, "t@localhost", true), CD_OFFLINE);
        assert_int_equal(presence_of(tr, "nobody@localhost", true), CD_OFFLINE);
        presence_free(tr);
    }
}

static void test_show_parse_and_names(void **state)
{
    (void)state;
    enum presence_show show = PRESENCE_SHOW_DND;
    assert_int_equal(presence_show_parse("busy", &show), -1);
    assert_int_equal(show, PRESENCE_SHOW_NONE);
    assert_int_equal(presence_show_parse("DND", &show), -1);
    assert_int_equal(presence_show_parse("xa", &show), 0);
    assert_int_equal(show, PRESENCE_SHOW_XA);
    assert_string_equal(presence_name(CD_ONLINE), "Online");
    assert_string_equal(presence_name(CD_AWAY), "Away");
    assert_string_equal(presence_name(CD_BUSY), "Busy");
    assert_string_equal(presence_name(CD_OFFLINE), "Offline");
}

/* Set resources r1..rn of one JID to the given shows, read the result. */
static enum cd_presence combine(const enum presence_show *shows, size_t n,
                                bool is_tech)
{
    struct presence_tracker *tr = presence_new();
    char jid[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(jid, sizeof jid, "x@localhost/r%zu", i);
        assert_int_equal(
            presence_update(tr, jid, true, shows[i], is_tech, NULL), 0);
    }
    enum cd_presence p = presence_of(tr, "x@localhost", is_tech);
    presence_free(tr);
    return p;
}

static void test_several_resources(void **state)
{
    (void)state;
    /* Online > Busy > Away > Offline (tech); Online > Away (contact). */
    static const struct {
        enum presence_show shows[3];
        size_t n;
        enum cd_presence tech;
        enum cd_presence contact;
    } rows[] = {
        {{PRESENCE_SHOW_AWAY, PRESENCE_SHOW_DND}, 2, CD_BUSY, CD_AWAY},
        {{PRESENCE_SHOW_DND, PRESENCE_SHOW_XA}, 2, CD_BUSY, CD_AWAY},
        {{PRESENCE_SHOW_XA, PRESENCE_SHOW_AWAY}, 2, CD_AWAY, CD_AWAY},
        {{PRESENCE_SHOW_DND, PRESENCE_SHOW_NONE}, 2, CD_ONLINE, CD_ONLINE},
        {{PRESENCE_SHOW_AWAY, PRESENCE_SHOW_DND, PRESENCE_SHOW_CHAT},
         3,
         CD_ONLINE,
         CD_ONLINE},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(combine(rows[i].shows, rows[i].n, true), rows[i].tech);
        assert_int_equal(combine(rows[i].shows, rows[i].n, false),
                         rows[i].contact);
    }
}

static void expect_change(const struct presence_change *c, bool changed,
                          enum cd_presence before, enum cd_presence after)
{
    assert_int_equal(c->changed, changed);
    assert_int_equal(c->before, before);
    assert_int_equal(c->after, after);
}

static void test_change_notifications(void **state)
{
    struct presence_tracker *tr = *state;
    struct presence_change c;
    /* A tech comes Online: the caller sends the waiting invitations. */
    assert_int_equal(presence_update(tr, "Tom@Localhost/laptop", true,
                                     PRESENCE_SHOW_NONE, true, &c),
                     0);
    expect_change(&c, true, CD_OFFLINE, CD_ONLINE);
    /* A second resource that is dnd changes nothing: Online still wins. */
    assert_int_equal(presence_update(tr, "tom@localhost/phone", true,
                                     PRESENCE_SHOW_DND, true, &c),
                     0);
    expect_change(&c, false, CD_ONLINE, CD_ONLINE);
    /* The laptop goes away (idle): the phone's dnd is now the best. */
    assert_int_equal(presence_update(tr, "tom@localhost/laptop", true,
                                     PRESENCE_SHOW_AWAY, true, &c),
                     0);
    expect_change(&c, true, CD_ONLINE, CD_BUSY);
    /* The phone disconnects: Away. */
    assert_int_equal(presence_update(tr, "tom@localhost/phone", false,
                                     PRESENCE_SHOW_NONE, true, &c),
                     0);
    expect_change(&c, true, CD_BUSY, CD_AWAY);
    /* Unavailable from a resource we never saw: nothing changes. */
    assert_int_equal(presence_update(tr, "tom@localhost/other", false,
                                     PRESENCE_SHOW_NONE, true, &c),
                     0);
    expect_change(&c, false, CD_AWAY, CD_AWAY);
    /* The last resource goes: Offline, and the JID is dropped. */
    assert_int_equal(presence_update(tr, "tom@localhost/laptop", false,
                                     PRESENCE_SHOW_NONE, true, &c),
                     0);
    expect_change(&c, true, CD_AWAY, CD_OFFLINE);
    assert_int_equal(presence_count(tr), 0);

    /* A contact's portal: Online, away after idling, closed tab. */
    assert_int_equal(presence_update(tr, "alice@localhost/portal-1", true,
                                     PRESENCE_SHOW_NONE, false, &c),
                     0);
    expect_change(&c, true, CD_OFFLINE, CD_ONLINE);
    assert_int_equal(presence_update(tr, "alice@localhost/portal-1", true,
                                     PRESENCE_SHOW_AWAY, false, &c),
                     0);
    expect_change(&c, true, CD_ONLINE, CD_AWAY);
    assert_int_equal(presence_update(tr, "alice@localhost/portal-1", true,
                                     PRESENCE_SHOW_DND, false, &c),
                     0);
    expect_change(&c, false, CD_AWAY, CD_AWAY);
    assert_int_equal(presence_update(tr, "alice@localhost/portal-1", false,
                                     PRESENCE_SHOW_NONE, false, &c),
                     0);
    expect_change(&c, true, CD_AWAY, CD_OFFLINE);
}

static void test_jids(void **state)
{
    struct presence_tracker *tr = *state;
    struct presence_change c;
    /* Bare part case-folded, resource case-sensitive, no resource is "". */
    assert_int_equal(presence_update(tr, "Bob@LOCALHOST/Phone", true,
                                     PRESENCE_SHOW_AWAY, false, NULL),
                     0);
    assert_int_equal(presence_update(tr, "bob@localhost/phone", true,
                                     PRESENCE_SHOW_NONE, false, NULL),
                     0);
    assert_int_equal(presence_of(tr, "BOB@localhost", false), CD_ONLINE);
    assert_int_equal(presence_of(tr, "bob@localhost/whatever", false),
                     CD_ONLINE);
    assert_int_equal(presence_update(tr, "bob@localhost/phone", false,
                                     PRESENCE_SHOW_NONE, false, NULL),
                     0);
    assert_int_equal(presence_of(tr, "bob@localhost", false), CD_AWAY);
    assert_int_equal(presence_update(tr, "carol@localhost", true,
                                     PRESENCE_SHOW_NONE, false, NULL),
                     0);
    assert_int_equal(presence_of(tr, "carol@localhost", false), CD_ONLINE);
    assert_int_equal(presence_count(tr), 2);
    /* Malformed JIDs: refused, nothing stored. */
    const char *bad[] = {NULL,  "", "localhost", "@localhost", "a b@localhost",
                         "bob@"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(
            presence_update(tr, bad[i], true, PRESENCE_SHOW_NONE, false, &c),
            -1);
        assert_false(c.changed);
        assert_int_equal(presence_of(tr, bad[i], false), CD_OFFLINE);
    }
    char longres[1100];
    memset(longres, 'r', sizeof longres - 1);
    longres[sizeof longres - 1] = '\0';
    memcpy(longres, "d@localhost/", 12);
    assert_int_equal(
        presence_update(tr, longres, true, PRESENCE_SHOW_NONE, false, NULL),
        -1);
    assert_int_equal(presence_count(tr), 2);
}

static void test_forget_and_clear(void **state)
{
    struct presence_tracker *tr = *state;
    struct presence_change c;
    assert_int_equal(presence_update(tr, "tom@localhost/a", true,
                                     PRESENCE_SHOW_DND, true, NULL),
                     0);
    assert_int_equal(presence_update(tr, "tom@localhost/b", true,
                                     PRESENCE_SHOW_XA, true, NULL),
                     0);
    assert_int_equal(presence_forget(tr, "Tom@localhost", &c), 0);
    expect_change(&c, true, CD_BUSY, CD_OFFLINE);
    assert_int_equal(presence_of(tr, "tom@localhost", true), CD_OFFLINE);
    assert_int_equal(presence_forget(tr, "nobody@localhost", &c), 0);
    expect_change(&c, false, CD_OFFLINE, CD_OFFLINE);
    assert_int_equal(presence_forget(tr, "nonsense", &c), -1);
    for (int i = 0; i < 50; i++) {
        char jid[64];
        snprintf(jid, sizeof jid, "user%02d@localhost/r", i);
        assert_int_equal(
            presence_update(tr, jid, true, PRESENCE_SHOW_NONE, i % 2, NULL), 0);
    }
    assert_int_equal(presence_count(tr), 50);
    presence_clear(tr);
    assert_int_equal(presence_count(tr), 0);
    assert_int_equal(presence_of(tr, "user01@localhost", true), CD_OFFLINE);
}

struct collected {
    char jids[8][64];
    size_t n;
    size_t stop_after;
};

static int collect(const char *bare, void *ud)
{
    struct collected *c = ud;
    snprintf(c->jids[c->n++], sizeof c->jids[0], "%s", bare);
    return c->stop_after && c->n >= c->stop_after;
}

static void test_online_techs(void **state)
{
    struct presence_tracker *tr = *state;
    static const struct {
        const char *jid;
        enum presence_show show;
        bool tech;
    } who[] = {
        {"zed@localhost/x", PRESENCE_SHOW_CHAT, true},
        {"tom@localhost/x", PRESENCE_SHOW_NONE, true},
        {"tina@localhost/x", PRESENCE_SHOW_DND, true},  /* Busy */
        {"tess@localhost/x", PRESENCE_SHOW_AWAY, true}, /* Away */
        {"alice@localhost/x", PRESENCE_SHOW_NONE, false},
        {"abe@localhost/x", PRESENCE_SHOW_NONE, true},
    };
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++)
        assert_int_equal(presence_update(tr, who[i].jid, true, who[i].show,
                                         who[i].tech, NULL),
                         0);
    struct collected c = {.n = 0};
    assert_int_equal(presence_each_online_tech(tr, collect, &c), 3);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.jids[0], "abe@localhost"); /* JID order */
    assert_string_equal(c.jids[1], "tom@localhost");
    assert_string_equal(c.jids[2], "zed@localhost");
    /* A non-zero return stops the walk. */
    memset(&c, 0, sizeof c);
    c.stop_after = 2;
    assert_int_equal(presence_each_online_tech(tr, collect, &c), 2);
    /* tina clears dnd: now Online and listed. */
    assert_int_equal(presence_update(tr, "tina@localhost/x", true,
                                     PRESENCE_SHOW_NONE, true, NULL),
                     0);
    memset(&c, 0, sizeof c);
    assert_int_equal(presence_each_online_tech(tr, collect, &c), 4);
    assert_string_equal(c.jids[1], "tina@localhost"); /* tina < tom */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapping_table),
        cmocka_unit_test(test_show_parse_and_names),
        cmocka_unit_test(test_several_resources),
        cmocka_unit_test_setup_teardown(test_change_notifications, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_jids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_online_techs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
