/*
 * test_store_sync.c - the store's group commit with the log's sync off the
 * writer (fd_db_defer_log_sync, the syncer in store.c), on a real SQLite
 * database: a write returns only after a sync of the log that began after
 * its commit, concurrent writes share syncs, and everything acknowledged is
 * there after the store closes and opens again; a write nobody waits for
 * (fd_store_submit_then) is done once, after its sync, in commit order.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "base/metrics.h"
#include "store/store.h"

#include "testdb.h"

#define THREADS 8
#define WRITES_PER_THREAD 50

/* The value of one counter in the metrics text. */
static int64_t metric(const char *name)
{
    char *text = fd_metrics_render_core(), key[96];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(text, key);
    int64_t v = at ? strtoll(at + strlen(key), NULL, 10) : -1;
    free(text);
    return v;
}

typedef struct write_job {
    int64_t n;
    int64_t syncs_when_run; /* log syncs finished when the job ran */
} write_job;

static int insert_row(fd_db *db, void *arg)
{
    write_job *j = arg;
    j->syncs_when_run = metric("fidelis_log_syncs_total");
    return fd_db_run(db, "INSERT INTO t(n) VALUES ($1)", FD_PARAMS(FD_I(j->n)), NULL);
}

static fd_store *open_store(const char *path)
{
    fd_store *s = NULL;
    assert_int_equal(fd_store_open(path, 2, &s), FD_OK);
    return s;
}

static int64_t count_rows(fd_store *s)
{
    int64_t n = -1;
    fd_db *db = fd_store_reader(s);
    assert_int_equal(fd_db_one_i64(db, "SELECT count(*) FROM t", NULL, 0, &n), FD_OK);
    fd_store_release(s, db);
    return n;
}

/* One writer at a time: each write waits for a sync of its own, which ends
 * after the job ran (the syncs finished then do not count). */
static void a_write_returns_after_its_own_sync(void **state)
{
    testdb *t = *state;
    fd_store *s = open_store(t->path);
    for (int i = 0; i < 100; i++) {
        write_job j = {i, -1};
        assert_int_equal(fd_store_write(s, insert_row, &j), FD_OK);
        assert_true(j.syncs_when_run >= 0);
        assert_true(metric("fidelis_log_syncs_total") > j.syncs_when_run);
    }
    assert_int_equal(count_rows(s), 100);
    fd_store_close(s);
}

typedef struct writer_thread {
    fd_store *s;
    int id;
    int failures; /* writes that returned before a sync after them */
} writer_thread;

static void *write_many(void *arg)
{
    writer_thread *w = arg;
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        write_job j = {w->id * 1000 + i, -1};
        if (fd_store_write(w->s, insert_row, &j) ||
            metric("fidelis_log_syncs_total") <= j.syncs_when_run)
            w->failures++;
    }
    return NULL;
}

/* Concurrent writers: every write is synced before it returns, groups
 * share syncs (never more syncs than commits), and every acknowledged row
 * is there after the store is closed and opened again. */
static void concurrent_writes_share_syncs(void **state)
{
    testdb *t = *state;
    fd_store *s = open_store(t->path);
    int64_t syncs0 = metric("fidelis_log_syncs_total"), commits0 = metric("fidelis_commits_total");
    pthread_t th[THREADS];
    writer_thread w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (writer_thread){s, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    int64_t syncs = metric("fidelis_log_syncs_total") - syncs0;
    int64_t commits = metric("fidelis_commits_total") - commits0;
    assert_true(syncs >= 1);
    assert_true(syncs <= commits);
    fd_store_close(s);
    s = open_store(t->path);
    assert_int_equal(count_rows(s), THREADS * WRITES_PER_THREAD);
    fd_store_close(s);
}

#define HANDED_OVER 200

typedef struct handed_over {
    write_job job;
    bool fail;        /* the job refuses before writing */
    int rc;           /* as done saw it */
    int done_calls;   /* how many times done ran */
    int done_seq;     /* its place among the done calls */
    bool synced_then; /* a sync had finished after the job ran */
} handed_over;

static int done_seq; /* the done calls so far (they run on the syncer, one at a time) */

static int insert_or_refuse(fd_db *db, void *arg)
{
    handed_over *h = arg;
    if (h->fail) return FD_ECONFLICT;
    return insert_row(db, &h->job);
}

static void handed_over_done(void *arg, int rc)
{
    handed_over *h = arg;
    h->rc = rc;
    h->done_calls++;
    h->done_seq = done_seq++;
    h->synced_then = metric("fidelis_log_syncs_total") > h->job.syncs_when_run;
}

/* Writes handed over without a waiter: each done call runs once, with the
 * job's code, after a sync that ended after the job ran, in the order the
 * jobs were queued; fd_store_close returns only after all of them; the
 * rows of the jobs that succeeded are there after a reopen. */
static void handed_over_writes_are_done_once_in_order(void **state)
{
    testdb *t = *state;
    fd_store *s = open_store(t->path);
    static handed_over h[HANDED_OVER];
    done_seq = 0;
    for (int i = 0; i < HANDED_OVER; i++) {
        h[i] = (handed_over){.job = {i, -1}, .fail = i % 10 == 3, .rc = 1, .done_seq = -1};
        assert_int_equal(fd_store_submit_then(s, insert_or_refuse, &h[i], handed_over_done), FD_OK);
    }
    fd_store_close(s); /* no wait of our own: close does them first */
    int failed = 0;
    for (int i = 0; i < HANDED_OVER; i++) {
        assert_int_equal(h[i].done_calls, 1);
        assert_int_equal(h[i].done_seq, i);
        assert_int_equal(h[i].rc, h[i].fail ? FD_ECONFLICT : FD_OK);
        if (h[i].fail)
            failed++;
        else
            assert_true(h[i].synced_then);
    }
    assert_int_equal(failed, 20);
    s = open_store(t->path);
    assert_int_equal(count_rows(s), HANDED_OVER - 20);
    fd_store_close(s);
}

/* A connection whose log sync is deferred: commits return, the sync makes
 * them durable; the driver reports that it can. */
static void sqlite_defers_the_log_sync(void **state)
{
    testdb *t = *state;
    assert_true(fd_db_can_defer_sync(t->db));
    assert_int_equal(fd_db_defer_log_sync(t->db), FD_OK);
    int64_t mode = -1;
    assert_int_equal(fd_db_one_i64(t->db, "PRAGMA synchronous", NULL, 0, &mode), FD_OK);
    assert_int_equal(mode, 1); /* NORMAL: the commit writes the log, the sync is ours */
    assert_int_equal(fd_db_begin(t->db), FD_OK);
    assert_int_equal(fd_db_run(t->db, "INSERT INTO t(n) VALUES (1)", NULL, 0, NULL), FD_OK);
    assert_int_equal(fd_db_commit(t->db), FD_OK);
    assert_int_equal(fd_db_sync_log(t->db), FD_OK);
}

/* Table t, in a database the store migrates when it opens it. */
static int setup_plain(void **state)
{
    return testdb_setup(state, "sync", "CREATE TABLE t(id INTEGER PRIMARY KEY, n BIGINT)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sqlite_defers_the_log_sync, setup_plain, testdb_teardown),
        cmocka_unit_test_setup_teardown(a_write_returns_after_its_own_sync, setup_plain,
                                        testdb_teardown),
        cmocka_unit_test_setup_teardown(concurrent_writes_share_syncs, setup_plain,
                                        testdb_teardown),
        cmocka_unit_test_setup_teardown(handed_over_writes_are_done_once_in_order, setup_plain,
                                        testdb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
