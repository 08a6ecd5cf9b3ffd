/*
 * test_code_insert.c - fd_code_insert (store/promos.c) on a real database:
 * SQLite, and PostgreSQL too when FIDELIS_TEST_PG_PORT names the test run's
 * throwaway cluster. A code text that is taken is FD_ECONFLICT without a
 * failed statement, so the caller's transaction goes on: issuing a voucher
 * draws again in the same transaction. On PostgreSQL the text may be taken
 * by another process's transaction that commits while the insert waits.
 */
#include <pthread.h>
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
#include "store/promos.h"

#include "testdb.h"

/* The columns fd_code_insert writes and the unique indexes of migration 9. */
static const char *const TABLE =
    "CREATE TABLE codes (id INTEGER PRIMARY KEY, program_id BIGINT NOT NULL,"
    " code TEXT NOT NULL, campaign_id BIGINT, reward_id BIGINT, member_id BIGINT,"
    " active BIGINT NOT NULL, status TEXT NOT NULL, max_uses BIGINT NOT NULL,"
    " uses BIGINT NOT NULL, balance BIGINT NOT NULL, points BIGINT, journal_id BIGINT,"
    " request_id TEXT, expires_at BIGINT, created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX codes_code ON codes(program_id, code);"
    "CREATE UNIQUE INDEX codes_request ON codes(program_id, member_id, request_id)";

static int setup(void **state)
{
    return testdb_setup_any(state, "codes", "codes", TABLE);
}

static int insert(fd_db *db, const char *text, const char *request_id)
{
    fd_code c = {.program_id = 1, .member_id = 7, .active = true, .max_uses = 1, .created_at = 1};
    snprintf(c.code, sizeof c.code, "%s", text);
    snprintf(c.status, sizeof c.status, "active");
    return fd_code_insert(db, &c, request_id);
}

static void taken_text_leaves_the_transaction_usable(void **state)
{
    fd_db *db = ((testdb *)*state)->db;
    assert_int_equal(fd_db_begin(db), FD_OK);
    assert_int_equal(insert(db, "AAAA-1111", "r1"), FD_OK);
    assert_int_equal(insert(db, "AAAA-1111", "r2"), FD_ECONFLICT);
    assert_int_equal(insert(db, "BBBB-2222", "r2"), FD_OK); /* the next draw, same transaction */
    assert_int_equal(fd_db_commit(db), FD_OK);
    assert_int_equal(testdb_one(db, "SELECT COUNT(*) FROM codes"), 2);
    /* the request's own uniqueness is still an error, not a taken text */
    assert_int_equal(insert(db, "CCCC-3333", "r1"), FD_ECONFLICT);
    assert_int_equal(testdb_one(db, "SELECT COUNT(*) FROM codes"), 2);
}

static void *commit_later(void *db)
{
    usleep(300 * 1000);
    return (void *)(intptr_t)fd_db_commit(db);
}

/* Another process inserts the text and commits while this insert waits for
 * its row lock (PostgreSQL only: SQLite has one writer). */
static void text_taken_by_a_concurrent_transaction(void **state)
{
    testdb *t = *state;
    if (!fd_db_is_postgres(t->path)) skip();
    fd_db *other;
    assert_int_equal(fd_db_open(t->path, &other), FD_OK);
    assert_int_equal(fd_db_begin(other), FD_OK);
    assert_int_equal(insert(other, "RACE-0001", "o1"), FD_OK);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, commit_later, other), 0);
    assert_int_equal(fd_db_begin(t->db), FD_OK);
    assert_int_equal(insert(t->db, "RACE-0001", "m1"), FD_ECONFLICT); /* waited, then taken */
    assert_int_equal(insert(t->db, "RACE-0002", "m1"), FD_OK);
    assert_int_equal(fd_db_commit(t->db), FD_OK);
    void *other_rc;
    pthread_join(thread, &other_rc);
    assert_int_equal((intptr_t)other_rc, FD_OK);
    fd_db_close(other);
    assert_int_equal(testdb_one(t->db, "SELECT COUNT(*) FROM codes WHERE code LIKE 'RACE-%'"), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(taken_text_leaves_the_transaction_usable, setup,
                                        testdb_teardown_any),
        cmocka_unit_test_setup_teardown(text_taken_by_a_concurrent_transaction, setup,
                                        testdb_teardown_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
