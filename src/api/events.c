/*
 * events.c - POST /v1/events: purchases, refunds and custom events, each
 * processed exactly once per event id. The first result is stored with the
 * event in the same transaction; a retry with the same id and body gets
 * that result back (200, "duplicate": true), a retry with the same id and a
 * different body is refused (409 idempotency_conflict).
 */
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/events.h"
#include "api/handlers.h"
#include "base/fd.h"
#include "base/metrics.h"
#include "core/identity.h"
#include "core/ledger.h"
#include "core/money.h"
#include "store/earning.h"
#include "store/events.h"
#include "store/engagement.h"
#include "store/outbox.h"
#include "store/referrals.h"
#include "store/stats.h"
#include "store/tiering.h"
#include "store/ledger.h"
#include "store/members.h"

#define MERGE_HOPS_MAX 8
#define TYPE_MAX 64

typedef struct event_input {
    const char *id, *type, *external_id, *channel;
    int64_t member_id, occurred_at;
    int64_t nps, satisfaction; /* survey answers, -1 when absent */
    const char *brand;         /* a brand of a coalition program, or NULL */
    const char *order_id;      /* purchase: order.id; refund: order_id */
    int64_t total;             /* purchase: order.total, paid for goods */
    int64_t shipping;          /* purchase: order.shipping */
    int64_t amount;            /* refund: amount, when has_amount */
    bool has_amount;
    bool guest; /* purchase without a member: recorded, earns nothing */
    bool award; /* false: historic backfill, no points (award_points: false) */
    char hash[65];
} event_input;

static bool is_type_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TYPE_MAX || s[0] < 'a' || s[0] > 'z') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
            return false;
    return true;
}

static int bad(fd_req *r, const char *field, const char *message)
{
    fd_reply_error(r, 422, "invalid_field", message, field);
    return FD_EINVAL;
}

static int lines_or_reply(fd_req *r, json_t *lines, int exponent)
{
    if (!lines || json_is_null(lines)) return FD_OK;
    if (!json_is_array(lines)) return bad(r, "order.lines", "order.lines must be an array");
    if (json_array_size(lines) > FD_ORDER_LINES_MAX)
        return bad(r, "order.lines", "an order has at most 1000 lines");
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        fd_cart_line line;
        if (order_line_or_reply(r, l, i, exponent, &line)) return FD_EINVAL;
    }
    return FD_OK;
}

static int purchase_or_reply(fd_req *r, event_input *in)
{
    json_t *order = json_object_get(r->body, "order");
    if (!json_is_object(order)) return bad(r, "order", "a purchase needs an order object");
    json_t *id = json_object_get(order, "id"), *cur = json_object_get(order, "currency");
    if (!json_is_string(id) || !fd_ident_valid(json_string_value(id)))
        return bad(r, "order.id", "order.id is required: printable ASCII without spaces");
    in->order_id = json_string_value(id);
    int exponent;
    if (!json_is_string(cur)) return bad(r, "order.currency", "order.currency is required");
    if (fd_currency_exponent(json_string_value(cur), &exponent)) {
        fd_reply_error(r, 422, "unknown_currency", "order.currency is not an ISO 4217 code",
                       "order.currency");
        return FD_EINVAL;
    }
    if (strcmp(json_string_value(cur), r->program.currency)) {
        char msg[96];
        snprintf(msg, sizeof msg, "this program runs in %s", r->program.currency);
        fd_reply_error(r, 422, "currency_mismatch", msg, "order.currency");
        return FD_EINVAL;
    }
    if (json_amount_or_reply(r, order, "total", "order.total", exponent, true, &in->total, NULL) ||
        json_amount_or_reply(r, order, "shipping", "order.shipping", exponent, false, &in->shipping,
                             NULL))
        return FD_EINVAL;
    return lines_or_reply(r, json_object_get(order, "lines"), exponent);
}

/* A brand named by an event must be one of the program's (docs/engagement.md). */
static int brand_or_reply(fd_req *r, const char *brand)
{
    int64_t id;
    if (!brand) return FD_OK;
    int rc = fd_db_one_i64(r->db, "SELECT id FROM brands WHERE program_id = $1 AND code = $2",
                           FD_PARAMS(FD_I(r->program.id), FD_S(brand)), &id);
    if (rc == FD_ENOTFOUND) return bad(r, "brand", "unknown brand: create it with POST /v1/brands");
    if (rc) fd_reply_status(r, rc, NULL);
    return rc;
}

/* attributes.nps (0..10) and attributes.satisfaction (1..5): survey
 * answers the KPI report counts (docs/analytics.md). */
static int survey_or_reply(fd_req *r, const json_t *attrs, event_input *in)
{
    const json_t *nps = json_object_get(attrs, "nps"),
                 *sat = json_object_get(attrs, "satisfaction");
    if (nps &&
        (!json_is_integer(nps) || json_integer_value(nps) < 0 || json_integer_value(nps) > 10))
        return bad(r, "attributes.nps", "nps is an integer from 0 to 10");
    if (sat &&
        (!json_is_integer(sat) || json_integer_value(sat) < 1 || json_integer_value(sat) > 5))
        return bad(r, "attributes.satisfaction", "satisfaction is an integer from 1 to 5");
    in->nps = nps ? json_integer_value(nps) : -1;
    in->satisfaction = sat ? json_integer_value(sat) : -1;
    return FD_OK;
}

/* Reads and validates an event body. A simulation needs no id and no member. */
static int input_or_reply(fd_req *r, event_input *in, bool simulation)
{
    memset(in, 0, sizeof *in);
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the event as a JSON object", NULL);
        return FD_EINVAL;
    }
    bool present;
    if (body_ident_or_reply(r, "id", !simulation, &in->id) ||
        body_str_or_reply(r, "type", true, &in->type) ||
        body_ident_or_reply(r, "external_id", false, &in->external_id) ||
        body_int_or_reply(r, "member_id", false, 1, INT64_MAX, &in->member_id, NULL) ||
        body_str_or_reply(r, "channel", false, &in->channel) ||
        body_ident_or_reply(r, "brand", false, &in->brand) ||
        body_time_or_reply(r, "occurred_at", &in->occurred_at, &present))
        return FD_EINVAL;
    if (!present) in->occurred_at = fd_now();
    if (!is_type_name(in->type))
        return bad(r, "type", "type must be purchase, refund or a custom name [a-z][a-z0-9_.-]*");
    json_t *attrs = json_object_get(r->body, "attributes");
    if (attrs && !json_is_object(attrs))
        return bad(r, "attributes", "attributes must be an object");
    if (survey_or_reply(r, attrs, in) || brand_or_reply(r, in->brand)) return FD_EINVAL;
    bool refund = !strcmp(in->type, "refund");
    bool purchase = !strcmp(in->type, "purchase");
    in->guest = purchase && !simulation && !in->member_id && !in->external_id;
    if (!refund && !purchase && !simulation && !in->member_id && !in->external_id)
        return bad(r, "external_id", "name the member with external_id or member_id");
    json_t *award = json_object_get(r->body, "award_points");
    if (award && !json_is_boolean(award))
        return bad(r, "award_points", "award_points is true or false");
    in->award = !award || json_is_true(award);
    if (refund && simulation) return bad(r, "type", "simulate purchases and custom events");
    int rc = FD_OK;
    if (!strcmp(in->type, "purchase")) {
        rc = purchase_or_reply(r, in);
    } else if (refund) {
        rc = body_ident_or_reply(r, "order_id", true, &in->order_id);
        if (!rc)
            rc = json_amount_or_reply(r, r->body, "amount", "amount", r->program.exponent, false,
                                      &in->amount, &in->has_amount);
        if (!rc && in->has_amount && in->amount == 0)
            rc = bad(r, "amount", "amount must be above 0");
    }
    if (rc) return rc;
    char *canon = json_canonical(r->body);
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)canon, strlen(canon), NULL, 0);
    sodium_bin2hex(in->hash, sizeof in->hash, h, sizeof h);
    free(canon);
    return FD_OK;
}

typedef struct event_job {
    const fd_program *p;
    const fd_ruleset *rs;
    const fd_config *cfg;
    const json_t *body;
    const event_input *in;
    const char *actor;
    char *result; /* stored JSON text of the outcome */
    bool duplicate;
    fd_job_error err;
} event_job;

/* Replaces m by the member it was merged into, if any, so events sent with
 * a merged member's identifiers reach the surviving member. */
static int follow_merges(fd_db *db, int64_t program_id, fd_member *m)
{
    int rc = FD_OK;
    for (int hop = 0; !rc && m->merged_into && hop < MERGE_HOPS_MAX; hop++) {
        int64_t next = m->merged_into;
        fd_member_clear(m);
        rc = fd_member_get(db, program_id, next, m);
    }
    return rc;
}

/* Reloads m with its row locked for the rest of the transaction. */
static int lock_reload(fd_db *db, int64_t program_id, fd_member *m)
{
    int64_t id = m->id;
    fd_member_clear(m);
    return fd_member_get_locked(db, program_id, id, m);
}

/* Finds the event's member (by member_id or external_id) and locks it; with
 * need_active, refuses members that may not earn. */
static int resolve_member(fd_db *db, event_job *j, bool need_active, fd_member *m)
{
    const event_input *in = j->in;
    int rc = in->member_id
                 ? fd_member_get(db, j->p->id, in->member_id, m)
                 : fd_member_find(db, j->p->id, FD_LOOKUP_EXTERNAL_ID, in->external_id, m);
    if (!rc) rc = follow_merges(db, j->p->id, m);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found",
                        in->member_id ? "member_id" : "external_id",
                        "no such member: enroll it with POST /v1/members first");
    if (!rc && need_active && !fd_member_can_earn(m))
        return job_fail(&j->err, FD_ECONFLICT, "member_not_active", NULL, "the member is %s",
                        fd_member_state_name(m->state));
    return rc;
}

/* After waiting for the member's lock, the same event may have been applied
 * by another process meanwhile: FD_EBUSY runs the job again, and the retry
 * answers with the stored result. */
static int applied_meanwhile(fd_db *db, const event_job *j)
{
    if (!fd_db_shared(db)) return FD_OK; /* one writer: the first check stands */
    char hash[65], *result = NULL;
    int rc = fd_event_get(db, j->p->id, j->in->id, hash, &result);
    free(result);
    return rc == FD_OK ? FD_EBUSY : rc == FD_ENOTFOUND ? FD_OK : rc;
}

/* A purchase by a customer who is not a member: kept for analytics. */
static int guest_purchase(fd_db *db, event_job *j, fd_json_writer *out)
{
    const event_input *in = j->in;
    int rc =
        fd_db_run(db,
                  "INSERT INTO guest_orders(program_id, order_id, total, refunded, channel,"
                  " occurred_at, created_at, brand) VALUES ($1, $2, $3, 0, $4, $5, $6, $7)",
                  FD_PARAMS(FD_I(j->p->id), FD_S(in->order_id), FD_I(in->total), FD_S(in->channel),
                            FD_I(in->occurred_at), FD_I(fd_now()), FD_S(in->brand)),
                  NULL);
    if (rc == FD_ECONFLICT)
        return job_fail(&j->err, rc, "order_exists", "order.id", "order %s was already posted",
                        in->order_id);
    fd_jw_string(out, "order_id", in->order_id);
    fd_jw_int(out, "points", 0);
    fd_jw_bool(out, "guest", true);
    return rc;
}

/* A refund of a guest's order: the amount is recorded, no points move. */
static int guest_refund(fd_db *db, event_job *j, fd_json_writer *out)
{
    const event_input *in = j->in;
    int64_t total, refunded;
    fd_stmt *st;
    int rc = fd_db_query(
        db, "SELECT total, refunded FROM guest_orders WHERE program_id = $1 AND order_id = $2",
        FD_PARAMS(FD_I(j->p->id), FD_S(in->order_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    total = rc == 1 ? fd_stmt_i64(st, 0) : 0;
    refunded = rc == 1 ? fd_stmt_i64(st, 1) : 0;
    fd_stmt_done(st);
    if (rc == 0)
        return job_fail(&j->err, FD_ENOTFOUND, "order_not_found", "order_id", "no order %s",
                        in->order_id);
    if (rc < 0) return rc;
    int64_t amount = in->has_amount ? in->amount : total - refunded;
    if (amount <= 0 || amount > total - refunded)
        return job_fail(&j->err, amount <= 0 ? FD_ECONFLICT : FD_EINVAL,
                        amount <= 0 ? "already_refunded" : "refund_exceeds_order", "amount",
                        "order %s has %lld minor units left to refund", in->order_id,
                        (long long)(total - refunded));
    rc = fd_db_run(
        db,
        "UPDATE guest_orders SET refunded = refunded + $3 WHERE program_id = $1 AND order_id = $2",
        FD_PARAMS(FD_I(j->p->id), FD_S(in->order_id), FD_I(amount)), NULL);
    fd_jw_string(out, "order_id", in->order_id);
    fd_jw_amount(out, "refunded", amount, j->p->exponent);
    fd_jw_int(out, "points_reversed", 0);
    fd_jw_bool(out, "guest", true);
    return rc;
}

/* The ledger a member's points go to: their own, or, for a user of a
 * company account that pools, the account's wallet (loaded into *wallet,
 * locked after the member). */
static int earner_of(fd_db *db, const fd_program *p, fd_member *m, int64_t wallet_id,
                     fd_member *wallet, fd_member **earner)
{
    *earner = m;
    if (!wallet_id) return FD_OK;
    int rc = fd_member_get_locked(db, p->id, wallet_id, wallet);
    if (!rc) *earner = wallet;
    return rc;
}

/* The behaviour aggregates of one event, for the member and, when pooled,
 * for the account's wallet too (account tiers and volume rules read them). */
static int add_stats(fd_db *db, const event_job *j, const fd_member *m, const fd_member *earner,
                     int64_t day, int64_t amount, int orders, int64_t points)
{
    int rc = FD_OK;
    for (int k = 0; k < (earner == m ? 1 : 2) && !rc; k++) {
        const fd_member *x = k ? earner : m;
        rc = fd_stats_add_day(db, j->p->id, x->id, day, amount, orders, points);
        if (!rc && orders > 0)
            rc = fd_stats_purchase(db, j->p->id, x->id, day, amount,
                                   json_object_get(json_object_get(j->body, "order"), "lines"),
                                   j->in->channel);
    }
    return rc;
}

static void wallet_json(fd_json_writer *out, const fd_member *m, const fd_member *earner)
{
    if (earner == m) return;
    fd_jw_open(out, "wallet", '{');
    fd_jw_int(out, "member_id", earner->id);
    fd_jw_int(out, "balance", earner->balance);
    fd_jw_int(out, "pending", earner->pending);
    fd_jw_close(out, '}');
}

/* points.earned for the webhooks that want it: the message is built only then
 * (most programs subscribe to few event types, and this is every earning). */
static int announce_earned(fd_db *db, const event_job *j, const fd_member *earner,
                           const fd_earning *e, bool pending, int64_t now)
{
    int64_t hooks[FD_OUTBOX_HOOKS_MAX];
    int n;
    int rc = fd_outbox_subscribers(db, j->p->id, "points.earned", hooks, &n);
    if (rc || n == 0) return rc;
    const event_input *in = j->in;
    fd_json_writer w;
    fd_jw_init(&w);
    fd_jw_open(&w, NULL, '{');
    fd_jw_string(&w, "event_id", in->id);
    if (!strcmp(in->type, "purchase")) fd_jw_string(&w, "order_id", in->order_id);
    fd_jw_int(&w, "points", e->points);
    fd_jw_string(&w, "status", pending ? "pending" : "credited");
    fd_jw_int(&w, "balance", earner->balance);
    fd_jw_int(&w, "pending", earner->pending);
    fd_earning_awards_write(e, &w); /* the result's rules, the same text */
    fd_jw_close(&w, '}');
    char *data = fd_jw_finish(&w, NULL);
    rc = fd_outbox_write_text(db, j->p->id, "points.earned", earner->id, data, hooks, n, now);
    free(data);
    return rc;
}

/* Purchases and custom events: the earning rules decide. */
static int earn(fd_db *db, event_job *j, fd_member *m, fd_json_writer *out)
{
    const event_input *in = j->in;
    bool purchase = !strcmp(in->type, "purchase");
    int64_t now = fd_now();
    fd_order o = {0};
    fd_member wallet = {0}, *earner;
    int rc = applied_meanwhile(db, j);
    if (!rc) rc = earner_of(db, j->p, m, m->wallet_id, &wallet, &earner);
    if (rc) return rc;
    if (purchase) {
        rc = fd_order_get(db, j->p->id, in->order_id, &o);
        if (rc == FD_OK) {
            rc = job_fail(&j->err, FD_ECONFLICT, "order_exists", "order.id",
                          "order %s was already posted by another event", in->order_id);
            goto done;
        }
        if (rc != FD_ENOTFOUND) goto done;
        rc = FD_OK;
    }
    fd_earning e = {.p = j->p,
                    .rs = j->rs,
                    .cfg = j->cfg,
                    .m = earner,
                    .event = j->body,
                    .type = in->type,
                    .occurred_at = in->occurred_at,
                    .total = in->total,
                    .shipping = in->shipping};
    if (in->award)
        rc = fd_earning_evaluate(db, &e);
    else
        e.base_rate = true, e.tier = -1; /* a backfill without points: nothing to credit */
    if (rc == FD_EOVERFLOW)
        rc = job_fail(&j->err, rc, "out_of_range", "order.total",
                      "the points would leave their range");
    bool pending = purchase && j->p->pending_days > 0;
    fd_posting post = {"earn", NULL, in->id, purchase ? in->order_id : NULL, j->actor, now};
    if (!rc) rc = fd_earning_apply(db, &e, earner, pending, post);
    if (!rc && (in->nps >= 0 || in->satisfaction >= 0))
        rc = fd_db_run(db,
                       "INSERT INTO survey_answers(program_id, member_id, event_id, nps,"
                       " satisfaction, occurred_at) VALUES ($1, $2, $3, $4, $5, $6)",
                       FD_PARAMS(FD_I(j->p->id), FD_I(m->id), FD_S(in->id),
                                 in->nps >= 0 ? FD_I(in->nps) : FD_NULL,
                                 in->satisfaction >= 0 ? FD_I(in->satisfaction) : FD_NULL,
                                 FD_I(in->occurred_at)),
                       NULL);
    fd_date day;
    if (!rc) rc = fd_local_date(j->p, in->occurred_at, &day);
    if (!rc)
        rc = add_stats(db, j, m, earner, fd_date_days(day), purchase ? in->total : 0, purchase,
                       e.points);
    json_t *change = NULL;
    if (!rc) rc = fd_tier_after_event(db, j->p, j->cfg, earner, now, &change);
    if (change) fd_jw_value(out, "tier_change", change);
    json_decref(change);
    if (!rc && purchase) {
        o.member_id = m->id;
        o.wallet_id = earner != m ? earner->id : 0;
        snprintf(o.order_id, sizeof o.order_id, "%s", in->order_id);
        o.total = in->total;
        o.points = e.points;
        o.occurred_at = in->occurred_at;
        rc = fd_order_insert(db, j->p->id, &o, in->channel, in->brand, now);
        if (rc == FD_ECONFLICT) rc = FD_EBUSY; /* raced by another process: retry, then see it */
    }
    json_t *referral = NULL;
    if (!rc && purchase)
        rc = fd_referral_on_purchase(db, j->p, m, in->order_id, in->total, in->occurred_at, now,
                                     &referral);
    if (referral) fd_jw_value(out, "referral", referral);
    json_decref(referral);
    json_t *engaged = NULL;
    fd_engagement_event ev = {in->type, in->id, j->body, in->occurred_at, now};
    if (!rc && in->award) rc = fd_engagement_after_event(db, j->p, j->cfg, m, &ev, &engaged);
    if (engaged) fd_jw_value(out, "engagement", engaged);
    json_decref(engaged);
    if (!rc) {
        if (purchase) fd_jw_string(out, "order_id", in->order_id);
        fd_jw_int(out, "points", e.points);
        fd_jw_string(out, "points_status",
                     e.points == 0 ? "none"
                     : pending     ? "pending"
                                   : "credited");
        if (pending && e.points) fd_jw_time(out, "matures_at", fd_lot_matures_at(j->p, now));
        fd_earning_awards_write(&e, out);
        if (e.points > 0) rc = announce_earned(db, j, earner, &e, pending, now);
        wallet_json(out, m, earner);
    }
    fd_earning_clear(&e);
done:
    fd_member_clear(&wallet);
    return rc;
}

/* Applies a refund of order o of member m, whose points are in earner's
 * ledger (m's own, or their company account's). */
static int refund_order(fd_db *db, event_job *j, fd_order *o, fd_member *m, fd_member *earner,
                        fd_json_writer *out)
{
    const event_input *in = j->in;
    int64_t left = o->total - o->refunded, now = fd_now(), reverse;
    int64_t amount = in->has_amount ? in->amount : left;
    if (left == 0)
        return job_fail(&j->err, FD_ECONFLICT, "already_refunded", "order_id",
                        "order %s is fully refunded", in->order_id);
    if (amount > left) {
        char a[32];
        fd_amount_format(left, j->p->exponent, a, sizeof a);
        return job_fail(&j->err, FD_EINVAL, "refund_exceeds_order", "amount",
                        "at most %s of order %s is left to refund", a, in->order_id);
    }
    int rc = fd_refund_reversal(o->points, o->total, o->refunded, amount, o->reversed,
                                j->p->earn_rounding, &reverse);
    if (rc) return rc;
    fd_reversal plan = {0};
    fd_posting post = {"reverse", "refund", in->id, in->order_id, j->actor, now};
    if (reverse > 0 &&
        (rc = fd_ledger_reverse(db, j->p, earner, reverse, in->order_id, &post, &plan)))
        return rc;
    o->refunded += amount;
    o->reversed += reverse;
    if ((rc = fd_order_save_refund(db, o))) return rc;
    json_t *referral = NULL;
    if ((rc = fd_referral_on_refund(db, j->p, m, in->order_id, o->total - o->refunded, now,
                                    &referral)))
        return rc;
    if (referral) fd_jw_value(out, "referral", referral);
    json_decref(referral);
    fd_date day;
    bool full = o->refunded == o->total;
    if ((rc = fd_local_date(j->p, o->occurred_at, &day))) return rc;
    for (int k = 0; k < (earner == m ? 1 : 2) && !rc; k++) {
        const fd_member *x = k ? earner : m;
        rc = fd_stats_add_day(db, j->p->id, x->id, fd_date_days(day), -amount, full ? -1 : 0,
                              -reverse);
        if (!rc) rc = fd_stats_refund(db, x->id, amount, full);
    }
    if (rc) return rc;
    json_t *msg =
        json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "event_id", in->id, "order_id",
                  in->order_id, "points_reversed", (json_int_t)reverse, "from_pending",
                  (json_int_t)plan.from_pending, "waived", (json_int_t)plan.waived, "balance",
                  (json_int_t)earner->balance, "pending", (json_int_t)earner->pending);
    if (reverse > 0) rc = fd_outbox_emit(db, j->p->id, "points.reversed", earner->id, msg, now);
    json_decref(msg);
    if (rc) return rc;
    json_t *change = NULL;
    if ((rc = fd_tier_after_refund(db, j->p, j->cfg, earner, now, &change))) return rc;
    if (change) fd_jw_value(out, "tier_change", change);
    json_decref(change);
    fd_jw_string(out, "order_id", in->order_id);
    fd_jw_amount(out, "refunded", amount, j->p->exponent);
    fd_jw_amount(out, "order_refunded_total", o->refunded, j->p->exponent);
    fd_jw_bool(out, "fully_refunded", o->refunded == o->total);
    fd_jw_int(out, "points_reversed", reverse);
    fd_jw_int(out, "from_pending", plan.from_pending);
    fd_jw_int(out, "from_balance", plan.from_available);
    fd_jw_int(out, "waived", plan.waived);
    wallet_json(out, m, earner);
    return FD_OK;
}

static int refund(fd_db *db, event_job *j, fd_member *m, fd_json_writer *out)
{
    const event_input *in = j->in;
    fd_order o;
    int rc = fd_order_get(db, j->p->id, in->order_id, &o);
    if (rc == FD_ENOTFOUND) return guest_refund(db, j, out);
    if (rc) return rc;
    if ((rc = fd_member_get(db, j->p->id, o.member_id, m)) ||
        (rc = follow_merges(db, j->p->id, m)) || (rc = lock_reload(db, j->p->id, m)) ||
        (rc = applied_meanwhile(db, j)))
        return rc;
    if ((rc = fd_order_get(db, j->p->id, in->order_id, &o))) return rc; /* fresh, under the lock */
    if (in->member_id || in->external_id) { /* if named, it must be the order's member */
        fd_member named = {0};
        rc = resolve_member(db, j, false, &named);
        int64_t named_id = named.id;
        fd_member_clear(&named);
        if (rc) return rc;
        if (named_id != m->id)
            return job_fail(&j->err, FD_ECONFLICT, "member_mismatch", NULL,
                            "order %s belongs to another member", in->order_id);
    }
    fd_member wallet = {0}, *earner;
    if (!(rc = earner_of(db, j->p, m, o.wallet_id, &wallet, &earner)))
        rc = refund_order(db, j, &o, m, earner, out);
    fd_member_clear(&wallet);
    return rc;
}

static int event_job_run(fd_db *db, void *arg)
{
    event_job *j = arg;
    const event_input *in = j->in;
    char hash[65];
    /* a job may run again (a retry after another process won a race): start clean */
    free(j->result);
    j->result = NULL;
    j->duplicate = false;
    memset(&j->err, 0, sizeof j->err);
    int rc = fd_event_get(db, j->p->id, in->id, hash, &j->result);
    if (rc == FD_OK) {
        if (strcmp(hash, in->hash))
            return job_fail(&j->err, FD_ECONFLICT, "idempotency_conflict", "id",
                            "event id %s was already used with a different body", in->id);
        j->duplicate = true;
        return FD_OK;
    }
    if (rc != FD_ENOTFOUND) return rc;
    fd_member m = {0};
    fd_json_writer out;
    fd_jw_init(&out);
    fd_jw_open(&out, NULL, '{');
    fd_jw_string(&out, "event_id", in->id);
    fd_jw_string(&out, "type", in->type);
    bool is_refund = !strcmp(in->type, "refund");
    /* Budgeted rules are locked before the member, in every process, so that
     * concurrent events queue on the budget instead of deadlocking. */
    rc = is_refund || in->guest ? FD_OK : fd_earning_lock_budgets(db, j->rs, in->type);
    if (!rc && !is_refund && !in->guest) rc = resolve_member(db, j, true, &m);
    if (!rc)
        rc = is_refund   ? refund(db, j, &m, &out)
             : in->guest ? guest_purchase(db, j, &out)
                         : earn(db, j, &m, &out);
    if (!rc) {
        fd_jw_int(&out, "member_id", m.id);
        fd_jw_int(&out, "balance", m.balance);
        fd_jw_int(&out, "pending", m.pending);
        fd_jw_string(&out, "tier", m.tier[0] ? m.tier : NULL);
        fd_jw_time(&out, "occurred_at", in->occurred_at);
        fd_jw_close(&out, '}');
        j->result = fd_jw_finish(&out, NULL); /* replayed as stored */
        rc = fd_event_insert(db, j->p->id, in->id, in->type, m.id, in->hash, j->result, in->channel,
                             in->brand, in->occurred_at, fd_now());
    }
    if (rc == FD_EOVERFLOW && !j->err.code)
        rc = job_fail(&j->err, rc, "out_of_range", NULL, "a balance would leave its range");
    fd_jw_discard(&out);
    fd_member_clear(&m);
    return rc;
}

/* The reply text of a stored result (a compact JSON object) with
 * "duplicate" added as its last member, without parsing it again; inside
 * {"status":N,"result":...} when status is not 0 (an event of a batch).
 * Returns malloc'ed text, its length in *len. */
static char *result_text(const char *result, bool duplicate, int status, size_t *len)
{
    size_t n = strlen(result), cap = n + 64;
    assert(n >= 2 && result[0] == '{' && result[n - 1] == '}');
    char *s = fd_malloc(cap);
    size_t at = status ? (size_t)snprintf(s, cap, "{\"status\":%d,\"result\":", status) : 0;
    memcpy(s + at, result, n - 1);
    at += n - 1;
    at += (size_t)snprintf(s + at, cap - at, "%s\"duplicate\":%s}%s", n > 2 ? "," : "",
                           duplicate ? "true" : "false", status ? "}" : "");
    assert(at < cap);
    *len = at;
    return s;
}

/* A single event between its validation and its reply: it waits in the
 * store without a thread (fd_reply_after_write). */
typedef struct event_post {
    event_input in;
    event_job j;
    fd_ruleset *rs;
    fd_config *cfg;
} event_post;

static void event_post_free(event_post *ep)
{
    fd_ruleset_release(ep->rs);
    fd_config_release(ep->cfg);
    free(ep->j.result);
    free(ep);
}

static int event_post_run(fd_db *db, void *arg)
{
    return event_job_run(db, &((event_post *)arg)->j);
}

/* The reply once the event's write is durable (or refused). */
static void event_posted(fd_req *r, void *arg, int rc)
{
    event_post *ep = arg;
    if (!written_or_reply(r, rc, &ep->j.err)) {
        size_t len;
        char *text = result_text(ep->j.result, ep->j.duplicate, 0, &len);
        fd_metrics_event(ep->in.type, ep->j.duplicate);
        fd_reply_bytes(r, ep->j.duplicate ? 200 : 201, NULL, (unsigned char *)text, len);
    }
    event_post_free(ep);
}

void h_events_post(fd_req *r)
{
    event_post *ep = fd_calloc(1, sizeof *ep);
    if (input_or_reply(r, &ep->in, false)) goto fail;
    int rc = fd_ruleset_get(r->db, r->program.id, r->program.rules_version, &ep->rs);
    if (!rc) rc = fd_config_get(r->db, &r->program, &ep->cfg);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        goto fail;
    }
    ep->j = (event_job){.p = &r->program,
                        .rs = ep->rs,
                        .cfg = ep->cfg,
                        .body = r->body,
                        .in = &ep->in,
                        .actor = r->who.actor};
    fd_reply_after_write(r, event_post_run, ep, event_posted);
    return;
fail:
    event_post_free(ep);
}

void h_event_get(fd_req *r)
{
    char hash[65], *result = NULL;
    int rc = fd_event_get(r->db, r->program.id, r->params[0], hash, &result);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "event_not_found", "no such event", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, json_loads(result, 0, NULL));
    free(result);
}

void h_order_get(fd_req *r)
{
    fd_order o;
    int rc = fd_order_get(r->db, r->program.id, r->params[0], &o);
    if (rc == FD_ENOTFOUND) {
        fd_reply_error(r, 404, "order_not_found", "no such order", NULL);
        return;
    }
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    int e = r->program.exponent;
    fd_reply(r, 200,
             json_pack("{s:s, s:I, s:o, s:o, s:I, s:I, s:o}", "order_id", o.order_id, "member_id",
                       (json_int_t)o.member_id, "total", fd_json_amount(o.total, e), "refunded",
                       fd_json_amount(o.refunded, e), "points", (json_int_t)o.points,
                       "points_reversed", (json_int_t)o.reversed, "occurred_at",
                       fd_json_time(o.occurred_at)));
}

/* A rule set with a draft in it: the draft replaces the rule of its "id",
 * or joins the others. The copy borrows every rule but the draft, which it
 * owns (draft_ruleset_clear). */
typedef struct draft_set {
    fd_ruleset rs;
    fd_rule draft;
} draft_set;

static int draft_or_reply(fd_req *r, const fd_ruleset *rs, draft_set *d)
{
    const json_t *def = json_object_get(r->body, "draft_rule");
    char field[128], msg[160];
    if (fd_rule_parse(def, &d->draft, field, msg)) {
        char f[160];
        snprintf(f, sizeof f, "draft_rule.%s", field);
        fd_reply_error(r, 422, "invalid_rule", msg, f);
        return FD_EINVAL;
    }
    const json_t *id = json_object_get(def, "id");
    d->draft.id = json_is_integer(id) ? json_integer_value(id) : INT64_MAX; /* a new rule */
    d->rs = *rs;
    d->rs.rules = NULL;
    d->rs.sorted = fd_calloc(rs->n + 1, sizeof *d->rs.sorted);
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++)
        if (rs->sorted[i]->id != d->draft.id) d->rs.sorted[n++] = rs->sorted[i];
    d->rs.sorted[n++] = &d->draft;
    d->rs.n = n;
    d->rs.defined = rs->defined + 1;
    d->rs.campaigns = rs->campaigns || d->draft.campaign_id;
    fd_rules_sort(d->rs.sorted, n);
    return FD_OK;
}

static void draft_set_clear(draft_set *d)
{
    free(d->rs.sorted);
    fd_rule_clear(&d->draft);
}

/* POST /v1/simulate: what the event would earn, rule by rule, writing nothing.
 * Reads usage and budgets as they are now, so caps and budgets show. With
 * "draft_rule" (a rule definition, with the "id" of the rule it would
 * replace), the draft takes part as if it were saved and active. */
void h_simulate(fd_req *r)
{
    event_input in;
    if (input_or_reply(r, &in, true)) return;
    fd_member m = {0};
    bool has_member = in.member_id || in.external_id;
    int rc = FD_OK;
    if (has_member) {
        rc = in.member_id
                 ? fd_member_get(r->db, r->program.id, in.member_id, &m)
                 : fd_member_find(r->db, r->program.id, FD_LOOKUP_EXTERNAL_ID, in.external_id, &m);
        if (!rc) rc = follow_merges(r->db, r->program.id, &m);
        if (rc == FD_ENOTFOUND) {
            fd_reply_error(r, 404, "member_not_found", "no such member",
                           in.member_id ? "member_id" : "external_id");
            fd_member_clear(&m);
            return;
        }
    }
    fd_ruleset *rs = NULL;
    fd_config *cfg = NULL;
    draft_set draft = {0};
    bool has_draft = json_object_get(r->body, "draft_rule") != NULL;
    if (!rc) rc = fd_ruleset_get(r->db, r->program.id, r->program.rules_version, &rs);
    if (!rc) rc = fd_config_get(r->db, &r->program, &cfg);
    if (!rc && has_draft && draft_or_reply(r, rs, &draft)) {
        fd_ruleset_release(rs);
        fd_config_release(cfg);
        fd_member_clear(&m);
        return;
    }
    fd_earning e = {.p = &r->program,
                    .rs = has_draft && !rc ? &draft.rs : rs,
                    .cfg = cfg,
                    .m = has_member ? &m : NULL,
                    .event = r->body,
                    .type = in.type,
                    .occurred_at = in.occurred_at,
                    .total = in.total,
                    .shipping = in.shipping,
                    .explain = true};
    if (!rc) rc = fd_earning_evaluate(r->db, &e);
    if (rc) {
        fd_reply_status(r, rc, NULL);
    } else {
        bool pending = !strcmp(in.type, "purchase") && r->program.pending_days > 0;
        json_t *o = json_pack("{s:s, s:I, s:s, s:b, s:I, s:o, s:o}", "type", in.type, "points",
                              (json_int_t)e.points, "points_status",
                              e.points == 0 ? "none"
                              : pending     ? "pending"
                                            : "credited",
                              "base_rate", e.base_rate, "orders_before",
                              (json_int_t)e.orders_before, "occurred_at",
                              fd_json_time(in.occurred_at), "rules", fd_earning_breakdown(&e));
        json_object_set_new(o, "member_id", has_member ? json_integer(m.id) : json_null());
        fd_reply(r, 200, o);
    }
    fd_earning_clear(&e);
    if (has_draft) draft_set_clear(&draft);
    fd_ruleset_release(rs);
    fd_config_release(cfg);
    fd_member_clear(&m);
}

int fd_event_apply_custom(fd_store *s, fd_db *reader, const fd_program *p, int64_t member_id,
                          const char *type, const char *event_id, const json_t *attributes,
                          int64_t *points, bool *duplicate)
{
    json_t *body = json_pack("{s:s, s:s, s:I}", "id", event_id, "type", type, "member_id",
                             (json_int_t)member_id);
    if (attributes) json_object_set(body, "attributes", (json_t *)attributes);
    event_input in = {.id = event_id,
                      .type = type,
                      .member_id = member_id,
                      .occurred_at = fd_now(),
                      .award = true};
    char *canon = json_canonical(body);
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)canon, strlen(canon), NULL, 0);
    sodium_bin2hex(in.hash, sizeof in.hash, h, sizeof h);
    free(canon);
    fd_ruleset *rs = NULL;
    fd_config *cfg = NULL;
    int rc = fd_ruleset_get(reader, p->id, p->rules_version, &rs);
    if (!rc) rc = fd_config_get(reader, p, &cfg);
    event_job j = {.p = p, .rs = rs, .cfg = cfg, .body = body, .in = &in, .actor = "system"};
    if (!rc) rc = fd_store_write_replayable(s, event_job_run, &j);
    if (!rc) {
        json_t *res = json_loads(j.result, 0, NULL);
        *points = json_integer_value(json_object_get(res, "points"));
        *duplicate = j.duplicate;
        json_decref(res);
    }
    free(j.result);
    fd_ruleset_release(rs);
    fd_config_release(cfg);
    json_decref(body);
    return rc;
}

/* ---------- batches (imports) ---------- */

typedef struct batch_item {
    event_input in;
    event_job job;
    int status;    /* refused when parsed: the HTTP status; else -rc of a failed event,
                      0 when applied */
    json_t *error; /* refused when parsed: the error object */
} batch_item;

#define BATCH_CHUNK 1000 /* events per transaction: bounds how long a batch holds the writer */

typedef struct batch_job {
    batch_item *items;
    size_t n;
} batch_job;

/* One event of a batch job; events refused when parsed have their answer. */
static int batch_step(fd_db *db, void *ctx, size_t i)
{
    batch_item *it = &((batch_job *)ctx)->items[i];
    if (it->error) return FD_OK;
    int erc = event_job_run(db, &it->job);
    it->status = erc < 0 ? -erc : 0; /* an error is answered below */
    return erc;
}

/* Every event of the batch in one transaction; one bad event does not undo
 * the others (fd_db_steps: event jobs are replayable, and so is this job).
 * A race with another process (FD_EBUSY) runs the whole batch job again. */
static int batch_job_run(fd_db *db, void *arg)
{
    batch_job *b = arg;
    return fd_db_steps(db, b->n, batch_step, NULL, b, FD_EBUSY, "ev");
}

static json_t *error_json(const char *code, const char *message, const char *field)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_object_set_new(e, "field", field ? json_string(field) : json_null());
    return e;
}

/* The answer of one event of a batch: its status and its JSON text. */
static void answer(batch_item *it, fd_batch_answer *a)
{
    json_t *error = json_incref(it->error);
    a->status = it->status;
    if (!error && it->status) { /* failed in the transaction */
        int frc = -it->status;
        const fd_job_error *e = &it->job.err;
        a->status = fd_http_status(frc);
        error = error_json(e->code ? e->code : "invalid", e->code ? e->message : fd_strerror(frc),
                           e->field);
    }
    if (error) {
        char *text = fd_json_text(error, false);
        size_t cap = strlen(text) + 32;
        a->json = fd_malloc(cap);
        snprintf(a->json, cap, "{\"status\":%d,\"error\":%s}", a->status, text);
        free(text);
        json_decref(error);
    } else {
        size_t len;
        a->status = it->job.duplicate ? 200 : 201;
        a->json = result_text(it->job.result, it->job.duplicate, a->status, &len);
        fd_metrics_event(it->in.type, it->job.duplicate);
    }
}

/* Waits for the queued chunk *t, if any, keeping the first error in *rc. */
static void wait_chunk(fd_store *s, fd_store_ticket **t, int *rc)
{
    int wrc = *t ? fd_store_wait(s, *t) : FD_OK;
    if (!*rc) *rc = wrc;
    *t = NULL;
}

/* Parses and checks events [from, to) of a batch into their items, with the
 * ruleset and configuration they will be applied with. */
static void check_events(fd_db *reader, const fd_program *p, const char *actor,
                         const fd_ruleset *rs, const fd_config *cfg, json_t *const *bodies,
                         batch_item *items, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        fd_req fake = {.body = bodies[i], .program = *p, .db = reader};
        if (!json_is_object(bodies[i])) {
            items[i].status = 400;
            items[i].error = error_json("invalid_json", "each event is a JSON object", NULL);
            continue;
        }
        if (input_or_reply(&fake, &items[i].in, false)) {
            json_t *reply = json_loads(fake.reply, 0, NULL);
            items[i].status = fake.status;
            items[i].error = json_incref(json_object_get(reply, "error"));
            json_decref(reply);
            free(fake.reply);
            continue;
        }
        items[i].job = (event_job){
            .p = p, .rs = rs, .cfg = cfg, .body = bodies[i], .in = &items[i].in, .actor = actor};
    }
}

/* Answers events [from, to), already applied, into out. */
static void answer_events(batch_item *items, size_t from, size_t to, fd_batch_answer *out)
{
    for (size_t i = from; i < to; i++)
        answer(&items[i], &out[i]);
}

int fd_events_batch(fd_store *s, fd_db *reader, const fd_program *p, const char *actor,
                    json_t *const *bodies, size_t n, fd_batch_answer **answers)
{
    fd_ruleset *rs = NULL;
    fd_config *cfg = NULL;
    int rc = fd_ruleset_get(reader, p->id, p->rules_version, &rs);
    if (!rc) rc = fd_config_get(reader, p, &cfg);
    batch_item *items = fd_calloc(n ? n : 1, sizeof *items);
    fd_batch_answer *out = fd_calloc(n ? n : 1, sizeof *out);
    /* Commits of BATCH_CHUNK events, so that a large batch does not hold the writer (and
     * every other request) for seconds; each event is still applied once, in order. A
     * pipeline on two threads: while the writer applies chunk k, this thread checks chunk
     * k + 1 and queues it (so the writer runs it while chunk k's log is synced; other
     * requests' jobs join the groups in between), then answers chunk k - 1. */
    size_t nchunks = (n + BATCH_CHUNK - 1) / BATCH_CHUNK;
    batch_job *chunks = fd_calloc(nchunks ? nchunks : 1, sizeof *chunks);
    fd_store_ticket *previous = NULL, *t; /* previous: queued, not waited for yet */
    for (size_t k = 0; k < nchunks && !rc; k++) {
        size_t at = k * BATCH_CHUNK, end = n - at < BATCH_CHUNK ? n : at + BATCH_CHUNK;
        check_events(reader, p, actor, rs, cfg, bodies, items, at, end);
        chunks[k] = (batch_job){items + at, end - at};
        if ((rc = fd_store_submit_replayable(s, batch_job_run, &chunks[k], &t))) t = NULL;
        wait_chunk(s, &previous, &rc);
        if (!rc && k > 0) answer_events(items, at - BATCH_CHUNK, at, out);
        previous = t;
    }
    wait_chunk(s, &previous, &rc);
    if (!rc && nchunks) answer_events(items, (nchunks - 1) * BATCH_CHUNK, n, out);
    free(chunks);
    for (size_t i = 0; i < n; i++) {
        json_decref(items[i].error);
        free(items[i].job.result);
    }
    free(items);
    fd_ruleset_release(rs);
    fd_config_release(cfg);
    if (rc) {
        fd_batch_answers_free(out, n);
        return rc;
    }
    *answers = out;
    return FD_OK;
}

void fd_batch_answers_free(fd_batch_answer *answers, size_t n)
{
    for (size_t i = 0; answers && i < n; i++)
        free(answers[i].json);
    free(answers);
}

/* POST /v1/events:batch {"events": [...]}: up to 10,000 events, committed
 * BATCH_CHUNK at a time (apply_chunks), each validated, applied and
 * idempotent on its own; the answer lists one result per event, in order. */
void h_events_batch(fd_req *r)
{
    json_t *events = r->body ? json_object_get(r->body, "events") : NULL;
    if (!json_is_array(events) || json_array_size(events) == 0) {
        fd_reply_error(r, 422, "invalid_field", "events is a non-empty array of events", "events");
        return;
    }
    if (json_array_size(events) > FD_BATCH_MAX) {
        fd_reply_error(r, 413, "batch_too_large", "at most 10,000 events per batch", "events");
        return;
    }
    size_t n = json_array_size(events);
    json_t **bodies = fd_malloc(n * sizeof *bodies);
    for (size_t i = 0; i < n; i++)
        bodies[i] = json_array_get(events, i);
    fd_batch_answer *answers;
    int rc = fd_events_batch(r->store, r->db, &r->program, r->who.actor, bodies, n, &answers);
    free(bodies);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    /* the answers are JSON text already: joined, not parsed and written again */
    char *text;
    size_t len;
    FILE *f = fd_memstream(&text, &len);
    fputs("{\"results\":[", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? "," : "", answers[i].json);
    fputs("]}", f);
    fclose(f);
    fd_batch_answers_free(answers, n);
    fd_reply_bytes(r, 200, NULL, (unsigned char *)text, len);
}
