/*
 * earning.c - events against earning rules (earning.h).
 */
#include "store/earning.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/jsonx.h"
#include "core/money.h"
#include "store/context.h"
#include "store/members.h"

static double major(int64_t minor, int exponent)
{
    double d = (double)minor;
    for (int i = 0; i < exponent; i++)
        d /= 10;
    return d;
}

/* Reads the order's lines (validated by the API) and prorates the total. */
static int read_lines(const fd_earning *e, fd_earn_line **out, size_t *n)
{
    const json_t *lines = json_object_get(json_object_get(e->event, "order"), "lines");
    size_t count = json_array_size(lines);
    fd_earn_line *v = fd_calloc(count ? count : 1, sizeof *v);
    for (size_t i = 0; i < count; i++) {
        const json_t *l = json_array_get(lines, i);
        int64_t price = 0;
        v[i].sku = json_string_value(json_object_get(l, "sku"));
        v[i].category = json_string_value(json_object_get(l, "category"));
        v[i].quantity = json_integer_value(json_object_get(l, "quantity"));
        if (fd_amount_from_json(json_object_get(l, "unit_price"), e->p->exponent, &price) ||
            fd_mul_i64(price, v[i].quantity, &v[i].gross)) {
            free(v);
            return FD_EOVERFLOW;
        }
    }
    fd_prorate_lines(v, count, e->total);
    *out = v;
    *n = count;
    return FD_OK;
}

/* The order, with its lines when asked (they are the costly part). */
static json_t *order_context(const fd_earning *e, const fd_earn_line *lines, size_t n,
                             bool with_lines)
{
    const json_t *order = json_object_get(e->event, "order");
    int x = e->p->exponent;
    json_t *jl = with_lines ? json_array() : NULL;
    int64_t items = 0;
    for (size_t i = 0; i < n; i++) {
        items += lines[i].quantity;
        if (!with_lines) continue;
        json_t *l = json_pack("{s:s, s:I, s:f, s:f, s:f}", "sku", lines[i].sku, "quantity",
                              (json_int_t)lines[i].quantity, "unit_price",
                              major(lines[i].gross, x) / (double)lines[i].quantity, "amount",
                              major(lines[i].gross, x), "paid", major(lines[i].paid, x));
        json_object_set_new(l, "category",
                            lines[i].category ? json_string(lines[i].category) : json_null());
        json_array_append_new(jl, l);
    }
    json_t *o = json_object();
    fd_json_put(o, "id", json_incref(json_object_get(order, "id")));
    fd_json_put(o, "total", json_real(major(e->total, x)));
    fd_json_put(o, "shipping", json_real(major(e->shipping, x)));
    fd_json_put(o, "currency", json_string(e->p->currency));
    if (jl) fd_json_put(o, "lines", jl);
    fd_json_put(o, "line_count", json_integer((json_int_t)n));
    fd_json_put(o, "item_count", json_integer(items));
    return o;
}

/* The data the rules' conditions see: only the parts one of them may read,
 * and the segments for campaign audiences; everything for a simulation,
 * whose explanation may show any of it. */
static int context(fd_db *db, const fd_earning *e, const fd_local *lt, const fd_earn_line *lines,
                   size_t n, json_t **out, int *tier)
{
    unsigned parts =
        e->explain ? FD_CTX_ALL : e->rs->reads | (e->rs->campaigns ? FD_CTX_SEGMENTS : 0);
    json_t *member;
    int rc = fd_member_context(db, e->p, e->cfg, e->m, lt, e->occurred_at, parts, &member, tier);
    if (rc) return rc;
    json_t *event = json_object(), *c = json_object();
    fd_json_put(event, "id", json_incref(json_object_get(e->event, "id")));
    fd_json_put(event, "type", json_string(e->type));
    fd_json_put(event, "channel", json_incref(json_object_get(e->event, "channel")));
    fd_json_put(event, "brand", json_incref(json_object_get(e->event, "brand")));
    fd_json_put(event, "occurred_at", json_integer(e->occurred_at));
    fd_json_put(event, "attributes", json_incref(json_object_get(e->event, "attributes")));
    fd_json_put(c, "event", event);
    fd_json_put(c, "member", member);
    if (parts & FD_CTX_TIME) fd_json_put(c, "time", fd_time_context(lt));
    if (!strcmp(e->type, "purchase"))
        json_object_set_new(c, "order", order_context(e, lines, n, parts & FD_CTX_LINES));
    *out = c;
    return FD_OK;
}

/* Loads the usage of each rule the event can fire (its trigger is the
 * event's type: the others are refused before their limits are looked at)
 * for its limits in the periods of the event's local date. */
static int load_usage(fd_db *db, fd_earning *e, const fd_local *lt, fd_rule_usage *usage)
{
    for (size_t i = 0; i < e->rs->n; i++) {
        const fd_rule *r = e->rs->sorted[i];
        int64_t ignored, rc = FD_OK;
        if (strcmp(r->trigger, e->type)) continue;
        /* keys only for the limits a rule has: most rules have none (a key is a snprintf) */
        if (r->member_points_max)
            fd_period_key(r->member_points_period, lt->year, lt->month, lt->day,
                          e->points_period[i]);
        if (r->member_triggers_max)
            fd_period_key(r->member_triggers_period, lt->year, lt->month, lt->day,
                          e->triggers_period[i]);
        if (e->m && r->member_points_max)
            rc = fd_rule_usage_get(db, r->id, e->m->id, e->points_period[i],
                                   &usage[i].member_points, &ignored);
        if (!rc && e->m && r->member_triggers_max)
            rc = fd_rule_usage_get(db, r->id, e->m->id, e->triggers_period[i], &ignored,
                                   &usage[i].member_triggers);
        if (!rc && r->budget_points) rc = fd_rule_budget_used(db, r->id, &usage[i].budget_used);
        if (rc) return (int)rc;
    }
    return FD_OK;
}

int fd_earning_lock_budgets(fd_db *db, const fd_ruleset *rs, const char *type)
{
    if (!fd_db_shared(db)) return FD_OK; /* one writer: nothing to wait for */
    for (size_t i = 0; i < rs->n; i++) {
        const fd_rule *r = &rs->rules[i]; /* id order: every process locks alike */
        if (!r->budget_points || strcmp(r->trigger, type)) continue;
        int rc = fd_rule_lock_total(db, r->id);
        if (rc) return rc;
    }
    return FD_OK;
}

/* The campaigns whose earning rules may award now for the event's member:
 * switched on, inside their schedule, the member in their audience. */
static int64_t *open_campaigns(const fd_earning *e, const json_t *data, const fd_local *lt,
                               size_t *n)
{
    const fd_config *cfg = e->cfg;
    const json_t *member = json_object_get(data, "member");
    int64_t *open = fd_calloc(cfg->ncampaigns + 1, sizeof *open);
    jl_env env = {e->occurred_at, lt->weekday, lt->hour, lt->utc_offset_s};
    fd_promo_facts f = {.has_member = e->m != NULL,
                        .tier = json_string_value(json_object_get(member, "tier")),
                        .segments = json_object_get(member, "segments"),
                        .orders = e->orders_before,
                        .birth_month =
                            e->m ? (int)(fd_member_birthday_md(e->m->attributes) / 100) : 0,
                        .month = lt->month,
                        .local_minute = lt->hour * 60 + lt->minute,
                        .data = data,
                        .env = &env,
                        .ctx = fd_thread_jl_ctx()};
    *n = 0;
    for (size_t i = 0; i < cfg->ncampaigns; i++) {
        fd_refusal why;
        const fd_campaign *c = &cfg->campaigns[i];
        if (c->active && fd_promo_check_audience(&c->promo, &f, &why) == FD_OK)
            open[(*n)++] = c->id;
    }
    return open;
}

int fd_earning_evaluate(fd_db *db, fd_earning *e)
{
    bool purchase = !strcmp(e->type, "purchase");
    size_t n = e->rs->n;
    e->outcomes = fd_calloc(n ? n : 1, sizeof *e->outcomes);
    if (e->explain) e->details = fd_calloc(n ? n : 1, sizeof *e->details);
    e->points_period = fd_calloc(n ? n : 1, sizeof *e->points_period);
    e->triggers_period = fd_calloc(n ? n : 1, sizeof *e->triggers_period);
    e->tier = -1;
    if (e->rs->defined == 0) { /* no rules yet: the program's base rate on purchases */
        e->base_rate = true;
        return purchase ? fd_points_for_amount(e->total, e->p->exponent, e->p->earn_rate_milli,
                                               e->p->earn_rounding, &e->points)
                        : FD_OK;
    }
    fd_local lt;
    int rc = fd_localtime(e->p->timezone, e->occurred_at, &lt);
    if (rc) return rc;
    fd_earn_line *lines = NULL;
    size_t nlines = 0;
    fd_rule_usage *usage = fd_calloc(n ? n : 1, sizeof *usage);
    rc = purchase ? read_lines(e, &lines, &nlines) : FD_OK;
    if (!rc) rc = load_usage(db, e, &lt, usage);
    json_t *data = NULL;
    int tier = -1;
    if (!rc) rc = context(db, e, &lt, lines, nlines, &data, &tier);
    e->tier = tier;
    if (!rc && purchase) /* the count the conditions see: the member's totals row */
        e->orders_before =
            json_integer_value(json_object_get(json_object_get(data, "member"), "orders_before"));
    if (!rc) {
        const fd_tier *t = tier >= 0 ? &e->cfg->tiers.tiers[tier] : NULL;
        fd_earn_input in = {.type = e->type,
                            .now = e->occurred_at,
                            .local_minute = lt.hour * 60 + lt.minute,
                            .env = {e->occurred_at, lt.weekday, lt.hour, lt.utc_offset_s},
                            .data = data,
                            .exponent = e->p->exponent,
                            .total = e->total,
                            .shipping = e->shipping,
                            .lines = lines,
                            .nlines = nlines,
                            .tier = t ? t->name : NULL,
                            .tier_rate_milli = t ? t->rate_milli : 0,
                            .tier_factor_milli = t ? t->factor_milli : 0,
                            .order_count = e->orders_before + 1,
                            .explain = e->explain,
                            .details = e->details};
        int64_t *open = e->rs->campaigns ? open_campaigns(e, data, &lt, &in.nopen_campaigns) : NULL;
        in.open_campaigns = open;
        rc = fd_rules_evaluate(e->rs->sorted, n, &in, usage, fd_thread_jl_ctx(), e->outcomes,
                               &e->points);
        free(open);
        json_decref(data);
    }
    free(usage);
    free(lines);
    return rc;
}

static int count_usage(fd_db *db, const fd_earning *e, size_t i, int64_t member_id, int64_t points)
{
    const fd_rule *r = e->rs->sorted[i];
    int rc = FD_OK;
    if (r->member_points_max)
        rc = fd_rule_usage_add(db, e->p->id, r->id, member_id, e->points_period[i], points, 1);
    if (!rc && r->member_triggers_max &&
        (!r->member_points_max || strcmp(e->points_period[i], e->triggers_period[i])))
        rc = fd_rule_usage_add(db, e->p->id, r->id, member_id, e->triggers_period[i], points, 1);
    return rc;
}

/* Room for an earning entry's reason: the names of the rules that awarded. */
#define ENTRY_REASON_MAX 256

/* The reason of e's journal entry, in out: the names of the `awarded` rules
 * that awarded, in evaluation order ("base, tier rates, happy hour"), the
 * last ones counted when they do not fit ("base, tier rates and 7 more").
 * Built with memcpy: snprintf per name cost as much as a rule's share of the
 * entry. */
static void entry_reason(const fd_earning *e, size_t awarded, char out[ENTRY_REASON_MAX])
{
    size_t used = 0, named = 0;
    for (size_t i = 0; i < e->rs->n && named < awarded; i++) {
        const fd_rule_outcome *o = &e->outcomes[i];
        if (o->points <= 0) continue;
        size_t sep = named ? 2 : 0, len = strlen(o->rule->name);
        size_t tail = named + 1 < awarded ? 24 : 0; /* " and N more", while rules remain */
        if (used + sep + len + tail >= ENTRY_REASON_MAX) break;
        memcpy(out + used, ", ", sep);
        memcpy(out + used + sep, o->rule->name, len);
        used += sep + len;
        named++;
    }
    out[used] = '\0';
    if (named < awarded)
        snprintf(out + used, ENTRY_REASON_MAX - used, " and %zu more", awarded - named);
}

int fd_earning_apply(fd_db *db, fd_earning *e, fd_member *m, bool pending, fd_posting post)
{
    /* A tier's longer expiry (benefit expiry_days) applies to the points it earns. */
    fd_program p = *e->p;
    if (!e->base_rate && e->tier >= 0 && e->cfg->tiers.tiers[e->tier].expiry_days)
        p.expiry_days = e->cfg->tiers.tiers[e->tier].expiry_days;
    if (e->base_rate) {
        post.reason = "program base rate";
        return e->points ? fd_ledger_credit(db, &p, m, e->points, pending, &post, NULL) : FD_OK;
    }
    /* One lot and one journal entry for the event, which names each rule's
     * share (the breakdown's awarding rules). */
    size_t n = 0;
    fd_rule_part *parts = fd_calloc(e->rs->n + 1, sizeof *parts);
    int rc = FD_OK;
    for (size_t i = 0; i < e->rs->n && !rc; i++) {
        const fd_rule_outcome *o = &e->outcomes[i];
        if (o->points <= 0) continue;
        parts[n++] = (fd_rule_part){o->rule->id, o->rule->version, o->points};
        rc = count_usage(db, e, i, m->id, o->points);
    }
    char reason[ENTRY_REASON_MAX];
    entry_reason(e, n, reason);
    post.reason = reason;
    if (!rc && n) rc = fd_rule_award(db, e->p->id, parts, n);
    if (!rc && n) rc = fd_ledger_credit_rules(db, &p, m, parts, n, pending, &post, NULL);
    free(parts);
    return rc;
}

/* The rules of an evaluation under key: those that awarded points, or with
 * everything every rule with fired, reason and detail (a simulation); the
 * base rate's one entry instead when it applied. */
static void write_rules(const fd_earning *e, fd_json_writer *w, const char *key, bool everything)
{
    fd_jw_open(w, key, '[');
    if (e->base_rate && (e->points || everything)) {
        fd_jw_open(w, NULL, '{');
        fd_jw_string(w, "rule_id", NULL);
        fd_jw_string(w, "name", "program base rate");
        fd_jw_int(w, "points", e->points);
        fd_jw_bool(w, "fired", e->points > 0);
        fd_jw_string(w, "reason", e->points ? "awarded" : "zero_points");
        fd_jw_close(w, '}');
    }
    for (size_t i = 0; !e->base_rate && i < e->rs->n; i++) {
        const fd_rule_outcome *o = &e->outcomes[i];
        if (!everything && o->points <= 0) continue;
        fd_jw_open(w, NULL, '{');
        fd_jw_int(w, "rule_id", o->rule->id);
        fd_jw_int(w, "version", o->rule->version);
        fd_jw_string(w, "name", o->rule->name);
        fd_jw_int(w, "points", o->points);
        if (everything) {
            fd_jw_bool(w, "fired", o->fired);
            fd_jw_string(w, "reason", o->reason ? o->reason : "awarded");
            fd_jw_string(w, "detail", o->detail ? o->detail : "");
        }
        fd_jw_close(w, '}');
    }
    fd_jw_close(w, ']');
}

json_t *fd_earning_breakdown(const fd_earning *e)
{
    fd_json_writer w;
    fd_jw_init_tree(&w);
    write_rules(e, &w, NULL, true);
    return fd_jw_finish_tree(&w);
}

void fd_earning_awards_write(const fd_earning *e, fd_json_writer *w)
{
    write_rules(e, w, "rules", false);
}

void fd_earning_clear(fd_earning *e)
{
    free(e->outcomes);
    free(e->details);
    free(e->points_period);
    free(e->triggers_period);
    e->outcomes = NULL;
    e->details = NULL;
    e->points_period = e->triggers_period = NULL;
}
