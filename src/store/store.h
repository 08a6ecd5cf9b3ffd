/*
 * store.h - the storage handle the server runs on: one writer thread that
 * group-commits write jobs, and a pool of reader connections.
 *
 * Write path (durable first, reply after): a request thread submits a job and
 * blocks, or hands over what to do once it is durable; the writer takes every
 * queued job, runs them in one transaction where a failing job rolls back
 * only itself (fd_db_steps), then COMMITs once. Where the log's sync can be
 * deferred (SQLite), a syncer thread syncs the log for every group committed
 * so far while the writer runs the next, then wakes their submitters (or
 * makes the calls handed over); elsewhere (PostgreSQL) the commit is durable
 * when it returns and the writer wakes them. Readers use WAL snapshots and
 * never wait on the writer; they may see a group in the moment between its
 * commit and its sync (docs/architecture.md).
 */
#ifndef FD_STORE_H
#define FD_STORE_H

#include "store/db.h"

typedef struct fd_store fd_store;

/* A write job: runs on the writer thread inside a transaction. Returns FD_OK
 * or a negative code (its writes are then rolled back). ctx is the caller's. */
typedef int (*fd_write_fn)(fd_db *db, void *ctx);

/* Opens the database at url, applies migrations, starts the writer thread
 * and `readers` reader connections. */
int fd_store_open(const char *url, int readers, fd_store **out);
/* Stops the writer after the queued jobs and closes every connection. */
void fd_store_close(fd_store *s);

/* Runs fn(db, ctx) in the next group commit and returns once it is durable:
 * fn's code, FD_EIO when the commit failed, FD_EBUSY when the queue is full. */
int fd_store_write(fd_store *s, fd_write_fn fn, void *ctx);

/* The same for a replayable job: one that gives the same outcome when run
 * again after its writes were rolled back (it starts from its inputs alone).
 * Such jobs share one savepoint instead of taking one each (fd_db_steps). */
int fd_store_write_replayable(fd_store *s, fd_write_fn fn, void *ctx);

/* The same without waiting, so that a caller with several jobs keeps the
 * writer busy while an earlier one is synced: fd_store_submit_replayable
 * queues the job (FD_EBUSY when the queue is full) and gives a ticket;
 * fd_store_wait waits until that job is durable, returns its code (as
 * fd_store_write_replayable would) and frees the ticket. Every ticket must
 * be waited for, before ctx goes away. */
typedef struct fd_store_ticket fd_store_ticket;
int fd_store_submit_replayable(fd_store *s, fd_write_fn fn, void *ctx, fd_store_ticket **out);
int fd_store_wait(fd_store *s, fd_store_ticket *t);

/* A replayable job that nobody waits for: done(ctx, rc) runs once it is
 * durable, rc as fd_store_write_replayable would return it. done runs on a
 * thread of the store (the syncer's, or the writer's), outside its locks: it
 * must be quick and must not write through the store, whose next commit would
 * wait for it. FD_EBUSY when the queue is full or the store is closing; done
 * is then not called. Jobs queued before fd_store_close are done before it
 * returns. */
typedef void (*fd_write_done_fn)(void *ctx, int rc);
int fd_store_submit_then(fd_store *s, fd_write_fn fn, void *ctx, fd_write_done_fn done);

/* Borrows a reader connection (blocks while all are in use); give it back. */
fd_db *fd_store_reader(fd_store *s);
void fd_store_release(fd_store *s, fd_db *db);

#endif
