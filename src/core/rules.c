/*
 * rules.c - earning-rule definitions and their evaluation (rules.h).
 */
#include "core/rules.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/calendar.h"
#include "core/perr.h"

/* ---------- parsing ---------- */

typedef fd_perr perr;

static int bad(perr *e, const char *field, const char *msg)
{
    return fd_perr_set(e, field, msg);
}

/* A decimal with up to 3 places as thousandths: "1.5", 2, 1.25. */
static int parse_milli(const json_t *v, int64_t *out)
{
    char buf[64];
    if (json_is_string(v))
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.3f", json_real_value(v));
    else
        return FD_EINVAL;
    if (json_is_real(v) && (double)strtod(buf, NULL) != json_real_value(v)) return FD_EINVAL;
    /* "%.3f" pads: strip trailing zeros so "1.500" parses with 3 decimals anyway */
    return fd_amount_parse(buf, 3, out);
}

static int parse_names(const json_t *v, fd_name_list *out, const char *field, perr *e)
{
    if (fd_names_parse(v, out))
        return bad(e, field, "must be an array of at most 100 non-empty strings");
    return FD_OK;
}

static int parse_period(const json_t *v, fd_period *out)
{
    static const char *const NAMES[] = {"day", "week", "month", "year", "lifetime"};
    const char *s = json_string_value(v);
    if (!v) {
        *out = FD_PERIOD_LIFETIME;
        return FD_OK;
    }
    for (int i = 0; s && i < 5; i++) {
        if (!strcmp(s, NAMES[i])) {
            *out = (fd_period)i;
            return FD_OK;
        }
    }
    return FD_EINVAL;
}

const char *fd_period_name(fd_period p)
{
    static const char *const NAMES[] = {"day", "week", "month", "year", "lifetime"};
    return NAMES[p];
}

static int parse_effect(const json_t *eff, fd_rule *r, perr *e)
{
    if (!json_is_object(eff)) return bad(e, "effect", "effect is required: an object with a type");
    const char *type = json_string_value(json_object_get(eff, "type"));
    const json_t *rounding = json_object_get(eff, "rounding");
    r->rounding = FD_ROUND_FLOOR;
    if (rounding && fd_rounding_parse(json_string_value(rounding), &r->rounding))
        return bad(e, "effect.rounding", "rounding must be floor, round or ceil");
    if (type && !strcmp(type, "per_amount")) {
        r->effect = FD_EFFECT_PER_AMOUNT;
        if (parse_milli(json_object_get(eff, "rate"), &r->rate_milli) || r->rate_milli > 1000000000)
            return bad(e, "effect.rate", "rate must be points per currency unit, up to 3 decimals");
        const char *per = json_string_value(json_object_get(eff, "per"));
        if (json_object_get(eff, "per") && (!per || (strcmp(per, "order") && strcmp(per, "line"))))
            return bad(e, "effect.per", "per must be order or line");
        r->per_line = per && !strcmp(per, "line");
        const json_t *from_tier = json_object_get(eff, "rate_from_tier");
        if (from_tier && !json_is_boolean(from_tier))
            return bad(e, "effect.rate_from_tier", "rate_from_tier must be true or false");
        r->rate_from_tier = json_is_true(from_tier);
        const json_t *tiers = json_object_get(eff, "tier_rates");
        if (tiers && (!json_is_object(tiers) || json_object_size(tiers) > FD_RULE_TIERS_MAX))
            return bad(e, "effect.tier_rates",
                       "tier_rates must map at most 16 tier names to rates");
        const char *name;
        json_t *rate;
        json_object_foreach((json_t *)tiers, name, rate)
        {
            fd_tier_rate *t = &r->tier_rates[r->ntier_rates++];
            snprintf(t->tier, sizeof t->tier, "%s", name);
            if (strlen(name) >= sizeof t->tier || parse_milli(rate, &t->rate_milli))
                return bad(e, "effect.tier_rates", "each tier rate must be a decimal rate");
        }
    } else if (type && (!strcmp(type, "fixed") || !strcmp(type, "nth_order"))) {
        r->effect = !strcmp(type, "fixed") ? FD_EFFECT_FIXED : FD_EFFECT_NTH_ORDER;
        const json_t *p = json_object_get(eff, "points");
        if (!json_is_integer(p) || json_integer_value(p) < 1 ||
            json_integer_value(p) > FD_POINTS_MAX)
            return bad(e, "effect.points", "points must be a positive integer");
        r->points = json_integer_value(p);
        if (r->effect == FD_EFFECT_NTH_ORDER) {
            const json_t *nth = json_object_get(eff, "n");
            if (!json_is_integer(nth) || json_integer_value(nth) < 1 ||
                json_integer_value(nth) > 1000000)
                return bad(e, "effect.n", "n must be the order number, 1 or more");
            r->nth = json_integer_value(nth);
        }
    } else if (type && !strcmp(type, "multiplier")) {
        r->effect = FD_EFFECT_MULTIPLIER;
        const json_t *from_tier = json_object_get(eff, "factor_from_tier");
        if (from_tier && !json_is_boolean(from_tier))
            return bad(e, "effect.factor_from_tier", "factor_from_tier must be true or false");
        r->factor_from_tier = json_is_true(from_tier);
        if (r->factor_from_tier && !json_object_get(eff, "factor"))
            r->factor_milli = 1000;
        else if (parse_milli(json_object_get(eff, "factor"), &r->factor_milli) ||
                 r->factor_milli < 1000 || r->factor_milli > 100000)
            return bad(e, "effect.factor", "factor must be a decimal from 1 to 100");
        const char *stacking = json_string_value(json_object_get(eff, "stacking"));
        if (json_object_get(eff, "stacking") &&
            (!stacking || (strcmp(stacking, "stack") && strcmp(stacking, "best"))))
            return bad(e, "effect.stacking", "stacking must be stack or best");
        r->best_wins = stacking && !strcmp(stacking, "best");
    } else {
        return bad(e, "effect.type", "type must be per_amount, fixed, multiplier or nth_order");
    }
    return FD_OK;
}

static int parse_schedule(const json_t *v, fd_rule *r, perr *e)
{
    return fd_schedule_parse(v, "schedule", &r->schedule, e->field, e->msg);
}

static int parse_limit(const json_t *l, const char *field, int64_t *max, fd_period *period, perr *e)
{
    if (!l || json_is_null(l)) return FD_OK;
    const json_t *m = json_object_get(l, "max");
    if (!json_is_object(l) || !json_is_integer(m) || json_integer_value(m) < 1 ||
        json_integer_value(m) > FD_POINTS_MAX)
        return bad(e, field,
                   "must be {\"max\": positive integer, \"period\": day|week|month|year|lifetime}");
    if (parse_period(json_object_get(l, "period"), period))
        return bad(e, field, "period must be day, week, month, year or lifetime");
    *max = json_integer_value(m);
    return FD_OK;
}

static int parse_limits(const json_t *l, fd_rule *r, perr *e)
{
    if (!l || json_is_null(l)) return FD_OK;
    if (!json_is_object(l)) return bad(e, "limits", "limits must be an object");
    int rc = parse_limit(json_object_get(l, "member_points"), "limits.member_points",
                         &r->member_points_max, &r->member_points_period, e);
    if (!rc)
        rc = parse_limit(json_object_get(l, "member_triggers"), "limits.member_triggers",
                         &r->member_triggers_max, &r->member_triggers_period, e);
    if (rc) return rc;
    const json_t *b = json_object_get(l, "budget_points");
    if (b &&
        (!json_is_integer(b) || json_integer_value(b) < 1 || json_integer_value(b) > FD_POINTS_MAX))
        return bad(e, "limits.budget_points", "budget_points must be a positive integer");
    r->budget_points = b ? json_integer_value(b) : 0;
    const char *mode = json_string_value(json_object_get(l, "budget_mode"));
    if (json_object_get(l, "budget_mode") &&
        (!mode || (strcmp(mode, "refuse") && strcmp(mode, "partial"))))
        return bad(e, "limits.budget_mode", "budget_mode must be refuse or partial");
    r->budget_partial = mode && !strcmp(mode, "partial");
    return FD_OK;
}

static int parse_base(const json_t *v, fd_rule *r, perr *e)
{
    const char *s = json_string_value(v);
    r->base = FD_BASE_PAID;
    if (!v) return FD_OK;
    if (s && !strcmp(s, "paid"))
        r->base = FD_BASE_PAID;
    else if (s && !strcmp(s, "gross"))
        r->base = FD_BASE_GROSS;
    else if (s && !strcmp(s, "paid_with_shipping"))
        r->base = FD_BASE_PAID_WITH_SHIPPING;
    else
        return bad(e, "base", "base must be paid, gross or paid_with_shipping");
    return FD_OK;
}

static int parse_filters(const json_t *def, fd_rule *r, perr *e)
{
    const json_t *lines = json_object_get(def, "lines"), *excl = json_object_get(def, "exclude");
    if (lines && !json_is_object(lines)) return bad(e, "lines", "lines must be an object");
    if (excl && !json_is_object(excl)) return bad(e, "exclude", "exclude must be an object");
    int rc = parse_names(json_object_get(lines, "skus"), &r->skus, "lines.skus", e);
    if (!rc)
        rc = parse_names(json_object_get(lines, "categories"), &r->categories, "lines.categories",
                         e);
    if (!rc) rc = parse_names(json_object_get(excl, "skus"), &r->exclude_skus, "exclude.skus", e);
    if (!rc)
        rc = parse_names(json_object_get(excl, "categories"), &r->exclude_categories,
                         "exclude.categories", e);
    return rc;
}

int fd_rule_parse(const json_t *def, fd_rule *r, char field[128], char msg[160])
{
    perr e = {field, msg};
    memset(r, 0, sizeof *r);
    fd_schedule_open(&r->schedule);
    if (!json_is_object(def)) return bad(&e, "", "a rule is a JSON object");
    const json_t *name = json_object_get(def, "name"), *trigger = json_object_get(def, "trigger");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof r->name)
        return bad(&e, "name", "name is required (at most 127 bytes)");
    snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
    const char *t = json_string_value(trigger);
    bool ok = t && *t && strlen(t) < sizeof r->trigger && t[0] >= 'a' && t[0] <= 'z';
    for (const char *p = t; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("_.-", *p);
    if (!ok || !strcmp(t, "refund"))
        return bad(&e, "trigger", "trigger must be purchase or a custom event type (not refund)");
    snprintf(r->trigger, sizeof r->trigger, "%s", t);
    const json_t *prio = json_object_get(def, "priority"),
                 *excl = json_object_get(def, "exclusive");
    if (prio && (!json_is_integer(prio) || json_integer_value(prio) < -1000000 ||
                 json_integer_value(prio) > 1000000))
        return bad(&e, "priority", "priority must be an integer");
    r->priority = prio ? (int)json_integer_value(prio) : 0;
    if (excl && !json_is_boolean(excl))
        return bad(&e, "exclusive", "exclusive must be true or false");
    r->exclusive = json_is_true(excl);
    const json_t *camp = json_object_get(def, "campaign_id");
    if (camp && (!json_is_integer(camp) || json_integer_value(camp) < 1))
        return bad(&e, "campaign_id", "campaign_id is a campaign's id");
    r->campaign_id = camp ? json_integer_value(camp) : 0;
    int rc = parse_effect(json_object_get(def, "effect"), r, &e);
    if (!rc) rc = parse_base(json_object_get(def, "base"), r, &e);
    if (!rc) rc = parse_filters(def, r, &e);
    if (!rc) rc = parse_schedule(json_object_get(def, "schedule"), r, &e);
    if (!rc) rc = parse_limits(json_object_get(def, "limits"), r, &e);
    const json_t *cond = json_object_get(def, "condition");
    if (!rc && cond && !json_is_null(cond))
        rc = fd_perr_compile(&e, "condition", cond, &r->condition);
    if (rc) fd_rule_clear(r);
    return rc;
}

void fd_rule_clear(fd_rule *r)
{
    jl_free(r->condition);
    r->condition = NULL;
    fd_names_clear(&r->skus);
    fd_names_clear(&r->categories);
    fd_names_clear(&r->exclude_skus);
    fd_names_clear(&r->exclude_categories);
}

/* ---------- evaluation ---------- */

static int cmp_rule(const void *a, const void *b)
{
    const fd_rule *x = *(const fd_rule *const *)a, *y = *(const fd_rule *const *)b;
    if (x->priority != y->priority) return x->priority > y->priority ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

void fd_rules_sort(const fd_rule **rules, size_t n)
{
    if (n > 1) qsort(rules, n, sizeof *rules, cmp_rule);
}

void fd_prorate_lines(fd_earn_line *lines, size_t n, int64_t total)
{
    int64_t gross = 0;
    for (size_t i = 0; i < n; i++)
        gross += lines[i].gross;
    if (n == 0) return;
    if (gross <= 0) { /* nothing to weigh by: the first line carries the total */
        for (size_t i = 0; i < n; i++)
            lines[i].paid = i == 0 ? total : 0;
        return;
    }
    int64_t given = 0;
    for (size_t i = 0; i < n; i++) {
        lines[i].paid = (int64_t)((__int128)lines[i].gross * total / gross);
        given += lines[i].paid;
    }
    /* fewer than n minor units are left: one each to the largest remainders,
     * the earlier line first on ties */
    bool *served = fd_calloc(n, sizeof *served);
    for (; given < total; given++) {
        size_t best = 0;
        __int128 best_rem = -1;
        for (size_t i = 0; i < n; i++) {
            __int128 rem = (__int128)lines[i].gross * total % gross;
            if (!served[i] && rem > best_rem) best_rem = rem, best = i;
        }
        served[best] = true;
        lines[best].paid++;
    }
    free(served);
}

static bool line_counts(const fd_rule *r, const fd_earn_line *l)
{
    if (r->skus.n && !fd_names_has(&r->skus, l->sku)) return false;
    if (r->categories.n && !fd_names_has(&r->categories, l->category)) return false;
    if (r->exclude_skus.n && fd_names_has(&r->exclude_skus, l->sku)) return false;
    return !r->exclude_categories.n || !fd_names_has(&r->exclude_categories, l->category);
}

static int64_t rule_rate(const fd_rule *r, const fd_earn_input *in)
{
    const char *tier = in->tier;
    if (r->rate_from_tier && in->tier_rate_milli) return in->tier_rate_milli;
    for (int i = 0; tier && i < r->ntier_rates; i++)
        if (!strcmp(r->tier_rates[i].tier, tier)) return r->tier_rates[i].rate_milli;
    return r->rate_milli;
}

/* The bits (fd_name_bit) of the order's SKUs and of its categories, taken
 * once LINE_BITS_AFTER rules that list either have compared names (a few
 * comparisons cost less than the bits of ten lines). */
#define LINE_BITS_AFTER 4
typedef struct line_bits {
    int asked; /* rules with lists so far */
    bool known;
    uint64_t skus, categories;
} line_bits;

static const line_bits *line_bits_of(const fd_earn_input *in, line_bits *b)
{
    for (size_t i = 0; !b->known && i < in->nlines; i++) {
        b->skus |= fd_name_bit(in->lines[i].sku);
        b->categories |= fd_name_bit(in->lines[i].category);
    }
    b->known = true;
    return b;
}

/* False when no line of the order can be on the rule's lists: a program's
 * promotions of other products cost no comparison of names. */
static bool some_line_listed(const fd_rule *r, const fd_earn_input *in, line_bits *bits)
{
    if (!r->skus.n && !r->categories.n) return true;
    if (++bits->asked <= LINE_BITS_AFTER) return true; /* the names will tell */
    if (r->skus.n && !(r->skus.mask & line_bits_of(in, bits)->skus)) return false;
    return !r->categories.n || (r->categories.mask & line_bits_of(in, bits)->categories);
}

/* Points of a per_amount rule: 0 when no line counts. */
static int per_amount(const fd_rule *r, const fd_earn_input *in, line_bits *bits, int64_t *points)
{
    int64_t rate = rule_rate(r, in), amount = 0, sum = 0, p;
    bool filtered = r->skus.n || r->categories.n || r->exclude_skus.n || r->exclude_categories.n;
    int rc;
    if (in->nlines == 0) {
        if (filtered && (r->skus.n || r->categories.n)) {
            *points = 0;
            return FD_OK;
        }
        amount = in->total; /* without lines, gross and paid are the order total */
    } else if (some_line_listed(r, in, bits)) {
        for (size_t i = 0; i < in->nlines; i++) {
            const fd_earn_line *l = &in->lines[i];
            if (!line_counts(r, l)) continue;
            int64_t a = r->base == FD_BASE_GROSS ? l->gross : l->paid;
            if (r->per_line) {
                if ((rc = fd_points_for_amount(a, in->exponent, rate, r->rounding, &p))) return rc;
                if (fd_add_i64(sum, p, &sum)) return FD_EOVERFLOW;
            } else if (fd_add_i64(amount, a, &amount)) {
                return FD_EOVERFLOW;
            }
        }
    }
    if (r->base == FD_BASE_PAID_WITH_SHIPPING && fd_add_i64(amount, in->shipping, &amount))
        return FD_EOVERFLOW;
    if (amount == 0) { /* no line counted: the common case of a product's promotion */
        *points = sum;
        return FD_OK;
    }
    if ((rc = fd_points_for_amount(amount, in->exponent, rate, r->rounding, &p))) return rc;
    if (fd_add_i64(sum, p, &sum)) return FD_EOVERFLOW;
    *points = sum;
    return FD_OK;
}

/* Records why the rule did what it did; the human text only when explain
 * (a simulation shows it; an event stores only the reason). */
/* s, of n bytes (a UTF-8 text cut there), without the character the cut
 * split: a detail cut inside a name's letter would not be text at all. */
static void cut_to_whole_char(char *s, size_t n)
{
    size_t i = n, tail = 0;
    while (i > 0 && tail < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--, tail++;                                         /* continuation bytes at the end */
    if (i == 0 || !((unsigned char)s[i - 1] & 0x80)) return; /* ends on ASCII */
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1; /* continuation bytes it takes */
    if (tail < need) s[i - 1] = 0;
}

__attribute__((format(printf, 4, 5))) static void say(fd_rule_outcome *o, bool explain,
                                                      const char *reason, const char *fmt, ...)
{
    o->reason = reason;
    if (!explain) return;
    assert(o->detail);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->detail, FD_RULE_DETAIL_MAX, fmt, ap);
    va_end(ap);
    if (n >= FD_RULE_DETAIL_MAX) cut_to_whole_char(o->detail, FD_RULE_DETAIL_MAX - 1);
}

/* Trigger, dates, days, hours and condition; true when the rule applies. */
static bool campaign_open(const fd_earn_input *in, int64_t id)
{
    for (size_t i = 0; i < in->nopen_campaigns; i++)
        if (in->open_campaigns[i] == id) return true;
    return false;
}

static bool applies(const fd_rule *r, const fd_earn_input *in, jl_ctx *jc, fd_rule_outcome *o)
{
    if (r->trigger[0] != in->type[0] || strcmp(r->trigger, in->type)) { /* most differ there */
        say(o, in->explain, "other_trigger", "fires on %s events", r->trigger);
        return false;
    }
    if (r->campaign_id && !campaign_open(in, r->campaign_id)) {
        say(o, in->explain, "campaign_off",
            "its campaign %lld is off, outside its period or audience", (long long)r->campaign_id);
        return false;
    }
    switch (fd_schedule_check(&r->schedule, in->now, in->env.weekday, in->local_minute)) {
    case FD_SCHEDULE_OPEN:
        break;
    case FD_SCHEDULE_NOT_STARTED:
    case FD_SCHEDULE_ENDED:
        say(o, in->explain, "outside_dates", "outside the rule's validity dates");
        return false;
    case FD_SCHEDULE_WRONG_DAY:
        say(o, in->explain, "wrong_day", "not valid on this weekday");
        return false;
    case FD_SCHEDULE_WRONG_HOUR:
        say(o, in->explain, "outside_hours", "outside the rule's hours");
        return false;
    }
    if (r->condition) {
        jl_val v;
        int rc = jl_eval(r->condition, in->data, &in->env, jc, &v);
        if (rc) {
            say(o, in->explain, "condition_error",
                "the condition could not be evaluated within its budget");
            return false;
        }
        if (!jl_truthy(&v)) {
            say(o, in->explain, "condition_false", "the condition is false for this event");
            return false;
        }
    }
    return true;
}

/* Applies the rule's limits to points; the most restrictive wins. */
static int64_t apply_limits(const fd_rule *r, const fd_rule_usage *u, int64_t points, bool explain,
                            fd_rule_outcome *o)
{
    if (r->member_triggers_max && u->member_triggers >= r->member_triggers_max) {
        say(o, explain, "trigger_limit", "already awarded %lld times this %s",
            (long long)u->member_triggers, fd_period_name(r->member_triggers_period));
        return 0;
    }
    if (r->member_points_max) {
        int64_t left = r->member_points_max - u->member_points;
        if (left <= 0) {
            say(o, explain, "member_cap", "member reached the cap of %lld points per %s",
                (long long)r->member_points_max, fd_period_name(r->member_points_period));
            return 0;
        }
        if (points > left) {
            points = left;
            say(o, explain, "awarded", "capped at the member limit of %lld points",
                (long long)r->member_points_max);
        }
    }
    if (r->budget_points) {
        int64_t left = r->budget_points - u->budget_used;
        if (left <= 0 || (points > left && !r->budget_partial)) {
            say(o, explain, "budget_exhausted", "the rule's budget of %lld points is used up",
                (long long)r->budget_points);
            return 0;
        }
        if (points > left) {
            points = left;
            say(o, explain, "awarded", "granted the last %lld points of the rule's budget",
                (long long)left);
        }
    }
    return points;
}

/* A multiplier's factor: its own, or the member's tier benefit. */
static int64_t factor_of(const fd_rule *r, const fd_earn_input *in)
{
    return r->factor_from_tier ? in->tier_factor_milli : r->factor_milli;
}

/* The reason of a multiplier between the two passes; compared by address. */
static const char PENDING_MULTIPLIER[] = "pending_multiplier";

int fd_rules_evaluate(const fd_rule *const *rules, size_t n, const fd_earn_input *in,
                      const fd_rule_usage *usage, jl_ctx *jc, fd_rule_outcome *out, int64_t *total)
{
    assert(!in->explain || in->details);
    int64_t base = 0;
    const fd_rule *exclusive = NULL;
    int64_t best_factor = 0;
    size_t best = n;
    line_bits bits = {0};
    /* pass 1: base effects, and which multipliers apply */
    for (size_t i = 0; i < n; i++) {
        const fd_rule *r = rules[i];
        fd_rule_outcome *o = &out[i];
        /* field by field: a compound literal would zero detail too, on
         * every rule of every event */
        o->rule = r;
        o->points = 0;
        o->fired = false;
        o->reason = "awarded";
        o->detail = in->explain ? in->details[i] : NULL;
        if (o->detail) o->detail[0] = 0;
        if (exclusive) {
            say(o, in->explain, "excluded", "skipped: exclusive rule \"%s\" applied",
                exclusive->name);
            continue;
        }
        if (!applies(r, in, jc, o)) continue;
        int64_t p = 0;
        int rc = FD_OK;
        switch (r->effect) {
        case FD_EFFECT_PER_AMOUNT:
            rc = per_amount(r, in, &bits, &p);
            if (!rc && p == 0)
                say(o, in->explain, "zero_points", "no counting amount, or it rounds to 0");
            break;
        case FD_EFFECT_FIXED:
            p = r->points;
            break;
        case FD_EFFECT_NTH_ORDER:
            if (in->order_count == r->nth)
                p = r->points;
            else
                say(o, in->explain, "not_nth_order",
                    "this is order %lld, the rule rewards order %lld", (long long)in->order_count,
                    (long long)r->nth);
            break;
        case FD_EFFECT_MULTIPLIER:
            o->reason = PENDING_MULTIPLIER;
            if (r->best_wins && factor_of(r, in) > best_factor) {
                best_factor = factor_of(r, in);
                best = i;
            }
            continue;
        }
        if (rc) return rc;
        if (p > 0) p = apply_limits(r, &usage[i], p, in->explain, o);
        o->points = p;
        o->fired = p > 0;
        if (fd_add_i64(base, p, &base)) return FD_EOVERFLOW;
        if (o->fired && r->exclusive) exclusive = r;
    }
    /* pass 2: multipliers in priority order on the running total */
    int64_t running = base;
    for (size_t i = 0; i < n; i++) {
        const fd_rule *r = rules[i];
        fd_rule_outcome *o = &out[i];
        if (o->reason != PENDING_MULTIPLIER) continue;
        o->reason = "awarded";
        if (r->best_wins && i != best) {
            say(o, in->explain, "not_best", "a larger best-wins multiplier applies");
            continue;
        }
        if (base == 0) {
            say(o, in->explain, "no_base", "no points to multiply");
            continue;
        }
        if (factor_of(r, in) <= 1000) {
            say(o, in->explain, "zero_points", "the member's tier has no earn_multiplier");
            continue;
        }
        int64_t scaled;
        int rc = fd_div_round((__int128)running * factor_of(r, in), 1000, r->rounding, &scaled);
        if (rc) return rc;
        int64_t bonus = apply_limits(r, &usage[i], scaled - running, in->explain, o);
        o->points = bonus;
        o->fired = bonus > 0;
        if (fd_add_i64(running, bonus, &running)) return FD_EOVERFLOW;
    }
    if (running > FD_POINTS_MAX) return FD_EOVERFLOW;
    *total = running;
    return FD_OK;
}

/* Writes n (>= 0) as width digits, zero-padded, at p; returns the end. Keys
 * are made for every capped rule of every event, where snprintf costs. */
static char *put_digits(char *p, int n, int width)
{
    for (int i = width - 1; i >= 0; i--, n /= 10)
        p[i] = (char)('0' + n % 10);
    return p + width;
}

void fd_period_key(fd_period p, int year, int month, int day, char buf[16])
{
    year = year < 0 ? 0 : year > 9999 ? 9999 : year;
    month = month < 1 ? 1 : month > 12 ? 12 : month;
    day = day < 1 ? 1 : day > 31 ? 31 : day;
    char *end = buf;
    switch (p) {
    case FD_PERIOD_DAY:   /* 2026-11-23 */
    case FD_PERIOD_MONTH: /* 2026-11 */
    case FD_PERIOD_YEAR:  /* 2026 */
        end = put_digits(end, year, 4);
        if (p != FD_PERIOD_YEAR) *end++ = '-', end = put_digits(end, month, 2);
        if (p == FD_PERIOD_DAY) *end++ = '-', end = put_digits(end, day, 2);
        *end = 0;
        break;
    case FD_PERIOD_LIFETIME:
        snprintf(buf, 16, "lifetime");
        break;
    case FD_PERIOD_WEEK: {
        /* ISO week: the week with the year's first Thursday is week 1 */
        int64_t days = fd_date_days((fd_date){year, month, day});
        int wd = (int)((days % 7 + 10) % 7) + 1; /* 1970-01-01 was a Thursday: ISO 4 */
        int64_t thursday = days + (4 - wd);
        /* the ISO year is the civil year of that Thursday */
        int y = year + (thursday < fd_date_days((fd_date){year, 1, 1})        ? -1
                        : thursday >= fd_date_days((fd_date){year + 1, 1, 1}) ? 1
                                                                              : 0);
        int week = (int)((thursday - fd_date_days((fd_date){y, 1, 1})) / 7) + 1;
        snprintf(buf, 16, "%04d-W%02d", y & 0x3fff, week & 63);
        break;
    }
    }
}
