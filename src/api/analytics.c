/*
 * analytics.c - predictive CLV: GET /v1/reports/clv (the fitted models, the
 * distribution, the top and bottom members), GET /v1/members/{id}/clv, and the
 * program KPIs, GET /v1/reports/kpis (JSON or CSV).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/report_filter.h"
#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "core/clv.h"
#include "core/jsonx.h"
#include "core/money.h"
#include "store/clv_data.h"
#include "store/kpis.h"
#include "store/tiering.h"

typedef struct clv_query {
    int weeks;       /* horizon */
    double discount; /* per 4-week period */
} clv_query;

static int query_or_reply(fd_req *r, clv_query *q)
{
    const char *h = fd_query(r, "horizon_weeks"), *d = fd_query(r, "discount");
    char *end;
    q->weeks = 52;
    q->discount = 0.01;
    if (h) {
        long v = strtol(h, &end, 10);
        if (*end || v < 4 || v > 520) {
            fd_reply_error(r, 422, "invalid_query", "horizon_weeks is 4 to 520", "horizon_weeks");
            return FD_EINVAL;
        }
        q->weeks = (int)v;
    }
    if (d) {
        double v = strtod(d, &end);
        if (*end || end == d || !(v >= 0 && v < 1)) {
            fd_reply_error(r, 422, "invalid_query", "discount is a rate per 4 weeks, 0 to 1",
                           "discount");
            return FD_EINVAL;
        }
        q->discount = v;
    }
    return FD_OK;
}

/* The program's customers as of a day and the models fitted on them. */
typedef struct clv_fit {
    fd_bgnbd p;
    fd_gamma_gamma g;
    fd_clv_customer *c; /* n customers, ids[i] is c[i]'s member id */
    int64_t *ids;
    size_t n;
} clv_fit;

static void clv_fit_free(clv_fit *f)
{
    free(f->c);
    free(f->ids);
}

/* Loads the customers and fits both models; replies 409 when there is too
 * little data. On success the caller frees *f with clv_fit_free(). */
static int fit_or_reply(fd_req *r, int64_t today, clv_fit *f)
{
    int rc = fd_clv_load(r->db, r->program.id, 0, today, r->program.exponent, FD_CLV_FIT_MAX, &f->c,
                         &f->ids, &f->n);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    rc = fd_bgnbd_fit(f->c, f->n, &f->p);
    if (!rc) rc = fd_gamma_gamma_fit(f->c, f->n, &f->g);
    if (rc) {
        clv_fit_free(f);
        fd_reply_error(r, 409, "not_enough_data", "the models need customers with repeat purchases",
                       NULL);
    }
    return rc;
}

static json_t *model_json(const fd_bgnbd *p, const fd_gamma_gamma *g, size_t n, const clv_query *q)
{
    return json_pack("{s:{s:f, s:f, s:f, s:f, s:f}, s:{s:f, s:f, s:f, s:f}, s:I, s:i, s:f, s:s}",
                     "bgnbd", "r", p->r, "alpha", p->alpha, "a", p->a, "b", p->b, "log_likelihood",
                     p->ll, "gamma_gamma", "p", g->p, "q", g->q, "gamma", g->gamma,
                     "log_likelihood", g->ll, "customers", (json_int_t)n, "horizon_weeks", q->weeks,
                     "discount", q->discount, "time_unit", "week");
}

static json_t *member_json_clv(int64_t id, const fd_clv_customer *c, const fd_bgnbd *p,
                               const fd_gamma_gamma *g, const clv_query *q)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f}", "member_id", (json_int_t)id,
                     "repeat_purchases", c->x, "p_alive", fd_bgnbd_p_alive(p, c->x, c->t_x, c->T),
                     "expected_purchases", fd_bgnbd_expected(p, c->x, c->t_x, c->T, q->weeks),
                     "expected_order_value", fd_gamma_gamma_value(g, c->x, c->m), "clv",
                     fd_clv(p, g, c, 4.0, q->weeks / 4, q->discount), "average_order_value", c->m);
}

/* Query parameter `name` as a date, YYYY-MM-DD; *present false when absent. */
static int date_or_reply(fd_req *r, const char *name, fd_date *d, bool *present)
{
    const char *v = fd_query(r, name);
    char tail;
    *present = v != NULL;
    if (!v) return FD_OK;
    if (sscanf(v, "%4d-%2d-%2d%c", &d->year, &d->month, &d->day, &tail) != 3 || d->month < 1 ||
        d->month > 12 || d->day < 1 || d->day > fd_days_in_month(d->year, d->month) ||
        d->year < 1970 || d->year > 9999) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s is a date, YYYY-MM-DD", name);
        fd_reply_error(r, 422, "invalid_query", msg, name);
        return FD_EINVAL;
    }
    return FD_OK;
}

/* The program's local date today. */
static int local_today_or_reply(fd_req *r, fd_date *d)
{
    int rc = fd_local_date(&r->program, fd_now(), d);
    if (rc) fd_reply_status(r, rc, NULL);
    return rc;
}

/* The day the summaries are taken on: ?as_of=YYYY-MM-DD (for historic data), else today. */
static int today_or_reply(fd_req *r, int64_t *today)
{
    fd_date d;
    bool present;
    if (date_or_reply(r, "as_of", &d, &present) || (!present && local_today_or_reply(r, &d)))
        return FD_EINVAL;
    *today = fd_date_days(d);
    return FD_OK;
}

typedef struct ranked_clv {
    int64_t id;
    double clv;
    size_t index;
} ranked_clv;

static int by_clv(const void *a, const void *b)
{
    const ranked_clv *x = a, *y = b;
    return (x->clv < y->clv) - (x->clv > y->clv);
}

void h_report_clv(fd_req *r)
{
    clv_query q;
    int64_t today;
    clv_fit f;
    if (query_or_reply(r, &q) || today_or_reply(r, &today) || fit_or_reply(r, today, &f)) return;
    const fd_bgnbd *p = &f.p;
    const fd_gamma_gamma *g = &f.g;
    const fd_clv_customer *c = f.c;
    size_t n = f.n;
    ranked_clv *v = fd_calloc(n ? n : 1, sizeof *v);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = (ranked_clv){f.ids[i], fd_clv(p, g, &c[i], 4.0, q.weeks / 4, q.discount), i};
        total += v[i].clv;
    }
    qsort(v, n, sizeof *v, by_clv);
    json_t *top = json_array(), *bottom = json_array();
    for (size_t i = 0; i < n && i < 10; i++) {
        json_array_append_new(top, member_json_clv(v[i].id, &c[v[i].index], p, g, &q));
        size_t j = n - 1 - i;
        if (j >= 10 || n <= 10)
            json_array_append_new(bottom, member_json_clv(v[j].id, &c[v[j].index], p, g, &q));
    }
    json_t *dist = json_pack("{s:f, s:f, s:f, s:f, s:f}", "total", total, "mean",
                             n ? total / (double)n : 0, "p10", n ? v[n * 9 / 10].clv : 0, "median",
                             n ? v[n / 2].clv : 0, "p90", n ? v[n / 10].clv : 0);
    fd_reply(r, 200,
             json_pack("{s:o, s:o, s:o, s:o}", "model", model_json(p, g, n, &q), "distribution",
                       dist, "top", top, "bottom", bottom));
    free(v);
    clv_fit_free(&f);
}

void h_member_clv(fd_req *r)
{
    clv_query q;
    int64_t id, today;
    clv_fit f;
    if (owned_id_or_reply(r, 0, "member", &id) || query_or_reply(r, &q) ||
        today_or_reply(r, &today) || fit_or_reply(r, today, &f))
        return;
    fd_clv_customer *c;
    int64_t *ids;
    size_t n;
    int rc = fd_clv_load(r->db, r->program.id, id, today, r->program.exponent, 1, &c, &ids, &n);
    if (rc) {
        fd_reply_status(r, rc, NULL);
    } else if (n == 0) {
        fd_reply_error(r, 404, "no_orders", "no such member, or no orders yet", NULL);
    } else {
        json_t *o = member_json_clv(id, &c[0], &f.p, &f.g, &q);
        json_object_set_new(o, "model", model_json(&f.p, &f.g, f.n, &q));
        fd_reply(r, 200, o);
    }
    if (!rc) {
        free(c);
        free(ids);
    }
    clv_fit_free(&f);
}

/* KPI report ------------------------------------------------------------ */

#define KPI_MAX_DAYS 3660 /* ten years in one report */

int report_period_or_reply(fd_req *r, fd_date *from, fd_date *to)
{
    bool has_from, has_to;
    if (date_or_reply(r, "from", from, &has_from) || date_or_reply(r, "to", to, &has_to) ||
        (!has_to && local_today_or_reply(r, to)))
        return FD_EINVAL;
    if (!has_from) *from = fd_date_from_days(fd_date_days(*to) - 29);
    int64_t days = fd_date_days(*to) - fd_date_days(*from);
    if (days < 0 || days >= KPI_MAX_DAYS) {
        fd_reply_error(r, 422, "invalid_query", "from is on or before to, at most 3660 days apart",
                       "from");
        return FD_EINVAL;
    }
    return FD_OK;
}

static json_t *date_json(fd_date d)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    return json_string(buf);
}

/* x to four decimals: ratios are reported as 0.6667. */
static json_t *four_places(double x)
{
    return json_real(round(x * 10000) / 10000);
}

/* part / whole to four decimals, null when whole is 0. */
static json_t *ratio(int64_t part, int64_t whole)
{
    return whole ? four_places((double)part / (double)whole) : json_null();
}

/* Mean order value, rounded half up to the minor unit; null without orders. */
static json_t *average_amount(int64_t revenue, int64_t orders, int exponent)
{
    int64_t avg;
    if (!orders || revenue < 0 || fd_div_round(revenue, orders, FD_ROUND_HALF_UP, &avg))
        return json_null();
    return fd_json_amount(avg, exponent);
}

/* Points spent on rewards and codes redeemed, with what they drove. */
static json_t *redemption_json(const fd_program *p, const fd_kpis *k)
{
    return json_pack("{s:I, s:o, s:I, s:o, s:I, s:o}", "points_redeemed",
                     (json_int_t)k->points_redeemed, "redemption_rate",
                     ratio(k->points_redeemed, k->points_issued), "code_redemptions",
                     (json_int_t)k->redemptions, "discount_granted",
                     fd_json_amount(k->redemption_discount, p->exponent), "orders_with_codes",
                     (json_int_t)k->redemption_orders, "attributed_revenue",
                     fd_json_amount(k->redemption_revenue, p->exponent));
}

/* NPS = 100 x (promoters - detractors) / answers, to one decimal;
 * satisfaction: mean of 1..5 and the share of 4 and 5 (CSAT). */
static json_t *survey_json(const fd_kpis *k)
{
    json_t *nps = k->nps_answers ? json_real(round(1000.0 * (double)(k->promoters - k->detractors) /
                                                   (double)k->nps_answers) /
                                             10)
                                 : json_null();
    json_t *mean = k->satisfaction_answers
                       ? four_places((double)k->satisfaction_sum / (double)k->satisfaction_answers)
                       : json_null();
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:I, s:o, s:o}", "nps_responses",
                     (json_int_t)k->nps_answers, "nps_promoters", (json_int_t)k->promoters,
                     "nps_passives", (json_int_t)k->passives, "nps_detractors",
                     (json_int_t)k->detractors, "nps", nps, "satisfaction_responses",
                     (json_int_t)k->satisfaction_answers, "satisfaction_average", mean, "csat",
                     ratio(k->satisfied, k->satisfaction_answers));
}

static json_t *kpis_json(const fd_program *p, const fd_kpis *k)
{
    int64_t liability;
    json_t *aov_m = average_amount(k->member_revenue, k->member_orders, p->exponent);
    json_t *aov_g = average_amount(k->guest_revenue, k->guest_orders, p->exponent);
    json_t *bonus = json_null(); /* member AOV / guest AOV - 1, from the exact sums */
    if (k->member_orders && k->guest_orders && k->guest_revenue > 0)
        bonus = four_places((double)k->member_revenue * (double)k->guest_orders /
                                ((double)k->guest_revenue * (double)k->member_orders) -
                            1);
    json_t *value = fd_program_liability(p, k->balance_at_end, &liability)
                        ? json_null() /* beyond int64 minor units */
                        : fd_json_amount(liability, p->exponent);
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:o, s:o,"
        " s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
        "members", (json_int_t)k->members, "new_members", (json_int_t)k->new_members,
        "active_members", (json_int_t)k->buyers, "active_engagement_rate",
        ratio(k->buyers, k->members), "repeat_customers", (json_int_t)k->repeat_buyers,
        "repeat_customer_rate", ratio(k->repeat_buyers, k->buyers), "purchase_frequency",
        ratio(k->member_orders, k->buyers), "member_orders", (json_int_t)k->member_orders,
        "member_revenue", fd_json_amount(k->member_revenue, p->exponent),
        "member_average_order_value", aov_m, "guest_orders", (json_int_t)k->guest_orders,
        "guest_revenue", fd_json_amount(k->guest_revenue, p->exponent), "guest_average_order_value",
        aov_g, "member_order_share", ratio(k->member_orders, k->member_orders + k->guest_orders),
        "monetary_bonus", bonus, "points_issued", (json_int_t)k->points_issued, "points_reversed",
        (json_int_t)k->points_reversed, "points_expired", (json_int_t)k->points_expired,
        "points_adjusted", (json_int_t)k->points_adjusted, "points_outstanding",
        (json_int_t)k->balance_at_end, "points_pending", (json_int_t)k->pending_at_end, "liability",
        value);
    json_object_update_new(o, redemption_json(p, k));
    json_object_update_new(o, survey_json(k));
    return o;
}

/* The KPIs of local days from..to (both included) into *out; replies on failure. */
static int kpis_or_reply(fd_req *r, fd_date from, fd_date to, bool filtered, json_t **out)
{
    fd_date end = fd_date_from_days(fd_date_days(to) + 1);
    int64_t t0, t1;
    fd_kpis k;
    int rc = fd_local_midnight(r->program.timezone, from.year, from.month, from.day, &t0);
    if (!rc) rc = fd_local_midnight(r->program.timezone, end.year, end.month, end.day, &t1);
    if (!rc) rc = fd_kpis_load(r->db, r->program.id, t0, t1, filtered, &k);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    *out = kpis_json(&r->program, &k);
    return FD_OK;
}

/* One CSV cell: strings as they are (amounts), numbers as JSON writes them, null empty. */
static void csv_value(FILE *f, json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), f);
    } else if (!json_is_null(v)) {
        char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
        if (text) fputs(text, f);
        free(text);
    }
}

/* Rows of {"from","to","kpis"}: a header "from","to",<kpi>... then one line each. */
static char *kpis_csv(json_t *rows)
{
    char *csv = NULL;
    size_t len = 0;
    FILE *f = fd_memstream(&csv, &len);
    const char *key;
    json_t *v, *row;
    size_t i;
    fputs("\"from\",\"to\"", f);
    json_object_foreach(json_object_get(json_array_get(rows, 0), "kpis"), key, v)
        fprintf(f, ",\"%s\"", key);
    fputc('\n', f);
    json_array_foreach(rows, i, row)
    {
        csv_value(f, json_object_get(row, "from"));
        fputc(',', f);
        csv_value(f, json_object_get(row, "to"));
        json_object_foreach(json_object_get(row, "kpis"), key, v)
        {
            fputc(',', f);
            csv_value(f, v);
        }
        fputc('\n', f);
    }
    fclose(f);
    return csv;
}

/* ?format=json|csv; *csv true for csv. */
static int format_or_reply(fd_req *r, bool *csv)
{
    const char *format = fd_query(r, "format");
    *csv = format && !strcmp(format, "csv");
    if (format && !*csv && strcmp(format, "json")) {
        fd_reply_error(r, 422, "invalid_query", "format is json or csv", "format");
        return FD_EINVAL;
    }
    return FD_OK;
}

/* Replies rows as CSV; takes the reference to rows. */
static void reply_csv(fd_req *r, json_t *rows)
{
    char *csv = kpis_csv(rows);
    json_decref(rows);
    r->status = 200;
    r->content_type = "text/csv; charset=utf-8";
    r->reply = csv;
    r->replied = true;
}

static json_t *row_json(fd_date from, fd_date to, json_t *kpis)
{
    return json_pack("{s:o, s:o, s:o}", "from", date_json(from), "to", date_json(to), "kpis", kpis);
}

void h_report_kpis(fd_req *r)
{
    fd_date from, to;
    json_t *kpis, *filters;
    bool csv, filtered;
    if (format_or_reply(r, &csv) || report_period_or_reply(r, &from, &to) ||
        report_filter_or_reply(r, &filtered, &filters))
        return;
    if (kpis_or_reply(r, from, to, filtered, &kpis)) {
        json_decref(filters);
        return;
    }
    json_t *row = row_json(from, to, kpis);
    if (csv) {
        json_decref(filters);
        reply_csv(r, json_pack("[o]", row));
        return;
    }
    json_object_set_new(row, "timezone", json_string(r->program.timezone));
    json_object_set_new(row, "currency", json_string(r->program.currency));
    json_object_set_new(row, "filters", filters);
    fd_reply(r, 200, row);
}

#define SERIES_MAX_POINTS 400

/* The last day of the bucket that starts on day d: the day itself, the
 * Sunday of its ISO week, or the last of its month; never after to. */
static int64_t bucket_end(char interval, int64_t d, int64_t to)
{
    int64_t end = d;
    if (interval == 'w') end = d + 6 - (d + 3) % 7; /* 1970-01-05, day 4, was a Monday */
    if (interval == 'm') {
        fd_date x = fd_date_from_days(d);
        end = d + fd_days_in_month(x.year, x.month) - x.day;
    }
    return end < to ? end : to;
}

void h_report_kpis_series(fd_req *r)
{
    fd_date from, to;
    bool csv;
    const char *iv = fd_query(r, "interval");
    char interval = !iv                    ? 'd'
                    : !strcmp(iv, "day")   ? 'd'
                    : !strcmp(iv, "week")  ? 'w'
                    : !strcmp(iv, "month") ? 'm'
                                           : 0;
    if (!interval) {
        fd_reply_error(r, 422, "invalid_query", "interval is day, week or month", "interval");
        return;
    }
    bool filtered;
    json_t *filters;
    if (format_or_reply(r, &csv) || report_period_or_reply(r, &from, &to)) return;
    int64_t last = fd_date_days(to), n = 0;
    for (int64_t d = fd_date_days(from); d <= last; d = bucket_end(interval, d, last) + 1)
        n++;
    if (n > SERIES_MAX_POINTS) {
        fd_reply_error(r, 422, "invalid_query",
                       "at most 400 points: a shorter period or a longer interval", "interval");
        return;
    }
    if (report_filter_or_reply(r, &filtered, &filters)) return;
    json_t *rows = json_array(), *kpis;
    for (int64_t d = fd_date_days(from); d <= last; d = bucket_end(interval, d, last) + 1) {
        fd_date a = fd_date_from_days(d), b = fd_date_from_days(bucket_end(interval, d, last));
        if (kpis_or_reply(r, a, b, filtered, &kpis)) {
            json_decref(rows);
            json_decref(filters);
            return;
        }
        json_array_append_new(rows, row_json(a, b, kpis));
    }
    if (csv) {
        json_decref(filters);
        reply_csv(r, rows);
        return;
    }
    fd_reply(r, 200,
             json_pack("{s:s, s:s, s:s, s:o, s:o}", "interval",
                       interval == 'd'   ? "day"
                       : interval == 'w' ? "week"
                                         : "month",
                       "timezone", r->program.timezone, "currency", r->program.currency, "filters",
                       filters, "points", rows));
}
