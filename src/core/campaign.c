/*
 * campaign.c - campaign definitions and budgets (campaign.h).
 */
#include "core/campaign.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/perr.h"
#include "core/money.h"

static int bad(char field[128], char msg[160], const char *f, const char *m)
{
    fd_perr e = {field, msg};
    return fd_perr_set(&e, f, m);
}

static int parse_count(const json_t *v, int64_t *out)
{
    if (!v) return FD_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > FD_POINTS_MAX)
        return FD_EINVAL;
    *out = json_integer_value(v);
    return FD_OK;
}

static int parse_limits(const json_t *l, int exponent, fd_campaign_limits *out, char field[128],
                        char msg[160])
{
    if (!l || json_is_null(l)) return FD_OK;
    if (!json_is_object(l)) return bad(field, msg, "limits", "limits must be an object");
    if (parse_count(json_object_get(l, "uses"), &out->uses))
        return bad(field, msg, "limits.uses", "uses must be a positive integer");
    if (parse_count(json_object_get(l, "uses_per_member"), &out->uses_per_member))
        return bad(field, msg, "limits.uses_per_member",
                   "uses_per_member must be a positive integer");
    const json_t *d = json_object_get(l, "discount"), *o = json_object_get(l, "order_amount");
    if (d && (fd_amount_from_json(d, exponent, &out->discount) || out->discount < 1))
        return bad(field, msg, "limits.discount",
                   "discount must be a positive amount (\"30000.00\")");
    if (o && (fd_amount_from_json(o, exponent, &out->order_amount) || out->order_amount < 1))
        return bad(field, msg, "limits.order_amount", "order_amount must be a positive amount");
    return FD_OK;
}

int fd_campaign_parse(const json_t *def, int exponent, fd_campaign *c, char field[128],
                      char msg[160])
{
    memset(c, 0, sizeof *c);
    if (!json_is_object(def)) return bad(field, msg, "", "a campaign is a JSON object");
    const json_t *name = json_object_get(def, "name");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof c->name)
        return bad(field, msg, "name", "name is required (at most 127 bytes)");
    snprintf(c->name, sizeof c->name, "%s", json_string_value(name));
    int rc = parse_limits(json_object_get(def, "limits"), exponent, &c->limits, field, msg);
    if (!rc) rc = fd_promo_parse(def, exponent, "promotion", &c->promo, field, msg);
    if (rc) return rc;
    c->definition = json_deep_copy(def);
    return FD_OK;
}

void fd_campaign_clear(fd_campaign *c)
{
    fd_promo_clear(&c->promo);
    json_decref(c->definition);
    c->definition = NULL;
}

int fd_campaign_fits(const fd_campaign_limits *l, int64_t uses, int64_t discount_total,
                     int64_t order_total, int64_t member_uses, int64_t discount, int64_t amount,
                     fd_refusal *why)
{
    if (l->uses && uses >= l->uses)
        return fd_refuse(why, "campaign_exhausted",
                         "the campaign has been used %lld times, its limit", (long long)uses);
    if (l->uses_per_member && member_uses >= l->uses_per_member)
        return fd_refuse(why, "member_limit_reached", "already used %lld time%s by this member",
                         (long long)member_uses, member_uses == 1 ? "" : "s");
    if (l->discount && discount_total + discount > l->discount)
        return fd_refuse(why, "budget_exhausted", "the campaign's discount budget is spent");
    if (l->order_amount && order_total + amount > l->order_amount)
        return fd_refuse(why, "order_budget_exhausted",
                         "the campaign's order amount budget is reached");
    return FD_OK;
}
