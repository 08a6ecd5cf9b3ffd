/*
 * events.c - event and order rows (events.h).
 */
#include "store/events.h"

#include <stdio.h>

int fd_order_insert(fd_db *db, int64_t program_id, fd_order *o, const char *channel,
                    const char *brand, int64_t now)
{
    return fd_db_one_i64(db,
                         "INSERT INTO orders(program_id, member_id, order_id, total, refunded,"
                         " points, reversed, lot_id, channel, occurred_at, created_at, wallet_id,"
                         " brand) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
                         " RETURNING id",
                         FD_PARAMS(FD_I(program_id), FD_I(o->member_id), FD_S(o->order_id),
                                   FD_I(o->total), FD_I(o->refunded), FD_I(o->points),
                                   FD_I(o->reversed), o->lot_id ? FD_I(o->lot_id) : FD_NULL,
                                   FD_S(channel), FD_I(o->occurred_at), FD_I(now),
                                   o->wallet_id ? FD_I(o->wallet_id) : FD_NULL, FD_S(brand)),
                         &o->id);
}

int fd_order_get(fd_db *db, int64_t program_id, const char *order_id, fd_order *o)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, member_id, order_id, total, refunded, points, reversed,"
                         " lot_id, occurred_at, COALESCE(wallet_id, 0) FROM orders"
                         " WHERE program_id = $1 AND order_id = $2",
                         FD_PARAMS(FD_I(program_id), FD_S(order_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        o->id = fd_stmt_i64(st, 0);
        o->member_id = fd_stmt_i64(st, 1);
        snprintf(o->order_id, sizeof o->order_id, "%s", fd_stmt_text(st, 2));
        o->total = fd_stmt_i64(st, 3);
        o->refunded = fd_stmt_i64(st, 4);
        o->points = fd_stmt_i64(st, 5);
        o->reversed = fd_stmt_i64(st, 6);
        o->lot_id = fd_stmt_i64(st, 7);
        o->occurred_at = fd_stmt_i64(st, 8);
        o->wallet_id = fd_stmt_i64(st, 9);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_order_save_refund(fd_db *db, const fd_order *o)
{
    return fd_db_run(db, "UPDATE orders SET refunded = $2, reversed = $3 WHERE id = $1",
                     FD_PARAMS(FD_I(o->id), FD_I(o->refunded), FD_I(o->reversed)), NULL);
}

int fd_event_get(fd_db *db, int64_t program_id, const char *event_id, char body_hash[65],
                 char **result)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT body_hash, result FROM events WHERE program_id = $1"
                         " AND event_id = $2",
                         FD_PARAMS(FD_I(program_id), FD_S(event_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        snprintf(body_hash, 65, "%s", fd_stmt_text(st, 0));
        *result = fd_strdup(fd_stmt_text(st, 1));
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_event_insert(fd_db *db, int64_t program_id, const char *event_id, const char *type,
                    int64_t member_id, const char *body_hash, const char *result,
                    const char *channel, const char *brand, int64_t occurred_at, int64_t now)
{
    return fd_db_run(db,
                     "INSERT INTO events(program_id, event_id, type, member_id, body_hash, result,"
                     " channel, brand, occurred_at, created_at)"
                     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                     FD_PARAMS(FD_I(program_id), FD_S(event_id), FD_S(type),
                               member_id ? FD_I(member_id) : FD_NULL, FD_S(body_hash), FD_S(result),
                               FD_S(channel), FD_S(brand), FD_I(occurred_at), FD_I(now)),
                     NULL);
}
