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

static int load_members(fd_db *db, int64_t pid, int64_t from, int64_t to, fd_kpis *k)
{
    int64_t *cols[] = {&k->members, &k->new_members};
    return one_row(db,
                   "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN created_at >= $2 THEN 1 ELSE 0"
                   " END), 0) AS BIGINT) FROM members WHERE program_id = $1 AND created_at < $3"
                   " AND merged_into IS NULL",
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to)), cols, 2);
}

static int load_orders(fd_db *db, int64_t pid, int64_t from, int64_t to, fd_kpis *k)
{
    int64_t *cols[] = {&k->buyers, &k->repeat_buyers, &k->member_orders, &k->member_revenue};
    int rc = one_row(db,
                     "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0)"
                     " AS BIGINT), CAST(COALESCE(SUM(n), 0) AS BIGINT), CAST(COALESCE(SUM(rev), 0)"
                     " AS BIGINT) FROM (SELECT member_id, COUNT(*) AS n, SUM(total - refunded) AS"
                     " rev FROM orders WHERE program_id = $1 AND occurred_at >= $2 AND"
                     " occurred_at < $3 GROUP BY member_id) AS per_member",
                     FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to)), cols, 4);
    if (rc) return rc;
    int64_t *guest[] = {&k->guest_orders, &k->guest_revenue};
    return one_row(db,
                   "SELECT COUNT(*), CAST(COALESCE(SUM(total - refunded), 0) AS BIGINT) FROM"
                   " guest_orders WHERE program_id = $1 AND occurred_at >= $2 AND occurred_at < $3",
                   FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to)), guest, 2);
}

static int load_points(fd_db *db, int64_t pid, int64_t from, int64_t to, fd_kpis *k)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT kind, CAST(COALESCE(SUM(points + pending), 0) AS BIGINT),"
                         " CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM journal WHERE"
                         " program_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY kind",
                         FD_PARAMS(FD_I(pid), FD_I(from), FD_I(to)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        const char *kind = fd_stmt_text(st, 0);
        int64_t both = fd_stmt_i64(st, 1), spendable = fd_stmt_i64(st, 2);
        if (!strcmp(kind, "earn")) k->points_issued = both;
        if (!strcmp(kind, "reverse")) k->points_reversed = -both;
        if (!strcmp(kind, "expire")) k->points_expired = -spendable;
        if (!strcmp(kind, "adjust")) k->points_adjusted = spendable;
    }
    fd_stmt_done(st);
    if (rc < 0) return rc;
    int64_t *end[] = {&k->balance_at_end, &k->pending_at_end};
    return one_row(db,
                   "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT), CAST(COALESCE(SUM(pending),"
                   " 0) AS BIGINT) FROM journal WHERE program_id = $1 AND created_at < $2",
                   FD_PARAMS(FD_I(pid), FD_I(to)), end, 2);
}

int fd_kpis_load(fd_db *db, int64_t program_id, int64_t from, int64_t to, fd_kpis *out)
{
    memset(out, 0, sizeof *out);
    int rc = load_members(db, program_id, from, to, out);
    if (!rc) rc = load_orders(db, program_id, from, to, out);
    if (!rc) rc = load_points(db, program_id, from, to, out);
    return rc;
}
