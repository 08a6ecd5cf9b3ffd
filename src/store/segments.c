/*
 * segments.c - segments and offers in storage; segment scans (segments.h).
 */
#include "store/segments.h"

#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "store/context.h"
#include "store/members.h"
#include "store/stats.h"

static int name_taken(fd_db *db, const char *table_sql, int64_t program_id, const char *name,
                      int64_t id)
{
    int64_t other;
    int rc = fd_db_one_i64(db, table_sql, FD_PARAMS(FD_I(program_id), FD_S(name)), &other);
    if (rc == FD_ENOTFOUND) return FD_OK;
    if (rc) return rc;
    return other == id ? FD_OK : FD_ECONFLICT;
}

static const char SEGMENT_NAME[] =
    "SELECT id FROM segments WHERE program_id = $1 AND name = $2 AND deleted_at IS NULL";
static const char OFFER_NAME[] =
    "SELECT id FROM offers WHERE program_id = $1 AND name = $2 AND deleted_at IS NULL";

int fd_segment_insert(fd_db *db, int64_t program_id, const char *name, const char *condition,
                      const char *actor, int64_t now, int64_t *id)
{
    int rc = name_taken(db, SEGMENT_NAME, program_id, name, 0);
    if (!rc)
        rc = fd_db_one_i64(
            db,
            "INSERT INTO segments(program_id, name, condition, version, created_at,"
            " updated_at, updated_by) VALUES ($1, $2, $3, 1, $4, $4, $5) RETURNING id",
            FD_PARAMS(FD_I(program_id), FD_S(name), FD_S(condition), FD_I(now), FD_S(actor)), id);
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_segment_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                      const char *condition, const char *actor, int64_t now)
{
    int64_t n = 0;
    int rc = name_taken(db, SEGMENT_NAME, program_id, name, id);
    if (!rc)
        rc = fd_db_run(db,
                       "UPDATE segments SET name = $3, condition = $4, version = version + 1,"
                       " updated_at = $5, updated_by = $6 WHERE program_id = $1 AND id = $2"
                       " AND deleted_at IS NULL",
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_S(name), FD_S(condition), FD_I(now),
                                 FD_S(actor)),
                       &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_segment_delete(fd_db *db, int64_t program_id, int64_t id, int64_t now)
{
    int64_t n = 0;
    int rc = fd_db_run(db,
                       "UPDATE segments SET deleted_at = $3 WHERE program_id = $1 AND id = $2"
                       " AND deleted_at IS NULL",
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(now)), &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_offer_insert(fd_db *db, int64_t program_id, const char *name, const char *definition,
                    bool active, const char *actor, int64_t now, int64_t *id)
{
    int rc = name_taken(db, OFFER_NAME, program_id, name, 0);
    if (!rc)
        rc = fd_db_one_i64(
            db,
            "INSERT INTO offers(program_id, name, definition, active, created_at,"
            " updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
            FD_PARAMS(FD_I(program_id), FD_S(name), FD_S(definition), FD_I(active), FD_I(now),
                      FD_S(actor)),
            id);
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_offer_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                    const char *definition, bool active, const char *actor, int64_t now)
{
    int64_t n = 0;
    int rc = name_taken(db, OFFER_NAME, program_id, name, id);
    if (!rc)
        rc = fd_db_run(db,
                       "UPDATE offers SET name = $3, definition = $4, active = $5, updated_at = $6,"
                       " updated_by = $7 WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_S(name), FD_S(definition),
                                 FD_I(active), FD_I(now), FD_S(actor)),
                       &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

int fd_offer_delete(fd_db *db, int64_t program_id, int64_t id, int64_t now)
{
    int64_t n = 0;
    int rc =
        fd_db_run(db,
                  "UPDATE offers SET deleted_at = $3, active = 0 WHERE program_id = $1 AND id = $2"
                  " AND deleted_at IS NULL",
                  FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(now)), &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc ? rc : fd_config_bump(db, program_id);
}

/* ---------- scans ---------- */

typedef struct chunk {
    fd_member *m;
    bool *match;
    size_t n;
    const fd_program *p;
    const fd_config *cfg;
    const jl_expr *condition;
    unsigned parts; /* of the member context the condition may read (fd_context_reads) */
    const fd_local *lt;
    json_t *time;
    int64_t now, today;
} chunk;

static void keep(const fd_member *m, void *arg)
{
    chunk *c = arg;
    c->m[c->n] = *m;
    c->m[c->n].attributes = fd_strdup(m->attributes ? m->attributes : "{}");
    c->n++;
}

static void evaluate(int64_t member_id, const fd_stats_raw *raw, void *arg)
{
    chunk *c = arg;
    size_t lo = 0, hi = c->n; /* the chunk is in id order */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->m[mid].id < member_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == c->n || c->m[lo].id != member_id) return; /* an id of another program */
    const fd_member *m = &c->m[lo];
    int tier = c->cfg->has_tiers ? fd_tier_index(&c->cfg->tiers, m->tier) : -1;
    json_t *member = fd_member_context_from(
        c->cfg, m, fd_stats_build(raw, c->today, c->p->exponent, &c->cfg->rfm, c->parts), tier,
        c->lt, c->now, c->parts);
    json_t *data = json_pack("{s:o, s:O}", "member", member, "time", c->time);
    jl_env env = {c->now, c->lt->weekday, c->lt->hour, c->lt->utc_offset_s};
    c->match[lo] = jl_test(c->condition, data, &env, fd_thread_jl_ctx());
    json_decref(data);
}

int fd_segment_scan(fd_db *db, const fd_program *p, const fd_config *cfg, const jl_expr *condition,
                    int64_t now, int64_t after, int64_t max_scan,
                    void (*fn)(const fd_member *m, void *arg), void *arg, int64_t *last, bool *done)
{
    fd_local lt;
    int rc = fd_localtime(p->timezone, now, &lt);
    if (rc) return rc;
    chunk c = {.m = fd_calloc(FD_SCAN_CHUNK, sizeof(fd_member)),
               .match = fd_calloc(FD_SCAN_CHUNK, sizeof(bool)),
               .p = p,
               .cfg = cfg,
               .condition = condition,
               .parts = fd_member_context_needs(cfg, fd_context_reads(condition)),
               .lt = &lt,
               .time = fd_time_context(&lt),
               .now = now,
               .today = fd_date_days((fd_date){lt.year, lt.month, lt.day})};
    int64_t scanned = 0;
    *last = after;
    *done = false;
    while (!rc && scanned < max_scan) {
        c.n = 0;
        rc = fd_member_list(db, p->id, *last, FD_SCAN_CHUNK, keep, &c);
        if (rc || c.n == 0) {
            *done = !rc;
            break;
        }
        memset(c.match, 0, FD_SCAN_CHUNK * sizeof(bool));
        rc = fd_stats_scan(db, p->id, c.m[0].id, c.m[c.n - 1].id, c.today, evaluate, &c);
        for (size_t i = 0; i < c.n; i++) {
            if (!rc && c.match[i]) fn(&c.m[i], arg);
            fd_member_clear(&c.m[i]);
        }
        scanned += (int64_t)c.n;
        *last = c.m[c.n - 1].id;
        if (c.n < FD_SCAN_CHUNK) *done = true;
        if (*done) break;
    }
    json_decref(c.time);
    free(c.m);
    free(c.match);
    return rc;
}
