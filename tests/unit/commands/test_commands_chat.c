/* test_commands_chat.c - start-chat's result (commands/chat.c) through the
 * ad-hoc framework on a ":memory:" store: the queue position, the number of
 * Online techs and the "no technician" note of leave a message (SPEC §9),
 * and that the ticket is made either way. */
#include "testkit.h"

#include "chat/chat.h"
#include "commands/chat.h"
#include "domain/directory.h"
#include "domain/presence.h"
#include "domain/sessions.h"
#include "runtime/clock.h"

#include <stdbool.h>

#define T0 1767261600 /* Thursday 2026-01-01T10:00:00Z */
#define SUBMIT                                                                 \
    "<x xmlns='jabber:x:data' type='submit'><field "                           \
    "var='description'><value>%s</value></field></x>"

static struct domain *dom(void)
{
    return tk.app.domain;
}

static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tess = {0, "tess@localhost", "Tess", false};
    struct contact c = {0};
    int64_t acme;
    (void)state;
    testkit_setup_domain();
    assert_int_equal(chat_register(&tk.app), 0);
    assert_int_equal(commands_chat_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dom()->dir, &co, &acme), DIR_OK);
    c.company_id = acme;
    for (int i = 0; i < 2; i++) {
        snprintf(c.jid, sizeof c.jid, i ? "bob@localhost" : "alice@localhost");
        snprintf(c.name, sizeof c.name, i ? "Bob" : "Alice");
        assert_int_equal(directory_contact_create(dom()->dir, &c, NULL),
                         DIR_OK);
    }
    assert_int_equal(directory_tech_create(dom()->dir, &tess, NULL), DIR_OK);
    clock_set(T0);
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

/* start-chat as from; the iq answer among what was sent. */
static xmpp_stanza_t *start_chat(const char *from, const char *description)
{
    char payload[512], xml[2048];
    snprintf(payload, sizeof payload, SUBMIT, description);
    snprintf(xml, sizeof xml,
             "<iq type='set' id='c1' from='%s' to='helpdesk.localhost'>"
             "<command xmlns='" NS_COMMANDS "' node='start-chat'>%s"
             "</command></iq>",
             from, payload);
    testkit_feed(xml);
    for (int i = 0; i < tk.n_sent; i++)
        if (!strcmp(xmpp_stanza_get_name(tk.sent[i]), "iq"))
            return tk.sent[i];
    fail_msg("no answer to start-chat");
    return NULL;
}

static const char *value_of(struct form *f, const char *var)
{
    struct form_field *fl = form_field_find(f, var);
    assert_non_null(fl);
    assert_true(fl->n_values > 0);
    return fl->values[0];
}

/* 1 when the reply carries a <note/> of type whose text has needle. */
static int has_note(xmpp_stanza_t *iq, const char *type, const char *needle)
{
    for (xmpp_stanza_t *n = xmpp_stanza_get_children(testkit_cmd_of(iq)); n;
         n = xmpp_stanza_get_next(n)) {
        const char *name = xmpp_stanza_get_name(n);
        const char *t = xmpp_stanza_get_type(n);
        if (!name || strcmp(name, "note") || !t || strcmp(t, type))
            continue;
        char *text = xmpp_stanza_get_text(n);
        int found = text && strstr(text, needle);
        xmpp_free(tk.app.ctx, text);
        if (found)
            return 1;
    }
    return 0;
}

/* Nobody Online: the ticket is made, techs_online is 0 and a note says so;
 * with a tech Online the count is 1 and no such note; positions count up. */
static void test_start_chat_leave_a_message(void **state)
{
    (void)state;
    xmpp_stanza_t *r = start_chat("alice@localhost/portal", "No one there?");
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    assert_string_equal(value_of(f, "techs_online"), "0");
    assert_string_equal(value_of(f, "position"), "1");
    assert_string_equal(value_of(f, "ticket"), "1");
    form_free(f);
    assert_true(has_note(r, "warn", "No technician is available right now"));
    struct sess_info s;
    assert_int_equal(sessions_get(dom()->sessions, 1, &s), SESS_OK);
    assert_int_equal(s.ticket_id, 1);
    sess_info_clear(&s);

    assert_int_equal(presence_update(dom()->presence, "tess@localhost/dino",
                                     true, PRESENCE_SHOW_NONE, true, NULL),
                     0);
    r = start_chat("bob@localhost/portal", "Someone there?");
    f = testkit_form_of(r);
    assert_string_equal(value_of(f, "techs_online"), "1");
    assert_string_equal(value_of(f, "position"), "2");
    form_free(f);
    assert_false(has_note(r, "warn", "No technician"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_start_chat_leave_a_message, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
