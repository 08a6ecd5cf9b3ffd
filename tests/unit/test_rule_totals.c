/*
 * test_rule_totals.c - a rule's awarded points (store/rules.c) through the
 * connection's deferred writes (store/db.c), on a real database: SQLite, and
 * PostgreSQL too when FIDELIS_TEST_PG_PORT names the test run's throwaway
 * cluster. On SQLite's writer, outside savepoints and careful mode, the
 * amounts wait on the connection until the transaction commits; a budget read
 * in the transaction sees them, a rollback forgets them, and a step that
 * deferred some and then failed is replayed. PostgreSQL writes at once (its
 * row lock queues concurrent processes): the totals read the same.
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
#include "store/rules.h"

#include "testdb.h"

/* The table of migration 19, with two rules of program 1. */
static const char *const TABLE =
    "CREATE TABLE rule_totals (rule_id BIGINT NOT NULL PRIMARY KEY, program_id BIGINT NOT NULL,"
    " points_awarded BIGINT NOT NULL);"
    "INSERT INTO rule_totals VALUES (1, 1, 100), (2, 1, 0)";

static int setup(void **state)
{
    return testdb_setup_any(state, "totals", "rule_totals", TABLE);
}

static int64_t used(fd_db *db, int64_t rule_id)
{
    int64_t v = -1;
    return fd_rule_budget_used(db, rule_id, &v) ? -1 : v;
}

/* The row as the connection reads it, pending amounts aside. */
static int64_t stored(fd_db *db, int64_t rule_id)
{
    int64_t v = -1;
    return fd_db_one_i64(db, "SELECT points_awarded FROM rule_totals WHERE rule_id = $1",
                         FD_PARAMS(FD_I(rule_id)), &v)
               ? -1
               : v;
}

static int award(fd_db *db, int64_t rule, int64_t points)
{
    return fd_rule_award(db, 1, &(fd_rule_part){rule, 1, points}, 1);
}

static bool deferring(void **state)
{
    return !fd_db_is_postgres(((testdb *)*state)->path);
}

static void kept_until_commit(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(fd_rule_award(db, 1, (fd_rule_part[]){{1, 1, 5}, {2, 1, 7}}, 2), FD_OK);
    assert_int_equal(award(db, 1, 3), FD_OK); /* a second event of the group */
    assert_int_equal(used(db, 1), 108);       /* what a budget check sees */
    assert_int_equal(used(db, 2), 7);
    if (deferring(state)) assert_int_equal(stored(db, 1), 100); /* not written yet */
    assert_int_equal(fd_db_commit(db), FD_OK);
    assert_int_equal(stored(db, 1), 108);
    assert_int_equal(stored(db, 2), 7);
    assert_int_equal(used(db, 1), 108); /* nothing counted twice after the commit */
}

static void forgotten_on_rollback(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(award(db, 2, 9), FD_OK);
    assert_int_equal(used(db, 2), 9);
    assert_int_equal(fd_db_rollback(db), FD_OK);
    assert_int_equal(used(db, 2), 0);
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(fd_db_commit(db), FD_OK); /* the next commit writes nothing of it */
    assert_int_equal(stored(db, 2), 0);
}

/* Inside a savepoint the award is written at once, so rolling back to the
 * savepoint undoes it; the same in careful mode. */
static void written_at_once_in_savepoints_and_careful_mode(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(award(db, 1, 1), FD_OK); /* deferred on SQLite */
    assert_int_equal(fd_db_savepoint(db, "sp"), FD_OK);
    assert_int_equal(award(db, 1, 20), FD_OK);
    assert_int_equal(stored(db, 1), deferring(state) ? 120 : 121);
    assert_int_equal(fd_db_rollback_to(db, "sp"), FD_OK);
    assert_int_equal(fd_db_release(db, "sp"), FD_OK);
    assert_int_equal(used(db, 1), 101);
    fd_db_set_careful(db, true);
    assert_int_equal(award(db, 2, 4), FD_OK);
    fd_db_set_careful(db, false);
    assert_int_equal(stored(db, 2), 4);
    assert_int_equal(fd_db_commit(db), FD_OK);
    assert_int_equal(stored(db, 1), 101);
    assert_int_equal(stored(db, 2), 4);
}

static int award_then_fail(fd_db *db, void *ctx, size_t i)
{
    (void)ctx;
    (void)i;
    return award(db, 2, 50) ? FD_EIO : FD_EINVAL;
}

/* fd_db_steps keeps a failed step that changed nothing without a replay: a
 * step that only deferred an award has changed something. */
static void failed_step_that_deferred_is_replayed(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(fd_db_steps(db, 1, award_then_fail, NULL, NULL, 0, "t"), FD_EREPLAY);
    assert_int_equal(fd_db_rollback(db), FD_OK);
    fd_db_set_careful(db, true);
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(fd_db_steps(db, 1, award_then_fail, NULL, NULL, 0, "t"), FD_OK);
    fd_db_set_careful(db, false);
    assert_int_equal(fd_db_commit(db), FD_OK);
    assert_int_equal(stored(db, 2), 0); /* the failed step's award undone with it */
}

/* More rules than a pending set holds: the set is written when full. */
static void many_rules_in_one_transaction(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    enum { RULES = 1200 };
    assert_int_equal(fd_db_exec(db, "DELETE FROM rule_totals"), FD_OK);
    assert_int_equal(fd_db_begin(db), FD_OK);
    for (int64_t r = 1; r <= RULES; r++)
        assert_int_equal(
            fd_db_run(db, "INSERT INTO rule_totals VALUES ($1, 1, 0)", FD_PARAMS(FD_I(r)), NULL),
            FD_OK);
    for (int64_t r = 1; r <= RULES; r++)
        assert_int_equal(award(db, r, r), FD_OK);
    for (int64_t r = 1; r <= RULES; r += 7)
        assert_int_equal(award(db, r, 1), FD_OK);
    assert_int_equal(used(db, RULES), RULES + (RULES % 7 == 1));
    assert_int_equal(fd_db_commit(db), FD_OK);
    assert_int_equal(testdb_one(db, "SELECT SUM(points_awarded) FROM rule_totals"),
                     RULES * (RULES + 1) / 2 + (RULES + 6) / 7);
    assert_int_equal(stored(db, 8), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(kept_until_commit, setup, testdb_teardown_any),
        cmocka_unit_test_setup_teardown(forgotten_on_rollback, setup, testdb_teardown_any),
        cmocka_unit_test_setup_teardown(written_at_once_in_savepoints_and_careful_mode, setup,
                                        testdb_teardown_any),
        cmocka_unit_test_setup_teardown(failed_step_that_deferred_is_replayed, setup,
                                        testdb_teardown_any),
        cmocka_unit_test_setup_teardown(many_rules_in_one_transaction, setup, testdb_teardown_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
