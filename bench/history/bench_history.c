/* bench_history.c - time the tech tools' queries (history.h) over a large
 * session store. Not a test: scripts/bench_history builds and runs it.
 *
 *   bench_history DB [SESSIONS [MESSAGES [RUNS]]]
 *
 * Opens DB (creating it and running the migrations when needed) and, when
 * it holds fewer than SESSIONS sessions (default 100000), generates the
 * rest: 200 companies, 5000 contacts, 20 techs, one ticket a session,
 * MESSAGES chat messages a session (default 8) over two years, states
 * mostly ended (also closed, abandoned, callback, a few live). Message
 * words come from a Zipf-like vocabulary, plus marker words at known
 * rates: "printer" in 5% of sessions, "toner" in 2%, "kerberos" in 0.1%.
 * Generation is deterministic (fixed seed).
 *
 * Then every query runs RUNS times (default 7) and one line a query gives
 * the rows returned, the median and the slowest run in milliseconds, as a
 * Markdown table for docs/tech-tools.md.
 */
#include "runtime/config.h"
#include "domain/directory.h"
#include "domain/domain.h"
#include "domain/history.h"
#include "domain/sessions.h"
#include "runtime/db.h"
#include "runtime/store.h"

#include <sqlite3.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_COMPANIES 200
#define BENCH_CONTACTS 5000
#define BENCH_TECHS 20
#define BENCH_VOCAB 4000
#define BENCH_SPAN (2 * 365 * 86400L) /* sessions spread over two years */
#define BENCH_END 1767225600L         /* 2026-01-01T00:00:00Z */
#define BENCH_MARKERS 3               /* printer, toner, kerberos */

static uint64_t bench__seed = 88172645463325252ULL;

static uint64_t bench__rand(void)
{
    bench__seed ^= bench__seed << 13;
    bench__seed ^= bench__seed >> 7;
    bench__seed ^= bench__seed << 17;
    return bench__seed;
}

static double bench__ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void bench__exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_history: %s: %s\n", sql, msg);
        exit(1);
    }
}

static sqlite3_stmt *bench__prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_history: %s: %s\n", sql, sqlite3_errmsg(db));
        exit(1);
    }
    return st;
}

static void bench__step(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE) {
        fprintf(stderr, "bench_history: insert: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_reset(st);
}

static int64_t bench__count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = bench__prepare(db, sql);
    int64_t n =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

/* ---- generating -------------------------------------------------------- */

/* Pronounceable pseudo-words: word i of the vocabulary into buf. */
static void bench__word(size_t i, char *buf, size_t len)
{
    static const char *const syl[] = {"ka",  "lo",  "mi", "ne", "ro",  "ta",
                                      "vu",  "si",  "de", "po", "gra", "ble",
                                      "ton", "mar", "ex", "in"};
    size_t n = 0;
    i += 17;
    do {
        n += (size_t)snprintf(buf + n, len - n, "%s", syl[i % 16]);
        i /= 16;
    } while (i && n + 4 < len);
}

/* A message body: 5..14 words, Zipf-like (small indexes are frequent). */
static void bench__body(char *buf, size_t len, const char *marker)
{
    size_t n = 0, words = 5 + bench__rand() % 10;
    for (size_t w = 0; w < words; w++) {
        double u = (double)(bench__rand() % 1000000) / 1e6;
        size_t i = (size_t)(u * u * u * BENCH_VOCAB);
        char word[32];
        bench__word(i, word, sizeof word);
        n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", word);
    }
    if (marker)
        snprintf(buf + n, len - n, " %s", marker);
}

static void bench__directory(sqlite3 *db)
{
    char sql[256];
    if (bench__count(db, "SELECT count(*) FROM companies") > 0)
        return;
    for (int i = 1; i <= BENCH_COMPANIES; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO companies (id, name) VALUES (%d, 'Company %d')",
                 i, i);
        bench__exec(db, sql);
    }
    for (int i = 1; i <= BENCH_CONTACTS; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO contacts (id, company_id, jid, name) VALUES "
                 "(%d, %d, 'contact%d@example.com', 'Contact %d')",
                 i, 1 + i % BENCH_COMPANIES, i, i);
        bench__exec(db, sql);
    }
    for (int i = 1; i <= BENCH_TECHS; i++) {
        snprintf(sql, sizeof sql,
                 "INSERT INTO techs (jid, name) VALUES "
                 "('tech%d@example.com', 'Tech %d')",
                 i, i);
        bench__exec(db, sql);
    }
}

static const char *bench__state(void)
{
    unsigned r = (unsigned)(bench__rand() % 1000);
    return r < 850   ? "ended"
           : r < 920 ? "closed"
           : r < 970 ? "abandoned"
           : r < 990 ? "callback"
           : r < 995 ? "waiting"
                     : "active";
}

struct bench__gen {
    sqlite3 *db;
    sqlite3_stmt *ticket, *session, *member, *message;
    int messages;
};

/* One session (id) with its ticket, tech member and messages. */
static void bench__session(struct bench__gen *g, int64_t id, long total)
{
    char jid[64], tech[64], body[512], sid[32];
    int contact = 1 + (int)(bench__rand() % BENCH_CONTACTS);
    int company = 1 + contact % BENCH_COMPANIES;
    time_t created = BENCH_END - BENCH_SPAN + (time_t)(id * BENCH_SPAN / total);
    const char *state = bench__state();
    bool live = !strcmp(state, "waiting") || !strcmp(state, "active");
    /* independent markers, each in its own message */
    const char *marker[BENCH_MARKERS] = {
        bench__rand() % 20 == 0 ? "printer" : NULL,
        bench__rand() % 50 == 0 ? "toner" : NULL,
        bench__rand() % 1000 == 0 ? "kerberos" : NULL,
    };
    snprintf(jid, sizeof jid, "contact%d@example.com", contact);
    snprintf(tech, sizeof tech, "tech%d@example.com",
             1 + (int)(bench__rand() % BENCH_TECHS));
    sqlite3_bind_int64(g->ticket, 1, id);
    sqlite3_bind_int(g->ticket, 2, company);
    sqlite3_bind_int(g->ticket, 3, contact);
    sqlite3_bind_int64(g->ticket, 4, (sqlite3_int64)created);
    bench__step(g->db, g->ticket);
    sqlite3_bind_int64(g->session, 1, id);
    sqlite3_bind_int(g->session, 2, company);
    sqlite3_bind_text(g->session, 3, jid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(g->session, 4, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(g->session, 5, (sqlite3_int64)created);
    sqlite3_bind_text(g->session, 6, tech, -1, SQLITE_TRANSIENT);
    if (!live)
        sqlite3_bind_int64(g->session, 7, (sqlite3_int64)created + 900);
    bench__step(g->db, g->session);
    sqlite3_clear_bindings(g->session);
    sqlite3_bind_int64(g->member, 1, id);
    sqlite3_bind_text(g->member, 2, tech, -1, SQLITE_TRANSIENT);
    bench__step(g->db, g->member);
    for (int m = 0; m < g->messages; m++) {
        bench__body(body, sizeof body,
                    m % 2 && m / 2 < BENCH_MARKERS ? marker[m / 2] : NULL);
        snprintf(sid, sizeof sid, "%016" PRIx64, bench__rand());
        sqlite3_bind_text(g->message, 1, sid, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(g->message, 2, id);
        sqlite3_bind_text(g->message, 3, m % 2 ? tech : jid, -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(g->message, 4, body, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(g->message, 5, (sqlite3_int64)created + 60 * m);
        bench__step(g->db, g->message);
    }
}

static void bench__generate(sqlite3 *db, long total, int messages)
{
    struct bench__gen g = {db, NULL, NULL, NULL, NULL, messages};
    int64_t have = bench__count(db, "SELECT count(*) FROM sessions");
    if (have >= total)
        return;
    double t0 = bench__ms();
    fprintf(stderr, "generating %ld sessions x %d messages...\n",
            total - (long)have, messages);
    bench__exec(db, "BEGIN");
    bench__directory(db);
    g.ticket = bench__prepare(db, "INSERT INTO tickets (id, company_id, "
                                  "contact_id, summary, created) VALUES "
                                  "(?1, ?2, ?3, 'Printer trouble', ?4)");
    g.session = bench__prepare(
        db, "INSERT INTO sessions (id, ticket_id, company_id, contact_jid, "
            "state, description, created, answered_at, answered_by, "
            "ended_at, closer_jid, last_activity) VALUES (?1, ?1, ?2, ?3, "
            "?4, 'Printer trouble', ?5, ?5 + 30, ?6, ?7, "
            "CASE WHEN ?7 IS NULL THEN NULL ELSE ?6 END, ?5)");
    g.member = bench__prepare(db, "INSERT INTO session_members (session_id, "
                                  "jid, kind, nick, joined_at) VALUES "
                                  "(?1, ?2, 'tech', 'Tech', 0)");
    g.message = bench__prepare(
        db, "INSERT INTO messages (stanza_id, session_id, from_jid, nick, "
            "body, created, kind) VALUES (?1, ?2, ?3, 'Someone', ?4, ?5, "
            "'chat')");
    for (int64_t id = have + 1; id <= total; id++)
        bench__session(&g, id, total);
    sqlite3_finalize(g.ticket);
    sqlite3_finalize(g.session);
    sqlite3_finalize(g.member);
    sqlite3_finalize(g.message);
    bench__exec(db, "COMMIT");
    bench__exec(db, "ANALYZE");
    fprintf(stderr, "generated in %.1f s\n", (bench__ms() - t0) / 1e3);
}

/* ---- timing ------------------------------------------------------------- */

static int bench__cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench__report(const char *what, size_t rows, double *t, int runs)
{
    qsort(t, (size_t)runs, sizeof *t, bench__cmp);
    printf("| %-44s | %5zu | %8.2f | %8.2f |\n", what, rows, t[runs / 2],
           t[runs - 1]);
}

/* One history search, RUNS times. */
static void bench__search(struct history *h, const char *what,
                          struct hist_filter f, int runs)
{
    double t[64];
    size_t rows = 0;
    for (int r = 0; r < runs; r++) {
        struct hist_rows out = {NULL, 0};
        double t0 = bench__ms();
        if (history_search(h, &f, &out) != HIST_OK) {
            fprintf(stderr, "%s: %s\n", what, history_error(h));
            exit(1);
        }
        t[r] = bench__ms() - t0;
        rows = out.n;
        hist_rows_free(&out);
    }
    bench__report(what, rows, t, runs);
}

static void bench__view(struct history *h, const char *what,
                        enum sess_view view, const char *tech, int runs)
{
    double t[64];
    size_t rows = 0;
    for (int r = 0; r < runs; r++) {
        struct hist_rows out = {NULL, 0};
        double t0 = bench__ms();
        if (history_view(h, view, tech, 201, &out) != HIST_OK) {
            fprintf(stderr, "%s: %s\n", what, history_error(h));
            exit(1);
        }
        t[r] = bench__ms() - t0;
        rows = out.n;
        hist_rows_free(&out);
    }
    bench__report(what, rows, t, runs);
}

static void bench__archive(struct history *h, const char *what, int64_t id,
                           struct hist_archive_query q, int runs)
{
    double t[64];
    size_t rows = 0;
    for (int r = 0; r < runs; r++) {
        struct hist_archive_page p;
        double t0 = bench__ms();
        if (history_archive_query(h, id, &q, &p) != HIST_OK) {
            fprintf(stderr, "%s: %s\n", what, history_error(h));
            exit(1);
        }
        t[r] = bench__ms() - t0;
        rows = p.items.n;
        hist_page_free(&p);
    }
    bench__report(what, rows, t, runs);
}

/* ---- main --------------------------------------------------------------- */

static void bench__searches(struct history *h, int runs)
{
    const time_t month = BENCH_END - 30 * 86400L;
    char common[32];
    bench__word(0, common, sizeof common); /* the most frequent word */
    const struct {
        const char *what;
        struct hist_filter f;
    } q[] = {
        {"no filter, page 1", {.limit = 51}},
        {"no filter, page 100", {.limit = 51, .offset = 4950}},
        {"company", {.company_id = 17, .limit = 51}},
        {"contact", {.contact = "contact4217@example.com", .limit = 51}},
        {"since/until (last 30 days)",
         {.has_since = true,
          .since = month,
          .has_until = true,
          .until = BENCH_END,
          .limit = 51}},
        {"company + last 30 days",
         {.company_id = 17, .has_since = true, .since = month, .limit = 51}},
        {"text: rare word (0.1% of sessions)",
         {.text = "kerberos", .limit = 51}},
        {"text: marker word (5% of sessions)",
         {.text = "printer", .limit = 51}},
        {"text: two words (5% and 2%)", {.text = "printer toner", .limit = 51}},
        {"text: prefix kerb*", {.text = "kerb*", .limit = 51}},
        {"text: most common word", {.text = common, .limit = 51}},
        {"text: common word, page 20",
         {.text = common, .limit = 51, .offset = 950}},
        {"text + company", {.text = "printer", .company_id = 17, .limit = 51}},
        {"text + contact",
         {.text = "printer",
          .contact = "contact4217@example.com",
          .limit = 51}},
        {"text + last 30 days",
         {.text = "printer", .has_since = true, .since = month, .limit = 51}},
    };
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        bench__search(h, q[i].what, q[i].f, runs);
}

int main(int argc, char **argv)
{
    char err[512];
    struct config cfg;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DB [SESSIONS [MESSAGES [RUNS]]]\n", argv[0]);
        return 2;
    }
    long total = argc > 2 ? atol(argv[2]) : 100000;
    int messages = argc > 3 ? atoi(argv[3]) : 8;
    int runs = argc > 4 ? atoi(argv[4]) : 7;
    runs = runs < 1 ? 1 : runs > 64 ? 64 : runs;
    struct store *st = store_open(argv[1], err, sizeof err);
    if (!st) {
        fprintf(stderr, "bench_history: %s\n", err);
        return 1;
    }
    bench__generate(db_sqlite_handle(store_db(st)), total, messages);
    config_defaults(&cfg);
    struct domain *d = domain_open(st, &cfg, err, sizeof err);
    struct history *h = d ? history_open(st, d, err, sizeof err) : NULL;
    if (!h) {
        fprintf(stderr, "bench_history: %s\n", err);
        return 1;
    }
    /* index what was generated, as chatdesk does when it stores messages */
    size_t indexed = 0;
    double t0 = bench__ms();
    if (history_index_pending(h, 0, &indexed) != HIST_OK) {
        fprintf(stderr, "bench_history: %s\n", history_error(h));
        return 1;
    }
    if (indexed)
        printf("indexed %zu messages for search in %.1f s\n\n", indexed,
               (bench__ms() - t0) / 1000.0);
    printf("%" PRId64 " sessions, %" PRId64 " messages; median and slowest "
           "of %d runs\n\n",
           bench__count(db_sqlite_handle(store_db(st)), "SELECT count(*) FROM sessions"),
           bench__count(db_sqlite_handle(store_db(st)), "SELECT count(*) FROM messages"), runs);
    printf("| %-44s | %5s | %8s | %8s |\n|%s|------:|---------:|---------:|\n",
           "query", "rows", "median", "max",
           "----------------------------------------------");
    bench__searches(h, runs);
    bench__view(h, "sessions view: waiting", SESS_VIEW_WAITING, NULL, runs);
    bench__view(h, "sessions view: abandoned (first 201)", SESS_VIEW_ABANDONED,
                NULL, runs);
    bench__view(h, "sessions view: callbacks (first 201)", SESS_VIEW_CALLBACKS,
                NULL, runs);
    bench__view(h, "sessions view: mine (first 201)", SESS_VIEW_MINE,
                "tech7@example.com", runs);
    bench__archive(h, "MAM: first page of a room (max 50)", total / 2,
                   (struct hist_archive_query){.max = 50}, runs);
    bench__archive(h, "MAM: last page of a room (before='')", total / 2,
                   (struct hist_archive_query){.max = 50, .before = ""}, runs);
    history_close(h);
    domain_close(d);
    store_close(st);
    return 0;
}
