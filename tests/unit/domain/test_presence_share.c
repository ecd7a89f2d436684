/* test_presence_share.c - presence shared through the database by several
 * processes (domain/presence_share.h): two handles with different sources
 * on one store stand for two processes, each with its own tracker, each
 * told the other is alive (what the cluster's leases say in chatdesk). */
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
#define A 1001           /* the processes' ids (their leases) */
#define B 1002
#define C 1003

struct proc {
    struct pshare *ps;
    struct presence_tracker *tr;
};

struct fixture {
    struct store *st;
    struct proc a, b;
};

static int open_proc(struct fixture *fx, struct proc *p, int64_t src)
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
    if (open_proc(&fx, &fx.a, A) || open_proc(&fx, &fx.b, B))
        return -1;
    const int64_t only_a[] = {A}, only_b[] = {B};
    pshare_peers(fx.a.ps, only_b, 1);
    pshare_peers(fx.b.ps, only_a, 1);
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

/* A dies: as soon as B is told (its cluster saw A's lease go), A's rows
 * leave B's view at the next merge; a process declared gone by mistake
 * comes back with its rows when it is seen alive again. */
static void test_rows_of_a_dead_process_leave_at_once(void **state)
{
    struct fixture *fx = *state;
    struct seen s = {0};
    const int64_t only_a[] = {A};
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_ONLINE);
    /* the same set again: nothing to read again */
    assert_int_equal(pshare_peers(fx->b.ps, only_a, 1), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 0);
    /* A gone */
    assert_int_equal(pshare_peers(fx->b.ps, NULL, 0), 1);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 1);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.jid, "tom@example.com");
    assert_true(s.ch.changed);
    assert_int_equal(s.ch.after, CD_OFFLINE);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_OFFLINE);
    /* its rows stay out while it is not alive, whatever it writes */
    receive(&fx->a, "tom@example.com/pc", true, PRESENCE_SHOW_NONE, true,
            T0 + 1);
    pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_OFFLINE);
    /* A was only stalled: seen alive again, its rows are back */
    assert_int_equal(pshare_peers(fx->b.ps, only_a, 1), 1);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, on_change, &s), 2);
    assert_int_equal(s.ch.after, CD_ONLINE);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_ONLINE);
}

/* A process not (yet) among the living: its rows do not count until the
 * cluster names it; the order of the set does not matter. */
static void test_rows_count_once_their_process_is_known(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    struct pshare *c = pshare_open(fx->st, C, err, sizeof err);
    assert_non_null(c);
    assert_int_equal(pshare_put(c, "tina@example.com/pc", true,
                                PRESENCE_SHOW_NONE, true, T0),
                     0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 1);
    assert_int_equal(presence_of(fx->b.tr, "tina@example.com", true),
                     CD_OFFLINE);
    const int64_t both[] = {C, A}, again[] = {A, C};
    assert_int_equal(pshare_peers(fx->b.ps, both, 2), 1);
    assert_int_equal(pshare_peers(fx->b.ps, again, 2), 0);
    assert_int_equal(pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL), 1);
    assert_int_equal(presence_of(fx->b.tr, "tina@example.com", true),
                     CD_ONLINE);
    pshare_close(c);
}

/* How many rows of processes other than B the table holds: what a fresh
 * read by B finds. */
static int rows_besides_b(struct fixture *fx)
{
    pshare_rewind(fx->b.ps);
    return pshare_merge(fx->b.ps, fx->b.tr, NULL, NULL);
}

/* The rows of a process not alive, and unavailable rows, are deleted once
 * unchanged for PSHARE_PRUNE_SECONDS; a living process's rows stay however
 * old; nothing is pruned before the living are known. */
static void test_prune(void **state)
{
    struct fixture *fx = *state;
    char err[256];
    time_t later = T0 + PSHARE_PRUNE_SECONDS + 1;
    struct pshare *c = pshare_open(fx->st, C, err, sizeof err);
    assert_non_null(c);
    receive(&fx->a, "tom@example.com/phone", true, PRESENCE_SHOW_NONE, true,
            T0);
    receive(&fx->a, "tina@example.com/pc", false, PRESENCE_SHOW_NONE, true,
            T0);
    assert_int_equal(pshare_put(c, "ann@example.com/x", true,
                                PRESENCE_SHOW_NONE, false, T0),
                     0);
    assert_int_equal(pshare_put(c, "bob@example.com/x", true,
                                PRESENCE_SHOW_NONE, false, later - 5),
                     0);
    assert_int_equal(rows_besides_b(fx), 4);
    /* C never known alive to a fresh process D: D prunes nothing yet */
    struct pshare *d = pshare_open(fx->st, 1004, err, sizeof err);
    assert_non_null(d);
    assert_int_equal(pshare_prune(d, later), 0);
    assert_int_equal(rows_besides_b(fx), 4);
    /* B knows A alive (not C); nothing old enough yet, and then at most
     * one prune a minute */
    assert_int_equal(pshare_prune(fx->b.ps, later - 30), 0);
    assert_int_equal(pshare_prune(fx->b.ps, later), 0);
    assert_int_equal(rows_besides_b(fx), 4);
    /* a minute on: tina's unavailable row and C's old row go; tom's (A's,
     * however old) and C's recent one stay */
    assert_int_equal(pshare_prune(fx->b.ps, later + 30), 0);
    assert_int_equal(rows_besides_b(fx), 2);
    assert_int_equal(presence_of(fx->b.tr, "tom@example.com", true),
                     CD_ONLINE);
    assert_int_equal(pshare_prune(fx->b.ps, later + 90 +
                                                PSHARE_PRUNE_SECONDS),
                     0);
    assert_int_equal(rows_besides_b(fx), 1);
    pshare_close(c);
    pshare_close(d);
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
    struct pshare *c = pshare_open(fx->st, C, err, sizeof err);
    struct presence_tracker *tr = presence_new();
    const int64_t living[] = {A, B};
    assert_non_null(c);
    pshare_peers(c, living, 2);
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
    assert_null(pshare_open(fx->st, 0, err, sizeof err));
    assert_null(pshare_open(fx->st, -5, err, sizeof err));
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
        cmocka_unit_test_setup_teardown(
            test_rows_of_a_dead_process_leave_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_rows_count_once_their_process_is_known, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_process_reads_everything,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
