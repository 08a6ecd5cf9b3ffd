/*
 * promo.c - benefits, validation, stacking and codes (promo.h).
 */
#include "core/promo.h"

#include <assert.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/perr.h"
#include "core/money.h"

static const char DIGITS[] = "23456789";
static const char LETTERS[] = "ABCDEFGHJKMNPQRSTUVWXYZ";
static const char EITHER[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

static const char *const BENEFIT_NAMES[] = {"percent",      "fixed",     "free_shipping",
                                            "free_product", "gift_card", "cashback",
                                            "physical",     "experience"};

const char *fd_benefit_name(fd_benefit_kind k)
{
    return BENEFIT_NAMES[k];
}

bool fd_benefit_in_cart(fd_benefit_kind k)
{
    return k <= FD_BENEFIT_GIFT_CARD;
}

/* ---------- parsing ---------- */

typedef fd_perr perr;

static int bad(perr *e, const char *field, const char *msg)
{
    return fd_perr_set(e, field, msg);
}

/* A percentage with up to two decimals ("12.5", 15) as basis points. */
static int parse_percent(const json_t *v, int64_t *bp)
{
    char buf[32];
    if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(buf, sizeof buf, "%.30s", json_string_value(v));
    else
        return FD_EINVAL;
    return fd_amount_parse(buf, 2, bp) || *bp < 1 || *bp > 10000 ? FD_EINVAL : FD_OK;
}

static int parse_amount(const json_t *v, int exponent, int64_t *out)
{
    return fd_amount_from_json(v, exponent, out) || *out < 1 ? FD_EINVAL : FD_OK;
}

static int parse_sku(const json_t *v, char sku[128])
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= 128)
        return FD_EINVAL;
    snprintf(sku, 128, "%s", json_string_value(v));
    return FD_OK;
}

static int parse_benefit(const json_t *b, int exponent, fd_benefit *out, perr *e)
{
    if (!json_is_object(b)) return bad(e, "benefit", "benefit is required: an object with a type");
    const char *type = json_string_value(json_object_get(b, "type"));
    int kind = -1;
    for (int i = 0; type && i < (int)(sizeof BENEFIT_NAMES / sizeof *BENEFIT_NAMES); i++)
        if (!strcmp(type, BENEFIT_NAMES[i])) kind = i;
    if (kind < 0)
        return bad(e, "benefit.type",
                   "type must be percent, fixed, free_shipping, free_product, gift_card, "
                   "cashback, physical or experience");
    out->kind = (fd_benefit_kind)kind;
    const json_t *percent = json_object_get(b, "percent"), *amount = json_object_get(b, "amount");
    const json_t *cap = json_object_get(b, "max_discount"), *to = json_object_get(b, "applies_to");
    switch (out->kind) {
    case FD_BENEFIT_PERCENT:
        if (parse_percent(percent, &out->percent_bp))
            return bad(e, "benefit.percent", "percent must be from 0.01 to 100");
        if (cap && parse_amount(cap, exponent, &out->max_discount))
            return bad(e, "benefit.max_discount", "max_discount must be a positive amount");
        break;
    case FD_BENEFIT_FIXED:
    case FD_BENEFIT_GIFT_CARD:
        if (parse_amount(amount, exponent, &out->amount))
            return bad(e, "benefit.amount", "amount must be a positive amount (\"10.00\")");
        break;
    case FD_BENEFIT_CASHBACK:
        if (percent ? parse_percent(percent, &out->percent_bp)
                    : parse_amount(amount, exponent, &out->amount))
            return bad(e, "benefit", "cashback needs a percent (0.01 to 100) or an amount");
        break;
    case FD_BENEFIT_FREE_PRODUCT:
    case FD_BENEFIT_PHYSICAL: {
        if (parse_sku(json_object_get(b, "sku"), out->sku))
            return bad(e, "benefit.sku", "sku is required for this benefit");
        const json_t *q = json_object_get(b, "quantity");
        if (q && (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > 100))
            return bad(e, "benefit.quantity", "quantity must be from 1 to 100");
        out->quantity = q ? json_integer_value(q) : 1;
        break;
    }
    case FD_BENEFIT_FREE_SHIPPING:
    case FD_BENEFIT_EXPERIENCE:
        break;
    }
    if (to && (out->kind != FD_BENEFIT_PERCENT && out->kind != FD_BENEFIT_FIXED))
        return bad(e, "benefit.applies_to", "only percent and fixed discounts apply to lines");
    if (to && !json_is_object(to))
        return bad(e, "benefit.applies_to",
                   "applies_to is {\"skus\": [...], \"categories\": [...]}");
    if (fd_names_parse(json_object_get(to, "skus"), &out->skus) ||
        fd_names_parse(json_object_get(to, "categories"), &out->categories))
        return bad(e, "benefit.applies_to", "skus and categories are arrays of up to 100 names");
    return FD_OK;
}

static int parse_rules(const json_t *rules, fd_promo *p, perr *e)
{
    if (!rules) return FD_OK;
    if (!json_is_array(rules) || json_array_size(rules) > FD_PROMO_RULES_MAX)
        return bad(e, "validation.rules", "rules is an array of at most 16 rules");
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        char field[64];
        snprintf(field, sizeof field, "validation.rules[%zu]", i);
        const json_t *name = json_object_get(r, "name"), *msg = json_object_get(r, "message");
        if (!json_is_string(name) || json_string_length(name) == 0 ||
            json_string_length(name) >= sizeof p->rules[0].name)
            return bad(e, field, "each rule needs a name (at most 63 bytes)");
        if (msg && (!json_is_string(msg) || json_string_length(msg) >= sizeof p->rules[0].message))
            return bad(e, field, "message is a string of at most 159 bytes");
        fd_promo_rule *pr = &p->rules[p->nrules];
        char err[200];
        if (jl_compile(json_object_get(r, "condition"), &pr->condition, err, sizeof err)) {
            char f[128];
            snprintf(f, sizeof f, "%s.condition", field);
            snprintf(e->field, 128, "%s", f);
            snprintf(e->msg, 160, "%.150s", err);
            return FD_EINVAL;
        }
        p->nrules++;
        snprintf(pr->name, sizeof pr->name, "%s", json_string_value(name));
        snprintf(pr->message, sizeof pr->message, "%s",
                 msg ? json_string_value(msg) : "the order does not meet this rule");
    }
    return FD_OK;
}

static int parse_flag(const json_t *v, bool *out)
{
    if (v && !json_is_boolean(v)) return FD_EINVAL;
    *out = json_is_true(v);
    return FD_OK;
}

static int parse_validation(const json_t *v, int exponent, fd_promo *p, perr *e)
{
    if (!v || json_is_null(v)) return FD_OK;
    if (!json_is_object(v)) return bad(e, "validation", "validation must be an object");
    const json_t *min = json_object_get(v, "min_amount"), *q = json_object_get(v, "min_quantity");
    if (min && parse_amount(min, exponent, &p->min_amount))
        return bad(e, "validation.min_amount", "min_amount must be a positive amount");
    if (q && (!json_is_integer(q) || json_integer_value(q) < 1 || json_integer_value(q) > 1000000))
        return bad(e, "validation.min_quantity", "min_quantity must be from 1 to 1000000");
    p->min_quantity = q ? json_integer_value(q) : 0;
    static const char *const LISTS[] = {"skus", "categories", "tiers", "segments"};
    fd_name_list *lists[] = {&p->required_skus, &p->required_categories, &p->tiers, &p->segments};
    for (int i = 0; i < 4; i++) {
        char field[64];
        snprintf(field, sizeof field, "validation.%s", LISTS[i]);
        if (fd_names_parse(json_object_get(v, LISTS[i]), lists[i]))
            return bad(e, field, "must be an array of at most 100 non-empty strings");
    }
    if (parse_flag(json_object_get(v, "members_only"), &p->members_only))
        return bad(e, "validation.members_only", "members_only must be true or false");
    if (parse_flag(json_object_get(v, "first_order"), &p->first_order))
        return bad(e, "validation.first_order", "first_order must be true or false");
    if (parse_flag(json_object_get(v, "birthday_month"), &p->birthday_month))
        return bad(e, "validation.birthday_month", "birthday_month must be true or false");
    return parse_rules(json_object_get(v, "rules"), p, e);
}

int fd_promo_parse(const json_t *def, int exponent, const char *default_category, fd_promo *p,
                   char field[128], char msg[160])
{
    memset(p, 0, sizeof *p);
    fd_schedule_open(&p->schedule);
    perr e = {field, msg};
    const json_t *cat = json_object_get(def, "category"), *st = json_object_get(def, "stackable");
    int rc = parse_benefit(json_object_get(def, "benefit"), exponent, &p->benefit, &e);
    if (!rc && cat &&
        (!json_is_string(cat) || json_string_length(cat) == 0 ||
         json_string_length(cat) >= sizeof p->category))
        rc = bad(&e, "category", "category is a name of at most 31 bytes");
    if (!rc)
        snprintf(p->category, sizeof p->category, "%s",
                 cat ? json_string_value(cat) : default_category);
    if (!rc && st && !json_is_boolean(st))
        rc = bad(&e, "stackable", "stackable must be true or false");
    p->stackable = !st || json_is_true(st);
    if (!rc)
        rc = fd_schedule_parse(json_object_get(def, "schedule"), "schedule", &p->schedule, field,
                               msg);
    if (!rc) rc = parse_validation(json_object_get(def, "validation"), exponent, p, &e);
    if (rc) fd_promo_clear(p);
    return rc;
}

void fd_promo_clear(fd_promo *p)
{
    fd_names_clear(&p->benefit.skus);
    fd_names_clear(&p->benefit.categories);
    fd_names_clear(&p->required_skus);
    fd_names_clear(&p->required_categories);
    fd_names_clear(&p->tiers);
    fd_names_clear(&p->segments);
    for (int i = 0; i < p->nrules; i++)
        jl_free(p->rules[i].condition);
    p->nrules = 0;
}

/* ---------- validation ---------- */

int fd_refuse(fd_refusal *why, const char *code, const char *fmt, ...)
{
    memset(why, 0, sizeof *why);
    snprintf(why->code, sizeof why->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
    return FD_EFORBIDDEN;
}

static bool in_segments(const fd_name_list *wanted, const json_t *segments)
{
    size_t i;
    json_t *s;
    json_array_foreach(segments, i, s)
    {
        if (fd_names_has(wanted, json_string_value(s))) return true;
    }
    return false;
}

static bool cart_holds(const fd_cart *c, const fd_name_list *skus, const fd_name_list *cats)
{
    for (size_t i = 0; i < c->nlines; i++)
        if (fd_names_has(skus, c->lines[i].sku) || fd_names_has(cats, c->lines[i].category))
            return true;
    return false;
}

static int check_schedule(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why)
{
    switch (fd_schedule_check(&p->schedule, f->env->now, f->env->weekday, f->local_minute)) {
    case FD_SCHEDULE_OPEN:
        return FD_OK;
    case FD_SCHEDULE_NOT_STARTED:
        return fd_refuse(why, "not_started", "not valid yet");
    case FD_SCHEDULE_ENDED:
        return fd_refuse(why, "ended", "no longer valid");
    case FD_SCHEDULE_WRONG_DAY:
        return fd_refuse(why, "wrong_day", "not valid on this weekday");
    case FD_SCHEDULE_WRONG_HOUR:
        return fd_refuse(why, "outside_hours", "not valid at this time of day");
    }
    return FD_OK;
}

static int check_member(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why)
{
    bool needs_member =
        p->members_only || p->first_order || p->birthday_month || p->tiers.n || p->segments.n;
    if (needs_member && !f->has_member)
        return fd_refuse(why, "member_required", "only for members of the program");
    if (p->first_order && f->orders > 0)
        return fd_refuse(why, "first_order_only", "only for a member's first order");
    if (p->birthday_month && f->birth_month != f->month)
        return fd_refuse(why, "not_birthday_month", "only in the member's birthday month");
    if (p->tiers.n && !fd_names_has(&p->tiers, f->tier))
        return fd_refuse(why, "tier_not_eligible", "only for members of tier %s%s",
                         p->tiers.items[0], p->tiers.n > 1 ? " (or another listed tier)" : "");
    if (p->segments.n && !in_segments(&p->segments, f->segments))
        return fd_refuse(why, "segment_not_eligible", "only for members of segment %s%s",
                         p->segments.items[0], p->segments.n > 1 ? " (or another listed)" : "");
    return FD_OK;
}

static int check_cart(const fd_promo *p, const fd_cart *c, fd_refusal *why)
{
    if (!c) return FD_OK;
    if (p->min_amount && c->subtotal < p->min_amount)
        return fd_refuse(why, "min_amount_not_met", "the order must reach a minimum amount");
    if (p->min_quantity && c->quantity < p->min_quantity)
        return fd_refuse(why, "min_quantity_not_met", "the order must hold at least %lld items",
                         (long long)p->min_quantity);
    if ((p->required_skus.n || p->required_categories.n) &&
        !cart_holds(c, &p->required_skus, &p->required_categories))
        return fd_refuse(why, "required_product_missing",
                         "the order must include one of the required products");
    return FD_OK;
}

int fd_promo_check_audience(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why)
{
    int rc = check_schedule(p, f, why);
    return rc ? rc : check_member(p, f, why);
}

int fd_promo_check(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why)
{
    int rc = f->voucher ? FD_OK : fd_promo_check_audience(p, f, why);
    if (!rc) rc = check_cart(p, f->cart, why);
    for (int i = 0; !rc && i < p->nrules; i++) {
        if (jl_test(p->rules[i].condition, f->data, f->env, f->ctx)) continue;
        rc = fd_refuse(why, "rule_failed", "%s", p->rules[i].message);
        snprintf(why->rule, sizeof why->rule, "%s", p->rules[i].name);
    }
    return rc;
}

/* ---------- stacking ---------- */

static const char *const PHASE_NAMES[FD_PHASES] = {"free_product",  "item_percent", "item_fixed",
                                                   "order_percent", "order_fixed",  "free_shipping",
                                                   "gift_card",     "cashback"};

const char *fd_phase_name(int i)
{
    return PHASE_NAMES[i];
}

void fd_stacking_default(fd_stacking *s)
{
    memset(s, 0, sizeof *s);
    s->max_codes = 5;
    for (int i = 0; i < FD_PHASES; i++)
        s->rank[i] = i;
}

/* Listed steps first, in their order; the others after, in the default order. */
static int parse_order(const json_t *order, fd_stacking *s)
{
    if (!json_is_array(order) || json_array_size(order) > FD_PHASES) return FD_EINVAL;
    bool listed[FD_PHASES] = {false};
    int next = 0;
    size_t i;
    json_t *v;
    json_array_foreach(order, i, v)
    {
        int phase = -1;
        for (int k = 0; json_is_string(v) && k < FD_PHASES; k++)
            if (!strcmp(json_string_value(v), PHASE_NAMES[k])) phase = k;
        if (phase < 0 || listed[phase]) return FD_EINVAL;
        listed[phase] = true;
        s->rank[phase] = next++;
    }
    for (int k = 0; k < FD_PHASES; k++)
        if (!listed[k]) s->rank[k] = next++;
    return FD_OK;
}

int fd_stacking_parse(const json_t *def, fd_stacking *s, char field[128], char msg[160])
{
    fd_stacking_default(s);
    perr e = {field, msg};
    if (!json_is_object(def)) return bad(&e, "", "the stacking policy is a JSON object");
    const json_t *max = json_object_get(def, "max_codes"),
                 *groups = json_object_get(def, "exclusive_groups");
    const char *conflict = json_string_value(json_object_get(def, "on_conflict"));
    if (max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
                json_integer_value(max) > FD_CART_CODES_MAX))
        return bad(&e, "max_codes", "max_codes must be from 1 to 20");
    if (max) s->max_codes = (int)json_integer_value(max);
    if (json_object_get(def, "on_conflict") &&
        (!conflict ||
         (strcmp(conflict, "best_for_customer") && strcmp(conflict, "first_submitted"))))
        return bad(&e, "on_conflict", "on_conflict must be best_for_customer or first_submitted");
    s->first_submitted = conflict && !strcmp(conflict, "first_submitted");
    const json_t *order = json_object_get(def, "application_order");
    if (order && parse_order(order, s))
        return bad(&e, "application_order",
                   "application_order lists distinct steps: free_product, item_percent, "
                   "item_fixed, order_percent, order_fixed, free_shipping, gift_card, cashback");
    if (groups && (!json_is_array(groups) || json_array_size(groups) > FD_STACK_GROUPS_MAX))
        return bad(&e, "exclusive_groups", "exclusive_groups is an array of at most 16 lists");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (!json_is_array(g) || json_array_size(g) == 0 ||
            fd_names_parse(g, &s->groups[s->ngroups++])) {
            fd_stacking_clear(s);
            return bad(&e, "exclusive_groups", "each group is a non-empty list of category names");
        }
    }
    return FD_OK;
}

void fd_stacking_clear(fd_stacking *s)
{
    for (int i = 0; i < s->ngroups; i++)
        fd_names_clear(&s->groups[i]);
    s->ngroups = 0;
}

/* Running state of a cart while discounts apply. */
typedef struct cart_state {
    int64_t *net; /* per line, after item-level discounts */
    int64_t goods, shipping;
} cart_state;

static bool line_matches(const fd_benefit *b, const fd_cart_line *l)
{
    if (!b->skus.n && !b->categories.n) return true;
    return fd_names_has(&b->skus, l->sku) || fd_names_has(&b->categories, l->category);
}

static bool item_level(const fd_benefit *b)
{
    return b->skus.n || b->categories.n;
}

/* The phase of application (promo.h: fd_cart_apply). */
static int phase(const fd_benefit *b)
{
    switch (b->kind) {
    case FD_BENEFIT_FREE_PRODUCT:
        return 0;
    case FD_BENEFIT_PERCENT:
        return item_level(b) ? 1 : 3;
    case FD_BENEFIT_FIXED:
        return item_level(b) ? 2 : 4;
    case FD_BENEFIT_FREE_SHIPPING:
        return 5;
    case FD_BENEFIT_GIFT_CARD:
        return 6;
    default:
        return 7;
    }
}

static int64_t percent_of(int64_t base, int64_t bp)
{
    int64_t out = 0;
    fd_div_round((__int128)base * bp, 10000, FD_ROUND_HALF_UP, &out);
    return out;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* Takes up to want from the matching lines' net, in line order. */
static int64_t take_from_lines(const fd_benefit *b, const fd_cart *c, cart_state *s, int64_t want)
{
    int64_t taken = 0;
    for (size_t i = 0; i < c->nlines && taken < want; i++) {
        if (!line_matches(b, &c->lines[i])) continue;
        int64_t t = min64(want - taken, s->net[i]);
        s->net[i] -= t;
        taken += t;
    }
    s->goods -= taken;
    return taken;
}

/* Applies one code to the running cart; refuses it when it changes nothing
 * it should. */
static void apply_one(const fd_cart *c, cart_state *s, fd_cart_code *k)
{
    const fd_benefit *b = &k->promo->benefit;
    k->discount = k->shipping_discount = k->gift_card = k->cashback = 0;
    switch (b->kind) {
    case FD_BENEFIT_FREE_PRODUCT:
        for (size_t i = 0; i < c->nlines; i++) {
            if (strcmp(c->lines[i].sku, b->sku)) continue;
            int64_t units = min64(b->quantity, c->lines[i].quantity);
            int64_t d = min64(units * c->lines[i].unit_price, s->net[i]);
            s->net[i] -= d;
            s->goods -= d;
            k->discount = d;
            break;
        }
        if (!k->discount)
            fd_refuse(&k->refusal, "product_not_in_cart", "add %s to the cart to get it free",
                      b->sku);
        break;
    case FD_BENEFIT_PERCENT: {
        int64_t base = 0;
        for (size_t i = 0; i < c->nlines; i++)
            if (line_matches(b, &c->lines[i])) base += s->net[i];
        int64_t d =
            item_level(b) ? percent_of(base, b->percent_bp) : percent_of(s->goods, b->percent_bp);
        if (b->max_discount) d = min64(d, b->max_discount);
        if (item_level(b))
            k->discount = take_from_lines(b, c, s, d);
        else {
            k->discount = min64(d, s->goods);
            s->goods -= k->discount;
        }
        break;
    }
    case FD_BENEFIT_FIXED:
        if (item_level(b))
            k->discount = take_from_lines(b, c, s, b->amount);
        else {
            k->discount = min64(b->amount, s->goods);
            s->goods -= k->discount;
        }
        break;
    case FD_BENEFIT_FREE_SHIPPING:
        k->shipping_discount = s->shipping;
        s->shipping = 0;
        break;
    case FD_BENEFIT_GIFT_CARD:
        k->gift_card = min64(k->balance, s->goods + s->shipping);
        if (k->balance <= 0)
            fd_refuse(&k->refusal, "gift_card_empty", "the gift card has no credit left");
        break;
    case FD_BENEFIT_CASHBACK:
        k->cashback = b->percent_bp ? percent_of(s->goods + s->shipping, b->percent_bp) : b->amount;
        break;
    case FD_BENEFIT_PHYSICAL:
    case FD_BENEFIT_EXPERIENCE:
        break;
    }
    bool discounting = b->kind == FD_BENEFIT_PERCENT || b->kind == FD_BENEFIT_FIXED;
    if (discounting && !k->discount)
        fd_refuse(&k->refusal, "no_matching_items", "no item in the cart can take this discount");
}

/* Value of one code alone on the cart, for the best-for-customer choice. */
static int64_t standalone_value(const fd_cart *c, fd_cart_code *k, int64_t *scratch)
{
    for (size_t i = 0; i < c->nlines; i++)
        scratch[i] = c->lines[i].gross;
    cart_state s = {scratch, c->subtotal, c->shipping};
    fd_cart_code copy = *k;
    apply_one(c, &s, &copy);
    if (copy.refusal.code[0]) {
        k->refusal = copy.refusal;
        return -1;
    }
    return copy.discount + copy.shipping_discount + copy.gift_card + copy.cashback;
}

static int group_of(const fd_stacking *s, const char *category)
{
    for (int g = 0; g < s->ngroups; g++)
        if (fd_names_has(&s->groups[g], category)) return g;
    return -1;
}

static bool is_gift_card(const fd_cart_code *k)
{
    return k->promo->benefit.kind == FD_BENEFIT_GIFT_CARD;
}

/* Why k cannot join the codes already kept, or NULL. */
static const fd_cart_code *conflict(const fd_stacking *s, const fd_cart_code *k,
                                    fd_cart_code *const *kept, size_t nkept)
{
    int g = group_of(s, k->promo->category);
    for (size_t i = 0; i < nkept; i++) {
        const fd_cart_code *o = kept[i];
        if (is_gift_card(k) || is_gift_card(o)) continue;
        if (!k->promo->stackable || !o->promo->stackable) return o;
        if (g >= 0 && group_of(s, o->promo->category) == g) return o;
    }
    return NULL;
}

typedef struct ranked_code {
    fd_cart_code *k;
    int64_t value;
    size_t index;
} ranked_code;

static int cmp_value(const void *a, const void *b)
{
    const ranked_code *x = a, *y = b;
    if (x->value != y->value) return x->value > y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Order of application: value holds the step's rank (set before sorting). */
static int cmp_step(const void *a, const void *b)
{
    const ranked_code *x = a, *y = b;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Picks the codes that combine; refuses the others. Returns how many were kept. */
static size_t choose(const fd_stacking *s, ranked_code *v, size_t n, fd_cart_code **kept)
{
    if (!s->first_submitted) qsort(v, n, sizeof *v, cmp_value);
    size_t nkept = 0;
    for (size_t i = 0; i < n; i++) {
        fd_cart_code *k = v[i].k;
        const fd_cart_code *o = conflict(s, k, kept, nkept);
        if (o)
            fd_refuse(&k->refusal, "not_combinable", "cannot be combined with %s%s", o->code,
                      s->first_submitted ? " (submitted first)" : " (the better discount)");
        else if ((int)nkept >= s->max_codes)
            fd_refuse(&k->refusal, "too_many_codes", "at most %d codes per order", s->max_codes);
        else
            kept[nkept++] = k;
    }
    return nkept;
}

void fd_cart_apply(const fd_stacking *s, const fd_cart *c, fd_cart_code *codes, size_t n,
                   fd_cart_totals *out)
{
    int64_t *net = fd_calloc(c->nlines + 1, sizeof *net);
    ranked_code *v = fd_calloc(n + 1, sizeof *v);
    fd_cart_code **kept = fd_calloc(n + 1, sizeof *kept);
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        fd_cart_code *k = &codes[i];
        k->applied = false;
        if (k->refusal.code[0] || !k->promo) continue;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            dup = dup || (codes[j].code && k->code && !strcmp(codes[j].code, k->code));
        if (dup) {
            fd_refuse(&k->refusal, "duplicate_code", "the code is already on the cart");
            continue;
        }
        int64_t value = standalone_value(c, k, net);
        if (value >= 0) v[nv++] = (ranked_code){k, value, i};
    }
    size_t nkept = choose(s, v, nv, kept);
    for (size_t i = 0; i < nkept; i++)
        v[i] = (ranked_code){kept[i], s->rank[phase(&kept[i]->promo->benefit)],
                             (size_t)(kept[i] - codes)};
    qsort(v, nkept, sizeof *v, cmp_step);
    for (size_t i = 0; i < c->nlines; i++)
        net[i] = c->lines[i].gross;
    cart_state st = {net, c->subtotal, c->shipping};
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nkept; i++) {
        fd_cart_code *k = v[i].k;
        apply_one(c, &st, k);
        if (k->refusal.code[0]) continue; /* emptied by an earlier code */
        k->applied = true;
        out->discount += k->discount;
        out->shipping_discount += k->shipping_discount;
        out->gift_card += k->gift_card;
        out->cashback += k->cashback;
        if (k->gift_card) { /* gift cards pay goods first, then shipping */
            int64_t g = min64(k->gift_card, st.goods);
            st.goods -= g;
            st.shipping -= k->gift_card - g;
        }
    }
    out->subtotal = c->subtotal;
    out->shipping = c->shipping;
    out->total = st.goods + st.shipping;
    assert(out->total ==
           out->subtotal - out->discount + out->shipping - out->shipping_discount - out->gift_card);
    free(kept);
    free(v);
    free(net);
}

/* ---------- codes ---------- */

static const char *alphabet(char c)
{
    return c == '#' ? DIGITS : c == '?' ? LETTERS : c == '*' ? EITHER : NULL;
}

int fd_code_pattern(const char *pattern, int64_t *space)
{
    size_t n = pattern ? strlen(pattern) : 0;
    if (n == 0 || n > FD_CODE_PATTERN_MAX) return FD_EINVAL;
    int64_t total = 1;
    bool random = false;
    for (size_t i = 0; i < n; i++) {
        char c = pattern[i];
        const char *a = alphabet(c);
        if (a) {
            random = true;
            int64_t k = (int64_t)strlen(a);
            total = total > (INT64_C(1) << 62) / k ? (INT64_C(1) << 62) : total * k;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return FD_EINVAL;
        }
    }
    if (!random) return FD_EINVAL;
    *space = total;
    return FD_OK;
}

void fd_code_generate(const char *pattern, char *out)
{
    size_t n = strlen(pattern);
    assert(n <= FD_CODE_PATTERN_MAX);
    for (size_t i = 0; i < n; i++) {
        const char *a = alphabet(pattern[i]);
        out[i] = a ? a[randombytes_uniform((uint32_t)strlen(a))] : pattern[i];
    }
    out[n] = 0;
}

int fd_code_normalise(const char *in, char out[FD_CODE_PATTERN_MAX + 1])
{
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n == 0 || n > FD_CODE_PATTERN_MAX) return FD_EINVAL;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return FD_EINVAL;
        out[i] = c;
    }
    out[n] = 0;
    return FD_OK;
}
