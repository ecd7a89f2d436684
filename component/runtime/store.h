/* store.h - the store: a sqlite file (WAL) or a PostgreSQL database, with
 * numbered migrations.
 *
 * The schema is a list of migrations, one list per engine with the same
 * numbers (schema.c for sqlite, schema_pg.c for PostgreSQL); migration N
 * moves the database from version N-1 to N inside one transaction (sqlite:
 * PRAGMA user_version; PostgreSQL: the table schema_version). Modules that
 * keep data prepare their statements once against store_db() (runtime/db.h)
 * and finalize them before store_close().
 */
#ifndef CHATDESK_STORE_H
#define CHATDESK_STORE_H

#include <stddef.h>
#include "runtime/db.h"

struct store;

/* The migrations, in order: chatdesk_migrations[i] takes the schema from
 * version i to i+1. Defined in schema.c. */
extern const char *const chatdesk_migrations[];
extern const size_t chatdesk_migrations_count;
/* The same migrations for PostgreSQL (schema_pg.c); as many as above. */
extern const char *const chatdesk_pg_migrations[];
extern const size_t chatdesk_pg_migrations_count;

/* Open target: a PostgreSQL URI ("postgresql://..."), or else the sqlite
 * file at that path (created if needed; ":memory:" for tests) with WAL and
 * foreign keys on; then run the pending migrations. On failure returns
 * NULL and writes a message into err. */
struct store *store_open(const char *target, char *err, size_t errlen);

/* Close the database. Every statement prepared on it must be finalized. */
void store_close(struct store *st);

/* The underlying handle, borrowed. */
struct db *store_db(struct store *st);

/* The schema version the database is at. */
int store_schema_version(struct store *st);

/* Run migrations[from..count-1] on db; exposed for the migration tests.
 * Returns 0 or -1 with a message in err; a failed migration leaves the
 * database at the last version that succeeded. */
int store_migrate(struct db *db, const char *const *migrations, size_t count,
                  char *err, size_t errlen);

/* Prepare sql[0..n-1] on db, persistent, into stmt[0..n-1] (zeroed by the
 * caller). 0, or -1 with "MODULE: cannot prepare \"SQL\": why" in err; the
 * statements prepared before the failure stay in stmt for
 * store_finalize_all(). */
int store_prepare_all(struct db *db, const char *const *sql,
                      struct db_stmt **stmt, int n, const char *module,
                      char *err, size_t errlen);

/* The same, where some statements need other SQL on PostgreSQL: pg_sql
 * (n entries, or NULL) gives those, NULL for the ones that are the same. */
int store_prepare_engines(struct db *db, const char *const *sql,
                          const char *const *pg_sql, struct db_stmt **stmt,
                          int n, const char *module, char *err,
                          size_t errlen);

/* Finalize stmt[0..n-1]; NULL entries are skipped. */
void store_finalize_all(struct db_stmt **stmt, int n);

/* Copy the whole database to the file dest with sqlite's online backup,
 * safe while chatdesk writes (one consistent snapshot). The copy is
 * written to "dest.tmp" and renamed over dest only when complete, so a
 * failed backup leaves an older dest as it was. 0, or -1 with err.
 * On PostgreSQL: -1, and err says to use pg_dump. */
int store_backup(struct store *st, const char *dest, char *err,
                 size_t errlen);

/* One chatdesk per database. PostgreSQL: take a session-level advisory
 * lock, held while st is open; a second chatdesk on the same database gets
 * -1 and a message in err (several processes on one database, with
 * connections = auto, use store_try_lead() instead: runtime/cluster.h). The lock is taken again when a lost
 * connection is opened again (a second chatdesk started in between would
 * keep it: then both run). sqlite: 0 (runtime/lock keeps the file's
 * lock). */
int store_claim_instance(struct store *st, char *err, size_t errlen);

/* The same lock for several processes on one PostgreSQL database
 * (runtime/cluster.h): 1 when this process holds it now (taken, or it is
 * sqlite), 0 when another process does, -1 on an error. Calling it again
 * while holding it stacks the lock: ask until it says 1, then no more. */
int store_try_lead(struct store *st);

/* 1 when this process's connection holds that lock now (always on
 * sqlite), 0 when it does not (its connection was lost and opened again
 * while another process took the lock), -1 on an error. */
int store_holds_lead(struct store *st);

/* BEGIN IMMEDIATE (PostgreSQL: BEGIN) / COMMIT / ROLLBACK. Return 0 or -1. Each
 * COMMIT's time goes to the metrics' latency histogram (runtime/metrics). */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

#endif
