/*
 * db.h - the storage driver interface. Everything above src/store talks SQL
 * only through this: a connection, prepared statements with $1-style
 * parameters bound by value, and rows read column by column.
 *
 * SQL rules (so that the PostgreSQL driver is an addition, not a rewrite):
 * $1..$n placeholders, BIGINT/TEXT types, epoch-second timestamps, standard
 * functions only, INSERT .. RETURNING and ON CONFLICT allowed. The one dialect
 * difference, `id INTEGER PRIMARY KEY` in DDL, is translated by the driver.
 *
 * A connection is used by one thread at a time.
 */
#ifndef FD_DB_H
#define FD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fd_db fd_db;
typedef struct fd_stmt fd_stmt;

/* A bound parameter value; build with FD_I / FD_S / FD_NULL. */
typedef struct fd_param {
    char type; /* 'i' int64, 's' text (NULL pointer binds SQL NULL), 'n' NULL */
    int64_t i;
    const char *s;
} fd_param;

#define FD_I(x) ((fd_param){'i', (int64_t)(x), NULL})
#define FD_S(x) ((fd_param){'s', 0, (x)})
#define FD_NULL ((fd_param){'n', 0, NULL})
/* FD_PARAMS(a, b, c) expands to the array and its length. */
#define FD_PARAMS(...)                                                                             \
    (const fd_param[]){__VA_ARGS__}, (sizeof((fd_param[]){__VA_ARGS__}) / sizeof(fd_param))
#define FD_NOPARAMS NULL, 0

/* Opens a connection: a PostgreSQL URL ("postgres://user@host:port/db") or
 * a SQLite file path (or "sqlite:PATH", created if needed). FD_EIO with a
 * log line on failure. */
int fd_db_open(const char *url, fd_db **out);
/* True when other processes may write the database concurrently
 * (PostgreSQL): callers then lock rows and re-check (docs/operations.md).
 * With SQLite all writes go through one writer thread, so they need not. */
int fd_db_shared(const fd_db *db);

/* True for postgres:// and postgresql:// URLs. */
int fd_db_is_postgres(const char *url);
void fd_db_close(fd_db *db);

/* Runs SQL text without parameters (may hold several statements). */
int fd_db_exec(fd_db *db, const char *sql);

/* Runs a statement that returns no rows; *changes (may be NULL) receives the
 * number of rows changed. Unique-constraint violations are FD_ECONFLICT. */
int fd_db_run(fd_db *db, const char *sql, const fd_param *params, size_t n, int64_t *changes);

/* Writes head, then rows groups of cols numbered parameters, "($1, $2), ($3, $4)",
 * then tail, into out (NUL-terminated) and returns the length: the text of a
 * multi-row statement. Build such texts once and keep them, since statements
 * are cached by the text's address. Asserts that out holds the text. */
size_t fd_db_rows_sql(char *out, size_t size, const char *head, int rows, int cols,
                      const char *tail);

/* Prepares (from a per-connection cache keyed by the sql pointer, so pass
 * string literals) and binds a query; step it with fd_stmt_next and always
 * finish with fd_stmt_done. The statement is borrowed from the connection. */
int fd_db_query(fd_db *db, const char *sql, const fd_param *params, size_t n, fd_stmt **out);

/* Advances to the next row: 1 for a row, 0 at the end, negative on error. */
int fd_stmt_next(fd_stmt *st);
int64_t fd_stmt_i64(fd_stmt *st, int col);
/* Text of a column, NULL for SQL NULL; valid until the next fd_stmt_next/done. */
const char *fd_stmt_text(fd_stmt *st, int col);
int fd_stmt_is_null(fd_stmt *st, int col);
/* Releases the statement back to its connection's cache. */
void fd_stmt_done(fd_stmt *st);

/* Convenience: runs a query expected to return at most one row of one
 * integer column. FD_ENOTFOUND when there is no row. */
int fd_db_one_i64(fd_db *db, const char *sql, const fd_param *params, size_t n, int64_t *out);

/* Sets the connection's page cache to about kib KiB (SQLite; PostgreSQL
 * caches pages in its server). */
int fd_db_cache(fd_db *db, int kib);

/* Whether checkpoints of the write-ahead log are the application's to run
 * (SQLite): fd_db_background_checkpoints makes commits on db leave most of
 * them to fd_db_checkpoint, which another connection may run at any time
 * (db still checkpoints when the log grows long, to start it over). Both
 * are no-ops where the database server checkpoints (PostgreSQL). */
bool fd_db_has_checkpoints(const fd_db *db);
int fd_db_background_checkpoints(fd_db *db);
int fd_db_checkpoint(fd_db *db, bool sync, int64_t *copied_to);
/* The pages in db's log after its last commit (0 where the server
 * checkpoints). fd_db_checkpoint sets *copied_to to the pages of the log
 * now in the database (the log is all in the database when the two are
 * equal); with sync, it also syncs the database file after copying, so
 * that the pass that completes the log, which SQLite syncs, has less to
 * sync; without, it starts writing the copied pages out without waiting.
 * Any thread may ask; db must have background checkpoints. */
int64_t fd_db_log_frames(fd_db *db);

/* Group commit with the log's sync off the writer (SQLite): after
 * fd_db_defer_log_sync, a commit on db is complete but not yet durable; a
 * later fd_db_sync_log, which any thread may run while db goes on writing,
 * makes every commit before it durable. fd_db_can_defer_sync tells whether
 * the driver does this; where it does not (PostgreSQL), each commit is
 * durable when it returns. */
bool fd_db_can_defer_sync(const fd_db *db);
int fd_db_defer_log_sync(fd_db *db);
int fd_db_sync_log(fd_db *db);

/* Transactions. savepoint/release/rollback_to take a short name. */
int fd_db_begin(fd_db *db);
/* A transaction no other process can run at the same time (migrations). */
int fd_db_begin_exclusive(fd_db *db);
int fd_db_commit(fd_db *db);
int fd_db_rollback(fd_db *db);
int fd_db_savepoint(fd_db *db, const char *name);
int fd_db_release(fd_db *db, const char *name);
int fd_db_rollback_to(fd_db *db, const char *name);

/* Steps of one open transaction, each all or nothing: step(db, ctx, i) runs step i and keeps its
 * own result; a negative return means its writes must be undone. A savepoint per step would do
 * that, but the cost grows with the transaction: SQLite copies every page a step touches into its
 * sub-journal, and while a savepoint stays open each statement's end walks that journal; on
 * PostgreSQL each savepoint costs more the more the transaction already holds (a batch event 2.8
 * ms in a chunk of 500, 4.6 ms in one of 1,000; debug build). So where the driver can tell that a
 * failed step changed nothing (rows written, or on PostgreSQL a failed statement, which aborts the
 * transaction) and the connection is not in careful mode, replayable steps run first, in order,
 * without any savepoint; one that fails after changing something ends the steps with FD_EREPLAY:
 * the caller rolls the transaction back and runs it again in careful mode (fd_db_set_careful),
 * where every step has its own savepoint. The other steps run after the replayable ones, each in a
 * savepoint. A replayable step gives the same outcome when run again after a rollback (it resets
 * what it keeps); a step that is not replayable must not run fd_db_steps itself, since its nested
 * steps could ask for a replay of steps that ran before it. replayable may be NULL (every step
 * is). Returns FD_OK, FD_EREPLAY, the first step code equal to stop (a nonzero stop ends the
 * steps; the caller rolls back), or a transaction error. tag names the savepoints (a short
 * identifier). */
typedef int (*fd_step_fn)(fd_db *db, void *ctx, size_t i);
int fd_db_steps(fd_db *db, size_t n, fd_step_fn step, bool (*replayable)(void *ctx, size_t i),
                void *ctx, int stop, const char *tag);
/* Careful mode: fd_db_steps gives every step a savepoint. */
void fd_db_set_careful(fd_db *db, bool careful);

/* Deferred writes: a module that adds to the same few rows in many steps (a
 * rule's awarded points) may keep the amounts on the connection and write
 * them once, just before the transaction commits. The state is the module's;
 * the connection makes it on first use and calls flush before COMMIT (inside
 * the transaction: a failure fails the commit), drop when the transaction
 * rolls back, destroy when the connection closes. */
typedef struct fd_db_deferred_ops {
    void *(*create)(void);
    int (*flush)(fd_db *db, void *state); /* writes the amounts and forgets them */
    void (*drop)(void *state);            /* forgets them */
    void (*destroy)(void *state);
} fd_db_deferred_ops;

/* Whether a write may be deferred now: in a transaction (fd_db_begin), no
 * savepoint open (a rollback to it would not undo the amounts), not in
 * careful mode, and one writer only (not fd_db_shared: there a row lock
 * taken by the write is what makes concurrent processes queue). */
bool fd_db_may_defer(const fd_db *db);

/* The connection's state for ops, made on first use, to add amounts to;
 * counts a change of the transaction, so that fd_db_steps replays a step
 * that deferred something and then failed. Only while fd_db_may_defer. */
void *fd_db_deferred(fd_db *db, const fd_db_deferred_ops *ops);

/* The state for ops if the connection has one (what is pending, for reads
 * that must see it), else NULL. */
void *fd_db_deferred_peek(const fd_db *db, const fd_db_deferred_ops *ops);

#endif
