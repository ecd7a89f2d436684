/* db_pg.c - the db layer on PostgreSQL (libpq); see db.h.
 *
 * A statement is parsed once per connection (PQprepare, named "cdN") with
 * sqlite's placeholders rewritten to $n (db_pg_sql.c). Values are bound as
 * text; the statement runs at its first db_step() after a reset
 * (PQexecPrepared) and db_step() walks the rows of the result.
 *
 * Two sqlite habits the modules rely on are kept:
 * - a failed statement inside a transaction does not spoil it: on
 *   PostgreSQL it would (every later statement fails until ROLLBACK), so a
 *   write inside a transaction runs under a savepoint of its own (SAVEPOINT,
 *   the write and RELEASE pipelined: one round trip) and a failure rolls
 *   back to it;
 * - "SAVEPOINT x" outside a transaction starts one (sqlite does; here
 *   BEGIN first, and the matching RELEASE commits).
 *
 * A lost connection (the server restarted) is opened again at the next
 * statement outside a transaction, and the statements are prepared again
 * on it as they are used; a read or a BEGIN that found the connection lost
 * is run once more on the new one (a write is not: it may have been
 * done). Inside a transaction it is not: that
 * transaction is gone, its statements fail until the caller's ROLLBACK
 * (which succeeds) or COMMIT (which fails).
 */
#include "runtime/db_pg.h"
#include "runtime/db_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dbp {
    struct db base;
    PGconn *c;
    char err[512];
    int errcode, ext;
    int changes;
    unsigned next_name;
    int implicit; /* savepoints open in a transaction a SAVEPOINT began */
    int tx;       /* the caller is inside a transaction (BEGIN/SAVEPOINT) */
    unsigned gen; /* connections opened so far (PQreset) */
    char *session_sql; /* run on every new connection */
};

struct dbp_param {
    char *heap;
    char small[24];
    const char *val; /* NULL = SQL NULL */
};

struct dbp_stmt {
    struct db_stmt base;
    char name[16];
    unsigned gen;        /* the connection it was prepared on */
    struct db_pg_sql tr; /* the rewritten SQL, its parameters' names */
    struct dbp_param *p;
    const char **vals;
    PGresult *res;
    int row, ntuples, done;
    int failed; /* the error code of this run, until db_reset() */
};

#define P(db) ((struct dbp *)(db))
#define PS(st) ((struct dbp_stmt *)(st))

static void dbp_set_err(struct dbp *db, int code, int ext, const char *msg)
{
    size_t n;
    db->errcode = code;
    db->ext = ext ? ext : code;
    snprintf(db->err, sizeof db->err, "%s", msg ? msg : "unknown error");
    n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = '\0';
}

/* SQLSTATE (and the constraint's name) to sqlite's codes. */
static void dbp_code(const PGresult *r, int *code, int *ext)
{
    const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *cn = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    size_t cl = cn ? strlen(cn) : 0;
    *code = DB_ERROR;
    *ext = DB_ERROR;
    if (!s)
        return;
    if (!strncmp(s, "23", 2)) {
        *code = DB_CONSTRAINT;
        if (!strcmp(s, "23505"))
            *ext = cl > 5 && !strcmp(cn + cl - 5, "_pkey")
                       ? DB_CONSTRAINT_PRIMARYKEY
                       : DB_CONSTRAINT_UNIQUE;
        else if (!strcmp(s, "23503"))
            *ext = DB_CONSTRAINT_FOREIGNKEY;
        else if (!strcmp(s, "23514"))
            *ext = DB_CONSTRAINT_CHECK;
        else if (!strcmp(s, "23502"))
            *ext = DB_CONSTRAINT_NOTNULL;
        else
            *ext = DB_CONSTRAINT;
    } else if (!strcmp(s, "40001") || !strcmp(s, "40P01") ||
               !strcmp(s, "55P03")) {
        *code = *ext = DB_BUSY;
    }
}

/* Record r's outcome on db: DB_OK, or the mapped error (r is kept). */
static int dbp_check(struct dbp *db, const PGresult *r)
{
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY)
        return DB_OK;
    int code, ext;
    dbp_code(r, &code, &ext);
    dbp_set_err(db, code, ext,
                r ? PQresultErrorMessage(r) : PQerrorMessage(db->c));
    return code;
}

/* The connection is up, or opened again when it was lost outside a
 * transaction. 1, or 0 with the error on db. */
static int dbp_alive(struct dbp *db)
{
    if (PQstatus(db->c) == CONNECTION_OK)
        return 1;
    if (db->tx) {
        dbp_set_err(db, DB_ERROR, 0,
                    "the connection to PostgreSQL was lost inside a "
                    "transaction");
        return 0;
    }
    PQreset(db->c);
    if (PQstatus(db->c) != CONNECTION_OK) {
        dbp_set_err(db, DB_ERROR, 0, PQerrorMessage(db->c));
        return 0;
    }
    db->gen++;
    db->implicit = 0;
    PQclear(PQexec(db->c, "SET client_min_messages = warning"));
    if (db->session_sql)
        PQclear(PQexec(db->c, db->session_sql));
    return 1;
}

/* Run sql as a simple query; DB_OK or the error (message on db). */
static int dbp_run(struct dbp *db, const char *sql)
{
    if (!dbp_alive(db))
        return DB_ERROR;
    PGresult *r = PQexec(db->c, sql);
    int rc = dbp_check(db, r);
    PQclear(r);
    return rc;
}

static int dbp_idle(struct dbp *db)
{
    return PQtransactionStatus(db->c) == PQTRANS_IDLE;
}

/* Is sql a transaction-control statement dbp_control() runs itself? */
static int dbp_is_control(const char *sql)
{
    return !strncasecmp(sql, "BEGIN", 5) || !strncasecmp(sql, "COMMIT", 6) ||
           !strncasecmp(sql, "END", 3) || !strncasecmp(sql, "SAVEPOINT", 9) ||
           !strncasecmp(sql, "RELEASE", 7) ||
           (!strncasecmp(sql, "ROLLBACK", 8) &&
            strncasecmp(sql, "ROLLBACK TO", 11));
}

/* One transaction-control statement, with sqlite's meaning (see the
 * comment at the top). *handled = 0 when sql is not one. Statements after
 * it in the same string ("BEGIN; INSERT ...") would not run: refused. */
static int dbp_control(struct dbp *db, const char *sql, int *handled)
{
    *handled = dbp_is_control(sql);
    if (!*handled)
        return DB_OK;
    const char *semi = strchr(sql, ';');
    if (semi && semi[strspn(semi, "; \t\r\n")]) {
        dbp_set_err(db, DB_MISUSE, 0,
                    "a transaction statement runs alone, not with others "
                    "after it in one string");
        return DB_MISUSE;
    }
    if (!strncasecmp(sql, "BEGIN", 5)) {
        db->implicit = 0;
        db->tx = 0;
        int rc = dbp_run(db, "BEGIN");
        if (rc != DB_OK && PQstatus(db->c) == CONNECTION_BAD)
            rc = dbp_run(db, "BEGIN"); /* found lost: on a new one */
        db->tx = rc == DB_OK;
        return rc;
    }
    int end = !strncasecmp(sql, "COMMIT", 6) || !strncasecmp(sql, "END", 3);
    if (end || (!strncasecmp(sql, "ROLLBACK", 8) &&
                strncasecmp(sql, "ROLLBACK TO", 11))) {
        int lost = PQstatus(db->c) != CONNECTION_OK;
        db->implicit = 0;
        db->tx = 0;
        if (lost) /* the transaction is gone: a commit fails */
            return end ? DB_ERROR : DB_OK;
        return dbp_run(db, sql);
    }
    if (!strncasecmp(sql, "SAVEPOINT", 9)) {
        if (!db->tx && dbp_idle(db)) {
            int rc = dbp_run(db, "BEGIN");
            if (rc != DB_OK)
                return rc;
            db->implicit = 1;
            db->tx = 1;
        } else if (db->implicit) {
            db->implicit++;
        }
        return dbp_run(db, sql);
    }
    int rc = dbp_run(db, sql); /* RELEASE */
    if (rc == DB_OK && db->implicit && --db->implicit == 0) {
        rc = dbp_run(db, "COMMIT");
        db->tx = 0;
    }
    return rc;
}

static void dbp_close(struct db *db)
{
    PQfinish(P(db)->c);
    free(P(db)->session_sql);
    free(db);
}

static void *dbp_handle(struct db *db)
{
    return NULL;
}

static int dbp_exec(struct db *dbase, const char *sql, char **errmsg)
{
    struct dbp *db = P(dbase);
    int handled;
    while (*sql == ' ' || *sql == '\n' || *sql == '\t')
        sql++;
    int rc = dbp_control(db, sql, &handled);
    if (!handled)
        rc = dbp_run(db, sql);
    if (errmsg)
        *errmsg = rc == DB_OK ? NULL : strdup(db->err);
    return rc;
}

static int dbp_set_session_sql(struct db *db, const char *sql)
{
    char *copy = sql ? strdup(sql) : NULL;
    if (sql && !copy)
        return DB_NOMEM;
    free(P(db)->session_sql);
    P(db)->session_sql = copy;
    return DB_OK;
}

static const char *dbp_errmsg(struct db *db)
{
    return P(db)->err[0] ? P(db)->err : "not an error";
}

static int dbp_errcode(struct db *db)
{
    return P(db)->errcode;
}

static int dbp_extended_errcode(struct db *db)
{
    return P(db)->ext;
}

static int dbp_changes(struct db *db)
{
    return P(db)->changes;
}

static int dbp_get_autocommit(struct db *db)
{
    return !P(db)->tx && dbp_idle(P(db));
}

static int dbp_finalize(struct db_stmt *sbase)
{
    struct dbp_stmt *st = PS(sbase);
    struct dbp *db = P(sbase->db);
    PQclear(st->res);
    if (st->name[0] && st->gen == db->gen &&
        PQtransactionStatus(db->c) != PQTRANS_INERROR &&
        PQstatus(db->c) == CONNECTION_OK) {
        char sql[48];
        snprintf(sql, sizeof sql, "DEALLOCATE %s", st->name);
        PQclear(PQexec(db->c, sql));
    }
    for (int i = 0; st->p && i < st->tr.nparams; i++)
        free(st->p[i].heap);
    free(st->p);
    free(st->vals);
    db_pg_sql_free(&st->tr);
    free(st);
    return DB_OK;
}

/* PQprepare st on the connection of now. */
static int dbp_parse(struct dbp *db, struct dbp_stmt *st)
{
    if (!dbp_alive(db))
        return DB_ERROR;
    PGresult *r = PQprepare(db->c, st->name, st->tr.sql, st->tr.nparams, NULL);
    int rc = dbp_check(db, r);
    PQclear(r);
    st->gen = db->gen;
    return rc;
}

static int dbp_prepare(struct db *dbase, const char *sql, struct db_stmt **out)
{
    struct dbp *db = P(dbase);
    struct dbp_stmt *st = calloc(1, sizeof *st);
    *out = NULL;
    if (!st || db_pg_sql_rewrite(sql, &st->tr) != 0) {
        free(st);
        dbp_set_err(db, DB_NOMEM, 0, "out of memory");
        return DB_NOMEM;
    }
    st->base.db = dbase;
    int n = st->tr.nparams;
    st->p = calloc((size_t)(n ? n : 1), sizeof *st->p);
    st->vals = calloc((size_t)(n ? n : 1), sizeof *st->vals);
    if (!st->p || !st->vals) {
        dbp_finalize(&st->base);
        dbp_set_err(db, DB_NOMEM, 0, "out of memory");
        return DB_NOMEM;
    }
    if (st->tr.kind != DB_PG_SQL_CONTROL) {
        snprintf(st->name, sizeof st->name, "cd%u", db->next_name++);
        int rc = dbp_parse(db, st);
        if (rc != DB_OK) {
            st->name[0] = '\0';
            dbp_finalize(&st->base);
            return rc;
        }
    }
    *out = &st->base;
    return DB_OK;
}

/* Run a prepared statement; inside a transaction a write gets a savepoint
 * of its own so that its failure leaves the transaction usable. */
/* Read the results of one pipelined query; the first is kept (when keep)
 * or cleared. */
static PGresult *dbp_pipe_result(PGconn *c, int keep)
{
    PGresult *first = NULL, *x;
    while ((x = PQgetResult(c))) {
        if (keep && !first)
            first = x;
        else
            PQclear(x);
    }
    return first;
}

/* SAVEPOINT, the statement and RELEASE in one round trip (libpq's
 * pipeline mode; a Sync inside a transaction block does not end it). The
 * statement's result, or NULL (the error said on db). */
static PGresult *dbp_exec_guarded(struct dbp *db, struct dbp_stmt *st)
{
    PGconn *c = db->c;
    if (!PQenterPipelineMode(c))
        return NULL;
    int sent =
        PQsendQueryParams(c, "SAVEPOINT db_stmt", 0, NULL, NULL, NULL, NULL,
                          0) &&
        PQsendQueryPrepared(c, st->name, st->tr.nparams, st->vals, NULL, NULL,
                            0) &&
        PQsendQueryParams(c, "RELEASE db_stmt", 0, NULL, NULL, NULL, NULL, 0) &&
        PQpipelineSync(c);
    PGresult *r = NULL, *x;
    if (sent) {
        PQclear(dbp_pipe_result(c, 0));
        r = dbp_pipe_result(c, 1);
        PQclear(dbp_pipe_result(c, 0));
        while ((x = PQgetResult(c))) { /* up to the Sync's result */
            int sync = PQresultStatus(x) == PGRES_PIPELINE_SYNC;
            PQclear(x);
            if (sync)
                break;
        }
    }
    PQexitPipelineMode(c);
    if (!r)
        dbp_set_err(db, DB_ERROR, 0, PQerrorMessage(c));
    return r;
}

static PGresult *dbp_exec_prepared(struct dbp *db, struct dbp_stmt *st)
{
    int n = st->tr.nparams;
    for (int i = 0; i < n; i++)
        st->vals[i] = st->p[i].val;
    if (!dbp_alive(db) || (st->gen != db->gen && dbp_parse(db, st) != DB_OK))
        return NULL;
    int guard = st->tr.kind == DB_PG_SQL_WRITE && !dbp_idle(db);
    if (guard) {
        PGresult *r = dbp_exec_guarded(db, st);
        ExecStatusType s = PQresultStatus(r);
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
            PQclear(PQexec(db->c, "ROLLBACK TO db_stmt; RELEASE db_stmt"));
        return r;
    }
    PGresult *r = PQexecPrepared(db->c, st->name, n, st->vals, NULL, NULL, 0);
    if (!r)
        dbp_set_err(db, DB_ERROR, 0, PQerrorMessage(db->c));
    return r;
}

static int dbp_start(struct dbp *db, struct dbp_stmt *st)
{
    if (st->tr.kind == DB_PG_SQL_CONTROL) {
        int handled;
        int rc = dbp_control(db, st->tr.sql, &handled);
        if (!handled)
            rc = dbp_run(db, st->tr.sql);
        st->done = 1;
        return rc;
    }
    st->res = dbp_exec_prepared(db, st);
    /* the connection was found lost by this read outside a transaction:
     * once more on a new one (a write might have happened: not retried) */
    if (PQstatus(db->c) == CONNECTION_BAD && !db->tx &&
        st->tr.kind == DB_PG_SQL_READ) {
        PQclear(st->res);
        st->res = dbp_exec_prepared(db, st);
    }
    if (!st->res)
        return db->errcode ? db->errcode : DB_ERROR; /* said on db */
    int rc = dbp_check(db, st->res);
    if (rc != DB_OK) {
        PQclear(st->res);
        st->res = NULL;
        return rc;
    }
    const char *ct = PQcmdTuples(st->res);
    if (st->tr.kind == DB_PG_SQL_WRITE)
        db->changes = ct && *ct ? atoi(ct) : 0;
    st->ntuples =
        PQresultStatus(st->res) == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
    st->row = -1;
    return DB_OK;
}

static int dbp_step(struct db_stmt *sbase)
{
    struct dbp_stmt *st = PS(sbase);
    struct dbp *db = P(sbase->db);
    if (st->failed)
        return st->failed;
    if (!st->res && !st->done) {
        int rc = dbp_start(db, st);
        if (rc != DB_OK)
            return st->failed = rc;
        if (st->done)
            return DB_DONE;
    }
    if (st->done || ++st->row >= st->ntuples) {
        st->done = 1;
        return DB_DONE;
    }
    return DB_ROW;
}

static int dbp_reset(struct db_stmt *sbase)
{
    struct dbp_stmt *st = PS(sbase);
    int rc = st->failed;
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->ntuples = 0;
    st->done = 0;
    st->failed = 0;
    return rc ? rc : DB_OK;
}

static int dbp_clear_bindings(struct db_stmt *sbase)
{
    struct dbp_stmt *st = PS(sbase);
    for (int i = 0; i < st->tr.nparams; i++) {
        free(st->p[i].heap);
        st->p[i].heap = NULL;
        st->p[i].val = NULL;
    }
    return DB_OK;
}

static struct dbp_param *dbp_slot(struct dbp_stmt *st, int i)
{
    if (i < 1 || i > st->tr.nparams)
        return NULL;
    struct dbp_param *p = &st->p[i - 1];
    free(p->heap);
    p->heap = NULL;
    p->val = NULL;
    return p;
}

static int dbp_bind_int64(struct db_stmt *sbase, int i, int64_t v)
{
    struct dbp_param *p = dbp_slot(PS(sbase), i);
    if (!p)
        return 25; /* SQLITE_RANGE */
    snprintf(p->small, sizeof p->small, "%lld", (long long)v);
    p->val = p->small;
    return DB_OK;
}

static int dbp_bind_text(struct db_stmt *sbase, int i, const char *text,
                         int len, db_destructor lifetime)
{
    struct dbp_param *p = dbp_slot(PS(sbase), i);
    if (!p)
        return 25;
    if (!text)
        return DB_OK;
    size_t n = len < 0 ? strlen(text) : (size_t)len;
    char *dst = p->small;
    if (n >= sizeof p->small && !(dst = p->heap = malloc(n + 1)))
        return DB_NOMEM;
    memcpy(dst, text, n);
    dst[n] = '\0';
    p->val = dst;
    return DB_OK;
}

static int dbp_bind_null(struct db_stmt *sbase, int i)
{
    return dbp_slot(PS(sbase), i) ? DB_OK : 25;
}

static int dbp_bind_parameter_index(struct db_stmt *sbase, const char *name)
{
    return db_pg_sql_param_index(&PS(sbase)->tr, name);
}

static int dbp_has(struct dbp_stmt *st, int col)
{
    return st->res && st->row >= 0 && st->row < st->ntuples && col >= 0 &&
           col < PQnfields(st->res);
}

static int64_t dbp_column_int64(struct db_stmt *sbase, int col)
{
    struct dbp_stmt *st = PS(sbase);
    if (!dbp_has(st, col) || PQgetisnull(st->res, st->row, col))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, col);
    if (v[0] == 't' && !v[1])
        return 1; /* a boolean, as sqlite's 1 */
    return strtoll(v, NULL, 10);
}

static const unsigned char *dbp_column_text(struct db_stmt *sbase, int col)
{
    struct dbp_stmt *st = PS(sbase);
    if (!dbp_has(st, col) || PQgetisnull(st->res, st->row, col))
        return NULL;
    return (const unsigned char *)PQgetvalue(st->res, st->row, col);
}

static int dbp_column_type(struct db_stmt *sbase, int col)
{
    struct dbp_stmt *st = PS(sbase);
    if (!dbp_has(st, col) || PQgetisnull(st->res, st->row, col))
        return DB_NULL;
    switch (PQftype(st->res, col)) {
    case 16: /* bool */
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
        return DB_INTEGER;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        return DB_FLOAT;
    default:
        return DB_TEXT;
    }
}

static const struct db_ops dbp_ops = {
    .kind = DB_KIND_PG,
    .close = dbp_close,
    .sqlite_handle = dbp_handle,
    .exec = dbp_exec,
    .set_session_sql = dbp_set_session_sql,
    .errmsg = dbp_errmsg,
    .errcode = dbp_errcode,
    .extended_errcode = dbp_extended_errcode,
    .changes = dbp_changes,
    .get_autocommit = dbp_get_autocommit,
    .prepare = dbp_prepare,
    .finalize = dbp_finalize,
    .step = dbp_step,
    .reset = dbp_reset,
    .clear_bindings = dbp_clear_bindings,
    .bind_int64 = dbp_bind_int64,
    .bind_text = dbp_bind_text,
    .bind_null = dbp_bind_null,
    .bind_parameter_index = dbp_bind_parameter_index,
    .column_int64 = dbp_column_int64,
    .column_text = dbp_column_text,
    .column_type = dbp_column_type,
};

static void dbp_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs (e.g. "relation exists, skipping") */
}

struct db *db_pg_open(const char *url, char *err, size_t errlen)
{
    struct dbp *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->base.ops = &dbp_ops;
    db->c = PQconnectdb(url);
    if (!db->c || PQstatus(db->c) != CONNECTION_OK) {
        dbp_set_err(db, DB_ERROR, 0,
                    db->c ? PQerrorMessage(db->c) : "out of memory");
        snprintf(err, errlen, "cannot connect to PostgreSQL: %s", db->err);
        dbp_close(&db->base);
        return NULL;
    }
    PQsetNoticeProcessor(db->c, dbp_quiet, NULL);
    if (dbp_run(db, "SET client_min_messages = warning") != DB_OK) {
        snprintf(err, errlen, "PostgreSQL: %s", db->err);
        dbp_close(&db->base);
        return NULL;
    }
    return &db->base;
}
