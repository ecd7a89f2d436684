/* test_tickets.c - the ticket store interface with the sqlite back-end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "runtime/clock.h"
#include "domain/directory.h"
#include "runtime/store.h"
#include "domain/tickets.h"

#include <stdio.h>
#include <string.h>

struct fixture {
    struct store *st;
    struct directory *dir;
    struct ticket_store *ts;
    int64_t acme, globex, alice, bob;
};

static int64_t add_contact(struct directory *dir, int64_t company,
                           const char *jid)
{
    struct contact c = {0};
    int64_t id = 0;
    c.company_id = company;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    if (directory_contact_create(dir, &c, &id) != DIR_OK)
        fail_msg("%s", directory_error(dir));
    return id;
}

static int64_t add_company(struct directory *dir, const char *name)
{
    struct company c = {0};
    int64_t id = 0;
    snprintf(c.name, sizeof c.name, "%s", name);
    if (directory_company_create(dir, &c, &id) != DIR_OK)
        fail_msg("%s", directory_error(dir));
    return id;
}

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    memset(&fx, 0, sizeof fx);
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.dir = fx.st ? directory_open(fx.st, err, sizeof err) : NULL;
    fx.ts = fx.dir ? ticket_store_sqlite_new(fx.st, err, sizeof err) : NULL;
    if (!fx.ts) {
        print_error("setup: %s\n", err);
        return -1;
    }
    fx.acme = add_company(fx.dir, "Acme");
    fx.globex = add_company(fx.dir, "Globex");
    fx.alice = add_contact(fx.dir, fx.acme, "alice@localhost");
    fx.bob = add_contact(fx.dir, fx.globex, "bob@localhost");
    clock_set(1767225600); /* 2026-01-01 00:00 UTC */
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ticket_store_destroy(fx->ts);
    directory_close(fx->dir);
    store_close(fx->st);
    clock_reset();
    return 0;
}

static int64_t new_ticket(struct fixture *fx, int64_t company, int64_t contact,
                          const char *summary)
{
    struct ticket_draft d = {company, contact, summary};
    int64_t id = 0;
    if (ticket_create(fx->ts, &d, &id) != TICKET_OK)
        fail_msg("create: %s", ticket_store_error(fx->ts));
    return id;
}

static void test_create_get(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, 0, fx->alice, "Printer is on fire");
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(t.id, id);
    assert_int_equal(t.company_id, fx->acme); /* taken from the contact */
    assert_int_equal(t.contact_id, fx->alice);
    assert_string_equal(t.summary, "Printer is on fire");
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.created, 1767225600);
    assert_int_equal(t.closed, 0);
    assert_int_equal(t.n_notes, 0);
    ticket_clear(&t);
    assert_int_equal(ticket_get(fx->ts, 9999, &t), TICKET_ERR_NOT_FOUND);
    assert_non_null(strstr(ticket_store_error(fx->ts), "9999"));
    /* A ticket for a company only, and one for nobody in particular. */
    id = new_ticket(fx, fx->globex, 0, "Renew licences");
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(t.company_id, fx->globex);
    assert_int_equal(t.contact_id, 0);
    ticket_clear(&t);
    new_ticket(fx, 0, 0, "Internal chore");
}

static void test_create_errors(void **state)
{
    struct fixture *fx = *state;
    struct ticket_draft d = {0, fx->alice, "  "};
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_INVALID);
    d.summary = NULL;
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_INVALID);
    d.summary = "x";
    d.company_id = fx->globex; /* alice is in Acme */
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_INVALID);
    assert_non_null(strstr(ticket_store_error(fx->ts), "not in company"));
    d.company_id = 0;
    d.contact_id = 777;
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_NOT_FOUND);
    d.contact_id = 0;
    d.company_id = 888;
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_NOT_FOUND);
    char big[TICKET_SUMMARY_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    d.company_id = 0;
    d.summary = big;
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_INVALID);
}

static void test_notes_and_close(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, 0, fx->alice, "VPN down");
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT,
                                     "tech@localhost", "Looking into it"),
                     TICKET_OK);
    clock_advance(60);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TRANSCRIPT,
                                     "tech@localhost",
                                     "[10:00] alice: hi\n[10:01] tech: hello"),
                     TICKET_OK);
    assert_int_equal(ticket_close(fx->ts, id, NULL, NULL), TICKET_OK);
    assert_int_equal(ticket_close(fx->ts, id, "tech@localhost", "again"),
                     TICKET_ERR_CLOSED);
    assert_string_equal(ticket_store_error(fx->ts),
                        "ticket #1 is already closed");
    assert_int_equal(ticket_close(fx->ts, 4242, NULL, NULL),
                     TICKET_ERR_NOT_FOUND);
    /* Closed: text notes refused, chat records still accepted. */
    assert_int_equal(
        ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT, "tech@localhost", "late"),
        TICKET_ERR_CLOSED);
    clock_advance(60);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_CLOSING,
                                     "tech@localhost", "Rebooted router"),
                     TICKET_OK);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_CALLBACK,
                                     "alice@localhost", "+44 1234"),
                     TICKET_OK);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_RATING,
                                     "alice@localhost", "5"),
                     TICKET_OK);
    assert_int_equal(
        ticket_add_note(fx->ts, 4242, TICKET_NOTE_TEXT, "tech@localhost", "x"),
        TICKET_ERR_NOT_FOUND);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT, "", "x"),
                     TICKET_ERR_INVALID);
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(t.status, TICKET_CLOSED);
    assert_int_equal(t.closed, 1767225600 + 60);
    assert_int_equal(t.n_notes, 5);
    assert_null(t.external_id);
    assert_int_equal(t.notes[0].kind, TICKET_NOTE_TEXT);
    assert_int_equal(t.notes[1].kind, TICKET_NOTE_TRANSCRIPT);
    assert_int_equal(t.notes[1].created, 1767225600 + 60);
    assert_string_equal(t.notes[1].text,
                        "[10:00] alice: hi\n[10:01] tech: hello");
    assert_int_equal(t.notes[2].kind, TICKET_NOTE_CLOSING);
    assert_string_equal(t.notes[2].author, "tech@localhost");
    assert_int_equal(t.notes[3].kind, TICKET_NOTE_CALLBACK);
    assert_int_equal(t.notes[4].kind, TICKET_NOTE_RATING); /* migration 7 */
    ticket_clear(&t);
}

/* A close with a note: the note is its own closing_note, and a refused
 * close adds none. */
static void test_close_with_note(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, 0, fx->alice, "VPN down");
    assert_int_equal(ticket_close(fx->ts, id, NULL, "no author"),
                     TICKET_ERR_INVALID);
    clock_advance(5);
    assert_int_equal(ticket_close(fx->ts, id, "tech@localhost", "Fixed it"),
                     TICKET_OK);
    assert_int_equal(ticket_close(fx->ts, id, "tech@localhost", "twice"),
                     TICKET_ERR_CLOSED);
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(t.status, TICKET_CLOSED);
    assert_int_equal(t.n_notes, 1);
    assert_int_equal(t.notes[0].kind, TICKET_NOTE_CLOSING);
    assert_string_equal(t.notes[0].author, "tech@localhost");
    assert_string_equal(t.notes[0].text, "Fixed it");
    assert_int_equal(t.notes[0].created, 1767225600 + 5);
    ticket_clear(&t);
    /* blank: no note */
    int64_t id2 = new_ticket(fx, 0, fx->alice, "Mail");
    assert_int_equal(ticket_close(fx->ts, id2, NULL, "  "), TICKET_OK);
    assert_int_equal(ticket_get(fx->ts, id2, &t), TICKET_OK);
    assert_int_equal(t.n_notes, 0);
    ticket_clear(&t);
}

static void test_list_filters(void **state)
{
    struct fixture *fx = *state;
    int64_t a1 = new_ticket(fx, 0, fx->alice, "a1");
    clock_advance(10);
    int64_t b1 = new_ticket(fx, 0, fx->bob, "b1");
    clock_advance(10);
    int64_t a2 = new_ticket(fx, 0, fx->alice, "a2");
    clock_advance(10);
    int64_t g1 = new_ticket(fx, fx->globex, 0, "g1");
    assert_int_equal(ticket_close(fx->ts, a1, NULL, NULL), TICKET_OK);

    struct ticket_list l;
    assert_int_equal(ticket_list(fx->ts, NULL, &l), TICKET_OK);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.items[0].id, g1); /* newest first */
    assert_int_equal(l.items[3].id, a1);
    assert_null(l.items[0].notes);
    ticket_list_free(&l);

    struct ticket_filter f = {0};
    f.company_id = fx->globex;
    assert_int_equal(ticket_list(fx->ts, &f, &l), TICKET_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].id, g1);
    assert_int_equal(l.items[1].id, b1);
    ticket_list_free(&l);

    memset(&f, 0, sizeof f);
    f.contact_id = fx->alice;
    f.status = TICKET_FILTER_OPEN;
    assert_int_equal(ticket_list(fx->ts, &f, &l), TICKET_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, a2);
    ticket_list_free(&l);

    f.status = TICKET_FILTER_CLOSED;
    assert_int_equal(ticket_list(fx->ts, &f, &l), TICKET_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, a1);
    assert_int_equal(l.items[0].status, TICKET_CLOSED);
    ticket_list_free(&l);

    memset(&f, 0, sizeof f);
    f.limit = 2;
    f.offset = 1;
    assert_int_equal(ticket_list(fx->ts, &f, &l), TICKET_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].id, a2);
    assert_int_equal(l.items[1].id, b1);
    ticket_list_free(&l);
}

/* A second back-end proves the chat code needs only the ops table. */
struct fake_store {
    struct ticket_store base;
    int created;
};

static int fake_create(struct ticket_store *ts, const struct ticket_draft *d,
                       int64_t *id_out)
{
    struct fake_store *f = (struct fake_store *)ts;
    (void)d;
    *id_out = 1000 + ++f->created;
    return TICKET_OK;
}

static int fake_get(struct ticket_store *ts, int64_t id, struct ticket *out)
{
    (void)id;
    (void)out;
    snprintf(ts->err, sizeof ts->err, "PSA unreachable");
    return TICKET_ERR_STORE;
}

static void test_pluggable_back_end(void **state)
{
    (void)state;
    static const struct ticket_store_ops ops = {.create = fake_create,
                                                .get = fake_get};
    struct fake_store f = {{&ops, ""}, 0};
    struct ticket_draft d = {0, 0, "x"};
    int64_t id = 0;
    struct ticket t;
    assert_int_equal(ticket_create(&f.base, &d, &id), TICKET_OK);
    assert_int_equal(id, 1001);
    assert_int_equal(ticket_get(&f.base, id, &t), TICKET_ERR_STORE);
    assert_string_equal(ticket_store_error(&f.base), "PSA unreachable");
}

static void test_names(void **state)
{
    (void)state;
    enum ticket_note_kind k;
    assert_string_equal(ticket_note_kind_name(TICKET_NOTE_CLOSING),
                        "closing_note");
    assert_int_equal(ticket_note_kind_parse("callback", &k), 0);
    assert_int_equal(k, TICKET_NOTE_CALLBACK);
    assert_int_equal(ticket_note_kind_parse("rating", &k), 0);
    assert_int_equal(k, TICKET_NOTE_RATING);
    assert_int_equal(ticket_note_kind_parse("memo", &k), -1);
    assert_string_equal(ticket_status_name(TICKET_CLOSED), "closed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notes_and_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_with_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
        cmocka_unit_test(test_pluggable_back_end),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
