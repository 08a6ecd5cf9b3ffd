/*
 * promos.c - campaigns, rewards, codes and redemptions in storage (promos.h).
 */
#include "store/promos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/ledger.h"
#include "store/config.h"

/* ---------- definitions ---------- */

typedef struct catalog_sql {
    const char *name_taken, *insert, *update, *set_active, *delete, *count;
} catalog_sql;

/* The statements of one catalog table (every table has the same columns). */
#define CATALOG_SQL(table)                                                                         \
    {                                                                                              \
        "SELECT id FROM " table " WHERE program_id = $1 AND name = $2 AND deleted_at IS NULL",     \
            "INSERT INTO " table "(program_id, name, definition, active, created_at, updated_at,"  \
            " updated_by) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",                       \
            "UPDATE " table " SET name = $3, definition = $4, active = $5, updated_at = $6,"       \
            " updated_by = $7 WHERE program_id = $1 AND id = $2"                                   \
            " AND deleted_at IS NULL",                                                             \
            "UPDATE " table " SET active = $3, updated_at = $4, updated_by = $5"                   \
            " WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",                           \
            "UPDATE " table " SET deleted_at = $3, active = 0 WHERE program_id = $1 AND id = $2"   \
            " AND deleted_at IS NULL",                                                             \
            "SELECT COUNT(*) FROM " table " WHERE program_id = $1 AND deleted_at IS NULL"          \
    }

static const catalog_sql SQL[] = {
    [FD_CATALOG_CAMPAIGN] = CATALOG_SQL("campaigns"),
    [FD_CATALOG_REWARD] = CATALOG_SQL("rewards"),
    [FD_CATALOG_BADGE] = CATALOG_SQL("badges"),
    [FD_CATALOG_CHALLENGE] = CATALOG_SQL("challenges"),
};

static int name_free(fd_db *db, fd_catalog t, int64_t program_id, const char *name, int64_t id)
{
    int64_t other;
    int rc = fd_db_one_i64(db, SQL[t].name_taken, FD_PARAMS(FD_I(program_id), FD_S(name)), &other);
    if (rc == FD_ENOTFOUND) return FD_OK;
    if (rc) return rc;
    return other == id ? FD_OK : FD_ECONFLICT;
}

int fd_catalog_insert(fd_db *db, fd_catalog t, int64_t program_id, const char *name,
                      const char *definition, bool active, const char *actor, int64_t now,
                      int64_t *id)
{
    int rc = name_free(db, t, program_id, name, 0);
    if (!rc)
        rc = fd_db_one_i64(db, SQL[t].insert,
                           FD_PARAMS(FD_I(program_id), FD_S(name), FD_S(definition), FD_I(active),
                                     FD_I(now), FD_S(actor)),
                           id);
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_catalog_update(fd_db *db, fd_catalog t, int64_t program_id, int64_t id, const char *name,
                      const char *definition, bool active, const char *actor, int64_t now)
{
    int64_t n = 0;
    int rc = definition ? name_free(db, t, program_id, name, id) : FD_OK;
    if (!rc && definition)
        rc = fd_db_run(db, SQL[t].update,
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_S(name), FD_S(definition),
                                 FD_I(active), FD_I(now), FD_S(actor)),
                       &n);
    else if (!rc)
        rc = fd_db_run(db, SQL[t].set_active,
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(active), FD_I(now), FD_S(actor)),
                       &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_catalog_count(fd_db *db, fd_catalog t, int64_t program_id, int64_t *n)
{
    return fd_db_one_i64(db, SQL[t].count, FD_PARAMS(FD_I(program_id)), n);
}

int fd_catalog_delete(fd_db *db, fd_catalog t, int64_t program_id, int64_t id, int64_t now)
{
    int64_t n = 0;
    int rc = fd_db_run(db, SQL[t].delete, FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(now)), &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

/* ---------- counters ---------- */

static int read_usage(fd_db *db, int64_t campaign_id, fd_campaign_usage *out)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db, "SELECT uses, discount_total, order_total FROM campaigns WHERE id = $1",
                    FD_PARAMS(FD_I(campaign_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        *out = (fd_campaign_usage){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1), fd_stmt_i64(st, 2)};
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_campaign_usage_lock(fd_db *db, int64_t campaign_id, fd_campaign_usage *out)
{
    int rc = fd_db_shared(db) ? fd_db_run(db, "UPDATE campaigns SET uses = uses WHERE id = $1",
                                          FD_PARAMS(FD_I(campaign_id)), NULL)
                              : FD_OK;
    return rc ? rc : read_usage(db, campaign_id, out);
}

int fd_campaign_usage_get(fd_db *db, int64_t campaign_id, fd_campaign_usage *out)
{
    return read_usage(db, campaign_id, out);
}

int fd_campaign_usage_add(fd_db *db, int64_t campaign_id, int64_t uses, int64_t discount,
                          int64_t amount)
{
    return fd_db_run(db,
                     "UPDATE campaigns SET uses = uses + $2, discount_total = discount_total + $3,"
                     " order_total = order_total + $4 WHERE id = $1",
                     FD_PARAMS(FD_I(campaign_id), FD_I(uses), FD_I(discount), FD_I(amount)), NULL);
}

int fd_campaign_member_uses(fd_db *db, int64_t campaign_id, int64_t member_id, int64_t *out)
{
    return fd_db_one_i64(
        db,
        "SELECT COUNT(*) FROM redemptions WHERE campaign_id = $1 AND member_id = $2"
        " AND status = 'redeemed'",
        FD_PARAMS(FD_I(campaign_id), FD_I(member_id)), out);
}

int fd_reward_issued_lock(fd_db *db, int64_t reward_id, int64_t *issued)
{
    int rc = fd_db_shared(db) ? fd_db_run(db, "UPDATE rewards SET issued = issued WHERE id = $1",
                                          FD_PARAMS(FD_I(reward_id)), NULL)
                              : FD_OK;
    return rc ? rc
              : fd_db_one_i64(db, "SELECT issued FROM rewards WHERE id = $1",
                              FD_PARAMS(FD_I(reward_id)), issued);
}

int fd_reward_issued_add(fd_db *db, int64_t reward_id, int64_t delta)
{
    return fd_db_run(db, "UPDATE rewards SET issued = issued + $2 WHERE id = $1",
                     FD_PARAMS(FD_I(reward_id), FD_I(delta)), NULL);
}

int fd_reward_member_count(fd_db *db, int64_t reward_id, int64_t member_id, int64_t *out)
{
    return fd_db_one_i64(db,
                         "SELECT COUNT(*) FROM codes WHERE reward_id = $1 AND member_id = $2"
                         " AND status <> 'cancelled'",
                         FD_PARAMS(FD_I(reward_id), FD_I(member_id)), out);
}

/* ---------- codes ---------- */

#define CODE_COLS                                                                                  \
    "id, program_id, COALESCE(campaign_id, 0), COALESCE(reward_id, 0), COALESCE(member_id, 0),"    \
    " code, active, status, max_uses, uses, balance, points, COALESCE(journal_id, 0),"             \
    " expires_at, created_at"

static int read_code(fd_stmt *st, fd_code *c)
{
    int rc = fd_stmt_next(st);
    if (rc == 0) rc = FD_ENOTFOUND;
    if (rc != 1) return rc;
    memset(c, 0, sizeof *c);
    c->id = fd_stmt_i64(st, 0);
    c->program_id = fd_stmt_i64(st, 1);
    c->campaign_id = fd_stmt_i64(st, 2);
    c->reward_id = fd_stmt_i64(st, 3);
    c->member_id = fd_stmt_i64(st, 4);
    snprintf(c->code, sizeof c->code, "%s", fd_stmt_text(st, 5));
    c->active = fd_stmt_i64(st, 6) != 0;
    snprintf(c->status, sizeof c->status, "%s", fd_stmt_text(st, 7));
    c->max_uses = fd_stmt_i64(st, 8);
    c->uses = fd_stmt_i64(st, 9);
    c->balance = fd_stmt_i64(st, 10);
    c->points = fd_stmt_i64(st, 11);
    c->journal_id = fd_stmt_i64(st, 12);
    c->expires_at = fd_stmt_i64(st, 13);
    c->created_at = fd_stmt_i64(st, 14);
    return FD_OK;
}

int fd_code_find(fd_db *db, int64_t program_id, const char *code, bool lock, fd_code *out)
{
    int rc = lock && fd_db_shared(db)
                 ? fd_db_run(db, "UPDATE codes SET uses = uses WHERE program_id = $1 AND code = $2",
                             FD_PARAMS(FD_I(program_id), FD_S(code)), NULL)
                 : FD_OK;
    fd_stmt *st;
    if (!rc)
        rc = fd_db_query(db, "SELECT " CODE_COLS " FROM codes WHERE program_id = $1 AND code = $2",
                         FD_PARAMS(FD_I(program_id), FD_S(code)), &st);
    if (rc) return rc;
    rc = read_code(st, out);
    fd_stmt_done(st);
    return rc;
}

int fd_code_find_request(fd_db *db, int64_t program_id, int64_t member_id, const char *request_id,
                         fd_code *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT " CODE_COLS " FROM codes WHERE program_id = $1 AND member_id = $2"
                         " AND request_id = $3",
                         FD_PARAMS(FD_I(program_id), FD_I(member_id), FD_S(request_id)), &st);
    if (rc) return rc;
    rc = read_code(st, out);
    fd_stmt_done(st);
    return rc;
}

static fd_param id_or_null(int64_t id)
{
    return id ? FD_I(id) : FD_NULL;
}

/* A taken text is no failed statement (ON CONFLICT DO NOTHING returns no row):
 * on PostgreSQL a failed statement would abort the caller's transaction, and
 * a caller drawing codes tries the next one in the same transaction. */
int fd_code_insert(fd_db *db, fd_code *c, const char *request_id)
{
    int rc = fd_db_one_i64(
        db,
        "INSERT INTO codes(program_id, code, campaign_id, reward_id, member_id, active, status,"
        " max_uses, uses, balance, points, journal_id, request_id, expires_at, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        " ON CONFLICT (program_id, code) DO NOTHING RETURNING id",
        FD_PARAMS(FD_I(c->program_id), FD_S(c->code), id_or_null(c->campaign_id),
                  id_or_null(c->reward_id), id_or_null(c->member_id), FD_I(c->active),
                  FD_S(c->status), FD_I(c->max_uses), FD_I(c->uses), FD_I(c->balance),
                  FD_I(c->points), id_or_null(c->journal_id), FD_S(request_id), FD_I(c->expires_at),
                  FD_I(c->created_at)),
        &c->id);
    return rc == FD_ENOTFOUND ? FD_ECONFLICT : rc;
}

int fd_code_save(fd_db *db, const fd_code *c)
{
    return fd_db_run(
        db,
        "UPDATE codes SET uses = $2, balance = $3, status = $4, active = $5"
        " WHERE id = $1",
        FD_PARAMS(FD_I(c->id), FD_I(c->uses), FD_I(c->balance), FD_S(c->status), FD_I(c->active)),
        NULL);
}

int fd_codes_generate(fd_db *db, int64_t program_id, int64_t campaign_id, const char *pattern,
                      int64_t count, int64_t max_uses, int64_t balance, int64_t expires_at,
                      int64_t now, int64_t *made)
{
    int64_t done = 0;
    int rc = FD_OK;
    char code[FD_CODE_PATTERN_MAX + 1];
    /* A drawn code that exists already is skipped (the unique index says
     * so) and drawn again in the next round. */
    for (int round = 0; round < 20 && done < count && !rc; round++) {
        for (int64_t want = count - done; want > 0 && !rc; want--) {
            fd_code_generate(pattern, code);
            int64_t n = 0;
            rc = fd_db_run(db,
                           "INSERT INTO codes(program_id, code, campaign_id, active, status,"
                           " max_uses, balance, expires_at, created_at)"
                           " VALUES ($1, $2, $3, 1, 'active', $4, $5, $6, $7)"
                           " ON CONFLICT DO NOTHING",
                           FD_PARAMS(FD_I(program_id), FD_S(code), FD_I(campaign_id),
                                     FD_I(max_uses), FD_I(balance), FD_I(expires_at), FD_I(now)),
                           &n);
            done += n;
        }
    }
    *made = done;
    return rc;
}

/* ---------- redemptions ---------- */

int fd_redemption_find(fd_db *db, int64_t code_id, const char *order_id, fd_redemption *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, program_id, code_id, COALESCE(campaign_id, 0),"
                         " COALESCE(reward_id, 0), COALESCE(member_id, 0), order_id, order_amount,"
                         " discount, shipping_discount, gift_card, cashback, status, created_at,"
                         " COALESCE(rolled_back_at, 0) FROM redemptions"
                         " WHERE code_id = $1 AND order_id = $2",
                         FD_PARAMS(FD_I(code_id), FD_S(order_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        fd_redemption *r = out;
        memset(r, 0, sizeof *r);
        r->id = fd_stmt_i64(st, 0);
        r->program_id = fd_stmt_i64(st, 1);
        r->code_id = fd_stmt_i64(st, 2);
        r->campaign_id = fd_stmt_i64(st, 3);
        r->reward_id = fd_stmt_i64(st, 4);
        r->member_id = fd_stmt_i64(st, 5);
        snprintf(r->order_id, sizeof r->order_id, "%s", fd_stmt_text(st, 6));
        r->order_amount = fd_stmt_i64(st, 7);
        r->discount = fd_stmt_i64(st, 8);
        r->shipping_discount = fd_stmt_i64(st, 9);
        r->gift_card = fd_stmt_i64(st, 10);
        r->cashback = fd_stmt_i64(st, 11);
        snprintf(r->status, sizeof r->status, "%s", fd_stmt_text(st, 12));
        r->created_at = fd_stmt_i64(st, 13);
        r->rolled_back_at = fd_stmt_i64(st, 14);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_redemption_save(fd_db *db, fd_redemption *r)
{
    if (r->id)
        return fd_db_run(db,
                         "UPDATE redemptions SET member_id = $2, order_amount = $3, discount = $4,"
                         " shipping_discount = $5, gift_card = $6, cashback = $7, status = $8,"
                         " created_at = $9, rolled_back_at = $10 WHERE id = $1",
                         FD_PARAMS(FD_I(r->id), id_or_null(r->member_id), FD_I(r->order_amount),
                                   FD_I(r->discount), FD_I(r->shipping_discount),
                                   FD_I(r->gift_card), FD_I(r->cashback), FD_S(r->status),
                                   FD_I(r->created_at), id_or_null(r->rolled_back_at)),
                         NULL);
    return fd_db_one_i64(
        db,
        "INSERT INTO redemptions(program_id, code_id, campaign_id, reward_id, member_id, order_id,"
        " order_amount, discount, shipping_discount, gift_card, cashback, status, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        FD_PARAMS(FD_I(r->program_id), FD_I(r->code_id), id_or_null(r->campaign_id),
                  id_or_null(r->reward_id), id_or_null(r->member_id), FD_S(r->order_id),
                  FD_I(r->order_amount), FD_I(r->discount), FD_I(r->shipping_discount),
                  FD_I(r->gift_card), FD_I(r->cashback), FD_S(r->status), FD_I(r->created_at)),
        &r->id);
}
