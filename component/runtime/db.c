/* db.c - see db.h: the calls go to the engine's table of operations. */
#include "runtime/db_internal.h"

#include <stdlib.h>
#include <string.h>

int db_is_pg_url(const char *target)
{
    return target && (!strncmp(target, "postgresql://", 13) ||
                      !strncmp(target, "postgres://", 11));
}

struct db *db_open(const char *target, char *err, size_t errlen)
{
    if (db_is_pg_url(target))
        return db_pg_open(target, err, errlen);
    return db_sqlite_open(target, err, errlen);
}

void db_close(struct db *db)
{
    if (db)
        db->ops->close(db);
}

enum db_kind db_kind(const struct db *db)
{
    return db->ops->kind;
}

void *db_sqlite_handle(struct db *db)
{
    return db->ops->sqlite_handle(db);
}

int db_set_session_sql(struct db *db, const char *sql)
{
    return db->ops->set_session_sql(db, sql);
}

int db_exec(struct db *db, const char *sql, char **errmsg)
{
    return db->ops->exec(db, sql, errmsg);
}

void db_free(void *p)
{
    free(p);
}

const char *db_errmsg(struct db *db)
{
    return db->ops->errmsg(db);
}

int db_errcode(struct db *db)
{
    return db->ops->errcode(db);
}

int db_extended_errcode(struct db *db)
{
    return db->ops->extended_errcode(db);
}

int db_changes(struct db *db)
{
    return db->ops->changes(db);
}

int db_get_autocommit(struct db *db)
{
    return db->ops->get_autocommit(db);
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
    return db->ops->prepare(db, sql, out);
}

int db_finalize(struct db_stmt *st)
{
    return st ? st->db->ops->finalize(st) : DB_OK;
}

int db_step(struct db_stmt *st)
{
    return st->db->ops->step(st);
}

int db_reset(struct db_stmt *st)
{
    return st->db->ops->reset(st);
}

int db_step_id(struct db_stmt *st, int64_t *id)
{
    int rc = db_step(st);
    if (rc != DB_ROW)
        return rc == DB_DONE ? DB_MISUSE : rc; /* no RETURNING row */
    int64_t v = db_column_int64(st, 0);
    rc = db_step(st);
    if (rc == DB_DONE)
        *id = v;
    return rc == DB_ROW ? DB_MISUSE : rc;
}

int db_clear_bindings(struct db_stmt *st)
{
    return st->db->ops->clear_bindings(st);
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
    return st->db->ops->bind_int64(st, i, v);
}

int db_bind_int(struct db_stmt *st, int i, int v)
{
    return st->db->ops->bind_int64(st, i, v);
}

int db_bind_text(struct db_stmt *st, int i, const char *text, int len,
                 db_destructor lifetime)
{
    return st->db->ops->bind_text(st, i, text, len, lifetime);
}

int db_bind_null(struct db_stmt *st, int i)
{
    return st->db->ops->bind_null(st, i);
}

int db_bind_parameter_index(struct db_stmt *st, const char *name)
{
    return st->db->ops->bind_parameter_index(st, name);
}

int64_t db_column_int64(struct db_stmt *st, int col)
{
    return st->db->ops->column_int64(st, col);
}

int db_column_int(struct db_stmt *st, int col)
{
    return (int)st->db->ops->column_int64(st, col);
}

const unsigned char *db_column_text(struct db_stmt *st, int col)
{
    return st->db->ops->column_text(st, col);
}

int db_column_type(struct db_stmt *st, int col)
{
    return st->db->ops->column_type(st, col);
}
