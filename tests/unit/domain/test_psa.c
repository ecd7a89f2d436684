/* test_psa.c - PSA events without a network: the JSON body (keys and types
 * of SPEC §6), the signature, the back-off schedule on the settable clock,
 * order per ticket, dead letters and external_id storage (":memory:"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/directory.h"
#include "domain/outbox.h"
#include "domain/psa.h"
#include "domain/tickets.h"
#include "runtime/clock.h"
#include "runtime/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define T0 1767225600 /* 2026-01-01 00:00:00 UTC */

struct fixture {
    struct store *st;
    struct directory *dir;
    struct ticket_store *ts;
    struct psa *psa;
    struct outbox *ob;
    int64_t company, contact;
};

static int setup(void **state)
{
    static struct fixture fx;
    char err[256] = "";
    memset(&fx, 0, sizeof fx);
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.dir = fx.st ? directory_open(fx.st, err, sizeof err) : NULL;
    fx.ts = fx.dir ? ticket_store_sqlite_new(fx.st, err, sizeof err) : NULL;
    fx.psa = fx.ts ? psa_open(fx.st, fx.dir, fx.ts, err, sizeof err) : NULL;
    fx.ob = fx.psa ? outbox_open(fx.st, err, sizeof err) : NULL;
    if (!fx.ob) {
        print_error("setup: %s\n", err);
        return -1;
    }
    struct company c = {.name = "Acme"};
    struct contact k = {.jid = "alice@example.com", .name = "Alice Ash"};
    if (directory_company_create(fx.dir, &c, &fx.company) != DIR_OK)
        return -1;
    k.company_id = fx.company;
    if (directory_contact_create(fx.dir, &k, &fx.contact) != DIR_OK)
        return -1;
    clock_set(T0);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    outbox_close(fx->ob);
    psa_close(fx->psa);
    ticket_store_destroy(fx->ts);
    directory_close(fx->dir);
    store_close(fx->st);
    clock_reset();
    return 0;
}

static int64_t new_ticket(struct fixture *fx, int64_t contact)
{
    struct ticket_draft d = {0, contact, "Printer on fire"};
    int64_t id = 0;
    assert_int_equal(ticket_create(fx->ts, &d, &id), TICKET_OK);
    return id;
}

/* Every event, oldest first; the caller frees. */
static struct outbox_list all_events(struct fixture *fx)
{
    struct outbox_list l;
    assert_int_equal(outbox_list(fx->ob, 0, &l), 0);
    return l;
}

static json_t *render(struct fixture *fx, const struct outbox_event *e)
{
    char *body = NULL;
    assert_int_equal(psa_render(fx->psa, e, &body), 0);
    json_error_t jerr;
    json_t *root = json_loads(body, 0, &jerr);
    assert_non_null(root);
    free(body);
    return root;
}

/* root has exactly the n keys of keys. */
static void expect_keys(json_t *root, const char *const *keys, size_t n)
{
    assert_true(json_is_object(root));
    assert_int_equal(json_object_size(root), n);
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(root, keys[i]))
            fail_msg("no key '%s'", keys[i]);
}

static void expect_ticket(json_t *t, int64_t id, const struct fixture *fx)
{
    static const char *const tkeys[] = {"id",      "external_id", "company",
                                        "contact", "summary",     "status"};
    expect_keys(t, tkeys, 6);
    assert_true(json_is_integer(json_object_get(t, "id")));
    assert_int_equal(json_integer_value(json_object_get(t, "id")), id);
    assert_true(json_is_null(json_object_get(t, "external_id")));
    json_t *co = json_object_get(t, "company");
    json_t *ct = json_object_get(t, "contact");
    static const char *const ckeys[] = {"id", "name"};
    static const char *const kkeys[] = {"id", "name", "jid"};
    expect_keys(co, ckeys, 2);
    expect_keys(ct, kkeys, 3);
    assert_int_equal(json_integer_value(json_object_get(co, "id")),
                     fx->company);
    assert_string_equal(json_string_value(json_object_get(co, "name")), "Acme");
    assert_int_equal(json_integer_value(json_object_get(ct, "id")),
                     fx->contact);
    assert_string_equal(json_string_value(json_object_get(ct, "name")),
                        "Alice Ash");
    assert_string_equal(json_string_value(json_object_get(ct, "jid")),
                        "alice@example.com");
    assert_string_equal(json_string_value(json_object_get(t, "summary")),
                        "Printer on fire");
}

static void test_render_created(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, fx->contact);
    struct outbox_list l = all_events(fx);
    assert_int_equal(l.n, 1);
    json_t *root = render(fx, &l.items[0]);
    static const char *const keys[] = {"id", "type", "time", "ticket"};
    expect_keys(root, keys, 4); /* no "note" */
    assert_string_equal(json_string_value(json_object_get(root, "id")),
                        l.items[0].event_id);
    assert_string_equal(json_string_value(json_object_get(root, "type")),
                        "ticket.created");
    assert_string_equal(json_string_value(json_object_get(root, "time")),
                        "2026-01-01T00:00:00Z");
    json_t *t = json_object_get(root, "ticket");
    expect_ticket(t, id, fx);
    assert_string_equal(json_string_value(json_object_get(t, "status")),
                        "open");
    json_decref(root);
    outbox_list_free(&l);
}

static void test_render_note_and_close(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_ticket(fx, fx->contact);
    clock_advance(3725); /* 01:02:05 */
    assert_int_equal(ticket_close(fx->ts, id, "tom@example.com", "Fixed it."),
                     TICKET_OK);
    struct outbox_list l = all_events(fx);
    assert_int_equal(l.n, 3);
    json_t *root = render(fx, &l.items[1]);
    static const char *const keys[] = {"id", "type", "time", "ticket", "note"};
    expect_keys(root, keys, 5);
    assert_string_equal(json_string_value(json_object_get(root, "type")),
                        "ticket.note_added");
    expect_ticket(json_object_get(root, "ticket"), id, fx);
    json_t *n = json_object_get(root, "note");
    static const char *const nkeys[] = {"kind", "author", "time", "text"};
    expect_keys(n, nkeys, 4);
    assert_string_equal(json_string_value(json_object_get(n, "kind")),
                        "closing_note");
    assert_string_equal(json_string_value(json_object_get(n, "author")),
                        "tom@example.com");
    assert_string_equal(json_string_value(json_object_get(n, "time")),
                        "2026-01-01T01:02:05Z");
    assert_string_equal(json_string_value(json_object_get(n, "text")),
                        "Fixed it.");
    json_decref(root);
    root = render(fx, &l.items[2]);
    assert_string_equal(json_string_value(json_object_get(root, "type")),
                        "ticket.closed");
    assert_null(json_object_get(root, "note"));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "ticket"), "status")),
                        "closed");
    json_decref(root);
    outbox_list_free(&l);
}

static void test_render_no_owner(void **state)
{
    struct fixture *fx = *state;
    new_ticket(fx, 0);
    struct outbox_list l = all_events(fx);
    json_t *root = render(fx, &l.items[0]);
    json_t *t = json_object_get(root, "ticket");
    assert_true(json_is_null(json_object_get(t, "company")));
    assert_true(json_is_null(json_object_get(t, "contact")));
    json_decref(root);
    outbox_list_free(&l);
}

static void test_sign(void **state)
{
    (void)state;
    char hex[PSA_SIG_HEX];
    const char *data = "what do ya want for nothing?"; /* RFC 4231, case 2 */
    psa_sign("Jefe", data, strlen(data), hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c7"
                             "5a003f089d2739839dec58b964ec3843");
}

static void test_classify_and_backoff(void **state)
{
    (void)state;
    static const long sent[] = {200, 201, 202, 204, 299};
    static const long retry[] = {0, 408, 429, 500, 502, 503, 504, 599};
    static const long dead[] = {301, 400, 401, 403, 404, 409, 410, 422, 600};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(psa_classify(sent[i]), PSA_SENT);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(psa_classify(retry[i]), PSA_RETRY);
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(psa_classify(dead[i]), PSA_DEAD);
    static const long want[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
    for (int a = 1; a <= 11; a++) {
        assert_int_equal(psa_backoff(a, 300, 0.0), want[a - 1]);
        long j = psa_backoff(a, 300, 0.999);
        assert_true(j >= want[a - 1] * 8 / 10 && j <= want[a - 1]);
    }
    assert_int_equal(psa_backoff(9, 300, 0.999), 205); /* 256 less 20 % */
    assert_int_equal(psa_backoff(1000, 86400, 0.0), 86400);
    assert_int_equal(psa_backoff(3, 1, 0.5), 1);
}

/* The due events' ids (row ids), for comparison. */
static size_t due_ids(struct fixture *fx, int64_t *ids, size_t max)
{
    struct outbox_list l;
    assert_int_equal(psa_due(fx->psa, 0, &l), 0);
    assert_true(l.n <= max);
    for (size_t i = 0; i < l.n; i++)
        ids[i] = l.items[i].id;
    size_t n = l.n;
    outbox_list_free(&l);
    return n;
}

static void settle(struct fixture *fx, int64_t row, long status,
                   const char *body, enum psa_outcome want)
{
    struct outbox_list l = all_events(fx);
    enum psa_outcome got = PSA_SENT;
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].id == row)
            assert_int_equal(psa_settle(fx->psa, &l.items[i], status,
                                        status ? NULL : "connection refused",
                                        body, 300, 0.0, &got),
                             0);
    assert_int_equal(got, want);
    outbox_list_free(&l);
}

static void test_backoff_and_order(void **state)
{
    struct fixture *fx = *state;
    int64_t a = new_ticket(fx, fx->contact);
    assert_int_equal(ticket_add_note(fx->ts, a, TICKET_NOTE_TEXT, "t@x", "n"),
                     TICKET_OK);
    new_ticket(fx, 0); /* ticket b: event row 3 */
    int64_t ids[8];
    assert_int_equal(due_ids(fx, ids, 8), 2); /* a's first and b's */
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 3);
    settle(fx, 1, 0, NULL, PSA_RETRY);        /* next_at T0 + 1 */
    assert_int_equal(due_ids(fx, ids, 8), 1); /* a's note waits */
    assert_int_equal(ids[0], 3);
    static const long waits[] = {1, 2, 4, 8};
    for (size_t i = 0; i < 4; i++) {
        clock_advance(waits[i] - 1);
        assert_int_equal(due_ids(fx, ids, 8), 1);
        clock_advance(1);
        assert_int_equal(due_ids(fx, ids, 8), 2);
        settle(fx, 1, i % 2 ? 503 : 429, "busy", PSA_RETRY);
    }
    struct outbox_list l = all_events(fx);
    assert_int_equal(l.items[0].attempts, 5);
    assert_int_equal(l.items[0].status, OUTBOX_PENDING);
    assert_int_equal(l.items[0].next_at, clock_now() + 16);
    assert_string_equal(l.items[0].answer, "HTTP 503: busy");
    outbox_list_free(&l);
    clock_advance(16);
    settle(fx, 1, 200, "ok", PSA_SENT);
    assert_int_equal(due_ids(fx, ids, 8), 2); /* now a's note */
    assert_int_equal(ids[0], 2);
    l = all_events(fx);
    assert_int_equal(l.items[0].status, OUTBOX_SENT);
    assert_string_equal(l.items[0].answer, "HTTP 200");
    outbox_list_free(&l);
}

static void test_dead_letter(void **state)
{
    struct fixture *fx = *state;
    int64_t a = new_ticket(fx, fx->contact);
    assert_int_equal(ticket_close(fx->ts, a, "t@x", NULL), TICKET_OK);
    int64_t ids[8];
    settle(fx, 1, 400, "{\"error\": \"bad\nrequest\"}", PSA_DEAD);
    struct outbox_list l = all_events(fx);
    assert_int_equal(l.items[0].status, OUTBOX_DEAD);
    assert_string_equal(l.items[0].answer,
                        "HTTP 400: {\"error\": \"bad request\"}");
    char event_id[OUTBOX_ID_LEN];
    memcpy(event_id, l.items[0].event_id, sizeof event_id);
    outbox_list_free(&l);
    /* a dead letter does not hold back the ticket's later events */
    assert_int_equal(due_ids(fx, ids, 8), 1);
    assert_int_equal(ids[0], 2);
    settle(fx, 2, 204, NULL, PSA_SENT);
    assert_int_equal(due_ids(fx, ids, 8), 0);
    assert_int_equal(outbox_requeue(fx->ob, "no-such-event"), 1);
    clock_advance(60);
    assert_int_equal(outbox_requeue(fx->ob, event_id), 0);
    assert_int_equal(outbox_requeue(fx->ob, event_id), 1); /* not dead now */
    assert_int_equal(due_ids(fx, ids, 8), 1);
    assert_int_equal(ids[0], 1);
    l = all_events(fx);
    assert_int_equal(l.items[0].attempts, 0);
    assert_int_equal(l.items[0].next_at, T0 + 60);
    outbox_list_free(&l);
}

static void test_external_id(void **state)
{
    struct fixture *fx = *state;
    int64_t a = new_ticket(fx, fx->contact);
    int64_t b = new_ticket(fx, fx->contact);
    assert_int_equal(ticket_add_note(fx->ts, a, TICKET_NOTE_TEXT, "t@x", "n"),
                     TICKET_OK);
    settle(fx, 1, 201, "{\"external_id\": \"PSA-7\"}", PSA_SENT);
    settle(fx, 2, 200, "{\"external_id\": 4711}", PSA_SENT);
    settle(fx, 3, 200, "{\"external_id\": \"not-for-a-note\"}", PSA_SENT);
    struct ticket t;
    assert_int_equal(ticket_get(fx->ts, a, &t), TICKET_OK);
    assert_string_equal(t.external_id, "PSA-7");
    ticket_clear(&t);
    assert_int_equal(ticket_get(fx->ts, b, &t), TICKET_OK);
    assert_string_equal(t.external_id, "4711");
    ticket_clear(&t);
    struct outbox_list l = all_events(fx);
    json_t *root = render(fx, &l.items[2]); /* later events carry it */
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(root, "ticket"), "external_id")),
                        "PSA-7");
    json_decref(root);
    outbox_list_free(&l);
    new_ticket(fx, 0);
    settle(fx, 4, 200, "not json", PSA_SENT); /* no external id: fine */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_render_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_note_and_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_no_owner, setup, teardown),
        cmocka_unit_test(test_sign),
        cmocka_unit_test(test_classify_and_backoff),
        cmocka_unit_test_setup_teardown(test_backoff_and_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_id, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
