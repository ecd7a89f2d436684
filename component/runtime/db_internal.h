/* db_internal.h - what db.c asks of an engine (db_sqlite.c, db_pg.c).
 * Only the db*.c files include it. */
#ifndef CHATDESK_DB_INTERNAL_H
#define CHATDESK_DB_INTERNAL_H

#include "runtime/db.h"

struct db_ops {
    enum db_kind kind;
    void (*close)(struct db *db);
    void *(*sqlite_handle)(struct db *db);
    int (*exec)(struct db *db, const char *sql, char **errmsg);
    int (*set_session_sql)(struct db *db, const char *sql);
    const char *(*errmsg)(struct db *db);
    int (*errcode)(struct db *db);
    int (*extended_errcode)(struct db *db);
    int (*changes)(struct db *db);
    int (*get_autocommit)(struct db *db);
    int (*prepare)(struct db *db, const char *sql, struct db_stmt **out);
    int (*finalize)(struct db_stmt *st);
    int (*step)(struct db_stmt *st);
    int (*reset)(struct db_stmt *st);
    int (*clear_bindings)(struct db_stmt *st);
    int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
    int (*bind_text)(struct db_stmt *st, int i, const char *text, int len,
                     db_destructor lifetime);
    int (*bind_null)(struct db_stmt *st, int i);
    int (*bind_parameter_index)(struct db_stmt *st, const char *name);
    int64_t (*column_int64)(struct db_stmt *st, int col);
    const unsigned char *(*column_text)(struct db_stmt *st, int col);
    int (*column_type)(struct db_stmt *st, int col);
};

struct db *db_sqlite_open(const char *path, char *err, size_t errlen);
struct db *db_pg_open(const char *url, char *err, size_t errlen);

#endif
