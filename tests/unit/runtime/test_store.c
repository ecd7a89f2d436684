/* test_store.c - migrations (PRAGMA user_version on sqlite, the table
 * schema_version on PostgreSQL), WAL on a file, the online backup (sqlite)
 * or the pointer to pg_dump (PostgreSQL). Runs on both (testdb.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/store.h"
#include "testdb.h"

static int version_of(struct db *db)
{
    struct db_stmt *st;
    assert_int_equal(db_prepare(db,
                                db_kind(db) == DB_KIND_PG
                                    ? "SELECT version FROM schema_version"
                                    : "PRAGMA user_version",
                                &st),
                     DB_OK);
    assert_int_equal(db_step(st), DB_ROW);
    int v = db_column_int(st, 0);
    db_finalize(st);
    return v;
}

static void test_open_memory_runs_all_migrations(void **state)
{
    (void)state;
    char err[256];
    struct store *st = store_open(testdb_target(":memory:"), err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_schema_version(st),
                     (int)chatdesk_migrations_count);
    store_close(st);
}

/* Both engines know the same migrations. */
static void test_engines_have_the_same_migrations(void **state)
{
    (void)state;
    assert_int_equal(chatdesk_pg_migrations_count, chatdesk_migrations_count);
}

static void test_migrations_step_by_step(void **state)
{
    (void)state;
    static const char *const m[] = {
        "CREATE TABLE a (x INTEGER);",
        "ALTER TABLE a ADD COLUMN y TEXT;",
        "CREATE INDEX a_y ON a (y);",
    };
    struct db *db;
    char err[256];
    assert_non_null(db = db_open(testdb_target(":memory:"), err, sizeof err));
    assert_int_equal(store_migrate(db, m, 1, err, sizeof err), 0);
    assert_int_equal(version_of(db), 1);
    /* re-running is a no-op; later migrations apply on top */
    assert_int_equal(store_migrate(db, m, 1, err, sizeof err), 0);
    assert_int_equal(store_migrate(db, m, 3, err, sizeof err), 0);
    assert_int_equal(version_of(db), 3);
    assert_int_equal(db_exec(db, "INSERT INTO a (x, y) VALUES (1, 'z')", NULL),
                     DB_OK);
    /* a database newer than the program is refused */
    assert_int_equal(store_migrate(db, m, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "newer than this chatdesk"));
    db_close(db);
}

static void test_failed_migration_rolls_back(void **state)
{
    (void)state;
    static const char *const m[] = {
        "CREATE TABLE a (x INTEGER);",
        "CREATE TABLE b (x INTEGER); CREATE TABLE a (x INTEGER);",
    };
    struct db *db;
    char err[256];
    assert_non_null(db = db_open(testdb_target(":memory:"), err, sizeof err));
    assert_int_equal(store_migrate(db, m, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "migration to schema version 2 failed"));
    assert_int_equal(version_of(db), 1);
    /* table b of the failed migration is gone with it */
    assert_int_not_equal(db_exec(db, "SELECT * FROM b", NULL),
                         DB_OK);
    db_close(db);
}

static void test_file_is_wal_and_reopens(void **state)
{
    (void)state;
    char path[] = "/tmp/chatdesk-store-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    struct store *st = store_open(testdb_target(path), err, sizeof err);
    assert_non_null(st);
    if (!testdb_is_pg()) {
        struct db_stmt *q;
        assert_int_equal(db_prepare(store_db(st), "PRAGMA journal_mode", &q),
                         DB_OK);
        assert_int_equal(db_step(q), DB_ROW);
        assert_string_equal((const char *)db_column_text(q, 0), "wal");
        db_finalize(q);
    }
    store_close(st);
    st = store_open(testdb_target(path), err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_schema_version(st),
                     (int)chatdesk_migrations_count);
    store_close(st);
    testdb_remove(path);
    unlink(path);
}

/* The backup is a complete database (schema version and rows) and leaves
 * no temporary file; a backup that cannot be written says where. */
static void test_backup(void **state)
{
    (void)state;
    if (testdb_is_pg()) {
        char e[256];
        struct store *pg = store_open(testdb_target(":memory:"), e, sizeof e);
        assert_non_null(pg);
        assert_int_equal(store_backup(pg, "/tmp/x.bak", e, sizeof e), -1);
        assert_non_null(strstr(e, "pg_dump"));
        store_close(pg);
        return;
    }
    char path[] = "/tmp/chatdesk-store-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[512], copy[64];
    snprintf(copy, sizeof copy, "%s.bak", path);
    struct store *st = store_open(path, err, sizeof err);
    assert_non_null(st);
    struct db *db = store_db(st);
    assert_int_equal(db_exec(db, "CREATE TABLE t (x); INSERT INTO t "
                                      "VALUES (1), (2)", NULL),
                     DB_OK);
    assert_int_equal(store_backup(st, copy, err, sizeof err), 0);
    assert_int_equal(store_begin(st), 0);
    assert_int_equal(
        db_exec(db, "INSERT INTO t VALUES (3)", NULL),
        DB_OK);
    assert_int_equal(store_backup(st, "/nonexistent-dir/x.bak", err,
                                  sizeof err),
                     -1);
    assert_non_null(strstr(err, "/nonexistent-dir/x.bak"));
    assert_int_equal(store_rollback(st), 0);
    store_close(st);

    st = store_open(copy, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(store_schema_version(st),
                     (int)chatdesk_migrations_count);
    struct db_stmt *q;
    assert_int_equal(db_prepare(store_db(st), "SELECT SUM(x) FROM t", &q),
                     DB_OK);
    assert_int_equal(db_step(q), DB_ROW);
    assert_int_equal(db_column_int(q, 0), 3);
    db_finalize(q);
    store_close(st);
    assert_int_equal(access(strcat(copy, ".tmp"), F_OK), -1);
    copy[strlen(copy) - 4] = '\0';
    testdb_unlink(copy);
    testdb_unlink(path);
}

static void test_unopenable_path(void **state)
{
    (void)state;
    char err[256];
    assert_null(store_open("/nonexistent-dir/x.db", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-dir/x.db"));
    /* a server nobody listens on (port 1) */
    assert_null(store_open("postgresql://chatdesk@127.0.0.1:1/chatdesk"
                           "?connect_timeout=2",
                           err, sizeof err));
    assert_non_null(strstr(err, "cannot connect to PostgreSQL"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_memory_runs_all_migrations),
        cmocka_unit_test(test_engines_have_the_same_migrations),
        cmocka_unit_test(test_migrations_step_by_step),
        cmocka_unit_test(test_failed_migration_rolls_back),
        cmocka_unit_test(test_file_is_wal_and_reopens),
        cmocka_unit_test(test_backup),
        cmocka_unit_test(test_unopenable_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
