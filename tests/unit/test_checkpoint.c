/*
 * test_checkpoint.c - background checkpoints of the write-ahead log
 * (fd_db_background_checkpoints, fd_db_checkpoint, fd_db_log_frames) on a
 * real SQLite database, as the store's checkpointer uses them: a pass
 * copies what the writer committed, tells how far it got against the log's
 * length, and once it has copied the whole log the writer's next commit
 * starts the log over; nothing committed is lost on the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fd.h"
#include "store/db.h"

#include "testdb.h"

static const char *const COUNT_ROWS = "SELECT count(*) FROM t";

#define ROWS_PER_COMMIT 200

typedef struct fixture {
    char path[64];
    fd_db *writer;
    fd_db *checkpointer;
    int rows;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    testdb_path(f->path, sizeof f->path, "checkpoint");
    if (fd_db_open(f->path, &f->writer) || fd_db_background_checkpoints(f->writer) ||
        fd_db_exec(f->writer, "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL);"
                              " CREATE INDEX t_k ON t(k)") ||
        fd_db_open(f->path, &f->checkpointer))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fd_db_close(f->checkpointer);
    fd_db_close(f->writer);
    testdb_remove(f->path);
    free(f);
    return 0;
}

/* One committed transaction of ROWS_PER_COMMIT rows on the writer. */
static void commit_rows(fixture *f)
{
    assert_int_equal(fd_db_begin(f->writer), FD_OK);
    for (int i = 0; i < ROWS_PER_COMMIT; i++, f->rows++) {
        char k[32];
        snprintf(k, sizeof k, "%08d", (int)((f->rows * 7919L) % 1000003));
        assert_int_equal(
            fd_db_run(f->writer, "INSERT INTO t(k) VALUES ($1)", FD_PARAMS(FD_S(k)), NULL), FD_OK);
    }
    assert_int_equal(fd_db_commit(f->writer), FD_OK);
}

/* The writer's log length is what its commits wrote; a pass reports how far
 * it copied; after a pass that copied everything, the next commit starts
 * the log over (its length falls back to that commit's pages). */
static void complete_pass_lets_the_log_start_over(void **state)
{
    fixture *f = *state;
    for (int i = 0; i < 20; i++)
        commit_rows(f);
    int64_t log = fd_db_log_frames(f->writer), copied = -1;
    assert_true(log > 20);

    assert_int_equal(fd_db_checkpoint(f->checkpointer, true, &copied), FD_OK);
    assert_int_equal(copied, log);

    commit_rows(f);
    int64_t after = fd_db_log_frames(f->writer);
    assert_true(after > 0);
    assert_true(after < log / 4); /* started over: one commit's pages, not 21 */
    assert_int_equal(testdb_one(f->checkpointer, COUNT_ROWS), f->rows);
}

/* A pass copies no further than the oldest snapshot a reader still reads
 * (a busy writer's later commits are the same case: not in the pass): it
 * reports less than the log's length, the log goes on growing instead of
 * starting over, and a later pass catches up. */
static void pass_behind_the_log_reports_what_is_left(void **state)
{
    fixture *f = *state;
    fd_db *reader;
    int64_t copied = -1;
    assert_int_equal(fd_db_open(f->path, &reader), FD_OK);
    for (int i = 0; i < 10; i++)
        commit_rows(f);
    assert_int_equal(fd_db_begin(reader), FD_OK);
    int64_t seen = testdb_one(reader, COUNT_ROWS); /* the reader's snapshot: 10 commits */
    assert_true(seen > 0);
    int64_t first = fd_db_log_frames(f->writer);
    for (int i = 0; i < 10; i++)
        commit_rows(f);
    int64_t log = fd_db_log_frames(f->writer);

    assert_int_equal(fd_db_checkpoint(f->checkpointer, true, &copied), FD_OK);
    assert_int_equal(copied, first);
    commit_rows(f);
    assert_true(fd_db_log_frames(f->writer) > log); /* not started over */
    assert_int_equal(testdb_one(reader, COUNT_ROWS), seen);

    assert_int_equal(fd_db_commit(reader), FD_OK);
    log = fd_db_log_frames(f->writer);
    assert_int_equal(fd_db_checkpoint(f->checkpointer, true, &copied), FD_OK);
    assert_int_equal(copied, log);
    assert_int_equal(testdb_one(reader, COUNT_ROWS), f->rows);
    fd_db_close(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(complete_pass_lets_the_log_start_over, setup, teardown),
        cmocka_unit_test_setup_teardown(pass_behind_the_log_reports_what_is_left, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
