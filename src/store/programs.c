/*
 * programs.c - program rows (programs.h).
 */
#include "store/programs.h"

#include <string.h>

#include "base/fd.h"

void fd_program_from_row(fd_stmt *st, int col, fd_program *p)
{
    memset(p, 0, sizeof *p);
    p->id = fd_stmt_i64(st, col);
    fd_copy_text(p->name, sizeof p->name, fd_stmt_text(st, col + 1));
    fd_copy_text(p->currency, sizeof p->currency, fd_stmt_text(st, col + 2));
    p->exponent = (int)fd_stmt_i64(st, col + 3);
    fd_copy_text(p->timezone, sizeof p->timezone, fd_stmt_text(st, col + 4));
    p->point_value_micros = fd_stmt_i64(st, col + 5);
    p->earn_rate_milli = fd_stmt_i64(st, col + 6);
    fd_rounding_parse(fd_stmt_text(st, col + 7), &p->earn_rounding);
    p->pending_days = fd_stmt_i64(st, col + 8);
    fd_expiry_mode_parse(fd_stmt_text(st, col + 9), &p->expiry_mode);
    p->expiry_days = fd_stmt_i64(st, col + 10);
    fd_expiry_from_parse(fd_stmt_text(st, col + 11), &p->expiry_from);
    fd_refund_policy_parse(fd_stmt_text(st, col + 12), &p->refund_policy);
    p->created_at = fd_stmt_i64(st, col + 13);
    p->rules_version = fd_stmt_i64(st, col + 14);
    p->config_version = fd_stmt_i64(st, col + 15);
}

int fd_program_load(fd_db *db, int64_t id, fd_program *p)
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT " FD_PROGRAM_COLUMNS " FROM programs p WHERE p.id = $1",
                         FD_PARAMS(FD_I(id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        fd_program_from_row(st, 0, p);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_program_insert(fd_db *db, fd_program *p, int64_t now)
{
    int rc = fd_db_one_i64(
        db,
        "INSERT INTO programs(name, currency, exponent, timezone, point_value_micros,"
        " earn_rate_milli, earn_rounding, pending_days, expiry_mode, expiry_days, expiry_from,"
        " refund_policy, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
        FD_PARAMS(FD_S(p->name), FD_S(p->currency), FD_I(p->exponent), FD_S(p->timezone),
                  FD_I(p->point_value_micros), FD_I(p->earn_rate_milli),
                  FD_S(fd_rounding_name(p->earn_rounding)), FD_I(p->pending_days),
                  FD_S(fd_expiry_mode_name(p->expiry_mode)), FD_I(p->expiry_days),
                  FD_S(fd_expiry_from_name(p->expiry_from)),
                  FD_S(fd_refund_policy_name(p->refund_policy)), FD_I(now)),
        &p->id);
    if (!rc) p->created_at = now;
    return rc;
}

int fd_program_save(fd_db *db, const fd_program *p, int64_t now)
{
    return fd_db_run(
        db,
        "UPDATE programs SET name = $2, currency = $3, exponent = $4, timezone = $5,"
        " point_value_micros = $6, earn_rate_milli = $7, earn_rounding = $8, pending_days = $9,"
        " expiry_mode = $10, expiry_days = $11, expiry_from = $12, refund_policy = $13,"
        " updated_at = $14 WHERE id = $1",
        FD_PARAMS(FD_I(p->id), FD_S(p->name), FD_S(p->currency), FD_I(p->exponent),
                  FD_S(p->timezone), FD_I(p->point_value_micros), FD_I(p->earn_rate_milli),
                  FD_S(fd_rounding_name(p->earn_rounding)), FD_I(p->pending_days),
                  FD_S(fd_expiry_mode_name(p->expiry_mode)), FD_I(p->expiry_days),
                  FD_S(fd_expiry_from_name(p->expiry_from)),
                  FD_S(fd_refund_policy_name(p->refund_policy)), FD_I(now)),
        NULL);
}

int fd_program_count(fd_db *db, int64_t *count)
{
    return fd_db_one_i64(db, "SELECT COUNT(*) FROM programs", FD_NOPARAMS, count);
}
