/*
 * reward.c - reward definitions (reward.h).
 */
#include "core/reward.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/perr.h"

static int bad(char field[128], char msg[160], const char *f, const char *m)
{
    fd_perr e = {field, msg};
    return fd_perr_set(&e, f, m);
}

static int parse_positive(const json_t *v, int64_t max, int64_t *out)
{
    if (!v) return FD_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > max)
        return FD_EINVAL;
    *out = json_integer_value(v);
    return FD_OK;
}

static int parse_costs(const json_t *tc, fd_reward *r, char field[128], char msg[160])
{
    if (!tc) return FD_OK;
    if (!json_is_object(tc) || json_object_size(tc) > FD_REWARD_TIERS_MAX)
        return bad(field, msg, "tier_points", "tier_points maps up to 16 tier names to points");
    const char *tier;
    json_t *v;
    json_object_foreach((json_t *)tc, tier, v)
    {
        fd_reward_cost *c = &r->tier_costs[r->ntier_costs];
        if (strlen(tier) == 0 || strlen(tier) >= sizeof c->tier ||
            parse_positive(v, FD_POINTS_MAX, &c->points))
            return bad(field, msg, "tier_points", "each tier's cost is a positive integer");
        snprintf(c->tier, sizeof c->tier, "%s", tier);
        r->ntier_costs++;
    }
    return FD_OK;
}

int fd_reward_parse(const json_t *def, int exponent, fd_reward *r, char field[128], char msg[160])
{
    memset(r, 0, sizeof *r);
    r->voucher_days = FD_VOUCHER_DAYS_DEFAULT;
    if (!json_is_object(def)) return bad(field, msg, "", "a reward is a JSON object");
    const json_t *name = json_object_get(def, "name"), *points = json_object_get(def, "points");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof r->name)
        return bad(field, msg, "name", "name is required (at most 127 bytes)");
    snprintf(r->name, sizeof r->name, "%s", json_string_value(name));
    if (!points || parse_positive(points, FD_POINTS_MAX, &r->points))
        return bad(field, msg, "points", "points (the cost) is a positive integer");
    if (parse_positive(json_object_get(def, "stock"), FD_POINTS_MAX, &r->stock))
        return bad(field, msg, "stock", "stock is a positive integer (omit it for unlimited)");
    if (parse_positive(json_object_get(def, "limit_per_member"), 1000000, &r->limit_per_member))
        return bad(field, msg, "limit_per_member", "limit_per_member is a positive integer");
    if (parse_positive(json_object_get(def, "voucher_days"), 3650, &r->voucher_days))
        return bad(field, msg, "voucher_days", "voucher_days is from 1 to 3650");
    if (parse_positive(json_object_get(def, "campaign_id"), INT64_MAX, &r->campaign_id))
        return bad(field, msg, "campaign_id", "campaign_id is a campaign's id");
    const json_t *desc = json_object_get(def, "description"),
                 *img = json_object_get(def, "image_url");
    if ((desc && (!json_is_string(desc) || json_string_length(desc) > 2000)) ||
        (img && (!json_is_string(img) || json_string_length(img) > 2000)))
        return bad(field, msg, "description", "description and image_url are strings");
    int rc = parse_costs(json_object_get(def, "tier_points"), r, field, msg);
    if (!rc) rc = fd_promo_parse(def, exponent, "loyalty", &r->promo, field, msg);
    if (rc) return rc;
    r->definition = json_deep_copy(def);
    return FD_OK;
}

void fd_reward_clear(fd_reward *r)
{
    fd_promo_clear(&r->promo);
    json_decref(r->definition);
    r->definition = NULL;
}

int64_t fd_reward_cost_for(const fd_reward *r, const char *tier)
{
    for (int i = 0; tier && i < r->ntier_costs; i++)
        if (!strcmp(r->tier_costs[i].tier, tier)) return r->tier_costs[i].points;
    return r->points;
}
