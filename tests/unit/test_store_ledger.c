/*
 * test_store_ledger.c - the ledger against a real SQLite database
 * (store/ledger.c): FIFO spending across lots, expiry at the boundary
 * second, pending lots maturing, refunds after spending, negative balances
 * repaid, merges; `check` must find no violation after each.
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
#include "core/jsonx.h"
#include "core/ledger.h"
#include "store/db.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/programs.h"
#include "store/schema.h"

#include "testdb.h"

#define DAY 86400
#define T0 INT64_C(1767225600) /* 2026-01-01T00:00:00Z */

typedef struct fixture {
    char path[64];
    fd_db *db;
    fd_program p;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    testdb_path(f->path, sizeof f->path, "unit");
    int64_t version;
    if (fd_db_open(f->path, &f->db) || fd_schema_migrate(f->db, &version)) return -1;
    fd_program_defaults(&f->p);
    f->p.expiry_mode = FD_EXPIRY_DAYS;
    f->p.expiry_days = 30;
    if (fd_program_insert(f->db, &f->p, T0)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fd_db_close(f->db);
    testdb_remove(f->path);
    free(f);
    return 0;
}

static void new_member(fixture *f, const char *ext, fd_member *m)
{
    memset(m, 0, sizeof *m);
    m->program_id = f->p.id;
    snprintf(m->external_id, sizeof m->external_id, "%s", ext);
    m->state = FD_STATE_ACTIVE;
    m->attributes = fd_strdup("{}");
    assert_int_equal(fd_member_insert(f->db, m, T0), FD_OK);
}

static fd_posting at(const char *kind, int64_t now)
{
    return (fd_posting){kind, "test", NULL, NULL, "test", now};
}

static fd_posting for_order(const char *kind, int64_t now, const char *order)
{
    fd_posting p = at(kind, now);
    p.order_id = order;
    return p;
}

static void report(const char *msg, void *arg)
{
    (void)arg;
    fprintf(stderr, "violation: %s\n", msg);
}

static void assert_ledger_ok(fixture *f)
{
    int64_t members, violations;
    assert_int_equal(fd_ledger_check(f->db, report, NULL, &members, &violations), FD_OK);
    assert_int_equal(violations, 0);
}

static int64_t lot_remaining(fixture *f, int64_t lot)
{
    char status[16];
    int64_t remaining = -1;
    assert_int_equal(fd_ledger_lot_state(f->db, lot, status, &remaining), FD_OK);
    return remaining;
}

static void fifo_spend_and_expiry_boundary(void **state)
{
    fixture *f = *state;
    fd_member m;
    new_member(f, "fifo", &m);
    int64_t a, b, c;
    fd_posting pa = at("earn", T0), pb = at("earn", T0 + 5 * DAY), pc = at("earn", T0 + 10 * DAY);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 100, false, &pa, &a), FD_OK);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 100, false, &pb, &b), FD_OK);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 100, false, &pc, &c), FD_OK);
    assert_int_equal(m.balance, 300);

    /* 150 spent: lot a (oldest expiry) emptied, lot b halved, c untouched */
    fd_posting spend = at("redeem", T0 + 11 * DAY);
    assert_int_equal(fd_ledger_debit(f->db, &m, 150, NULL, false, &spend), FD_OK);
    assert_int_equal(lot_remaining(f, a), 0);
    assert_int_equal(lot_remaining(f, b), 50);
    assert_int_equal(lot_remaining(f, c), 100);
    assert_int_equal(m.balance, 150);
    assert_int_equal(fd_ledger_debit(f->db, &m, 151, NULL, false, &spend), FD_ENOFUNDS);

    /* lot b expires at T0 + 35 days: not one second earlier */
    int64_t n = -1;
    assert_int_equal(fd_ledger_expire_due(f->db, T0 + 35 * DAY - 1, 100, &n), FD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fd_ledger_expire_due(f->db, T0 + 35 * DAY, 100, &n), FD_OK);
    assert_int_equal(n, 1);
    fd_member_clear(&m);
    assert_int_equal(fd_member_get(f->db, f->p.id, m.id, &m), FD_OK);
    assert_int_equal(m.balance, 100);
    assert_int_equal(lot_remaining(f, b), 0);
    /* running the job again at the same time changes nothing */
    assert_int_equal(fd_ledger_expire_due(f->db, T0 + 35 * DAY, 100, &n), FD_OK);
    assert_int_equal(n, 0);
    assert_ledger_ok(f);
    fd_member_clear(&m);
}

/* A spend reads the oldest lots until they cover it: one that ends on a lot's
 * last point leaves the next whole, and one that needs every lot takes them all. */
static void spends_take_the_oldest_lots_that_cover_them(void **state)
{
    fixture *f = *state;
    fd_member m;
    new_member(f, "cover", &m);
    int64_t lots[40];
    for (int i = 0; i < 40; i++) {
        fd_posting earn = at("earn", T0 + i * 3600);
        assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 10 + i, false, &earn, &lots[i]), FD_OK);
    }
    fd_posting spend = at("redeem", T0 + DAY);
    assert_int_equal(fd_ledger_debit(f->db, &m, 10 + 11, NULL, false, &spend), FD_OK);
    assert_int_equal(lot_remaining(f, lots[0]), 0);
    assert_int_equal(lot_remaining(f, lots[1]), 0);
    assert_int_equal(lot_remaining(f, lots[2]), 12);
    assert_int_equal(fd_ledger_debit(f->db, &m, 5, NULL, false, &spend), FD_OK);
    assert_int_equal(lot_remaining(f, lots[2]), 7);
    assert_int_equal(lot_remaining(f, lots[3]), 13);
    int64_t rest = m.balance;
    assert_int_equal(rest, 40 * 10 + 39 * 40 / 2 - 21 - 5);
    assert_int_equal(fd_ledger_debit(f->db, &m, rest + 1, NULL, false, &spend), FD_ENOFUNDS);
    assert_int_equal(fd_ledger_debit(f->db, &m, rest, NULL, false, &spend), FD_OK);
    for (int i = 0; i < 40; i++)
        assert_int_equal(lot_remaining(f, lots[i]), 0);
    assert_int_equal(m.balance, 0);
    assert_ledger_ok(f);
    fd_member_clear(&m);
}

static void pending_lot_matures(void **state)
{
    fixture *f = *state;
    f->p.pending_days = 14;
    fd_member m;
    new_member(f, "pending", &m);
    int64_t lot, n;
    fd_posting p = for_order("earn", T0, "P1");
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 80, true, &p, &lot), FD_OK);
    assert_int_equal(m.balance, 0);
    assert_int_equal(m.pending, 80);
    /* pending points cannot be spent */
    fd_posting spend = at("redeem", T0 + DAY);
    assert_int_equal(fd_ledger_debit(f->db, &m, 10, NULL, false, &spend), FD_ENOFUNDS);
    /* a partial return inside the window cancels pending points only */
    fd_posting ret = at("reverse", T0 + 2 * DAY);
    assert_int_equal(fd_ledger_cancel_pending(f->db, &m, "P1", 30, &ret), FD_OK);
    assert_int_equal(m.pending, 50);
    assert_int_equal(fd_ledger_mature_due(f->db, T0 + 14 * DAY - 1, 100, &n), FD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fd_ledger_mature_due(f->db, T0 + 14 * DAY, 100, &n), FD_OK);
    assert_int_equal(n, 1);
    fd_member_clear(&m);
    assert_int_equal(fd_member_get(f->db, f->p.id, m.id, &m), FD_OK);
    assert_int_equal(m.balance, 50);
    assert_int_equal(m.pending, 0);
    /* expiry counts from activation by default: 14 + 30 days after earning */
    assert_int_equal(fd_ledger_expire_due(f->db, T0 + 44 * DAY - 1, 100, &n), FD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fd_ledger_expire_due(f->db, T0 + 44 * DAY, 100, &n), FD_OK);
    assert_int_equal(n, 1);
    assert_ledger_ok(f);
    fd_member_clear(&m);
}

static void refund_after_spending_goes_negative_then_repaid(void **state)
{
    fixture *f = *state;
    fd_member m;
    new_member(f, "negative", &m);
    int64_t lot;
    fd_posting earn = for_order("earn", T0, "N1");
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 100, false, &earn, &lot), FD_OK);
    fd_posting spend = at("redeem", T0 + DAY);
    assert_int_equal(fd_ledger_debit(f->db, &m, 90, NULL, false, &spend), FD_OK);
    /* the order is refunded in full: 100 points reversed, 10 left in lots */
    fd_posting rev = at("reverse", T0 + 2 * DAY);
    assert_int_equal(fd_ledger_debit(f->db, &m, 100, "N1", true, &rev), FD_OK);
    assert_int_equal(m.balance, -90);
    assert_int_equal(lot_remaining(f, lot), 0);
    assert_ledger_ok(f);
    /* the next 120 points repay the 90 first: the new lot holds 30 */
    int64_t lot2;
    fd_posting earn2 = at("earn", T0 + 3 * DAY);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 120, false, &earn2, &lot2), FD_OK);
    assert_int_equal(m.balance, 30);
    assert_int_equal(lot_remaining(f, lot2), 30);
    assert_ledger_ok(f);
    fd_member_clear(&m);
}

static void merge_keeps_both_histories(void **state)
{
    fixture *f = *state;
    fd_member a, b;
    new_member(f, "merge-a", &a);
    new_member(f, "merge-b", &b);
    fd_posting earn = at("earn", T0);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &a, 70, false, &earn, NULL), FD_OK);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &b, 40, false, &earn, NULL), FD_OK);
    fd_posting spend = at("reverse", T0 + DAY);
    assert_int_equal(fd_ledger_debit(f->db, &b, 60, NULL, true, &spend), FD_OK); /* b at -20 */
    fd_posting merge = at("merge_out", T0 + 2 * DAY);
    assert_int_equal(fd_ledger_merge(f->db, &a, &b, &merge), FD_OK);
    assert_int_equal(a.balance, 50);
    assert_int_equal(b.balance, 0);
    int64_t entries;
    assert_int_equal(fd_db_one_i64(f->db, "SELECT COUNT(*) FROM journal WHERE member_id = $1",
                                   FD_PARAMS(FD_I(b.id)), &entries),
                     FD_OK);
    assert_int_equal(entries, 3); /* earn, reverse, merge_out stay with b */
    assert_ledger_ok(f);
    fd_member_clear(&a);
    fd_member_clear(&b);
}

static void check_detects_tampering(void **state)
{
    fixture *f = *state;
    fd_member m;
    new_member(f, "tamper", &m);
    fd_posting earn = at("earn", T0);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 10, false, &earn, NULL), FD_OK);
    assert_int_equal(fd_db_run(f->db, "UPDATE members SET balance = 11 WHERE id = $1",
                               FD_PARAMS(FD_I(m.id)), NULL),
                     FD_OK);
    int64_t members, violations;
    assert_int_equal(fd_ledger_check(f->db, report, NULL, &members, &violations), FD_OK);
    assert_true(violations >= 1);
    assert_int_equal(fd_db_run(f->db, "UPDATE members SET balance = 10 WHERE id = $1",
                               FD_PARAMS(FD_I(m.id)), NULL),
                     FD_OK);
    assert_ledger_ok(f);
    fd_member_clear(&m);
}

/* The shares of journal entry `entry` as stored, as "rule:version:points"
 * joined by spaces, in out. */
static void shares_text(fixture *f, int64_t entry, char *out, size_t size)
{
    fd_stmt *st;
    assert_int_equal(
        fd_db_query(f->db, "SELECT rules FROM journal WHERE id = $1", FD_PARAMS(FD_I(entry)), &st),
        FD_OK);
    assert_int_equal(fd_stmt_next(st), 1);
    fd_rule_part *parts;
    size_t n, used = 0;
    assert_int_equal(fd_ledger_shares_parse(fd_stmt_text(st, 0), &parts, &n), FD_OK);
    fd_stmt_done(st);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%lld:%lld:%lld", used ? " " : "",
                                 (long long)parts[i].rule_id, (long long)parts[i].rule_version,
                                 (long long)parts[i].points);
    free(parts);
}

static int64_t last_entry(fixture *f, const fd_member *m)
{
    int64_t id = 0;
    assert_int_equal(fd_db_one_i64(f->db, "SELECT MAX(id) FROM journal WHERE member_id = $1",
                                   FD_PARAMS(FD_I(m->id)), &id),
                     FD_OK);
    return id;
}

/* One lot and one entry hold the sum of the rules' shares, 18 of them, kept
 * in rule order; a share of no points or an overflowing sum is refused;
 * check catches an entry whose shares no longer add up, do not parse, or
 * belong to no earning. */
static void rule_shares_of_one_entry(void **state)
{
    fixture *f = *state;
    fd_member m;
    new_member(f, "shares", &m);
    fd_posting earn = at("earn", T0);
    fd_rule_part parts[18];
    int64_t sum = 0;
    for (int i = 0; i < 18; i++) { /* the rules of 117 down to 100 */
        parts[i] = (fd_rule_part){117 - i, 1 + (17 - i) % 3, 18 - i};
        sum += i + 1;
    }
    int64_t lot;
    assert_int_equal(fd_ledger_credit_rules(f->db, &f->p, &m, parts, 18, false, &earn, &lot),
                     FD_OK);
    assert_int_equal(m.balance, sum);
    assert_int_equal(lot_remaining(f, lot), sum);
    int64_t entry = last_entry(f, &m), entries = 0;
    assert_int_equal(fd_db_one_i64(f->db, "SELECT COUNT(*) FROM journal WHERE member_id = $1",
                                   FD_PARAMS(FD_I(m.id)), &entries),
                     FD_OK);
    assert_int_equal(entries, 1);
    char text[512];
    shares_text(f, entry, text, sizeof text);
    assert_string_equal(text, "100:1:1 101:2:2 102:3:3 103:1:4 104:2:5 105:3:6 106:1:7 107:2:8"
                              " 108:3:9 109:1:10 110:2:11 111:3:12 112:1:13 113:2:14 114:3:15"
                              " 115:1:16 116:2:17 117:3:18");
    assert_ledger_ok(f);

    /* refused, and nothing written */
    fd_rule_part zero[2] = {{1, 1, 5}, {2, 1, 0}};
    assert_int_equal(fd_ledger_credit_rules(f->db, &f->p, &m, zero, 2, false, &earn, NULL),
                     FD_EINVAL);
    fd_rule_part huge[2] = {{1, 1, INT64_MAX}, {2, 1, 1}};
    assert_int_equal(fd_ledger_credit_rules(f->db, &f->p, &m, huge, 2, false, &earn, NULL),
                     FD_EINVAL);
    assert_int_equal(fd_ledger_credit_rules(f->db, &f->p, &m, parts, 0, false, &earn, NULL),
                     FD_EINVAL);
    assert_int_equal(last_entry(f, &m), entry);
    assert_int_equal(m.balance, sum);

    /* an entry without rules has no shares */
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 5, false, &earn, NULL), FD_OK);
    shares_text(f, last_entry(f, &m), text, sizeof text);
    assert_string_equal(text, "");

    fd_posting adjust = at("adjust", T0);
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 5, false, &adjust, NULL), FD_OK);
    int64_t other = last_entry(f, &m), members, violations;
    char saved[512];
    fd_stmt *st;
    assert_int_equal(
        fd_db_query(f->db, "SELECT rules FROM journal WHERE id = $1", FD_PARAMS(FD_I(entry)), &st),
        FD_OK);
    assert_int_equal(fd_stmt_next(st), 1);
    snprintf(saved, sizeof saved, "%s", fd_stmt_text(st, 0));
    fd_stmt_done(st);
    const char *tampered[][2] = {
        {"[[115,1,16],[116,2,17],[117,3,99]]", NULL}, /* no longer the sum */
        {"[[117,3,18]", NULL},                        /* not JSON */
        {NULL, "[[1,1,5]]"}, /* the sum of an adjustment, which no rule makes */
        {"[]", NULL},        /* an earning by rules without shares */
    };
    for (size_t t = 0; t < sizeof tampered / sizeof *tampered; t++) {
        assert_int_equal(
            fd_db_run(f->db, "UPDATE journal SET rules = $2 WHERE id = $1",
                      FD_PARAMS(FD_I(entry), FD_S(tampered[t][0] ? tampered[t][0] : saved)), NULL),
            FD_OK);
        assert_int_equal(fd_db_run(f->db, "UPDATE journal SET rules = $2 WHERE id = $1",
                                   FD_PARAMS(FD_I(other), FD_S(tampered[t][1])), NULL),
                         FD_OK);
        assert_int_equal(fd_ledger_check(f->db, report, NULL, &members, &violations), FD_OK);
        assert_int_equal(violations, 1);
    }
    fd_member_clear(&m);
}

/* The stored form of shares, and what is not of it. */
static void shares_parse(void **state)
{
    (void)state;
    fd_rule_part *parts;
    size_t n;
    assert_int_equal(fd_ledger_shares_parse(NULL, &parts, &n), FD_OK);
    assert_true(parts == NULL && n == 0);
    assert_int_equal(fd_ledger_shares_parse("[[7,2,30],[9,1,-4]]", &parts, &n), FD_OK);
    assert_int_equal(n, 2);
    assert_true(parts[0].rule_id == 7 && parts[0].rule_version == 2 && parts[0].points == 30);
    assert_true(parts[1].rule_id == 9 && parts[1].rule_version == 1 && parts[1].points == -4);
    free(parts);
    const char *bad[] = {
        "",         "x",     "{}", "[1]", "[[1,2]]", "[[1,2,3,4]]", "[[1,2,\"3\"]]", "[[1,2,3.5]]",
        "[[1,2,3]", "[null]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(fd_ledger_shares_parse(bad[i], &parts, &n), FD_EINVAL);
        assert_true(parts == NULL && n == 0);
    }
    json_t *a = fd_ledger_shares_json("[[7,2,30]]");
    char *text = fd_json_text(a, false);
    assert_string_equal(text, "[{\"rule_id\":7,\"version\":2,\"points\":30}]");
    free(text);
    json_decref(a);
    a = fd_ledger_shares_json("[[7,2]]");
    assert_int_equal(json_array_size(a), 0);
    json_decref(a);
}

/* The plan SQLite picks for sql, its steps joined by "; ". explain holds the
 * EXPLAIN text: statements are cached by their text's address, so each
 * query explained needs a buffer of its own. */
static void query_plan(fixture *f, const char *sql, char explain[512], char *plan, size_t size)
{
    snprintf(explain, 512, "EXPLAIN QUERY PLAN %s", sql);
    fd_stmt *st;
    assert_int_equal(fd_db_query(f->db, explain, FD_PARAMS(FD_I(T0), FD_I(100)), &st), FD_OK);
    plan[0] = 0;
    while (fd_stmt_next(st) == 1) {
        size_t used = strlen(plan);
        snprintf(plan + used, size - used, "%s; ", fd_stmt_text(st, 3));
    }
    fd_stmt_done(st);
}

/* Migration 20: lots_expiry holds the active lots, lots_maturity the pending
 * ones. The jobs' own queries must still search them in order, not scan the
 * lots and sort. */
static void job_queries_search_their_partial_indexes(void **state)
{
    fixture *f = *state;
    char plan[512], expire[512], mature[512];
    query_plan(f, FD_LEDGER_EXPIRE_DUE_SQL, expire, plan, sizeof plan);
    assert_string_equal(plan, "SEARCH lots USING INDEX lots_expiry (expires_at<?); ");
    query_plan(f, FD_LEDGER_MATURE_DUE_SQL, mature, plan, sizeof plan);
    assert_string_equal(plan, "SEARCH lots USING INDEX lots_maturity (matures_at<?); ");
    /* an earned lot is found through lots_expiry, and lots_maturity is the
     * partial index on pending lots */
    fd_member m;
    new_member(f, "idx", &m);
    fd_posting post = at("earn", T0);
    int64_t lot;
    assert_int_equal(fd_ledger_credit(f->db, &f->p, &m, 100, false, &post, &lot), FD_OK);
    assert_int_equal(testdb_one(f->db, "SELECT COUNT(*) FROM lots INDEXED BY lots_expiry"
                                       " WHERE status = 'active' AND expires_at > 0"),
                     1);
    assert_int_equal(testdb_one(f->db,
                                "SELECT COUNT(*) FROM sqlite_master WHERE name ="
                                " 'lots_maturity' AND sql LIKE '%WHERE status = ''pending''%'"),
                     1);
    fd_member_clear(&m);
}

/* Migration 25: lots_member gives a spend's order (expiry, earning, id), so
 * a spend reads only the oldest lots that cover it; sorting all of a
 * member's open lots took 20 ms per spend at 20,000 of them. */
static void spends_read_the_lots_in_their_order(void **state)
{
    fixture *f = *state;
    char plan[512], explain[512];
    query_plan(f, FD_LEDGER_SPEND_LOTS_SQL, explain, plan, sizeof plan);
    assert_string_equal(plan, "SEARCH lots USING INDEX lots_member (member_id=? AND status=?); ");
}

/* The export's pages walk the journal by id: through journal_program, each
 * page read and sorted all of the program's entries (1,000,000 entries took
 * 52 s to export). Only the page itself, with its shares, is sorted. */
static void export_pages_walk_the_journal_by_id(void **state)
{
    fixture *f = *state;
    char plan[512], explain[512];
    query_plan(f, FD_LEDGER_EXPORT_PAGE_SQL, explain, plan, sizeof plan);
    assert_string_equal(plan, "SEARCH journal USING INTEGER PRIMARY KEY (rowid>?); ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fifo_spend_and_expiry_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(pending_lot_matures, setup, teardown),
        cmocka_unit_test_setup_teardown(refund_after_spending_goes_negative_then_repaid, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(merge_keeps_both_histories, setup, teardown),
        cmocka_unit_test_setup_teardown(spends_take_the_oldest_lots_that_cover_them, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(check_detects_tampering, setup, teardown),
        cmocka_unit_test_setup_teardown(rule_shares_of_one_entry, setup, teardown),
        cmocka_unit_test(shares_parse),
        cmocka_unit_test_setup_teardown(job_queries_search_their_partial_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(export_pages_walk_the_journal_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(spends_read_the_lots_in_their_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
