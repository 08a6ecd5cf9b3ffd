/*
 * test_sqlite_logbuf.c - the log's writes gathered per commit
 * (store/sqlite_logbuf.c) against real databases: a commit reaches the file
 * in one write; what a connection committed is in the file for the others
 * and survives its process ending without a close; a transaction larger
 * than the cache (frames written before the commit, some of them written
 * again) and one rolled back leave exactly what was committed; the log
 * starting over after a checkpoint does too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/fd.h"
#include "store/db.h"
#include "store/sqlite_logbuf.h"

#include "testdb.h"

#define ROWS 5000 /* about 190 pages of 4 KiB with the index */

typedef testdb fixture;

/* One table with an index on a scattered key, so a commit dirties pages all
 * over; commits as the store's writer makes them (no sync at commit, so only
 * the gathering decides when the frames reach the file). */
static int setup(void **state)
{
    if (testdb_setup(state, "logbuf",
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT);"
                     " CREATE INDEX t_k ON t(k); PRAGMA synchronous=NORMAL"))
        return -1;
    return 0;
}

static void insert_rows(fd_db *db, int from, int n, char fill)
{
    assert_int_equal(testdb_insert_scattered(db, from, n, 99, fill), FD_OK);
}

static void commit_rows(fd_db *db, int from, int n)
{
    assert_int_equal(fd_db_begin(db), FD_OK);
    insert_rows(db, from, n, 'a');
    assert_int_equal(fd_db_commit(db), FD_OK);
}

/* What a new connection finds: the database intact, n rows with ids 0..n-1,
 * each value of the fill it was last given. */
static void assert_rows(const char *path, int n, int64_t filled_b)
{
    fd_db *db;
    assert_int_equal(fd_db_open(path, &db), FD_OK);
    assert_true(testdb_intact(db));
    assert_int_equal(testdb_one(db, "SELECT COUNT(*) FROM t"), n);
    assert_int_equal(testdb_one(db, "SELECT COALESCE(SUM(id), 0) FROM t"),
                     (int64_t)n * (n - 1) / 2);
    assert_int_equal(testdb_one(db, "SELECT COUNT(*) FROM t INDEXED BY t_k WHERE k > ''"), n);
    assert_int_equal(testdb_one(db, "SELECT COUNT(*) FROM t WHERE v LIKE 'b%'"), filled_b);
    fd_db_close(db);
}

static void a_commit_is_one_write(void **state)
{
    fixture *f = *state;
    commit_rows(f->db, 0, 10); /* the log begins (its header) */
    long received0, issued0, received, issued;
    fd_sqlite_logbuf_counts(&received0, &issued0);
    commit_rows(f->db, 10, ROWS);
    fd_sqlite_logbuf_counts(&received, &issued);
    /* two writes per frame from SQLite; to the file, one per 64 KiB (16 frames) */
    assert_true(received - received0 >= 200);
    assert_true(issued - issued0 >= 1);
    assert_true(issued - issued0 <= (received - received0) / 16);
    assert_rows(f->path, ROWS + 10, 0); /* another connection reads them */
}

static void committed_frames_outlive_the_process(void **state)
{
    fixture *f = *state;
    commit_rows(f->db, 0, 10);
    fd_db_close(f->db); /* no SQLite state of this process's connections in the child */
    f->db = NULL;
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) { /* commits, then leaves a transaction open and ends without closing */
        fd_db *db;
        if (fd_db_open(f->path, &db) || fd_db_exec(db, "PRAGMA synchronous=NORMAL")) _exit(2);
        commit_rows(db, 10, ROWS);
        if (fd_db_begin(db)) _exit(3);
        insert_rows(db, 100000, 50, 'x');
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_rows(f->path, ROWS + 10, 0);
    assert_int_equal(fd_db_open(f->path, &f->db), FD_OK); /* the fixture's, for its teardown */
}

static void a_transaction_larger_than_the_cache(void **state)
{
    fixture *f = *state;
    assert_int_equal(fd_db_cache(f->db, 64), FD_OK); /* 16 pages: the transaction spills */
    commit_rows(f->db, 0, 10);
    assert_int_equal(fd_db_begin(f->db), FD_OK);
    insert_rows(f->db, 10, ROWS, 'a');
    /* the same pages again: frames of this transaction written over */
    assert_int_equal(fd_db_exec(f->db, "UPDATE t SET v = 'b' || substr(v, 2) WHERE id % 2 = 0"),
                     FD_OK);
    assert_int_equal(fd_db_commit(f->db), FD_OK);
    assert_rows(f->path, ROWS + 10, (ROWS + 10) / 2);
    /* a spilled transaction undone, then another committed after it */
    assert_int_equal(fd_db_begin(f->db), FD_OK);
    insert_rows(f->db, 50000, ROWS, 'x');
    assert_int_equal(fd_db_rollback(f->db), FD_OK);
    commit_rows(f->db, ROWS + 10, 100);
    assert_rows(f->path, ROWS + 110, (ROWS + 10) / 2);
}

static void the_log_starts_over(void **state)
{
    fixture *f = *state;
    commit_rows(f->db, 0, ROWS);
    fd_db *other;
    assert_int_equal(fd_db_open(f->path, &other), FD_OK);
    assert_int_equal(testdb_one(other, "PRAGMA wal_checkpoint(RESTART)"), 0); /* 0: not busy */
    fd_db_close(other);
    commit_rows(f->db, ROWS, 500); /* written from the log's start again */
    assert_rows(f->path, ROWS + 500, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_commit_is_one_write, setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(committed_frames_outlive_the_process, setup,
                                        testdb_teardown),
        cmocka_unit_test_setup_teardown(a_transaction_larger_than_the_cache, setup,
                                        testdb_teardown),
        cmocka_unit_test_setup_teardown(the_log_starts_over, setup, testdb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
