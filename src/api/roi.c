/*
 * roi.c - GET /v1/reports/campaigns: per campaign and per reward, what it
 * cost (discounts, gift card credit given away, points at their value) and
 * the revenue of the orders it drove, over a period (docs/analytics.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/report_filter.h"
#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "store/config.h"
#include "store/ledger.h"

typedef struct roi_row {
    int64_t redemptions, customers, discount, gift_card, cashback, revenue;
    int64_t points;          /* points it cost: earned through its rules, or spent on it */
    int64_t vouchers_issued; /* rewards */
} roi_row;

/* The value of points in minor units (rounded down as liabilities are). */
static int64_t points_value(const fd_program *p, int64_t points)
{
    int64_t v = 0;
    return fd_program_liability(p, points, &v) ? 0 : v;
}

/* Redemption figures of campaigns or rewards (by = "campaign_id" or
 * "reward_id" in sql) in [t0, t1), into rows found by id. */
static int load_redemptions(fd_db *db, const char *sql, int64_t pid, int64_t t0, int64_t t1,
                            roi_row *rows, const int64_t *ids, size_t n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, FD_PARAMS(FD_I(pid), FD_I(t0), FD_I(t1)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        int64_t id = fd_stmt_i64(st, 0);
        for (size_t i = 0; i < n; i++) {
            if (ids[i] != id) continue;
            roi_row *x = &rows[i];
            x->redemptions = fd_stmt_i64(st, 1);
            x->customers = fd_stmt_i64(st, 2);
            x->discount = fd_stmt_i64(st, 3);
            x->gift_card = fd_stmt_i64(st, 4);
            x->cashback = fd_stmt_i64(st, 5);
            x->revenue = fd_stmt_i64(st, 6);
        }
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

#define REDEMPTION_SUMS                                                                            \
    ", COUNT(*), COUNT(DISTINCT member_id), CAST(SUM(discount + shipping_discount) AS BIGINT),"    \
    " CAST(SUM(gift_card) AS BIGINT), CAST(SUM(cashback) AS BIGINT),"                              \
    " CAST(SUM(order_amount) AS BIGINT) FROM redemptions WHERE program_id = $1"                    \
    " AND created_at >= $2 AND created_at < $3 AND status = 'redeemed'"

/* The campaign an earning rule belongs to (its stored definition), or 0. */
static int64_t rule_campaign(const char *definition)
{
    json_t *def = json_loads(definition ? definition : "{}", 0, NULL);
    int64_t id = json_integer_value(json_object_get(def, "campaign_id"));
    json_decref(def);
    return id;
}

/* An earning rule of one of the report's campaigns: the row it adds to. */
typedef struct campaign_rule {
    int64_t rule_id;
    roi_row *row;
} campaign_rule;

/* The program's earning rules (deleted ones too) that belong to one of the n
 * campaigns ids, with their rows; caller frees *out. */
static int load_campaign_rules(fd_db *db, int64_t pid, roi_row *rows, const int64_t *ids, size_t n,
                               campaign_rule **out, size_t *nout)
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT id, definition FROM earning_rules WHERE program_id = $1",
                         FD_PARAMS(FD_I(pid)), &st);
    if (rc) return rc;
    size_t k = 0, cap = 16;
    campaign_rule *found = fd_malloc(cap * sizeof *found);
    while ((rc = fd_stmt_next(st)) == 1) {
        int64_t campaign = rule_campaign(fd_stmt_text(st, 1));
        for (size_t i = 0; campaign && i < n; i++) {
            if (ids[i] != campaign) continue;
            if (k == cap) found = fd_realloc(found, (cap *= 2) * sizeof *found);
            found[k++] = (campaign_rule){fd_stmt_i64(st, 0), &rows[i]};
        }
    }
    fd_stmt_done(st);
    *out = found;
    *nout = k;
    return rc < 0 ? rc : FD_OK;
}

/* Points earned in the period through each campaign's earning rules
 * (switched off or deleted since included): the rule shares of the
 * period's earnings, each added to its rule's campaign. */
static int load_rule_points(fd_db *db, int64_t pid, int64_t t0, int64_t t1, roi_row *rows,
                            const int64_t *ids, size_t n)
{
    campaign_rule *crules = NULL;
    size_t ncr = 0;
    int rc = load_campaign_rules(db, pid, rows, ids, n, &crules, &ncr);
    fd_stmt *st;
    if (!rc && ncr)
        rc = fd_db_query(db,
                         "SELECT rules FROM journal WHERE program_id = $1 AND created_at >= $2"
                         " AND created_at < $3 AND kind = 'earn' AND rules IS NOT NULL",
                         FD_PARAMS(FD_I(pid), FD_I(t0), FD_I(t1)), &st);
    if (rc || !ncr) goto done;
    bool overflow = false;
    while (!overflow && (rc = fd_stmt_next(st)) == 1) {
        fd_rule_part *parts;
        size_t np;
        if (fd_ledger_shares_parse(fd_stmt_text(st, 0), &parts, &np)) continue; /* check's */
        for (size_t i = 0; i < np; i++)
            for (size_t c = 0; c < ncr; c++)
                if (crules[c].rule_id == parts[i].rule_id)
                    overflow |= fd_add_i64(crules[c].row->points, parts[i].points,
                                           &crules[c].row->points) != 0;
        free(parts);
    }
    fd_stmt_done(st);
    if (overflow) rc = FD_EOVERFLOW;
done:
    free(crules);
    return rc < 0 ? rc : FD_OK;
}

/* Vouchers each reward issued in the period (not cancelled) and their points. */
static int load_vouchers(fd_db *db, int64_t pid, int64_t t0, int64_t t1, roi_row *rows,
                         const int64_t *ids, size_t n)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT reward_id, COUNT(*), CAST(SUM(points) AS BIGINT) FROM codes"
                         " WHERE program_id = $1 AND created_at >= $2 AND created_at < $3"
                         " AND reward_id IS NOT NULL AND status <> 'cancelled' GROUP BY reward_id",
                         FD_PARAMS(FD_I(pid), FD_I(t0), FD_I(t1)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1)
        for (size_t i = 0; i < n; i++)
            if (ids[i] == fd_stmt_i64(st, 0)) {
                rows[i].vouchers_issued = fd_stmt_i64(st, 1);
                rows[i].points = fd_stmt_i64(st, 2);
            }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* One row of the report. Campaigns: cost = discounts + gift card credit +
 * cashback + the value of the points their rules issued. Rewards: the
 * points were the member's already; cost = what the vouchers gave. */
static json_t *row_json(const fd_program *p, int64_t id, const char *name, bool active,
                        const roi_row *x, bool campaign)
{
    int64_t value = points_value(p, x->points);
    int64_t cost = x->discount + x->gift_card + x->cashback + (campaign ? value : 0);
    json_t *roi = cost
                      ? json_real(round((double)(x->revenue - cost) / (double)cost * 10000) / 10000)
                      : json_null();
    json_t *o = json_pack(
        "{s:I, s:s, s:b, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o}", "id", (json_int_t)id,
        "name", name, "active", active, "redemptions", (json_int_t)x->redemptions, "customers",
        (json_int_t)x->customers, "discount", fd_json_amount(x->discount, p->exponent), "gift_card",
        fd_json_amount(x->gift_card, p->exponent), "cashback",
        fd_json_amount(x->cashback, p->exponent), "attributed_revenue",
        fd_json_amount(x->revenue, p->exponent), "points", (json_int_t)x->points, "points_value",
        fd_json_amount(value, p->exponent), "cost", fd_json_amount(cost, p->exponent), "roi", roi);
    if (!campaign) json_object_set_new(o, "vouchers_issued", json_integer(x->vouchers_issued));
    return o;
}

/* ?from=&to= local dates (default: the 30 days to today) as [t0, t1). */
static int window_or_reply(fd_req *r, int64_t *t0, int64_t *t1, json_t **period)
{
    fd_date from, to;
    int rc = report_period_or_reply(r, &from, &to);
    if (rc) return rc;
    fd_date end = fd_date_from_days(fd_date_days(to) + 1);
    rc = fd_local_midnight(r->program.timezone, from.year, from.month, from.day, t0);
    if (!rc) rc = fd_local_midnight(r->program.timezone, end.year, end.month, end.day, t1);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    char a[16], b[16];
    snprintf(a, sizeof a, "%04d-%02d-%02d", from.year, from.month, from.day);
    snprintf(b, sizeof b, "%04d-%02d-%02d", to.year, to.month, to.day);
    *period = json_pack("{s:s, s:s}", "from", a, "to", b);
    return FD_OK;
}

void h_report_campaigns(fd_req *r)
{
    int64_t t0, t1;
    json_t *period;
    fd_config *cfg;
    if (window_or_reply(r, &t0, &t1, &period)) return;
    int rc = fd_config_get(r->db, &r->program, &cfg);
    if (rc) {
        json_decref(period);
        fd_reply_status(r, rc, NULL);
        return;
    }
    size_t nc = cfg->ncampaigns, nr = cfg->nrewards;
    int64_t *cids = fd_calloc(nc + 1, sizeof *cids), *rids = fd_calloc(nr + 1, sizeof *rids);
    roi_row *crows = fd_calloc(nc + 1, sizeof *crows), *rrows = fd_calloc(nr + 1, sizeof *rrows);
    for (size_t i = 0; i < nc; i++)
        cids[i] = cfg->campaigns[i].id;
    for (size_t i = 0; i < nr; i++)
        rids[i] = cfg->rewards[i].id;
    int64_t pid = r->program.id;
    rc = load_redemptions(r->db, "SELECT campaign_id" REDEMPTION_SUMS " GROUP BY campaign_id", pid,
                          t0, t1, crows, cids, nc);
    if (!rc)
        rc = load_redemptions(r->db, "SELECT reward_id" REDEMPTION_SUMS " GROUP BY reward_id", pid,
                              t0, t1, rrows, rids, nr);
    if (!rc) rc = load_rule_points(r->db, pid, t0, t1, crows, cids, nc);
    if (!rc) rc = load_vouchers(r->db, pid, t0, t1, rrows, rids, nr);
    if (rc) {
        json_decref(period);
        fd_reply_status(r, rc, NULL);
    } else {
        json_t *camps = json_array(), *rews = json_array();
        for (size_t i = 0; i < nc; i++)
            json_array_append_new(camps, row_json(&r->program, cids[i], cfg->campaigns[i].name,
                                                  cfg->campaigns[i].active, &crows[i], true));
        for (size_t i = 0; i < nr; i++)
            json_array_append_new(rews, row_json(&r->program, rids[i], cfg->rewards[i].name,
                                                 cfg->rewards[i].active, &rrows[i], false));
        json_object_set_new(period, "currency", json_string(r->program.currency));
        json_object_set_new(period, "campaigns", camps);
        json_object_set_new(period, "rewards", rews);
        fd_reply(r, 200, period);
    }
    free(cids);
    free(rids);
    free(crows);
    free(rrows);
    fd_config_release(cfg);
}
