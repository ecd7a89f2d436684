/* store.c - see store.h */
#include "runtime/store.h"

#include "runtime/clock.h"
#include "runtime/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store {
    sqlite3 *db;
};

static int store__user_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int store__apply(sqlite3 *db, int version, const char *sql, char *err,
                        size_t errlen)
{
    char *msg = NULL;
    char pragma[64];
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
        goto fail;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        goto rollback;
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    if (sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK)
        goto rollback;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
        goto rollback;
    return 0;
rollback:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail:
    snprintf(err, errlen, "migration to schema version %d failed: %s",
             version, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

int store_migrate(sqlite3 *db, const char *const *migrations, size_t count,
                  char *err, size_t errlen)
{
    int current = store__user_version(db);
    if (current < 0) {
        snprintf(err, errlen, "cannot read schema version: %s",
                 sqlite3_errmsg(db));
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

static int store__exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "cannot open database %s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 5000);
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
    sqlite3_close(st->db);
    free(st);
}

sqlite3 *store_db(struct store *st)
{
    return st->db;
}

int store_schema_version(struct store *st)
{
    return store__user_version(st->db);
}

int store_begin(struct store *st)
{
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ==
                   SQLITE_OK
               ? 0
               : -1;
}

int store_commit(struct store *st)
{
    uint64_t t0 = clock_mono_us();
    int rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    metrics_commit(clock_mono_us() - t0);
    return rc;
}

int store_rollback(struct store *st)
{
    return sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK
               ? 0
               : -1;
}

int store_prepare_all(sqlite3 *db, const char *const *sql, sqlite3_stmt **stmt,
                      int n, const char *module, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &stmt[i], NULL) != SQLITE_OK) {
            snprintf(err, errlen, "%s: cannot prepare \"%s\": %s", module,
                     sql[i], sqlite3_errmsg(db));
            return -1;
        }
    }
    return 0;
}

void store_finalize_all(sqlite3_stmt **stmt, int n)
{
    for (int i = 0; i < n; i++)
        sqlite3_finalize(stmt[i]);
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
    if (snprintf(tmp, sizeof tmp, "%s.tmp", dest) >= (int)sizeof tmp) {
        snprintf(err, errlen, "backup: the file name is too long");
        return -1;
    }
    unlink(tmp);
    if (store__copy(st->db, tmp, err, errlen) != 0) {
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
