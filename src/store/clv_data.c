/*
 * clv_data.c - customer summaries for the CLV models (clv_data.h).
 */
#include "store/clv_data.h"

#include <stdlib.h>

#include "base/fd.h"

int fd_clv_load(fd_db *db, int64_t program_id, int64_t member_id, int64_t today, int exponent,
                size_t max, fd_clv_customer **c, int64_t **ids, size_t *n)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db,
                    "SELECT s.member_id, s.first_order_day, s.last_order_day, s.orders_total,"
                    " s.spend_total, (SELECT COUNT(*) FROM member_days d WHERE d.member_id ="
                    " s.member_id AND d.orders > 0) FROM member_stats s WHERE s.program_id = $1"
                    " AND s.orders_total > 0 AND ($2 = 0 OR s.member_id = $2)"
                    " AND s.first_order_day <= $4 ORDER BY s.member_id LIMIT $3",
                    FD_PARAMS(FD_I(program_id), FD_I(member_id), FD_I(max), FD_I(today)), &st);
    if (rc) return rc;
    size_t cap = 1024, k = 0;
    fd_clv_customer *v = fd_malloc(cap * sizeof *v);
    int64_t *id = fd_malloc(cap * sizeof *id);
    double scale = 1;
    for (int i = 0; i < exponent; i++)
        scale *= 10;
    while ((rc = fd_stmt_next(st)) == 1) {
        if (k == cap) {
            cap *= 2;
            v = fd_realloc(v, cap * sizeof *v);
            id = fd_realloc(id, cap * sizeof *id);
        }
        int64_t first = fd_stmt_i64(st, 1), last = fd_stmt_i64(st, 2), days = fd_stmt_i64(st, 5);
        id[k] = fd_stmt_i64(st, 0);
        v[k] = (fd_clv_customer){
            .x = days > 1 ? (double)(days - 1) : 0,
            .t_x = (double)(last - first) / 7.0,
            .T = (double)(today - first + 1) / 7.0,
            .m = (double)fd_stmt_i64(st, 4) / scale / (double)fd_stmt_i64(st, 3),
        };
        k++;
    }
    fd_stmt_done(st);
    if (rc < 0) {
        free(v);
        free(id);
        return rc;
    }
    *c = v;
    *ids = id;
    *n = k;
    return FD_OK;
}
