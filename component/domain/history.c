/* history.c - see history.h */
#include "domain/history.h"

#include "domain/domain.h"
#include "runtime/store.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- statements ------------------------------------------------------- */

/* The search filters, one bit each; a search statement is built from the
 * clauses of its bits and its number of words, and kept for the handle's
 * life. */
enum history__bit {
    HB_COMPANY = 1 << 0,
    HB_CONTACT = 1 << 1,
    HB_SINCE = 1 << 2,
    HB_UNTIL = 1 << 3,
    HB_ALL = (1 << 4) - 1
};

static const char *const history__clauses[] = {
    " AND company_id = :company",
    " AND contact_jid = :contact",
    " AND created >= :since",
    " AND created <= :until",
};

/* Every word of a text filter must occur somewhere in the session. Two
 * forms of a word (docs/tech-tools.md, docs/performance.md):
 * - rare (fewer than common_at matches): the sessions of its FTS5 matches,
 *   " AND id IN (w1 INTERSECT w2 ...)"; cheap when the matches are few.
 * - common: a correlated EXISTS for each session the ORDER BY's index walks
 *   newest first: the word's matches between the session's first and last
 *   message id (one FTS5 rowid-range seek, CROSS JOIN keeps FTS5 outer),
 *   checked to be the session's. The walk stops at the page.
 * PostgreSQL: the tsvector table of schema_pg.c's migration 4 and
 * chatdesk_fts_term(). */
#define HISTORY__TEXT_HEAD " AND id IN ("
#define HISTORY__TEXT_WORD                                                     \
    "SELECT m.session_id FROM messages_fts"                                    \
    " JOIN messages m ON m.id = messages_fts.rowid"                            \
    " WHERE messages_fts MATCH :t%zu"
#define HISTORY__TEXT_WORD_PG                                                  \
    "SELECT m.session_id FROM messages_fts"                                    \
    " JOIN messages m ON m.id = messages_fts.rowid"                            \
    " WHERE messages_fts.body @@ chatdesk_fts_term(:t%zu)"
#define HISTORY__TEXT_EXISTS                                                   \
    " AND EXISTS (SELECT 1 FROM messages_fts f CROSS JOIN messages m"          \
    " ON m.id = f.rowid WHERE messages_fts MATCH :t%zu"                        \
    " AND f.rowid >= (SELECT min(id) FROM messages WHERE session_id = s.id)"   \
    " AND f.rowid <= (SELECT max(id) FROM messages WHERE session_id = s.id)"   \
    " AND m.session_id = s.id)"
#define HISTORY__TEXT_EXISTS_PG                                                \
    " AND EXISTS (SELECT 1 FROM messages m JOIN messages_fts f"                \
    " ON f.rowid = m.id WHERE m.session_id = s.id"                             \
    " AND f.body @@ chatdesk_fts_term(:t%zu))"
/* The walk looks at the sessions from the newest to this one at most. */
#define HISTORY__WALK_FLOOR                                                    \
    " AND created >= :fc AND (created > :fc OR id >= :fid)"

#define HISTORY__SEARCH_HEAD                                                   \
    "SELECT %s FROM sessions s WHERE state NOT IN ('waiting', 'active')"
#define HISTORY__SEARCH_TAIL                                                   \
    " ORDER BY created DESC, id DESC LIMIT :lim OFFSET :off"
/* The walk's floor: the walk_max-th newest session the filters allow. */
#define HISTORY__FLOOR_TAIL                                                    \
    " ORDER BY created DESC, id DESC LIMIT 1 OFFSET :scan"

/* A word with this many FTS5 matches is common; the walk looks at this
 * many sessions at most (sqlite; docs/performance.md has the numbers:
 * below ~30,000 matches mapping them is cheaper than walking to a page). */
#define HISTORY__COMMON_AT 30000
#define HISTORY__WALK_MAX 2000

enum history__stmt {
    H_FWD,
    H_BACK,
    H_COUNT,
    H_FIND,
    H_PENDING,
    H_INDEX,
    H_MARK,
    H_MATCHES,
    H_COUNT_STMTS
};

/* The archive filters: NULL parameters switch a condition off. The
 * session's messages are few enough that the (session_id, id) index is the
 * whole plan. */
#define HISTORY__ARCHIVE_WHERE                                                 \
    " FROM messages WHERE session_id = :sid"                                   \
    " AND (CAST(:start AS BIGINT) IS NULL OR created >= :start)"               \
    " AND (CAST(:end AS BIGINT) IS NULL OR created <= :end)"                   \
    " AND (CAST(:wjid AS TEXT) IS NULL"                                        \
    "      OR (kind = 'chat' AND from_jid = :wjid))"                           \
    " AND (CAST(:wnick AS TEXT) IS NULL OR (kind = 'chat' AND nick = :wnick))" \
    " AND (CAST(:wroom AS TEXT) IS NULL OR kind = 'system')"
#define HISTORY__MSG_COLS                                                      \
    "SELECT id, stanza_id, from_jid, nick, body, created, kind"

static const char *const history__sql[H_COUNT_STMTS] = {
    [H_FWD] = (HISTORY__MSG_COLS HISTORY__ARCHIVE_WHERE
               " AND id > :after ORDER BY id LIMIT :lim OFFSET :off"),
    [H_BACK] = (HISTORY__MSG_COLS HISTORY__ARCHIVE_WHERE
                " AND id < :before ORDER BY id DESC LIMIT :lim"),
    [H_COUNT] = ("SELECT count(*)" HISTORY__ARCHIVE_WHERE " AND id < :before"),
    [H_FIND] = ("SELECT id FROM messages WHERE session_id = :sid"
                " AND stanza_id = :stanza"),
    /* Batch indexing (schema migration 5): how many of the next :lim
     * messages above the mark there are and the last one's id; index the
     * messages above the mark up to that id; move the mark there. */
    [H_PENDING] = ("SELECT count(*), max(id) FROM (SELECT id FROM messages"
                   " WHERE id > (SELECT last_indexed FROM fts_state)"
                   " ORDER BY id LIMIT :lim) AS p"),
    [H_INDEX] = ("INSERT INTO messages_fts(rowid, body) SELECT id, body"
                 " FROM messages WHERE id > (SELECT last_indexed FROM"
                 " fts_state) AND id <= :upto ORDER BY id"),
    [H_MARK] = "UPDATE fts_state SET last_indexed = :upto",
    /* a word's matches, counted up to :lim (rare or common) */
    [H_MATCHES] = ("SELECT count(*) FROM (SELECT 1 FROM messages_fts"
                   " WHERE messages_fts MATCH :t LIMIT :lim) AS c"),
};

/* The statements PostgreSQL needs in its own words (NULL: the same). */
static const char *const history__pg_sql[H_COUNT_STMTS] = {
    /* the trigger of schema_pg.c's migration 16 indexed them already:
     * only a message without its row (loaded with triggers off); another
     * process may be indexing the same one */
    [H_INDEX] = ("INSERT INTO messages_fts(rowid, body)"
                 " SELECT id, to_tsvector('simple', chatdesk_fold(body))"
                 " FROM messages m WHERE id > (SELECT last_indexed FROM"
                 " fts_state) AND id <= :upto AND NOT EXISTS (SELECT 1"
                 " FROM messages_fts f WHERE f.rowid = m.id) ORDER BY id"
                 " ON CONFLICT (rowid) DO NOTHING"),
    [H_MATCHES] = ("SELECT count(*) FROM (SELECT 1 FROM messages_fts"
                   " WHERE body @@ chatdesk_fts_term(:t) LIMIT :lim) AS c"),
};

struct history {
    struct store *st;
    struct db *db;
    struct domain *d;
    struct db_stmt *stmt[H_COUNT_STMTS];
    /* [mask][words][rare words]; rare 0 with words: the walk */
    struct db_stmt *search[HB_ALL + 1][HIST_WORDS_MAX + 1][HIST_WORDS_MAX + 1];
    struct db_stmt *floor[HB_ALL + 1];
    size_t common_at, walk_max; /* 0: never common (every word rare) */
    char err[512];
};

/* ---- errors ------------------------------------------------------------ */

__attribute__((format(printf, 3, 4))) static int
history__fail(struct history *h, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->err, sizeof h->err, fmt, ap);
    va_end(ap);
    return code;
}

static int history__store_fail(struct history *h, const char *what)
{
    return history__fail(h, HIST_ERR_STORE,
                         "The helpdesk could not %s (%s); try again later.",
                         what, db_errmsg(h->db));
}

/* A failure of the sessions module, passed on with its sentence. */
static int history__sess_fail(struct history *h, int rc)
{
    static const int map[] = {
        [SESS_ERR_NOT_FOUND] = HIST_ERR_NOT_FOUND,
        [SESS_ERR_FORBIDDEN] = HIST_ERR_FORBIDDEN,
        [SESS_ERR_INVALID] = HIST_ERR_INVALID,
    };
    int code =
        rc > 0 && rc <= SESS_ERR_INVALID && map[rc] ? map[rc] : HIST_ERR_STORE;
    return history__fail(h, code, "%s", sessions_error(h->d->sessions));
}

const char *history_error(const struct history *h)
{
    return h->err;
}

/* ---- statements: prepare on first use ----------------------------------- */

static int history__prepare(struct history *h, const char *sql,
                            struct db_stmt **out)
{
    if (!*out && db_prepare(h->db, sql, out) != DB_OK)
        return history__store_fail(h, "prepare a query");
    db_reset(*out);
    db_clear_bindings(*out);
    return HIST_OK;
}

static struct db_stmt *history__stmt(struct history *h,
                                     enum history__stmt which)
{
    const char *sql = db_kind(h->db) == DB_KIND_PG && history__pg_sql[which]
                          ? history__pg_sql[which]
                          : history__sql[which];
    if (history__prepare(h, sql, &h->stmt[which]) != HIST_OK)
        return NULL;
    return h->stmt[which];
}

/* HISTORY__SEARCH_HEAD of cols and the clauses of mask into sql; its
 * length. */
static size_t history__head(char *sql, size_t len, const char *cols,
                            unsigned mask)
{
    size_t n = (size_t)snprintf(sql, len, HISTORY__SEARCH_HEAD, cols);
    for (size_t i = 0; i < sizeof history__clauses / sizeof *history__clauses;
         i++) {
        if (mask & (1u << i))
            n += (size_t)snprintf(sql + n, len - n, "%s", history__clauses[i]);
    }
    return n;
}

/* The search statement for the filters in mask and words text words, the
 * first rare of them rare (an IN), the others common (an EXISTS); rare 0
 * with words: the walk, below its floor (:fc, :fid). */
static struct db_stmt *history__search_stmt(struct history *h, unsigned mask,
                                          size_t words, size_t rare)
{
    char sql[8192];
    bool pg = db_kind(h->db) == DB_KIND_PG;
    size_t n = history__head(sql, sizeof sql, "id", mask);
    for (size_t i = 1; i <= rare; i++) {
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s",
                              i == 1 ? HISTORY__TEXT_HEAD : " INTERSECT ");
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              pg ? HISTORY__TEXT_WORD_PG : HISTORY__TEXT_WORD,
                              i);
    }
    if (rare)
        n += (size_t)snprintf(sql + n, sizeof sql - n, ")");
    else if (words)
        n += (size_t)snprintf(sql + n, sizeof sql - n, HISTORY__WALK_FLOOR);
    for (size_t i = rare + 1; i <= words; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              pg ? HISTORY__TEXT_EXISTS_PG
                                 : HISTORY__TEXT_EXISTS,
                              i);
    snprintf(sql + n, sizeof sql - n, "%s", HISTORY__SEARCH_TAIL);
    if (history__prepare(h, sql, &h->search[mask][words][rare]) != HIST_OK)
        return NULL;
    return h->search[mask][words][rare];
}

/* The statement for the walk's floor under the filters in mask. */
static struct db_stmt *history__floor_stmt(struct history *h, unsigned mask)
{
    char sql[1024];
    size_t n = history__head(sql, sizeof sql, "created, id", mask);
    snprintf(sql + n, sizeof sql - n, "%s", HISTORY__FLOOR_TAIL);
    if (history__prepare(h, sql, &h->floor[mask]) != HIST_OK)
        return NULL;
    return h->floor[mask];
}

static void history__bind_int(struct db_stmt *st, const char *name, int64_t v)
{
    int col = db_bind_parameter_index(st, name);
    if (col > 0)
        db_bind_int64(st, col, (int64_t)v);
}

/* Bind text (DB_STATIC: it must outlive the step), NULL stays NULL. */
static void history__bind_text(struct db_stmt *st, const char *name,
                               const char *text)
{
    int col = db_bind_parameter_index(st, name);
    if (col > 0 && text)
        db_bind_text(st, col, text, -1, DB_STATIC);
}

/* ---- open / close ------------------------------------------------------- */

struct history *history_open(struct store *st, struct domain *d, char *err,
                             size_t errlen)
{
    struct history *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->st = st;
    h->db = store_db(st);
    h->d = d;
    /* PostgreSQL keeps the IN form for every word: the walk is not
     * measured there (docs/performance.md) */
    if (db_kind(h->db) != DB_KIND_PG)
        history_set_search_paths(h, HISTORY__COMMON_AT, HISTORY__WALK_MAX);
    if (store_schema_version(st) < 5) {
        snprintf(err, errlen, "history: the database schema is too old");
        free(h);
        return NULL;
    }
    return h;
}

void history_close(struct history *h)
{
    if (!h)
        return;
    for (int i = 0; i < H_COUNT_STMTS; i++)
        db_finalize(h->stmt[i]);
    for (int i = 0; i <= HB_ALL; i++) {
        db_finalize(h->floor[i]);
        for (int k = 0; k <= HIST_WORDS_MAX; k++)
            for (int r = 0; r <= HIST_WORDS_MAX; r++)
                db_finalize(h->search[i][k][r]);
    }
    free(h);
}

void history_set_search_paths(struct history *h, size_t common_at,
                              size_t walk_max)
{
    h->common_at = common_at;
    h->walk_max = walk_max;
}

/* ---- rows ---------------------------------------------------------------- */

void hist_row_clear(struct hist_row *r)
{
    if (!r)
        return;
    sess_info_clear(&r->s);
    r->company[0] = '\0';
}

void hist_rows_free(struct hist_rows *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        hist_row_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const char *hist_row_note(const struct hist_row *r)
{
    if (r->s.closing_note && r->s.closing_note[0])
        return r->s.closing_note;
    return r->s.callback_note ? r->s.callback_note : "";
}

/* The company name of r into r->company (kept from prev when the same). */
static int history__company(struct history *h, struct hist_row *r,
                            const struct hist_row *prev)
{
    struct company co;
    r->company[0] = '\0';
    if (!r->s.company_id)
        return HIST_OK;
    if (prev && prev->s.company_id == r->s.company_id) {
        memcpy(r->company, prev->company, sizeof r->company);
        return HIST_OK;
    }
    int rc = directory_company_get(h->d->dir, r->s.company_id, &co);
    if (rc == DIR_OK)
        snprintf(r->company, sizeof r->company, "%s", co.name);
    else if (rc != DIR_ERR_NOT_FOUND)
        return history__fail(h, HIST_ERR_STORE, "%s",
                             directory_error(h->d->dir));
    return HIST_OK;
}

/* Move the sessions of l into rows with company names; l is emptied. */
static int history__rows(struct history *h, struct sess_list *l,
                         struct hist_rows *out)
{
    struct hist_rows rows = {NULL, 0};
    int rc = HIST_OK;
    if (l->n && !(rows.items = calloc(l->n, sizeof *rows.items))) {
        sess_list_free(l);
        return history__fail(h, HIST_ERR_STORE, "out of memory");
    }
    for (size_t i = 0; i < l->n; i++) {
        rows.items[i].s = l->items[i];
        memset(&l->items[i], 0, sizeof l->items[i]);
        rows.n++;
        if (rc == HIST_OK)
            rc = history__company(h, &rows.items[i],
                                  i ? &rows.items[i - 1] : NULL);
    }
    sess_list_free(l);
    if (rc != HIST_OK) {
        hist_rows_free(&rows);
        return rc;
    }
    *out = rows;
    return HIST_OK;
}

int history_view(struct history *h, enum sess_view view, const char *tech,
                 size_t limit, struct hist_rows *out)
{
    struct sess_list l = {NULL, 0};
    int rc = sessions_list(h->d->sessions, view, tech, limit, &l);
    if (rc != SESS_OK)
        return history__sess_fail(h, rc);
    return history__rows(h, &l, out);
}

int history_session(struct history *h, int64_t id, struct hist_row *out)
{
    memset(out, 0, sizeof *out);
    int rc = sessions_get(h->d->sessions, id, &out->s);
    if (rc != SESS_OK)
        return history__sess_fail(h, rc);
    rc = history__company(h, out, NULL);
    if (rc != HIST_OK)
        hist_row_clear(out);
    return rc;
}

/* ---- batch indexing of messages_fts -------------------------------------- */

/* Of the next lim messages above the mark (lim 0: all), how many there
 * are into *n and the last one's id into *upto. */
static int history__pending(struct history *h, size_t lim, size_t *n,
                            int64_t *upto)
{
    struct db_stmt *st = history__stmt(h, H_PENDING);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_int(
        st, ":lim",
        lim == 0 || (uint64_t)lim > INT64_MAX ? INT64_MAX : (int64_t)lim);
    int rc = db_step(st);
    *n = rc == DB_ROW ? (size_t)db_column_int64(st, 0) : 0;
    *upto = rc == DB_ROW ? db_column_int64(st, 1) : 0;
    db_reset(st);
    return rc == DB_ROW ? HIST_OK
                            : history__store_fail(h, "update the search index");
}

/* Step a statement that takes :upto and returns no row. */
static int history__step_upto(struct history *h, enum history__stmt which,
                              int64_t upto)
{
    struct db_stmt *st = history__stmt(h, which);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_int(st, ":upto", upto);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE
               ? HIST_OK
               : history__store_fail(h, "update the search index");
}

static int history__exec(struct history *h, const char *sql)
{
    if (db_exec(h->db, sql, NULL) == DB_OK)
        return HIST_OK;
    return history__store_fail(h, "update the search index");
}

int history_index_pending(struct history *h, size_t max_rows, size_t *indexed)
{
    size_t n = 0;
    int64_t upto = 0;
    if (indexed)
        *indexed = 0;
    /* the common case, nothing to do, without taking the write lock */
    int rc = history__pending(h, 1, &n, &upto);
    if (rc != HIST_OK || n == 0)
        return rc;
    bool own = db_get_autocommit(h->db) != 0;
    rc = history__exec(h, own ? "BEGIN IMMEDIATE" : "SAVEPOINT history_index");
    if (rc != HIST_OK)
        return rc;
    rc = history__pending(h, max_rows, &n, &upto);
    if (rc == HIST_OK && n)
        rc = history__step_upto(h, H_INDEX, upto);
    if (rc == HIST_OK && n)
        rc = history__step_upto(h, H_MARK, upto);
    if (rc == HIST_OK)
        rc = history__exec(h, own ? "COMMIT" : "RELEASE history_index");
    if (rc != HIST_OK) {
        /* the index and the mark go back together; h->err is kept */
        db_exec(h->db,
                own ? "ROLLBACK"
                    : "ROLLBACK TO history_index; RELEASE history_index",
                NULL);
        return rc;
    }
    if (indexed)
        *indexed = n;
    return HIST_OK;
}

/* ---- search -------------------------------------------------------------- */

/* Which clauses f needs; the FTS5 terms of its text, one a word, go into
 * terms (pointing into fts) and their number into *words. */
static int history__mask(struct history *h, const struct hist_filter *f,
                         char *fts, size_t ftslen, const char **terms,
                         size_t *words, unsigned *mask)
{
    *mask = (f->company_id ? HB_COMPANY : 0u) |
            (f->contact && *f->contact ? HB_CONTACT : 0u) |
            (f->has_since ? HB_SINCE : 0u) | (f->has_until ? HB_UNTIL : 0u);
    *words = 0;
    if (f->limit == 0 || f->limit > HIST_PAGE_MAX)
        return history__fail(h, HIST_ERR_INVALID,
                             "A page holds 1 to %d sessions.", HIST_PAGE_MAX);
    if (!f->text || !f->text[strspn(f->text, " \t\r\n")])
        return HIST_OK;
    int n = history_fts_query(f->text, fts, ftslen);
    if (n < 0)
        return history__fail(h, HIST_ERR_INVALID,
                             "The search text is too long (at most %d words "
                             "and %d bytes).",
                             HIST_WORDS_MAX, HIST_TEXT_MAX);
    if (n == 0)
        return history__fail(h, HIST_ERR_INVALID,
                             "The search text has no word to search for.");
    /* terms never hold a space: the expression's spaces separate them */
    for (char *p = fts; p && *words < HIST_WORDS_MAX; (*words)++) {
        terms[*words] = p;
        p = strchr(p, ' ');
        if (p)
            *p++ = '\0';
    }
    return HIST_OK;
}

/* Step a statement whose first column is a session id; load each. */
static int history__load_ids(struct history *h, struct db_stmt *st,
                             struct sess_list *l)
{
    size_t cap = 0;
    int rc, step;
    while ((step = db_step(st)) == DB_ROW) {
        int64_t id = db_column_int64(st, 0);
        if (l->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct sess_info *p = realloc(l->items, ncap * sizeof *p);
            if (!p) {
                db_reset(st);
                return history__fail(h, HIST_ERR_STORE, "out of memory");
            }
            l->items = p;
            cap = ncap;
        }
        rc = sessions_get(h->d->sessions, id, &l->items[l->n]);
        if (rc != SESS_OK) {
            db_reset(st);
            return history__sess_fail(h, rc);
        }
        l->n++;
    }
    db_reset(st);
    return step == DB_DONE ? HIST_OK
                               : history__store_fail(h, "search the sessions");
}

/* The FTS matches of term, counted up to h->common_at, into *n. */
static int history__matches(struct history *h, const char *term, int64_t *n)
{
    struct db_stmt *st = history__stmt(h, H_MATCHES);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_text(st, ":t", term);
    history__bind_int(st, ":lim", (int64_t)h->common_at);
    int step = db_step(st);
    *n = step == DB_ROW ? db_column_int64(st, 0) : 0;
    db_reset(st);
    return step == DB_ROW ? HIST_OK
                          : history__store_fail(h, "search the sessions");
}

/* Move the rare words (fewer than h->common_at matches; every word when
 * it is 0) to the front of terms; their number into *rare. */
static int history__split(struct history *h, const char **terms, size_t words,
                          size_t *rare)
{
    *rare = 0;
    for (size_t i = 0; i < words; i++) {
        int64_t n = 0;
        int rc = h->common_at ? history__matches(h, terms[i], &n) : HIST_OK;
        if (rc != HIST_OK)
            return rc;
        if (!h->common_at || (uint64_t)n < h->common_at) {
            const char *t = terms[*rare];
            terms[*rare] = terms[i];
            terms[i] = t;
            (*rare)++;
        }
    }
    return HIST_OK;
}

static void history__bind_filters(struct db_stmt *st,
                                  const struct hist_filter *f,
                                  const char *contact)
{
    history__bind_int(st, ":company", f->company_id);
    history__bind_text(st, ":contact", contact);
    history__bind_int(st, ":since", (int64_t)f->since);
    history__bind_int(st, ":until", (int64_t)f->until);
}

/* The walk's floor (created, id) into fl: the walk_max-th newest session
 * the filters allow, or the lowest values when there are fewer (*all). */
static int history__floor(struct history *h, const struct hist_filter *f,
                          const char *contact, unsigned mask, int64_t fl[2],
                          bool *all)
{
    struct db_stmt *st = history__floor_stmt(h, mask);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_filters(st, f, contact);
    history__bind_int(st, ":scan", (int64_t)h->walk_max - 1);
    int step = db_step(st);
    *all = step != DB_ROW;
    fl[0] = *all ? INT64_MIN : db_column_int64(st, 0);
    fl[1] = *all ? INT64_MIN : db_column_int64(st, 1);
    db_reset(st);
    return step == DB_ROW || step == DB_DONE
               ? HIST_OK
               : history__store_fail(h, "search the sessions");
}

/* One search statement (see history__search_stmt) run into l. */
static int history__run(struct history *h, const struct hist_filter *f,
                        const char *contact, unsigned mask,
                        const char *const *terms, size_t words, size_t rare,
                        const int64_t fl[2], struct sess_list *l)
{
    char name[32];
    struct db_stmt *st = history__search_stmt(h, mask, words, rare);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_filters(st, f, contact);
    for (size_t i = 0; i < words; i++) {
        snprintf(name, sizeof name, ":t%zu", i + 1);
        history__bind_text(st, name, terms[i]);
    }
    if (fl) {
        history__bind_int(st, ":fc", fl[0]);
        history__bind_int(st, ":fid", fl[1]);
    }
    history__bind_int(st, ":lim", (int64_t)f->limit);
    history__bind_int(st, ":off", (int64_t)f->offset);
    int rc = history__load_ids(h, st, l);
    if (rc != HIST_OK)
        sess_list_free(l);
    return rc;
}

/* Every word common and the page within the newest walk_max sessions:
 * walk them. *done when that gave the page (full, or every session seen);
 * else the IN form must answer. */
static int history__walk(struct history *h, const struct hist_filter *f,
                         const char *contact, unsigned mask,
                         const char *const *terms, size_t words,
                         struct sess_list *l, bool *done)
{
    int64_t fl[2];
    bool all;
    *done = false;
    if (f->offset + f->limit > h->walk_max)
        return HIST_OK;
    int rc = history__floor(h, f, contact, mask, fl, &all);
    if (rc == HIST_OK)
        rc = history__run(h, f, contact, mask, terms, words, 0, fl, l);
    if (rc != HIST_OK)
        return rc;
    *done = all || l->n == f->limit;
    if (!*done)
        sess_list_free(l);
    return HIST_OK;
}

int history_search(struct history *h, const struct hist_filter *f,
                   struct hist_rows *out)
{
    char fts[HIST_FTS_MAX], contact[DIR_JID_MAX] = "";
    const char *terms[HIST_WORDS_MAX];
    struct sess_list l = {NULL, 0};
    size_t words, rare = 0;
    unsigned mask;
    bool done = false;
    int rc = history__mask(h, f, fts, sizeof fts, terms, &words, &mask);
    if (rc != HIST_OK)
        return rc;
    if ((mask & HB_CONTACT) &&
        directory_jid_bare(f->contact, contact, sizeof contact) != 0)
        return history__fail(h, HIST_ERR_INVALID,
                             "\"%.200s\" is not a JID like user@example.com.",
                             f->contact);
    /* index every message stored so far, so none is missing from a match */
    if (words && (rc = history_index_pending(h, 0, NULL)) != HIST_OK)
        return rc;
    if (words && (rc = history__split(h, terms, words, &rare)) != HIST_OK)
        return rc;
    if (words && !rare) {
        rc = history__walk(h, f, contact, mask, terms, words, &l, &done);
        rare = words; /* not done: every word in the IN form */
    }
    if (rc == HIST_OK && !done)
        rc = history__run(h, f, contact, mask, terms, words, rare, NULL, &l);
    if (rc != HIST_OK)
        return rc;
    return history__rows(h, &l, out);
}

/* ---- parsing helpers ----------------------------------------------------- */

/* n digits at *p into *v; advances *p. 0 or -1. */
static int history__digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        *v = *v * 10 + (**p - '0');
    }
    return 0;
}

static int history__days_in(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* "hh:mm[:ss[.fff]]" and the zone after it; seconds of the day into *secs
 * and the zone offset (seconds east of UTC) into *off. 0 or -1. */
static int history__clock(const char *p, long *secs, long *off)
{
    int hh, mm, ss = 0, zh, zm;
    if (history__digits(&p, 2, &hh) || *p++ != ':' ||
        history__digits(&p, 2, &mm) || hh > 23 || mm > 59)
        return -1;
    if (*p == ':') {
        p++;
        if (history__digits(&p, 2, &ss) || ss > 60)
            return -1;
    }
    if (*p == '.' && !isdigit((unsigned char)*++p))
        return -1;
    while (isdigit((unsigned char)*p))
        p++;
    *off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        if (history__digits(&p, 2, &zh) || *p++ != ':' ||
            history__digits(&p, 2, &zm) || zh > 23 || zm > 59)
            return -1;
        *off = sign * (zh * 3600L + zm * 60L);
    }
    *secs = hh * 3600L + mm * 60L + ss;
    return *p ? -1 : 0;
}

int history_parse_time(const char *text, bool end_of_day, time_t *out)
{
    char buf[64];
    int y, mo, d;
    if (!text)
        return -1;
    text += strspn(text, " \t\r\n");
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1]))
        len--;
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    const char *p = buf;
    if (history__digits(&p, 4, &y) || *p++ != '-' ||
        history__digits(&p, 2, &mo) || *p++ != '-' ||
        history__digits(&p, 2, &d) || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > history__days_in(y, mo))
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d};
    time_t day = timegm(&tm);
    long secs = end_of_day ? 86399 : 0, off = 0;
    if (*p && ((*p != 'T' && *p != 't' && *p != ' ') ||
               history__clock(p + 1, &secs, &off) != 0))
        return -1;
    *out = day + secs - off;
    return 0;
}

/* Does word (len bytes) hold a letter or digit (any non-ASCII byte counts)? */
static bool history__has_token(const char *word, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)word[i];
        if (c >= 0x80 || isalnum(c))
            return true;
    }
    return false;
}

/* Append word as an FTS5 string ("" doubles a quote), then '*' if prefix.
 * 0, or -1 when it does not fit. */
static int history__put_word(char *out, size_t outlen, size_t *n,
                             const char *word, size_t len, bool prefix)
{
    if (*n + 2 * len + 5 > outlen)
        return -1;
    if (*n)
        out[(*n)++] = ' ';
    out[(*n)++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (word[i] == '"')
            out[(*n)++] = '"';
        out[(*n)++] = word[i];
    }
    out[(*n)++] = '"';
    if (prefix)
        out[(*n)++] = '*';
    out[*n] = '\0';
    return 0;
}

int history_fts_query(const char *text, char *out, size_t outlen)
{
    size_t n = 0;
    int words = 0, all = 0;
    if (!out || outlen == 0)
        return -1;
    out[0] = '\0';
    if (!text || strlen(text) > HIST_TEXT_MAX)
        return -1;
    for (const char *p = text; *p;) {
        p += strspn(p, " \t\r\n\f\v");
        size_t len = strcspn(p, " \t\r\n\f\v");
        if (!len)
            break;
        bool prefix = len > 1 && p[len - 1] == '*';
        size_t wlen = prefix ? len - 1 : len;
        if (++all > HIST_WORDS_MAX)
            return -1;
        if (history__has_token(p, wlen)) {
            if (history__put_word(out, outlen, &n, p, wlen, prefix) != 0)
                return -1;
            words++;
        }
        p += len;
    }
    return words;
}

/* ---- the room archive ---------------------------------------------------- */

int history_archive_access(struct history *h, const char *room, const char *jid,
                           int64_t *session_id)
{
    char bare[DIR_JID_MAX];
    struct sess_info s;
    int rc = sessions_get_by_room(h->d->sessions, room, &s);
    if (rc != SESS_OK)
        return rc == SESS_ERR_NOT_FOUND
                   ? history__fail(h, HIST_ERR_NOT_FOUND,
                                   "There is no chat session room \"%.200s\".",
                                   room ? room : "")
                   : history__sess_fail(h, rc);
    enum dir_role role = ROLE_NONE;
    bool ok = directory_jid_bare(jid, bare, sizeof bare) == 0;
    if (ok)
        role = domain_role(h->d, bare);
    ok = ok && (role == ROLE_TECH || role == ROLE_ADMIN ||
                !strcmp(bare, s.contact_jid));
    *session_id = s.id;
    sess_info_clear(&s);
    if (!ok)
        return history__fail(h, HIST_ERR_FORBIDDEN,
                             "Only this chat's contact and the techs may "
                             "read its archive.");
    return HIST_OK;
}

void hist_page_free(struct hist_archive_page *p)
{
    if (!p)
        return;
    sess_message_list_free(&p->items);
    memset(p, 0, sizeof *p);
}

/* Bind the filters of q and the session to an archive statement. */
static void history__bind_archive(struct db_stmt *st, int64_t sid,
                                  const struct hist_archive_query *q)
{
    history__bind_int(st, ":sid", sid);
    if (q->has_start)
        history__bind_int(st, ":start", (int64_t)q->start);
    if (q->has_end)
        history__bind_int(st, ":end", (int64_t)q->end);
    if (q->with == HIST_WITH_JID)
        history__bind_text(st, ":wjid", q->with_value);
    if (q->with == HIST_WITH_NICK)
        history__bind_text(st, ":wnick", q->with_value);
    if (q->with == HIST_WITH_ROOM)
        history__bind_int(st, ":wroom", 1);
}

/* The row id of stanza id sid in the session; HIST_ERR_NOT_FOUND if none. */
static int history__find(struct history *h, int64_t session, const char *sid,
                         int64_t *id)
{
    struct db_stmt *st = history__stmt(h, H_FIND);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_int(st, ":sid", session);
    history__bind_text(st, ":stanza", sid);
    int rc = db_step(st);
    *id = rc == DB_ROW ? db_column_int64(st, 0) : 0;
    db_reset(st);
    if (rc == DB_DONE)
        return history__fail(h, HIST_ERR_NOT_FOUND,
                             "There is no message \"%.100s\" in this room's "
                             "archive.",
                             sid);
    return rc == DB_ROW ? HIST_OK
                            : history__store_fail(h, "read the archive");
}

/* Matches of q with a row id below `below`. */
static int history__count(struct history *h, int64_t session,
                          const struct hist_archive_query *q, int64_t below,
                          size_t *out)
{
    struct db_stmt *st = history__stmt(h, H_COUNT);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_archive(st, session, q);
    history__bind_int(st, ":before", below);
    int rc = db_step(st);
    *out = rc == DB_ROW ? (size_t)db_column_int64(st, 0) : 0;
    db_reset(st);
    return rc == DB_ROW ? HIST_OK
                            : history__store_fail(h, "count the archive");
}

static int history__message_row(struct db_stmt *st, struct sess_message *m)
{
    const unsigned char *t;
    memset(m, 0, sizeof *m);
    m->id = db_column_int64(st, 0);
    t = db_column_text(st, 1);
    snprintf(m->stanza_id, sizeof m->stanza_id, "%s", t ? (const char *)t : "");
    t = db_column_text(st, 2);
    m->from_jid = strdup(t ? (const char *)t : "");
    t = db_column_text(st, 3);
    m->nick = strdup(t ? (const char *)t : "");
    t = db_column_text(st, 4);
    m->body = strdup(t ? (const char *)t : "");
    m->created = (time_t)db_column_int64(st, 5);
    t = db_column_text(st, 6);
    m->kind = t && !strcmp((const char *)t, "system") ? SESS_MSG_SYSTEM
                                                      : SESS_MSG_CHAT;
    return m->from_jid && m->nick && m->body ? 0 : -1;
}

/* Step an archive page statement into l (in statement order). */
static int history__collect(struct history *h, struct db_stmt *st,
                            struct sess_message_list *l, size_t cap)
{
    int rc = DB_DONE;
    if (cap && !(l->items = calloc(cap, sizeof *l->items)))
        return history__fail(h, HIST_ERR_STORE, "out of memory");
    while (l->n < cap && (rc = db_step(st)) == DB_ROW) {
        if (history__message_row(st, &l->items[l->n++]) != 0) {
            db_reset(st);
            return history__fail(h, HIST_ERR_STORE, "out of memory");
        }
    }
    if (l->n < cap && rc != DB_DONE) {
        db_reset(st);
        return history__store_fail(h, "read the archive");
    }
    db_reset(st);
    return HIST_OK;
}

/* Read max + 1 rows in the query's direction; keep max, oldest first. */
static int history__page_rows(struct history *h, int64_t session,
                              const struct hist_archive_query *q, int64_t after,
                              int64_t before, struct hist_archive_page *p)
{
    bool back = q->before != NULL;
    struct db_stmt *st = history__stmt(h, back ? H_BACK : H_FWD);
    if (!st)
        return HIST_ERR_STORE;
    history__bind_archive(st, session, q);
    history__bind_int(st, ":after", after);
    history__bind_int(st, ":before", before);
    history__bind_int(st, ":lim", (int64_t)q->max + 1);
    history__bind_int(st, ":off", q->has_index ? (int64_t)q->index : 0);
    int rc = history__collect(h, st, &p->items, q->max + 1);
    if (rc != HIST_OK)
        return rc;
    p->complete = p->items.n <= q->max;
    if (!p->complete) {
        struct sess_message *extra = &p->items.items[q->max];
        free(extra->from_jid);
        free(extra->nick);
        free(extra->body);
        p->items.n = q->max;
    }
    for (size_t i = 0; back && i < p->items.n / 2; i++) {
        struct sess_message tmp = p->items.items[i];
        p->items.items[i] = p->items.items[p->items.n - 1 - i];
        p->items.items[p->items.n - 1 - i] = tmp;
    }
    return HIST_OK;
}

/* Check the paging arguments and turn the stanza ids into row ids. */
static int history__bounds(struct history *h, int64_t session,
                           const struct hist_archive_query *q, int64_t *after,
                           int64_t *before)
{
    *after = 0;
    *before = INT64_MAX;
    if (q->max > HIST_PAGE_MAX)
        return history__fail(h, HIST_ERR_INVALID,
                             "A page holds at most %d messages.",
                             HIST_PAGE_MAX);
    if (q->has_index && (q->after || q->before))
        return history__fail(h, HIST_ERR_INVALID,
                             "Give either an index or after/before, not "
                             "both.");
    if (q->after && q->before)
        return history__fail(h, HIST_ERR_INVALID,
                             "Give either after or before, not both.");
    if (q->after)
        return history__find(h, session, q->after, after);
    if (q->before && *q->before)
        return history__find(h, session, q->before, before);
    return HIST_OK;
}

int history_archive_query(struct history *h, int64_t session_id,
                          const struct hist_archive_query *q,
                          struct hist_archive_page *out)
{
    int64_t after, before;
    memset(out, 0, sizeof *out);
    int rc = history__bounds(h, session_id, q, &after, &before);
    if (rc == HIST_OK)
        rc = history__count(h, session_id, q, INT64_MAX, &out->count);
    if (rc == HIST_OK && q->max == 0)
        out->complete = out->count == 0;
    else if (rc == HIST_OK)
        rc = history__page_rows(h, session_id, q, after, before, out);
    if (rc == HIST_OK && out->items.n)
        rc = history__count(h, session_id, q, out->items.items[0].id,
                            &out->first_index);
    if (rc != HIST_OK)
        hist_page_free(out);
    return rc;
}
