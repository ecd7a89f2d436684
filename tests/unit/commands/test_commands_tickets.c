/* test_commands_tickets.c - create-ticket and tickets driven through
 * dispatch_stanza() with a capturing sender on a ":memory:" store: happy
 * paths, filters, the row limit, validation and store errors, roles. */
#include "testkit.h"

#include "runtime/clock.h"
#include "commands/tickets.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "runtime/store.h"
#include "domain/tickets.h"
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
#define T0 1767261600 /* 2026-01-01T10:00:00Z */

static struct store *st;
static int64_t acme_id, globex_id, alice_id, bob_id;

/* ---- fixture --------------------------------------------------------------
 */

static struct directory *dir(void)
{
    return tk.app.domain->dir;
}

static int64_t add_contact(const char *jid, int64_t company)
{
    struct contact c = {0};
    int64_t id = 0;

    c.company_id = company;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    assert_int_equal(directory_contact_create(dir(), &c, &id), DIR_OK);
    return id;
}

/* Companies Acme and Globex, contacts alice (Acme) and bob (Globex), tech
 * tech@localhost, admin admin@localhost (config). */
static int setup(void **state)
{
    struct company co = {0, "Acme", TRI_INHERIT, TRI_INHERIT, TRI_INHERIT};
    struct tech tech = {0, "tech@localhost", "Tess", false};
    (void)state;
    testkit_setup_domain();
    st = tk.app.store;
    assert_int_equal(commands_tickets_register(&tk.app), 0);
    assert_int_equal(directory_company_create(dir(), &co, &acme_id), DIR_OK);
    snprintf(co.name, sizeof co.name, "Globex");
    assert_int_equal(directory_company_create(dir(), &co, &globex_id), DIR_OK);
    alice_id = add_contact("alice@localhost", acme_id);
    bob_id = add_contact("bob@localhost", globex_id);
    assert_int_equal(directory_tech_create(dir(), &tech, NULL), DIR_OK);
    clock_set(T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testkit_teardown_domain();
    clock_reset();
    return 0;
}

/* ---- driving commands ------------------------------------------------------
 */

static xmpp_stanza_t *run(const char *from, const char *node,
                          const char *action, const char *session,
                          const char *payload)
{
    return testkit_command(from, node, action, session, payload);
}

/* Run node as from in two requests: show the form, then submit payload. */
static xmpp_stanza_t *submit(const char *from, const char *node,
                             const char *payload)
{
    char sid[128];
    xmpp_stanza_t *r = run(from, node, NULL, NULL, NULL);

    testkit_expect_status(r, "executing");
    assert_non_null(
        xmpp_stanza_get_child_by_name_and_ns(testkit_cmd_of(r), "x", NS_DATA));
    snprintf(sid, sizeof sid, "%s",
             xmpp_stanza_get_attribute(testkit_cmd_of(r), "sessionid"));
    return run(from, node, "complete", sid, payload);
}

static void expect_bad(xmpp_stanza_t *iq, const char *text)
{
    testkit_expect_error(iq, "modify", "bad-request", text);
}

/* Value of column var in row i of a result form. */
static const char *cell(const struct form *f, size_t i, const char *var)
{
    assert_true(i < f->n_items);
    for (size_t j = 0; j < f->items[i]->n_fields; j++) {
        const struct form_field *fl = f->items[i]->fields[j];

        if (!strcmp(fl->var, var))
            return fl->n_values ? fl->values[0] : "";
    }
    fail_msg("row %zu has no column %s", i, var);
    return NULL;
}

static int64_t new_ticket(int64_t contact, const char *summary)
{
    struct ticket_draft d = {0, contact, summary};
    int64_t id = 0;

    assert_int_equal(ticket_create(tk.app.domain->tickets, &d, &id), TICKET_OK);
    return id;
}

/* ---- create-ticket ----------------------------------------------------------
 */

static void test_create_ticket(void **state)
{
    struct ticket t;
    struct form *f;
    xmpp_stanza_t *r;

    (void)state;
    r = run(TECH, "create-ticket", NULL, NULL, NULL);
    testkit_expect_status(r, "executing");
    f = testkit_form_of(r);
    assert_int_equal(form_field_find(f, "contact")->type, FIELD_JID_SINGLE);
    assert_true(form_field_find(f, "summary")->required);
    form_free(f);
    r = submit(TECH, "create-ticket",
               SUBMIT(FIELD("contact", "Alice@Localhost")
                          FIELD("summary", " Printer on fire ")));
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    assert_int_equal(f->type, FORM_RESULT);
    assert_string_equal(form_get_string(f, "ticket"), "1");
    form_free(f);
    assert_string_equal(testkit_note_of(r),
                        "Ticket #1 created for alice@localhost");
    memset(&t, 0, sizeof t);
    assert_int_equal(ticket_get(tk.app.domain->tickets, 1, &t), TICKET_OK);
    assert_int_equal(t.contact_id, alice_id);
    assert_int_equal(t.company_id, acme_id);
    assert_string_equal(t.summary, "Printer on fire");
    assert_int_equal(t.status, TICKET_OPEN);
    ticket_clear(&t);
    /* admins are techs too */
    r = submit(ADMIN, "create-ticket",
               SUBMIT(FIELD("contact", "bob@localhost") FIELD("summary", "x")));
    testkit_expect_status(r, "completed");
    assert_string_equal(testkit_note_of(r),
                        "Ticket #2 created for bob@localhost");
}

static void test_create_ticket_errors(void **state)
{
    char payload[TICKET_SUMMARY_MAX + 256];
    char *summary = malloc(TICKET_SUMMARY_MAX + 2);
    struct ticket_list l;

    (void)state;
    expect_bad(submit(TECH, "create-ticket", SUBMIT(FIELD("summary", "x"))),
               "Field 'contact' is required");
    expect_bad(submit(TECH, "create-ticket",
                      SUBMIT(FIELD("contact", "alice@localhost")
                                 FIELD("summary", "  "))),
               "Field 'summary' is required");
    expect_bad(
        submit(TECH, "create-ticket",
               SUBMIT(FIELD("contact", "eve@localhost") FIELD("summary", "x"))),
        "Field 'contact': eve@localhost is not a known contact");
    expect_bad(submit(TECH, "create-ticket",
                      SUBMIT(FIELD("contact", "tech@localhost")
                                 FIELD("summary", "x"))),
               "Field 'contact': tech@localhost is not a known contact");
    expect_bad(submit(TECH, "create-ticket",
                      SUBMIT(FIELD("contact", "alice@localhost/portal")
                                 FIELD("summary", "x"))),
               "Field 'contact' must be a bare JID");
    assert_non_null(summary);
    memset(summary, 'a', TICKET_SUMMARY_MAX + 1);
    summary[TICKET_SUMMARY_MAX + 1] = '\0';
    snprintf(payload, sizeof payload,
             SUBMIT(FIELD("contact", "alice@localhost") FIELD("summary", "%s")),
             summary);
    free(summary);
    expect_bad(submit(TECH, "create-ticket", payload),
               "Field 'summary' is too long");
    assert_int_equal(ticket_list(tk.app.domain->tickets, NULL, &l), TICKET_OK);
    assert_int_equal(l.n, 0);
    ticket_list_free(&l);
}

static void test_create_ticket_store_failure(void **state)
{
    (void)state;
    assert_int_equal(
        db_exec(store_db(st),
                testdb_is_pg()
                    ? "ALTER TABLE tickets ADD CONSTRAINT \"disk on fire\" "
                      "CHECK (false) NOT VALID"
                    : "CREATE TRIGGER no_t BEFORE INSERT ON tickets BEGIN "
                      "SELECT RAISE(ABORT, 'disk on fire'); END;",
                NULL),
        DB_OK);
    testkit_expect_error(submit(TECH, "create-ticket",
                                SUBMIT(FIELD("contact", "alice@localhost")
                                           FIELD("summary", "x"))),
                         "wait", "internal-server-error", "disk on fire");
}

/* ---- tickets ----------------------------------------------------------------
 */

/* Three tickets an hour apart: #1 alice (closed), #2 bob, #3 alice. */
static void three_tickets(void)
{
    new_ticket(alice_id, "First");
    clock_advance(3600);
    new_ticket(bob_id, "Second");
    clock_advance(3600);
    new_ticket(alice_id, "Third");
    assert_int_equal(ticket_close(tk.app.domain->tickets, 1, NULL, NULL),
                     TICKET_OK);
}

static void test_tickets_list_all(void **state)
{
    struct form *f;
    xmpp_stanza_t *r;
    static const char *const cols[] = {"ticket",  "company", "contact",
                                       "summary", "status",  "created"};

    (void)state;
    three_tickets();
    r = submit(TECH, "tickets", SUBMIT(""));
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    assert_int_equal(f->type, FORM_RESULT);
    assert_int_equal(f->n_reported, 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(f->reported[i]->var, cols[i]);
    assert_int_equal(f->n_items, 3);
    assert_string_equal(cell(f, 0, "ticket"), "3"); /* newest first */
    assert_string_equal(cell(f, 0, "company"), "Acme");
    assert_string_equal(cell(f, 0, "contact"), "alice@localhost");
    assert_string_equal(cell(f, 0, "summary"), "Third");
    assert_string_equal(cell(f, 0, "status"), "open");
    assert_string_equal(cell(f, 0, "created"), "2026-01-01T12:00:00Z");
    assert_string_equal(cell(f, 1, "company"), "Globex");
    assert_string_equal(cell(f, 2, "ticket"), "1");
    assert_string_equal(cell(f, 2, "status"), "closed");
    assert_string_equal(cell(f, 2, "created"), "2026-01-01T10:00:00Z");
    form_free(f);
    /* the one note is the table as text (SPEC §8) */
    assert_string_equal(
        testkit_note_of(r),
        "Ticket: 3; Company: Acme; Contact: alice@localhost; Summary: Third; "
        "Status: open; Created: 2026-01-01T12:00:00Z\n"
        "Ticket: 2; Company: Globex; Contact: bob@localhost; Summary: Second; "
        "Status: open; Created: 2026-01-01T11:00:00Z\n"
        "Ticket: 1; Company: Acme; Contact: alice@localhost; Summary: First; "
        "Status: closed; Created: 2026-01-01T10:00:00Z");
}

/* Ticket ids listed for a submission, as "3,1". */
static void expect_ids(const char *payload, const char *want)
{
    xmpp_stanza_t *r = submit(TECH, "tickets", payload);
    char got[256] = "";
    struct form *f;

    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    for (size_t i = 0; i < f->n_items; i++) {
        if (i)
            strcat(got, ",");
        strcat(got, cell(f, i, "ticket"));
    }
    form_free(f);
    if (strcmp(got, want) != 0)
        fail_msg("listed '%s', want '%s'", got, want);
}

static void test_tickets_filters(void **state)
{
    (void)state;
    three_tickets();
    expect_ids(SUBMIT(FIELD("status", "all")), "3,2,1");
    expect_ids(SUBMIT(FIELD("status", "open")), "3,2");
    expect_ids(SUBMIT(FIELD("status", "closed")), "1");
    expect_ids(SUBMIT(FIELD("company", "acme")), "3,1");
    expect_ids(SUBMIT(FIELD("company", "Globex") FIELD("status", "")), "2");
    expect_ids(
        SUBMIT(FIELD("contact", "alice@localhost") FIELD("status", "open")),
        "3");
    expect_ids(
        SUBMIT(FIELD("contact", "bob@localhost") FIELD("company", "Acme")), "");
    expect_ids(SUBMIT(FIELD("company", " ") FIELD("contact", "")), "3,2,1");
}

static void test_tickets_errors(void **state)
{
    (void)state;
    expect_bad(submit(TECH, "tickets", SUBMIT(FIELD("status", "pending"))),
               "Field 'status' must be open, closed or all");
    expect_bad(submit(TECH, "tickets", SUBMIT(FIELD("company", "Initech"))),
               "Field 'company': there is no company named \"Initech\"");
    expect_bad(submit(TECH, "tickets", SUBMIT(FIELD("contact", "eve@x"))),
               "Field 'contact': eve@x is not a known contact");
}

static void test_tickets_none_and_limit(void **state)
{
    xmpp_stanza_t *r;
    struct form *f;
    char summary[32];

    (void)state;
    r = submit(TECH, "tickets", SUBMIT(""));
    testkit_expect_status(r, "completed");
    assert_string_equal(testkit_note_of(r), "No ticket matches");
    for (int i = 1; i <= COMMANDS_TICKETS_MAX_ROWS + 5; i++) {
        snprintf(summary, sizeof summary, "Ticket %d", i);
        new_ticket(i % 2 ? alice_id : bob_id, summary);
        clock_advance(60);
    }
    r = submit(ADMIN, "tickets", SUBMIT(""));
    testkit_expect_status(r, "completed");
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, COMMANDS_TICKETS_MAX_ROWS);
    assert_string_equal(cell(f, 0, "ticket"), "105");
    assert_string_equal(cell(f, 99, "ticket"), "6");
    form_free(f);
    assert_non_null(
        strstr(testkit_note_of(r), "Showing the newest 100 tickets"));
    /* under the limit: no limit note, only the rows as text */
    r = submit(TECH, "tickets", SUBMIT(FIELD("contact", "alice@localhost")));
    f = testkit_form_of(r);
    assert_int_equal(f->n_items, 53);
    form_free(f);
    assert_non_null(strstr(testkit_note_of(r), "Ticket: 105; "));
    assert_null(strstr(testkit_note_of(r), "Showing"));
}

/* Summaries of TICKET_SUMMARY_MAX bytes that escape to six times that: the
 * list stays under max_stanza_bytes (cells cut, rows stop at the budget,
 * a note says so). */
static void test_tickets_fit_one_stanza(void **state)
{
    static char summary[TICKET_SUMMARY_MAX + 1];
    (void)state;
    memset(summary, '"', TICKET_SUMMARY_MAX);
    for (int i = 0; i < COMMANDS_TICKETS_MAX_ROWS; i++)
        new_ticket(alice_id, summary);
    xmpp_stanza_t *r = submit(TECH, "tickets", SUBMIT(""));
    testkit_expect_status(r, "completed");
    assert_true(testkit_size(r) <= (size_t)testkit_cfg.max_stanza_bytes);
    struct form *f = testkit_form_of(r);
    assert_int_equal(f->n_items, COMMANDS_TICKETS_MAX_ROWS);
    const char *cut = cell(f, 0, "summary");
    assert_true(strlen(cut) < 40); /* 32 quotes (192 bytes of XML) and … */
    assert_string_equal(cut + strlen(cut) - 3, "\xe2\x80\xa6");
    form_free(f);
    /* the smallest stanza limit: fewer rows, and a note */
    testkit_cfg.max_stanza_bytes = 16384;
    r = submit(TECH, "tickets", SUBMIT(""));
    testkit_expect_status(r, "completed");
    assert_true(testkit_size(r) <= 16384);
    f = testkit_form_of(r);
    assert_true(f->n_items > 10 && f->n_items < COMMANDS_TICKETS_MAX_ROWS);
    form_free(f);
    assert_non_null(strstr(testkit_note_of(r), "than fit in one answer"));
}

static void test_tickets_store_failure(void **state)
{
    (void)state;
    assert_int_equal(
        db_exec(store_db(st),
                testdb_is_pg() ? "DROP TABLE ticket_notes, tickets CASCADE"
                               : "DROP TABLE ticket_notes; DROP TABLE tickets",
                NULL),
        DB_OK);
    testkit_expect_error(submit(TECH, "tickets", SUBMIT("")), "wait",
                         "internal-server-error", "Could not list the tickets");
}

/* ---- view-ticket and close-ticket ------------------------------------- */

static const char *field(const struct form *f, const char *var, size_t i)
{
    const struct form_field *fl = form_field_find(f, var);
    if (!fl)
        fail_msg("no field %s", var);
    return i < fl->n_values ? fl->values[i] : "";
}

static void test_view_ticket(void **state)
{
    struct ticket_store *ts = tk.app.domain->tickets;
    (void)state;
    int64_t id = new_ticket(alice_id, "Printer on fire");
    clock_set(T0 + 60);
    assert_int_equal(ticket_add_note(ts, id, TICKET_NOTE_TRANSCRIPT,
                                     "tech@localhost", "line one\nline two"),
                     TICKET_OK);
    clock_set(T0 + 120);
    assert_int_equal(ticket_close(ts, id, "tech@localhost", "Replaced it"),
                     TICKET_OK);
    xmpp_stanza_t *r =
        submit(TECH, "view-ticket", SUBMIT(FIELD("ticket", "1")));
    testkit_expect_status(r, "completed");
    struct form *f = testkit_form_of(r);
    assert_string_equal(field(f, "summary", 0), "Printer on fire");
    assert_string_equal(field(f, "status", 0), "closed");
    assert_string_equal(field(f, "company", 0), "Acme");
    assert_string_equal(field(f, "contact", 0), "alice@localhost");
    assert_string_equal(field(f, "external_id", 0), "");
    assert_string_equal(field(f, "created", 0), "2026-01-01T10:00:00Z");
    assert_string_equal(field(f, "closed", 0), "2026-01-01T10:02:00Z");
    /* every note, oldest first, kind, author, time and the whole text */
    const struct form_field *n1 = form_field_find(f, "note-1");
    assert_non_null(n1);
    assert_string_equal(n1->label, "Note 1: transcript by tech@localhost at "
                                   "2026-01-01T10:01:00Z");
    assert_string_equal(field(f, "note-1", 0), "line one");
    assert_string_equal(field(f, "note-1", 1), "line two");
    assert_string_equal(form_field_find(f, "note-2")->label,
                        "Note 2: closing_note by tech@localhost at "
                        "2026-01-01T10:02:00Z");
    assert_string_equal(field(f, "note-2", 0), "Replaced it");
    assert_null(form_field_find(f, "note-3"));
    form_free(f);

    testkit_expect_error(
        submit(TECH, "view-ticket", SUBMIT(FIELD("ticket", "99"))), "cancel",
        "item-not-found", "no ticket #99");
    expect_bad(submit(TECH, "view-ticket", SUBMIT(FIELD("ticket", "x1"))),
               "x1");
}

static void test_close_ticket(void **state)
{
    (void)state;
    int64_t id = new_ticket(alice_id, "VPN");
    xmpp_stanza_t *r = submit(TECH, "close-ticket",
                              SUBMIT(FIELD("ticket", "1") FIELD("note",
                                                                "Fixed")));
    testkit_expect_status(r, "completed");
    assert_non_null(strstr(testkit_note_of(r), "Ticket #1 closed"));
    struct ticket t;
    assert_int_equal(ticket_get(tk.app.domain->tickets, id, &t), TICKET_OK);
    assert_int_equal(t.status, TICKET_CLOSED);
    assert_int_equal(t.n_notes, 1);
    assert_int_equal(t.notes[0].kind, TICKET_NOTE_CLOSING);
    assert_string_equal(t.notes[0].author, "tech@localhost");
    ticket_clear(&t);
    /* closing a closed ticket is refused with a text */
    testkit_expect_error(
        submit(TECH, "close-ticket", SUBMIT(FIELD("ticket", "1"))), "cancel",
        "not-acceptable", "ticket #1 is already closed");
    /* the note is optional */
    new_ticket(bob_id, "Mail");
    testkit_expect_status(
        submit(TECH, "close-ticket", SUBMIT(FIELD("ticket", "2"))),
        "completed");
    testkit_expect_error(run(ALICE, "close-ticket", NULL, NULL, NULL),
                         "cancel", "forbidden", "techs and admins only");
}

/* ---- roles
 * -------------------------------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    testkit_expect_error(run(ALICE, "create-ticket", NULL, NULL, NULL),
                         "cancel", "forbidden", "techs and admins only");
    testkit_expect_error(run(ALICE, "tickets", NULL, NULL, NULL), "cancel",
                         "forbidden", "techs and admins only");
    testkit_expect_error(run("eve@localhost/x", "tickets", NULL, NULL, NULL),
                         "auth", "not-authorized", "eve@localhost");
    testkit_expect_status(run(ADMIN, "tickets", NULL, NULL, NULL), "executing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_ticket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_ticket_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_create_ticket_store_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tickets_list_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tickets_none_and_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tickets_fit_one_stanza, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_tickets_store_failure, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_ticket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_ticket, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
