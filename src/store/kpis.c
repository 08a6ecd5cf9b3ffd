/*
 * kpis.c - aggregate queries for the KPI report (kpis.h). Every sum is
 * COALESCEd so an empty period reads as zeros, and cast so PostgreSQL
 * returns a bigint rather than a numeric.
 */
#include "store/kpis.h"

#include <string.h>

#include "base/fd.h"

/* Runs a query that returns one row and reads its first n integer columns. */
static int one_row(fd_db *db, const char *sql, const fd_param *params, size_t n_params,
                   int64_t **cols, int n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, params, n_params, &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        for (int i = 0; i < n; i++)
            *cols[i] = fd_stmt_i64(st, i);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_EIO;
    }
    fd_stmt_done(st);
    return rc;
}

/* The member filter on column col; flag is the parameter holding the
 * filtered flag (1: only members of kpi_filter). */
#define IN_FILTER(col, flag) " AND (" flag " = 0 OR " col " IN (SELECT member_id FROM kpi_filter))"

static int filter_table(fd_db *db)
{
    return fd_db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS kpi_filter ("
                          "member_id BIGINT PRIMARY KEY)");
}

int fd_kpis_filter(fd_db *db, const int64_t *ids, size_t n)
{
    int rc = filter_table(db);
    if (!rc) rc = fd_db_exec(db, "DELETE FROM kpi_filter");
    for (size_t i = 0; i < n && !rc; i++)
        rc = fd_db_run(db, "INSERT INTO kpi_filter(member_id) VALUES ($1)", FD_PARAMS(FD_I(ids[i])),
                       NULL);
    return rc;
}

static int load_members(fd_db *db, int64_t pid, int64_t from, int64_t to, int64_t f, fd_kpis *k)
{
    int64_t *cols[] = {&k->members, &k->new_members};
    return one_row(db,
                   "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0"
                   " END), 0) AS BIGINT) FROM members WHERE program_id = $1 AND created_at < $3"
                   " AND merged_into IS NULL" IN_FILTER("id", "$4"),
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to), FD_I(f)), cols, 2);
}

static int load_orders(fd_db *db, int64_t pid, int64_t from, int64_t to, int64_t f, fd_kpis *k)
{
    int64_t *cols[] = {&k->buyers, &k->repeat_buyers, &k->member_orders, &k->member_revenue};
    int rc = one_row(
        db,
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0)"
        " AS BIGINT), CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(SUM(rev), 0)"
        " AS BIGINT) FROM (SELECT member_id, COUNT(*) AS n, SUM(total - refunded) AS"
        " rev FROM orders WHERE program_id = $1 AND occurred_at >= $2 AND"
        " occurred_at < $3" IN_FILTER("member_id", "$4") " GROUP BY member_id) AS per_member",
        FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to), FD_I(f)), cols, 4);
    if (rc) return rc;
    int64_t *guest[] = {&k->guest_orders, &k->guest_revenue};
    return one_row(db,
                   "SELECT COUNT(*), CAST(COALESCE(SUM(total - refunded), 0) AS BIGINT) FROM"
                   " guest_orders WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3",
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to)), guest, 2);
}

static int load_points(fd_db *db, int64_t pid, int64_t from, int64_t to, int64_t f, fd_kpis *k)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT kind, CAST(COALESCE(SUM(points + pending), 0) AS BIGINT),"
                         " CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM journal WHERE"
                         " program_id = $1 AND created_at >= $2 AND created_at < $3" IN_FILTER(
                             "member_id", "$4") " GROUP BY kind",
                         FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to), FD_I(f)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        const char *kind = fd_stmt_text(st, 0);
        int64_t both = fd_stmt_i64(st, 1), spendable = fd_stmt_i64(st, 2);
        if (!strcmp(kind, "earn")) k->points_issued = both;
        if (!strcmp(kind, "reverse")) k->points_reversed = -both;
        if (!strcmp(kind, "expire")) k->points_expired = -spendable;
        if (!strcmp(kind, "adjust")) k->points_adjusted = spendable;
        if (!strcmp(kind, "redeem")) k->points_redeemed -= spendable;
        if (!strcmp(kind, "restore")) k->points_redeemed -= spendable;
    }
    fd_stmt_done(st);
    if (rc < 0) return rc;
    int64_t *end[] = {&k->balance_at_end, &k->pending_at_end};
    return one_row(
        db,
        "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT), CAST(COALESCE(SUM(pending),"
        " 0) AS BIGINT) FROM journal WHERE program_id = $1 AND created_at < $2" IN_FILTER(
            "member_id", "$3"),
        FD_PARAMS(FD_I(pid), FD_I(to), FD_I(f)), end, 2);
}

static int load_redemptions(fd_db *db, int64_t pid, int64_t from, int64_t to, int64_t f, fd_kpis *k)
{
    int64_t *cols[] = {&k->redemptions, &k->redemption_discount, &k->redemption_orders,
                       &k->redemption_revenue};
    /* an order with two codes counts once in orders and revenue */
    return one_row(db,
                   "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(SUM(d), 0) AS"
                   " BIGINT), COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM"
                   " (SELECT order_id, COUNT(*) AS n, SUM(discount + shipping_discount) AS d,"
                   " MAX(order_amount) AS amount FROM redemptions WHERE program_id = $1 AND"
                   " created_at >= $2 AND created_at < $3 AND status = 'redeemed'" IN_FILTER(
                       "member_id", "$4") " GROUP BY order_id) AS per_order",
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to), FD_I(f)), cols, 4);
}

static int load_surveys(fd_db *db, int64_t pid, int64_t from, int64_t to, int64_t f, fd_kpis *k)
{
    int64_t *cols[] = {&k->nps_answers,          &k->promoters,        &k->passives, &k->detractors,
                       &k->satisfaction_answers, &k->satisfaction_sum, &k->satisfied};
    return one_row(db,
                   "SELECT COUNT(nps),"
                   " CAST(COALESCE(SUM(CASE WHEN nps >= 9 THEN 1 ELSE 0 END), 0) AS BIGINT),"
                   " CAST(COALESCE(SUM(CASE WHEN nps IN (7, 8) THEN 1 ELSE 0 END), 0) AS BIGINT),"
                   " CAST(COALESCE(SUM(CASE WHEN nps <= 6 THEN 1 ELSE 0 END), 0) AS BIGINT),"
                   " COUNT(satisfaction), CAST(COALESCE(SUM(satisfaction), 0) AS BIGINT),"
                   " CAST(COALESCE(SUM(CASE WHEN satisfaction >= 4 THEN 1 ELSE 0 END), 0) AS"
                   " BIGINT) FROM survey_answers WHERE program_id = $1 AND occurred_at >= $2 AND"
                   " occurred_at < $3" IN_FILTER("member_id", "$4"),
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to), FD_I(f)), cols, 7);
}

int fd_kpis_load(fd_db *db, int64_t program_id, int64_t from, int64_t to, bool filtered,
                 fd_kpis *out)
{
    memset(out, 0, sizeof *out);
    int64_t f = filtered;
    int rc = filter_table(db); /* the queries name it, filtered or not */
    if (!rc) rc = load_members(db, program_id, from, to, f, out);
    if (!rc) rc = load_orders(db, program_id, from, to, f, out);
    if (!rc) rc = load_points(db, program_id, from, to, f, out);
    if (!rc) rc = load_redemptions(db, program_id, from, to, f, out);
    if (!rc) rc = load_surveys(db, program_id, from, to, f, out);
    return rc;
}
