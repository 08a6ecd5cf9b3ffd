/*
 * campaign.h - a campaign: one promo (benefit, stacking category, schedule,
 * validation) given through codes, with its budgets, and the earning rules
 * and rewards that belong to it (they follow its schedule and kill switch).
 *
 * JSON: {"name", "benefit", "category", "stackable", "schedule",
 *        "validation", "limits": {"uses", "uses_per_member", "discount",
 *        "order_amount"}}; amounts in major units as strings ("30000.00").
 */
#ifndef FD_CAMPAIGN_H
#define FD_CAMPAIGN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/promo.h"

#define FD_CAMPAIGNS_MAX 500 /* campaigns of one program (deleted ones excepted) */

typedef struct fd_campaign_limits {
    int64_t uses;            /* redemptions in total; 0 = no limit */
    int64_t uses_per_member; /* redemptions by one member; 0 = no limit */
    int64_t discount;        /* total discount granted, minor units; 0 = no limit */
    int64_t order_amount;    /* total order amount of redemptions, minor units; 0 = no limit */
} fd_campaign_limits;

typedef struct fd_campaign {
    int64_t id;
    char name[128];
    bool active;
    fd_promo promo;
    fd_campaign_limits limits;
    json_t *definition; /* as saved, for replies */
} fd_campaign;

/* Parses a definition for a currency with `exponent` decimals. On FD_EINVAL
 * field and msg say why. fd_campaign_clear releases what it holds. */
int fd_campaign_parse(const json_t *def, int exponent, fd_campaign *out, char field[128],
                      char msg[160]);
void fd_campaign_clear(fd_campaign *c);

/* Whether one more redemption of `discount` on an order of `amount` fits
 * the limits given the campaign's totals so far and the member's uses.
 * FD_OK, or FD_EFORBIDDEN with *why: campaign_exhausted,
 * member_limit_reached, budget_exhausted, order_budget_exhausted. */
int fd_campaign_fits(const fd_campaign_limits *l, int64_t uses, int64_t discount_total,
                     int64_t order_total, int64_t member_uses, int64_t discount, int64_t amount,
                     fd_refusal *why);

#endif
