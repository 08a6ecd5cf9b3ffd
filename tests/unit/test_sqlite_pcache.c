/*
 * test_sqlite_pcache.c - the wrapped SQLite page cache (store/sqlite_pcache.c)
 * against a real database: commits that grow indexes (the B-tree's page swaps
 * lend pages the lock-byte page's number) skip the sweep of the cache; a
 * rolled-back transaction that grew the file still has its pages dropped;
 * the database stays intact and holds exactly what was committed.
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
#include "store/sqlite_pcache.h"

#include "testdb.h"

#define ROWS_PER_COMMIT 500

typedef testdb fixture;

static int setup(void **state)
{
    if (testdb_setup(state, "pcache",
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT);"
                     " CREATE INDEX t_k ON t(k)"))
        return -1;
    return fd_db_cache(((fixture *)*state)->db, 8 * 1024) ? -1 : 0;
}

/* Inserts rows [from, from + n) with keys in scattered order, so the index
 * splits pages all over (the swaps happen in those splits). */
static void insert_rows(fixture *f, int from, int n)
{
    assert_int_equal(testdb_insert_scattered(f->db, from, n, 199, 0), FD_OK);
}

static void commit_rows(fixture *f, int from, int n)
{
    assert_int_equal(fd_db_begin(f->db), FD_OK);
    insert_rows(f, from, n);
    assert_int_equal(fd_db_commit(f->db), FD_OK);
}

static void assert_intact(fixture *f, int64_t rows, int64_t id_sum)
{
    assert_true(testdb_intact(f->db));
    int64_t n = -1, sum = -1, distinct = -1;
    assert_int_equal(fd_db_one_i64(f->db, "SELECT COUNT(*) FROM t", NULL, 0, &n), FD_OK);
    assert_int_equal(fd_db_one_i64(f->db, "SELECT COALESCE(SUM(id), 0) FROM t", NULL, 0, &sum),
                     FD_OK);
    assert_int_equal(
        fd_db_one_i64(f->db, "SELECT COUNT(DISTINCT k) FROM t INDEXED BY t_k", NULL, 0, &distinct),
        FD_OK);
    assert_int_equal(n, rows);
    assert_int_equal(sum, id_sum);
    assert_int_equal(distinct, rows);
}

static int64_t id_sum(int n)
{
    return (int64_t)n * (n - 1) / 2;
}

static void commits_skip_the_sweep(void **state)
{
    fixture *f = *state;
    long passed0, skipped0, passed, skipped;
    commit_rows(f, 0, ROWS_PER_COMMIT); /* the first pages */
    fd_sqlite_pcache_counts(&passed0, &skipped0);
    for (int c = 1; c < 20; c++)
        commit_rows(f, c * ROWS_PER_COMMIT, ROWS_PER_COMMIT);
    fd_sqlite_pcache_counts(&passed, &skipped);
    /* Each commit ends with a truncation to the database's size; with pages
     * lent the lock-byte number, SQLite's cache alone would sweep itself
     * every time. Here none of the 19 is passed on. */
    assert_true(skipped - skipped0 >= 19);
    assert_int_equal(passed - passed0, 0);
    assert_intact(f, 20 * ROWS_PER_COMMIT, id_sum(20 * ROWS_PER_COMMIT));
}

static void rollback_of_growth_drops_its_pages(void **state)
{
    fixture *f = *state;
    long passed0, skipped0, passed, skipped;
    commit_rows(f, 0, 2 * ROWS_PER_COMMIT);
    int64_t pages_before = 0, pages_after = 0;
    assert_int_equal(fd_db_one_i64(f->db, "PRAGMA page_count", NULL, 0, &pages_before), FD_OK);
    fd_sqlite_pcache_counts(&passed0, &skipped0);
    /* A transaction that grows the file by hundreds of pages, then undone:
     * its pages lie past the database's end and must leave the cache. */
    assert_int_equal(fd_db_begin(f->db), FD_OK);
    insert_rows(f, 100000, 10 * ROWS_PER_COMMIT);
    assert_int_equal(fd_db_rollback(f->db), FD_OK);
    fd_sqlite_pcache_counts(&passed, &skipped);
    assert_true(passed - passed0 >= 1);
    assert_int_equal(fd_db_one_i64(f->db, "PRAGMA page_count", NULL, 0, &pages_after), FD_OK);
    assert_int_equal(pages_after, pages_before);
    assert_intact(f, 2 * ROWS_PER_COMMIT, id_sum(2 * ROWS_PER_COMMIT));
    /* The same page numbers are allocated again, for other rows. */
    commit_rows(f, 2 * ROWS_PER_COMMIT, 8 * ROWS_PER_COMMIT);
    assert_intact(f, 10 * ROWS_PER_COMMIT, id_sum(10 * ROWS_PER_COMMIT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commits_skip_the_sweep, setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(rollback_of_growth_drops_its_pages, setup, testdb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
