/*
 * testdb.h - a throwaway SQLite database file for unit tests that need a
 * real one: its path, its removal with the log and shared-memory files, a
 * cmocka fixture of one connection to it, one-value queries, scattered
 * rows to fill one, and its integrity check.
 */
#ifndef FD_TESTDB_H
#define FD_TESTDB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"

/* Writes /tmp/fidelis-<name>-<pid>.db to path and removes any old file there. */
static inline void testdb_path(char *path, size_t size, const char *name)
{
    snprintf(path, size, "/tmp/fidelis-%s-%d.db", name, (int)getpid());
    unlink(path);
}

/* Removes the database file at path and its -wal and -shm files. */
static inline void testdb_remove(const char *path)
{
    char side[256];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

/* The one integer sql answers (a count, say), or -1 when it fails. */
static inline int64_t testdb_one(fd_db *db, const char *sql)
{
    int64_t v = -1;
    return fd_db_one_i64(db, sql, NULL, 0, &v) ? -1 : v;
}

/* Inserts rows [from, from + n) into t(id, k, v) with keys k in scattered
 * order, so that an index on k splits pages all over, and values v of
 * value_len (< 256) bytes of fill, or of 'a' + id % 26 when fill is 0.
 * FD_OK, or the first insert's error. */
static inline int testdb_insert_scattered(fd_db *db, int from, int n, size_t value_len, char fill)
{
    char k[32], v[256];
    int rc = FD_OK;
    if (value_len >= sizeof v) return FD_EINVAL;
    for (int i = from; i < from + n && !rc; i++) {
        snprintf(k, sizeof k, "%08x", (unsigned)i * 2654435761u);
        memset(v, fill ? fill : 'a' + i % 26, value_len);
        v[value_len] = '\0';
        rc = fd_db_run(db, "INSERT INTO t(id, k, v) VALUES ($1, $2, $3)",
                       FD_PARAMS(FD_I(i), FD_S(k), FD_S(v)), NULL);
    }
    return rc;
}

/* Whether SQLite's integrity check of db finds nothing wrong. */
static inline bool testdb_intact(fd_db *db)
{
    fd_stmt *st;
    if (fd_db_query(db, "PRAGMA integrity_check", NULL, 0, &st)) return false;
    bool ok = fd_stmt_next(st) == 1 && !strcmp(fd_stmt_text(st, 0), "ok");
    fd_stmt_done(st);
    return ok;
}

/* A test's one connection to a new database (a cmocka state). */
typedef struct testdb {
    char path[64];
    fd_db *db;
    const char *tables; /* on PostgreSQL, the tables to drop at the end */
} testdb;

/* Opens a new database named after name and runs sql in it (the test's
 * tables): into *state for cmocka; -1 on failure. */
static inline int testdb_setup(void **state, const char *name, const char *sql)
{
    testdb *t = calloc(1, sizeof *t);
    testdb_path(t->path, sizeof t->path, name);
    *state = t;
    return fd_db_open(t->path, &t->db) || fd_db_exec(t->db, sql) ? -1 : 0;
}

/* cmocka teardown of testdb_setup's state. */
static inline int testdb_teardown(void **state)
{
    testdb *t = *state;
    fd_db_close(t->db);
    testdb_remove(t->path);
    free(t);
    return 0;
}

/* As testdb_setup, but on the test run's throwaway PostgreSQL cluster when
 * FIDELIS_TEST_PG_PORT names it: in its postgres database, where tables (a
 * list for DROP TABLE) are dropped before sql runs and by testdb_teardown_any. */
static inline int testdb_setup_any(void **state, const char *name, const char *tables,
                                   const char *sql)
{
    const char *port = getenv("FIDELIS_TEST_PG_PORT");
    if (!port) return testdb_setup(state, name, sql);
    testdb *t = calloc(1, sizeof *t);
    char drop[256];
    *state = t;
    t->tables = tables;
    snprintf(t->path, sizeof t->path, "postgres://postgres@127.0.0.1:%.6s/postgres", port);
    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", tables);
    return fd_db_open(t->path, &t->db) || fd_db_exec(t->db, drop) || fd_db_exec(t->db, sql) ? -1
                                                                                            : 0;
}

/* cmocka teardown of testdb_setup_any's state. */
static inline int testdb_teardown_any(void **state)
{
    testdb *t = *state;
    if (!t->tables) return testdb_teardown(state);
    char drop[256];
    snprintf(drop, sizeof drop, "DROP TABLE %s", t->tables);
    fd_db_exec(t->db, drop);
    fd_db_close(t->db);
    free(t);
    return 0;
}

#endif
