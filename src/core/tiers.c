/*
 * tiers.c - tier configuration and decisions (tiers.h).
 */
#include "core/tiers.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/money.h"

static const char *const METRICS[] = {"points", "spend", "orders"};

const char *fd_tier_metric_name(fd_tier_metric m)
{
    return METRICS[m];
}

static int bad(char *field, char *msg, const char *f, const char *m)
{
    snprintf(field, 64, "%s", f);
    snprintf(msg, 160, "%s", m);
    return FD_EINVAL;
}

/* A decimal benefit ("1.5") in thousandths; 0 when absent. */
static int benefit_milli(const json_t *benefits, const char *key, int64_t *out)
{
    const json_t *v = json_object_get(benefits, key);
    *out = 0;
    if (!v) return FD_OK;
    return fd_amount_from_json(v, 3, out);
}

static int parse_tier(const json_t *t, int i, fd_tier_config *c, int exponent, char *field,
                      char *msg)
{
    char f[64];
    fd_tier *tier = &c->tiers[i];
    const json_t *name = json_object_get(t, "name"), *th = json_object_get(t, "threshold"),
                 *benefits = json_object_get(t, "benefits");
    snprintf(f, sizeof f, "tiers[%d]", i);
    if (!json_is_object(t))
        return bad(field, msg, f, "each tier is an object with name and threshold");
    snprintf(f, sizeof f, "tiers[%d].name", i);
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof tier->name)
        return bad(field, msg, f, "name is required (at most 63 bytes)");
    snprintf(tier->name, sizeof tier->name, "%s", json_string_value(name));
    for (int k = 0; k < i; k++)
        if (!strcmp(c->tiers[k].name, tier->name))
            return bad(field, msg, f, "tier names must differ");
    snprintf(f, sizeof f, "tiers[%d].threshold", i);
    int rc = c->metric == FD_METRIC_SPEND ? fd_amount_from_json(th, exponent, &tier->threshold)
             : json_is_integer(th) && json_integer_value(th) >= 0 &&
                     json_integer_value(th) <= FD_POINTS_MAX
                 ? (tier->threshold = json_integer_value(th), FD_OK)
                 : FD_EINVAL;
    if (rc)
        return bad(field, msg, f,
                   c->metric == FD_METRIC_SPEND ? "threshold must be an amount, e.g. \"1000.00\""
                                                : "threshold must be a non-negative integer");
    if (i > 0 && tier->threshold <= c->tiers[i - 1].threshold)
        return bad(field, msg, f, "thresholds must increase strictly from one tier to the next");
    snprintf(f, sizeof f, "tiers[%d].benefits", i);
    if (benefits && !json_is_object(benefits))
        return bad(field, msg, f, "benefits must be an object");
    const json_t *exp = json_object_get(benefits, "expiry_days");
    if (benefit_milli(benefits, "earn_rate", &tier->rate_milli) ||
        benefit_milli(benefits, "earn_multiplier", &tier->factor_milli) ||
        (exp &&
         (!json_is_integer(exp) || json_integer_value(exp) < 1 || json_integer_value(exp) > 36500)))
        return bad(field, msg, f,
                   "earn_rate and earn_multiplier are decimals, expiry_days a number of days");
    tier->expiry_days = exp ? json_integer_value(exp) : 0;
    tier->benefits = benefits ? json_deep_copy(benefits) : json_object();
    return FD_OK;
}

int fd_tier_config_parse(const json_t *def, int exponent, fd_tier_config *c, char field[64],
                         char msg[160])
{
    memset(c, 0, sizeof *c);
    c->months = 12;
    if (!json_is_object(def)) return bad(field, msg, "", "the tier configuration is an object");
    const char *metric = json_string_value(json_object_get(def, "metric"));
    int m = -1;
    for (int i = 0; metric && i < 3; i++)
        if (!strcmp(metric, METRICS[i])) m = i;
    if (m < 0) return bad(field, msg, "metric", "metric must be points, spend or orders");
    c->metric = (fd_tier_metric)m;
    const json_t *w = json_object_get(def, "window");
    const char *wtype = json_string_value(json_object_get(w, "type"));
    if (wtype && !strcmp(wtype, "calendar_year")) {
        c->window = FD_WINDOW_CALENDAR_YEAR;
    } else if (wtype && !strcmp(wtype, "rolling")) {
        const json_t *months = json_object_get(w, "months");
        if (!json_is_integer(months) || json_integer_value(months) < 1 ||
            json_integer_value(months) > 120)
            return bad(field, msg, "window.months", "a rolling window is 1 to 120 months");
        c->window = FD_WINDOW_ROLLING;
        c->months = (int)json_integer_value(months);
    } else {
        return bad(
            field, msg, "window",
            "window must be {\"type\":\"rolling\",\"months\":N} or {\"type\":\"calendar_year\"}");
    }
    const json_t *ret = json_object_get(def, "retention_months"),
                 *dr = json_object_get(def, "downgrade_on_refund");
    if (ret &&
        (!json_is_integer(ret) || json_integer_value(ret) < 0 || json_integer_value(ret) > 36))
        return bad(field, msg, "retention_months", "retention_months is 0 to 36");
    c->retention_months = ret ? (int)json_integer_value(ret) : 0;
    if (dr && !json_is_boolean(dr))
        return bad(field, msg, "downgrade_on_refund", "must be true or false");
    c->downgrade_on_refund = json_is_true(dr);
    const json_t *tiers = json_object_get(def, "tiers");
    if (!json_is_array(tiers) || json_array_size(tiers) == 0 ||
        json_array_size(tiers) > FD_TIERS_MAX)
        return bad(field, msg, "tiers", "tiers is a list of 1 to 10 tiers, lowest first");
    for (size_t i = 0; i < json_array_size(tiers); i++) {
        int rc = parse_tier(json_array_get(tiers, i), (int)i, c, exponent, field, msg);
        c->n = (int)i + (c->tiers[i].benefits != NULL);
        if (rc) {
            fd_tier_config_clear(c);
            return rc;
        }
    }
    return FD_OK;
}

void fd_tier_config_clear(fd_tier_config *c)
{
    for (int i = 0; i < c->n; i++)
        json_decref(c->tiers[i].benefits);
    c->n = 0;
}

json_t *fd_tier_config_json(const fd_tier_config *c, int exponent)
{
    json_t *tiers = json_array();
    for (int i = 0; i < c->n; i++) {
        char amount[40];
        json_t *th;
        if (c->metric == FD_METRIC_SPEND) {
            fd_amount_format(c->tiers[i].threshold, exponent, amount, sizeof amount);
            th = json_string(amount);
        } else {
            th = json_integer(c->tiers[i].threshold);
        }
        json_array_append_new(tiers, json_pack("{s:s, s:o, s:O}", "name", c->tiers[i].name,
                                               "threshold", th, "benefits", c->tiers[i].benefits));
    }
    json_t *window = c->window == FD_WINDOW_ROLLING
                         ? json_pack("{s:s, s:i}", "type", "rolling", "months", c->months)
                         : json_pack("{s:s}", "type", "calendar_year");
    return json_pack("{s:s, s:o, s:i, s:b, s:o}", "metric", METRICS[c->metric], "window", window,
                     "retention_months", c->retention_months, "downgrade_on_refund",
                     c->downgrade_on_refund, "tiers", tiers);
}

int fd_tier_for_metric(const fd_tier_config *c, int64_t metric)
{
    int best = -1;
    for (int i = 0; i < c->n; i++)
        if (metric >= c->tiers[i].threshold) best = i;
    return best;
}

int fd_tier_index(const fd_tier_config *c, const char *name)
{
    for (int i = 0; name && i < c->n; i++)
        if (!strcmp(c->tiers[i].name, name)) return i;
    return -1;
}

fd_date fd_tier_window_start(const fd_tier_config *c, fd_date end)
{
    if (c->window == FD_WINDOW_ROLLING) return fd_date_add_months(end, -c->months);
    if (end.month == 1 && end.day == 1) return (fd_date){end.year - 1, 1, 1};
    return (fd_date){end.year, 1, 1};
}

fd_date fd_tier_period_end(const fd_tier_config *c, fd_date d)
{
    if (c->window == FD_WINDOW_ROLLING) return fd_date_add_months(d, c->months);
    return (fd_date){d.year + 1, 1, 1};
}
