/* test_history.c - the tech tools' queries on ":memory:" with a pinned
 * clock: time and FTS parsing, the history search (every filter, full text,
 * paging, order), the session lists with company names, archive access and
 * archive pages (RSM forwards, backwards, index, filters, counts), and the
 * batch indexing of messages_fts: the catch-up before a text search,
 * batches, failure and transactions, the triggers for hand edits (both
 * engines), a message committed below the mark (PostgreSQL), and
 * migration 5 over a database indexed by migration 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/clock.h"
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "domain/settings.h"
#include "runtime/store.h"
#include "domain/tickets.h"
#include "testdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1767225600 /* 2026-01-01T00:00:00Z */
#define DAY 86400
#define TESS "tess@localhost"

static struct config cfg;
static struct store *st;
static struct domain *dom;
static struct history *hist;
static char target[1400]; /* the store's (PostgreSQL: a second connection) */

/* ---- fixture ---------------------------------------------------------- */

static void add_company(const char *name)
{
    struct company co = {0};
    snprintf(co.name, sizeof co.name, "%s", name);
    assert_int_equal(directory_company_create(dom->dir, &co, NULL), DIR_OK);
}

static void add_contact(const char *jid, const char *company)
{
    struct company co;
    struct contact c = {0};
    assert_int_equal(directory_company_find(dom->dir, company, &co), DIR_OK);
    c.company_id = co.id;
    snprintf(c.jid, sizeof c.jid, "%s", jid);
    assert_int_equal(directory_contact_create(dom->dir, &c, NULL), DIR_OK);
}

static void add_tech(const char *jid, const char *name)
{
    struct tech t = {0};
    snprintf(t.jid, sizeof t.jid, "%s", jid);
    snprintf(t.name, sizeof t.name, "%s", name);
    assert_int_equal(directory_tech_create(dom->dir, &t, NULL), DIR_OK);
}

static int setup(void **state)
{
    char err[256];
    (void)state;
    config_defaults(&cfg);
    snprintf(cfg.admins[0], sizeof cfg.admins[0], "boss@localhost");
    cfg.n_admins = 1;
    snprintf(target, sizeof target, "%s", testdb_target(":memory:"));
    st = store_open(target, err, sizeof err);
    assert_non_null(st);
    dom = domain_open(st, &cfg, err, sizeof err);
    assert_non_null(dom);
    hist = history_open(st, dom, err, sizeof err);
    assert_non_null(hist);
    add_company("Acme");
    add_company("Globex");
    add_contact("alice@localhost", "Acme");
    add_contact("carol@localhost", "Acme");
    add_contact("bob@localhost", "Globex");
    add_tech(TESS, "Tess");
    add_tech("tom@localhost", "Tom");
    clock_set(T0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    history_close(hist);
    domain_close(dom);
    store_close(st);
    clock_reset();
    return 0;
}

/* ---- making sessions ---------------------------------------------------- */

enum kind { K_WAITING, K_ACTIVE, K_ENDED, K_ABANDONED, K_CALLBACK, K_CLOSED };

/* A session of contact created at `at`, taken to kind. lines: "c:text"
 * from the contact, "t:text" from Tess (only once she joined), NULL-ended
 * (lines may be NULL). */
static int64_t mk(const char *contact, time_t at, enum kind k,
                  const char *const *lines)
{
    struct contact c;
    struct settings set;
    struct sess_result r;
    struct sess_stored out;
    int64_t ticket = 0, id = 0;
    bool tech = k == K_ACTIVE || k == K_ENDED;
    clock_set(at);
    assert_int_equal(directory_contact_find(dom->dir, contact, &c), DIR_OK);
    struct ticket_draft d = {0, c.id, "Printer trouble"};
    assert_int_equal(ticket_create(dom->tickets, &d, &ticket), TICKET_OK);
    assert_int_equal(sessions_create_waiting(dom->sessions, contact, 0, ticket,
                                             "Printer trouble", &id),
                     SESS_OK);
    if (tech)
        assert_int_equal(sessions_tech_join(dom->sessions, id, TESS, &r),
                         SESS_OK);
    for (size_t i = 0; lines && lines[i]; i++) {
        bool mine = lines[i][0] == 't';
        if (mine && !tech)
            continue;
        assert_int_equal(
            sessions_add_message(dom->sessions, id, mine ? TESS : contact, NULL,
                                 lines[i] + 2, SESS_MSG_CHAT, &out),
            SESS_OK);
    }
    settings_defaults_apply(&set, NULL);
    if (k == K_ENDED)
        assert_int_equal(
            sessions_end_by_tech(dom->sessions, id, TESS, "Fixed it", &r),
            SESS_OK);
    if (k == K_ABANDONED || k == K_CLOSED)
        assert_int_equal(sessions_contact_gone(dom->sessions, id, &r), SESS_OK);
    if (k == K_CLOSED)
        assert_int_equal(
            sessions_end_by_tech(dom->sessions, id, TESS, "Called back", &r),
            SESS_OK);
    if (k == K_CALLBACK) {
        clock_set(at + 61);
        assert_int_equal(sessions_callback(dom->sessions, id, contact,
                                           "+1 555 0100", "after lunch", &set,
                                           at + 61, false, &r),
                         SESS_OK);
    }
    return id;
}

static struct hist_rows search(const struct hist_filter *f)
{
    struct hist_rows rows = {NULL, 0};
    struct hist_filter g = *f;
    if (!g.limit)
        g.limit = 100;
    if (history_search(hist, &g, &rows) != HIST_OK)
        fail_msg("search: %s", history_error(hist));
    return rows;
}

/* The ids of a search, as "3,2,1". */
static const char *ids(const struct hist_filter *f)
{
    static char buf[1024];
    struct hist_rows rows = search(f);
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < rows.n; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%lld", i ? "," : "",
                              (long long)rows.items[i].s.id);
    hist_rows_free(&rows);
    return buf;
}

/* ---- parsing ---------------------------------------------------------- */

static void test_parse_time(void **state)
{
    time_t t;
    (void)state;
    assert_int_equal(history_parse_time("2026-01-01", false, &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(history_parse_time(" 2026-01-01 ", true, &t), 0);
    assert_int_equal(t, T0 + DAY - 1);
    assert_int_equal(history_parse_time("2026-01-01T10:30:00Z", true, &t), 0);
    assert_int_equal(t, T0 + 10 * 3600 + 1800);
    assert_int_equal(history_parse_time("2026-01-01T10:30", false, &t), 0);
    assert_int_equal(t, T0 + 10 * 3600 + 1800);
    assert_int_equal(history_parse_time("2026-01-01 10:30:05.123Z", 0, &t), 0);
    assert_int_equal(t, T0 + 10 * 3600 + 1805);
    assert_int_equal(history_parse_time("2026-01-01T10:30:00+02:00", 0, &t), 0);
    assert_int_equal(t, T0 + 8 * 3600 + 1800);
    assert_int_equal(history_parse_time("2025-12-31T23:00:00-01:00", 0, &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(history_parse_time("2024-02-29", false, &t), 0);
    static const char *const bad[] = {
        "",
        "yesterday",
        "2026-02-29",
        "2026-13-01",
        "2026-1-01",
        "2026-01-01T25:00",
        "2026-01-01x",
        "2026-01-01T10:30Zx",
        "2026-01-01T10:30+0200",
        "1969-12-31",
        "2026-01-01T10",
        "2026-01-01T10:30:00.",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (history_parse_time(bad[i], false, &t) == 0)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(history_parse_time(NULL, false, &t), -1);
}

static void test_fts_query(void **state)
{
    char out[HIST_FTS_MAX], big[HIST_TEXT_MAX + 2];
    (void)state;
    assert_int_equal(history_fts_query("printer  fire", out, sizeof out), 2);
    assert_string_equal(out, "\"printer\" \"fire\"");
    assert_int_equal(history_fts_query("print* say\"hi", out, sizeof out), 2);
    assert_string_equal(out, "\"print\"* \"say\"\"hi\"");
    assert_int_equal(history_fts_query("OR NOT NEAR(", out, sizeof out), 3);
    assert_string_equal(out, "\"OR\" \"NOT\" \"NEAR(\"");
    assert_int_equal(history_fts_query("!!! ??", out, sizeof out), 0);
    assert_int_equal(history_fts_query("* café", out, sizeof out), 1);
    assert_string_equal(out, "\"café\"");
    assert_int_equal(history_fts_query("", out, sizeof out), 0);
    assert_int_equal(
        history_fts_query("a b c d e f g h i j k l m n o p q", out, sizeof out),
        -1);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(history_fts_query(big, out, sizeof out), -1);
    assert_int_equal(history_fts_query("printer", out, 8), -1);
}

/* ---- search ----------------------------------------------------------------
 */

static void test_search_past_only_newest_first(void **state)
{
    (void)state;
    int64_t a = mk("alice@localhost", T0, K_ENDED, NULL);
    int64_t b = mk("bob@localhost", T0 + 10, K_ABANDONED, NULL);
    mk("alice@localhost", T0 + 20, K_WAITING, NULL);
    mk("carol@localhost", T0 + 30, K_ACTIVE, NULL);
    int64_t c = mk("carol@localhost", T0 + 40, K_CALLBACK, NULL);
    int64_t d = mk("bob@localhost", T0 + 50, K_CLOSED, NULL);
    char want[64];
    snprintf(want, sizeof want, "%lld,%lld,%lld,%lld", (long long)d,
             (long long)c, (long long)b, (long long)a);
    struct hist_filter f = {0};
    assert_string_equal(ids(&f), want);

    struct hist_rows rows = search(&f);
    assert_int_equal(rows.n, 4);
    assert_string_equal(rows.items[0].company, "Globex");
    assert_string_equal(rows.items[1].company, "Acme");
    assert_string_equal(rows.items[1].s.callback_phone, "+1 555 0100");
    assert_string_equal(hist_row_note(&rows.items[1]), "after lunch");
    assert_string_equal(hist_row_note(&rows.items[0]), "Called back");
    assert_string_equal(hist_row_note(&rows.items[2]), "");
    hist_rows_free(&rows);
}

static void test_search_filters(void **state)
{
    (void)state;
    struct company acme;
    int64_t a = mk("alice@localhost", T0, K_ENDED, NULL);
    int64_t b = mk("bob@localhost", T0 + DAY, K_ENDED, NULL);
    int64_t c = mk("carol@localhost", T0 + 2 * DAY, K_ENDED, NULL);
    int64_t d = mk("alice@localhost", T0 + 3 * DAY - 1, K_ABANDONED, NULL);
    char want[64];
    assert_int_equal(directory_company_find(dom->dir, "acme", &acme), DIR_OK);

    struct hist_filter f = {.company_id = acme.id};
    snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)d, (long long)c,
             (long long)a);
    assert_string_equal(ids(&f), want);

    f = (struct hist_filter){.contact = "Alice@LOCALHOST/portal"};
    snprintf(want, sizeof want, "%lld,%lld", (long long)d, (long long)a);
    assert_string_equal(ids(&f), want);

    f = (struct hist_filter){.has_since = true, .since = T0 + DAY};
    snprintf(want, sizeof want, "%lld,%lld,%lld", (long long)d, (long long)c,
             (long long)b);
    assert_string_equal(ids(&f), want);

    f = (struct hist_filter){.has_until = true, .until = T0 + DAY};
    snprintf(want, sizeof want, "%lld,%lld", (long long)b, (long long)a);
    assert_string_equal(ids(&f), want);

    f = (struct hist_filter){.company_id = acme.id,
                             .has_since = true,
                             .since = T0 + 1,
                             .has_until = true,
                             .until = T0 + 3 * DAY - 1};
    snprintf(want, sizeof want, "%lld,%lld", (long long)d, (long long)c);
    assert_string_equal(ids(&f), want);

    f = (struct hist_filter){.contact = "nobody@localhost"};
    assert_string_equal(ids(&f), "");
    f = (struct hist_filter){.contact = "not a jid", .limit = 5};
    struct hist_rows rows;
    assert_int_equal(history_search(hist, &f, &rows), HIST_ERR_INVALID);
    f = (struct hist_filter){.limit = HIST_PAGE_MAX + 1};
    assert_int_equal(history_search(hist, &f, &rows), HIST_ERR_INVALID);
}

static void test_search_text(void **state)
{
    (void)state;
    static const char *const l1[] = {"c:My PRINTER is on fire",
                                     "t:Unplug the printer please", NULL};
    static const char *const l2[] = {"c:The café machine is broken",
                                     "t:Which machine?", NULL};
    static const char *const l3[] = {"c:printers everywhere, no fire", NULL};
    int64_t a = mk("alice@localhost", T0, K_ENDED, l1);
    int64_t b = mk("bob@localhost", T0 + 10, K_ENDED, l2);
    int64_t c = mk("carol@localhost", T0 + 20, K_ABANDONED, l3);
    mk("alice@localhost", T0 + 30, K_ACTIVE, l1); /* live: never listed */
    char want[64];
    struct hist_filter f = {.text = "printer"};
    snprintf(want, sizeof want, "%lld", (long long)a);
    assert_string_equal(ids(&f), want);
    f.text = "print*";
    snprintf(want, sizeof want, "%lld,%lld", (long long)c, (long long)a);
    assert_string_equal(ids(&f), want);
    f.text = "fire printer"; /* every word, anywhere in the session */
    snprintf(want, sizeof want, "%lld", (long long)a);
    assert_string_equal(ids(&f), want);
    f.text = "unplug fire"; /* words from two messages of one session */
    assert_string_equal(ids(&f), want);
    f.text = "CAFE";
    snprintf(want, sizeof want, "%lld", (long long)b);
    assert_string_equal(ids(&f), want);
    f.text = "left"; /* the system notice of an abandoned session */
    snprintf(want, sizeof want, "%lld", (long long)c);
    assert_string_equal(ids(&f), want);
    f.text = "OR"; /* an operator is just a word */
    assert_string_equal(ids(&f), "");
    f.text = "printer";
    f.contact = "carol@localhost";
    assert_string_equal(ids(&f), "");
    struct hist_rows rows;
    f = (struct hist_filter){.text = "?!", .limit = 5};
    assert_int_equal(history_search(hist, &f, &rows), HIST_ERR_INVALID);
    assert_non_null(strstr(history_error(hist), "no word"));
}

static void test_search_paging(void **state)
{
    (void)state;
    int64_t first = 0, last = 0;
    for (int i = 0; i < 120; i++) {
        last = mk(i % 2 ? "alice@localhost" : "bob@localhost", T0 + i * 60,
                  K_ENDED, NULL);
        if (!first)
            first = last;
    }
    struct hist_filter f = {.limit = 50};
    size_t seen = 0;
    int64_t prev = last + 1;
    for (size_t page = 0; page < 3; page++) {
        f.offset = page * 50;
        struct hist_rows rows = search(&f);
        assert_int_equal(rows.n, page < 2 ? 50 : 20);
        for (size_t i = 0; i < rows.n; i++) {
            assert_true(rows.items[i].s.id < prev); /* newest first, no dup */
            prev = rows.items[i].s.id;
            seen++;
        }
        hist_rows_free(&rows);
    }
    assert_int_equal(seen, 120);
    assert_int_equal(prev, first);
    f.offset = 120;
    assert_string_equal(ids(&f), "");
}

/* The two ways of answering a text filter (history_set_search_paths): the
 * sessions of each word's matches intersected, and the walk of the newest
 * sessions testing each for the words (with its floor, its fallback when
 * the window is short of a page, and words of both kinds in one filter)
 * give the same pages for every filter, text and page. Pairs of sessions
 * share their created time, so the order's tie-break (id) and a floor
 * inside a tie are covered. */
static void test_search_paths_agree(void **state)
{
    (void)state;
    static const char *const jids[] = {"alice@localhost", "bob@localhost",
                                       "carol@localhost"};
    static const char *const texts[] = {
        "common", "rare", "odd trio", "common rare", "trio", "rare odd",
        "odd common trio", "absent", "common absent", "comm*", "beta",
        "alpha beta", "alpha common"};
    static const size_t paths[][2] = {{1, 1000}, {1, 5}, {1, 1}, {4, 1000},
                                      {4, 7}};
    char line[3][80];
    struct company acme;
    assert_int_equal(directory_company_find(dom->dir, "acme", &acme), DIR_OK);
    for (int i = 0; i < 30; i++) {
        snprintf(line[0], sizeof line[0], "c:hello, a common word %s",
                 i % 2 ? "odd" : "even");
        snprintf(line[1], sizeof line[1], "c:%s", i % 10 == 3 ? "rare" : "x");
        snprintf(line[2], sizeof line[2], "t:%s", i % 3 ? "y" : "trio");
        const char *const lines[] = {line[0], line[1], line[2], NULL};
        mk(jids[i % 3], T0 + (i / 2) * 60, i % 7 == 6 ? K_ABANDONED : K_ENDED,
           lines);
    }
    /* session 32's messages lie on both sides of session 33's: the walk
     * must not take 33's "beta" for 32's */
    static const char *const first[] = {"c:alpha one", NULL};
    static const char *const other[] = {"c:beta common", NULL};
    struct sess_stored out;
    struct sess_result r;
    mk("alice@localhost", T0 + 3600, K_ACTIVE, NULL); /* live: never listed */
    int64_t a = mk("carol@localhost", T0 + 4000, K_ACTIVE, first);
    mk("bob@localhost", T0 + 4001, K_ENDED, other);
    assert_int_equal(sessions_add_message(dom->sessions, a, "carol@localhost",
                                          NULL, "alpha two", SESS_MSG_CHAT,
                                          &out),
                     SESS_OK);
    assert_int_equal(sessions_end_by_tech(dom->sessions, a, TESS, "ok", &r),
                     SESS_OK);
    struct hist_filter f = {.text = "beta"};
    history_set_search_paths(hist, 1, 1000);
    assert_string_equal(ids(&f), "33");
    /* sessions 3, 13, 23 (ids 1 up): the known answer of one filter */
    f.text = "rare";
    history_set_search_paths(hist, 0, 0);
    assert_string_equal(ids(&f), "24,14,4");
    f.text = "rare odd";
    history_set_search_paths(hist, 1, 1000);
    assert_string_equal(ids(&f), "24,14,4");
    const struct hist_filter filters[] = {
        {.limit = 4},
        {.limit = 7, .company_id = acme.id},
        {.limit = 3, .contact = "bob@localhost"},
        {.limit = 5, .has_since = true, .since = T0 + 5 * 60},
    };
    for (size_t k = 0; k < sizeof filters / sizeof *filters; k++)
        for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
            for (size_t off = 0; off < 34; off += filters[k].limit - 1) {
                char want[1024];
                f = filters[k];
                f.text = texts[t];
                f.offset = off;
                history_set_search_paths(hist, 0, 0); /* every word IN */
                snprintf(want, sizeof want, "%s", ids(&f));
                for (size_t p = 0; p < sizeof paths / sizeof *paths; p++) {
                    history_set_search_paths(hist, paths[p][0], paths[p][1]);
                    if (strcmp(ids(&f), want))
                        fail_msg("text \"%s\" filter %zu offset %zu paths "
                                 "%zu/%zu: %s, want %s",
                                 texts[t], k, off, paths[p][0], paths[p][1],
                                 ids(&f), want);
                }
            }
}

/* ---- lists and one session
 * --------------------------------------------------- */

static void test_views(void **state)
{
    (void)state;
    struct hist_rows rows;
    int64_t w = mk("alice@localhost", T0, K_WAITING, NULL);
    int64_t a = mk("bob@localhost", T0 + 10, K_ABANDONED, NULL);
    int64_t cb = mk("carol@localhost", T0 + 20, K_CALLBACK, NULL);
    int64_t act = mk("alice@localhost", T0 + 30, K_ACTIVE, NULL);
    int64_t end = mk("bob@localhost", T0 + 40, K_ENDED, NULL);
    assert_int_equal(history_view(hist, SESS_VIEW_WAITING, NULL, 0, &rows),
                     HIST_OK);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.items[0].s.id, w);
    assert_string_equal(rows.items[0].company, "Acme");
    hist_rows_free(&rows);
    assert_int_equal(history_view(hist, SESS_VIEW_ABANDONED, NULL, 0, &rows),
                     HIST_OK);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.items[0].s.id, a);
    assert_string_equal(rows.items[0].company, "Globex");
    hist_rows_free(&rows);
    assert_int_equal(history_view(hist, SESS_VIEW_CALLBACKS, NULL, 0, &rows),
                     HIST_OK);
    assert_int_equal(rows.n, 1);
    assert_int_equal(rows.items[0].s.id, cb);
    assert_string_equal(rows.items[0].s.callback_phone, "+1 555 0100");
    hist_rows_free(&rows);
    assert_int_equal(
        history_view(hist, SESS_VIEW_MINE, "Tess@localhost/x", 0, &rows),
        HIST_OK);
    assert_int_equal(rows.n, 1); /* open work: the ended one has left */
    assert_int_equal(rows.items[0].s.id, act);
    hist_rows_free(&rows);
    assert_int_equal(
        history_view(hist, SESS_VIEW_MINE, "tom@localhost", 0, &rows), HIST_OK);
    assert_int_equal(rows.n, 0);
    hist_rows_free(&rows);
    assert_int_equal(history_view(hist, SESS_VIEW_MINE, "", 0, &rows),
                     HIST_ERR_INVALID);

    struct hist_row r;
    assert_int_equal(history_session(hist, end, &r), HIST_OK);
    assert_string_equal(r.company, "Globex");
    assert_string_equal(r.s.closer_jid, TESS);
    hist_row_clear(&r);
    assert_int_equal(history_session(hist, 999, &r), HIST_ERR_NOT_FOUND);
}

/* ---- the archive
 * -------------------------------------------------------------- */

static void test_archive_access(void **state)
{
    (void)state;
    int64_t id = mk("alice@localhost", T0, K_ENDED, NULL), got = 0;
    char room[32];
    snprintf(room, sizeof room, "chat-%lld", (long long)id);
    assert_int_equal(
        history_archive_access(hist, room, "tess@localhost/a", &got), HIST_OK);
    assert_int_equal(got, id);
    assert_int_equal(history_archive_access(hist, room, "tom@localhost", &got),
                     HIST_OK); /* every tech */
    assert_int_equal(history_archive_access(hist, room, "boss@localhost", &got),
                     HIST_OK); /* a config admin */
    assert_int_equal(
        history_archive_access(hist, room, "ALICE@localhost/p", &got), HIST_OK);
    assert_int_equal(history_archive_access(hist, room, "bob@localhost", &got),
                     HIST_ERR_FORBIDDEN);
    assert_int_equal(history_archive_access(hist, room, "eve@evil", &got),
                     HIST_ERR_FORBIDDEN);
    assert_int_equal(history_archive_access(hist, room, "", &got),
                     HIST_ERR_FORBIDDEN);
    assert_int_equal(history_archive_access(hist, "chat-999", TESS, &got),
                     HIST_ERR_NOT_FOUND);
    assert_int_equal(history_archive_access(hist, "queue", TESS, &got),
                     HIST_ERR_NOT_FOUND);
}

/* A session with 12 chat messages m1..m12 (alternating alice, tess) one
 * minute apart from T0 + 60, then the end notice. */
static int64_t twelve(void)
{
    static const char *const lines[] = {
        "c:m1", "t:m2", "c:m3", "t:m4",  "c:m5",  "t:m6",
        "c:m7", "t:m8", "c:m9", "t:m10", "c:m11", "t:m12",
    };
    struct sess_result r;
    struct sess_stored out;
    int64_t id = mk("alice@localhost", T0, K_ACTIVE, NULL);
    for (int i = 0; i < 12; i++) {
        clock_set(T0 + 60 * (i + 1));
        assert_int_equal(
            sessions_add_message(dom->sessions, id,
                                 lines[i][0] == 't' ? TESS : "alice@localhost",
                                 NULL, lines[i] + 2, SESS_MSG_CHAT, &out),
            SESS_OK);
    }
    clock_set(T0 + 3600);
    assert_int_equal(sessions_end_by_tech(dom->sessions, id, TESS, NULL, &r),
                     SESS_OK);
    return id;
}

/* The bodies of a page as "m1 m2 ..." and the page freed. */
static const char *bodies(struct hist_archive_page *p)
{
    static char buf[512];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < p->items.n; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "",
                              p->items.items[i].kind == SESS_MSG_SYSTEM
                                  ? "*"
                                  : p->items.items[i].body);
    return buf;
}

static void page_of(int64_t id, const struct hist_archive_query *q,
                    struct hist_archive_page *p)
{
    if (history_archive_query(hist, id, q, p) != HIST_OK)
        fail_msg("archive: %s", history_error(hist));
}

static void test_archive_forward(void **state)
{
    (void)state;
    int64_t id = twelve();
    struct hist_archive_page p;
    struct hist_archive_query q = {.max = 5};
    char last[SESS_STANZA_ID_LEN + 1];
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m1 m2 m3 m4 m5");
    assert_int_equal(p.count, 13); /* 12 + the end notice */
    assert_int_equal(p.first_index, 0);
    assert_false(p.complete);
    snprintf(last, sizeof last, "%s", p.items.items[4].stanza_id);
    hist_page_free(&p);
    q.after = last;
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m6 m7 m8 m9 m10");
    assert_int_equal(p.first_index, 5);
    assert_false(p.complete);
    snprintf(last, sizeof last, "%s", p.items.items[4].stanza_id);
    hist_page_free(&p);
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m11 m12 *");
    assert_int_equal(p.first_index, 10);
    assert_true(p.complete);
    snprintf(last, sizeof last, "%s", p.items.items[2].stanza_id);
    hist_page_free(&p);
    page_of(id, &q, &p); /* after the very last: empty and complete */
    assert_int_equal(p.items.n, 0);
    assert_true(p.complete);
    hist_page_free(&p);
    q = (struct hist_archive_query){.max = 13};
    page_of(id, &q, &p); /* exactly everything */
    assert_int_equal(p.items.n, 13);
    assert_true(p.complete);
    hist_page_free(&p);
}

static void test_archive_backward_and_index(void **state)
{
    (void)state;
    int64_t id = twelve();
    struct hist_archive_page p;
    struct hist_archive_query q = {.max = 5, .before = ""};
    char first[SESS_STANZA_ID_LEN + 1];
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m9 m10 m11 m12 *");
    assert_int_equal(p.first_index, 8);
    assert_false(p.complete);
    snprintf(first, sizeof first, "%s", p.items.items[0].stanza_id);
    hist_page_free(&p);
    q.before = first;
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m4 m5 m6 m7 m8");
    assert_false(p.complete);
    snprintf(first, sizeof first, "%s", p.items.items[0].stanza_id);
    hist_page_free(&p);
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m1 m2 m3");
    assert_int_equal(p.first_index, 0);
    assert_true(p.complete);
    hist_page_free(&p);
    q = (struct hist_archive_query){.max = 5, .has_index = true, .index = 10};
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m11 m12 *");
    assert_int_equal(p.first_index, 10);
    assert_true(p.complete);
    hist_page_free(&p);
    q = (struct hist_archive_query){.max = 0};
    page_of(id, &q, &p);
    assert_int_equal(p.items.n, 0);
    assert_int_equal(p.count, 13);
    assert_false(p.complete);
    hist_page_free(&p);
}

static void test_archive_filters(void **state)
{
    (void)state;
    int64_t id = twelve();
    struct hist_archive_page p;
    struct hist_archive_query q = {
        .max = 50, .with = HIST_WITH_JID, .with_value = "alice@localhost"};
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m1 m3 m5 m7 m9 m11");
    assert_int_equal(p.count, 6);
    hist_page_free(&p);
    q.with = HIST_WITH_NICK;
    q.with_value = "Tess";
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m2 m4 m6 m8 m10 m12");
    hist_page_free(&p);
    q.with = HIST_WITH_ROOM;
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "*");
    hist_page_free(&p);
    q = (struct hist_archive_query){.max = 50,
                                    .has_start = true,
                                    .start = T0 + 180,
                                    .has_end = true,
                                    .end = T0 + 300};
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m3 m4 m5");
    assert_int_equal(p.count, 3);
    assert_true(p.complete);
    hist_page_free(&p);
    q.max = 2; /* paging inside the filter: index counts matches only */
    q.before = "";
    page_of(id, &q, &p);
    assert_string_equal(bodies(&p), "m4 m5");
    assert_int_equal(p.first_index, 1);
    hist_page_free(&p);
}

static void test_archive_errors(void **state)
{
    (void)state;
    int64_t id = twelve(), other = twelve();
    struct hist_archive_page p, o;
    struct hist_archive_query q = {.max = 1};
    page_of(other, &q, &o);
    q.after = "0000000000000000";
    assert_int_equal(history_archive_query(hist, id, &q, &p),
                     HIST_ERR_NOT_FOUND);
    q.after = o.items.items[0].stanza_id; /* an id of another room */
    assert_int_equal(history_archive_query(hist, id, &q, &p),
                     HIST_ERR_NOT_FOUND);
    q.before = "";
    assert_int_equal(history_archive_query(hist, id, &q, &p), HIST_ERR_INVALID);
    q = (struct hist_archive_query){.max = 1, .has_index = true, .before = ""};
    assert_int_equal(history_archive_query(hist, id, &q, &p), HIST_ERR_INVALID);
    q = (struct hist_archive_query){.max = HIST_PAGE_MAX + 1};
    assert_int_equal(history_archive_query(hist, id, &q, &p), HIST_ERR_INVALID);
    hist_page_free(&o);
}

/* ---- batch indexing of messages_fts (schema migration 5) ----------------
 */

static int64_t scalar(struct db *db, const char *sql)
{
    struct db_stmt *s;
    if (db_prepare(db, sql, &s) != DB_OK)
        fail_msg("%s: %s", sql, db_errmsg(db));
    assert_int_equal(db_step(s), DB_ROW);
    int64_t v = db_column_int64(s, 0);
    db_finalize(s);
    return v;
}

static void exec_ok(struct db *db, const char *sql)
{
    char *msg = NULL;
    if (db_exec(db, sql, &msg) != DB_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t mark_of(struct db *db)
{
    return scalar(db, "SELECT last_indexed FROM fts_state");
}

static int64_t pending_of(struct db *db)
{
    return scalar(db, "SELECT count(*) FROM messages WHERE id > "
                      "(SELECT last_indexed FROM fts_state)");
}

/* The rowids matching an FTS5 expression, as "1,2". */
static const char *fts_rowids(struct db *db, const char *match)
{
    static char buf[256];
    struct db_stmt *s;
    assert_int_equal(
        db_prepare(db,
                   testdb_is_pg()
                       ? "SELECT string_agg(rowid::text, ',' ORDER BY rowid) "
                         "FROM messages_fts WHERE body @@ "
                         "to_tsquery('simple', ?1)"
                       : "SELECT group_concat(rowid) FROM "
                         "(SELECT rowid FROM messages_fts "
                         "WHERE messages_fts MATCH ?1 ORDER BY rowid)",
                   &s),
        DB_OK);
    db_bind_text(s, 1, match, -1, DB_STATIC);
    assert_int_equal(db_step(s), DB_ROW);
    const unsigned char *t = db_column_text(s, 0);
    snprintf(buf, sizeof buf, "%s", t ? (const char *)t : "");
    db_finalize(s);
    return buf;
}

/* The index is internally consistent (FTS5 'integrity-check'). */
static void fts_intact(struct db *db)
{
    if (testdb_is_pg()) /* a row a message: the primary key sees to it */
        return;
    exec_ok(db, "INSERT INTO messages_fts(messages_fts) "
                "VALUES ('integrity-check')");
}

/* How many indexed messages match word. */
static int64_t fts_count(struct db *db, const char *word)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             testdb_is_pg() ? "SELECT count(*) FROM messages_fts WHERE body "
                              "@@ to_tsquery('simple', '%s')"
                            : "SELECT count(*) FROM messages_fts WHERE "
                              "messages_fts MATCH '%s'",
             word);
    return scalar(db, sql);
}

/* Intact, and it holds exactly the rows of messages with their current
 * bodies: none missing, none indexed twice ('integrity-check' with rank 1
 * compares with the external content; the plain one does not notice a row
 * indexed twice on sqlite 3.40). Only true with nothing pending. */
static void fts_consistent(struct db *db)
{
    if (testdb_is_pg()) {
        /* every message, with its body's vector (migration 16's trigger
         * indexes it when stored, pending or not), and nothing else */
        assert_int_equal(
            scalar(db, "SELECT count(*) FROM messages m FULL JOIN "
                       "messages_fts f ON f.rowid = m.id "
                       "WHERE m.id IS NULL OR f.rowid IS NULL OR "
                       "f.body <> to_tsvector('simple', "
                       "chatdesk_fold(m.body))"),
            0);
        return;
    }
    fts_intact(db);
    exec_ok(db, "INSERT INTO messages_fts(messages_fts, rank) "
                "VALUES ('integrity-check', 1)");
}

static void test_search_finds_message_stored_after_catch_up(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    static const char *const l1[] = {"c:My printer is on fire", NULL};
    static const char *const l2[] = {"c:A zebra ate the toner", NULL};
    char want[32];
    int64_t a = mk("alice@localhost", T0, K_ENDED, l1);
    snprintf(want, sizeof want, "%lld", (long long)a);
    struct hist_filter f = {.text = "printer"};
    assert_string_equal(ids(&f), want); /* catches up */
    assert_int_equal(pending_of(db), 0);
    int64_t b = mk("bob@localhost", T0 + 10, K_ENDED, l2);
    /* stored after the last catch-up: on sqlite no trigger indexed it; on
     * PostgreSQL migration 16's did, in the message's transaction */
    assert_true(pending_of(db) > 0);
    if (!testdb_is_pg())
        assert_string_equal(fts_rowids(db, "zebra"), "");
    else
        assert_int_equal(fts_count(db, "zebra"), 1);
    f.text = "zebra";
    snprintf(want, sizeof want, "%lld", (long long)b);
    assert_string_equal(ids(&f), want);
    assert_int_equal(pending_of(db), 0);
    fts_consistent(db);
    /* a search without text neither needs nor does the catch-up */
    mk("carol@localhost", T0 + 20, K_ENDED, l2);
    f.text = NULL;
    assert_int_equal(strlen(ids(&f)) > 0, 1);
    assert_true(pending_of(db) > 0);
}

static void test_index_pending_batches(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    static const char *const l[] = {"c:one",  "c:two",  "c:three",
                                    "c:four", "c:five", NULL};
    size_t n = 99;
    assert_int_equal(history_index_pending(hist, 3, &n), HIST_OK);
    assert_int_equal(n, 0); /* nothing stored yet */
    mk("alice@localhost", T0, K_ENDED, l);
    mk("bob@localhost", T0 + 10, K_ENDED, l);
    int64_t pending = pending_of(db), left = pending;
    assert_true(pending >= 10);
    while (left > 0) {
        int64_t before = mark_of(db);
        int64_t want_mark =
            scalar(db, left >= 3 ? "SELECT id FROM messages WHERE id > (SELECT "
                                   "last_indexed FROM fts_state) ORDER BY id "
                                   "LIMIT 1 OFFSET 2"
                                 : "SELECT max(id) FROM messages");
        assert_int_equal(history_index_pending(hist, 3, &n), HIST_OK);
        assert_int_equal(n, left >= 3 ? 3 : left);
        assert_true(mark_of(db) > before);
        assert_int_equal(mark_of(db), want_mark);
        left -= (int64_t)n;
        assert_int_equal(pending_of(db), left);
    }
    assert_int_equal(history_index_pending(hist, 3, &n), HIST_OK);
    assert_int_equal(n, 0);
    assert_int_equal(mark_of(db), scalar(db, "SELECT max(id) FROM messages"));
    fts_consistent(db);
    assert_int_equal(fts_count(db, "three"), 2);
    /* max_rows 0: everything pending in one go; indexed may be NULL */
    mk("carol@localhost", T0 + 20, K_ENDED, l);
    pending = pending_of(db);
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_OK);
    assert_int_equal(n, pending);
    mk("carol@localhost", T0 + 30, K_ENDED, l);
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    assert_int_equal(pending_of(db), 0);
    fts_consistent(db);
    assert_int_equal(fts_count(db, "three"), 4);
}

/* Every update of fts_state fails with "boom", and back. */
#define BOOM_ON                                                                \
    (testdb_is_pg() ? "ALTER TABLE fts_state ADD CONSTRAINT boom "             \
                      "CHECK (false) NOT VALID"                                \
                    : "CREATE TEMP TRIGGER fts_state_boom BEFORE UPDATE ON "   \
                      "main.fts_state BEGIN SELECT RAISE(ABORT, 'boom'); END;")
#define BOOM_OFF                                                               \
    (testdb_is_pg() ? "ALTER TABLE fts_state DROP CONSTRAINT boom"             \
                    : "DROP TRIGGER fts_state_boom")

/* A failing catch-up fails the text search, rolls back whatever it had
 * indexed (so a later catch-up does not index it twice) and leaves no
 * transaction open. */
static void test_index_failure_fails_search(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    static const char *const l[] = {"c:A zebra ate the toner", NULL};
    struct hist_rows rows;
    int64_t id = mk("alice@localhost", T0, K_ENDED, l);
    int64_t mark = mark_of(db);
    exec_ok(db, BOOM_ON);
    struct hist_filter f = {.text = "zebra", .limit = 10};
    assert_int_equal(history_search(hist, &f, &rows), HIST_ERR_STORE);
    assert_non_null(strstr(history_error(hist), "search index"));
    assert_non_null(strstr(history_error(hist), "boom"));
    assert_int_not_equal(db_get_autocommit(db), 0);
    assert_int_equal(mark_of(db), mark);
    if (!testdb_is_pg()) /* rolled back (PostgreSQL: the trigger's row) */
        assert_string_equal(fts_rowids(db, "zebra"), "");
    size_t n = 99;
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_ERR_STORE);
    assert_int_equal(n, 0);
    f.text = NULL; /* no text: no catch-up, works */
    assert_int_equal(history_search(hist, &f, &rows), HIST_OK);
    hist_rows_free(&rows);
    exec_ok(db, BOOM_OFF);
    f.text = "zebra";
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)id);
    assert_string_equal(ids(&f), want);
    fts_consistent(db);
}

/* Inside a caller's transaction the work joins it: it commits or rolls
 * back with it, and a failure leaves the caller's transaction open. */
static void test_index_pending_inside_transaction(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    int64_t sid = mk("alice@localhost", T0, K_ENDED, NULL);
    char sql[512];
    size_t n = 0;
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    int64_t mark = mark_of(db);
    snprintf(sql, sizeof sql,
             "INSERT INTO messages (stanza_id, session_id, from_jid, nick, "
             "body, created, kind) VALUES ('w1', %lld, 'alice@localhost', "
             "'Alice', 'walrus', 1, 'chat')",
             (long long)sid);
    exec_ok(db, "BEGIN");
    exec_ok(db, sql);
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_OK);
    assert_int_equal(n, 1);
    assert_int_equal(db_get_autocommit(db), 0); /* still the caller's */
    assert_int_equal(mark_of(db), mark + 1);
    assert_int_equal(fts_count(db, "walrus"), 1); /* visible inside it */
    exec_ok(db, "ROLLBACK");
    assert_int_equal(mark_of(db), mark);
    assert_string_equal(fts_rowids(db, "walrus"), "");
    fts_consistent(db);

    exec_ok(db, "BEGIN");
    exec_ok(db, sql);
    exec_ok(db, BOOM_ON);
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_ERR_STORE);
    assert_int_equal(db_get_autocommit(db), 0); /* not ended for us */
    exec_ok(db, BOOM_OFF);
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_OK);
    assert_int_equal(n, 1);
    exec_ok(db, "COMMIT");
    char want[32];
    snprintf(want, sizeof want, "%lld",
             (long long)scalar(db, "SELECT id FROM messages WHERE "
                                   "stanza_id = 'w1'"));
    assert_string_equal(fts_rowids(db, "walrus"), want);
    fts_consistent(db);
}

/* The delete and update triggers touch only indexed rows, and lowering the
 * mark after the highest rows go keeps a reused id indexable. */
static void test_fts_triggers_respect_mark(void **state)
{
    (void)state;
    if (testdb_is_pg()) /* sqlite's FTS5 triggers; PostgreSQL cascades */
        skip();
    struct db *db = store_db(st);
    static const char *const l1[] = {"c:old ferret", "c:old badger", NULL};
    static const char *const l2[] = {"c:new ferret", "c:new badger", NULL};
    mk("alice@localhost", T0, K_ENDED, l1);
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    mk("bob@localhost", T0 + 10, K_ENDED, l2); /* pending */
    assert_true(pending_of(db) > 0);
    /* indexed rows: the index follows; pending rows: it is not touched */
    exec_ok(db, "UPDATE messages SET body = 'old ocelot' "
                "WHERE body = 'old ferret'");
    exec_ok(db, "DELETE FROM messages WHERE body = 'old badger'");
    exec_ok(db, "UPDATE messages SET body = 'new lynx' "
                "WHERE body = 'new ferret'");
    exec_ok(db, "DELETE FROM messages WHERE body = 'new badger'");
    fts_intact(db); /* rows are pending: only the plain check holds */
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    fts_consistent(db);
    assert_string_equal(fts_rowids(db, "ferret"), "");
    assert_string_equal(fts_rowids(db, "badger"), "");
    assert_int_equal(
        scalar(db, "SELECT count(*) FROM messages_fts WHERE messages_fts "
                   "MATCH 'ocelot OR lynx'"),
        2);
    /* all indexed; the highest rows go: the mark comes down with them */
    int64_t top = scalar(db, "SELECT max(id) FROM messages");
    exec_ok(db, "DELETE FROM messages WHERE id >= (SELECT max(id) - 1 "
                "FROM messages)");
    assert_int_equal(mark_of(db), top - 2);
    static const char *const l3[] = {"c:reused marmot", NULL};
    mk("carol@localhost", T0 + 20, K_ENDED, l3); /* ids top - 1 ... again */
    assert_true(pending_of(db) > 0);
    struct hist_filter f = {.text = "marmot"};
    assert_int_equal(strlen(ids(&f)) > 0, 1);
    fts_consistent(db);
}

/* A message edited by hand (SQL on the database: chatdesk itself never
 * changes a stored message) is found by its new words and no longer by
 * its old ones, whether it was indexed already or still pending; a new id
 * takes its index row along; a deleted one is gone from the index. Both
 * engines (PostgreSQL: migration 16's trigger). */
static void test_hand_edits_reindexed(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    static const char *const l1[] = {"c:old ferret", "c:old badger", NULL};
    static const char *const l2[] = {"c:new ferret", "c:new badger", NULL};
    char a[32], b[32], ab[64];
    int64_t sa = mk("alice@localhost", T0, K_ENDED, l1);
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    int64_t sb = mk("bob@localhost", T0 + 10, K_ENDED, l2); /* pending */
    snprintf(a, sizeof a, "%lld", (long long)sa);
    snprintf(b, sizeof b, "%lld", (long long)sb);
    snprintf(ab, sizeof ab, "%s,%s", b, a);
    exec_ok(db, "UPDATE messages SET body = 'old ocelot' "
                "WHERE body = 'old ferret'");
    exec_ok(db, "UPDATE messages SET body = 'new lynx' "
                "WHERE body = 'new ferret'");
    struct hist_filter f = {.text = "ocelot"};
    assert_string_equal(ids(&f), a);
    f.text = "lynx";
    assert_string_equal(ids(&f), b);
    f.text = "ferret";
    assert_string_equal(ids(&f), "");
    fts_consistent(db);
    /* edited again, after indexing; then a new id (above every other) */
    exec_ok(db, "UPDATE messages SET body = 'old okapi' "
                "WHERE body = 'old ocelot'");
    f.text = "okapi";
    assert_string_equal(ids(&f), a);
    f.text = "ocelot";
    assert_string_equal(ids(&f), "");
    exec_ok(db, "UPDATE messages SET id = id + 1000 WHERE body = 'old okapi'");
    f.text = "okapi";
    assert_string_equal(ids(&f), a);
    f.text = "badger";
    assert_string_equal(ids(&f), ab);
    exec_ok(db, "DELETE FROM messages WHERE body = 'old badger'");
    assert_string_equal(ids(&f), b);
    fts_consistent(db);
}

/* PostgreSQL: ids commit out of order. A message whose transaction drew
 * a lower id and committed after a later one was indexed and the mark
 * passed it is still found (before migration 16 it never was). */
static void test_message_committed_below_the_mark(void **state)
{
    (void)state;
    if (!testdb_is_pg()) /* sqlite: one writer, ids commit in order */
        skip();
    char err[256], sql[512], want[32];
    static const char *const l[] = {"c:punctual penguin", NULL};
    int64_t sa = mk("alice@localhost", T0, K_ENDED, NULL);
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    struct db *other = db_open(target, err, sizeof err);
    assert_non_null(other);
    snprintf(sql, sizeof sql,
             "INSERT INTO messages (stanza_id, session_id, from_jid, "
             "nick, body, created, kind) VALUES ('late1', %lld, "
             "'alice@localhost', 'Alice', 'straggling walrus', %lld, "
             "'chat')",
             (long long)sa, (long long)T0 + 5);
    exec_ok(other, "BEGIN");
    exec_ok(other, sql);
    int64_t sb = mk("bob@localhost", T0 + 10, K_ENDED, l); /* committed */
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    exec_ok(other, "COMMIT");
    db_close(other);
    struct db *db = store_db(st);
    assert_true(mark_of(db) >
                scalar(db, "SELECT id FROM messages WHERE stanza_id = "
                           "'late1'"));
    struct hist_filter f = {.text = "walrus"};
    snprintf(want, sizeof want, "%lld", (long long)sa);
    assert_string_equal(ids(&f), want);
    f.text = "penguin";
    snprintf(want, sizeof want, "%lld", (long long)sb);
    assert_string_equal(ids(&f), want);
    fts_consistent(db);
}

/* PostgreSQL: messages stored with the trigger off (a bulk load with
 * session_replication_role = replica, say) have no index row; the batch
 * indexing above the mark writes theirs, once. */
static void test_message_without_row_indexed(void **state)
{
    (void)state;
    if (!testdb_is_pg()) /* sqlite: every message is pending until then */
        skip();
    struct db *db = store_db(st);
    static const char *const l[] = {"c:loaded lemur", "c:loaded lemur", NULL};
    exec_ok(db, "ALTER TABLE messages DISABLE TRIGGER messages_fts_row");
    int64_t sid = mk("alice@localhost", T0, K_ENDED, l);
    exec_ok(db, "ALTER TABLE messages ENABLE TRIGGER messages_fts_row");
    assert_int_equal(fts_count(db, "lemur"), 0);
    size_t n = 0;
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_OK);
    assert_true(n >= 2);
    assert_int_equal(fts_count(db, "lemur"), 2);
    fts_consistent(db);
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)sid);
    struct hist_filter f = {.text = "lemur"};
    assert_string_equal(ids(&f), want);
}

/* Retention: old messages of finished sessions go in batches, the oldest
 * first; a live session keeps its own; the ticket's transcript stays; the
 * search index follows. */
static void test_retention_purge(void **state)
{
    (void)state;
    struct db *db = store_db(st);
    size_t n = 0;
    static const char *const old[] = {"c:ancient wombat", "t:ancient quokka",
                                      "c:ancient numbat", NULL};
    static const char *const recent[] = {"c:recent wombat", NULL};
    mk("alice@localhost", T0, K_ENDED, old);
    int64_t live = mk("carol@localhost", T0 + 1, K_ACTIVE, old);
    mk("bob@localhost", T0 + 40 * 86400, K_ENDED, recent);
    assert_int_equal(history_index_pending(hist, 0, NULL), HIST_OK);
    int64_t before = scalar(db, "SELECT count(*) FROM messages");
    int64_t notes = scalar(db, "SELECT count(*) FROM ticket_notes");
    clock_set(T0 + 41 * 86400);
    time_t cutoff = clock_now() - 30 * 86400;
    assert_int_equal(sessions_purge(dom->sessions, cutoff, 2, &n), SESS_OK);
    assert_int_equal(n, 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages"), before - 2);
    fts_consistent(db);
    while (n)
        assert_int_equal(sessions_purge(dom->sessions, cutoff, 2, &n),
                         SESS_OK);
    /* alice's ended session: its 3 messages and the end notice are gone */
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages"), before - 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages m JOIN "
                                "sessions s ON s.id = m.session_id WHERE "
                                "s.contact_jid = 'alice@localhost'"),
                     0);
    char sql[128];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM messages WHERE session_id = %lld",
             (long long)live);
    assert_true(scalar(db, sql) >= 2); /* live: untouched */
    assert_int_equal(scalar(db, "SELECT count(*) FROM ticket_notes"), notes);
    fts_consistent(db);
    struct hist_filter f = {.text = "numbat"};
    assert_string_equal(ids(&f), ""); /* only the live one's, not past */
    f.text = "recent";
    assert_true(strlen(ids(&f)) > 0);
}

/* A new database file at path, at schema version 4: message 1 stored at
 * version 3 (indexed by migration 4's 'rebuild'), message 2 at version 4
 * (indexed by its trigger). */
static void v4_database(char *path)
{
    char err[256];
    struct db *db;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_non_null(db = db_open(path, err, sizeof err));
    assert_int_equal(store_migrate(db, chatdesk_migrations, 3, err, sizeof err),
                     0);
    exec_ok(db, "INSERT INTO tickets (summary, created) VALUES ('x', 1);"
                "INSERT INTO sessions (ticket_id, contact_jid, state, "
                "created, last_activity) VALUES (1, 'a@b', 'ended', 1, 1);"
                "INSERT INTO messages (stanza_id, session_id, from_jid, "
                "nick, body, created, kind) VALUES ('s1', 1, 'a@b', 'A', "
                "'kerberos ticket expired', 1, 'chat');");
    assert_int_equal(store_migrate(db, chatdesk_migrations, 4, err, sizeof err),
                     0);
    exec_ok(db, "INSERT INTO messages (stanza_id, session_id, from_jid, "
                "nick, body, created, kind) VALUES ('s2', 1, 'a@b', 'A', "
                "'Kerberos again', 2, 'chat');");
    assert_string_equal(fts_rowids(db, "kerberos"), "1,2");
    db_close(db);
}

/* The database of v4_database() opened by this chatdesk (migration 5): the
 * messages migration 4 indexed are not indexed again, later ones are. */
static void test_fts_migration_5_keeps_old_index(void **state)
{
    if (testdb_is_pg()) /* an sqlite file of schema version 4 */
        skip();
    char err[256], path[] = "/tmp/chatdesk-history-XXXXXX";
    size_t n = 0;
    (void)state;
    v4_database(path);
    config_defaults(&cfg);
    st = store_open(path, err, sizeof err);
    assert_non_null(st);
    assert_true(store_schema_version(st) >= 5);
    struct db *db = store_db(st);
    assert_int_equal(mark_of(db), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_master WHERE "
                                "type = 'trigger' AND sql LIKE "
                                "'%AFTER INSERT ON messages%'"),
                     0);
    fts_consistent(db);
    exec_ok(db, "INSERT INTO messages (stanza_id, session_id, from_jid, "
                "nick, body, created, kind) VALUES ('s3', 1, 'a@b', 'A', "
                "'kerberos three', 3, 'chat');");
    assert_string_equal(fts_rowids(db, "kerberos"), "1,2");
    dom = domain_open(st, &cfg, err, sizeof err);
    assert_non_null(dom);
    hist = history_open(st, dom, err, sizeof err);
    assert_non_null(hist);
    assert_int_equal(history_index_pending(hist, 0, &n), HIST_OK);
    assert_int_equal(n, 1); /* s3 only */
    assert_string_equal(fts_rowids(db, "kerberos"), "1,2,3");
    assert_int_equal(scalar(db, "SELECT count(*) FROM messages_fts WHERE "
                                "messages_fts MATCH 'kerberos'"),
                     3);
    fts_consistent(db);
    struct hist_filter f = {.text = "kerberos"};
    assert_string_equal(ids(&f), "1");
    teardown(NULL);
    testdb_unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_fts_query),
        cmocka_unit_test_setup_teardown(test_search_past_only_newest_first,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_paths_agree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_backward_and_index, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_archive_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_search_finds_message_stored_after_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_pending_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_index_failure_fails_search, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_index_pending_inside_transaction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fts_triggers_respect_mark, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hand_edits_reindexed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_message_committed_below_the_mark,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_without_row_indexed,
                                        setup, teardown),
        cmocka_unit_test(test_fts_migration_5_keeps_old_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
