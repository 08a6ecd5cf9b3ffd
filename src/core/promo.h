/*
 * promo.h - what a code or a reward gives (its benefit), who may use it (its
 * validation), and how several codes on one cart combine (stacking). Pure
 * decisions over numbers and JSON; the store counts uses and budgets.
 *
 * Vocabulary (docs/rewards.md):
 *   benefit  - percent or fixed discount (order- or item-level), free
 *              shipping, a free product, gift card credit, cashback, a
 *              physical item or an experience (the last three change no cart).
 *   promo    - a benefit with its stacking category and validation rules; a
 *              campaign and a reward each hold one.
 *   refusal  - why a code does not apply: a machine-readable code (and the
 *              rule's name for custom rules) and a message for people.
 *
 * Amounts are integers in the currency's minor units. A percent discount is
 * rounded half up to the minor unit (FD_ROUND_HALF_UP); no discount ever
 * takes a line, the goods or the shipping below zero.
 */
#ifndef FD_PROMO_H
#define FD_PROMO_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/jsonlogic.h"
#include "core/names.h"
#include "core/schedule.h"

#define FD_CART_LINES_MAX 1000
#define FD_CART_CODES_MAX 20                     /* codes on one cart */
#define FD_PROMO_RULES_MAX 16                    /* custom validation rules of one promo */
#define FD_STACK_GROUPS_MAX 16                   /* exclusive groups of a stacking policy */
#define FD_CODE_PATTERN_MAX 64                   /* characters of a code pattern */
#define FD_VOUCHER_PATTERN "****-****-****-****" /* 31^16 codes: ~79 bits */

typedef enum {
    FD_BENEFIT_PERCENT,
    FD_BENEFIT_FIXED,
    FD_BENEFIT_FREE_SHIPPING,
    FD_BENEFIT_FREE_PRODUCT,
    FD_BENEFIT_GIFT_CARD,
    FD_BENEFIT_CASHBACK,
    FD_BENEFIT_PHYSICAL,
    FD_BENEFIT_EXPERIENCE
} fd_benefit_kind;

typedef struct fd_benefit {
    fd_benefit_kind kind;
    int64_t percent_bp;            /* percent, cashback: basis points (1500 = 15 %) */
    int64_t amount;                /* fixed, gift_card, cashback: minor units */
    int64_t max_discount;          /* percent: cap in minor units, 0 = none */
    char sku[128];                 /* free_product: the product; physical: the item to ship */
    int64_t quantity;              /* free_product: units made free (default 1) */
    fd_name_list skus, categories; /* percent, fixed: only these lines (item-level) */
} fd_benefit;

/* A custom validation rule: a JSONLogic condition over {"member", "cart",
 * "time"}; a refusal names it. */
typedef struct fd_promo_rule {
    char name[64];
    char message[160];
    jl_expr *condition;
} fd_promo_rule;

typedef struct fd_promo {
    fd_benefit benefit;
    char category[32]; /* stacking category: "promotion" (codes), "loyalty" (rewards), ... */
    bool stackable;    /* false: combines with no other code except gift cards */
    fd_schedule schedule;
    /* validation */
    int64_t min_amount;                              /* cart subtotal, minor units; 0 = none */
    int64_t min_quantity;                            /* items in the cart; 0 = none */
    fd_name_list required_skus, required_categories; /* the cart holds one of them */
    fd_name_list tiers, segments;                    /* the member is in one of them */
    bool members_only;
    bool first_order;    /* only for a member's first order */
    bool birthday_month; /* only in the member's birthday month */
    fd_promo_rule rules[FD_PROMO_RULES_MAX];
    int nrules;
} fd_promo;

/* Parses a promo's members of definition `def` (benefit, category,
 * stackable, schedule, validation) for a currency with `exponent` decimals;
 * default_category applies when the definition names none. On FD_EINVAL,
 * field and msg say what and why. fd_promo_clear releases it. */
int fd_promo_parse(const json_t *def, int exponent, const char *default_category, fd_promo *out,
                   char field[128], char msg[160]);
void fd_promo_clear(fd_promo *p);

const char *fd_benefit_name(fd_benefit_kind k);
/* True for the kinds that change a cart's totals. */
bool fd_benefit_in_cart(fd_benefit_kind k);

/* ---------- carts ---------- */

typedef struct fd_cart_line {
    const char *sku, *category;
    int64_t quantity;
    int64_t unit_price;
    int64_t gross; /* quantity x unit price */
} fd_cart_line;

typedef struct fd_cart {
    const fd_cart_line *lines;
    size_t nlines;
    int64_t subtotal; /* sum of gross */
    int64_t quantity; /* sum of quantities */
    int64_t shipping;
} fd_cart;

/* ---------- validation ---------- */

typedef struct fd_refusal {
    char code[48]; /* e.g. min_amount_not_met, tier_not_eligible, rule_failed */
    char rule[64]; /* rule_failed: the custom rule's name */
    char message[200];
} fd_refusal;

/* What validation looks at besides the promo. */
typedef struct fd_promo_facts {
    const fd_cart *cart; /* NULL: validating a code without a cart (cart rules pass) */
    bool has_member;
    bool voucher;           /* a voucher bought with points: its schedule and member
                               rules were checked when it was bought, only cart and
                               custom rules apply now */
    const char *tier;       /* member's tier name or NULL */
    const json_t *segments; /* array of the member's segment names, or NULL */
    int64_t orders;         /* the member's orders before this one */
    int birth_month;        /* 1..12, 0 unknown */
    int month;              /* current local month 1..12 */
    int local_minute;       /* minute of the local day */
    const json_t *data;     /* JSONLogic context for custom rules */
    const jl_env *env;
    jl_ctx *ctx;
} fd_promo_facts;

/* Checks only the audience: schedule and member rules (who and when, not
 * what is bought); what earning rules of a campaign obey. */
int fd_promo_check_audience(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why);

/* Checks every validation rule of p in a fixed order (schedule, member,
 * tier, segment, cart, custom rules). Returns FD_OK, or FD_EFORBIDDEN with
 * *why filled for the first rule that fails. */
int fd_promo_check(const fd_promo *p, const fd_promo_facts *f, fd_refusal *why);

/* Fills *why and returns FD_EFORBIDDEN, for callers refusing for their own
 * reasons (unknown code, limits reached...). */
int fd_refuse(fd_refusal *why, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------- stacking ---------- */

#define FD_PHASES 8 /* steps of application, fd_cart_apply */

typedef struct fd_stacking {
    int max_codes;        /* codes applied to one cart at most */
    int rank[FD_PHASES];  /* the place of each step in the order of application */
    bool first_submitted; /* on conflicts keep the earlier code (default: the larger discount) */
    fd_name_list groups[FD_STACK_GROUPS_MAX]; /* at most one code from the categories of a group */
    int ngroups;
} fd_stacking;

/* The default: 5 codes, best for the customer, no exclusive groups. */
void fd_stacking_default(fd_stacking *s);
/* Parses {"max_codes", "exclusive_groups": [["promotion", "loyalty"]],
 * "on_conflict": "best_for_customer" | "first_submitted",
 * "application_order": [step names]}; the steps are free_product,
 * item_percent, item_fixed, order_percent, order_fixed, free_shipping,
 * gift_card, cashback (the default order); steps not listed follow the
 * listed ones in the default order. */
int fd_stacking_parse(const json_t *def, fd_stacking *out, char field[128], char msg[160]);
void fd_stacking_clear(fd_stacking *s);
/* The name of step i (0..FD_PHASES-1) of the default order. */
const char *fd_phase_name(int i);

/* One code on a cart: the caller fills the inputs, refuses codes that failed
 * validation (refusal.code set), and fd_cart_apply decides the rest. */
typedef struct fd_cart_code {
    const char *code;
    const fd_promo *promo; /* NULL when already refused */
    int64_t balance;       /* gift cards: the credit left */
    /* outputs */
    bool applied;
    int64_t discount;          /* off the goods */
    int64_t shipping_discount; /* off the shipping */
    int64_t gift_card;         /* paid by gift card credit */
    int64_t cashback;          /* owed back after the order */
    fd_refusal refusal;
} fd_cart_code;

typedef struct fd_cart_totals {
    int64_t subtotal, discount, shipping, shipping_discount, gift_card, cashback, total;
} fd_cart_totals;

/* Chooses which codes combine under the policy and computes each one's
 * discount in the policy's order of application (default: free products,
 * item-level percent, item-level fixed, order-level percent, order-level
 * fixed, free shipping, gift cards, then cashback on what is left to pay).
 * Codes left out get a refusal (not_combinable, too_many_codes,
 * duplicate_code, no_matching_items, product_not_in_cart, gift_card_empty). */
void fd_cart_apply(const fd_stacking *s, const fd_cart *cart, fd_cart_code *codes, size_t n,
                   fd_cart_totals *out);

/* ---------- codes ---------- */

/* A pattern is 1..FD_CODE_PATTERN_MAX characters: '#' a digit, '?' a
 * letter, '*' either (unambiguous alphabets: no 0, 1, I, L, O), anything
 * else in A-Z 0-9 - _ kept as written. *space receives how many distinct
 * codes it can make (saturating at 2^62). FD_EINVAL for other characters
 * or a pattern without a random position. */
int fd_code_pattern(const char *pattern, int64_t *space);
/* Writes a random code of the pattern into out (FD_CODE_PATTERN_MAX + 1
 * bytes), with libsodium's CSPRNG. */
void fd_code_generate(const char *pattern, char *out);
/* Normalises a code as typed (trim, upper case); FD_EINVAL when empty, too
 * long or holding characters a code cannot hold. */
int fd_code_normalise(const char *in, char out[FD_CODE_PATTERN_MAX + 1]);

#endif
