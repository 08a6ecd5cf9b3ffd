/*
 * analytics.c - predictive CLV: GET /v1/reports/clv (the fitted models, the
 * distribution, the top and bottom members) and GET /v1/members/{id}/clv.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/calendar.h"
#include "core/clv.h"
#include "store/clv_data.h"
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
        if (*end || !(v >= 0 && v < 1)) {
            fd_reply_error(r, 422, "invalid_query", "discount is a rate per 4 weeks, 0 to 1",
                           "discount");
            return FD_EINVAL;
        }
        q->discount = v;
    }
    return FD_OK;
}

/* Fits both models on the program's customers; replies 409 when there is too little data. */
static int fit_or_reply(fd_req *r, int64_t today, fd_bgnbd *p, fd_gamma_gamma *g, size_t *customers)
{
    fd_clv_customer *c;
    int64_t *ids;
    size_t n;
    int rc = fd_clv_load(r->db, r->program.id, 0, today, r->program.exponent, FD_CLV_FIT_MAX, &c,
                         &ids, &n);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    rc = fd_bgnbd_fit(c, n, p);
    if (!rc) rc = fd_gamma_gamma_fit(c, n, g);
    free(c);
    free(ids);
    if (rc)
        fd_reply_error(r, 409, "not_enough_data", "the models need customers with repeat purchases",
                       NULL);
    *customers = n;
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

/* The day the summaries are taken on: ?as_of=YYYY-MM-DD (for historic data), else today. */
static int today_or_reply(fd_req *r, int64_t *today)
{
    fd_date d;
    const char *as_of = fd_query(r, "as_of");
    if (as_of) {
        char tail;
        if (sscanf(as_of, "%4d-%2d-%2d%c", &d.year, &d.month, &d.day, &tail) != 3 || d.month < 1 ||
            d.month > 12 || d.day < 1 || d.day > fd_days_in_month(d.year, d.month) ||
            d.year < 1970) {
            fd_reply_error(r, 422, "invalid_query", "as_of is a date, YYYY-MM-DD", "as_of");
            return FD_EINVAL;
        }
        *today = fd_date_days(d);
        return FD_OK;
    }
    int rc = fd_local_date(&r->program, fd_now(), &d);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        *today = fd_date_days(d);
    return rc;
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
    fd_bgnbd p;
    fd_gamma_gamma g;
    size_t fitted;
    if (query_or_reply(r, &q) || today_or_reply(r, &today) ||
        fit_or_reply(r, today, &p, &g, &fitted))
        return;
    fd_clv_customer *c;
    int64_t *ids;
    size_t n;
    int rc = fd_clv_load(r->db, r->program.id, 0, today, r->program.exponent, FD_CLV_FIT_MAX, &c,
                         &ids, &n);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    ranked_clv *v = fd_calloc(n ? n : 1, sizeof *v);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = (ranked_clv){ids[i], fd_clv(&p, &g, &c[i], 4.0, q.weeks / 4, q.discount), i};
        total += v[i].clv;
    }
    qsort(v, n, sizeof *v, by_clv);
    json_t *top = json_array(), *bottom = json_array();
    for (size_t i = 0; i < n && i < 10; i++) {
        json_array_append_new(top, member_json_clv(v[i].id, &c[v[i].index], &p, &g, &q));
        size_t j = n - 1 - i;
        if (j >= 10 || n <= 10)
            json_array_append_new(bottom, member_json_clv(v[j].id, &c[v[j].index], &p, &g, &q));
    }
    json_t *dist = json_pack("{s:f, s:f, s:f, s:f, s:f}", "total", total, "mean",
                             n ? total / (double)n : 0, "p10", n ? v[n * 9 / 10].clv : 0, "median",
                             n ? v[n / 2].clv : 0, "p90", n ? v[n / 10].clv : 0);
    fd_reply(r, 200,
             json_pack("{s:o, s:o, s:o, s:o}", "model", model_json(&p, &g, fitted, &q),
                       "distribution", dist, "top", top, "bottom", bottom));
    free(v);
    free(c);
    free(ids);
}

void h_member_clv(fd_req *r)
{
    clv_query q;
    int64_t id, today;
    fd_bgnbd p;
    fd_gamma_gamma g;
    size_t fitted;
    if (param_id_or_reply(r, 0, &id) || query_or_reply(r, &q) || today_or_reply(r, &today) ||
        fit_or_reply(r, today, &p, &g, &fitted))
        return;
    fd_clv_customer *c;
    int64_t *ids;
    size_t n;
    int rc = fd_clv_load(r->db, r->program.id, id, today, r->program.exponent, 1, &c, &ids, &n);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (n == 0)
        fd_reply_error(r, 404, "no_orders", "no such member, or no orders yet", NULL);
    else {
        json_t *o = member_json_clv(id, &c[0], &p, &g, &q);
        json_object_set_new(o, "model", model_json(&p, &g, fitted, &q));
        fd_reply(r, 200, o);
    }
    free(c);
    free(ids);
}
