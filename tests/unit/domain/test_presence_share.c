/* test_presence_share.c - presence shared through the database by several
 * processes (domain/presence_share.h): two handles with different sources
 * on one store stand for two processes, each with its own tracker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testdb.h"
#include "domain/presence.h"
#include "domain/presence_share.h"
#include "runtime/store.h"

#include <stdio.h>
#include <string.h>

#define T0 1767225600 /* 2026-01-01 00:00 UTC */

struct proc {
    struct pshare *ps;
    struct presence_tracker *tr;
};

struct fixture {
    struct store *st;
    struct proc a, b;
};

static int open_proc(struct fixture *fx, struct proc *p, const char *src)
{
    char err[256];
    p->ps = pshare_open(fx->st, src, err, sizeof err);
    p->tr = presence_new();
    if (!p->ps || !p->tr) {
        print_error("setup: %s\n", err);
        return -1;
    }
    return 0;
}

static int setup(void **state)
{
    static struct fixture fx;
    char err[256];
    memset(&fx, 0, sizeof fx);
    fx.st = store_open(testdb_target(":memory:"), err, sizeof err);
    if (!fx.st) {
        print_error("setup: %s\n", err);
        return -1;
    }
    if (open_proc(&fx, &fx.a, "host-a:1:100") ||
        open_proc(&fx, &fx.b, "host-b:2:100"))
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    pshare_close(fx->a.ps);
    pshare_close(fx->b.ps);
    presence_free(fx->a.tr);
    presence_free(fx->b.tr);
    store_close(fx->st);
    return 0;
}

/* What a merge reported, the last change of each call. */
struct seen {
    int calls;
    char jid[128];
    bool is_tech;
    struct presence_change ch;
};

static void on_change(const char *jid, bool is_tech,
                      const struct presence_change *ch, void *ud)
{
    struct seen *s = ud;
    s->calls++;
    snprintf(s->jid, sizeof s->jid, "%s", jid);
    s->is_tech = is_tech;
    s->ch = *ch;
}

/* A process records what it received: its own tracker and the table. */
static void receive(struct proc *p, const char *full, bool available,
                    enum presence_show show, bool is_tech, time_t now)
{
    assert_int_equal(presence_update(p->tr, full, available, show, is_tech,
                                     NULL),
                     0);
    assert_int_equal(pshare_put(p->ps, full, available, show, is_tech, now),
                     0);
}

static void test_other_process_sees_a_tech_online(void **state)
{
    struct fixture *fx = *state;
    struct seen s = {0};
    receive(&fx->a, "Tom@Example.com/phone#queue", true, PRESENCE_SHOW_NONE,
            true, T0);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_OFFLINE);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.jid, "tom@example.com");
    assert_true(s.is_tech);
    assert_true(s.ch.changed);
    assert_int_equal(s.ch.after, CD_ONLINE);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_ONLINE);
    /* nothing new: nothing merged; a process never merges its own rows */
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 0);
    assert_int_equal(pshare_merge(fx->a.ps, fx->a.tr, on_change, &s), 0);
    assert_int_equal(s.calls, 1);
}

static void test_show_and_unavailable_follow(void **state)
{
    struct fixture *fx = *state;
    struct seen s = {0};
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_DND, true,
            T0 + 1);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.ch.before, CD_ONLINE);
    assert_int_equal(s.ch.after, CD_BUSY);
    receive(&fx->a, "tom@example.com/phone", false, PRESENCE_SHOW_NONE, true,
            T0 + 2);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.ch.after, CD_OFFLINE);
    assert_int_equal(presence_count(fx->b.tr), 0);
}

/* B's own resource and A's row of the same JID add up; each process's
 * rows are its own (a contact is Away in one, Online in the other). */
static void test_views_of_two_processes_add_up(void **state)
{
    struct fixture *fx = *state;
    receive(&fx->b, "ann@example.com/laptop", true, PRESENCE_SHOW_AWAY, false,
            T0);
    receive(&fx->a, "ann@example.com/laptop", true, PRESENCE_SHOW_NONE, false,
            T0);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    pshare_merge(fx->a.ps, fx->a.tr, NULL, NULL);
    assert_int_equal(presence_of(fx->b.tr, "ann@example.com", false),
                     CD_ONLINE);
    assert_int_equal(presence_of(fx->a.tr, "ann@example.com", false),
                     CD_ONLINE);
    receive(&fx->a, "ann@example.com/laptop", false, PRESENCE_SHOW_NONE,
            false, T0 + 1);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    assert_int_equal(presence_of(fx->b.tr, "ann@example.com", false),
                     CD_AWAY);
}

/* A lost its stream: its rows go; after a clear a merge reads all again. */
static void test_drop_own_and_rewind(void **state)
{
    struct fixture *fx = *state;
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    receive(&fx->a, "tina@example.com/pc", true, PRESENCE_SHOW_NONE, true,
            T0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 2);
    presence_clear(fx->b.tr);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 0);
    pshare_rewind(fx->b.ps);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 2);
    assert_int_equal(presence_of(fx->b.tr, "tina@example.com", true),
                     CD_ONLINE);
    assert_int_equal(pshare_drop_own(fx->a.ps, T0 + 1), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 2);
    assert_int_equal(presence_count(fx->b.tr), 0);
}

/* A dies: its rows count until it has been silent PSHARE_STALE_SECONDS,
 * then B's beat declares it gone and the rows drop out of B's view. */
static void test_rows_of_a_dead_process_expire(void **state)
{
    struct fixture *fx = *state;
    struct seen s = {0};
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    /* A beats no more; B beats on */
    for (time_t t = T0; t < T0 + PSHARE_STALE_SECONDS; t++)
        assert_int_equal(pshare_beat(fx->b.ps, t, PSHARE_STALE_SECONDS), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 0);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_ONLINE);
    for (time_t t = T0 + PSHARE_STALE_SECONDS;
         t <= T0 + PSHARE_STALE_SECONDS + PSHARE_BEAT_SECONDS; t++)
        assert_int_equal(pshare_beat(fx->b.ps, t, PSHARE_STALE_SECONDS), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.ch.after, CD_OFFLINE);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_OFFLINE);
    /* A was only stalled: its next beat brings its rows back */
    time_t later = T0 + PSHARE_STALE_SECONDS + 2 * PSHARE_BEAT_SECONDS;
    assert_int_equal(pshare_beat(fx->a.ps, later, PSHARE_STALE_SECONDS), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.ch.after, CD_ONLINE);
}

/* A fresh process (a new source) reads every row of the others. */
static void test_new_process_reads_everything(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    receive(&fx->b, "ann@example.com/laptop", true, PRESENCE_SHOW_NONE, false,
            T0);
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_AWAY, true,
            T0 + 1);
    struct pshare *c = pshare_open(fx->st, "host-c:3:200", err, sizeof err);
    struct presence_tracker *tr = presence_new();
    assert_non_null(c);
    assert_int_equal(pshare_merge(c, tr, NULL, NULL), 2);
    assert_int_equal(presence_of(tr, "tom@example.com", true), CD_AWAY);
    assert_int_equal(presence_of(tr, "ann@example.com", false), CD_ONLINE);
    pshare_close(c);
    presence_free(tr);
}

static void test_bad_input(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    assert_int_equal(pshare_put(fx->a.ps, "@/x", true, PRESENCE_SHOW_NONE,
                                true, T0),
                     -1);
    assert_null(pshare_open(fx->st, "a/b", err, sizeof err));
    assert_null(pshare_open(fx->st, "", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_other_process_sees_a_tech_online,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_show_and_unavailable_follow,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_of_two_processes_add_up,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_own_and_rewind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rows_of_a_dead_process_expire,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_process_reads_everything,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
