/* testdb.h - small helpers for unit tests that use a database file. */
#ifndef CHATDESK_TESTDB_H
#define CHATDESK_TESTDB_H

#include <stdio.h>
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

#endif
