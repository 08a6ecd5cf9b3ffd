/*
 * test_sqlite_returning.c - `INSERT ... RETURNING id` on the SQLite driver,
 * which answers a one-row insert's id from the connection's last rowid
 * instead of running the RETURNING clause (store/db_sqlite.c): the id is the
 * new row's, once per execution, also for a cached statement run again; an
 * upsert that updates, an INSERT ... SELECT and a table whose id is not its
 * rowid keep SQLite's RETURNING and answer what it answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/fd.h"
#include "store/db.h"

#include "testdb.h"

typedef testdb fixture;

static int setup(void **state)
{
    return testdb_setup(state, "returning",
                        "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, n INTEGER);"
                        " CREATE TABLE other(id INTEGER PRIMARY KEY, v TEXT);"
                        " CREATE TABLE named(id TEXT PRIMARY KEY, v TEXT)");
}

static const char *const INSERT_T = "INSERT INTO t(k, n) VALUES ($1, $2) RETURNING id";

static int64_t insert_t(fd_db *db, const char *k, int64_t n)
{
    int64_t id = -1;
    assert_int_equal(fd_db_one_i64(db, INSERT_T, FD_PARAMS(FD_S(k), FD_I(n)), &id), FD_OK);
    return id;
}

static int64_t id_of(fd_db *db, const char *k)
{
    int64_t id = -1;
    assert_int_equal(fd_db_one_i64(db, "SELECT id FROM t WHERE k = $1", FD_PARAMS(FD_S(k)), &id),
                     FD_OK);
    return id;
}

/* Each execution of the cached statement answers its own row's id, once. */
static void insert_answers_the_new_rows_id(void **state)
{
    fixture *f = *state;
    assert_int_equal(fd_db_run(f->db, "INSERT INTO other(id, v) VALUES (500, 'x')", NULL, 0, NULL),
                     FD_OK); /* the connection's last rowid is now another table's */
    int64_t a = insert_t(f->db, "a", 1), b = insert_t(f->db, "b", 2);
    assert_int_equal(a, id_of(f->db, "a"));
    assert_int_equal(b, id_of(f->db, "b"));
    assert_true(b > a);

    fd_stmt *st;
    assert_int_equal(fd_db_query(f->db, INSERT_T, FD_PARAMS(FD_S("c"), FD_I(3)), &st), FD_OK);
    assert_int_equal(fd_stmt_next(st), 1);
    assert_false(fd_stmt_is_null(st, 0));
    assert_int_equal(fd_stmt_i64(st, 0), id_of(f->db, "c"));
    assert_int_equal(fd_stmt_next(st), 0); /* one row */
    fd_stmt_done(st);
}

/* A failed insert answers its error and no id; the next one works. */
static void failed_insert_answers_the_error(void **state)
{
    fixture *f = *state;
    insert_t(f->db, "a", 1);
    int64_t id = -1;
    assert_int_equal(fd_db_one_i64(f->db, INSERT_T, FD_PARAMS(FD_S("a"), FD_I(9)), &id),
                     FD_ECONFLICT);
    assert_int_equal(id, -1);
    int64_t d = insert_t(f->db, "d", 4);
    assert_int_equal(d, id_of(f->db, "d"));
}

/* A table whose id is not its rowid keeps RETURNING: the id inserted. */
static void id_that_is_not_the_rowid_keeps_returning(void **state)
{
    fixture *f = *state;
    fd_stmt *st;
    assert_int_equal(fd_db_query(f->db, "INSERT INTO named(id, v) VALUES ($1, $2) RETURNING id",
                                 FD_PARAMS(FD_S("n-1"), FD_S("x")), &st),
                     FD_OK);
    assert_int_equal(fd_stmt_next(st), 1);
    assert_string_equal(fd_stmt_text(st, 0), "n-1");
    fd_stmt_done(st);
}

/* An upsert that updates sets no new rowid: it keeps RETURNING, which
 * answers the updated row's id; so does an INSERT ... SELECT of no row. */
static void upsert_and_select_keep_returning(void **state)
{
    fixture *f = *state;
    int64_t a = insert_t(f->db, "a", 1);
    insert_t(f->db, "b", 2); /* the last rowid is b's */
    int64_t id = -1;
    assert_int_equal(fd_db_one_i64(f->db,
                                   "INSERT INTO t(k, n) VALUES ($1, $2)"
                                   " ON CONFLICT (k) DO UPDATE SET n = excluded.n RETURNING id",
                                   FD_PARAMS(FD_S("a"), FD_I(7)), &id),
                     FD_OK);
    assert_int_equal(id, a);
    assert_int_equal(fd_db_one_i64(f->db,
                                   "INSERT INTO t(k, n) SELECT k || '2', n FROM t WHERE k = $1"
                                   " RETURNING id",
                                   FD_PARAMS(FD_S("none")), &id),
                     FD_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(insert_answers_the_new_rows_id, setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(failed_insert_answers_the_error, setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(upsert_and_select_keep_returning, setup, testdb_teardown),
        cmocka_unit_test_setup_teardown(id_that_is_not_the_rowid_keeps_returning, setup,
                                        testdb_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
