/* test_commands_transfer.c - the transfer command (commands/transfer.c)
 * through the ad-hoc framework on a ":memory:" store: the target must be a
 * tech and Online; to a tech the target is invited and the room told; back
 * to the queue the session waits and Online techs are invited again. */
#include "testkit.h"

#include "chat/chat.h"
#include "commands/transfer.h"
#include "domain/directory.h"
#include "domain/presence.h"
#include "domain/sessions.h"
#include "runtime/clock.h"

#include <stdbool.h>

#define T0 1767261600
#define TESS "tess@localhost/dino"
#define SUBMIT(s, to)                                                          \
    "<x xmlns='jabber:x:data' type='submit'><field var='session'><value>" s    \
    "</value></field><field var='to'><value>" to "</value></field></x>"

static struct domain *dom(void)
{
    return tk.app.domain;
}

static void online(const char *full)
{
    assert_int_equal(presence_update(dom()->presence, full, true,
                                     PRESENCE_SHOW_NONE, true, NULL),
                     0);
}

/* Acme's alice has session 1, taken by Tess; Tom and Amy are techs. */
static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct contact c = {0};
    struct sess_result r;
    int64_t ticket, id;
    (void)state;
    testkit_setup_domain();
    assert_int_equal(chat_register(&tk.app), 0);
    assert_int_equal(commands_transfer_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &c.company_id),
                     DIR_OK);
    snprintf(c.jid, sizeof c.jid, "alice@localhost");
    snprintf(c.name, sizeof c.name, "Alice");
    assert_int_equal(directory_contact_create(dom()->dir, &c, &c.id), DIR_OK);
    const char *techs[][2] = {{"tess@localhost", "Tess"},
                              {"tom@localhost", "Tom"},
                              {"amy@localhost", "Amy"}};
    for (size_t i = 0; i < 3; i++) {
        struct tech t = {0};
        snprintf(t.jid, sizeof t.jid, "%s", techs[i][0]);
        snprintf(t.name, sizeof t.name, "%s", techs[i][1]);
        assert_int_equal(directory_tech_create(dom()->dir, &t, NULL), DIR_OK);
    }
    clock_set(T0);
    assert_int_equal(sessions_start_chat(dom()->sessions, c.jid, c.id,
                                         "Printer", &ticket, &id),
                     SESS_OK);
    assert_int_equal(
        sessions_tech_join(dom()->sessions, id, "tess@localhost", &r), SESS_OK);
    online(TESS);
    online("tom@localhost/gajim");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_clear();
    chat_free(&tk.app);
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

/* Run transfer as Tess with payload; the iq answer among what was sent. */
static xmpp_stanza_t *transfer(const char *payload)
{
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<iq type='set' id='t1' from='" TESS "' to='helpdesk.localhost'>"
             "<command xmlns='" NS_COMMANDS "' node='transfer'>%s</command>"
             "</iq>",
             payload);
    testkit_feed(xml);
    for (int i = 0; i < tk.n_sent; i++)
        if (!strcmp(xmpp_stanza_get_name(tk.sent[i]), "iq"))
            return tk.sent[i];
    fail_msg("no answer to transfer");
    return NULL;
}

/* The index of a stanza sent to `to` containing needle, or -1. */
static int sent_to(const char *to, const char *needle)
{
    for (int i = 0; i < tk.n_sent; i++) {
        const char *t = xmpp_stanza_get_to(tk.sent[i]);
        if (t && !strcmp(t, to) && testkit_contains(i, needle))
            return i;
    }
    return -1;
}

static void test_target_checks(void **state)
{
    (void)state;
    testkit_expect_error(transfer(SUBMIT("1", "nobody@localhost")), "modify",
                         "bad-request", "\"nobody@localhost\"");
    testkit_expect_error(transfer(SUBMIT("1", "amy@localhost")), "cancel",
                         "not-acceptable", "Amy is Offline");
    testkit_expect_error(transfer(SUBMIT("1", "tess@localhost")), "modify",
                         "bad-request", "you");
    testkit_expect_error(transfer(SUBMIT("9", "tom@localhost")), NULL,
                         "item-not-found", "");
    struct sess_transfer_list l;
    assert_int_equal(sessions_transfers(dom()->sessions, 1, &l), SESS_OK);
    assert_int_equal(l.n, 0);
    sess_transfer_list_free(&l);
}

static void test_to_tech_and_back_to_queue(void **state)
{
    (void)state;
    xmpp_stanza_t *r = transfer(SUBMIT("chat-1", "tom@localhost"));
    testkit_expect_status(r, "completed");
    /* a XEP-0249 invitation for Tom */
    assert_true(sent_to("tom@localhost", "jabber:x:conference") >= 0);
    struct sess_info s;
    assert_int_equal(sessions_get(dom()->sessions, 1, &s), SESS_OK);
    assert_int_equal(s.state, SESS_ACTIVE);
    sess_info_clear(&s);
    r = transfer(SUBMIT("1", ""));
    testkit_expect_status(r, "completed");
    assert_true(strstr(testkit_note_of(r), "back in the queue") != NULL);
    assert_int_equal(sessions_get(dom()->sessions, 1, &s), SESS_OK);
    assert_int_equal(s.state, SESS_WAITING);
    sess_info_clear(&s);
    /* Online techs are invited as for a new request */
    assert_true(sent_to("tom@localhost", "jabber:x:conference") >= 0);
    assert_true(sent_to("tess@localhost", "jabber:x:conference") >= 0);
    testkit_expect_error(transfer(SUBMIT("1", "tom@localhost")), NULL,
                         "not-allowed", "waiting");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_target_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_tech_and_back_to_queue, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
