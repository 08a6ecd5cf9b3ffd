/*
 * carts.c - /v1/carts/evaluate and /v1/carts/redeem (codes on a cart: which
 * apply, which not and why, final totals), /v1/codes/{code}/validate, the
 * rollback of an order's redemptions, and the program's stacking policy.
 *
 * Evaluate and redeem run the same decision; redeem runs it on the writer
 * with the code, campaign and member rows locked, then records one
 * redemption per applied code. Redeem is idempotent per order: a code
 * already redeemed for the order is reported with its recorded figures
 * ("replayed": true) and counted once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/campaign.h"
#include "core/ledger.h"
#include "core/money.h"
#include "core/promo.h"
#include "store/audit.h"
#include "store/config.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/programs.h"
#include "store/promos.h"
#include "store/shopper.h"

/* ---------- input ---------- */

typedef struct cart_input {
    int64_t member_id;
    const char *order_id;
    fd_cart_line *lines;
    fd_cart cart;
    char codes[FD_CART_CODES_MAX][FD_CODE_PATTERN_MAX + 1];
    size_t ncodes;
    json_t *cart_json; /* data.cart for custom rules */
} cart_input;

static void cart_input_clear(cart_input *in)
{
    free(in->lines);
    json_decref(in->cart_json);
}

static int bad(fd_req *r, const char *field, const char *message)
{
    fd_reply_error(r, 422, "invalid_field", message, field);
    return FD_EINVAL;
}

static double major(int64_t minor, int exponent)
{
    double d = (double)minor;
    for (int i = 0; i < exponent; i++)
        d /= 10;
    return d;
}

static int lines_or_reply(fd_req *r, const json_t *order, cart_input *in)
{
    const json_t *lines = json_object_get(order, "lines");
    if (!json_is_array(lines) || json_array_size(lines) == 0)
        return bad(r, "order.lines", "order.lines is a non-empty array");
    if (json_array_size(lines) > FD_CART_LINES_MAX)
        return bad(r, "order.lines", "a cart has at most 1000 lines");
    in->lines = fd_calloc(json_array_size(lines), sizeof *in->lines);
    json_t *skus = json_array(), *cats = json_array();
    in->cart_json = json_pack("{s:o, s:o, s:O}", "skus", skus, "categories", cats, "lines", lines);
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        fd_cart_line *x = &in->lines[i];
        if (order_line_or_reply(r, l, i, r->program.exponent, x)) return FD_EINVAL;
        if (fd_add_i64(in->cart.subtotal, x->gross, &in->cart.subtotal) ||
            in->cart.subtotal > FD_AMOUNT_MAX)
            return bad(r, "order.lines", "the cart's total is out of range");
        in->cart.quantity += x->quantity;
        json_array_append_new(skus, json_string(x->sku));
        if (x->category) json_array_append_new(cats, json_string(x->category));
    }
    in->cart.lines = in->lines;
    in->cart.nlines = json_array_size(lines);
    json_object_set_new(in->cart_json, "subtotal",
                        json_real(major(in->cart.subtotal, r->program.exponent)));
    json_object_set_new(in->cart_json, "shipping",
                        json_real(major(in->cart.shipping, r->program.exponent)));
    json_object_set_new(in->cart_json, "quantity", json_integer(in->cart.quantity));
    return FD_OK;
}

static int codes_or_reply(fd_req *r, const json_t *codes, cart_input *in)
{
    if (!codes) return FD_OK;
    if (!json_is_array(codes) || json_array_size(codes) > FD_CART_CODES_MAX)
        return bad(r, "codes", "codes is an array of at most 20 codes");
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c)
    {
        if (!json_is_string(c) || fd_code_normalise(json_string_value(c), in->codes[i]))
            return bad(r, "codes", "each code is a string of A-Z, 0-9, - and _ (at most 64)");
        in->ncodes++;
    }
    return FD_OK;
}

/* Reads {"member_id", "order": {"id", "currency", "lines", "shipping"},
 * "codes"}; the order id is required to redeem. */
static int cart_or_reply(fd_req *r, bool need_order_id, cart_input *in)
{
    memset(in, 0, sizeof *in);
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the cart as a JSON object", NULL);
        return FD_EINVAL;
    }
    bool present;
    const json_t *order = json_object_get(r->body, "order");
    if (body_int_or_reply(r, "member_id", false, 1, INT64_MAX, &in->member_id, &present))
        return FD_EINVAL;
    if (!json_is_object(order)) return bad(r, "order", "order is required: an object with lines");
    const json_t *id = json_object_get(order, "id"), *cur = json_object_get(order, "currency");
    if ((id || need_order_id) && (!json_is_string(id) || !fd_ident_valid(json_string_value(id))))
        return bad(r, "order.id", "order.id is required: printable ASCII without spaces");
    in->order_id = json_string_value(id);
    if (cur && (!json_is_string(cur) || strcmp(json_string_value(cur), r->program.currency))) {
        char msg[96];
        snprintf(msg, sizeof msg, "this program runs in %s", r->program.currency);
        fd_reply_error(r, 422, "currency_mismatch", msg, "order.currency");
        return FD_EINVAL;
    }
    if (json_amount_or_reply(r, (json_t *)order, "shipping", "order.shipping", r->program.exponent,
                             false, &in->cart.shipping, NULL))
        return FD_EINVAL;
    if (lines_or_reply(r, order, in)) return FD_EINVAL;
    return codes_or_reply(r, json_object_get(r->body, "codes"), in);
}

/* ---------- the decision ---------- */

typedef struct cart_eval {
    /* in */
    const fd_program *p;
    fd_config *cfg;
    const cart_input *in;
    bool redeem;
    /* out */
    fd_code codes[FD_CART_CODES_MAX];
    fd_cart_code cc[FD_CART_CODES_MAX];
    bool valid[FD_CART_CODES_MAX];  /* passed every check before stacking */
    bool replay[FD_CART_CODES_MAX]; /* already redeemed for this order */
    fd_redemption red[FD_CART_CODES_MAX];
    fd_cart_totals t;
    bool rejected; /* redeem: a code did not apply, so nothing was recorded */
    fd_job_error err;
} cart_eval;

static const fd_campaign *campaign_of(const cart_eval *e, const fd_code *c)
{
    return c->campaign_id ? fd_config_campaign(e->cfg, c->campaign_id) : NULL;
}

/* The promo behind code c, or a refusal: disabled, deleted, or a reward
 * whose campaign is off. */
static const fd_promo *promo_of(const cart_eval *e, const fd_code *c, fd_refusal *why)
{
    if (c->campaign_id) {
        const fd_campaign *camp = campaign_of(e, c);
        if (!camp) return fd_refuse(why, "campaign_ended", "the campaign was deleted"), NULL;
        if (!camp->active)
            return fd_refuse(why, "campaign_disabled", "the campaign is switched off"), NULL;
        return &camp->promo;
    }
    const fd_reward *rw = fd_config_reward(e->cfg, c->reward_id);
    if (!rw) return fd_refuse(why, "reward_withdrawn", "the reward was withdrawn"), NULL;
    if (!rw->active) return fd_refuse(why, "reward_disabled", "the reward is switched off"), NULL;
    const fd_campaign *camp = rw->campaign_id ? fd_config_campaign(e->cfg, rw->campaign_id) : NULL;
    if (rw->campaign_id && (!camp || !camp->active))
        return fd_refuse(why, "campaign_disabled", "the reward's campaign is switched off"), NULL;
    return &rw->promo;
}

/* The state checks of code i (exists, switched on, not used up, not
 * expired, its owner's); leaves a refusal in cc[i] when one fails. */
static int check_code_state(fd_db *db, cart_eval *e, size_t i)
{
    fd_cart_code *k = &e->cc[i];
    fd_code *c = &e->codes[i];
    int rc = fd_code_find(db, e->p->id, e->in->codes[i], e->redeem, c);
    if (rc == FD_ENOTFOUND) {
        fd_refuse(&k->refusal, "code_not_found", "no such code");
        return FD_OK;
    }
    if (rc) return rc;
    if (e->redeem) {
        rc = fd_redemption_find(db, c->id, e->in->order_id, &e->red[i]);
        if (rc && rc != FD_ENOTFOUND) return rc;
        e->replay[i] = rc == FD_OK && !strcmp(e->red[i].status, "redeemed");
        if (rc == FD_ENOTFOUND) memset(&e->red[i], 0, sizeof e->red[i]);
    }
    int64_t now = fd_now();
    if (!c->active)
        fd_refuse(&k->refusal, "code_disabled", "the code is switched off");
    else if (!strcmp(c->status, "cancelled"))
        fd_refuse(&k->refusal, "code_cancelled", "the voucher was cancelled");
    else if (!e->replay[i] && fd_lot_expired(c->expires_at, now))
        fd_refuse(&k->refusal, "code_expired", "the code expired");
    else if (!e->replay[i] && c->max_uses && c->uses >= c->max_uses)
        fd_refuse(&k->refusal, "code_used_up", "the code has been used %lld time%s, its limit",
                  (long long)c->uses, c->uses == 1 ? "" : "s");
    else if (c->member_id && c->member_id != e->in->member_id)
        fd_refuse(&k->refusal, "code_of_another_member", "this voucher belongs to another member");
    return FD_OK;
}

/* The campaign's counted limits before the discount is known. */
static int check_campaign_counts(fd_db *db, cart_eval *e, size_t i)
{
    const fd_campaign *camp = campaign_of(e, &e->codes[i]);
    if (!camp || e->replay[i]) return FD_OK;
    for (size_t j = 0; j < i; j++)
        if (e->valid[j] && e->codes[j].campaign_id == camp->id) {
            fd_refuse(&e->cc[i].refusal, "campaign_already_applied",
                      "another code of this campaign is on the cart");
            return FD_OK;
        }
    fd_campaign_usage u;
    int64_t member_uses = 0;
    int rc = e->redeem ? fd_campaign_usage_lock(db, camp->id, &u)
                       : fd_campaign_usage_get(db, camp->id, &u);
    if (!rc && e->in->member_id)
        rc = fd_campaign_member_uses(db, camp->id, e->in->member_id, &member_uses);
    if (!rc) /* a refusal lands in cc[i] */
        (void)fd_campaign_fits(&camp->limits, u.uses, 0, 0, member_uses, 0, 0, &e->cc[i].refusal);
    return rc;
}

/* The discount and order-amount budgets, now that the discount is known.
 * Returns true when a code had to be refused. */
static bool over_budget(fd_db *db, cart_eval *e, int *rc)
{
    bool refused = false;
    for (size_t i = 0; i < e->in->ncodes && !*rc; i++) {
        const fd_campaign *camp = campaign_of(e, &e->codes[i]);
        fd_cart_code *k = &e->cc[i];
        if (!k->applied || !camp || e->replay[i]) continue;
        fd_campaign_usage u;
        *rc = fd_campaign_usage_get(db, camp->id, &u);
        fd_campaign_limits l = camp->limits;
        l.uses = l.uses_per_member = 0; /* counted before */
        if (!*rc && fd_campaign_fits(&l, 0, u.discount_total, u.order_total, 0,
                                     k->discount + k->shipping_discount, e->in->cart.subtotal,
                                     &k->refusal)) {
            e->valid[i] = false;
            refused = true;
        }
    }
    return refused;
}

static int evaluate(fd_db *db, cart_eval *e)
{
    const cart_input *in = e->in;
    fd_shopper s;
    memset(e->cc, 0, sizeof e->cc);
    memset(e->valid, 0, sizeof e->valid);
    memset(e->replay, 0, sizeof e->replay);
    int rc =
        fd_shopper_load(db, e->p, e->cfg, in->member_id, e->redeem, fd_now(), in->cart_json, &s);
    if (rc == FD_ENOTFOUND)
        return job_fail(&e->err, rc, "member_not_found", "member_id", "no such member");
    if (rc) return rc;
    for (size_t i = 0; i < in->ncodes && !rc; i++) {
        fd_cart_code *k = &e->cc[i];
        k->code = in->codes[i];
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || !strcmp(in->codes[j], in->codes[i]);
        if (dup) {
            fd_refuse(&k->refusal, "duplicate_code", "the code is already on the cart");
            continue;
        }
        rc = check_code_state(db, e, i);
        if (rc || k->refusal.code[0]) continue;
        const fd_promo *promo = promo_of(e, &e->codes[i], &k->refusal);
        fd_promo_facts f;
        fd_shopper_facts(&s, &in->cart, &f);
        f.voucher = e->codes[i].reward_id != 0;
        if (!promo || (!e->replay[i] && fd_promo_check(promo, &f, &k->refusal))) continue;
        rc = check_campaign_counts(db, e, i);
        if (rc || k->refusal.code[0]) continue;
        k->promo = promo;
        k->balance = e->codes[i].balance + (e->replay[i] ? e->red[i].gift_card : 0);
        e->valid[i] = true;
    }
    /* Stacking, then budgets; a code refused for its budget may let another in. */
    for (size_t pass = 0; !rc && pass <= in->ncodes; pass++) {
        for (size_t i = 0; i < in->ncodes; i++)
            if (e->valid[i]) memset(&e->cc[i].refusal, 0, sizeof e->cc[i].refusal);
        fd_cart_apply(&e->cfg->stacking, &in->cart, e->cc, in->ncodes, &e->t);
        if (!over_budget(db, e, &rc)) break;
    }
    fd_shopper_clear(&s);
    return rc;
}

/* ---------- replies ---------- */

static json_t *amount(const cart_eval *e, int64_t minor)
{
    return fd_json_amount(minor, e->p->exponent);
}

static json_t *applied_json(const cart_eval *e, size_t i)
{
    const fd_cart_code *k = &e->cc[i];
    const fd_code *c = &e->codes[i];
    json_t *o = json_pack("{s:s, s:s, s:s}", "code", k->code, "benefit",
                          fd_benefit_name(k->promo->benefit.kind), "category", k->promo->category);
    if (c->campaign_id) json_object_set_new(o, "campaign_id", json_integer(c->campaign_id));
    if (c->reward_id) json_object_set_new(o, "reward_id", json_integer(c->reward_id));
    json_object_set_new(o, "discount", amount(e, k->discount));
    json_object_set_new(o, "shipping_discount", amount(e, k->shipping_discount));
    json_object_set_new(o, "gift_card", amount(e, k->gift_card));
    json_object_set_new(o, "cashback", amount(e, k->cashback));
    if (e->replay[i]) json_object_set_new(o, "replayed", json_true());
    return o;
}

static json_t *refusal_json(const fd_refusal *why)
{
    json_t *o = json_pack("{s:s, s:s}", "code", why->code, "message", why->message);
    if (why->rule[0]) json_object_set_new(o, "rule", json_string(why->rule));
    return o;
}

static json_t *eval_json(const cart_eval *e)
{
    json_t *applied = json_array(), *rejected = json_array();
    for (size_t i = 0; i < e->in->ncodes; i++) {
        if (e->cc[i].applied)
            json_array_append_new(applied, applied_json(e, i));
        else
            json_array_append_new(rejected, json_pack("{s:s, s:o}", "code", e->cc[i].code, "reason",
                                                      refusal_json(&e->cc[i].refusal)));
    }
    json_t *o = json_pack("{s:o, s:o}", "applied", applied, "rejected", rejected);
    if (e->in->order_id) json_object_set_new(o, "order_id", json_string(e->in->order_id));
    if (e->in->member_id) json_object_set_new(o, "member_id", json_integer(e->in->member_id));
    json_object_set_new(o, "currency", json_string(e->p->currency));
    json_object_set_new(o, "subtotal", amount(e, e->t.subtotal));
    json_object_set_new(o, "discount", amount(e, e->t.discount));
    json_object_set_new(o, "shipping", amount(e, e->t.shipping));
    json_object_set_new(o, "shipping_discount", amount(e, e->t.shipping_discount));
    json_object_set_new(o, "gift_card", amount(e, e->t.gift_card));
    json_object_set_new(o, "cashback", amount(e, e->t.cashback));
    json_object_set_new(o, "total", amount(e, e->t.total));
    return o;
}

/* ---------- redeem ---------- */

/* A replayed code reports what was recorded the first time. */
static void restore_replay(cart_eval *e, size_t i)
{
    fd_cart_code *k = &e->cc[i];
    const fd_redemption *r = &e->red[i];
    k->discount = r->discount;
    k->shipping_discount = r->shipping_discount;
    k->gift_card = r->gift_card;
    k->cashback = r->cashback;
}

static int record(fd_db *db, cart_eval *e, size_t i, int64_t now)
{
    fd_cart_code *k = &e->cc[i];
    fd_code *c = &e->codes[i];
    fd_redemption *r = &e->red[i];
    *r = (fd_redemption){.id = r->id,
                         .program_id = e->p->id,
                         .code_id = c->id,
                         .campaign_id = c->campaign_id,
                         .reward_id = c->reward_id,
                         .member_id = e->in->member_id,
                         .order_amount = e->in->cart.subtotal,
                         .discount = k->discount,
                         .shipping_discount = k->shipping_discount,
                         .gift_card = k->gift_card,
                         .cashback = k->cashback,
                         .created_at = now};
    snprintf(r->order_id, sizeof r->order_id, "%s", e->in->order_id);
    snprintf(r->status, sizeof r->status, "redeemed");
    int rc = fd_redemption_save(db, r);
    c->uses++;
    c->balance -= k->gift_card;
    if (!rc) rc = fd_code_save(db, c);
    if (!rc && c->campaign_id)
        rc = fd_campaign_usage_add(db, c->campaign_id, 1, k->discount + k->shipping_discount,
                                   e->in->cart.subtotal);
    json_t *data =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "code", c->code, "order_id", r->order_id,
                  "discount", amount(e, k->discount), "shipping_discount",
                  amount(e, k->shipping_discount), "gift_card", amount(e, k->gift_card), "cashback",
                  amount(e, k->cashback), "order_amount", amount(e, r->order_amount));
    if (c->campaign_id) json_object_set_new(data, "campaign_id", json_integer(c->campaign_id));
    if (c->reward_id) json_object_set_new(data, "reward_id", json_integer(c->reward_id));
    if (!rc) rc = fd_outbox_emit(db, e->p->id, "voucher.redeemed", e->in->member_id, data, now);
    json_decref(data);
    return rc;
}

static int redeem_job(fd_db *db, void *arg)
{
    cart_eval *e = arg;
    int rc = evaluate(db, e);
    int64_t now = fd_now();
    e->rejected = false;
    for (size_t i = 0; i < e->in->ncodes && !rc && !e->rejected; i++)
        e->rejected = !e->cc[i].applied;
    if (e->rejected)
        return job_fail(&e->err, FD_EINVAL, "codes_rejected", "codes",
                        "a code does not apply (see rejected); nothing was redeemed");
    for (size_t i = 0; i < e->in->ncodes && !rc; i++) {
        if (!e->cc[i].applied) continue;
        if (e->replay[i])
            restore_replay(e, i);
        else
            rc = record(db, e, i, now);
    }
    return rc;
}

static int config_or_reply(fd_req *r, fd_config **cfg)
{
    int rc = fd_config_get(r->db, &r->program, cfg);
    if (rc) fd_reply_status(r, rc, NULL);
    return rc;
}

/* A failed evaluation or redemption: the job's error; a redemption refused
 * because of a code also lists the codes with their reasons. */
static void reply_failure(fd_req *r, const cart_eval *e, int rc)
{
    if (e->rejected) {
        json_t *o = eval_json(e);
        json_object_set_new(o, "error",
                            json_pack("{s:s, s:s, s:s}", "code", e->err.code, "message",
                                      e->err.message, "field", e->err.field));
        fd_reply(r, 422, o);
    } else if (e->err.code) {
        fd_reply_error(r, fd_http_status(rc), e->err.code, e->err.message, e->err.field);
    } else {
        fd_reply_status(r, rc, NULL);
    }
}

static void run_cart(fd_req *r, const cart_input *in, bool redeem)
{
    cart_eval e = {.p = &r->program, .in = in, .redeem = redeem};
    if (config_or_reply(r, &e.cfg)) return;
    int rc = redeem ? fd_store_write(r->store, redeem_job, &e) : evaluate(r->db, &e);
    if (rc < 0)
        reply_failure(r, &e, rc);
    else
        fd_reply(r, 200, eval_json(&e));
    fd_config_release(e.cfg);
}

void h_cart_evaluate(fd_req *r)
{
    cart_input in;
    if (!cart_or_reply(r, false, &in)) run_cart(r, &in, false);
    cart_input_clear(&in);
}

void h_cart_redeem(fd_req *r)
{
    cart_input in;
    if (!cart_or_reply(r, true, &in)) run_cart(r, &in, true);
    cart_input_clear(&in);
}

/* A refused code as an error: 404 for an unknown code, 422 otherwise, the
 * refusal's code as the error code (and the custom rule's name). */
static void reply_refusal(fd_req *r, const fd_refusal *why)
{
    bool unknown = !strcmp(why->code, "code_not_found");
    json_t *err =
        json_pack("{s:s, s:s, s:s}", "code", why->code, "message", why->message, "field", "code");
    if (why->rule[0]) json_object_set_new(err, "rule", json_string(why->rule));
    fd_reply(r, unknown ? 404 : 422, json_pack("{s:o}", "error", err));
}

/* POST /v1/codes/{code}/validate: one code, with or without a cart: 200
 * when it applies, else the refusal as an error. */
void h_code_validate(fd_req *r)
{
    cart_input in;
    memset(&in, 0, sizeof in);
    if (fd_code_normalise(r->params[0], in.codes[0])) {
        fd_reply_error(r, 404, "code_not_found", "no such code", NULL);
        return;
    }
    in.ncodes = 1;
    bool present;
    const json_t *order = r->body ? json_object_get(r->body, "order") : NULL;
    if (r->body && body_int_or_reply(r, "member_id", false, 1, INT64_MAX, &in.member_id, &present))
        return;
    if (order && lines_or_reply(r, order, &in)) {
        cart_input_clear(&in);
        return;
    }
    cart_eval e = {.p = &r->program, .in = &in};
    if (config_or_reply(r, &e.cfg)) {
        cart_input_clear(&in);
        return;
    }
    int rc = evaluate(r->db, &e);
    /* Without a cart only the code's own rules count: stacking needs a cart. */
    bool ok = !rc && (order ? e.cc[0].applied : e.valid[0]);
    if (rc) {
        reply_failure(r, &e, rc);
    } else if (!ok) {
        reply_refusal(r, &e.cc[0].refusal);
    } else {
        json_t *o = json_pack("{s:s, s:b}", "code", in.codes[0], "valid", 1);
        if (e.codes[0].campaign_id)
            json_object_set_new(o, "campaign_id", json_integer(e.codes[0].campaign_id));
        if (e.codes[0].reward_id)
            json_object_set_new(o, "reward_id", json_integer(e.codes[0].reward_id));
        if (order) json_object_set_new(o, "discount", amount(&e, e.cc[0].discount));
        fd_reply(r, 200, o);
    }
    fd_config_release(e.cfg);
    cart_input_clear(&in);
}

/* ---------- rollback ---------- */

typedef struct rollback_job {
    int64_t program_id;
    int exponent;
    const char *order_id, *actor;
    json_t *out; /* codes rolled back */
    int64_t found;
    fd_job_error err;
} rollback_job;

/* Gives back the points of a voucher no order uses any more, and its stock. */
static int refund_voucher(fd_db *db, rollback_job *j, fd_code *c, int64_t now)
{
    fd_member m = {0};
    int rc = fd_ledger_entry_member(db, j->program_id, c->journal_id, &m); /* who paid */
    char reason[160];
    snprintf(reason, sizeof reason, "voucher %s: order %s rolled back", c->code, j->order_id);
    fd_posting post = {"restore", reason, NULL, j->order_id, j->actor, now};
    if (!rc) rc = fd_ledger_restore(db, &m, c->journal_id, &post);
    if (!rc) rc = fd_reward_issued_add(db, c->reward_id, -1);
    snprintf(c->status, sizeof c->status, "cancelled");
    fd_member_clear(&m);
    return rc;
}

static int rollback_one(fd_db *db, rollback_job *j, const char *code, int64_t now)
{
    fd_code c;
    fd_redemption red;
    int rc = fd_code_find(db, j->program_id, code, true, &c);
    if (!rc) rc = fd_redemption_find(db, c.id, j->order_id, &red);
    if (rc || strcmp(red.status, "redeemed")) return rc;
    snprintf(red.status, sizeof red.status, "rolled_back");
    red.rolled_back_at = now;
    rc = fd_redemption_save(db, &red);
    c.uses--;
    c.balance += red.gift_card;
    if (!rc && c.campaign_id)
        rc = fd_campaign_usage_add(db, c.campaign_id, -1, -(red.discount + red.shipping_discount),
                                   -red.order_amount);
    bool refund = c.points > 0 && c.journal_id && c.uses == 0;
    if (!rc && refund) rc = refund_voucher(db, j, &c, now);
    if (!rc) rc = fd_code_save(db, &c);
    json_t *data =
        json_pack("{s:s, s:s, s:o, s:o, s:o, s:I}", "code", c.code, "order_id", j->order_id,
                  "discount", fd_json_amount(red.discount, j->exponent), "shipping_discount",
                  fd_json_amount(red.shipping_discount, j->exponent), "gift_card",
                  fd_json_amount(red.gift_card, j->exponent), "points_returned",
                  (json_int_t)(refund ? c.points : 0));
    if (!rc)
        rc = fd_outbox_emit(db, j->program_id, "voucher.rolled_back", red.member_id, data, now);
    if (!rc) json_array_append(j->out, data);
    json_decref(data);
    return rc;
}

static int rollback_run(fd_db *db, void *arg)
{
    rollback_job *j = arg;
    json_array_clear(j->out);
    fd_stmt *st;
    int rc =
        fd_db_query(db,
                    "SELECT c.code, r.status FROM redemptions r JOIN codes c ON c.id = r.code_id"
                    " WHERE r.program_id = $1 AND r.order_id = $2 ORDER BY r.id",
                    FD_PARAMS(FD_I(j->program_id), FD_S(j->order_id)), &st);
    if (rc) return rc;
    json_t *codes = json_array();
    j->found = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        j->found++;
        if (!strcmp(fd_stmt_text(st, 1), "redeemed"))
            json_array_append_new(codes, json_string(fd_stmt_text(st, 0)));
    }
    fd_stmt_done(st);
    int64_t now = fd_now();
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c)
    {
        if (rc == 0) rc = rollback_one(db, j, json_string_value(c), now);
    }
    json_decref(codes);
    if (rc == 0 && j->found == 0)
        return job_fail(&j->err, FD_ENOTFOUND, "no_redemptions", NULL,
                        "no code was redeemed for order %s", j->order_id);
    return rc;
}

/* POST /v1/orders/{order_id}/rollback: the order was cancelled or refunded;
 * every code redeemed for it is given back (uses, gift card credit, budget,
 * and a voucher's points to the lots they came from). Repeating it changes
 * nothing. */
void h_order_rollback(fd_req *r)
{
    if (!fd_ident_valid(r->params[0])) {
        fd_reply_error(r, 404, "no_redemptions", "no such order", NULL);
        return;
    }
    rollback_job j = {.program_id = r->program.id,
                      .exponent = r->program.exponent,
                      .order_id = r->params[0],
                      .actor = r->who.actor,
                      .out = json_array()};
    if (!write_or_reply(r, rollback_run, &j, &j.err))
        fd_reply(r, 200, json_pack("{s:s, s:O}", "order_id", j.order_id, "rolled_back", j.out));
    json_decref(j.out);
}

/* ---------- stacking policy ---------- */

void h_stacking_get(fd_req *r)
{
    fd_config *cfg;
    if (config_or_reply(r, &cfg)) return;
    const fd_stacking *s = &cfg->stacking;
    json_t *groups = json_array();
    for (int g = 0; g < s->ngroups; g++) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->groups[g].n; i++)
            json_array_append_new(a, json_string(s->groups[g].items[i]));
        json_array_append_new(groups, a);
    }
    json_t *order = json_array();
    for (int rank = 0; rank < FD_PHASES; rank++)
        for (int k = 0; k < FD_PHASES; k++)
            if (s->rank[k] == rank) json_array_append_new(order, json_string(fd_phase_name(k)));
    fd_reply(r, 200,
             json_pack("{s:i, s:s, s:o, s:o}", "max_codes", s->max_codes, "on_conflict",
                       s->first_submitted ? "first_submitted" : "best_for_customer",
                       "exclusive_groups", groups, "application_order", order));
    fd_config_release(cfg);
}

typedef struct stacking_job {
    int64_t program_id;
    const char *actor;
    char *text;
} stacking_job;

static int stacking_run(fd_db *db, void *arg)
{
    stacking_job *j = arg;
    int rc = fd_db_run(db, "UPDATE programs SET stacking = $2 WHERE id = $1",
                       FD_PARAMS(FD_I(j->program_id), FD_S(j->text)), NULL);
    if (!rc) rc = fd_config_bump(db, j->program_id);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "stacking.update", "program", NULL, NULL,
                          j->text, fd_now());
    return rc;
}

void h_stacking_put(fd_req *r)
{
    fd_stacking s;
    char field[128], msg[160];
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the policy as a JSON object", NULL);
        return;
    }
    if (fd_stacking_parse(r->body, &s, field, msg)) {
        fd_reply_error(r, 422, "invalid_policy", msg, field);
        return;
    }
    fd_stacking_clear(&s);
    stacking_job j = {r->program.id, r->who.actor, json_canonical(r->body)};
    int rc = write_or_reply(r, stacking_run, &j, NULL);
    if (!rc) rc = fd_program_load(r->db, r->program.id, &r->program); /* the new version */
    if (!rc)
        h_stacking_get(r);
    else if (!r->replied)
        fd_reply_status(r, rc, NULL);
    free(j.text);
}
