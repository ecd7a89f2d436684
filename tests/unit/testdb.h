/* testdb.h - small helpers for unit tests that use a database.
 *
 * The store tests run on both engines: on sqlite by default, on
 * PostgreSQL when CHATDESK_TEST_DB names a server ("postgresql://..." or
 * "@FILE", a file holding the URI: tests/pg/pgfixture writes one). Tests
 * open their store with testdb_target(): each ":memory:" becomes a fresh
 * PostgreSQL schema (the URI's search_path), and a file path the schema of
 * that path, so that two opens of one path share a database as on sqlite.
 */
#ifndef CHATDESK_TESTDB_H
#define CHATDESK_TESTDB_H

#include "runtime/db.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Remove a test database and its WAL and shared-memory files. */
static inline void testdb_unlink(const char *path)
{
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* The PostgreSQL server the tests use, or NULL for sqlite. */
static inline const char *testdb_pg(void)
{
    static char url[1024];
    const char *v = getenv("CHATDESK_TEST_DB");
    if (!v || !*v)
        return NULL;
    if (url[0])
        return url;
    if (v[0] != '@') {
        snprintf(url, sizeof url, "%s", v);
        return url;
    }
    FILE *f = fopen(v + 1, "r");
    if (!f || !fgets(url, sizeof url, f)) {
        fprintf(stderr, "testdb: cannot read %s\n", v + 1);
        abort();
    }
    fclose(f);
    url[strcspn(url, "\r\n")] = '\0';
    return url;
}

static inline int testdb_is_pg(void)
{
    return testdb_pg() != NULL;
}

/* What to hand store_open() for the sqlite target (":memory:" or a file
 * path): the target itself on sqlite; on PostgreSQL the URI of a schema
 * created for it (see above). The string is static: use it at once. */
static inline const char *testdb_target(const char *sqlite_target)
{
    static char out[1400];
    static unsigned serial;
    char schema[64], sql[160], err[256];
    const char *pg = testdb_pg();
    if (!pg)
        return sqlite_target;
    if (!strcmp(sqlite_target, ":memory:")) {
        snprintf(schema, sizeof schema, "t%ld_%u", (long)getpid(), ++serial);
    } else {
        uint32_t h = 2166136261u; /* FNV-1a of the path */
        for (const char *p = sqlite_target; *p; p++)
            h = (h ^ (unsigned char)*p) * 16777619u;
        snprintf(schema, sizeof schema, "f%08x", h);
    }
    struct db *db = db_open(pg, err, sizeof err);
    if (!db) {
        fprintf(stderr, "testdb: %s\n", err);
        abort();
    }
    snprintf(sql, sizeof sql, "CREATE SCHEMA IF NOT EXISTS %s", schema);
    if (db_exec(db, sql, NULL) != DB_OK) {
        fprintf(stderr, "testdb: %s: %s\n", sql, db_errmsg(db));
        abort();
    }
    db_close(db);
    snprintf(out, sizeof out, "%s%coptions=-csearch_path%%3D%s", pg,
             strchr(pg, '?') ? '&' : '?', schema);
    return out;
}

/* Drop what testdb_target(path) made for a file path (PostgreSQL), or the
 * file and its WAL and shm (sqlite). */
static inline void testdb_remove(const char *path)
{
    char err[256], sql[160];
    const char *pg = testdb_pg();
    if (!pg) {
        testdb_unlink(path);
        return;
    }
    uint32_t h = 2166136261u;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct db *db = db_open(pg, err, sizeof err);
    if (!db)
        return;
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS f%08x CASCADE", h);
    db_exec(db, sql, NULL);
    db_close(db);
}

#endif
