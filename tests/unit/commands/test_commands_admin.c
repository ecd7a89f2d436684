/* test_commands_admin.c - the admin ad-hoc commands (settings, company,
 * contact, tech) driven through dispatch_stanza() with a capturing sender
 * on a ":memory:" store: happy paths, every validation error, store
 * failures, and who may run them. */
#include "testkit.h"

#include "commands/audit.h"
#include "commands/canned.h"
#include "domain/audit.h"
#include "domain/canned.h"

#include "runtime/clock.h"
#include "commands/admin.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/settings.h"
#include "runtime/store.h"
#include "xep0004_forms.h"
#include "xep0030_disco.h"
#include "xep0050_adhoc.h"

#include <stdlib.h>

#define ADMIN "admin@localhost/gajim"
#define TECH "tech@localhost/dino"
#define ALICE "alice@localhost/portal"
#define SUBMIT(fields) "<x xmlns='jabber:x:data' type='submit'>" fields "</x>"
#define FIELD(var, value)                                                      \
    "<field var='" var "'><value>" value "</value></field>"

static struct store *st;
static char sid[128];

/* ---- fixture --------------------------------------------------------------
 */

static struct directory *dir(void)
{
    return tk.app.domain->dir;
}

/* The app with the admin commands on an empty store. */
static int setup_empty(void **state)
{
    (void)state;
    testkit_setup_domain();
    st = tk.app.store;
    assert_int_equal(commands_admin_register(&tk.app), 0);
    clock_set(1767261600); /* 2026-01-01T10:00:00Z */
    return 0;
}

/* Plus company Acme, contact alice@localhost and tech tech@localhost. */
static int setup(void **state)
{
    struct company acme = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct contact alice = {0};
    struct tech tech = {0, "tech@localhost", "Tess", false};

    setup_empty(state);
    assert_int_equal(directory_company_create(dir(), &acme, &alice.company_id),
                     DIR_OK);
    snprintf(alice.jid, sizeof alice.jid, "alice@localhost");
    snprintf(alice.name, sizeof alice.name, "Alice");
    assert_int_equal(directory_contact_create(dir(), &alice, NULL), DIR_OK);
    assert_int_equal(directory_tech_create(dir(), &tech, NULL), DIR_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

static void sql(const char *text)
{
    assert_int_equal(db_exec(store_db(st), text, NULL),
                     DB_OK);
}

/* ---- driving commands ------------------------------------------------------
 */

/* Send one command request and return the one answer (owned by tk). */
static xmpp_stanza_t *run(const char *from, const char *node,
                          const char *action, const char *session,
                          const char *payload)
{
    return testkit_command(from, node, action, session, payload);
}

/* Start node as from; expect a form and remember the session id. */
static void start(const char *from, const char *node)
{
    xmpp_stanza_t *r = run(from, node, NULL, NULL, NULL);

    testkit_expect_status(r, "executing");
    snprintf(sid, sizeof sid, "%s",
             xmpp_stanza_get_attribute(testkit_cmd_of(r), "sessionid"));
}

/* Continue the session with action and a submitted form. */
static xmpp_stanza_t *step(const char *from, const char *node,
                           const char *action, const char *payload)
{
    return run(from, node, action, sid, payload);
}

static void expect_bad(xmpp_stanza_t *iq, const char *text)
{
    testkit_expect_error(iq, "modify", "bad-request", text);
}

/* Value of field var in the reply's form equals want. */
static void expect_field(xmpp_stanza_t *iq, const char *var, const char *want)
{
    struct form *f = testkit_form_of(iq);
    const char *v = form_get_string(f, var);

    if (!v || strcmp(v, want) != 0)
        fail_msg("field %s is '%s', want '%s'", var, v ? v : "(none)", want);
    form_free(f);
}

/* The reply's form offers option value in field var. */
static int has_option(xmpp_stanza_t *iq, const char *var, const char *value)
{
    struct form *f = testkit_form_of(iq);
    struct form_field *fl = form_field_find(f, var);
    int found = 0;

    assert_non_null(fl);
    for (size_t i = 0; i < fl->n_options; i++)
        found |= !strcmp(fl->options[i].value, value);
    form_free(f);
    return found;
}

static void expect_note(xmpp_stanza_t *iq, const char *text)
{
    xmpp_stanza_t *note =
        xmpp_stanza_get_child_by_name(testkit_cmd_of(iq), "note");
    char *s;

    assert_non_null(note);
    s = xmpp_stanza_get_text(note);
    if (!strstr(s, text))
        fail_msg("note '%s' lacks '%s'", s, text);
    xmpp_free(tk.app.ctx, s);
}

static struct settings load(void)
{
    struct settings s;
    char err[256];

    assert_int_equal(domain_settings(tk.app.domain, &s, err, sizeof err), 0);
    return s;
}

/* ---- settings ------------------------------------------------------------ */

static void test_settings_prefilled_and_saved(void **state)
{
    xmpp_stanza_t *r;
    struct settings s;
    char buf[256];

    (void)state;
    r = run(ADMIN, "settings", NULL, NULL, NULL);
    testkit_expect_status(r, "executing");
    expect_field(r, "chat", "1");
    expect_field(r, "pre_ticket", "1");
    expect_field(r, "timezone", "UTC");
    expect_field(r, "office_hours", "mon-sun 00:00-24:00");
    expect_field(r, "answer_timeout", "60");
    expect_field(r, "idle_timeout", "3600");
    start(ADMIN, "settings");
    r = step(ADMIN, "settings", "complete",
             SUBMIT(FIELD("chat", "0") FIELD("pre_ticket", "1") FIELD(
                 "callback", "false") FIELD("timezone", " Europe/London ")
                        FIELD("office_hours", "mon-fri 9:00-17:00")
                            FIELD("holidays", "2026-12-25")
                                FIELD("answer_timeout", "90")
                                    FIELD("idle_timeout", "1800")));
    testkit_expect_status(r, "completed");
    expect_note(r, "Settings saved (7 changed)");
    s = load();
    assert_false(s.chat);
    assert_false(s.callback);
    assert_int_equal(s.answer_timeout, 90);
    assert_int_equal(s.idle_timeout, 1800);
    assert_string_equal(s.hours.timezone, "Europe/London");
    settings_value(&s, "office_hours", buf, sizeof buf);
    assert_string_equal(buf, "mon-fri 09:00-17:00");
    /* unchanged values are not stored (they keep following the default) */
    assert_int_equal(settings_is_stored(tk.app.domain->settings, "pre_ticket"),
                     0);
    r = run(ADMIN, "settings", NULL, NULL, NULL);
    expect_field(r, "chat", "0");
    expect_field(r, "holidays", "2026-12-25");
    expect_field(r, "office_hours", "mon-fri 09:00-17:00");
    expect_field(r, "answer_timeout", "90");
}

static void test_settings_left_out_fields_kept(void **state)
{
    xmpp_stanza_t *r;

    (void)state;
    start(ADMIN, "settings");
    r = step(ADMIN, "settings", NULL, SUBMIT(FIELD("idle_timeout", "120")));
    testkit_expect_status(r, "completed");
    expect_note(r, "1 changed");
    assert_int_equal(load().idle_timeout, 120);
    assert_true(load().chat);
    start(ADMIN, "settings");
    expect_note(step(ADMIN, "settings", NULL, SUBMIT("")), "nothing changed");
}

static void test_settings_validation(void **state)
{
    static const char *const cases[][3] = {
        /* the one rule of config_timeout_parse(), the whole value quoted */
        {"answer_timeout", "0",
         "Field 'answer_timeout' must be a whole number of seconds from 1 "
         "to 604800, not \"0\""},
        {"answer_timeout", "604801", "Field 'answer_timeout' must be"},
        {"answer_timeout", "+5", "not \"+5\""},
        {"answer_timeout", "1.5", "Field 'answer_timeout' must be"},
        {"idle_timeout", "-5", "Field 'idle_timeout' must be a whole number"},
        {"idle_timeout", "soon", "Field 'idle_timeout' must be"},
        {"timezone", "Mars/Olympus", "Field 'timezone'"},
        {"timezone", "", "Field 'timezone'"},
        {"office_hours", "mnn-fri 09:00-17:00",
         "Field 'office_hours': bad day"},
        {"office_hours", "mon-fri 09:00-25:00", "Field 'office_hours'"},
        {"holidays", "2026-13-45", "Field 'holidays'"},
        {"chat", "maybe", "Field 'chat' must be a boolean"},
        {"callback", "on", "Field 'callback' must be a boolean"},
    };
    char payload[512];

    (void)state;
    start(ADMIN, "settings");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a good value first: nothing may be stored when a later one is
         * bad */
        snprintf(payload, sizeof payload,
                 SUBMIT(FIELD("pre_ticket", "0") "<field var='%s'><value>%s"
                                                 "</value></field>"),
                 cases[i][0], cases[i][1]);
        expect_bad(step(ADMIN, "settings", "complete", payload), cases[i][2]);
    }
    assert_true(load().pre_ticket);
    assert_int_equal(settings_is_stored(tk.app.domain->settings, "pre_ticket"),
                     0);
    /* the session stayed open: a corrected submission goes through */
    testkit_expect_status(step(ADMIN, "settings", "complete",
                               SUBMIT(FIELD("answer_timeout", "604800"))),
                          "completed");
    assert_int_equal(load().answer_timeout, 604800);
}

static void test_settings_store_failure_rolls_back(void **state)
{
    (void)state;
    sql(testdb_is_pg() ? "ALTER TABLE settings ADD CONSTRAINT \"disk on "
                         "fire\" CHECK (key <> 'idle_timeout') NOT VALID"
                       : "CREATE TRIGGER no_idle BEFORE INSERT ON settings "
                         "WHEN NEW.key = 'idle_timeout' "
                         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
    start(ADMIN, "settings");
    testkit_expect_error(
        step(ADMIN, "settings", "complete",
             SUBMIT(FIELD("chat", "0") FIELD("idle_timeout", "5"))),
        "wait", "internal-server-error", "disk on fire");
    assert_true(load().chat); /* the chat change was rolled back */
    sql("DROP TABLE settings");
    testkit_expect_error(run(ADMIN, "settings", NULL, NULL, NULL), "wait",
                         "internal-server-error",
                         "Could not read the settings");
}

/* ---- company ------------------------------------------------------------- */

static void test_company_create_and_edit(void **state)
{
    struct company c;
    xmpp_stanza_t *r;

    (void)state;
    r = run(ADMIN, "company", NULL, NULL, NULL);
    testkit_expect_status(r, "executing");
    assert_true(has_option(r, "company", "new"));
    assert_true(has_option(r, "company", "Acme"));
    start(ADMIN, "company");
    r = step(ADMIN, "company", "next", SUBMIT(FIELD("company", "new")));
    testkit_expect_status(r, "executing");
    expect_field(r, "chat", "inherit");
    assert_true(has_option(r, "pre_ticket", "off"));
    r = step(ADMIN, "company", "complete",
             SUBMIT(FIELD("name", " Globex ") FIELD("chat", "off") FIELD(
                 "pre_ticket", "on") FIELD("callback", "inherit")));
    testkit_expect_status(r, "completed");
    expect_note(r, "Company \"Globex\" created");
    assert_int_equal(directory_company_find(dir(), "globex", &c), DIR_OK);
    assert_int_equal(c.chat, TRI_OFF);
    assert_int_equal(c.pre_ticket, TRI_ON);
    assert_int_equal(c.callback, TRI_INHERIT);
    /* edit: the stored values come back prefilled */
    start(ADMIN, "company");
    r = step(ADMIN, "company", "next", SUBMIT(FIELD("company", "Globex")));
    expect_field(r, "name", "Globex");
    expect_field(r, "chat", "off");
    expect_field(r, "pre_ticket", "on");
    expect_field(r, "callback", "inherit");
    r = step(ADMIN, "company", NULL,
             SUBMIT(FIELD("name", "Globex Corp") FIELD("chat", "inherit")));
    testkit_expect_status(r, "completed");
    expect_note(r, "updated");
    assert_int_equal(directory_company_find(dir(), "Globex Corp", &c), DIR_OK);
    assert_int_equal(c.chat, TRI_INHERIT);
    assert_int_equal(c.pre_ticket, TRI_ON); /* left out: kept */
}

static void test_company_errors(void **state)
{
    xmpp_stanza_t *r;

    (void)state;
    start(ADMIN, "company");
    expect_bad(step(ADMIN, "company", "next", SUBMIT(FIELD("company", "Nope"))),
               "Field 'company': no company named \"Nope\"");
    expect_bad(step(ADMIN, "company", "next", SUBMIT("")),
               "Field 'company' is required");
    testkit_expect_status(
        step(ADMIN, "company", "next", SUBMIT(FIELD("company", "new"))),
        "executing");
    expect_bad(step(ADMIN, "company", "complete", SUBMIT(FIELD("name", " "))),
               "Field 'name' is required");
    expect_bad(step(ADMIN, "company", "complete", SUBMIT("")),
               "Field 'name' is required");
    expect_bad(step(ADMIN, "company", "complete",
                    SUBMIT(FIELD("name", "X") FIELD("callback", "maybe"))),
               "Field 'callback' must be inherit, on or off");
    expect_bad(
        step(ADMIN, "company", "complete", SUBMIT(FIELD("name", "acme"))),
        "Field 'name': a company named \"acme\" exists");
    /* prev shows the choice again */
    r = step(ADMIN, "company", "prev", NULL);
    testkit_expect_status(r, "executing");
    assert_true(has_option(r, "company", "Acme"));
    testkit_expect_status(
        step(ADMIN, "company", "next", SUBMIT(FIELD("company", "acme"))),
        "executing");
    testkit_expect_status(step(ADMIN, "company", "complete", SUBMIT("")),
                          "completed");
}

static void test_company_store_failure(void **state)
{
    (void)state;
    sql(testdb_is_pg() ? "ALTER TABLE companies ADD CONSTRAINT \"disk on "
                         "fire\" CHECK (false) NOT VALID"
                       : "CREATE TRIGGER no_co BEFORE INSERT ON companies "
                         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
    start(ADMIN, "company");
    step(ADMIN, "company", "next", SUBMIT(FIELD("company", "new")));
    testkit_expect_error(
        step(ADMIN, "company", "complete", SUBMIT(FIELD("name", "Z"))), "wait",
        "internal-server-error", "disk on fire");
}

/* ---- contact ------------------------------------------------------------- */

static void test_contact_create_and_edit(void **state)
{
    struct contact c;
    struct company acme;
    xmpp_stanza_t *r;

    (void)state;
    start(ADMIN, "contact");
    r = step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "Bob@LocalHost")));
    testkit_expect_status(r, "executing");
    assert_true(testkit_contains(0, "New contact bob@localhost"));
    assert_true(has_option(r, "company", "Acme"));
    expect_field(r, "chat", "inherit");
    r = step(ADMIN, "contact", "complete",
             SUBMIT(FIELD("company", "Acme") FIELD("name", "Bob")
                        FIELD("phone", "+1 555 0100") FIELD("chat", "off")));
    testkit_expect_status(r, "completed");
    expect_note(r, "Contact bob@localhost created");
    assert_int_equal(directory_contact_find(dir(), "bob@localhost", &c),
                     DIR_OK);
    assert_int_equal(directory_company_find(dir(), "Acme", &acme), DIR_OK);
    assert_int_equal(c.company_id, acme.id);
    assert_string_equal(c.name, "Bob");
    assert_string_equal(c.phone, "+1 555 0100");
    assert_int_equal(c.chat, TRI_OFF);
    /* again: everything prefilled */
    start(ADMIN, "contact");
    r = step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "bob@localhost")));
    assert_true(testkit_contains(0, "Existing contact bob@localhost"));
    expect_field(r, "company", "Acme");
    expect_field(r, "name", "Bob");
    expect_field(r, "phone", "+1 555 0100");
    expect_field(r, "chat", "off");
    r = step(ADMIN, "contact", "complete", SUBMIT(FIELD("phone", "42")));
    expect_note(r, "updated");
    assert_int_equal(directory_contact_find(dir(), "bob@localhost", &c),
                     DIR_OK);
    assert_string_equal(c.phone, "42");
    assert_string_equal(c.name, "Bob");
    assert_int_equal(c.chat, TRI_OFF);
}

static void test_contact_errors(void **state)
{
    char payload[512], phone[80];

    (void)state;
    start(ADMIN, "contact");
    expect_bad(step(ADMIN, "contact", "next", SUBMIT("")),
               "Field 'jid' is required");
    expect_bad(step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "bob"))),
               "Field 'jid': \"bob\" is not a JID");
    expect_bad(
        step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "bob@localhost/x"))),
        "Field 'jid' must be a bare JID");
    expect_bad(
        step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "tech@localhost"))),
        "Field 'jid': tech@localhost is a tech, not a contact");
    step(ADMIN, "contact", "next", SUBMIT(FIELD("jid", "bob@localhost")));
    expect_bad(step(ADMIN, "contact", "complete", SUBMIT("")),
               "Field 'company' is required");
    expect_bad(
        step(ADMIN, "contact", "complete", SUBMIT(FIELD("company", "Nope"))),
        "Field 'company': no company named \"Nope\"");
    expect_bad(
        step(ADMIN, "contact", "complete",
             SUBMIT(FIELD("company", "Acme") FIELD("chat", "sometimes"))),
        "Field 'chat' must be inherit, on or off");
    memset(phone, '5', 70);
    phone[70] = '\0';
    snprintf(payload, sizeof payload,
             SUBMIT(FIELD("company", "Acme") FIELD("phone", "%s")), phone);
    expect_bad(step(ADMIN, "contact", "complete", payload),
               "Field 'phone' is too long (at most 63 bytes)");
    testkit_expect_status(
        step(ADMIN, "contact", "complete", SUBMIT(FIELD("company", "Acme"))),
        "completed");
}

static void test_contact_needs_a_company(void **state)
{
    (void)state;
    testkit_expect_error(run(ADMIN, "contact", NULL, NULL, NULL), "cancel",
                         "item-not-found",
                         "create one with the 'company' command");
}

/* ---- tech -----------------------------------------------------------------
 */

static void test_tech_create_edit_remove(void **state)
{
    struct tech t;
    xmpp_stanza_t *r;

    (void)state;
    start(ADMIN, "tech");
    assert_true(has_option(tk.sent[0], "action", "remove"));
    r = step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "carol@localhost") FIELD("action", "create")));
    testkit_expect_status(r, "executing");
    assert_true(testkit_contains(0, "New tech carol@localhost"));
    r = step(ADMIN, "tech", "complete",
             SUBMIT(FIELD("name", "Carol") FIELD("admin", "true")));
    testkit_expect_status(r, "completed");
    expect_note(r, "Tech carol@localhost created (admin)");
    assert_int_equal(domain_role(tk.app.domain, "carol@localhost"), ROLE_ADMIN);
    /* edit: prefilled; make her a plain tech */
    start(ADMIN, "tech");
    r = step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "carol@localhost") FIELD("action", "edit")));
    expect_field(r, "name", "Carol");
    expect_field(r, "admin", "1");
    testkit_expect_status(
        step(ADMIN, "tech", "complete", SUBMIT(FIELD("admin", "0"))),
        "completed");
    assert_int_equal(directory_tech_find(dir(), "carol@localhost", &t), DIR_OK);
    assert_string_equal(t.name, "Carol");
    assert_false(t.admin);
    /* the new tech may not run admin commands */
    testkit_expect_error(run("carol@localhost/x", "settings", NULL, NULL, NULL),
                         "cancel", "forbidden", "admins only");
    start(ADMIN, "tech");
    r = step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "carol@localhost") FIELD("action", "remove")));
    testkit_expect_status(r, "completed");
    expect_note(r, "Tech carol@localhost removed");
    assert_int_equal(directory_tech_find(dir(), "carol@localhost", &t),
                     DIR_ERR_NOT_FOUND);
}

static void test_tech_errors(void **state)
{
    (void)state;
    start(ADMIN, "tech");
    expect_bad(step(ADMIN, "tech", "next", SUBMIT(FIELD("jid", "x@y"))),
               "Field 'action' is required");
    expect_bad(step(ADMIN, "tech", "next",
                    SUBMIT(FIELD("jid", "x@y") FIELD("action", "fire"))),
               "Field 'action' must be create, edit or remove");
    expect_bad(step(ADMIN, "tech", "next", SUBMIT(FIELD("action", "create"))),
               "Field 'jid' is required");
    expect_bad(
        step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "tech@localhost") FIELD("action", "create"))),
        "Field 'jid': tech@localhost is already a tech (choose edit)");
    expect_bad(
        step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "alice@localhost") FIELD("action", "create"))),
        "Field 'jid': alice@localhost is already a contact");
    expect_bad(
        step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "nobody@localhost") FIELD("action", "edit"))),
        "Field 'jid': nobody@localhost is not a tech");
    expect_bad(step(ADMIN, "tech", "next",
                    SUBMIT(FIELD("jid", "nobody@localhost")
                               FIELD("action", "remove"))),
               "Field 'jid': nobody@localhost is not a tech");
    testkit_expect_status(
        step(ADMIN, "tech", "next",
             SUBMIT(FIELD("jid", "tech@localhost") FIELD("action", "edit"))),
        "executing");
    expect_bad(step(ADMIN, "tech", "complete", SUBMIT(FIELD("admin", "maybe"))),
               "Field 'admin' must be a boolean");
    testkit_expect_status(step(ADMIN, "tech", "prev", NULL), "executing");
}

/* ---- who may run them ------------------------------------------------------
 */

static void test_roles(void **state)
{
    static const char *const nodes[] = {"settings", "company", "contact",
                                        "tech"};

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        testkit_expect_error(run(TECH, nodes[i], NULL, NULL, NULL), "cancel",
                             "forbidden", "admins only");
        testkit_expect_error(run(ALICE, nodes[i], NULL, NULL, NULL), "cancel",
                             "forbidden", "admins only");
        testkit_expect_error(run("eve@localhost/x", nodes[i], NULL, NULL, NULL),
                             "auth", "not-authorized", "eve@localhost");
    }
    assert_int_equal(adhoc_session_count(&tk.app), 0);
}

/* Every admin change is in the audit trail (SPEC §9): settings, company,
 * tech (edit, remove), canned; the audit command lists it newest first,
 * paged like history. */
static void test_audit_trail(void **state)
{
    struct audit_list l;
    xmpp_stanza_t *r;
    (void)state;
    assert_int_equal(commands_audit_register(&tk.app), 0);
    assert_int_equal(commands_canned_register(&tk.app), 0);
    start(ADMIN, "settings");
    testkit_expect_status(step(ADMIN, "settings", "complete",
                               SUBMIT(FIELD("answer_timeout", "90"))),
                          "completed");
    start(ADMIN, "company");
    step(ADMIN, "company", "next", SUBMIT(FIELD("company", "Acme")));
    step(ADMIN, "company", "complete",
         SUBMIT(FIELD("name", "Acme") FIELD("chat", "off")));
    testkit_expect_status(run(ADMIN, "canned", NULL, NULL,
                              SUBMIT(FIELD("action", "add") FIELD("name", "Hi")
                                         FIELD("text", "Hello"))),
                          "completed");
    assert_int_equal(audit_list(tk.app.domain->audit, 0, 10, &l), AUDIT_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.items[0].object, "canned:hi");
    assert_string_equal(l.items[0].new_value, "Hello");
    assert_string_equal(l.items[1].object, "company:Acme");
    assert_string_equal(l.items[1].key, "chat");
    assert_string_equal(l.items[1].old_value, "inherit");
    assert_string_equal(l.items[1].new_value, "off");
    assert_string_equal(l.items[2].who, "admin@localhost");
    assert_string_equal(l.items[2].object, "settings");
    assert_string_equal(l.items[2].key, "answer_timeout");
    assert_string_equal(l.items[2].old_value, "60");
    assert_string_equal(l.items[2].new_value, "90");
    audit_list_free(&l);
    /* the form, then one page: completed at once, newest first */
    start(ADMIN, "audit");
    r = step(ADMIN, "audit", NULL, SUBMIT(""));
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    assert_int_equal(f->n_items, 3);
    assert_int_equal(f->n_reported, 6);
    form_free(f);
    assert_true(strstr(testkit_note_of(r), "Page 1 (changes 1-3)") != NULL);
    /* more than a page: next, then the last page */
    for (int i = 0; i < COMMANDS_AUDIT_PAGE; i++)
        assert_int_equal(
            audit_record(tk.app.domain->audit, "x", "o", "k", "", "v"),
            AUDIT_OK);
    r = run(ADMIN, "audit", NULL, NULL, SUBMIT(""));
    testkit_expect_status(r, "executing");
    assert_true(strstr(testkit_note_of(r), "choose next") != NULL);
    snprintf(sid, sizeof sid, "%s",
             xmpp_stanza_get_attribute(testkit_cmd_of(r), "sessionid"));
    r = step(ADMIN, "audit", "next", NULL);
    testkit_expect_status(r, "executing");
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 3);
    form_free(f);
    assert_true(strstr(testkit_note_of(r), "last page") != NULL);
    testkit_expect_error(run(TECH, "audit", NULL, NULL, NULL), NULL,
                         "forbidden", "");
    expect_bad(run(ADMIN, "audit", NULL, NULL, SUBMIT(FIELD("page", "0"))),
               "page");
}

/* A change whose audit entry cannot be written is not made (one
 * transaction): the company keeps its setting, the canned reply is not
 * added, and the admin is told nothing was changed. */
static void test_audit_failure_rolls_back(void **state)
{
    struct company c;
    char *text = NULL;
    (void)state;
    assert_int_equal(commands_canned_register(&tk.app), 0);
    sql(testdb_is_pg() ? "ALTER TABLE audit ADD CONSTRAINT \"disk on "
                         "fire\" CHECK (false) NOT VALID"
                       : "CREATE TRIGGER no_audit BEFORE INSERT ON audit "
                         "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;");
    start(ADMIN, "company");
    step(ADMIN, "company", "next", SUBMIT(FIELD("company", "Acme")));
    testkit_expect_error(step(ADMIN, "company", "complete",
                              SUBMIT(FIELD("name", "Acme")
                                         FIELD("chat", "off"))),
                         "wait", "internal-server-error",
                         "Could not record the change in the audit trail "
                         "(nothing was changed)");
    assert_int_equal(directory_company_find(dir(), "Acme", &c), DIR_OK);
    assert_int_equal(c.chat, TRI_INHERIT);
    testkit_expect_error(run(ADMIN, "canned", NULL, NULL,
                             SUBMIT(FIELD("action", "add") FIELD("name", "Hi")
                                        FIELD("text", "Hello"))),
                         "wait", "internal-server-error",
                         "audit trail (nothing was changed)");
    assert_int_equal(canned_get(tk.app.domain->canned, "hi", &text),
                     CANNED_ERR_NOT_FOUND);
    free(text);
    /* the transaction was ended: the next change goes through */
    sql(testdb_is_pg() ? "ALTER TABLE audit DROP CONSTRAINT \"disk on fire\""
                       : "DROP TRIGGER no_audit");
    testkit_expect_status(run(ADMIN, "canned", NULL, NULL,
                              SUBMIT(FIELD("action", "add") FIELD("name", "Hi")
                                         FIELD("text", "Hello"))),
                          "completed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settings_prefilled_and_saved,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_failure_rolls_back, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_left_out_fields_kept,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_validation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_store_failure_rolls_back,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_company_create_and_edit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_company_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_company_store_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contact_create_and_edit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_contact_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_needs_a_company,
                                        setup_empty, teardown),
        cmocka_unit_test_setup_teardown(test_tech_create_edit_remove, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tech_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_trail, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
