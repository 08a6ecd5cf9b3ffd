/*
 * accounts.c - /v1/accounts: company (B2B) accounts, their users and roles,
 * and the account's wallet (balance, tier; its ledger is the wallet
 * member's). Redeeming for an account: rewards.c.
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "store/accounts.h"
#include "store/audit.h"
#include "store/members.h"

static int account_or_reply(fd_req *r, fd_account *a)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return FD_EINVAL;
    int rc = fd_account_get(r->db, r->program.id, id, a);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "account_not_found", "no such account", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    return rc;
}

static json_t *account_json(fd_db *db, const fd_account *a)
{
    fd_member w = {0};
    json_t *users = json_array();
    fd_stmt *st;
    if (fd_db_query(db,
                    "SELECT am.member_id, m.external_id, am.role FROM account_members am"
                    " JOIN members m ON m.id = am.member_id WHERE am.account_id = $1"
                    " ORDER BY am.member_id",
                    FD_PARAMS(FD_I(a->id)), &st) == FD_OK) {
        while (fd_stmt_next(st) == 1)
            json_array_append_new(
                users, json_pack("{s:I, s:s?, s:s}", "member_id", (json_int_t)fd_stmt_i64(st, 0),
                                 "external_id", fd_stmt_text(st, 1), "role", fd_stmt_text(st, 2)));
        fd_stmt_done(st);
    }
    json_t *wallet = json_pack("{s:I}", "member_id", (json_int_t)a->wallet_id);
    if (fd_member_get(db, a->program_id, a->wallet_id, &w) == FD_OK) {
        json_object_set_new(wallet, "balance", json_integer(w.balance));
        json_object_set_new(wallet, "pending", json_integer(w.pending));
        json_object_set_new(wallet, "tier", w.tier[0] ? json_string(w.tier) : json_null());
    }
    fd_member_clear(&w);
    return json_pack("{s:I, s:s, s:s, s:b, s:o, s:o, s:o}", "id", (json_int_t)a->id, "external_id",
                     a->external_id, "name", a->name, "pooling", a->pooling, "wallet", wallet,
                     "users", users, "created_at", fd_json_time(a->created_at));
}

typedef struct account_job {
    fd_account a;
    char op; /* 'c' create, 'a' add a user, 'r' remove a user */
    int64_t member_id;
    const char *role, *actor;
    fd_job_error err;
} account_job;

static int account_run(fd_db *db, void *arg)
{
    account_job *j = arg;
    int64_t now = fd_now(), exists;
    int rc;
    if (j->op == 'c') {
        rc = fd_account_create(db, &j->a, now);
        if (rc == FD_ECONFLICT)
            return job_fail(&j->err, rc, "external_id_taken", "external_id",
                            "another account has this external_id");
    } else {
        /* a member of the program, and not an account's wallet */
        rc = fd_db_one_i64(db,
                           "SELECT id FROM members WHERE program_id = $1 AND id = $2 AND id NOT IN"
                           " (SELECT wallet_id FROM accounts WHERE program_id = $1)",
                           FD_PARAMS(FD_I(j->a.program_id), FD_I(j->member_id)), &exists);
        if (rc == FD_ENOTFOUND)
            return job_fail(&j->err, FD_ENOTFOUND, "member_not_found", "member_id",
                            "no such member");
        if (!rc)
            rc = j->op == 'a' ? fd_account_add_user(db, &j->a, j->member_id, j->role, now)
                              : fd_account_remove_user(db, &j->a, j->member_id);
        if (rc == FD_ECONFLICT)
            return job_fail(&j->err, rc, "member_in_another_account", "member_id",
                            "the member is a user of another account");
        if (rc == FD_ENOTFOUND)
            return job_fail(&j->err, rc, "user_not_found", "member_id",
                            "the member is not a user of this account");
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->a.id);
    return rc ? rc
              : fd_audit_add(db, j->a.program_id, j->actor,
                             j->op == 'c'   ? "account.create"
                             : j->op == 'a' ? "account.user_add"
                                            : "account.user_remove",
                             "account", id, NULL, NULL, now);
}

/* POST /v1/accounts {"external_id", "name", "pooling"} */
void h_accounts_create(fd_req *r)
{
    account_job j = {.op = 'c', .actor = r->who.actor};
    const char *ext, *name;
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the account as a JSON object", NULL);
        return;
    }
    if (body_ident_or_reply(r, "external_id", true, &ext) ||
        body_str_or_reply(r, "name", true, &name))
        return;
    json_t *pool = json_object_get(r->body, "pooling");
    if (pool && !json_is_boolean(pool)) {
        fd_reply_error(r, 422, "invalid_field", "pooling is true or false", "pooling");
        return;
    }
    j.a.program_id = r->program.id;
    j.a.pooling = !pool || json_is_true(pool);
    snprintf(j.a.external_id, sizeof j.a.external_id, "%s", ext);
    snprintf(j.a.name, sizeof j.a.name, "%s", name);
    if (!write_or_reply(r, account_run, &j, &j.err)) fd_reply(r, 201, account_json(r->db, &j.a));
}

void h_account_get(fd_req *r)
{
    fd_account a;
    if (!account_or_reply(r, &a)) fd_reply(r, 200, account_json(r->db, &a));
}

/* POST /v1/accounts/{id}/users {"member_id", "role": buyer | approver | admin} */
void h_account_user_add(fd_req *r)
{
    account_job j = {.op = 'a', .actor = r->who.actor};
    if (account_or_reply(r, &j.a) ||
        body_int_or_reply(r, "member_id", true, 1, INT64_MAX, &j.member_id, NULL) ||
        body_str_or_reply(r, "role", true, &j.role))
        return;
    if (strcmp(j.role, "buyer") && strcmp(j.role, "approver") && strcmp(j.role, "admin")) {
        fd_reply_error(r, 422, "invalid_field", "role is buyer, approver or admin", "role");
        return;
    }
    if (!write_or_reply(r, account_run, &j, &j.err)) fd_reply(r, 200, account_json(r->db, &j.a));
}

void h_account_user_remove(fd_req *r)
{
    account_job j = {.op = 'r', .actor = r->who.actor};
    if (account_or_reply(r, &j.a) || param_id_or_reply(r, 1, &j.member_id)) return;
    if (!write_or_reply(r, account_run, &j, &j.err)) fd_reply(r, 200, account_json(r->db, &j.a));
}
