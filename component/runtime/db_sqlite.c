/* db_sqlite.c - the db layer on sqlite: each call is the sqlite call of
 * the same name (see db.h). */
#include "runtime/db_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(DB_ROW == SQLITE_ROW && DB_DONE == SQLITE_DONE &&
                   DB_CONSTRAINT == SQLITE_CONSTRAINT &&
                   DB_NOMEM == SQLITE_NOMEM && DB_BUSY == SQLITE_BUSY &&
                   DB_NULL == SQLITE_NULL && DB_TEXT == SQLITE_TEXT,
               "db.h codes are sqlite's");
_Static_assert(DB_CONSTRAINT_UNIQUE == SQLITE_CONSTRAINT_UNIQUE &&
                   DB_CONSTRAINT_PRIMARYKEY == SQLITE_CONSTRAINT_PRIMARYKEY &&
                   DB_CONSTRAINT_FOREIGNKEY == SQLITE_CONSTRAINT_FOREIGNKEY &&
                   DB_CONSTRAINT_CHECK == SQLITE_CONSTRAINT_CHECK &&
                   DB_CONSTRAINT_NOTNULL == SQLITE_CONSTRAINT_NOTNULL,
               "db.h extended codes are sqlite's");

struct dbs {
    struct db base;
    sqlite3 *h;
};

struct dbs_stmt {
    struct db_stmt base;
    sqlite3_stmt *s;
};

#define H(db) (((struct dbs *)(db))->h)
#define S(st) (((struct dbs_stmt *)(st))->s)

static void dbs_close(struct db *db)
{
    sqlite3_close(H(db));
    free(db);
}

static void *dbs_handle(struct db *db)
{
    return H(db);
}

static int dbs_exec(struct db *db, const char *sql, char **errmsg)
{
    char *msg = NULL;
    int rc = sqlite3_exec(H(db), sql, NULL, NULL, errmsg ? &msg : NULL);
    if (errmsg)
        *errmsg = msg ? strdup(msg) : NULL;
    sqlite3_free(msg);
    return rc;
}

static int dbs_set_session_sql(struct db *db, const char *sql)
{
    return DB_OK; /* a file: no connection to lose */
}

static const char *dbs_errmsg(struct db *db)
{
    return sqlite3_errmsg(H(db));
}

static int dbs_errcode(struct db *db)
{
    return sqlite3_errcode(H(db));
}

static int dbs_extended_errcode(struct db *db)
{
    return sqlite3_extended_errcode(H(db));
}

static int dbs_changes(struct db *db)
{
    return sqlite3_changes(H(db));
}

static int dbs_get_autocommit(struct db *db)
{
    return sqlite3_get_autocommit(H(db));
}

static int dbs_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    struct dbs_stmt *st = calloc(1, sizeof *st);
    *out = NULL;
    if (!st)
        return DB_NOMEM;
    int rc = sqlite3_prepare_v3(H(db), sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &st->s, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st->s);
        free(st);
        return rc;
    }
    st->base.db = db;
    *out = &st->base;
    return DB_OK;
}

static int dbs_finalize(struct db_stmt *st)
{
    int rc = sqlite3_finalize(S(st));
    free(st);
    return rc;
}

static int dbs_step(struct db_stmt *st)
{
    return sqlite3_step(S(st));
}

static int dbs_reset(struct db_stmt *st)
{
    return sqlite3_reset(S(st));
}

static int dbs_clear_bindings(struct db_stmt *st)
{
    return sqlite3_clear_bindings(S(st));
}

static int dbs_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(S(st), i, (sqlite3_int64)v);
}

static int dbs_bind_text(struct db_stmt *st, int i, const char *text, int len,
                         db_destructor lifetime)
{
    return sqlite3_bind_text(S(st), i, text, len,
                             lifetime == DB_TRANSIENT ? SQLITE_TRANSIENT
                                                      : lifetime);
}

static int dbs_bind_null(struct db_stmt *st, int i)
{
    return sqlite3_bind_null(S(st), i);
}

static int dbs_bind_parameter_index(struct db_stmt *st, const char *name)
{
    return sqlite3_bind_parameter_index(S(st), name);
}

static int64_t dbs_column_int64(struct db_stmt *st, int col)
{
    return sqlite3_column_int64(S(st), col);
}

static const unsigned char *dbs_column_text(struct db_stmt *st, int col)
{
    return sqlite3_column_text(S(st), col);
}

static int dbs_column_type(struct db_stmt *st, int col)
{
    return sqlite3_column_type(S(st), col);
}

static const struct db_ops dbs_ops = {
    .kind = DB_KIND_SQLITE,
    .close = dbs_close,
    .sqlite_handle = dbs_handle,
    .exec = dbs_exec,
    .set_session_sql = dbs_set_session_sql,
    .errmsg = dbs_errmsg,
    .errcode = dbs_errcode,
    .extended_errcode = dbs_extended_errcode,
    .changes = dbs_changes,
    .get_autocommit = dbs_get_autocommit,
    .prepare = dbs_prepare,
    .finalize = dbs_finalize,
    .step = dbs_step,
    .reset = dbs_reset,
    .clear_bindings = dbs_clear_bindings,
    .bind_int64 = dbs_bind_int64,
    .bind_text = dbs_bind_text,
    .bind_null = dbs_bind_null,
    .bind_parameter_index = dbs_bind_parameter_index,
    .column_int64 = dbs_column_int64,
    .column_text = dbs_column_text,
    .column_type = dbs_column_type,
};

struct db *db_sqlite_open(const char *path, char *err, size_t errlen)
{
    struct dbs *db = calloc(1, sizeof *db);
    if (!db) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    db->base.ops = &dbs_ops;
    if (sqlite3_open_v2(path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 db->h ? sqlite3_errmsg(db->h) : "out of memory");
        dbs_close(&db->base);
        return NULL;
    }
    sqlite3_busy_timeout(db->h, 5000);
    return &db->base;
}
