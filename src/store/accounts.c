/*
 * accounts.c - company accounts (accounts.h).
 */
#include "store/accounts.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/jsonx.h"
#include "core/member.h"
#include "store/members.h"

int fd_account_create(fd_db *db, fd_account *a, int64_t now)
{
    int64_t taken;
    int rc = fd_db_one_i64(db, "SELECT id FROM accounts WHERE program_id = $1 AND external_id = $2",
                           FD_PARAMS(FD_I(a->program_id), FD_S(a->external_id)), &taken);
    if (rc == FD_OK) return FD_ECONFLICT;
    if (rc != FD_ENOTFOUND) return rc;
    fd_member w = {.program_id = a->program_id, .state = FD_STATE_ACTIVE};
    snprintf(w.external_id, sizeof w.external_id, "account:%.240s", a->external_id);
    json_t *attrs = json_pack("{s:b, s:s}", "company_account", 1, "name", a->name);
    w.attributes = fd_json_text(attrs, false);
    json_decref(attrs);
    rc = fd_member_insert(db, &w, now);
    fd_member_clear(&w);
    if (rc == FD_ECONFLICT) return FD_ECONFLICT;
    if (rc) return rc;
    a->wallet_id = w.id;
    a->created_at = now;
    return fd_db_one_i64(db,
                         "INSERT INTO accounts(program_id, external_id, name, wallet_id, pooling,"
                         " created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                         FD_PARAMS(FD_I(a->program_id), FD_S(a->external_id), FD_S(a->name),
                                   FD_I(a->wallet_id), FD_I(a->pooling), FD_I(now)),
                         &a->id);
}

int fd_account_get(fd_db *db, int64_t program_id, int64_t id, fd_account *a)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, program_id, wallet_id, external_id, name, pooling, created_at"
                         " FROM accounts WHERE program_id = $1 AND id = $2",
                         FD_PARAMS(FD_I(program_id), FD_I(id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        memset(a, 0, sizeof *a);
        a->id = fd_stmt_i64(st, 0);
        a->program_id = fd_stmt_i64(st, 1);
        a->wallet_id = fd_stmt_i64(st, 2);
        snprintf(a->external_id, sizeof a->external_id, "%s", fd_stmt_text(st, 3));
        snprintf(a->name, sizeof a->name, "%s", fd_stmt_text(st, 4));
        a->pooling = fd_stmt_i64(st, 5) != 0;
        a->created_at = fd_stmt_i64(st, 6);
    }
    fd_stmt_done(st);
    return rc == 1 ? FD_OK : rc == 0 ? FD_ENOTFOUND : rc;
}

static int set_wallet(fd_db *db, int64_t member_id, int64_t wallet_id)
{
    return fd_db_run(db, "UPDATE members SET wallet_id = $2 WHERE id = $1",
                     FD_PARAMS(FD_I(member_id), wallet_id ? FD_I(wallet_id) : FD_NULL), NULL);
}

int fd_account_add_user(fd_db *db, const fd_account *a, int64_t member_id, const char *role,
                        int64_t now)
{
    int64_t other;
    int rc = fd_db_one_i64(db, "SELECT account_id FROM account_members WHERE member_id = $1",
                           FD_PARAMS(FD_I(member_id)), &other);
    if (rc == FD_OK && other != a->id) return FD_ECONFLICT;
    if (rc == FD_OK)
        rc = fd_db_run(db,
                       "UPDATE account_members SET role = $3 WHERE account_id = $1"
                       " AND member_id = $2",
                       FD_PARAMS(FD_I(a->id), FD_I(member_id), FD_S(role)), NULL);
    else if (rc == FD_ENOTFOUND)
        rc = fd_db_run(
            db,
            "INSERT INTO account_members(account_id, member_id, program_id, role,"
            " created_at) VALUES ($1, $2, $3, $4, $5)",
            FD_PARAMS(FD_I(a->id), FD_I(member_id), FD_I(a->program_id), FD_S(role), FD_I(now)),
            NULL);
    return rc ? rc : set_wallet(db, member_id, a->pooling ? a->wallet_id : 0);
}

int fd_account_remove_user(fd_db *db, const fd_account *a, int64_t member_id)
{
    int64_t n = 0;
    int rc = fd_db_run(db, "DELETE FROM account_members WHERE account_id = $1 AND member_id = $2",
                       FD_PARAMS(FD_I(a->id), FD_I(member_id)), &n);
    if (!rc && !n) return FD_ENOTFOUND;
    return rc ? rc : set_wallet(db, member_id, 0);
}

int fd_account_role(fd_db *db, const fd_account *a, int64_t member_id, char role[16])
{
    fd_stmt *st;
    int rc =
        fd_db_query(db, "SELECT role FROM account_members WHERE account_id = $1 AND member_id = $2",
                    FD_PARAMS(FD_I(a->id), FD_I(member_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) snprintf(role, 16, "%s", fd_stmt_text(st, 0));
    fd_stmt_done(st);
    return rc == 1 ? FD_OK : rc == 0 ? FD_ENOTFOUND : rc;
}
