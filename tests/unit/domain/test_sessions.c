/* test_sessions.c - chat sessions on :memory: with a pinned clock: every
 * transition and refusal, first tech takes, contact end and callback rules,
 * closing notes, message commit and stanza ids, group commit (hold /
 * commit_held), transcripts, lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/clock.h"
#include "domain/directory.h"
#include "domain/sessions.h"
#include "domain/settings.h"
#include "runtime/store.h"
#include "domain/tickets.h"
#include "testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600 /* 2026-01-01 00:00:00 UTC */

/* A ticket store that forwards to the sqlite one and can refuse notes, to
 * show that a failed transcript rolls the whole transition back. */
struct flaky_ts {
    struct ticket_store base;
    struct ticket_store *inner;
    bool fail_notes;
};

static struct ticket_store *flaky_inner(struct ticket_store *ts)
{
    return ((struct flaky_ts *)ts)->inner;
}

static int flaky_create(struct ticket_store *ts, const struct ticket_draft *d,
                        int64_t *id)
{
    return ticket_create(flaky_inner(ts), d, id);
}

static int flaky_get(struct ticket_store *ts, int64_t id, struct ticket *out)
{
    return ticket_get(flaky_inner(ts), id, out);
}

static int flaky_list(struct ticket_store *ts, const struct ticket_filter *f,
                      struct ticket_list *out)
{
    return ticket_list(flaky_inner(ts), f, out);
}

static int flaky_add_note(struct ticket_store *ts, int64_t id,
                          enum ticket_note_kind kind, const char *author,
                          const char *text)
{
    if (((struct flaky_ts *)ts)->fail_notes) {
        snprintf(ts->err, sizeof ts->err, "PSA unreachable");
        return TICKET_ERR_STORE;
    }
    return ticket_add_note(flaky_inner(ts), id, kind, author, text);
}

static int flaky_close(struct ticket_store *ts, int64_t id,
                       const char *author, const char *note)
{
    return ticket_close(flaky_inner(ts), id, author, note);
}

static void flaky_destroy(struct ticket_store *ts)
{
    (void)ts;
}

static const struct ticket_store_ops flaky_ops = {
    .create = flaky_create,     .get = flaky_get,     .list = flaky_list,
    .add_note = flaky_add_note, .close = flaky_close, .destroy = flaky_destroy,
};

struct fixture {
    struct store *st;
    struct directory *dir;
    struct ticket_store *inner;
    struct flaky_ts ts;
    struct sessions *s;
    struct settings open;   /* always open, callbacks on, 60 s / 3600 s */
    struct settings closed; /* the same, never open */
    int64_t acme, alice_id, bob_id;
};

static int64_t add_contact(struct fixture *fx, const char *jid,
                           const char *name)
{
    struct contact c = {0};
    int64_t id = 0;
    c.company_id = fx->acme;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    snprintf(c.name, sizeof c.name, "%s", name);
    if (directory_contact_create(fx->dir, &c, &id) != DIR_OK)
        fail_msg("%s", directory_error(fx->dir));
    return id;
}

static void add_tech(struct fixture *fx, const char *jid, const char *name)
{
    struct tech t = {0};
    snprintf(t.jid, sizeof t.jid, "%s", jid);
    snprintf(t.name, sizeof t.name, "%s", name);
    if (directory_tech_create(fx->dir, &t, NULL) != DIR_OK)
        fail_msg("%s", directory_error(fx->dir));
}

static void add_people(struct fixture *fx)
{
    struct company co = {0};
    snprintf(co.name, sizeof co.name, "Acme");
    if (directory_company_create(fx->dir, &co, &fx->acme) != DIR_OK)
        fail_msg("%s", directory_error(fx->dir));
    fx->alice_id = add_contact(fx, "alice@localhost", "Alice Adams");
    fx->bob_id = add_contact(fx, "bob@localhost", "");
    add_tech(fx, "tom@localhost", "Tom Tech");
    add_tech(fx, "tina@localhost", "");
}

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    memset(&fx, 0, sizeof fx);
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    fx.dir = fx.st ? directory_open(fx.st, err, sizeof err) : NULL;
    fx.inner = fx.dir ? ticket_store_sqlite_new(fx.st, err, sizeof err) : NULL;
    fx.ts.base.ops = &flaky_ops;
    fx.ts.inner = fx.inner;
    fx.s = fx.inner ? sessions_open(fx.st, fx.dir, &fx.ts.base, err, sizeof err)
                    : NULL;
    if (!fx.s) {
        print_error("setup: %s\n", err);
        return -1;
    }
    add_people(&fx);
    settings_defaults_apply(&fx.open, NULL);
    fx.closed = fx.open;
    if (office_hours_parse_week(&fx.closed.hours, "none", err, sizeof err))
        return -1;
    clock_set(T0);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    sessions_close(fx->s);
    ticket_store_destroy(fx->inner);
    directory_close(fx->dir);
    store_close(fx->st);
    clock_reset();
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static int64_t new_ticket(struct fixture *fx, int64_t contact,
                          const char *summary)
{
    struct ticket_draft d = {0, contact, summary};
    int64_t id = 0;
    if (ticket_create(fx->inner, &d, &id) != TICKET_OK)
        fail_msg("%s", ticket_store_error(fx->inner));
    return id;
}

static int64_t new_waiting(struct fixture *fx)
{
    int64_t ticket = new_ticket(fx, fx->alice_id, "Printer on fire");
    int64_t id = 0;
    int rc = sessions_create_waiting(fx->s, "alice@localhost", 0, ticket,
                                     "Printer on fire", &id);
    if (rc != SESS_OK)
        fail_msg("create_waiting: %s", sessions_error(fx->s));
    return id;
}

static enum sess_state state_of(struct fixture *fx, int64_t id)
{
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    enum sess_state st = info.state;
    sess_info_clear(&info);
    return st;
}

static void expect_ok(struct fixture *fx, int rc)
{
    if (rc != SESS_OK)
        fail_msg("expected SESS_OK, got %d: %s", rc, sessions_error(fx->s));
}

/* A session of alice's in the given state, via the public transitions. */
static int64_t session_in(struct fixture *fx, enum sess_state want)
{
    struct sess_result r;
    int64_t id = new_waiting(fx);
    switch (want) {
    case SESS_WAITING:
        break;
    case SESS_ACTIVE:
    case SESS_ENDED:
        expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
        if (want == SESS_ENDED)
            expect_ok(
                fx, sessions_end_by_tech(fx->s, id, "tom@localhost", NULL, &r));
        break;
    case SESS_ABANDONED:
    case SESS_CLOSED:
        expect_ok(fx, sessions_contact_gone(fx->s, id, &r));
        if (want == SESS_CLOSED)
            expect_ok(fx, sessions_end_by_tech(fx->s, id, "tom@localhost",
                                               "no answer", &r));
        break;
    case SESS_CALLBACK:
        expect_ok(fx, sessions_callback(fx->s, id, "alice@localhost",
                                        "+44 20 7946 0000", NULL, &fx->closed,
                                        clock_now(), false, &r));
        break;
    }
    assert_int_equal(state_of(fx, id), want);
    return id;
}

static size_t count_notes(struct fixture *fx, int64_t ticket,
                          enum ticket_note_kind kind)
{
    struct ticket t;
    size_t n = 0;
    assert_int_equal(ticket_get(fx->inner, ticket, &t), TICKET_OK);
    for (size_t i = 0; i < t.n_notes; i++)
        n += t.notes[i].kind == kind;
    ticket_clear(&t);
    return n;
}

static int64_t ticket_of(struct fixture *fx, int64_t id)
{
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    int64_t t = info.ticket_id;
    sess_info_clear(&info);
    return t;
}

/* ---- creation and getters -------------------------------------------- */

static void test_create_waiting(void **state)
{
    struct fixture *fx = *state;
    assert_true(store_schema_version(fx->st) >= 3);
    int64_t id = new_waiting(fx);
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_int_equal(info.state, SESS_WAITING);
    assert_string_equal(info.contact_jid, "alice@localhost");
    assert_int_equal(info.company_id, fx->acme); /* from the directory */
    assert_string_equal(info.description, "Printer on fire");
    assert_int_equal(info.created, T0);
    assert_int_equal(info.last_activity, T0);
    assert_int_equal(info.answered_at, 0);
    assert_string_equal(info.answered_by, "");
    assert_string_equal(info.closer_jid, "");
    sess_info_clear(&info);

    struct sess_member_list m;
    assert_int_equal(sessions_members(fx->s, id, &m), SESS_OK);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.items[0].jid, "alice@localhost");
    assert_int_equal(m.items[0].kind, SESS_MEMBER_CONTACT);
    assert_string_equal(m.items[0].nick, "Alice Adams");
    sess_member_list_free(&m);
    assert_int_equal(sessions_is_member(fx->s, id, "Alice@Localhost/portal"),
                     SESS_MEMBER_CONTACT);
    assert_int_equal(sessions_is_member(fx->s, id, "tom@localhost"),
                     SESS_MEMBER_NONE);

    int64_t t = new_ticket(fx, fx->alice_id, "x");
    assert_int_equal(
        sessions_create_waiting(fx->s, "alice@localhost", 0, t, " \n", NULL),
        SESS_ERR_INVALID);
    assert_int_equal(
        sessions_create_waiting(fx->s, "not a jid", 0, t, "x", NULL),
        SESS_ERR_INVALID);
    assert_int_equal(
        sessions_create_waiting(fx->s, "alice@localhost", 0, 999, "x", NULL),
        SESS_ERR_NOT_FOUND);
    assert_non_null(strstr(sessions_error(fx->s), "#999"));
}

static void test_create_active(void **state)
{
    struct fixture *fx = *state;
    int64_t t = new_ticket(fx, fx->bob_id, "VPN down");
    int64_t id = 0;
    expect_ok(fx, sessions_create_active(fx->s, t, "bob@localhost",
                                         "tina@localhost/dino", &id));
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_int_equal(info.state, SESS_ACTIVE);
    assert_int_equal(info.ticket_id, t);
    assert_int_equal(info.company_id, fx->acme); /* from the ticket */
    assert_string_equal(info.description, "VPN down");
    assert_string_equal(info.answered_by, "tina@localhost");
    assert_int_equal(info.answered_at, T0);
    sess_info_clear(&info);
    struct sess_member_list m;
    assert_int_equal(sessions_members(fx->s, id, &m), SESS_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.items[0].nick, "bob"); /* no name: localpart */
    assert_int_equal(m.items[1].kind, SESS_MEMBER_TECH);
    assert_string_equal(m.items[1].nick, "tina");
    sess_member_list_free(&m);

    assert_int_equal(sessions_create_active(fx->s, 4242, "bob@localhost",
                                            "tom@localhost", NULL),
                     SESS_ERR_NOT_FOUND);
    assert_int_equal(sessions_create_active(fx->s, t, "tom@localhost",
                                            "tom@localhost", NULL),
                     SESS_ERR_INVALID);
    assert_int_equal(ticket_close(fx->inner, t, NULL, NULL), TICKET_OK);
    assert_int_equal(sessions_create_active(fx->s, t, "bob@localhost",
                                            "tom@localhost", NULL),
                     SESS_ERR_STATE);
    assert_non_null(strstr(sessions_error(fx->s), "is closed"));
}

static void test_room_names(void **state)
{
    struct fixture *fx = *state;
    int64_t id = new_waiting(fx);
    char room[32], name[32];
    struct sess_info info;
    assert_string_equal(sessions_room_localpart(id, room, sizeof room),
                        "chat-1");
    assert_int_equal(sessions_get_by_room(fx->s, room, &info), SESS_OK);
    assert_int_equal(info.id, id);
    sess_info_clear(&info);
    assert_int_equal(sessions_get_by_room(fx->s, "CHAT-1", &info), SESS_OK);
    sess_info_clear(&info);
    static const char *const bad[] = {
        "chat-01", "chat-",   "chat-x", "chat-1x",
        "queue",   "chat--1", "chat-2", "chat-1234567890123456789",
        "ch",      "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sessions_get_by_room(fx->s, bad[i], &info),
                         SESS_ERR_NOT_FOUND);
    assert_int_equal(sessions_get_by_room(fx->s, NULL, &info),
                     SESS_ERR_NOT_FOUND);
    assert_int_equal(sessions_get(fx->s, 77, &info), SESS_ERR_NOT_FOUND);
    snprintf(name, sizeof name, "%s", sess_state_name(SESS_CALLBACK));
    enum sess_state st;
    assert_int_equal(sess_state_parse(name, &st), 0);
    assert_int_equal(st, SESS_CALLBACK);
    assert_int_equal(sess_state_parse("gone", &st), -1);
}

/* ---- the state machine, table-driven ---------------------------------- */

enum op { OP_JOIN, OP_GONE, OP_END_TECH, OP_END_CONTACT, OP_CALLBACK, OP_MSG };

static int run_op(struct fixture *fx, enum op op, int64_t id,
                  struct sess_result *r)
{
    struct sess_stored m;
    switch (op) {
    case OP_JOIN:
        return sessions_tech_join(fx->s, id, "tina@localhost", r);
    case OP_GONE:
        return sessions_contact_gone(fx->s, id, r);
    case OP_END_TECH:
        return sessions_end_by_tech(fx->s, id, "tina@localhost", "done", r);
    case OP_END_CONTACT: /* outside office hours: timing allows it */
        return sessions_end_by_contact(fx->s, id, "alice@localhost",
                                       &fx->closed, clock_now(), r);
    case OP_CALLBACK:
        return sessions_callback(fx->s, id, "alice@localhost", "555-0100",
                                 "after 3pm", &fx->closed, clock_now(), false,
                                 r);
    case OP_MSG:
    default:
        memset(r, 0, sizeof *r);
        return sessions_add_message(fx->s, id, "alice@localhost", NULL, "hi",
                                    SESS_MSG_CHAT, &m);
    }
}

enum { OK = SESS_OK, ST = SESS_ERR_STATE };
/* For each op: the code and the resulting state from each of trans_from. */
static const enum sess_state trans_from[6] = {SESS_WAITING,  SESS_ACTIVE,
                                              SESS_ENDED,    SESS_ABANDONED,
                                              SESS_CALLBACK, SESS_CLOSED};
static const struct {
    enum op op;
    int code[6];
    enum sess_state to[6];
} trans_rows[] = {
    {OP_JOIN,
     {OK, OK, ST, ST, ST, ST},
     {SESS_ACTIVE, SESS_ACTIVE, SESS_ENDED, SESS_ABANDONED, SESS_CALLBACK,
      SESS_CLOSED}},
    {OP_GONE,
     {OK, OK, OK, OK, OK, OK},
     {SESS_ABANDONED, SESS_ACTIVE, SESS_ENDED, SESS_ABANDONED, SESS_CALLBACK,
      SESS_CLOSED}},
    {OP_END_TECH,
     {OK, OK, ST, OK, OK, ST},
     {SESS_ENDED, SESS_ENDED, SESS_ENDED, SESS_CLOSED, SESS_CLOSED,
      SESS_CLOSED}},
    {OP_END_CONTACT,
     {OK, OK, ST, ST, ST, ST},
     {SESS_ABANDONED, SESS_ENDED, SESS_ENDED, SESS_ABANDONED, SESS_CALLBACK,
      SESS_CLOSED}},
    {OP_CALLBACK,
     {OK, ST, ST, ST, ST, ST},
     {SESS_CALLBACK, SESS_ACTIVE, SESS_ENDED, SESS_ABANDONED, SESS_CALLBACK,
      SESS_CLOSED}},
    {OP_MSG,
     {OK, OK, ST, ST, ST, ST},
     {SESS_WAITING, SESS_ACTIVE, SESS_ENDED, SESS_ABANDONED, SESS_CALLBACK,
      SESS_CLOSED}},
};

static void test_transition_table(void **state)
{
    struct fixture *fx = *state;
    for (size_t i = 0; i < sizeof trans_rows / sizeof trans_rows[0]; i++) {
        for (size_t j = 0; j < 6; j++) {
            int64_t id = session_in(fx, trans_from[j]);
            struct sess_result r;
            int rc = run_op(fx, trans_rows[i].op, id, &r);
            if (rc != trans_rows[i].code[j])
                fail_msg("op %d from %s: got %d (%s), want %d",
                         trans_rows[i].op, sess_state_name(trans_from[j]), rc,
                         sessions_error(fx->s), trans_rows[i].code[j]);
            assert_int_equal(state_of(fx, id), trans_rows[i].to[j]);
            if (rc == SESS_ERR_STATE) {
                /* The refusal names the state the session is in. */
                assert_non_null(strstr(sessions_error(fx->s),
                                       sess_state_text(trans_from[j])));
                assert_int_equal(r.session_id, 0);
            } else if (trans_rows[i].op != OP_MSG) {
                assert_int_equal(r.session_id, id);
                assert_int_equal(r.before, trans_from[j]);
                assert_int_equal(r.after, trans_rows[i].to[j]);
            }
        }
    }
    assert_non_null(strstr(sess_state_text(SESS_ENDED), "already ended"));
}

static void test_transcript_once(void **state)
{
    struct fixture *fx = *state;
    /* Leaving the live states writes one transcript; closing writes none. */
    static const struct {
        enum sess_state st;
        size_t transcripts, callbacks, closing;
    } rows[] = {
        {SESS_WAITING, 0, 0, 0},  {SESS_ACTIVE, 0, 0, 0},
        {SESS_ENDED, 1, 0, 0},    {SESS_ABANDONED, 1, 0, 0},
        {SESS_CALLBACK, 1, 1, 0}, {SESS_CLOSED, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t id = session_in(fx, rows[i].st);
        int64_t t = ticket_of(fx, id);
        assert_int_equal(count_notes(fx, t, TICKET_NOTE_TRANSCRIPT),
                         rows[i].transcripts);
        assert_int_equal(count_notes(fx, t, TICKET_NOTE_CALLBACK),
                         rows[i].callbacks);
        assert_int_equal(count_notes(fx, t, TICKET_NOTE_CLOSING),
                         rows[i].closing);
    }
}

static void test_failed_transcript_rolls_back(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    struct sess_message_list h;
    int64_t id = session_in(fx, SESS_ACTIVE);
    fx->ts.fail_notes = true;
    assert_int_equal(sessions_end_by_tech(fx->s, id, "tom@localhost", NULL, &r),
                     SESS_ERR_STORE);
    assert_non_null(strstr(sessions_error(fx->s), "PSA unreachable"));
    assert_false(r.notice.stored);
    assert_int_equal(state_of(fx, id), SESS_ACTIVE);
    assert_int_equal(sessions_history(fx->s, id, 0, &h), SESS_OK);
    assert_int_equal(h.n, 0); /* the notice went with the rollback */
    sess_message_list_free(&h);
    fx->ts.fail_notes = false;
    expect_ok(fx, sessions_end_by_tech(fx->s, id, "tom@localhost", NULL, &r));
    assert_true(r.notice.stored);
    assert_string_equal(r.notice.body, "Tom Tech ended the chat.");
}

/* ---- first tech takes -------------------------------------------------- */

static void test_first_tech_takes(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t id = new_waiting(fx);
    clock_advance(30);
    expect_ok(fx, sessions_tech_join(fx->s, id, "Tom@Localhost/gajim", &r));
    assert_true(r.took);
    assert_int_equal(r.before, SESS_WAITING);
    assert_int_equal(r.after, SESS_ACTIVE);
    clock_advance(5);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tina@localhost", &r));
    assert_false(r.took);
    assert_int_equal(r.before, SESS_ACTIVE);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    assert_false(r.took);
    assert_int_equal(sessions_tech_join(fx->s, id, "alice@localhost", &r),
                     SESS_ERR_FORBIDDEN);
    assert_int_equal(sessions_tech_join(fx->s, 99, "tom@localhost", &r),
                     SESS_ERR_NOT_FOUND);
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.answered_by, "tom@localhost");
    assert_int_equal(info.answered_at, T0 + 30);
    assert_int_equal(info.last_activity, T0 + 30);
    sess_info_clear(&info);
    struct sess_member_list m;
    assert_int_equal(sessions_members(fx->s, id, &m), SESS_OK);
    assert_int_equal(m.n, 3);
    assert_string_equal(m.items[1].jid, "tom@localhost");
    assert_int_equal(m.items[1].joined_at, T0 + 30);
    assert_string_equal(m.items[2].jid, "tina@localhost");
    sess_member_list_free(&m);
    assert_int_equal(sessions_is_member(fx->s, id, "tina@localhost/x"),
                     SESS_MEMBER_TECH);
}

/* ---- contact end rules -------------------------------------------------- */

static void test_contact_end_waiting(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t id = new_waiting(fx);
    /* (a) nobody answered within answer_timeout (60 s). */
    int rc = sessions_end_by_contact(fx->s, id, "alice@localhost", &fx->open,
                                     T0 + 59, &r);
    assert_int_equal(rc, SESS_ERR_NOT_YET);
    assert_non_null(strstr(sessions_error(fx->s), "waited 1 minute"));
    assert_int_equal(state_of(fx, id), SESS_WAITING);
    assert_int_equal(sessions_end_by_contact(fx->s, id, "bob@localhost",
                                             &fx->open, T0 + 60, &r),
                     SESS_ERR_FORBIDDEN);
    assert_int_equal(sessions_end_by_contact(fx->s, id, "tom@localhost",
                                             &fx->open, T0 + 60, &r),
                     SESS_ERR_FORBIDDEN);
    expect_ok(fx, sessions_end_by_contact(fx->s, id, "alice@localhost/portal",
                                          &fx->open, T0 + 60, &r));
    assert_int_equal(r.after, SESS_ABANDONED); /* SPEC §3: ended waiting */
    assert_string_equal(r.notice.body, "Alice Adams ended the chat before a "
                                       "technician answered.");
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_int_equal(info.ended_at, T0 + 60);
    assert_string_equal(info.closer_jid, ""); /* no tech closed it */
    sess_info_clear(&info);
}

static void test_contact_end_office_hours(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    /* (b) outside office hours: at once, waiting or active. */
    int64_t w = new_waiting(fx);
    expect_ok(fx, sessions_end_by_contact(fx->s, w, "alice@localhost",
                                          &fx->closed, T0, &r));
    assert_int_equal(r.after, SESS_ABANDONED);
    int64_t a = session_in(fx, SESS_ACTIVE);
    assert_int_equal(
        sessions_end_by_contact(fx->s, a, "alice@localhost", &fx->open, T0, &r),
        SESS_ERR_NOT_YET);
    assert_non_null(strstr(sessions_error(fx->s), "written for 1 hour"));
    expect_ok(fx, sessions_end_by_contact(fx->s, a, "alice@localhost",
                                          &fx->closed, T0, &r));
    assert_int_equal(r.after, SESS_ENDED);
    assert_int_equal(sessions_end_by_contact(fx->s, a, "alice@localhost",
                                             &fx->closed, T0, &r),
                     SESS_ERR_STATE);
    assert_non_null(strstr(sessions_error(fx->s), "already ended"));
}

static void test_contact_end_idle(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    struct sess_stored m;
    /* (c) active and silent for idle_timeout (3600 s) since the last chat
     * message; system notices do not count. */
    int64_t id = session_in(fx, SESS_ACTIVE);
    clock_advance(1000);
    expect_ok(fx, sessions_add_message(fx->s, id, "tom@localhost", NULL,
                                       "Did that help?", SESS_MSG_CHAT, &m));
    time_t last = clock_now();
    clock_advance(500);
    expect_ok(fx, sessions_add_message(fx->s, id, NULL, NULL, "Tom is typing",
                                       SESS_MSG_SYSTEM, &m));
    assert_int_equal(sessions_end_by_contact(fx->s, id, "alice@localhost",
                                             &fx->open, last + 3599, &r),
                     SESS_ERR_NOT_YET);
    assert_non_null(strstr(sessions_error(fx->s), "was 59 minutes ago"));
    expect_ok(fx, sessions_end_by_contact(fx->s, id, "alice@localhost",
                                          &fx->open, last + 3600, &r));
    assert_int_equal(r.after, SESS_ENDED);
    assert_string_equal(r.notice.body, "Alice Adams ended the chat.");
    assert_int_equal(r.notice.at, last + 3600);
}

static void test_contact_not_in_directory(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t t = new_ticket(fx, 0, "walk-in");
    int64_t id = 0;
    expect_ok(fx, sessions_create_waiting(fx->s, "ghost@localhost", 0, t,
                                          "hello", &id));
    assert_int_equal(sessions_end_by_contact(fx->s, id, "ghost@localhost",
                                             &fx->closed, T0, &r),
                     SESS_ERR_NOT_CONTACT);
    assert_int_equal(sessions_callback(fx->s, id, "ghost@localhost", "12345",
                                       NULL, &fx->closed, T0, false, &r),
                     SESS_ERR_NOT_CONTACT);
    assert_int_equal(state_of(fx, id), SESS_WAITING);
}

/* ---- callbacks ----------------------------------------------------------- */

static void test_callback_rules(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t id = new_waiting(fx);
    /* Open hours and not yet waited answer_timeout. */
    assert_int_equal(sessions_callback(fx->s, id, "alice@localhost", "12345",
                                       NULL, &fx->open, T0 + 59, false, &r),
                     SESS_ERR_NOT_YET);
    assert_non_null(strstr(sessions_error(fx->s), "waited 59 seconds so far"));
    /* Leave a message: no tech Online allows it at once, in office hours;
     * end-chat keeps its own rule. */
    int64_t lone = new_waiting(fx);
    assert_int_equal(sessions_end_by_contact(fx->s, lone, "alice@localhost",
                                             &fx->open, T0 + 1, &r),
                     SESS_ERR_NOT_YET);
    expect_ok(fx, sessions_callback(fx->s, lone, "alice@localhost", "12345",
                                    NULL, &fx->open, T0 + 1, true, &r));
    assert_int_equal(r.after, SESS_CALLBACK);
    /* Disabled globally, then enabled for the company. */
    struct settings off = fx->closed;
    off.callback = false;
    assert_int_equal(sessions_callback(fx->s, id, "alice@localhost", "12345",
                                       NULL, &off, T0, false, &r),
                     SESS_ERR_DISABLED);
    assert_non_null(strstr(sessions_error(fx->s), "Callbacks are"));
    struct company co;
    assert_int_equal(directory_company_get(fx->dir, fx->acme, &co), DIR_OK);
    co.callback = TRI_ON;
    assert_int_equal(directory_company_update(fx->dir, &co), DIR_OK);
    assert_int_equal(sessions_callback(fx->s, id, "bob@localhost", "12345",
                                       NULL, &off, T0, false, &r),
                     SESS_ERR_FORBIDDEN);
    /* Allowed (company override, outside hours); bad phone first. */
    assert_int_equal(sessions_callback(fx->s, id, "alice@localhost", "call me",
                                       NULL, &off, T0, false, &r),
                     SESS_ERR_INVALID);
    clock_advance(61);
    expect_ok(fx, sessions_callback(fx->s, id, "alice@localhost",
                                    "  +1 (555) 010-0200 ", "After 3pm",
                                    &fx->open, T0 + 61, false, &r));
    assert_int_equal(r.after, SESS_CALLBACK);
    assert_string_equal(r.notice.body, "Alice Adams asked to be called back "
                                       "on +1 (555) 010-0200. Note: After 3pm");
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.callback_phone, "+1 (555) 010-0200");
    assert_string_equal(info.callback_note, "After 3pm");
    assert_int_equal(info.ended_at, T0 + 61);
    sess_info_clear(&info);
    struct sess_list l;
    assert_int_equal(sessions_list(fx->s, SESS_VIEW_CALLBACKS, NULL, 0, &l),
                     SESS_OK);
    assert_int_equal(l.n, 2); /* id and the left message (lone) */
    assert_true(l.items[0].id == id || l.items[1].id == id);
    sess_list_free(&l);
    /* The callback is in the room and so in the transcript. */
    char *text = NULL;
    assert_int_equal(sessions_transcript(fx->s, id, &text), SESS_OK);
    assert_non_null(strstr(text, "* Alice Adams asked to be called back"));
    free(text);
}

static void test_phone_check(void **state)
{
    struct fixture *fx = *state;
    static const char *const good[] = {"123", "+44 20 7946 0000",
                                       "(555) 010-0200", " 12345 ",
                                       "+1-800-555-0199-1234-5678-9012-3"};
    static const char *const bad[] = {NULL,
                                      "",
                                      "12",
                                      "1-2",
                                      "+--",
                                      "555 CALL NOW",
                                      "1.2.3",
                                      "12345#",
                                      "+1 555 0100 ext 4",
                                      "123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(sessions_phone_check(good[i]), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sessions_phone_check(bad[i]), -1);
    struct sess_result r;
    int64_t id = new_waiting(fx);
    char note[SESS_NOTE_MAX + 2];
    memset(note, 'n', sizeof note - 1);
    note[sizeof note - 1] = '\0';
    assert_int_equal(sessions_callback(fx->s, id, "alice@localhost", "12345",
                                       note, &fx->closed, T0, false, &r),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_callback(fx->s, id, "alice@localhost", NULL, NULL,
                                       &fx->closed, T0, false, &r),
                     SESS_ERR_INVALID);
    assert_int_equal(state_of(fx, id), SESS_WAITING);
}

/* ---- closing notes ------------------------------------------------------- */

static void test_closing_note_closer_only(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t id = session_in(fx, SESS_ACTIVE);
    assert_int_equal(sessions_set_closing_note(fx->s, id, "tom@localhost", "x"),
                     SESS_ERR_STATE);
    assert_non_null(strstr(sessions_error(fx->s), "in progress"));
    expect_ok(fx, sessions_end_by_tech(fx->s, id, "tom@localhost",
                                       "Replaced toner", &r));
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.closer_jid, "tom@localhost");
    assert_string_equal(info.closing_note, "Replaced toner");
    assert_string_equal(info.closing_note_by, "tom@localhost");
    assert_int_equal(info.closing_note_at, T0);
    sess_info_clear(&info);
    assert_int_equal(
        sessions_set_closing_note(fx->s, id, "tina@localhost", "mine"),
        SESS_ERR_FORBIDDEN);
    assert_string_equal(sessions_error(fx->s),
                        "Only tom@localhost may edit this closing note.");
    clock_advance(10);
    expect_ok(fx, sessions_set_closing_note(fx->s, id, "Tom@localhost/phone",
                                            "Replaced toner and drum"));
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.closing_note, "Replaced toner and drum");
    assert_int_equal(info.closing_note_at, T0 + 10);
    sess_info_clear(&info);
    expect_ok(fx, sessions_set_closing_note(fx->s, id, "tom@localhost", ""));
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.closing_note, "");
    assert_int_equal(info.closing_note_at, 0);
    assert_string_equal(info.closer_jid, "tom@localhost");
    sess_info_clear(&info);
    assert_int_equal(count_notes(fx, ticket_of(fx, id), TICKET_NOTE_CLOSING),
                     3);
    assert_int_equal(sessions_set_closing_note(fx->s, 99, "tom@localhost", "x"),
                     SESS_ERR_NOT_FOUND);
}

static void test_closing_note_contact_ended(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t id = session_in(fx, SESS_ACTIVE);
    expect_ok(fx, sessions_end_by_contact(fx->s, id, "alice@localhost",
                                          &fx->closed, T0, &r));
    /* No closer yet: a tech member (tom) claims it; tina is no member. */
    assert_int_equal(
        sessions_set_closing_note(fx->s, id, "tina@localhost", "x"),
        SESS_ERR_FORBIDDEN);
    assert_int_equal(
        sessions_set_closing_note(fx->s, id, "alice@localhost", "x"),
        SESS_ERR_FORBIDDEN);
    expect_ok(fx, sessions_set_closing_note(fx->s, id, "tom@localhost",
                                            "User fixed it"));
    struct sess_info info;
    assert_int_equal(sessions_get(fx->s, id, &info), SESS_OK);
    assert_string_equal(info.closer_jid, "tom@localhost");
    sess_info_clear(&info);
    /* Abandoned: closed with end-session, not with closing-note. */
    int64_t ab = session_in(fx, SESS_ABANDONED);
    assert_int_equal(sessions_set_closing_note(fx->s, ab, "tom@localhost", "x"),
                     SESS_ERR_STATE);
    assert_non_null(strstr(sessions_error(fx->s), "end-session"));
    expect_ok(fx, sessions_end_by_tech(fx->s, ab, "tina@localhost",
                                       "Called back, solved", &r));
    assert_int_equal(r.after, SESS_CLOSED);
    assert_false(r.notice.stored); /* closing posts nothing in the room */
    assert_int_equal(sessions_set_closing_note(fx->s, ab, "tom@localhost", "x"),
                     SESS_ERR_FORBIDDEN);
    expect_ok(fx, sessions_set_closing_note(fx->s, ab, "tina@localhost",
                                            "Called back twice"));
}

/* ---- messages ------------------------------------------------------------ */

static bool is_hex16(const char *s)
{
    if (strlen(s) != SESS_STANZA_ID_LEN)
        return false;
    return strspn(s, "0123456789abcdef") == SESS_STANZA_ID_LEN;
}

static void test_messages(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored m;
    int64_t id = session_in(fx, SESS_ACTIVE);
    enum { N = 200 };
    static char ids[N][SESS_STANZA_ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        char body[32];
        snprintf(body, sizeof body, "message %d", i);
        expect_ok(fx, sessions_add_message(fx->s, id,
                                           i % 2 ? "tom@localhost/x"
                                                 : "alice@localhost",
                                           NULL, body, SESS_MSG_CHAT, &m));
        assert_true(m.stored);
        assert_true(is_hex16(m.stanza_id));
        assert_int_equal(m.at, clock_now());
        snprintf(ids[i], sizeof ids[i], "%s", m.stanza_id);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    struct sess_message_list h;
    assert_int_equal(sessions_history(fx->s, id, 3, &h), SESS_OK);
    assert_int_equal(h.n, 3); /* the last three, oldest first */
    assert_string_equal(h.items[0].body, "message 197");
    assert_string_equal(h.items[2].body, "message 199");
    assert_string_equal(h.items[2].stanza_id, ids[199]);
    assert_string_equal(h.items[2].nick, "Tom Tech");
    assert_string_equal(h.items[2].from_jid, "tom@localhost");
    assert_true(h.items[1].id < h.items[2].id);
    sess_message_list_free(&h);
    assert_int_equal(sessions_history(fx->s, id, 0, &h), SESS_OK);
    assert_int_equal(h.n, N);
    sess_message_list_free(&h);
    /* Own nick, non-members, empty bodies, unknown sessions. */
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", "Al", "x",
                                       SESS_MSG_CHAT, &m));
    assert_int_equal(sessions_add_message(fx->s, id, "bob@localhost", NULL, "x",
                                          SESS_MSG_CHAT, &m),
                     SESS_ERR_FORBIDDEN);
    assert_false(m.stored);
    assert_int_equal(sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                          "", SESS_MSG_CHAT, &m),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_add_message(fx->s, 99, "alice@localhost", NULL,
                                          "x", SESS_MSG_CHAT, &m),
                     SESS_ERR_NOT_FOUND);
}

static void test_message_committed_before_return(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored m;
    int64_t id = session_in(fx, SESS_WAITING);
    /* Inside a caller's transaction the commit would not be ours: refused. */
    assert_int_equal(store_begin(fx->st), 0);
    assert_int_equal(sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                          "x", SESS_MSG_CHAT, &m),
                     SESS_ERR_STORE);
    assert_int_equal(store_rollback(fx->st), 0);
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", NULL, "x",
                                       SESS_MSG_CHAT, &m));
    assert_true(db_get_autocommit(store_db(fx->st)));
}

/* The same on a file with a second connection: what add_message returned is
 * visible to another reader at once, so it is committed. */
static void test_message_visible_to_other_connection(void **state)
{
    (void)state;
    char path[] = "/tmp/chatdesk-sessions-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct store *a = store_open(testdb_target(path), err, sizeof err);
    struct store *b =
        a ? store_open(testdb_target(path), err, sizeof err) : NULL;
    assert_non_null(b);
    struct directory *dir = directory_open(a, err, sizeof err);
    struct ticket_store *ts = ticket_store_sqlite_new(a, err, sizeof err);
    struct sessions *s = sessions_open(a, dir, ts, err, sizeof err);
    assert_non_null(s);
    struct ticket_draft d = {0, 0, "file test"};
    int64_t t = 0, id = 0;
    assert_int_equal(ticket_create(ts, &d, &t), TICKET_OK);
    assert_int_equal(
        sessions_create_waiting(s, "carol@localhost", 0, t, "hi", &id),
        SESS_OK);
    struct sess_stored m;
    assert_int_equal(sessions_add_message(s, id, "carol@localhost", NULL,
                                          "anyone?", SESS_MSG_CHAT, &m),
                     SESS_OK);
    struct db_stmt *q = NULL;
    assert_int_equal(db_prepare(store_db(b), "SELECT body FROM messages WHERE "
                                        "stanza_id = ?1", &q),
                     DB_OK);
    db_bind_text(q, 1, m.stanza_id, -1, DB_STATIC);
    assert_int_equal(db_step(q), DB_ROW);
    assert_string_equal((const char *)db_column_text(q, 0), "anyone?");
    db_finalize(q);
    sessions_close(s);
    ticket_store_destroy(ts);
    directory_close(dir);
    store_close(b);
    store_close(a);
    testdb_remove(path);
}

/* ---- group commit -------------------------------------------------------- */

/* How many messages of session id the connection of st sees. */
static int count_messages(struct store *st, int64_t id)
{
    struct db_stmt *q = NULL;
    int n = -1;
    assert_int_equal(db_prepare(store_db(st),
                                "SELECT count(*) FROM messages WHERE "
                                "session_id = ?1",
                                &q),
                     DB_OK);
    db_bind_int64(q, 1, id);
    if (db_step(q) == DB_ROW)
        n = db_column_int(q, 0);
    db_finalize(q);
    return n;
}

/* alice writes body into the held transaction. */
static void add_held(struct sessions *s, int64_t id, const char *body,
                     struct sess_stored *m)
{
    int rc = sessions_add_message(s, id, "alice@localhost", NULL, body,
                                  SESS_MSG_CHAT, m);
    if (rc != SESS_OK)
        fail_msg("add_message '%s': %d: %s", body, rc, sessions_error(s));
    assert_true(m->stored);
    assert_true(m->held);
    assert_true(is_hex16(m->stanza_id));
    assert_true(sessions_held(s));
}

static void expect_error_has(struct fixture *fx, const char *fragment)
{
    if (!strstr(sessions_error(fx->s), fragment))
        fail_msg("error '%s' lacks '%s'", sessions_error(fx->s), fragment);
}

static void test_group_commit(void **state)
{
    struct fixture *fx = *state;
    static const char *bodies[] = {"one", "two", "three"};
    struct sess_stored m[3];
    struct sess_message_list h;
    int64_t id = session_in(fx, SESS_ACTIVE);
    int before = count_messages(fx->st, id);
    assert_false(sessions_held(fx->s));
    expect_ok(fx, sessions_commit_held(fx->s)); /* nothing held: a no-op */
    expect_ok(fx, sessions_hold(fx->s));
    assert_true(sessions_held(fx->s));
    expect_ok(fx, sessions_hold(fx->s)); /* twice: a no-op too */
    for (int i = 0; i < 3; i++)
        add_held(fx->s, id, bodies[i], &m[i]);
    assert_false(db_get_autocommit(store_db(fx->st)));
    expect_ok(fx, sessions_commit_held(fx->s));
    assert_false(sessions_held(fx->s));
    assert_true(db_get_autocommit(store_db(fx->st)));
    assert_int_equal(count_messages(fx->st, id), before + 3);
    assert_int_equal(sessions_history(fx->s, id, 3, &h), SESS_OK);
    assert_int_equal(h.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(h.items[i].body, bodies[i]);
        assert_string_equal(h.items[i].stanza_id, m[i].stanza_id);
        assert_string_equal(h.items[i].nick, "Alice Adams");
    }
    sess_message_list_free(&h);
}

static void test_group_commit_failed_write(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored m;
    int64_t id = session_in(fx, SESS_ACTIVE);
    int before = count_messages(fx->st, id);
    assert_int_equal(
        db_exec(store_db(fx->st),
                testdb_is_pg()
                    ? "ALTER TABLE messages ADD CONSTRAINT x "
                      "CHECK (body <> 'boom') NOT VALID"
                    : "CREATE TEMP TRIGGER boom BEFORE INSERT ON messages "
                      "WHEN new.body = 'boom' BEGIN SELECT RAISE(ABORT, 'x'); "
                      "END;",
                NULL),
        DB_OK);
    expect_ok(fx, sessions_hold(fx->s));
    add_held(fx->s, id, "a", &m);
    assert_int_equal(sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                          "boom", SESS_MSG_CHAT, &m),
                     SESS_ERR_STORE);
    assert_false(m.stored);
    assert_false(m.held);
    /* the batch is doomed: a later message fails too */
    assert_int_equal(sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                          "c", SESS_MSG_CHAT, &m),
                     SESS_ERR_STORE);
    assert_false(m.stored);
    expect_error_has(fx, "earlier message");
    assert_true(sessions_held(fx->s));
    assert_int_equal(sessions_commit_held(fx->s), SESS_ERR_STORE);
    expect_error_has(fx, "none of them was saved");
    assert_false(sessions_held(fx->s));
    assert_true(db_get_autocommit(store_db(fx->st)));
    assert_int_equal(count_messages(fx->st, id), before); /* not even "a" */
    /* the store is usable afterwards, on its own and held */
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                       "after", SESS_MSG_CHAT, &m));
    assert_false(m.held);
    assert_int_equal(count_messages(fx->st, id), before + 1);
    expect_ok(fx, sessions_hold(fx->s));
    add_held(fx->s, id, "again", &m);
    expect_ok(fx, sessions_commit_held(fx->s));
    assert_int_equal(count_messages(fx->st, id), before + 2);
}

static void test_group_commit_other_writers_refused(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored m;
    struct sess_result r;
    int64_t id = session_in(fx, SESS_WAITING);
    int before = count_messages(fx->st, id);
    expect_ok(fx, sessions_hold(fx->s));
    add_held(fx->s, id, "one", &m);
    assert_int_equal(sessions_tech_join(fx->s, id, "tom@localhost", &r),
                     SESS_ERR_STORE);
    expect_error_has(fx, "inside an open transaction");
    assert_int_equal(sessions_contact_gone(fx->s, id, &r), SESS_ERR_STORE);
    expect_error_has(fx, "inside an open transaction");
    /* a refused message (not a member) is no failed write either */
    assert_int_equal(sessions_add_message(fx->s, id, "bob@localhost", NULL, "x",
                                          SESS_MSG_CHAT, &m),
                     SESS_ERR_FORBIDDEN);
    assert_true(sessions_held(fx->s));
    add_held(fx->s, id, "two", &m);
    expect_ok(fx, sessions_commit_held(fx->s));
    assert_int_equal(count_messages(fx->st, id), before + 2);
    assert_int_equal(state_of(fx, id), SESS_WAITING);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    assert_int_equal(state_of(fx, id), SESS_ACTIVE);
}

static void test_message_without_hold(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored m;
    int64_t id = session_in(fx, SESS_ACTIVE);
    int before = count_messages(fx->st, id);
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                       "alone", SESS_MSG_CHAT, &m));
    assert_true(m.stored);
    assert_false(m.held);
    assert_false(sessions_held(fx->s));
    assert_true(db_get_autocommit(store_db(fx->st)));
    assert_int_equal(count_messages(fx->st, id), before + 1);
}

/* A file store with a second connection (b) that sees only what is
 * committed; s works on a, in a waiting session id of carol's. */
struct file_fx {
    char path[40];
    struct store *a, *b;
    struct directory *dir;
    struct ticket_store *ts;
    struct sessions *s;
    int64_t id;
};

static void file_fx_open(struct file_fx *f)
{
    char err[256];
    struct ticket_draft d = {0, 0, "file test"};
    int64_t t = 0;
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/chatdesk-sessions-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    f->a = store_open(testdb_target(f->path), err, sizeof err);
    f->b = f->a ? store_open(testdb_target(f->path), err, sizeof err) : NULL;
    assert_non_null(f->b);
    f->dir = directory_open(f->a, err, sizeof err);
    f->ts = ticket_store_sqlite_new(f->a, err, sizeof err);
    f->s = sessions_open(f->a, f->dir, f->ts, err, sizeof err);
    assert_non_null(f->s);
    assert_int_equal(ticket_create(f->ts, &d, &t), TICKET_OK);
    assert_int_equal(
        sessions_create_waiting(f->s, "carol@localhost", 0, t, "hi", &f->id),
        SESS_OK);
}

static void file_fx_close(struct file_fx *f)
{
    sessions_close(f->s);
    ticket_store_destroy(f->ts);
    directory_close(f->dir);
    store_close(f->b);
    store_close(f->a);
    testdb_remove(f->path);
}

/* Nothing of a held batch is visible to another connection before the
 * commit; all of it is after. */
static void test_group_commit_visible_after_commit(void **state)
{
    struct file_fx f;
    struct sess_stored m;
    (void)state;
    file_fx_open(&f);
    int before = count_messages(f.b, f.id);
    assert_int_equal(sessions_hold(f.s), SESS_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sessions_add_message(f.s, f.id, "carol@localhost",
                                              NULL, "held", SESS_MSG_CHAT, &m),
                         SESS_OK);
        assert_true(m.held);
        assert_int_equal(count_messages(f.b, f.id), before);
    }
    assert_int_equal(sessions_commit_held(f.s), SESS_OK);
    assert_int_equal(count_messages(f.b, f.id), before + 3);
    /* without a hold: visible at once */
    assert_int_equal(sessions_add_message(f.s, f.id, "carol@localhost", NULL,
                                          "alone", SESS_MSG_CHAT, &m),
                     SESS_OK);
    assert_false(m.held);
    assert_int_equal(count_messages(f.b, f.id), before + 4);
    file_fx_close(&f);
}

/* ---- transcript ---------------------------------------------------------- */

static void test_transcript_format(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    struct sess_stored m;
    int64_t id = new_waiting(fx);
    clock_advance(5);
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                       "Hello?", SESS_MSG_CHAT, &m));
    clock_advance(3600 + 62);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    clock_advance(1);
    expect_ok(fx, sessions_add_message(fx->s, id, "tom@localhost/gajim", NULL,
                                       "Hi Alice.\nTry this:\r\n  reboot",
                                       SESS_MSG_CHAT, &m));
    clock_advance(86400);
    expect_ok(fx,
              sessions_end_by_tech(fx->s, id, "tom@localhost", "fixed", &r));
    const char *want = "[2026-01-01 00:00:05 UTC] Alice Adams: Hello?\n"
                       "[2026-01-01 01:01:08 UTC] Tom Tech: Hi Alice.\n"
                       "    Try this:\n"
                       "      reboot\n"
                       "[2026-01-02 01:01:08 UTC] * Tom Tech ended the chat.";
    char *text = NULL;
    assert_int_equal(sessions_transcript(fx->s, id, &text), SESS_OK);
    assert_string_equal(text, want);
    free(text);
    /* The ticket got the same text, written by the closer. */
    struct ticket t;
    assert_int_equal(ticket_get(fx->inner, ticket_of(fx, id), &t), TICKET_OK);
    assert_int_equal(t.n_notes, 2);
    assert_int_equal(t.notes[0].kind, TICKET_NOTE_TRANSCRIPT);
    assert_string_equal(t.notes[0].text, want);
    assert_string_equal(t.notes[0].author, "tom@localhost");
    assert_int_equal(t.notes[1].kind, TICKET_NOTE_CLOSING);
    assert_string_equal(t.notes[1].text, "fixed");
    ticket_clear(&t);
    /* An empty room gives an empty transcript. */
    assert_int_equal(sessions_transcript(fx->s, new_waiting(fx), &text),
                     SESS_OK);
    assert_string_equal(text, "");
    free(text);
}

/* ---- lists --------------------------------------------------------------- */

static void expect_list(struct fixture *fx, enum sess_view view,
                        const char *jid, size_t limit, const int64_t *ids,
                        size_t n)
{
    struct sess_list l;
    expect_ok(fx, sessions_list(fx->s, view, jid, limit, &l));
    if (l.n != n)
        fail_msg("view %d: %zu sessions, want %zu", view, l.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(l.items[i].id, ids[i]);
    sess_list_free(&l);
}

/* Make jid a tech member of session id, straight in the store. */
static void member(struct fixture *fx, int64_t id, const char *jid)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO session_members (session_id, jid, kind, nick, "
             "joined_at) VALUES (%lld, '%s', 'tech', 'x', 0)",
             (long long)id, jid);
    assert_int_equal(db_exec(store_db(fx->st), sql, NULL),
                     DB_OK);
}

static void test_lists(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int64_t w1 = session_in(fx, SESS_WAITING);
    clock_advance(10);
    int64_t ended = session_in(fx, SESS_ENDED); /* tom */
    clock_advance(10);
    int64_t act = session_in(fx, SESS_ACTIVE); /* tom */
    clock_advance(10);
    int64_t ab = session_in(fx, SESS_ABANDONED);
    clock_advance(10);
    int64_t cb = session_in(fx, SESS_CALLBACK);
    clock_advance(10);
    int64_t closed = session_in(fx, SESS_CLOSED);
    clock_advance(10);
    int64_t w2 = session_in(fx, SESS_WAITING);
    clock_advance(10);
    int64_t ended2 = session_in(fx, SESS_ENDED); /* tom, newer */
    expect_ok(fx, sessions_tech_join(fx->s, act, "tina@localhost", &r));
    (void)closed, (void)ended, (void)ended2;
    /* tom is a member of w1 and cb too (no transition does that today; the
     * list follows membership and state) */
    member(fx, w1, "tom@localhost");
    member(fx, cb, "tom@localhost");

    /* open work only: ended (ended, ended2) and closed sessions leave it */
    expect_list(fx, SESS_VIEW_MINE, "tom@localhost", 0,
                (int64_t[]){act, cb, w1}, 3);
    expect_list(fx, SESS_VIEW_MINE, "Tom@localhost/x", 2,
                (int64_t[]){act, cb}, 2);
    expect_list(fx, SESS_VIEW_MINE, "tina@localhost", 0, (int64_t[]){act}, 1);
    expect_list(fx, SESS_VIEW_MINE, "alice@localhost", 0, NULL, 0);
    expect_list(fx, SESS_VIEW_WAITING, NULL, 0, (int64_t[]){w1, w2}, 2);
    expect_list(fx, SESS_VIEW_WAITING, NULL, 1, (int64_t[]){w1}, 1);
    expect_list(fx, SESS_VIEW_ABANDONED, NULL, 0, (int64_t[]){ab}, 1);
    expect_list(fx, SESS_VIEW_CALLBACKS, NULL, 0, (int64_t[]){cb}, 1);
    expect_list(fx, SESS_VIEW_LIVE, NULL, 0, (int64_t[]){w1, act, w2}, 3);
    expect_list(fx, SESS_VIEW_CONTACT_LIVE, "alice@localhost", 0,
                (int64_t[]){w1, act, w2}, 3);
    expect_list(fx, SESS_VIEW_CONTACT_LIVE, "bob@localhost", 0, NULL, 0);
    struct sess_list l;
    assert_int_equal(sessions_list(fx->s, SESS_VIEW_MINE, "bad", 0, &l),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_list(fx->s, (enum sess_view)42, NULL, 0, &l),
                     SESS_ERR_INVALID);
}

static void test_queue_position(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int pos = -1;
    int64_t a = new_waiting(fx);
    clock_advance(5);
    int64_t b = new_waiting(fx);
    int64_t c = new_waiting(fx); /* same second as b: ties go by id */
    expect_ok(fx, sessions_queue_position(fx->s, a, &pos));
    assert_int_equal(pos, 1);
    expect_ok(fx, sessions_queue_position(fx->s, b, &pos));
    assert_int_equal(pos, 2);
    expect_ok(fx, sessions_queue_position(fx->s, c, &pos));
    assert_int_equal(pos, 3);
    /* a is taken: everyone moves up; a has no place any more */
    expect_ok(fx, sessions_tech_join(fx->s, a, "tom@localhost", &r));
    assert_int_equal(sessions_queue_position(fx->s, a, &pos), SESS_ERR_STATE);
    assert_int_equal(pos, 0);
    expect_ok(fx, sessions_queue_position(fx->s, c, &pos));
    assert_int_equal(pos, 2);
    expect_ok(fx, sessions_contact_gone(fx->s, b, &r));
    expect_ok(fx, sessions_queue_position(fx->s, c, &pos));
    assert_int_equal(pos, 1);
    assert_int_equal(sessions_queue_position(fx->s, 9999, &pos),
                     SESS_ERR_NOT_FOUND);
}

/* The one number sql gives. */
static int64_t query_int(struct fixture *fx, const char *sql)
{
    struct db_stmt *st = NULL;
    assert_int_equal(db_prepare(store_db(fx->st), sql, &st), DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int64_t n = db_column_int64(st, 0);
    db_finalize(st);
    return n;
}

static int64_t count_rows(struct fixture *fx, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
    return query_int(fx, sql);
}

/* A contact gone with many waiting sessions: one transaction abandons the
 * waiting ones, leaves the others and an unknown id alone, and each result
 * carries its notice as sessions_contact_gone()'s would. */
static void test_contact_gone_many(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r[4];
    int64_t a = new_waiting(fx), b = new_waiting(fx), c = new_waiting(fx);
    expect_ok(fx, sessions_tech_join(fx->s, b, "tom@localhost", &r[0]));
    int64_t ids[4] = {a, b, 9999, c};
    expect_ok(fx, sessions_contact_gone_many(fx->s, ids, 4, r));
    assert_int_equal(state_of(fx, a), SESS_ABANDONED);
    assert_int_equal(state_of(fx, b), SESS_ACTIVE);
    assert_int_equal(state_of(fx, c), SESS_ABANDONED);
    assert_int_equal(r[0].session_id, a);
    assert_int_equal(r[0].before, SESS_WAITING);
    assert_int_equal(r[0].after, SESS_ABANDONED);
    assert_true(r[0].notice.stored);
    assert_non_null(strstr(r[0].notice.body, "left before a technician"));
    assert_int_equal(r[1].before, r[1].after);
    assert_int_equal(r[2].session_id, 0);
    assert_int_equal(r[3].after, SESS_ABANDONED);
    assert_true(r[3].notice.id > r[0].notice.id);
}

/* The queue's length (migration 19's triggers) follows every way in and
 * out of it, so a place is the length less those behind; a length gone
 * wrong (a hand edit without the triggers) falls back to counting. */
static void test_queue_length_kept(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    int pos = -1;
    int64_t a = new_waiting(fx), b = new_waiting(fx), c = new_waiting(fx);
    int64_t d = new_waiting(fx);
    int told = -1;
    assert_int_equal((int)query_int(fx, "SELECT n FROM queue_length"), 4);
    /* a new session is last in line: start-chat's position is told */
    expect_ok(fx, sessions_place_told(fx->s, d, &told));
    assert_int_equal(told, 4);
    expect_ok(fx, sessions_tech_join(fx->s, b, "tom@localhost", &r));
    expect_ok(fx, sessions_contact_gone(fx->s, c, &r));
    assert_int_equal((int)query_int(fx, "SELECT n FROM queue_length"), 2);
    expect_ok(fx, sessions_queue_position(fx->s, d, &pos));
    assert_int_equal(pos, 2);
    /* b handed back to the queue: in again, at its own place */
    expect_ok(fx, sessions_transfer(fx->s, b, "tom@localhost", NULL, &r));
    assert_int_equal((int)query_int(fx, "SELECT n FROM queue_length"), 3);
    expect_ok(fx, sessions_queue_position(fx->s, b, &pos));
    assert_int_equal(pos, 2);
    expect_ok(fx, sessions_queue_position(fx->s, d, &pos));
    assert_int_equal(pos, 3);
    assert_int_equal(
        db_exec(store_db(fx->st), "UPDATE queue_length SET n = 0", NULL), 0);
    expect_ok(fx, sessions_queue_position(fx->s, d, &pos));
    assert_int_equal(pos, 3);
    expect_ok(fx, sessions_queue_position(fx->s, a, &pos));
    assert_int_equal(pos, 1);
}

/* start-chat writes the ticket and the session in one transaction: a
 * failure after the ticket's insert leaves no ticket behind. */
static void test_start_chat_one_transaction(void **state)
{
    struct fixture *fx = *state;
    int64_t ticket = 0, id = 0;
    expect_ok(fx, sessions_start_chat(fx->s, "Alice@localhost/web",
                                      fx->alice_id, "VPN down", &ticket, &id));
    assert_int_equal(state_of(fx, id), SESS_WAITING);
    struct sess_info i;
    expect_ok(fx, sessions_get(fx->s, id, &i));
    assert_int_equal(i.ticket_id, ticket);
    assert_int_equal(i.company_id, fx->acme);
    assert_string_equal(i.description, "VPN down");
    sess_info_clear(&i);
    assert_int_equal(sessions_is_member(fx->s, id, "alice@localhost"),
                     SESS_MEMBER_CONTACT);
    /* the member insert fails: the ticket goes with it */
    assert_int_equal(
        db_exec(store_db(fx->st),
                testdb_is_pg()
                    ? "ALTER TABLE session_members ADD CONSTRAINT crash "
                      "CHECK (false) NOT VALID"
                    : "CREATE TRIGGER crash BEFORE INSERT ON "
                      "session_members BEGIN SELECT RAISE(ABORT, "
                      "'crash'); END;",
                NULL),
        DB_OK);
    int64_t tickets = count_rows(fx, "tickets");
    int64_t sessions = count_rows(fx, "sessions");
    assert_int_equal(sessions_start_chat(fx->s, "alice@localhost",
                                         fx->alice_id, "VPN down again",
                                         &ticket, &id),
                     SESS_ERR_STORE);
    assert_int_equal(count_rows(fx, "tickets"), tickets);
    assert_int_equal(count_rows(fx, "sessions"), sessions);
    assert_true(db_get_autocommit(store_db(fx->st)));
    assert_int_equal(sessions_start_chat(fx->s, "alice@localhost",
                                         fx->alice_id, "  ", &ticket, &id),
                     SESS_ERR_INVALID);
}

/* A chat message re-sent with the same origin-id by the same sender is
 * stored once; the answer names the stored copy. */
static void test_origin_id_stored_once(void **state)
{
    struct fixture *fx = *state;
    struct sess_stored a, b, c, d;
    int64_t id = new_waiting(fx);
    int64_t before = count_rows(fx, "messages");
    expect_ok(fx, sessions_add_message_once(fx->s, id, "alice@localhost/web",
                                            NULL, "Hello", SESS_MSG_CHAT,
                                            "o-1", &a));
    assert_true(a.stored);
    assert_false(a.duplicate);
    clock_advance(30);
    expect_ok(fx, sessions_add_message_once(fx->s, id, "Alice@localhost/phone",
                                            NULL, "Hello", SESS_MSG_CHAT,
                                            "o-1", &b));
    assert_false(b.stored);
    assert_true(b.duplicate);
    assert_int_equal(b.id, a.id);
    assert_string_equal(b.stanza_id, a.stanza_id);
    assert_int_equal(b.at, a.at);
    assert_int_equal(count_rows(fx, "messages"), before + 1);
    /* another sender, or no origin-id, is a new message */
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost",
                                     &(struct sess_result){0}));
    expect_ok(fx, sessions_add_message_once(fx->s, id, "tom@localhost", NULL,
                                            "Hello", SESS_MSG_CHAT, "o-1",
                                            &c));
    assert_true(c.stored);
    expect_ok(fx, sessions_add_message(fx->s, id, "alice@localhost", NULL,
                                       "Hello", SESS_MSG_CHAT, &d));
    assert_true(d.stored);
    /* inside a held batch the copy in the batch is found */
    expect_ok(fx, sessions_hold(fx->s));
    expect_ok(fx, sessions_add_message_once(fx->s, id, "alice@localhost",
                                            NULL, "Held", SESS_MSG_CHAT,
                                            "o-2", &a));
    expect_ok(fx, sessions_add_message_once(fx->s, id, "alice@localhost",
                                            NULL, "Held", SESS_MSG_CHAT,
                                            "o-2", &b));
    assert_true(b.duplicate);
    assert_string_equal(b.stanza_id, a.stanza_id);
    expect_ok(fx, sessions_commit_held(fx->s));
    assert_int_equal(count_rows(fx, "messages"), before + 4);
}

/* Transfer (SPEC §9): to a tech keeps the session active, back to the
 * queue makes it wait again; each is recorded with a notice; refusals. */
static void test_transfer(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    struct sess_transfer_list l;
    int64_t id = new_waiting(fx);
    assert_int_equal(sessions_transfer(fx->s, id, "tom@localhost",
                                       "tina@localhost", &r),
                     SESS_ERR_STATE); /* waiting: nobody to hand over */
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    clock_advance(60);
    expect_ok(fx, sessions_transfer(fx->s, id, "tom@localhost/gajim",
                                    "Tina@localhost", &r));
    assert_int_equal(r.before, SESS_ACTIVE);
    assert_int_equal(r.after, SESS_ACTIVE);
    assert_true(r.notice.stored);
    assert_non_null(strstr(r.notice.body, "Tom Tech handed this chat over "
                                          "to"));
    clock_advance(60);
    expect_ok(fx, sessions_transfer(fx->s, id, "tina@localhost", "", &r));
    assert_int_equal(r.after, SESS_WAITING);
    assert_non_null(strstr(r.notice.body, "back in the queue"));
    assert_int_equal(state_of(fx, id), SESS_WAITING);
    int pos = 0;
    expect_ok(fx, sessions_queue_position(fx->s, id, &pos));
    assert_int_equal(pos, 1);
    /* taken again: the first answer's time stays */
    clock_advance(60);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    struct sess_info i;
    expect_ok(fx, sessions_get(fx->s, id, &i));
    assert_int_equal(i.answered_at, T0);
    sess_info_clear(&i);
    expect_ok(fx, sessions_transfers(fx->s, id, &l));
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].from_jid, "tom@localhost");
    assert_string_equal(l.items[0].to_jid, "tina@localhost");
    assert_int_equal(l.items[0].at, T0 + 60);
    assert_string_equal(l.items[1].from_jid, "tina@localhost");
    assert_string_equal(l.items[1].to_jid, "");
    sess_transfer_list_free(&l);
    /* to oneself, to the contact, by the contact */
    assert_int_equal(sessions_transfer(fx->s, id, "tom@localhost",
                                       "tom@localhost", &r),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_transfer(fx->s, id, "tom@localhost",
                                       "alice@localhost", &r),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_transfer(fx->s, id, "alice@localhost",
                                       "tom@localhost", &r),
                     SESS_ERR_FORBIDDEN);
}

/* Rating (SPEC §9): once per ended session, by its contact, with a
 * ticket note of kind rating. */
static void test_rate(void **state)
{
    struct fixture *fx = *state;
    struct sess_result r;
    struct ticket t;
    int score = 0;
    char *comment = NULL;
    int64_t id = new_waiting(fx);
    expect_ok(fx, sessions_tech_join(fx->s, id, "tom@localhost", &r));
    assert_int_equal(sessions_rate(fx->s, id, "alice@localhost", 5, NULL),
                     SESS_ERR_STATE); /* still active */
    expect_ok(fx, sessions_end_by_tech(fx->s, id, "tom@localhost", NULL, &r));
    assert_int_equal(sessions_rating(fx->s, id, &score, NULL),
                     SESS_ERR_NOT_FOUND);
    assert_int_equal(sessions_rate(fx->s, id, "bob@localhost", 5, NULL),
                     SESS_ERR_FORBIDDEN);
    assert_int_equal(sessions_rate(fx->s, id, "alice@localhost", 6, NULL),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_rate(fx->s, id, "alice@localhost", 0, ""),
                     SESS_ERR_INVALID);
    expect_ok(fx, sessions_rate(fx->s, id, "Alice@localhost/web", 4,
                                "Quick and kind"));
    assert_int_equal(sessions_rate(fx->s, id, "alice@localhost", 5, NULL),
                     SESS_ERR_STATE); /* once */
    assert_non_null(strstr(sessions_error(fx->s), "rated already"));
    expect_ok(fx, sessions_rating(fx->s, id, &score, &comment));
    assert_int_equal(score, 4);
    assert_string_equal(comment, "Quick and kind");
    free(comment);
    struct sess_info i;
    expect_ok(fx, sessions_get(fx->s, id, &i));
    assert_int_equal(ticket_get(fx->inner, i.ticket_id, &t), TICKET_OK);
    sess_info_clear(&i);
    const struct ticket_note *last = &t.notes[t.n_notes - 1];
    assert_int_equal(last->kind, TICKET_NOTE_RATING);
    assert_string_equal(last->author, "alice@localhost");
    assert_non_null(strstr(last->text, ": 4/5\nQuick and kind"));
    ticket_clear(&t);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_waiting),
        T(test_create_active),
        T(test_room_names),
        T(test_transition_table),
        T(test_transcript_once),
        T(test_failed_transcript_rolls_back),
        T(test_first_tech_takes),
        T(test_contact_end_waiting),
        T(test_contact_end_office_hours),
        T(test_contact_end_idle),
        T(test_contact_not_in_directory),
        T(test_callback_rules),
        T(test_phone_check),
        T(test_closing_note_closer_only),
        T(test_closing_note_contact_ended),
        T(test_messages),
        T(test_message_committed_before_return),
        cmocka_unit_test(test_message_visible_to_other_connection),
        T(test_group_commit),
        T(test_group_commit_failed_write),
        T(test_group_commit_other_writers_refused),
        T(test_message_without_hold),
        cmocka_unit_test(test_group_commit_visible_after_commit),
        T(test_transcript_format),
        T(test_lists),
        T(test_queue_position),
        T(test_queue_length_kept),
        T(test_contact_gone_many),
        T(test_start_chat_one_transaction),
        T(test_origin_id_stored_once),
        T(test_transfer),
        T(test_rate),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
