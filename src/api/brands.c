/*
 * brands.c - the brands of a coalition program (docs/engagement.md): one
 * program, one wallet per member, events tagged with the brand that sent
 * them, earning rules per brand (event.brand), and GET /v1/reports/brands
 * (orders, revenue, customers and points per brand, and overall).
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "api/report_filter.h"
#include "base/fd.h"
#include "base/localtime.h"
#include "store/audit.h"

typedef struct brand_job {
    int64_t program_id, id;
    const char *code, *name, *actor;
    fd_job_error err;
} brand_job;

static int brand_run(fd_db *db, void *arg)
{
    brand_job *j = arg;
    int64_t now = fd_now(), taken;
    int rc = fd_db_one_i64(db, "SELECT id FROM brands WHERE program_id = $1 AND code = $2",
                           FD_PARAMS(FD_I(j->program_id), FD_S(j->code)), &taken);
    if (rc == FD_OK)
        return job_fail(&j->err, FD_ECONFLICT, "code_taken", "code", "another brand has this code");
    if (rc != FD_ENOTFOUND) return rc;
    rc = fd_db_one_i64(db,
                       "INSERT INTO brands(program_id, code, name, created_at)"
                       " VALUES ($1, $2, $3, $4) RETURNING id",
                       FD_PARAMS(FD_I(j->program_id), FD_S(j->code), FD_S(j->name), FD_I(now)),
                       &j->id);
    return rc ? rc
              : fd_audit_add(db, j->program_id, j->actor, "brand.create", "brand", j->code, NULL,
                             NULL, now);
}

/* POST /v1/brands {"code", "name"} */
void h_brands_create(fd_req *r)
{
    brand_job j = {.program_id = r->program.id, .actor = r->who.actor};
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the brand as a JSON object", NULL);
        return;
    }
    if (body_ident_or_reply(r, "code", true, &j.code) ||
        body_str_or_reply(r, "name", true, &j.name))
        return;
    if (!write_or_reply(r, brand_run, &j, &j.err))
        fd_reply(
            r, 201,
            json_pack("{s:I, s:s, s:s}", "id", (json_int_t)j.id, "code", j.code, "name", j.name));
}

static json_t *brand_row(fd_stmt *st, void *arg)
{
    (void)arg;
    return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)fd_stmt_i64(st, 0), "code",
                     fd_stmt_text(st, 1), "name", fd_stmt_text(st, 2), "created_at",
                     fd_json_time(fd_stmt_i64(st, 3)));
}

void h_brands_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT id, code, name, created_at FROM brands WHERE program_id = $1 AND id > $2"
               " ORDER BY id LIMIT $3",
               FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, brand_row, NULL);
}

/* ---------- report ---------- */

typedef struct brand_figures {
    int64_t orders, revenue, customers, guest_orders, guest_revenue, points;
} brand_figures;

/* The row of brand code (""  for events without a brand) in *rows. */
static brand_figures *row_of(json_t *index, brand_figures *rows, size_t *n, const char *code)
{
    json_t *at = json_object_get(index, code);
    if (at) return &rows[json_integer_value(at)];
    json_object_set_new(index, code, json_integer((json_int_t)*n));
    return &rows[(*n)++];
}

#define BRANDS_MAX 200 /* brands reported per program */

static int collect(fd_db *db, const char *sql, int64_t pid, int64_t t0, int64_t t1, int kind,
                   json_t *index, brand_figures *rows, size_t *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, FD_PARAMS(FD_I(pid), FD_I(t0), FD_I(t1)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1 && *n < BRANDS_MAX) {
        brand_figures *x = row_of(index, rows, n, fd_stmt_text(st, 0));
        if (kind == 'o') {
            x->orders = fd_stmt_i64(st, 1);
            x->revenue = fd_stmt_i64(st, 2);
            x->customers = fd_stmt_i64(st, 3);
        } else if (kind == 'g') {
            x->guest_orders = fd_stmt_i64(st, 1);
            x->guest_revenue = fd_stmt_i64(st, 2);
        } else {
            x->points = fd_stmt_i64(st, 1);
        }
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

static json_t *figures_json(const fd_program *p, const brand_figures *x)
{
    return json_pack("{s:I, s:o, s:I, s:I, s:o, s:I}", "orders", (json_int_t)x->orders, "revenue",
                     fd_json_amount(x->revenue, p->exponent), "customers", (json_int_t)x->customers,
                     "guest_orders", (json_int_t)x->guest_orders, "guest_revenue",
                     fd_json_amount(x->guest_revenue, p->exponent), "points_issued",
                     (json_int_t)x->points);
}

/* GET /v1/reports/brands?from=&to=: per brand and overall. Customers
 * overall count each member once, however many brands they bought from. */
void h_report_brands(fd_req *r)
{
    fd_date from, to;
    if (report_period_or_reply(r, &from, &to)) return;
    fd_date end = fd_date_from_days(fd_date_days(to) + 1);
    int64_t t0, t1, pid = r->program.id, customers = 0;
    int rc = fd_local_midnight(r->program.timezone, from.year, from.month, from.day, &t0);
    if (!rc) rc = fd_local_midnight(r->program.timezone, end.year, end.month, end.day, &t1);
    brand_figures rows[BRANDS_MAX + 1] = {0}, all = {0};
    json_t *index = json_object();
    size_t n = 0;
    if (!rc)
        rc = collect(r->db,
                     "SELECT COALESCE(brand, ''), COUNT(*), CAST(SUM(total - refunded) AS BIGINT),"
                     " COUNT(DISTINCT member_id) FROM orders WHERE program_id = $1"
                     " AND occurred_at >= $2 AND occurred_at < $3 GROUP BY COALESCE(brand, '')",
                     pid, t0, t1, 'o', index, rows, &n);
    if (!rc)
        rc = collect(r->db,
                     "SELECT COALESCE(brand, ''), COUNT(*), CAST(SUM(total - refunded) AS BIGINT)"
                     " FROM guest_orders WHERE program_id = $1 AND occurred_at >= $2"
                     " AND occurred_at < $3 GROUP BY COALESCE(brand, '')",
                     pid, t0, t1, 'g', index, rows, &n);
    if (!rc)
        rc = collect(r->db,
                     "SELECT COALESCE(e.brand, ''), CAST(SUM(j.points + j.pending) AS BIGINT)"
                     " FROM journal j JOIN events e ON e.program_id = j.program_id"
                     " AND e.event_id = j.event_id WHERE j.program_id = $1 AND j.kind = 'earn'"
                     " AND j.created_at >= $2 AND j.created_at < $3 GROUP BY COALESCE(e.brand, '')",
                     pid, t0, t1, 'p', index, rows, &n);
    if (!rc)
        rc = fd_db_one_i64(r->db,
                           "SELECT COUNT(DISTINCT member_id) FROM orders WHERE program_id = $1"
                           " AND occurred_at >= $2 AND occurred_at < $3",
                           FD_PARAMS(FD_I(pid), FD_I(t0), FD_I(t1)), &customers);
    if (rc) {
        json_decref(index);
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *brands = json_array();
    const char *code;
    json_t *at;
    json_object_foreach(index, code, at)
    {
        const brand_figures *x = &rows[json_integer_value(at)];
        json_t *o = figures_json(&r->program, x);
        json_object_set_new(o, "brand", *code ? json_string(code) : json_null());
        json_array_append_new(brands, o);
        all.orders += x->orders, all.revenue += x->revenue, all.points += x->points;
        all.guest_orders += x->guest_orders, all.guest_revenue += x->guest_revenue;
    }
    all.customers = customers;
    char a[16], b[16];
    snprintf(a, sizeof a, "%04d-%02d-%02d", from.year, from.month, from.day);
    snprintf(b, sizeof b, "%04d-%02d-%02d", to.year, to.month, to.day);
    fd_reply(r, 200,
             json_pack("{s:s, s:s, s:s, s:o, s:o}", "from", a, "to", b, "currency",
                       r->program.currency, "brands", brands, "overall",
                       figures_json(&r->program, &all)));
    json_decref(index);
}
