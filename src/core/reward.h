/*
 * reward.h - a reward of the catalog: what a member gets for points (a
 * promo: discount, free shipping, product, gift card credit, cashback,
 * physical item or experience), what it costs (per tier if wanted), stock,
 * a limit per member, and how long the voucher it issues stays valid.
 *
 * JSON: {"name", "points", "tier_points": {"Gold": 400}, "benefit",
 *        "category" (default "loyalty"), "stackable", "schedule" (when it can
 *        be redeemed), "validation" (who may redeem it; cart rules apply when
 *        the voucher is used), "stock", "limit_per_member", "voucher_days",
 *        "campaign_id", "description", "image_url"}.
 */
#ifndef FD_REWARD_H
#define FD_REWARD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/promo.h"

#define FD_REWARDS_MAX 500
#define FD_REWARD_TIERS_MAX 16
#define FD_VOUCHER_DAYS_DEFAULT 30

typedef struct fd_reward_cost {
    char tier[64];
    int64_t points;
} fd_reward_cost;

typedef struct fd_reward {
    int64_t id;
    char name[128];
    bool active;
    int64_t points; /* cost for members without a listed tier */
    fd_reward_cost tier_costs[FD_REWARD_TIERS_MAX];
    int ntier_costs;
    fd_promo promo;
    int64_t stock;            /* vouchers it can issue in total; 0 = unlimited */
    int64_t limit_per_member; /* vouchers one member may hold (not cancelled); 0 = no limit */
    int64_t voucher_days;     /* validity of the voucher issued */
    int64_t campaign_id;      /* 0: none */
    json_t *definition;
} fd_reward;

int fd_reward_parse(const json_t *def, int exponent, fd_reward *out, char field[128],
                    char msg[160]);
void fd_reward_clear(fd_reward *r);

/* The points the reward costs a member of `tier` (NULL or "": no tier). */
int64_t fd_reward_cost_for(const fd_reward *r, const char *tier);

#endif
