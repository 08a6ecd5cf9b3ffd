/*
 * context.c - the member context of conditions (context.h).
 */
#include "store/context.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/calendar.h"
#include "core/jsonx.h"
#include "store/stats.h"
#include "store/tiering.h"

static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *p)
{
    jl_ctx_free(p);
}

static void ctx_init(void)
{
    pthread_key_create(&ctx_key, ctx_free);
}

jl_ctx *fd_thread_jl_ctx(void)
{
    pthread_once(&ctx_once, ctx_init);
    jl_ctx *c = pthread_getspecific(ctx_key);
    if (!c) {
        c = jl_ctx_new();
        pthread_setspecific(ctx_key, c);
    }
    return c;
}

unsigned fd_context_reads(const jl_expr *e)
{
    static const struct {
        const char *path;
        unsigned part;
    } PARTS[] = {{"member.attributes", FD_CTX_ATTRIBUTES},
                 {"member.segments", FD_CTX_SEGMENTS},
                 {"time", FD_CTX_TIME},
                 {"order.lines", FD_CTX_LINES}};
    unsigned reads = fd_stats_read_by(e);
    for (size_t i = 0; i < sizeof PARTS / sizeof *PARTS; i++)
        if (jl_may_read(e, PARTS[i].path)) reads |= PARTS[i].part;
    return reads;
}

json_t *fd_time_context(const fd_local *lt)
{
    char date[16];
    snprintf(date, sizeof date, "%04d-%02d-%02d", lt->year & 0x3fff, lt->month & 15, lt->day & 31);
    return json_pack("{s:i, s:i, s:i, s:s, s:i, s:i, s:i}", "weekday", lt->weekday, "hour",
                     lt->hour, "minute", lt->minute, "date", date, "day", lt->day, "month",
                     lt->month, "year", lt->year);
}

json_t *fd_segments_of(const fd_config *cfg, const json_t *data, const jl_env *env)
{
    json_t *names = json_array();
    jl_ctx *jc = fd_thread_jl_ctx();
    for (size_t i = 0; i < cfg->nsegments; i++)
        if (jl_test(cfg->segments[i].condition, data, env, jc))
            json_array_append_new(names, json_string(cfg->segments[i].name));
    return names;
}

unsigned fd_member_context_needs(const fd_config *cfg, unsigned parts)
{
    return parts & FD_CTX_SEGMENTS && cfg->nsegments ? parts | cfg->segment_reads : parts;
}

json_t *fd_member_context_from(const fd_config *cfg, const fd_member *m, json_t *stats, int tier,
                               const fd_local *lt, int64_t now, unsigned parts)
{
    parts = fd_member_context_needs(cfg, parts);
    const fd_tier *t = tier >= 0 ? &cfg->tiers.tiers[tier] : NULL;
    json_t *attrs = NULL;
    if (parts & FD_CTX_ATTRIBUTES) {
        attrs = json_loads(m->attributes ? m->attributes : "{}", 0, NULL);
        if (!attrs) attrs = json_object();
    }
    json_int_t orders_before = json_integer_value(json_object_get(stats, "orders_placed"));
    json_t *member = json_object();
    fd_json_put(member, "id", json_integer(m->id));
    fd_json_put(member, "external_id", json_string(m->external_id));
    fd_json_put(member, "state", json_string(fd_member_state_name(m->state)));
    if (attrs) fd_json_put(member, "attributes", attrs);
    fd_json_put(member, "days_since_enrolment", json_integer((now - m->created_at) / 86400));
    fd_json_put(member, "stats", stats);
    fd_json_put(member, "tier", t ? json_string(t->name) : NULL);
    fd_json_put(member, "tier_benefits", t ? json_incref(t->benefits) : json_object());
    fd_json_put(member, "orders_before", json_integer(orders_before));
    if (!(parts & FD_CTX_SEGMENTS)) return member;
    if (cfg->nsegments) {
        json_t *data = json_object();
        fd_json_put(data, "member", json_incref(member));
        if (parts & FD_CTX_TIME) json_object_set_new(data, "time", fd_time_context(lt));
        jl_env env = {now, lt->weekday, lt->hour, lt->utc_offset_s};
        json_object_set_new(member, "segments", fd_segments_of(cfg, data, &env));
        json_decref(data);
    } else {
        json_object_set_new(member, "segments", json_array());
    }
    return member;
}

int fd_member_context(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                      const fd_local *lt, int64_t now, unsigned parts, json_t **out, int *tier)
{
    *tier = -1;
    if (!m) {
        *out = json_pack("{s:n, s:{}, s:{}, s:n, s:{}, s:[], s:i}", "id", "attributes", "stats",
                         "tier", "tier_benefits", "segments", "orders_before", 0);
        return FD_OK;
    }
    json_t *stats;
    int64_t today = fd_date_days((fd_date){lt->year, lt->month, lt->day});
    int rc = fd_stats_json(db, m->id, today, p->exponent, &cfg->rfm,
                           fd_member_context_needs(cfg, parts), &stats);
    if (!rc) rc = fd_tier_effective(db, p, cfg, m, now, tier);
    if (rc) return rc;
    *out = fd_member_context_from(cfg, m, stats, *tier, lt, now, parts);
    return FD_OK;
}
