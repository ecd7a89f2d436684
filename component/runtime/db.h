/* db.h - the portable database layer: one API, two engines.
 *
 * The store (runtime/store) and the domain modules talk to the database
 * only through these calls. They mirror the subset of sqlite's C API that
 * chatdesk uses, with the same meaning and the same result codes, so a
 * module reads like the sqlite code it was (sqlite3_step -> db_step,
 * SQLITE_ROW -> DB_ROW). Two engines implement them:
 *
 * - db_sqlite.c: a thin wrapper over sqlite3 (no change of behaviour);
 * - db_pg.c: PostgreSQL over libpq. SQL is written with sqlite's
 *   placeholders (?, ?NNN, :name); db_pg numbers them the way sqlite does
 *   and rewrites them to $n when it prepares the statement (once per
 *   connection). A statement runs at its first db_step() after a
 *   db_reset(), with the values bound then; db_step() then walks the rows
 *   of the result. Errors map to the sqlite codes the modules check
 *   (a unique violation is DB_CONSTRAINT / DB_CONSTRAINT_UNIQUE).
 *
 * Where the two engines need different SQL, a module keeps one string per
 * engine and picks it with db_kind(). docs/architecture.md has the rules.
 */
#ifndef CHATDESK_DB_H
#define CHATDESK_DB_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_stmt;

/* Result codes: the numbers are sqlite's own (db_sqlite passes them on). */
enum {
    DB_OK = 0,
    DB_ERROR = 1,
    DB_BUSY = 5,
    DB_LOCKED = 6,
    DB_NOMEM = 7,
    DB_MISUSE = 21,
    DB_CONSTRAINT = 19,
    DB_ROW = 100,
    DB_DONE = 101,
};

/* Extended codes of DB_CONSTRAINT (db_extended_errcode). */
enum {
    DB_CONSTRAINT_CHECK = 275,
    DB_CONSTRAINT_FOREIGNKEY = 787,
    DB_CONSTRAINT_NOTNULL = 1299,
    DB_CONSTRAINT_PRIMARYKEY = 1555,
    DB_CONSTRAINT_UNIQUE = 2067,
};

/* Column types (db_column_type): only DB_NULL is relied upon. */
enum { DB_INTEGER = 1, DB_FLOAT = 2, DB_TEXT = 3, DB_BLOB = 4, DB_NULL = 5 };

/* Text binding lifetimes, as sqlite's: DB_STATIC = the caller keeps the
 * text alive until the statement is reset or rebound; DB_TRANSIENT = copy. */
typedef void (*db_destructor)(void *);
#define DB_STATIC ((db_destructor)0)
#define DB_TRANSIENT ((db_destructor)-1)

enum db_kind { DB_KIND_SQLITE, DB_KIND_PG };

/* Is target a PostgreSQL connection URI (postgresql:// or postgres://)? */
int db_is_pg_url(const char *target);

/* Open target: a PostgreSQL URI, or else a sqlite file path (":memory:"
 * too). NULL on failure, with a message in err. */
struct db *db_open(const char *target, char *err, size_t errlen);
void db_close(struct db *db);
enum db_kind db_kind(const struct db *db);

/* The sqlite handle under db, or NULL on PostgreSQL: only for what only
 * sqlite has (PRAGMAs, online backup, tests that serialize a database).
 * The return is a sqlite3 *; void here so this header needs no sqlite.h. */
void *db_sqlite_handle(struct db *db);

/* PostgreSQL: sql (copied) is run again on every new connection after a
 * lost one, e.g. to take a session-level lock again; its result is
 * ignored. sqlite: nothing. DB_OK or DB_NOMEM. */
int db_set_session_sql(struct db *db, const char *sql);

/* Run one or more statements without results. DB_OK or an error code; on
 * error *errmsg (when given) gets a malloc'd message for db_free(). */
int db_exec(struct db *db, const char *sql, char **errmsg);
void db_free(void *p);

/* The last error on db, and its codes. */
const char *db_errmsg(struct db *db);
int db_errcode(struct db *db);
int db_extended_errcode(struct db *db);

/* Rows changed by the last INSERT, UPDATE or DELETE run on db. */
int db_changes(struct db *db);
/* 0 inside a transaction, else non-zero (sqlite3_get_autocommit). */
int db_get_autocommit(struct db *db);

/* Statements. db_prepare: DB_OK and *out, or an error code and NULL. */
int db_prepare(struct db *db, const char *sql, struct db_stmt **out);
int db_finalize(struct db_stmt *st);
int db_step(struct db_stmt *st);
int db_reset(struct db_stmt *st);
/* Step a bound INSERT ... RETURNING id (one row of one column) to its
 * end: DB_DONE with the new row's id in *id, or the error code (*id
 * untouched). The caller resets st. This, not a "last inserted id" of the
 * connection, is how a new row's id is learned: it is the statement's own
 * row on both engines, whatever triggers, other connections or other
 * processes inserted meanwhile. */
int db_step_id(struct db_stmt *st, int64_t *id);
int db_clear_bindings(struct db_stmt *st);

int db_bind_int64(struct db_stmt *st, int i, int64_t v);
int db_bind_int(struct db_stmt *st, int i, int v);
int db_bind_text(struct db_stmt *st, int i, const char *text, int len,
                 db_destructor lifetime);
int db_bind_null(struct db_stmt *st, int i);
/* The index of the named parameter (":name"), or 0. */
int db_bind_parameter_index(struct db_stmt *st, const char *name);

int64_t db_column_int64(struct db_stmt *st, int col);
int db_column_int(struct db_stmt *st, int col);
/* NUL-terminated text of the column, or NULL for SQL NULL; valid until the
 * next step, reset or finalize. */
const unsigned char *db_column_text(struct db_stmt *st, int col);
int db_column_type(struct db_stmt *st, int col);

/* The engines' table of operations (db_sqlite.c, db_pg.c); db.c calls
 * through it. Every struct db and struct db_stmt begins with these. */
struct db_ops;
struct db {
    const struct db_ops *ops;
};
struct db_stmt {
    struct db *db;
};

#endif
