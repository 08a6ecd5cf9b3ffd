/*
 * db_driver.h - what a storage driver implements (internal to src/store).
 * fd_db and fd_stmt of every driver begin with the members declared here.
 */
#ifndef FD_DB_DRIVER_H
#define FD_DB_DRIVER_H

#include "store/db.h"

typedef struct fd_db_driver {
    const char *name;
    void (*close)(fd_db *db);
    int (*exec)(fd_db *db, const char *sql);
    /* borrowed: params and their strings stay valid until the statement is
     * done (fd_db_run, fd_db_one_i64), so the driver may bind them without
     * copying; otherwise they may be gone after the call. */
    int (*query)(fd_db *db, const char *sql, const fd_param *params, size_t n, bool borrowed,
                 fd_stmt **out);
    int (*next)(fd_stmt *st);
    int64_t (*i64)(fd_stmt *st, int col);
    const char *(*text)(fd_stmt *st, int col);
    int (*is_null)(fd_stmt *st, int col);
    void (*done)(fd_stmt *st);
    int64_t (*changes)(fd_db *db);
    /* Moves whenever the connection's transaction changed: rows changed so
     * far by statements that completed (a failed statement changes nothing
     * in SQLite), and on PostgreSQL also every failed statement, which aborts
     * the transaction there. NULL when the driver cannot tell (fd_db_steps
     * then gives every step a savepoint). */
    int64_t (*total_changes)(fd_db *db);
    /* Sets the connection's page cache (NULL: the server keeps its own). */
    int (*cache_kib)(fd_db *db, int kib);
    /* Write-ahead log upkeep, NULL where the server does it (PostgreSQL):
     * background_checkpoints leaves most checkpoints of the connection's
     * commits to another connection; checkpoint copies committed log pages
     * into the database without blocking readers or the writer. */
    int (*background_checkpoints)(fd_db *db);
    int (*checkpoint)(fd_db *db, bool sync, int64_t *copied_to);
    int64_t (*log_frames)(fd_db *db);
    /* defer_log_sync: the connection's commits stop syncing the log;
     * sync_log then makes every commit so far durable, from any thread.
     * NULL where each commit is durable by itself (PostgreSQL). */
    int (*defer_log_sync)(fd_db *db);
    int (*sync_log)(fd_db *db);
    /* Begins a transaction that excludes every other process doing the same
     * (schema migrations): SQLite BEGIN IMMEDIATE, PostgreSQL an advisory lock. */
    int (*begin_exclusive)(fd_db *db);
    /* Other processes may write the same database at the same time (PostgreSQL):
     * row locks and re-checks are needed. SQLite has one writer thread. */
    int shared;
} fd_db_driver;

#define DEFERRED_MAX 4 /* modules deferring work on one connection (fd_db_deferred) */

struct fd_db {
    const fd_db_driver *drv;
    bool careful;          /* fd_db_set_careful */
    bool in_transaction;   /* from fd_db_begin to its commit or rollback */
    int savepoints;        /* open savepoints of that transaction */
    int64_t noted_changes; /* deferred writes, counted as changes by fd_db_steps */
    struct {
        const fd_db_deferred_ops *ops;
        void *state;
    } deferred[DEFERRED_MAX];
};

struct fd_stmt {
    fd_db *db;
};

int fd_sqlite_open(const char *path, fd_db **out);
int fd_pg_open(const char *url, fd_db **out);

#endif
