/*
 * test_db_steps.c - fd_db_steps (store/db.c) on a real database: SQLite, and
 * PostgreSQL too when FIDELIS_TEST_PG_PORT names the test run's throwaway
 * cluster. Steps run without savepoints until one fails after changing
 * something; on PostgreSQL a failed statement counts as a change (it aborts
 * the transaction), so the steps end with FD_EREPLAY and the careful run
 * keeps every other step's rows. A step that fails without touching
 * anything needs no replay on either driver.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "store/db.h"

#include "testdb.h"

typedef testdb fixture;

static const char *const TABLE = "CREATE TABLE steps_t(k TEXT PRIMARY KEY)";

static int setup(void **state)
{
    return testdb_setup_any(state, "steps", "steps_t", TABLE);
}

/* Each step inserts its key (or, for a NULL key, only reads) and keeps its
 * result; runs counts how often each step ran. */
typedef struct plan {
    const char *keys[4];
    int rc[4];
    int runs[4];
} plan;

static int insert_step(fd_db *db, void *ctx, size_t i)
{
    plan *p = ctx;
    p->runs[i]++;
    if (!p->keys[i]) {
        int64_t n;
        p->rc[i] = fd_db_one_i64(db, "SELECT COUNT(*) FROM steps_t WHERE k = 'none'", NULL, 0, &n);
        return p->rc[i] ? p->rc[i] : FD_ENOTFOUND;
    }
    return p->rc[i] = fd_db_run(db, "INSERT INTO steps_t(k) VALUES ($1)",
                                FD_PARAMS(FD_S(p->keys[i])), NULL);
}

/* What the store's writer does with a group: the steps, and after
 * FD_EREPLAY a rollback and the careful run. Returns the first run's code. */
static int run_group(fd_db *db, plan *p, size_t n)
{
    assert_int_equal(fd_db_begin(db), FD_OK);
    int first = fd_db_steps(db, n, insert_step, NULL, p, 0, "st");
    if (first == FD_EREPLAY) {
        assert_int_equal(fd_db_rollback(db), FD_OK);
        fd_db_set_careful(db, true);
        assert_int_equal(fd_db_begin(db), FD_OK);
        assert_int_equal(fd_db_steps(db, n, insert_step, NULL, p, 0, "st"), FD_OK);
        fd_db_set_careful(db, false);
    } else {
        assert_int_equal(first, FD_OK);
    }
    assert_int_equal(fd_db_commit(db), FD_OK);
    return first;
}

/* A duplicate key fails its statement: SQLite has changed nothing and goes
 * on; PostgreSQL's transaction is aborted, so the group runs again with a
 * savepoint per step and the steps around the failure keep their rows. */
static void failed_statement_keeps_the_other_steps(void **state)
{
    fixture *f = *state;
    plan p = {{"a", "a", "b"}, {0}, {0}};
    int first = run_group(f->db, &p, 3);
    bool pg = fd_db_is_postgres(f->path);
    assert_int_equal(first, pg ? FD_EREPLAY : FD_OK);
    assert_int_equal(p.runs[0], pg ? 2 : 1);
    assert_int_equal(p.rc[0], FD_OK);
    assert_int_equal(p.rc[1], FD_ECONFLICT);
    assert_int_equal(p.rc[2], FD_OK);
    assert_int_equal(testdb_one(f->db, "SELECT COUNT(*) FROM steps_t"), 2);
}

/* A step that fails after a read only needs no replay: one run each. */
static void failure_without_changes_runs_once(void **state)
{
    fixture *f = *state;
    plan p = {{"c", NULL, "d"}, {0}, {0}};
    assert_int_equal(run_group(f->db, &p, 3), FD_OK);
    assert_int_equal(p.runs[0] + p.runs[1] + p.runs[2], 3);
    assert_int_equal(testdb_one(f->db, "SELECT COUNT(*) FROM steps_t"), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_statement_keeps_the_other_steps),
        cmocka_unit_test(failure_without_changes_runs_once),
    };
    return cmocka_run_group_tests(tests, setup, testdb_teardown_any);
}
