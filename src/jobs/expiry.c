/*
 * expiry.c - maturation and expiry job (expiry.h).
 */
#include "jobs/expiry.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/fd.h"
#include "jobs/birthdays.h"
#include "jobs/reminders.h"
#include "store/ledger.h"
#include "store/tiering.h"

typedef struct {
    int64_t now;
    int64_t count;
    int (*step)(fd_db *db, int64_t now, int limit, int64_t *count);
} chunk_job;

static int run_chunk(fd_db *db, void *arg)
{
    chunk_job *j = arg;
    return j->step(db, j->now, FD_EXPIRY_CHUNK, &j->count);
}

static int run_all(fd_store *s, chunk_job *j, int64_t *total)
{
    *total = 0;
    do {
        int rc = fd_store_write(s, run_chunk, j);
        if (rc) return rc;
        *total += j->count;
    } while (j->count == FD_EXPIRY_CHUNK);
    return FD_OK;
}

typedef struct {
    int64_t now;
    int64_t examined, placed;
} place_job;

static int run_placement(fd_db *db, void *arg)
{
    place_job *j = arg;
    return fd_tier_place_due(db, j->now, FD_EXPIRY_CHUNK, &j->examined, &j->placed);
}

int fd_jobs_tiers_run(fd_store *s, int64_t now, int64_t *reviewed, int64_t *placed)
{
    chunk_job review = {now, 0, fd_tier_review_due};
    int rc = run_all(s, &review, reviewed);
    place_job place = {now, 0, 0};
    *placed = 0;
    while (!rc) { /* a chunk per transaction, until no program has members left to look at */
        rc = fd_store_write(s, run_placement, &place);
        if (rc || !place.examined) break;
        *placed += place.placed;
    }
    if (!rc && *placed) fd_log("info", "job=tiers placed_members=%lld", (long long)*placed);
    return rc;
}

int fd_jobs_expiry_run(fd_store *s, int64_t now, int64_t *matured, int64_t *expired)
{
    chunk_job mature = {now, 0, fd_ledger_mature_due};
    chunk_job expire = {now, 0, fd_ledger_expire_due};
    int rc = run_all(s, &mature, matured);
    if (!rc) rc = run_all(s, &expire, expired);
    if (!rc && (*matured || *expired))
        fd_log("info", "job=expiry matured_lots=%lld expired_lots=%lld", (long long)*matured,
               (long long)*expired);
    return rc;
}

struct fd_expiry_thread {
    fd_store *store;
    int interval_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void *thread_main(void *arg)
{
    fd_expiry_thread *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        struct timespec until = fd_deadline_ms((int64_t)t->interval_s * 1000);
        pthread_cond_timedwait(&t->cv, &t->mu, &until);
        if (t->stop) break;
        pthread_mutex_unlock(&t->mu);
        int64_t matured, expired, reviewed, placed, sent, now = fd_now();
        int rc = fd_jobs_expiry_run(t->store, now, &matured, &expired);
        if (rc) fd_log("error", "job=expiry rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        if ((rc = fd_jobs_tiers_run(t->store, now, &reviewed, &placed)))
            fd_log("error", "job=tiers rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        if ((rc = fd_jobs_birthdays_run(t->store, now, &sent)))
            fd_log("error", "job=birthdays rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        if ((rc = fd_jobs_rfm_run(t->store, now)))
            fd_log("error", "job=rfm rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        if ((rc = fd_jobs_reminders_run(t->store, now, &sent)))
            fd_log("error", "job=reminders rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        pthread_mutex_lock(&t->mu);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

int fd_expiry_thread_start(fd_store *s, int interval_s, fd_expiry_thread **out)
{
    fd_expiry_thread *t = fd_calloc(1, sizeof *t);
    t->store = s;
    t->interval_s = interval_s;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->thread, NULL, thread_main, t)) {
        free(t);
        return FD_EIO;
    }
    *out = t;
    return FD_OK;
}

void fd_expiry_thread_stop(fd_expiry_thread *t)
{
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    free(t);
}
