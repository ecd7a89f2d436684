/* test_writer.c - the commit writer on a database file (a second
 * connection cannot share :memory:): batches are stored in order with the
 * stanza ids and times the loop stamped, indexed for search, and settled
 * oldest first; a failed transaction fails its batches and keeps none of
 * their messages; closing waits for what was handed over; the loop's
 * checks follow every change of the session. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "domain/directory.h"
#include "domain/sessions.h"
#include "domain/tickets.h"
#include "domain/writer.h"
#include "runtime/clock.h"
#include "runtime/store.h"
#include "testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fx {
    char path[64];
    struct store *st;
    struct directory *dir;
    struct ticket_store *ts;
    struct sessions *s;
    struct writer *w;
    int64_t session;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    snprintf(f->path, sizeof f->path, "/tmp/chatdesk-writer-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    f->st = store_open(testdb_target(f->path), err, sizeof err);
    assert_non_null(f->st);
    f->dir = directory_open(f->st, err, sizeof err);
    f->ts = ticket_store_sqlite_new(f->st, err, sizeof err);
    f->s = sessions_open(f->st, f->dir, f->ts, err, sizeof err);
    assert_non_null(f->s);
    struct ticket_draft d = {0, 0, "writer test"};
    int64_t t = 0;
    assert_int_equal(ticket_create(f->ts, &d, &t), TICKET_OK);
    assert_int_equal(sessions_create_waiting(f->s, "carol@localhost", 0, t,
                                             "hi", &f->session),
                     SESS_OK);
    f->w = writer_open(testdb_target(f->path), err, sizeof err);
    assert_non_null(f->w);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    writer_close(f->w);
    sessions_close(f->s);
    ticket_store_destroy(f->ts);
    directory_close(f->dir);
    store_close(f->st);
    testdb_remove(f->path);
    free(f);
    return 0;
}

/* carol's message body, checked and stamped on the loop, into the forming
 * batch; its stanza id into sid. */
static void add(struct fx *f, const char *body, char *sid)
{
    struct sess_pending p;
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, body,
                                              NULL, &p),
                     SESS_OK);
    strcpy(sid, p.stanza_id);
    assert_int_equal(writer_add(f->w, &p), 0);
    assert_null(p.body);
}

static int64_t scalar(struct fx *f, const char *sql)
{
    struct db_stmt *q = NULL;
    int64_t v = -1;
    assert_int_equal(db_prepare(store_db(f->st), sql, &q),
                     DB_OK);
    if (db_step(q) == DB_ROW)
        v = db_column_int64(q, 0);
    db_finalize(q);
    return v;
}

static void test_batches_stored_in_order(void **state)
{
    struct fx *f = *state;
    char sid[5][SESS_STANZA_ID_LEN + 1], err[256];
    const char *bodies[] = {"one", "two", "three", "four", "five"};
    uint64_t b = 0;
    assert_int_equal(writer_submit(f->w), 0); /* nothing formed */
    assert_int_equal(writer_wait(f->w, 5000), 0); /* none in flight: at once */
    for (int i = 0; i < 3; i++)
        add(f, bodies[i], sid[i]);
    uint64_t b1 = writer_submit(f->w);
    for (int i = 3; i < 5; i++) /* forms while the first one syncs */
        add(f, bodies[i], sid[i]);
    uint64_t b2 = writer_submit(f->w);
    assert_true(b1 && b2 > b1);
    assert_int_equal(writer_wait(f->w, 5000), 1); /* b1 finishes */
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 1);
    assert_int_equal(b, b1);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 1);
    assert_int_equal(b, b2);
    assert_int_equal(writer_in_flight(f->w), 0);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 0);
    struct sess_message_list l;
    assert_int_equal(sessions_history(f->s, f->session, 0, &l), SESS_OK);
    assert_int_equal(l.n, 5);
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.items[i].body, bodies[i]);
        assert_string_equal(l.items[i].stanza_id, sid[i]);
        assert_string_equal(l.items[i].from_jid, "carol@localhost");
    }
    sess_message_list_free(&l);
    /* indexed for search: the first batch in its own transaction, the
     * second (within WRITER_INDEX_MS of it) by the thread on its own once
     * WRITER_INDEX_MS passed and nothing else came */
    int64_t last = scalar(f, "SELECT MAX(id) FROM messages");
    int64_t indexed = scalar(f, "SELECT last_indexed FROM fts_state");
    assert_true(indexed >= last - 2); /* b1's three */
    for (int i = 0; i < 200 && indexed != last; i++) {
        struct timespec ms10 = {0, 10000000L};
        nanosleep(&ms10, NULL);
        indexed = scalar(f, "SELECT last_indexed FROM fts_state");
    }
    assert_int_equal(indexed, last);
}

static void test_failed_batch_keeps_nothing(void **state)
{
    struct fx *f = *state;
    char sid[SESS_STANZA_ID_LEN + 1], err[256];
    uint64_t b = 0;
    int64_t before = scalar(f, "SELECT COUNT(*) FROM messages");
    add(f, "kept back", sid);
    /* a message for a session that does not exist: the foreign key fails
     * the transaction, and with it the good message before it */
    struct sess_pending bad = {.session_id = 999999, .at = 1};
    strcpy(bad.from, "carol@localhost");
    strcpy(bad.stanza_id, "00000000deadbeef");
    bad.body = strdup("orphan");
    assert_int_equal(writer_add(f->w, &bad), 0);
    uint64_t b1 = writer_submit(f->w);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), -1);
    assert_int_equal(b, b1);
    /* the cause, not "failed" */
    assert_non_null(
        strstr(err, testdb_is_pg() ? "foreign key" : "FOREIGN KEY"));
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM messages"), before);
    add(f, "after the failure", sid); /* the next batch is fine */
    uint64_t b2 = writer_submit(f->w);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 1);
    assert_int_equal(b, b2);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM messages"), before + 1);
}

static void test_close_waits_for_handed_over(void **state)
{
    struct fx *f = *state;
    char sid[SESS_STANZA_ID_LEN + 1];
    add(f, "handed over", sid);
    assert_true(writer_submit(f->w) > 0);
    add(f, "still forming", sid); /* never handed over: dropped */
    writer_close(f->w);
    f->w = NULL;
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM messages WHERE body = "
                               "'handed over'"),
                     1);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM messages WHERE body = "
                               "'still forming'"),
                     0);
}

static void test_prepare_refuses_like_add_message(void **state)
{
    struct fx *f = *state;
    struct sess_pending p;
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "mallory@localhost", NULL, "hi",
                                              NULL, &p),
                     SESS_ERR_FORBIDDEN);
    assert_null(p.body);
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, "", NULL,
                                              &p),
                     SESS_ERR_INVALID);
    /* a prepared message needs a hold of the sessions it is stored by */
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, "x",
                                              NULL, &p),
                     SESS_OK);
    assert_int_equal(sessions_store_pending(f->s, &p), SESS_ERR_STORE);
    sess_pending_clear(&p);
}

/* carol's message body with origin-id origin, prepared into *p. */
static void prepare(struct fx *f, const char *body, const char *origin,
                    struct sess_pending *p)
{
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, body,
                                              origin, p),
                     SESS_OK);
}

/* A resend (same origin-id, same sender) is recognised while its first
 * copy forms, while it is in flight (the writer's pending origin-ids) and
 * once committed (the database); a lost first copy is forgotten. */
static void test_origin_id_in_flight(void **state)
{
    struct fx *f = *state;
    struct sess_pending p, q;
    char first[SESS_STANZA_ID_LEN + 1], err[256];
    uint64_t b = 0;
    prepare(f, "hello", "o-1", &p);
    assert_false(p.duplicate);
    assert_string_equal(p.origin_id, "o-1");
    assert_int_equal(writer_pending_origin(f->w, &p), 0);
    strcpy(first, p.stanza_id);
    assert_int_equal(writer_add(f->w, &p), 0);
    prepare(f, "hello", "o-1", &q); /* the forming batch */
    assert_false(q.duplicate);      /* the database cannot know yet */
    assert_int_equal(writer_pending_origin(f->w, &q), 1);
    sess_pending_clear(&q);
    prepare(f, "other", "o-2", &q);
    assert_int_equal(writer_pending_origin(f->w, &q), 0);
    sess_pending_clear(&q);
    uint64_t b1 = writer_submit(f->w);
    prepare(f, "hello", "o-1", &q); /* in flight */
    assert_int_equal(writer_pending_origin(f->w, &q), 1);
    sess_pending_clear(&q);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 1);
    assert_int_equal(b, b1);
    prepare(f, "hello", "o-1", &q); /* committed */
    assert_true(q.duplicate);
    assert_null(q.body);
    assert_string_equal(q.stanza_id, first);
    assert_int_equal(writer_pending_origin(f->w, &q), 0);
    /* the unique index is the last guard: a second copy fails its batch */
    prepare(f, "hello", "o-1", &q);
    q.duplicate = false;
    q.body = strdup("hello");
    strcpy(q.origin_id, "o-1");
    strcpy(q.stanza_id, "00000000feedf00d");
    assert_int_equal(writer_add(f->w, &q), 0);
    writer_submit(f->w);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), -1);
    /* a lost first copy: neither pending nor stored, so a resend is new */
    prepare(f, "lost", "o-3", &p);
    assert_int_equal(writer_add(f->w, &p), 0);
    struct sess_pending bad = {.session_id = 999999, .at = 1};
    strcpy(bad.from, "carol@localhost");
    strcpy(bad.stanza_id, "00000000deadbeef");
    bad.body = strdup("orphan");
    assert_int_equal(writer_add(f->w, &bad), 0);
    writer_submit(f->w);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), -1);
    prepare(f, "lost", "o-3", &q);
    assert_false(q.duplicate);
    assert_int_equal(writer_pending_origin(f->w, &q), 0);
    sess_pending_clear(&q);
    assert_int_equal(scalar(f, "SELECT COUNT(*) FROM messages WHERE "
                               "origin_id IS NOT NULL"),
                     1);
}

/* A session's last_activity is its last chat message's time, however
 * many of its messages (and of other sessions') one transaction holds. */
static void test_last_activity_per_batch(void **state)
{
    struct fx *f = *state;
    struct sess_pending p;
    char sid[SESS_STANZA_ID_LEN + 1], err[256];
    int64_t other = 0, t = 0;
    uint64_t b = 0;
    struct ticket_draft d = {0, 0, "second"};
    assert_int_equal(ticket_create(f->ts, &d, &t), TICKET_OK);
    assert_int_equal(sessions_create_waiting(f->s, "dave@localhost", 0, t,
                                             "hi", &other),
                     SESS_OK);
    clock_set(1000000);
    add(f, "one", sid);
    clock_set(1000300);
    assert_int_equal(sessions_prepare_message(f->s, other, "dave@localhost",
                                              NULL, "other", NULL, &p),
                     SESS_OK);
    assert_int_equal(writer_add(f->w, &p), 0);
    clock_set(1000200);
    add(f, "two", sid); /* the last of its session, if not the latest */
    writer_submit(f->w);
    assert_int_equal(writer_settle(f->w, 1, &b, err, sizeof err), 1);
    clock_reset();
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT last_activity FROM sessions WHERE id = %lld",
             (long long)f->session);
    assert_int_equal(scalar(f, sql), 1000200);
    snprintf(sql, sizeof sql,
             "SELECT last_activity FROM sessions WHERE id = %lld",
             (long long)other);
    assert_int_equal(scalar(f, sql), 1000300);
}

/* The checks the loop keeps between one sender's messages (sqlite:
 * sessions.c's seen) never outlive a change: a tech may write once he
 * joined, and nobody once the session ended, whoever wrote before. */
static void test_prepare_follows_transitions(void **state)
{
    struct fx *f = *state;
    struct sess_pending p;
    struct sess_result r;
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "tom@localhost", NULL, "hi",
                                              NULL, &p),
                     SESS_ERR_FORBIDDEN);
    for (int i = 0; i < 2; i++) { /* read, then kept */
        prepare(f, "hello", NULL, &p);
        assert_string_equal(p.nick, "carol");
        sess_pending_clear(&p);
    }
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "Carol@localhost/phone", "C",
                                              "x", NULL, &p),
                     SESS_OK);
    assert_string_equal(p.nick, "C");
    sess_pending_clear(&p);
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, "",
                                              NULL, &p),
                     SESS_ERR_INVALID);
    assert_int_equal(sessions_tech_join(f->s, f->session, "tom@localhost",
                                        &r),
                     SESS_OK);
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "tom@localhost", NULL, "hi",
                                              NULL, &p),
                     SESS_OK);
    sess_pending_clear(&p);
    assert_int_equal(sessions_end_by_tech(f->s, f->session, "tom@localhost",
                                          NULL, &r),
                     SESS_OK);
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "carol@localhost", NULL, "late",
                                              NULL, &p),
                     SESS_ERR_STATE);
    assert_int_equal(sessions_prepare_message(f->s, f->session,
                                              "tom@localhost", NULL, "late",
                                              NULL, &p),
                     SESS_ERR_STATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_stored_in_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_keeps_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_waits_for_handed_over,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_prepare_refuses_like_add_message,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin_id_in_flight, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepare_follows_transitions,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_activity_per_batch, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
