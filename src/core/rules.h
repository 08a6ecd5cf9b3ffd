/*
 * rules.h - earning rules: their definition (parsed and validated from the
 * JSON a marketer saves) and the pure evaluation of an event against them.
 *
 * A rule = trigger (event type) + condition (JSONLogic) + effect + earning
 * base and line filters + schedule + limits + combination settings. The
 * evaluation (fd_rules_evaluate) is deterministic and does no I/O: the store
 * loads each rule's current usage first, and writes the outcome after.
 * docs/rules.md is the user's guide to every field below.
 */
#ifndef FD_RULES_H
#define FD_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/fd.h"
#include "core/jsonlogic.h"
#include "core/money.h"
#include "core/names.h"
#include "core/schedule.h"

#define FD_RULES_MAX 200     /* active rules per program */
#define FD_RULE_TIERS_MAX 16 /* tier-specific rates */

typedef enum {
    FD_EFFECT_PER_AMOUNT,
    FD_EFFECT_FIXED,
    FD_EFFECT_MULTIPLIER,
    FD_EFFECT_NTH_ORDER
} fd_effect;
typedef enum { FD_BASE_PAID, FD_BASE_GROSS, FD_BASE_PAID_WITH_SHIPPING } fd_earn_base;
typedef enum {
    FD_PERIOD_DAY,
    FD_PERIOD_WEEK,
    FD_PERIOD_MONTH,
    FD_PERIOD_YEAR,
    FD_PERIOD_LIFETIME
} fd_period;

typedef struct fd_tier_rate {
    char tier[64];
    int64_t rate_milli;
} fd_tier_rate;

typedef struct fd_rule {
    int64_t id, version;
    char name[128];
    char trigger[65];
    int64_t campaign_id; /* earns only while its campaign is on, in its period and audience */
    int priority;        /* higher first */
    bool exclusive;      /* when it awards, lower-priority rules are skipped */
    jl_expr *condition;  /* NULL: always */

    fd_effect effect;
    int64_t rate_milli;    /* per_amount: thousandths of a point per major unit */
    fd_rounding rounding;  /* per_amount and multiplier */
    bool per_line;         /* per_amount: round each line, then add */
    bool rate_from_tier;   /* per_amount: the tier's earn_rate benefit when it has one */
    bool factor_from_tier; /* multiplier: the tier's earn_multiplier benefit (none: no bonus) */
    fd_tier_rate tier_rates[FD_RULE_TIERS_MAX];
    int ntier_rates;
    int64_t points;       /* fixed, nth_order */
    int64_t nth;          /* nth_order */
    int64_t factor_milli; /* multiplier */
    bool best_wins;       /* multiplier: only the largest best-wins factor applies */

    fd_earn_base base;
    fd_name_list skus, categories; /* only these lines count (empty: all) */
    fd_name_list exclude_skus, exclude_categories;

    fd_schedule schedule; /* dates, weekdays, hours */

    int64_t member_points_max; /* 0 = no cap */
    fd_period member_points_period;
    int64_t member_triggers_max;
    fd_period member_triggers_period;
    int64_t budget_points; /* 0 = no budget */
    bool budget_partial;   /* grant up to the budget instead of refusing */
} fd_rule;

/* Parses and validates a rule definition. On FD_EINVAL, field names the bad
 * member ("effect.rate", "condition/and/1/var") and msg says why. The rule
 * owns its condition and lists: fd_rule_clear releases them. */
int fd_rule_parse(const json_t *def, fd_rule *out, char field[128], char msg[160]);
void fd_rule_clear(fd_rule *r);

const char *fd_period_name(fd_period p);

/* One order line as the engine sees it; amounts in minor units. */
typedef struct fd_earn_line {
    const char *sku, *category;
    int64_t quantity;
    int64_t gross; /* quantity x unit price */
    int64_t paid;  /* gross with the order's discount prorated (sums to the order total) */
} fd_earn_line;

#define FD_RULE_DETAIL_MAX 128 /* an outcome's detail text, with its NUL */

typedef struct fd_earn_input {
    const char *type;   /* event type */
    int64_t now;        /* event time */
    int local_minute;   /* minute of the local day */
    jl_env env;         /* weekday, hour in the program's timezone */
    const json_t *data; /* JSONLogic context: event, order, member, time */
    int exponent;
    int64_t total, shipping; /* paid for goods, shipping */
    const fd_earn_line *lines;
    size_t nlines;
    const char *tier;              /* member's tier name or NULL */
    int64_t tier_rate_milli;       /* the tier's earn_rate benefit, 0 if none */
    int64_t tier_factor_milli;     /* the tier's earn_multiplier benefit, 0 if none */
    int64_t order_count;           /* the member's orders including this one */
    const int64_t *open_campaigns; /* campaigns whose rules may earn now, for this member */
    size_t nopen_campaigns;
    bool explain; /* fill each outcome's detail text (a simulation); else only its reason */
    char (*details)[FD_RULE_DETAIL_MAX]; /* with explain: one text per rule, for the outcomes */
} fd_earn_input;

/* Usage of a rule loaded before evaluation (for its limits). */
typedef struct fd_rule_usage {
    int64_t member_points;   /* in the current member-points period */
    int64_t member_triggers; /* in the current member-triggers period */
    int64_t budget_used;     /* points awarded by the rule so far, all members */
} fd_rule_usage;

/* One earning rule's share of what an event earned: a journal entry's part
 * (store/ledger.h) and an award to the rule's total (store/rules.h). */
typedef struct fd_rule_part {
    int64_t rule_id, rule_version, points;
} fd_rule_part;

typedef struct fd_rule_outcome {
    const fd_rule *rule;
    int64_t points;     /* awarded (after caps) */
    bool fired;         /* matched and awarded > 0 */
    const char *reason; /* machine code: "awarded", "condition_false", "member_cap", ... */
    /* human explanation, in the input's details, when it asked to explain;
     * else NULL (the text stays out of the outcome: every event zeroes its
     * outcomes, one per rule) */
    char *detail;
} fd_rule_outcome;

/* Evaluates rules (sorted by fd_rules_sort) for one event. out has one slot
 * per rule; *total receives the points awarded. jc is evaluation scratch.
 * With in->explain, in->details has one text per rule, which the outcomes'
 * detail point into (the caller owns both). */
int fd_rules_evaluate(const fd_rule *const *rules, size_t n, const fd_earn_input *in,
                      const fd_rule_usage *usage, jl_ctx *jc, fd_rule_outcome *out, int64_t *total);

/* Sorts rules by priority (higher first), then id. */
void fd_rules_sort(const fd_rule **rules, size_t n);

/* Splits an order's paid total over its lines by gross value (largest
 * remainder), so discounts are prorated and the parts add up exactly. */
void fd_prorate_lines(fd_earn_line *lines, size_t n, int64_t total);

/* The period key of instant t's local date: "2026-11-23", "2026-W48",
 * "2026-11", "2026" or "lifetime". buf holds 16 bytes. */
void fd_period_key(fd_period p, int year, int month, int day, char buf[16]);

#endif
