/* store.c - see store.h */
#include "runtime/store.h"

#include "runtime/clock.h"
#include "runtime/metrics.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store {
    struct db *db;
};

static int store__pg(struct db *db)
{
    return db_kind(db) == DB_KIND_PG;
}

/* The first column of sql's first row as an integer; def when there is no
 * row, -1 on error. */
static int store__int(struct db *db, const char *sql, int def)
{
    struct db_stmt *st = NULL;
    int v = -1;
    if (db_prepare(db, sql, &st) != DB_OK)
        return -1;
    int rc = db_step(st);
    if (rc == DB_ROW)
        v = db_column_int(st, 0);
    else if (rc == DB_DONE)
        v = def;
    db_finalize(st);
    return v;
}

static int store__version(struct db *db)
{
    if (!store__pg(db))
        return store__int(db, "PRAGMA user_version", 0);
    /* PostgreSQL: a one-row table instead of PRAGMA user_version. */
    if (db_exec(db,
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER NOT NULL)",
                NULL) != DB_OK)
        return -1;
    return store__int(db, "SELECT version FROM schema_version", 0);
}

static int store__set_version(struct db *db, int version, char **msg)
{
    char sql[160];
    if (store__pg(db))
        snprintf(sql, sizeof sql,
                 "DELETE FROM schema_version; "
                 "INSERT INTO schema_version (version) VALUES (%d)",
                 version);
    else
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
    return db_exec(db, sql, msg);
}

/* PostgreSQL: one migrator at a time across processes (a transaction-level
 * advisory lock), and a migration another process applied meanwhile is
 * not applied again. 1 = already applied, 0 = go on, -1 = error. */
static int store__pg_claim(struct db *db, int version, char **msg)
{
    if (!store__pg(db))
        return 0;
    if (db_exec(db, "SELECT pg_advisory_xact_lock(7311514921)", msg) !=
        DB_OK)
        return -1;
    int v = store__int(db, "SELECT version FROM schema_version", 0);
    return v < 0 ? -1 : v >= version;
}

static int store__apply(struct db *db, int version, const char *sql,
                        char *err, size_t errlen)
{
    char *msg = NULL;
    int claimed;
    if (db_exec(db, "BEGIN IMMEDIATE", &msg) != DB_OK)
        goto fail;
    if ((claimed = store__pg_claim(db, version, &msg)) < 0)
        goto rollback;
    if (claimed) {
        db_exec(db, "ROLLBACK", NULL);
        return 0;
    }
    if (db_exec(db, sql, &msg) != DB_OK)
        goto rollback;
    if (store__set_version(db, version, &msg) != DB_OK)
        goto rollback;
    if (db_exec(db, "COMMIT", &msg) != DB_OK)
        goto rollback;
    return 0;
rollback:
    db_exec(db, "ROLLBACK", NULL);
fail:
    snprintf(err, errlen, "migration to schema version %d failed: %s",
             version, msg ? msg : db_errmsg(db));
    db_free(msg);
    return -1;
}

int store_migrate(struct db *db, const char *const *migrations, size_t count,
                  char *err, size_t errlen)
{
    int current = store__version(db);
    if (current < 0) {
        snprintf(err, errlen, "cannot read schema version: %s",
                 db_errmsg(db));
        return -1;
    }
    if ((size_t)current > count) {
        snprintf(err, errlen,
                 "database schema version %d is newer than this chatdesk "
                 "(knows up to %zu); upgrade chatdesk",
                 current, count);
        return -1;
    }
    for (size_t i = (size_t)current; i < count; i++) {
        if (store__apply(db, (int)i + 1, migrations[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int store__exec(struct db *db, const char *sql, char *err,
                       size_t errlen)
{
    char *msg = NULL;
    if (db_exec(db, sql, &msg) == DB_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", sql, msg ? msg : db_errmsg(db));
    db_free(msg);
    return -1;
}

struct store *store_open(const char *target, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(st->db = db_open(target, err, errlen)))
        goto fail;
    if (store__pg(st->db)) {
        if (store_migrate(st->db, chatdesk_pg_migrations,
                          chatdesk_pg_migrations_count, err, errlen) != 0)
            goto fail;
        return st;
    }
    /* Acknowledged messages must survive power loss: FULL, not NORMAL. */
    if (store__exec(st->db, "PRAGMA journal_mode = WAL", err, errlen) ||
        store__exec(st->db, "PRAGMA synchronous = FULL", err, errlen) ||
        store__exec(st->db, "PRAGMA foreign_keys = ON", err, errlen))
        goto fail;
    if (store_migrate(st->db, chatdesk_migrations, chatdesk_migrations_count,
                      err, errlen) != 0)
        goto fail;
    return st;
fail:
    store_close(st);
    return NULL;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    db_close(st->db);
    free(st);
}

struct db *store_db(struct store *st)
{
    return st->db;
}

int store_schema_version(struct store *st)
{
    return store__version(st->db);
}

/* The instance lock: one chatdesk per database, or with several processes
 * (runtime/cluster.h) the one that leads. */
static const char store__lock[] = "SELECT pg_try_advisory_lock(7311514922)";

int store_try_lead(struct store *st)
{
    if (!store__pg(st->db))
        return 1;
    int got = store__int(st->db, store__lock, 0);
    /* a session lock: taken again on a new connection after a lost one */
    if (got == 1 && db_set_session_sql(st->db, store__lock) != DB_OK)
        return -1;
    return got;
}

/* pg_try_advisory_lock(bigint) takes classid = the key's high 32 bits,
 * objid = its low 32 bits, objsubid = 1 (PostgreSQL's pg_locks docs). */
int store_holds_lead(struct store *st)
{
    if (!store__pg(st->db))
        return 1;
    return store__int(st->db,
                      "SELECT count(*) FROM pg_locks WHERE locktype = "
                      "'advisory' AND granted AND pid = pg_backend_pid() "
                      "AND objsubid = 1 AND ((classid::bigint << 32) | "
                      "objid::bigint) = 7311514922",
                      -1);
}

int store_claim_instance(struct store *st, char *err, size_t errlen)
{
    if (!store__pg(st->db))
        return 0;
    int got = store_try_lead(st);
    if (got == 1)
        return 0;
    if (got < 0)
        snprintf(err, errlen, "cannot take the instance lock: %s",
                 db_errmsg(st->db));
    else
        snprintf(err, errlen,
                 "another chatdesk is already running on this PostgreSQL "
                 "database");
    return -1;
}

int store_begin(struct store *st)
{
    return db_exec(st->db, "BEGIN IMMEDIATE", NULL) == DB_OK ? 0 : -1;
}

int store_commit(struct store *st)
{
    uint64_t t0 = clock_mono_us();
    int rc = db_exec(st->db, "COMMIT", NULL) == DB_OK ? 0 : -1;
    metrics_commit(clock_mono_us() - t0);
    return rc;
}

int store_rollback(struct store *st)
{
    return db_exec(st->db, "ROLLBACK", NULL) == DB_OK ? 0 : -1;
}

int store_prepare_engines(struct db *db, const char *const *sql,
                          const char *const *pg_sql, struct db_stmt **stmt,
                          int n, const char *module, char *err,
                          size_t errlen)
{
    int pg = pg_sql && store__pg(db);
    for (int i = 0; i < n; i++) {
        const char *text = pg && pg_sql[i] ? pg_sql[i] : sql[i];
        if (db_prepare(db, text, &stmt[i]) != DB_OK) {
            snprintf(err, errlen, "%s: cannot prepare \"%s\": %s", module,
                     text, db_errmsg(db));
            return -1;
        }
    }
    return 0;
}

int store_prepare_all(struct db *db, const char *const *sql,
                      struct db_stmt **stmt, int n, const char *module,
                      char *err, size_t errlen)
{
    return store_prepare_engines(db, sql, NULL, stmt, n, module, err, errlen);
}

void store_finalize_all(struct db_stmt **stmt, int n)
{
    for (int i = 0; i < n; i++) {
        db_finalize(stmt[i]);
        stmt[i] = NULL;
    }
}

/* The whole of src into the (new) database file at path, in one step: a
 * single read transaction, so the copy is one consistent snapshot (WAL
 * lets chatdesk go on writing meanwhile). */
static int store__copy(sqlite3 *src, const char *path, char *err,
                       size_t errlen)
{
    sqlite3 *dst = NULL;
    int rc = sqlite3_open(path, &dst);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(dst, 5000);
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        if (b) {
            while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY ||
                   rc == SQLITE_LOCKED)
                sqlite3_sleep(50);
            sqlite3_backup_finish(b);
        }
        rc = b && rc == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(dst);
    }
    if (rc != SQLITE_OK)
        snprintf(err, errlen, "backup to %s failed: %s", path,
                 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
    sqlite3_close(dst);
    return rc == SQLITE_OK ? 0 : -1;
}

int store_backup(struct store *st, const char *dest, char *err,
                 size_t errlen)
{
    char tmp[4096];
    sqlite3 *src = db_sqlite_handle(st->db);
    if (!src) {
        snprintf(err, errlen,
                 "backup: the database is PostgreSQL; back it up with "
                 "pg_dump (docs/operations.md)");
        return -1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= (int)sizeof tmp) {
        snprintf(err, errlen, "backup: the file name is too long");
        return -1;
    }
    unlink(tmp);
    if (store__copy(src, tmp, err, errlen) != 0) {
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, dest) != 0) {
        snprintf(err, errlen, "backup: cannot rename %s to %s: %s", tmp, dest,
                 strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
