/*
 * segments.c - /v1/segments (dynamic segments: CRUD, members, count, CSV
 * export), /v1/offers (CRUD) and a member's ranked offers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/import.h"
#include "api/members_json.h"
#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "core/perr.h"
#include "store/audit.h"
#include "store/config.h"
#include "store/context.h"
#include "store/members.h"
#include "store/segments.h"
#include "store/stats.h"
#include "store/tiering.h"

#define SCAN_PER_PAGE 20000 /* members examined by one page request at most */

/* ---------- definitions (segments and offers share the write path) ---------- */

typedef struct def_job {
    int64_t program_id, id;
    char kind; /* 's' segment, 'o' offer */
    char op;   /* 'c' create, 'u' update, 'd' delete */
    const char *name, *actor;
    char *text; /* condition (segments) or definition (offers) */
    bool active;
    fd_job_error err;
} def_job;

static int def_job_run(fd_db *db, void *arg)
{
    def_job *j = arg;
    int64_t now = fd_now();
    int rc;
    if (j->kind == 's')
        rc = j->op == 'c'
                 ? fd_segment_insert(db, j->program_id, j->name, j->text, j->actor, now, &j->id)
             : j->op == 'u'
                 ? fd_segment_update(db, j->program_id, j->id, j->name, j->text, j->actor, now)
                 : fd_segment_delete(db, j->program_id, j->id, now);
    else
        rc = j->op == 'c'   ? fd_offer_insert(db, j->program_id, j->name, j->text, j->active,
                                              j->actor, now, &j->id)
             : j->op == 'u' ? fd_offer_update(db, j->program_id, j->id, j->name, j->text, j->active,
                                              j->actor, now)
                            : fd_offer_delete(db, j->program_id, j->id, now);
    const char *what = j->kind == 's' ? "segment" : "offer";
    if (rc == FD_ECONFLICT)
        return job_fail(&j->err, rc, "name_taken", "name", "another %s has this name", what);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, j->kind == 's' ? "segment_not_found" : "offer_not_found", NULL,
                        "no such %s", what);
    if (rc) return rc;
    char id[24], action[32];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    snprintf(action, sizeof action, "%s.%s", what,
             j->op == 'c'   ? "create"
             : j->op == 'u' ? "update"
                            : "delete");
    return fd_audit_add(db, j->program_id, j->actor, action, what, id, NULL,
                        j->op == 'd' ? NULL : j->text, now);
}

static int run_def_job(fd_req *r, def_job *j)
{
    j->program_id = r->program.id;
    j->actor = r->who.actor;
    int rc = write_or_reply(r, def_job_run, j, &j->err);
    return rc;
}

/* Validates a segment body: a name and a JSONLogic condition. */
static int segment_body_or_reply(fd_req *r, def_job *j)
{
    const char *name;
    if (body_str_or_reply(r, "name", true, &name)) return FD_EINVAL;
    json_t *cond = json_object_get(r->body, "condition");
    if (!cond) {
        fd_reply_error(r, 422, "invalid_segment", "condition is required (JSONLogic)", "condition");
        return FD_EINVAL;
    }
    jl_expr *e;
    char field[128], msg[160];
    fd_perr pe = {field, msg};
    if (fd_perr_compile(&pe, "condition", cond, &e)) {
        fd_reply_error(r, 422, "invalid_segment", msg, field);
        return FD_EINVAL;
    }
    jl_free(e);
    j->name = name;
    j->text = fd_json_text(cond, false);
    return FD_OK;
}

static json_t *segment_json(fd_stmt *st)
{
    json_t *cond = json_loads(fd_stmt_text(st, 2), JSON_DECODE_ANY, NULL);
    return json_pack("{s:I, s:s, s:o, s:I, s:o, s:o, s:s}", "id", (json_int_t)fd_stmt_i64(st, 0),
                     "name", fd_stmt_text(st, 1), "condition", cond ? cond : json_null(), "version",
                     (json_int_t)fd_stmt_i64(st, 3), "created_at", fd_json_time(fd_stmt_i64(st, 4)),
                     "updated_at", fd_json_time(fd_stmt_i64(st, 5)), "updated_by",
                     fd_stmt_text(st, 6));
}

#define SEGMENT_COLS "id, name, condition, version, created_at, updated_at, updated_by"

static void reply_segment(fd_req *r, int64_t id, int status)
{
    fd_stmt *st;
    int rc = fd_db_query(r->db,
                         "SELECT " SEGMENT_COLS " FROM segments WHERE program_id = $1 AND id = $2"
                         " AND deleted_at IS NULL",
                         FD_PARAMS(FD_I(r->program.id), FD_I(id)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (fd_stmt_next(st) == 1)
        fd_reply(r, status, segment_json(st));
    else
        fd_reply_error(r, 404, "segment_not_found", "no such segment", NULL);
    fd_stmt_done(st);
}

void h_segments_create(fd_req *r)
{
    def_job j = {.kind = 's', .op = 'c'};
    if (segment_body_or_reply(r, &j)) return;
    if (!run_def_job(r, &j)) reply_segment(r, j.id, 201);
    free(j.text);
}

void h_segment_replace(fd_req *r)
{
    def_job j = {.kind = 's', .op = 'u'};
    if (param_id_or_reply(r, 0, &j.id) || segment_body_or_reply(r, &j)) return;
    if (!run_def_job(r, &j)) reply_segment(r, j.id, 200);
    free(j.text);
}

void h_segment_delete(fd_req *r)
{
    def_job j = {.kind = 's', .op = 'd'};
    if (param_id_or_reply(r, 0, &j.id)) return;
    if (!run_def_job(r, &j))
        fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j.id, "deleted", 1));
}

void h_segment_get(fd_req *r)
{
    int64_t id;
    if (!param_id_or_reply(r, 0, &id)) reply_segment(r, id, 200);
}

static json_t *segment_row(fd_stmt *st, void *arg)
{
    (void)arg;
    return segment_json(st);
}

void h_segments_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT " SEGMENT_COLS " FROM segments WHERE program_id = $1 AND id > $2"
               " AND deleted_at IS NULL ORDER BY id LIMIT $3",
               FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, segment_row, NULL);
}

/* ---------- members of a segment ---------- */

typedef struct scan_acc {
    json_t *data; /* page rows, or NULL when only counting */
    FILE *csv;    /* export, or NULL */
    int64_t count, limit, last_match;
    const fd_program *p;
} scan_acc;

static void on_match(const fd_member *m, void *arg)
{
    scan_acc *a = arg;
    if (a->data && (int64_t)json_array_size(a->data) >= a->limit) return;
    a->count++;
    a->last_match = m->id;
    if (a->data) json_array_append_new(a->data, fd_member_json(m, a->p));
    if (a->csv) {
        char id[24], balance[24];
        snprintf(id, sizeof id, "%lld", (long long)m->id);
        snprintf(balance, sizeof balance, "%lld", (long long)m->balance);
        fd_csv_cell(a->csv, id, false);
        fd_csv_cell(a->csv, m->external_id, false);
        fd_csv_cell(a->csv, m->email, false);
        fd_csv_cell(a->csv, m->tier, false);
        fd_csv_cell(a->csv, balance, true);
    }
}

/* Loads the segment of path parameter 0 from the program's configuration. */
static const fd_segment *segment_or_reply(fd_req *r, const fd_config *cfg)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return NULL;
    for (size_t i = 0; i < cfg->nsegments; i++)
        if (cfg->segments[i].id == id) return &cfg->segments[i];
    fd_reply_error(r, 404, "segment_not_found", "no such segment", NULL);
    return NULL;
}

static void scan_route(fd_req *r, char mode)
{
    fd_config *cfg;
    int rc = fd_config_get(r->db, &r->program, &cfg);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    const fd_segment *seg = segment_or_reply(r, cfg);
    int limit = FD_PAGE_DEFAULT;
    int64_t after = 0, last;
    bool done;
    if (!seg || (mode == 'p' && page_or_reply(r, &limit, &after))) {
        fd_config_release(cfg);
        return;
    }
    scan_acc a = {.limit = limit, .p = &r->program};
    char *csv = NULL;
    size_t csv_len = 0;
    if (mode == 'p') a.data = json_array();
    if (mode == 'x') {
        a.csv = fd_memstream(&csv, &csv_len);
        fputs("\"member_id\",\"external_id\",\"email\",\"tier\",\"balance\"\n", a.csv);
    }
    int64_t budget = mode == 'p' ? SCAN_PER_PAGE : INT64_MAX;
    rc = fd_segment_scan(r->db, &r->program, cfg, seg->condition, fd_now(), after, budget, on_match,
                         &a, &last, &done);
    if (rc) {
        fd_reply_status(r, rc, NULL);
    } else if (mode == 'p') {
        /* a full page ends at its last member; otherwise at the last member examined */
        bool full = (int64_t)json_array_size(a.data) >= limit;
        int64_t next = full ? a.last_match : done ? 0 : last;
        fd_reply(r, 200, fd_page_json(a.data, next));
        a.data = NULL;
    } else if (mode == 'c') {
        fd_reply(r, 200,
                 json_pack("{s:I, s:s}", "members", (json_int_t)a.count, "segment", seg->name));
    }
    if (a.csv) fclose(a.csv);
    if (!rc && mode == 'x') {
        r->status = 200;
        r->content_type = "text/csv; charset=utf-8";
        r->reply = csv;
        r->replied = true;
        csv = NULL;
    }
    json_decref(a.data);
    free(csv);
    fd_config_release(cfg);
}

void h_segment_members(fd_req *r)
{
    scan_route(r, 'p');
}

void h_segment_count(fd_req *r)
{
    scan_route(r, 'c');
}

void h_segment_export(fd_req *r)
{
    scan_route(r, 'x');
}

/* ---------- offers ---------- */

static int offer_body_or_reply(fd_req *r, def_job *j)
{
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the offer as a JSON object", NULL);
        return FD_EINVAL;
    }
    json_t *act = json_object_get(r->body, "active");
    if (act && !json_is_boolean(act)) {
        fd_reply_error(r, 422, "invalid_offer", "active must be true or false", "active");
        return FD_EINVAL;
    }
    j->active = !act || json_is_true(act);
    json_t *def = json_deep_copy(r->body);
    static const char *const BOOKKEEPING[] = {"id", "active", "created_at", "updated_at",
                                              "updated_by"};
    for (size_t i = 0; i < sizeof BOOKKEEPING / sizeof BOOKKEEPING[0]; i++)
        json_object_del(def, BOOKKEEPING[i]);
    fd_offer o;
    char field[128], msg[160];
    if (fd_offer_parse(def, &o, field, msg)) {
        json_decref(def);
        fd_reply_error(r, 422, "invalid_offer", msg, field);
        return FD_EINVAL;
    }
    fd_offer_clear(&o);
    j->name = json_string_value(json_object_get(r->body, "name"));
    j->text = json_canonical(def);
    json_decref(def);
    return FD_OK;
}

static json_t *offer_json(fd_stmt *st)
{
    json_t *o = json_loads(fd_stmt_text(st, 1), 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "id", json_integer(fd_stmt_i64(st, 0)));
    json_object_set_new(o, "active", json_boolean(fd_stmt_i64(st, 2)));
    json_object_set_new(o, "updated_at", fd_json_time(fd_stmt_i64(st, 3)));
    json_object_set_new(o, "updated_by", json_string(fd_stmt_text(st, 4)));
    return o;
}

static void reply_offers(fd_req *r, int64_t id, int status, int limit, int64_t after)
{
    fd_stmt *st;
    int rc = id ? fd_db_query(r->db,
                              "SELECT id, definition, active, updated_at, updated_by FROM offers"
                              " WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",
                              FD_PARAMS(FD_I(r->program.id), FD_I(id)), &st)
                : fd_db_query(r->db,
                              "SELECT id, definition, active, updated_at, updated_by FROM offers"
                              " WHERE program_id = $1 AND id > $2 AND deleted_at IS NULL"
                              " ORDER BY id LIMIT $3",
                              FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (id) {
        if (fd_stmt_next(st) == 1)
            fd_reply(r, status, offer_json(st));
        else
            fd_reply_error(r, 404, "offer_not_found", "no such offer", NULL);
    } else {
        json_t *data = json_array();
        int64_t last = 0;
        while (fd_stmt_next(st) == 1) {
            last = fd_stmt_i64(st, 0);
            json_array_append_new(data, offer_json(st));
        }
        fd_reply(r, 200, fd_page_json(data, (int)json_array_size(data) == limit ? last : 0));
    }
    fd_stmt_done(st);
}

void h_offers_create(fd_req *r)
{
    def_job j = {.kind = 'o', .op = 'c'};
    if (offer_body_or_reply(r, &j)) return;
    if (!run_def_job(r, &j)) reply_offers(r, j.id, 201, 0, 0);
    free(j.text);
}

void h_offer_replace(fd_req *r)
{
    def_job j = {.kind = 'o', .op = 'u'};
    if (param_id_or_reply(r, 0, &j.id) || offer_body_or_reply(r, &j)) return;
    if (!run_def_job(r, &j)) reply_offers(r, j.id, 200, 0, 0);
    free(j.text);
}

void h_offer_delete(fd_req *r)
{
    def_job j = {.kind = 'o', .op = 'd'};
    if (param_id_or_reply(r, 0, &j.id)) return;
    if (!run_def_job(r, &j))
        fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j.id, "deleted", 1));
}

void h_offer_get(fd_req *r)
{
    int64_t id;
    if (!param_id_or_reply(r, 0, &id)) reply_offers(r, id, 200, 0, 0);
}

void h_offers_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (!page_or_reply(r, &limit, &after)) reply_offers(r, 0, 200, limit, after);
}

typedef struct ranked {
    const fd_offer *o;
    int64_t affinity;
    char reason[320];
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->affinity != y->affinity) return x->affinity > y->affinity ? -1 : 1;
    if (x->o->priority != y->o->priority) return x->o->priority > y->o->priority ? -1 : 1;
    return (x->o->id > y->o->id) - (x->o->id < y->o->id);
}

/* GET /v1/members/{id}/offers: the active offers the member qualifies for,
 * ranked by affinity (how much of the offer's category or SKU the member
 * bought), then priority: the first is the next best offer. */
void h_member_offers(fd_req *r)
{
    int64_t id;
    fd_member m = {0};
    fd_config *cfg = NULL;
    if (param_id_or_reply(r, 0, &id)) return;
    int rc = fd_member_get(r->db, r->program.id, id, &m);
    if (rc == FD_ENOTFOUND) {
        fd_reply_error(r, 404, "member_not_found", "no such member", NULL);
        return;
    }
    int64_t now = fd_now();
    fd_local lt;
    json_t *member = NULL;
    int tier;
    if (!rc) rc = fd_config_get(r->db, &r->program, &cfg);
    if (!rc) rc = fd_localtime(r->program.timezone, now, &lt);
    if (!rc)
        rc = fd_member_context(r->db, &r->program, cfg, &m, &lt, now, FD_CTX_ALL, &member, &tier);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        fd_config_release(cfg);
        fd_member_clear(&m);
        return;
    }
    json_t *data = json_pack("{s:o, s:o}", "member", member, "time", fd_time_context(&lt));
    const json_t *stats = json_object_get(member, "stats");
    jl_env env = {now, lt.weekday, lt.hour, lt.utc_offset_s};
    ranked *v = fd_calloc(cfg->noffers ? cfg->noffers : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < cfg->noffers; i++) {
        const fd_offer *o = &cfg->offers[i];
        if (o->condition && !jl_test(o->condition, data, &env, fd_thread_jl_ctx())) continue;
        ranked *x = &v[n++];
        x->o = o;
        const char *kind = o->target_category[0] ? "category" : o->target_sku[0] ? "SKU" : NULL;
        const char *target = o->target_category[0] ? o->target_category : o->target_sku;
        if (kind) {
            json_t *counts =
                json_object_get(stats, o->target_category[0] ? "category_counts" : "sku_counts");
            x->affinity = json_integer_value(json_object_get(counts, target));
        }
        if (x->affinity > 0)
            snprintf(x->reason, sizeof x->reason, "bought %lld item%s of %s %s",
                     (long long)x->affinity, x->affinity == 1 ? "" : "s", kind, target);
        else if (o->condition)
            snprintf(x->reason, sizeof x->reason, "matches the offer's condition");
        else
            snprintf(x->reason, sizeof x->reason, "open to every member");
    }
    qsort(v, n, sizeof *v, cmp_ranked);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_deep_copy(v[i].o->definition);
        json_object_set_new(o, "id", json_integer(v[i].o->id));
        json_object_set_new(o, "rank", json_integer((json_int_t)i + 1));
        json_object_set_new(o, "affinity", json_integer(v[i].affinity));
        json_object_set_new(o, "reason", json_string(v[i].reason));
        json_array_append_new(out, o);
    }
    fd_reply(r, 200,
             json_pack("{s:I, s:o, s:O}", "member_id", (json_int_t)m.id, "data", out, "segments",
                       json_object_get(member, "segments")));
    free(v);
    json_decref(data);
    fd_config_release(cfg);
    fd_member_clear(&m);
}
