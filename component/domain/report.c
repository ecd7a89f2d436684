/* report.c - see report.h */
#include "domain/report.h"

#include "runtime/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reports__sql[] = {
    "SELECT COALESCE(s.closer_jid, ''), COALESCE(t.name, ''), "
    "COALESCE(co.name, ''), s.answered_at - s.created, "
    "s.state = 'abandoned' OR (s.state = 'closed' AND s.answered_at IS NULL "
    "AND s.callback_phone IS NULL), s.callback_phone IS NOT NULL, r.score "
    "FROM sessions s LEFT JOIN techs t ON t.jid = s.closer_jid "
    "LEFT JOIN companies co ON co.id = s.company_id "
    "LEFT JOIN ratings r ON r.session_id = s.id "
    "WHERE s.created >= ?1 AND s.created < ?2 "
    "AND s.state NOT IN ('waiting', 'active')",
};

struct reports {
    struct db *db;
    struct db_stmt *stmt[1];
};

struct reports *reports_open(struct store *st, char *err, size_t errlen)
{
    struct reports *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "reports: out of memory");
        return NULL;
    }
    r->db = store_db(st);
    if (store_prepare_all(r->db, reports__sql, r->stmt, 1, "reports", err,
                          errlen) != 0) {
        reports_close(r);
        return NULL;
    }
    return r;
}

void reports_close(struct reports *r)
{
    if (!r)
        return;
    store_finalize_all(r->stmt, 1);
    free(r);
}

void report_free(struct report *rep)
{
    if (!rep)
        return;
    free(rep->rows);
    rep->rows = NULL;
    rep->n = 0;
}

/* One group while the rows are read: its row and its answer times. */
struct reports__group {
    struct report_row row;
    long *waits;
    size_t n_waits;
    long rating_sum;
};

struct reports__acc {
    struct reports__group *g;
    size_t n;
};

static struct reports__group *reports__find(struct reports__acc *a,
                                            enum report_by by, const char *key,
                                            const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->g[i].row.by == by && !strcmp(a->g[i].row.key, key))
            return &a->g[i];
    struct reports__group *grown = realloc(a->g, (a->n + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    a->g = grown;
    struct reports__group *g = &a->g[a->n++];
    memset(g, 0, sizeof *g);
    g->row.by = by;
    snprintf(g->row.key, sizeof g->row.key, "%s", key);
    snprintf(g->row.name, sizeof g->row.name, "%s", name);
    return g;
}

/* Count the current row of the statement into g. 0 or -1 (memory). */
static int reports__count(struct reports__group *g, struct db_stmt *st)
{
    g->row.sessions++;
    g->row.abandoned += db_column_int(st, 4);
    g->row.callbacks += db_column_int(st, 5);
    if (db_column_type(st, 6) != DB_NULL) {
        g->row.ratings++;
        g->rating_sum += db_column_int(st, 6);
    }
    if (db_column_type(st, 3) == DB_NULL)
        return 0;
    long *grown = realloc(g->waits, (g->n_waits + 1) * sizeof *grown);
    if (!grown)
        return -1;
    g->waits = grown;
    g->waits[g->n_waits++] = (long)db_column_int64(st, 3);
    return 0;
}

static int reports__cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int reports__cmp_row(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;
    if (x->by != y->by)
        return (int)x->by - (int)y->by;
    return strcmp(x->key, y->key);
}

/* The groups into out's rows, sorted; frees the groups. 0 or -1. */
static int reports__finish(struct reports__acc *a, struct report *out)
{
    out->rows = a->n ? calloc(a->n, sizeof *out->rows) : NULL;
    for (size_t i = 0; i < a->n; i++) {
        struct reports__group *g = &a->g[i];
        g->row.median_answer = -1;
        if (g->n_waits) {
            qsort(g->waits, g->n_waits, sizeof *g->waits, reports__cmp_long);
            size_t m = g->n_waits / 2;
            g->row.median_answer = g->n_waits % 2
                                       ? g->waits[m]
                                       : (g->waits[m - 1] + g->waits[m]) / 2;
        }
        if (g->row.ratings)
            g->row.avg_rating = (double)g->rating_sum / g->row.ratings;
        if (out->rows)
            out->rows[i] = g->row;
        free(g->waits);
    }
    out->n = out->rows ? a->n : 0;
    free(a->g);
    if (out->rows)
        qsort(out->rows, out->n, sizeof *out->rows, reports__cmp_row);
    return a->n && !out->rows ? -1 : 0;
}

int reports_build(struct reports *r, time_t since, time_t until,
                  struct report *out, char *err, size_t errlen)
{
    struct reports__acc a = {NULL, 0};
    struct db_stmt *st = r->stmt[0];
    int rc, failed = 0;
    memset(out, 0, sizeof *out);
    db_bind_int64(st, 1, (int64_t)since);
    db_bind_int64(st, 2, (int64_t)until);
    while (!failed && (rc = db_step(st)) == DB_ROW) {
        const char *tech = (const char *)db_column_text(st, 0);
        const char *tname = (const char *)db_column_text(st, 1);
        const char *company = (const char *)db_column_text(st, 2);
        struct reports__group *g = reports__find(&a, REPORT_TECH, tech, tname);
        failed = !g || reports__count(g, st) != 0;
        g = failed ? NULL : reports__find(&a, REPORT_COMPANY, company, company);
        failed = failed || !g || reports__count(g, st) != 0;
    }
    db_reset(st);
    if (!failed && rc != DB_DONE)
        snprintf(err, errlen, "cannot read the sessions: %s",
                 db_errmsg(r->db));
    else if (failed)
        snprintf(err, errlen, "out of memory");
    if (reports__finish(&a, out) != 0 && !failed) {
        snprintf(err, errlen, "out of memory");
        failed = 1;
    }
    if (failed || rc != DB_DONE) {
        report_free(out);
        return -1;
    }
    return 0;
}

int report_parse_day(const char *s, time_t *out)
{
    int y, m, d, n = 0;
    if (!s || strlen(s) != 10 ||
        sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    time_t t = timegm(&tm);
    struct tm back;
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != d)
        return -1; /* 2026-02-30 */
    *out = t;
    return 0;
}
