/*
 * rewards.c - a member's side of the catalog: what they can redeem now and
 * why not the rest, redeeming a reward for points (a voucher with its own
 * code and expiry), their vouchers, cancelling an unused one (points back
 * to the lots they came from), and the voucher drawn as QR code or barcode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/catalog.h"
#include "api/handlers.h"
#include "base/fd.h"
#include "core/ledger.h"
#include "core/reward.h"
#include "core/symbol.h"
#include "store/accounts.h"
#include "store/config.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/promos.h"
#include "store/shopper.h"

#define VOUCHER_DRAWS 8 /* attempts at an unused voucher code (79 bits: one suffices) */

/* Why member s cannot redeem rw now, or FD_OK. Counters are read from db
 * (locked on the writer). */
static int refuse_reward(fd_db *db, const fd_config *cfg, const fd_reward *rw, const fd_shopper *s,
                         bool lock, fd_refusal *why)
{
    if (!rw->active) return fd_refuse(why, "reward_disabled", "the reward is switched off");
    const fd_campaign *camp = rw->campaign_id ? fd_config_campaign(cfg, rw->campaign_id) : NULL;
    if (rw->campaign_id && (!camp || !camp->active))
        return fd_refuse(why, "campaign_disabled", "the reward's campaign is switched off");
    fd_promo_facts f;
    fd_shopper_facts(s, NULL, &f);
    int rc = fd_promo_check(&rw->promo, &f, why);
    if (rc) return rc;
    int64_t issued = 0, held = 0;
    if (rw->stock) {
        rc = lock ? fd_reward_issued_lock(db, rw->id, &issued)
                  : fd_db_one_i64(db, "SELECT issued FROM rewards WHERE id = $1",
                                  FD_PARAMS(FD_I(rw->id)), &issued);
        if (rc) return rc;
        if (issued >= rw->stock) return fd_refuse(why, "out_of_stock", "the reward is sold out");
    }
    if (rw->limit_per_member) {
        if ((rc = fd_reward_member_count(db, rw->id, s->m.id, &held))) return rc;
        if (held >= rw->limit_per_member)
            return fd_refuse(why, "limit_reached", "at most %lld per member",
                             (long long)rw->limit_per_member);
    }
    int64_t cost = fd_reward_cost_for(rw, f.tier);
    if (s->m.balance < cost)
        return fd_refuse(why, "not_enough_points", "%lld more points needed",
                         (long long)(cost - s->m.balance));
    return FD_OK;
}

static json_t *reward_json(const fd_reward *rw, int64_t cost)
{
    json_t *o = json_deep_copy(rw->definition);
    json_object_set_new(o, "id", json_integer(rw->id));
    json_object_set_new(o, "cost", json_integer(cost));
    return o;
}

static int shopper_or_reply(fd_req *r, const fd_config *cfg, int64_t id, fd_shopper *s)
{
    int rc = fd_shopper_load(r->db, &r->program, cfg, id, false, fd_now(), NULL, s);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "member_not_found", "no such member", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    return rc;
}

/* GET /v1/members/{id}/rewards */
void h_member_rewards(fd_req *r)
{
    int64_t id;
    fd_config *cfg;
    fd_shopper s;
    if (param_id_or_reply(r, 0, &id)) return;
    int rc = fd_config_get(r->db, &r->program, &cfg);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (shopper_or_reply(r, cfg, id, &s)) {
        fd_config_release(cfg);
        return;
    }
    const char *tier =
        json_string_value(json_object_get(json_object_get(s.data, "member"), "tier"));
    json_t *available = json_array(), *unavailable = json_array();
    for (size_t i = 0; i < cfg->nrewards && !rc; i++) {
        const fd_reward *rw = &cfg->rewards[i];
        fd_refusal why;
        if (!rw->active) continue; /* switched off: not offered at all */
        rc = refuse_reward(r->db, cfg, rw, &s, false, &why);
        json_t *o = reward_json(rw, fd_reward_cost_for(rw, tier));
        if (rc == FD_EFORBIDDEN) {
            json_object_set_new(o, "reason",
                                json_pack("{s:s, s:s}", "code", why.code, "message", why.message));
            rc = FD_OK;
        }
        json_array_append_new(json_object_get(o, "reason") ? unavailable : available, o);
    }
    json_t *out =
        json_pack("{s:I, s:I, s:o, s:o}", "member_id", (json_int_t)id, "balance",
                  (json_int_t)s.m.balance, "available", available, "unavailable", unavailable);
    if (rc) {
        json_decref(out);
        fd_reply_status(r, rc, NULL);
    } else {
        fd_reply(r, 200, out);
    }
    fd_shopper_clear(&s);
    fd_config_release(cfg);
}

/* ---------- redeeming a reward ---------- */

typedef struct redeem_job {
    const fd_program *p;
    fd_config *cfg;
    int64_t member_id, reward_id; /* the payer: a member, or a company account's wallet */
    int64_t holder_id;            /* who gets the voucher: the member, or the account's user */
    const char *request_id, *actor;
    fd_code c;
    bool replayed;
    int64_t balance;
    fd_refusal why; /* outlives the job: err.code points into it */
    fd_job_error err;
} redeem_job;

static int issue_voucher(fd_db *db, redeem_job *j, const fd_reward *rw, int64_t cost, int64_t entry,
                         int64_t now)
{
    fd_code *c = &j->c;
    *c = (fd_code){
        .program_id = j->p->id,
        .reward_id = rw->id,
        .member_id = j->holder_id,
        .active = true,
        .max_uses = rw->promo.benefit.kind == FD_BENEFIT_GIFT_CARD ? 0 : 1,
        .balance = rw->promo.benefit.kind == FD_BENEFIT_GIFT_CARD ? rw->promo.benefit.amount : 0,
        .points = cost,
        .journal_id = entry,
        .expires_at = now + rw->voucher_days * 86400,
        .created_at = now};
    snprintf(c->status, sizeof c->status, "active");
    int rc = FD_ECONFLICT;
    for (int i = 0; i < VOUCHER_DRAWS && rc == FD_ECONFLICT; i++) {
        fd_code_generate(FD_VOUCHER_PATTERN, c->code);
        rc = fd_code_insert(db, c, j->request_id);
    }
    return rc;
}

static int redeem_run(fd_db *db, void *arg)
{
    redeem_job *j = arg;
    int64_t now = fd_now(), entry;
    fd_shopper s;
    j->replayed = false;
    int rc = fd_shopper_load(db, j->p, j->cfg, j->member_id, true, now, NULL, &s);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", NULL, "no such member");
    if (rc) return rc;
    const fd_reward *rw = fd_config_reward(j->cfg, j->reward_id);
    fd_refusal *why = &j->why;
    if (j->request_id &&
        (rc = fd_code_find_request(db, j->p->id, j->holder_id, j->request_id, &j->c)) == FD_OK) {
        j->replayed = true; /* the same request again: the voucher it got */
    } else if (rc && rc != FD_ENOTFOUND) {
        /* storage error: rc stands */
    } else if (!rw) {
        rc = job_fail(&j->err, FD_ENOTFOUND, "reward_not_found", NULL, "no such reward");
    } else if ((rc = refuse_reward(db, j->cfg, rw, &s, true, why)) == FD_EFORBIDDEN) {
        rc = job_fail(&j->err, FD_EINVAL, why->code, NULL, "%s", why->message);
    } else if (!rc) {
        const char *tier =
            json_string_value(json_object_get(json_object_get(s.data, "member"), "tier"));
        int64_t cost = fd_reward_cost_for(rw, tier);
        char reason[160];
        snprintf(reason, sizeof reason, "reward %lld: %s", (long long)rw->id, rw->name);
        fd_posting post = {"redeem", reason, NULL, NULL, j->actor, now};
        rc = fd_ledger_spend(db, &s.m, cost, &post, &entry);
        if (rc == FD_ENOFUNDS)
            rc = job_fail(&j->err, FD_EINVAL, "not_enough_points", NULL, "not enough points");
        if (!rc) rc = issue_voucher(db, j, rw, cost, entry, now);
        if (!rc) rc = fd_reward_issued_add(db, rw->id, 1);
        json_t *data = json_pack(
            "{s:I, s:s, s:s, s:s, s:I, s:o}", "reward_id", (json_int_t)rw->id, "name", rw->name,
            "benefit", fd_benefit_name(rw->promo.benefit.kind), "code", j->c.code, "points",
            (json_int_t)cost, "expires_at", fd_json_time(j->c.expires_at));
        if (rw->promo.benefit.sku[0])
            json_object_set_new(data, "sku", json_string(rw->promo.benefit.sku));
        if (!rc) rc = fd_outbox_emit(db, j->p->id, "reward.redeemed", j->member_id, data, now);
        if (!rc && rw->promo.benefit.kind == FD_BENEFIT_PHYSICAL)
            rc = fd_outbox_emit(db, j->p->id, "reward.fulfilment_requested", j->member_id, data,
                                now);
        json_decref(data);
    }
    j->balance = s.m.balance;
    fd_shopper_clear(&s);
    return rc;
}

static json_t *voucher_json(const fd_req *r, const fd_code *c, int64_t balance)
{
    json_t *o = code_json(c, &r->program);
    char url[160];
    snprintf(url, sizeof url, "/v1/members/%lld/vouchers/%s/qr", (long long)c->member_id, c->code);
    json_object_set_new(o, "qr_url", json_string(url));
    snprintf(url, sizeof url, "/v1/members/%lld/vouchers/%s/barcode", (long long)c->member_id,
             c->code);
    json_object_set_new(o, "barcode_url", json_string(url));
    json_object_set_new(o, "member_balance", json_integer(balance));
    return o;
}

/* POST /v1/members/{id}/rewards/{reward_id}/redeem {"request_id"?} */
/* Redeems j->reward_id for j->member_id (payer) and replies the voucher. */
static void run_redeem(fd_req *r, redeem_job *j)
{
    if (r->body && body_ident_or_reply(r, "request_id", false, &j->request_id)) return;
    int rc = fd_config_get(r->db, &r->program, &j->cfg);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (!write_or_reply(r, redeem_run, j, &j->err)) {
        json_t *o = voucher_json(r, &j->c, j->balance);
        if (j->replayed) json_object_set_new(o, "replayed", json_true());
        fd_reply(r, j->replayed ? 200 : 201, o);
    }
    fd_config_release(j->cfg);
}

void h_member_reward_redeem(fd_req *r)
{
    redeem_job j = {.p = &r->program, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.member_id) || param_id_or_reply(r, 1, &j.reward_id)) return;
    j.holder_id = j.member_id;
    run_redeem(r, &j);
}

/* POST /v1/accounts/{id}/rewards/{reward_id}/redeem {"member_id"}: a user
 * of a company account with the role approver or admin redeems with the
 * account's points; the voucher is theirs. Buyers may not. */
void h_account_reward_redeem(fd_req *r)
{
    fd_account a;
    int64_t account_id;
    char role[16];
    redeem_job j = {.p = &r->program, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &account_id) || param_id_or_reply(r, 1, &j.reward_id) ||
        body_int_or_reply(r, "member_id", true, 1, INT64_MAX, &j.holder_id, NULL))
        return;
    int rc = fd_account_get(r->db, r->program.id, account_id, &a);
    if (!rc) rc = fd_account_role(r->db, &a, j.holder_id, role);
    if (rc == FD_ENOTFOUND) {
        fd_reply_error(r, 404, "not_found", "no such account, or the member is not its user", NULL);
        return;
    }
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (!strcmp(role, "buyer")) {
        fd_reply_error(r, 403, "not_authorised",
                       "only approvers and admins of the account may redeem its points",
                       "member_id");
        return;
    }
    j.member_id = a.wallet_id;
    run_redeem(r, &j);
}

/* ---------- a member's vouchers ---------- */

/* The voucher in path parameter 1 when it belongs to member parameter 0. */
static int own_voucher_or_reply(fd_req *r, fd_code *c)
{
    int64_t member;
    if (param_id_or_reply(r, 0, &member) || code_or_reply(r, 1, c)) return FD_EINVAL;
    if (c->member_id != member) {
        fd_reply_error(r, 404, "code_not_found", "no such voucher for this member", NULL);
        return FD_ENOTFOUND;
    }
    return FD_OK;
}

typedef struct cancel_job {
    int64_t program_id;
    char code[FD_CODE_PATTERN_MAX + 1];
    const char *actor;
    fd_code c;
    int64_t balance;
    fd_job_error err;
} cancel_job;

static int cancel_run(fd_db *db, void *arg)
{
    cancel_job *j = arg;
    fd_member m = {0};
    int64_t now = fd_now();
    int rc = fd_code_find(db, j->program_id, j->code, true, &j->c);
    if (!rc && (strcmp(j->c.status, "active") || j->c.uses > 0 || !j->c.journal_id))
        return job_fail(&j->err, FD_ECONFLICT, "voucher_not_cancellable", NULL,
                        "only an unused voucher bought with points can be cancelled");
    if (!rc) rc = fd_ledger_entry_member(db, j->program_id, j->c.journal_id, &m); /* who paid */
    char reason[160];
    snprintf(reason, sizeof reason, "voucher %s cancelled", j->c.code);
    fd_posting post = {"restore", reason, NULL, NULL, j->actor, now};
    if (!rc) rc = fd_ledger_restore(db, &m, j->c.journal_id, &post);
    snprintf(j->c.status, sizeof j->c.status, "cancelled");
    if (!rc) rc = fd_code_save(db, &j->c);
    if (!rc) rc = fd_reward_issued_add(db, j->c.reward_id, -1);
    j->balance = m.balance;
    fd_member_clear(&m);
    return rc;
}

/* POST /v1/members/{id}/vouchers/{code}/cancel: an unused voucher goes back
 * for its points (to the lots they came from, with their expiry dates). */
void h_member_voucher_cancel(fd_req *r)
{
    cancel_job j = {.program_id = r->program.id, .actor = r->who.actor};
    if (own_voucher_or_reply(r, &j.c)) return;
    snprintf(j.code, sizeof j.code, "%s", j.c.code);
    if (!write_or_reply(r, cancel_run, &j, &j.err))
        fd_reply(r, 200, voucher_json(r, &j.c, j.balance));
}

static void reply_symbol(fd_req *r, fd_symbol_kind kind)
{
    fd_code c;
    if (own_voucher_or_reply(r, &c)) return;
    const char *format = fd_query(r, "format");
    bool png = format && !strcmp(format, "png");
    if (format && !png && strcmp(format, "svg")) {
        fd_reply_error(r, 422, "invalid_field", "format is svg or png", "format");
        return;
    }
    unsigned char *img;
    size_t len;
    int rc = fd_symbol_render(kind, png ? FD_IMAGE_PNG : FD_IMAGE_SVG, c.code, &img, &len);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply_bytes(r, 200, png ? "image/png" : "image/svg+xml", img, len);
}

void h_member_voucher_qr(fd_req *r)
{
    reply_symbol(r, FD_SYMBOL_QR);
}

void h_member_voucher_barcode(fd_req *r)
{
    reply_symbol(r, FD_SYMBOL_CODE128);
}
