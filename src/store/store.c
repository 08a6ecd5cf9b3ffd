/*
 * store.c - group-commit writer and reader pool (store.h).
 */
#include "store/store.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/fd.h"
#include "base/metrics.h"
#include "store/schema.h"

#define BATCH_MAX 4096 /* jobs in one transaction */
#define RETRIES_MAX 20 /* attempts of a job that hit a deadlock or serialization failure */
/* Page caches: the writer's holds the pages every write touches (members,
 * indexes, the ends of the journal); readers are many and read through the
 * operating system's file cache, so theirs stay small (memory grows with
 * the number of connections, not with the database). */
#define WRITER_CACHE_KIB (64 * 1024)
#define READER_CACHE_KIB (4 * 1024)
/* The log is copied into the database by a thread of its own, at most this
 * often, rather than by the commit that happens to fill it (SQLite's way).
 * Once it holds RESTART_FRAMES pages the checkpointer starts it over
 * (checkpointer_main), making the writer wait for at most about
 * RESIDUE_FRAMES pages; the writer's own pass (WAL_WRITER_FRAMES in
 * db_sqlite.c) is left for loads the checkpointer cannot catch up with. */
#define CHECKPOINT_EVERY_MS 50
#define RESTART_FRAMES 16384 /* 64 MiB */
#define RESIDUE_FRAMES 256

typedef struct job {
    fd_write_fn fn;
    void *ctx;
    bool replayable; /* fd_store_write_replayable */
    int rc;
    int done;
    pthread_cond_t done_cv; /* done, for its submitter alone (guarded by the store's mu) */
    fd_write_done_fn then;  /* fd_store_submit_then: called when done; the job is the store's */
    int attempts;
    struct job *next;
} job;

struct fd_store {
    fd_db *writer_db;
    pthread_t writer;
    pthread_mutex_t mu;
    pthread_cond_t work_cv;   /* jobs queued, or stop */
    pthread_cond_t paused_cv; /* a group committed while the checkpointer waits (last_pass) */
    job *head, *tail;
    int queued;
    int stopping;

    job *running[BATCH_MAX]; /* the group being committed, for fd_db_steps */

    fd_db *checkpoint_db; /* NULL where the database server checkpoints */
    pthread_t checkpointer;
    pthread_cond_t checkpoint_cv; /* stopping */
    int64_t commits;              /* since the last checkpoint, guarded by mu */
    int paused;                   /* the writer waits for the checkpointer, guarded by mu */
    int writing;                  /* the writer runs a group, guarded by mu */

    /* Where the log's sync is deferred (fd_db_defer_log_sync), the syncer
     * makes each committed group durable while the writer runs the next;
     * a job is done only then. Guarded by mu. */
    bool deferred_sync;
    pthread_t syncer;
    pthread_cond_t sync_cv;        /* groups committed, or the writer stopped */
    job *unsynced, *unsynced_tail; /* committed groups, jobs in commit order */
    int writer_stopped;

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    fd_db **readers;
    int nreaders, nfree;
};

static int run_job(fd_db *db, void *ctx, size_t i)
{
    job *j = ((fd_store *)ctx)->running[i];
    return j->rc = j->fn(db, j->ctx);
}

static bool job_replayable(void *ctx, size_t i)
{
    return ((fd_store *)ctx)->running[i]->replayable;
}

/* One transaction for the group; a failing job rolls back only itself. When
 * a replayable job failed after writing, the group runs again carefully
 * (fd_db_steps): jobs submitted together are concurrent, so their order
 * within the group is free. */
static void run_batch(fd_store *s, job *batch, int n)
{
    int64_t t0 = fd_monotonic_us();
    fd_db *db = s->writer_db;
    int k = 0;
    for (job *j = batch; j; j = j->next)
        s->running[k++] = j;
    int rc = fd_db_begin(db);
    if (!rc) rc = fd_db_steps(db, (size_t)n, run_job, job_replayable, s, 0, "job");
    if (rc == FD_EREPLAY && !(rc = fd_db_rollback(db))) {
        fd_metrics_replay();
        fd_db_set_careful(db, true);
        rc = fd_db_begin(db);
        if (!rc) rc = fd_db_steps(db, (size_t)n, run_job, job_replayable, s, 0, "job");
        fd_db_set_careful(db, false);
    }
    if (!rc) rc = fd_db_commit(db);
    if (rc) {
        fd_log("error", "msg=\"group commit failed\" jobs=%d rc=%d", n, rc);
        fd_db_rollback(db);
        for (job *j = batch; j; j = j->next)
            j->rc = FD_EIO;
    }
    fd_metrics_commit(n, fd_monotonic_us() - t0);
}

/* Called with the lock held after a group commit. Jobs that lost a deadlock
 * or serialization race to another process (PostgreSQL) go back to the front
 * of the queue for the next group; the others are done. Returns the done
 * jobs of fd_store_submit_then, chained in commit order, for
 * finish_and_call. */
static job *finish_batch(fd_store *s, job *batch)
{
    job *first = NULL, *last = NULL, *then = NULL, **then_end = &then;
    int nretry = 0;
    for (job *j = batch; j;) {
        job *next = j->next; /* j lives on its submitter's stack: read next first */
        if (j->rc == FD_EBUSY && ++j->attempts < RETRIES_MAX) {
            j->next = NULL;
            if (last)
                last->next = j;
            else
                first = j;
            last = j;
            nretry++;
        } else if (j->then) {
            j->next = NULL;
            *then_end = j;
            then_end = &j->next;
        } else {
            /* only its submitter wakes: one wake-up for all of them made
             * every waiting request thread take the lock after each sync */
            j->done = 1;
            pthread_cond_signal(&j->done_cv);
        }
        j = next;
    }
    if (first) { /* ahead of the queue, keeping their order */
        last->next = s->head;
        if (!s->head) s->tail = last;
        s->head = first;
        s->queued += nretry;
        pthread_cond_signal(&s->work_cv);
    }
    return then;
}

/* finish_batch, then the done jobs' calls, outside the lock (they resume
 * clients' connections). Called, and returns, with the lock held. */
static void finish_and_call(fd_store *s, job *batch)
{
    job *then = finish_batch(s, batch);
    if (!then) return;
    pthread_mutex_unlock(&s->mu);
    while (then) {
        job *j = then;
        then = j->next;
        j->then(j->ctx, j->rc);
        free(j);
    }
    pthread_mutex_lock(&s->mu);
}

/* Called with the lock held after a group commit: the group is done, or,
 * with a syncer, waits for the next sync of the log. */
static void group_committed(fd_store *s, job *batch, job *last)
{
    if (!s->deferred_sync) {
        finish_and_call(s, batch);
    } else {
        if (s->unsynced_tail)
            s->unsynced_tail->next = batch;
        else
            s->unsynced = batch;
        s->unsynced_tail = last;
        pthread_cond_signal(&s->sync_cv);
    }
    if (s->paused) pthread_cond_signal(&s->paused_cv); /* last_pass waits for the group */
}

/* Syncs the log for every group committed since the last sync, at once
 * (the groups that came during a sync share the next one), then hands the
 * jobs their results. A failed sync stops the process, as PostgreSQL does:
 * the kernel may have dropped the pages it could not write, so no later
 * sync could prove them written; a restart recovers from what is on disk. */
static void *syncer_main(void *arg)
{
    fd_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->unsynced && !s->writer_stopped)
            pthread_cond_wait(&s->sync_cv, &s->mu);
        if (!s->unsynced) break;
        job *groups = s->unsynced;
        s->unsynced = s->unsynced_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        int64_t t0 = fd_monotonic_us();
        if (fd_db_sync_log(s->writer_db)) {
            fd_log("fatal", "msg=\"the log could not be synced: stopping\"");
            abort();
        }
        fd_metrics_log_sync(fd_monotonic_us() - t0);
        pthread_mutex_lock(&s->mu);
        finish_and_call(s, groups);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *writer_main(void *arg)
{
    fd_store *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while ((!s->head || s->paused) && !s->stopping)
            pthread_cond_wait(&s->work_cv, &s->mu);
        if (!s->head && s->stopping) break;
        job *batch = s->head, *last = batch;
        int n = 1;
        while (last->next && n < BATCH_MAX) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (!s->head) s->tail = NULL;
        last->next = NULL;
        s->queued -= n;
        s->writing = 1;
        pthread_mutex_unlock(&s->mu);

        run_batch(s, batch, n);

        pthread_mutex_lock(&s->mu);
        s->writing = 0;
        s->commits++;
        group_committed(s, batch, last);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* One pass of the checkpointer: copies what the writer committed since the
 * last pass (the writer goes on meanwhile), syncing it when the log is to
 * start over soon. *log: the pages in the log now; *left: how many of them
 * are not in the database yet. */
static int checkpoint_pass(fd_store *s, bool sync, int64_t *log, int64_t *left)
{
    int64_t copied_to;
    int rc = fd_db_checkpoint(s->checkpoint_db, sync, &copied_to);
    if (rc && rc != FD_EBUSY) fd_log("error", "msg=\"checkpoint failed\" rc=%d", rc);
    *log = fd_db_log_frames(s->writer_db);
    *left = *log > copied_to ? *log - copied_to : 0;
    return rc;
}

/* The last pass before the log starts over: the writer waits between two
 * groups while it copies what is left, then its next group starts the log
 * over. Called with the lock held. */
static void last_pass(fd_store *s)
{
    s->paused = 1;
    while (s->writing)
        pthread_cond_wait(&s->paused_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    int64_t t0 = fd_monotonic_us(), log, left;
    checkpoint_pass(s, true, &log, &left);
    fd_metrics_log_pause(fd_monotonic_us() - t0);
    pthread_mutex_lock(&s->mu);
    s->paused = 0;
    pthread_cond_signal(&s->work_cv);
}

/* Copies committed log pages into the database while the writer goes on.
 * The log starts over only once a pass has caught up with the writer, and
 * a busy writer never lets one: so once the log is long, passes run back
 * to back, each copying what came during the one before, until what is
 * left is small or stops shrinking; then the writer waits for the last
 * pass. It waits for a few hundred pages (their sync is what it waits
 * for, docs/performance.md) instead of the whole log's sync, which it
 * would otherwise run itself (WAL_WRITER_FRAMES in db_sqlite.c). */
static void *checkpointer_main(void *arg)
{
    fd_store *s = arg;
    int64_t behind = 0; /* pages left after the last pass, when catching up */
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        if (!behind) {
            struct timespec until = fd_deadline_ms(CHECKPOINT_EVERY_MS);
            pthread_cond_timedwait(&s->checkpoint_cv, &s->mu, &until);
            if (s->stopping || s->commits == 0) continue;
        }
        s->commits = 0;
        pthread_mutex_unlock(&s->mu);
        int64_t log, left;
        bool closing = fd_db_log_frames(s->writer_db) >= RESTART_FRAMES;
        int rc = checkpoint_pass(s, closing, &log, &left);
        pthread_mutex_lock(&s->mu);
        if (rc || !closing || left == 0) {
            behind = 0;
        } else if (left <= RESIDUE_FRAMES || (behind && left >= behind)) {
            if (!s->stopping) last_pass(s);
            behind = 0;
        } else {
            behind = left;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Moves checkpoints off the writer where the application runs them. */
static int start_checkpointer(fd_store *s, const char *url)
{
    if (!fd_db_has_checkpoints(s->writer_db)) return FD_OK;
    int rc = fd_db_background_checkpoints(s->writer_db);
    if (!rc) rc = fd_db_open(url, &s->checkpoint_db);
    if (rc) return rc;
    if (pthread_create(&s->checkpointer, NULL, checkpointer_main, s)) {
        fd_db_close(s->checkpoint_db);
        s->checkpoint_db = NULL;
        return FD_EIO;
    }
    return FD_OK;
}

/* Sets *flag under the lock, wakes thread through cv and waits for it to end. */
static void tell_and_join(fd_store *s, int *flag, pthread_cond_t *cv, pthread_t thread)
{
    pthread_mutex_lock(&s->mu);
    *flag = 1;
    pthread_cond_signal(cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(thread, NULL);
}

/* Stops the checkpointer (the store is stopping) and closes its connection. */
static void stop_checkpointer(fd_store *s)
{
    if (!s->checkpoint_db) return;
    tell_and_join(s, &s->stopping, &s->checkpoint_cv, s->checkpointer);
    fd_db_close(s->checkpoint_db);
    s->checkpoint_db = NULL;
}

/* Moves the log's sync off the writer where the driver can (SQLite). */
static int start_syncer(fd_store *s)
{
    if (!fd_db_can_defer_sync(s->writer_db)) return FD_OK;
    int rc = fd_db_defer_log_sync(s->writer_db);
    if (rc) return rc;
    if (pthread_create(&s->syncer, NULL, syncer_main, s)) return FD_EIO;
    s->deferred_sync = true;
    return FD_OK;
}

/* Stops the syncer once the writer has stopped (or never started); it
 * syncs the groups still waiting first. */
static void stop_syncer(fd_store *s)
{
    if (s->deferred_sync) tell_and_join(s, &s->writer_stopped, &s->sync_cv, s->syncer);
}

/* Queues j for the writer; FD_EBUSY when the queue is full or stopping. */
static int enqueue(fd_store *s, job *j)
{
    pthread_mutex_lock(&s->mu);
    if (s->queued >= FD_WRITER_QUEUE_MAX || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return FD_EBUSY;
    }
    if (s->tail)
        s->tail->next = j;
    else
        s->head = j;
    s->tail = j;
    s->queued++;
    pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    return FD_OK;
}

static void job_init(job *j, fd_write_fn fn, void *ctx, bool replayable)
{
    *j = (job){.fn = fn, .ctx = ctx, .replayable = replayable};
    pthread_cond_init(&j->done_cv, NULL);
}

/* Waits until the queued job j is done (durable), releases what job_init
 * set up and returns the job's code. */
static int wait_done(fd_store *s, job *j)
{
    pthread_mutex_lock(&s->mu);
    while (!j->done)
        pthread_cond_wait(&j->done_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&j->done_cv);
    return j->rc;
}

static int submit(fd_store *s, fd_write_fn fn, void *ctx, bool replayable)
{
    job j;
    job_init(&j, fn, ctx, replayable);
    int rc = enqueue(s, &j);
    if (rc) pthread_cond_destroy(&j.done_cv);
    return rc ? rc : wait_done(s, &j);
}

int fd_store_write(fd_store *s, fd_write_fn fn, void *ctx)
{
    return submit(s, fn, ctx, false);
}

int fd_store_write_replayable(fd_store *s, fd_write_fn fn, void *ctx)
{
    return submit(s, fn, ctx, true);
}

struct fd_store_ticket {
    job j;
};

int fd_store_submit_replayable(fd_store *s, fd_write_fn fn, void *ctx, fd_store_ticket **out)
{
    fd_store_ticket *t = fd_malloc(sizeof *t);
    job_init(&t->j, fn, ctx, true);
    int rc = enqueue(s, &t->j);
    if (rc) {
        pthread_cond_destroy(&t->j.done_cv);
        free(t);
        return rc;
    }
    *out = t;
    return FD_OK;
}

int fd_store_wait(fd_store *s, fd_store_ticket *t)
{
    int rc = wait_done(s, &t->j);
    free(t);
    return rc;
}

int fd_store_submit_then(fd_store *s, fd_write_fn fn, void *ctx, fd_write_done_fn done)
{
    assert(done);
    job *j = fd_malloc(sizeof *j);
    *j = (job){.fn = fn, .ctx = ctx, .replayable = true, .then = done};
    int rc = enqueue(s, j);
    if (rc) free(j);
    return rc;
}

int fd_store_open(const char *url, int readers, fd_store **out)
{
    fd_store *s = fd_calloc(1, sizeof *s);
    int64_t version;
    int rc = fd_db_open(url, &s->writer_db);
    if (rc) goto fail;
    if ((rc = fd_schema_migrate(s->writer_db, &version))) goto fail;
    if ((rc = fd_db_cache(s->writer_db, WRITER_CACHE_KIB))) goto fail;
    s->readers = fd_calloc((size_t)readers, sizeof *s->readers);
    for (int i = 0; i < readers; i++) {
        if ((rc = fd_db_open(url, &s->readers[i]))) goto fail;
        s->nreaders++;
        if ((rc = fd_db_cache(s->readers[i], READER_CACHE_KIB))) goto fail;
    }
    s->nfree = s->nreaders;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->paused_cv, NULL);
    pthread_cond_init(&s->checkpoint_cv, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_cond_init(&s->sync_cv, NULL);
    if ((rc = start_checkpointer(s, url))) goto fail;
    if ((rc = start_syncer(s))) {
        stop_checkpointer(s);
        goto fail;
    }
    if (pthread_create(&s->writer, NULL, writer_main, s)) {
        stop_syncer(s);
        stop_checkpointer(s);
        rc = FD_EIO;
        goto fail;
    }
    *out = s;
    return FD_OK;
fail:
    for (int i = 0; i < s->nreaders; i++)
        fd_db_close(s->readers[i]);
    free(s->readers);
    fd_db_close(s->writer_db);
    free(s);
    return rc;
}

void fd_store_close(fd_store *s)
{
    if (!s) return;
    tell_and_join(s, &s->stopping, &s->work_cv, s->writer); /* after the queued jobs */
    stop_syncer(s);
    stop_checkpointer(s);
    for (int i = 0; i < s->nreaders; i++)
        fd_db_close(s->readers[i]);
    free(s->readers);
    fd_db_close(s->writer_db);
    free(s);
}

fd_db *fd_store_reader(fd_store *s)
{
    pthread_mutex_lock(&s->pool_mu);
    while (s->nfree == 0)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    fd_db *db = s->readers[--s->nfree];
    pthread_mutex_unlock(&s->pool_mu);
    return db;
}

void fd_store_release(fd_store *s, fd_db *db)
{
    pthread_mutex_lock(&s->pool_mu);
    s->readers[s->nfree++] = db;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}
