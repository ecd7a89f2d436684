/* test_outbox.c - PSA events recorded in the same transaction as their
 * ticket change (ticket store + outbox on ":memory:"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/outbox.h"
#include "domain/tickets.h"
#include "runtime/clock.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

struct fixture {
    struct store *st;
    struct ticket_store *ts;
    struct outbox *ob;
};

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    memset(&fx, 0, sizeof fx);
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.ts = fx.st ? ticket_store_sqlite_new(fx.st, err, sizeof err) : NULL;
    fx.ob = fx.ts ? outbox_open(fx.st, err, sizeof err) : NULL;
    if (!fx.ob) {
        print_error("setup: %s\n", err);
        return -1;
    }
    clock_set(1767225600); /* 2026-01-01 00:00 UTC */
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    outbox_close(fx->ob);
    ticket_store_destroy(fx->ts);
    store_close(fx->st);
    clock_reset();
    return 0;
}

static int64_t new_ticket(struct fixture *fx, const char *summary)
{
    struct ticket_draft d = {0, 0, summary};
    int64_t id = 0;
    assert_int_equal(ticket_create(fx->ts, &d, &id), TICKET_OK);
    return id;
}

static void expect_events(struct fixture *fx, const enum outbox_type *types,
                          size_t n, struct outbox_list *out)
{
    assert_int_equal(outbox_list(fx->ob, 0, out), 0);
    if (out->n != n)
        fail_msg("%zu events, want %zu", out->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out->items[i].type, types[i]);
        assert_int_equal(out->items[i].status, OUTBOX_PENDING);
        assert_int_equal(out->items[i].attempts, 0);
        assert_int_equal(out->items[i].next_at, out->items[i].created);
    }
}

static void test_every_change_records_its_event(void **state)
{
    struct fixture *fx = *state;
    struct outbox_list l;
    int64_t id = new_ticket(fx, "VPN down");
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT,
                                     "tech@localhost", "looking"),
                     TICKET_OK);
    clock_advance(5);
    assert_int_equal(ticket_close(fx->ts, id, "tech@localhost", "fixed"),
                     TICKET_OK);
    /* refused changes record nothing */
    assert_int_equal(ticket_close(fx->ts, id, NULL, NULL), TICKET_ERR_CLOSED);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT,
                                     "tech@localhost", "late"),
                     TICKET_ERR_CLOSED);
    static const enum outbox_type want[] = {
        OUTBOX_TICKET_CREATED, OUTBOX_NOTE_ADDED, OUTBOX_NOTE_ADDED,
        OUTBOX_TICKET_CLOSED};
    expect_events(fx, want, 4, &l);
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(l.items[1].note_id, t.notes[0].id);
    assert_int_equal(l.items[2].note_id, t.notes[1].id); /* closing note */
    assert_int_equal(t.notes[1].kind, TICKET_NOTE_CLOSING);
    assert_int_equal(l.items[0].note_id, 0);
    assert_int_equal(l.items[3].note_id, 0);
    assert_int_equal(l.items[3].created, 1767225600 + 5);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.items[i].ticket_id, id);
        assert_int_equal(strlen(l.items[i].event_id), 36);
        assert_int_equal(l.items[i].event_id[14], '4'); /* UUID v4 */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(l.items[i].event_id, l.items[j].event_id);
    }
    ticket_clear(&t);
    outbox_list_free(&l);
}

/* Without its event a change does not happen: the outbox cannot be written
 * (its table is gone) and the ticket, the note and the close roll back. */
#define OUTBOX_REFUSE_PG                                                       \
    "ALTER TABLE outbox ADD CONSTRAINT refuse CHECK (false) NOT VALID"
#define OUTBOX_ACCEPT_PG "ALTER TABLE outbox DROP CONSTRAINT refuse"

static void test_no_change_without_its_event(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, "Mail");
    struct db *db = store_db(fx->st);
    /* every write to the outbox fails (PostgreSQL's prepared statements
     * follow a renamed table, so there a CHECK refuses the rows) */
    assert_int_equal(db_exec(db, testdb_is_pg() ? OUTBOX_REFUSE_PG
                                               : "ALTER TABLE outbox RENAME "
                                                 "TO outbox_gone",
                             NULL),
                     DB_OK);
    struct ticket_draft d = {0, 0, "Printer"};
    assert_int_equal(ticket_create(fx->ts, &d, NULL), TICKET_ERR_STORE);
    assert_int_equal(ticket_add_note(fx->ts, id, TICKET_NOTE_TEXT,
                                     "tech@localhost", "x"),
                     TICKET_ERR_STORE);
    assert_int_equal(ticket_close(fx->ts, id, "tech@localhost", "y"),
                     TICKET_ERR_STORE);
    assert_int_equal(db_exec(db, testdb_is_pg() ? OUTBOX_ACCEPT_PG
                                               : "ALTER TABLE outbox_gone "
                                                 "RENAME TO outbox",
                             NULL),
                     DB_OK);
    struct ticket_list tl;
    assert_int_equal(ticket_list(fx->ts, NULL, &tl), TICKET_OK);
    assert_int_equal(tl.n, 1); /* only "Mail" */
    ticket_list_free(&tl);
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, id, &t), TICKET_OK);
    assert_int_equal(t.status, TICKET_OPEN);
    assert_int_equal(t.n_notes, 0);
    ticket_clear(&t);
    assert_int_equal(db_get_autocommit(db), 1); /* nothing left open */
}

/* Inside a caller's transaction (a session's transition) the change and
 * its event commit or roll back with it. */
static void test_event_joins_the_callers_transaction(void **state)
{
    struct fixture *fx = *state;
    struct outbox_list l;
    assert_int_equal(store_begin(fx->st), 0);
    new_ticket(fx, "rolled back");
    assert_int_equal(store_rollback(fx->st), 0);
    assert_int_equal(outbox_list(fx->ob, 0, &l), 0);
    assert_int_equal(l.n, 0);
    outbox_list_free(&l);
    assert_int_equal(store_begin(fx->st), 0);
    new_ticket(fx, "kept");
    assert_int_equal(store_commit(fx->st), 0);
    static const enum outbox_type want[] = {OUTBOX_TICKET_CREATED};
    expect_events(fx, want, 1, &l);
    outbox_list_free(&l);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(outbox_type_name(OUTBOX_TICKET_CREATED),
                        "ticket.created");
    assert_string_equal(outbox_type_name(OUTBOX_NOTE_ADDED),
                        "ticket.note_added");
    assert_string_equal(outbox_type_name(OUTBOX_TICKET_CLOSED),
                        "ticket.closed");
    assert_string_equal(outbox_status_name(OUTBOX_DEAD), "dead");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_change_records_its_event),
        T(test_no_change_without_its_event),
        T(test_event_joins_the_callers_transaction),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
