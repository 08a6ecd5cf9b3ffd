/*
 * context.h - the data JSONLogic conditions see about a member (earning
 * rules, segments, offers): profile, attributes, behaviour aggregates, tier
 * with its benefits, and the segments the member is in right now.
 */
#ifndef FD_CONTEXT_H
#define FD_CONTEXT_H

#include <jansson.h>

#include "base/localtime.h"
#include "core/member.h"
#include "core/program.h"
#include "store/config.h"
#include "store/db.h"

/* The parts of the data that cost to build (a query, a parse or many
 * objects): a caller that knows every condition it will evaluate builds only
 * the parts one of them may read. */
enum {
    FD_CTX_COUNTERS = 1 << 0,   /* member.stats counters (fd_stats_json) */
    FD_CTX_ATTRIBUTES = 1 << 1, /* member.attributes */
    FD_CTX_SEGMENTS = 1 << 2,   /* member.segments, the segment conditions evaluated */
    FD_CTX_TIME = 1 << 3,       /* time (fd_time_context) */
    FD_CTX_LINES = 1 << 4,      /* order.lines */
    FD_CTX_WINDOWS = 1 << 5,    /* member.stats over 30, 90 and 365 days (fd_stats_json) */
    FD_CTX_ALL = (1 << 6) - 1
};

/* The parts condition e may read (jl_may_read: conservative, so a computed
 * var path reads them all); 0 for NULL (no condition). */
unsigned fd_context_reads(const jl_expr *e);

/* {"weekday","hour","minute","date","day","month","year"} of a local time. */
json_t *fd_time_context(const fd_local *lt);

/* The "member" object: id, external_id, state, attributes, days_since_enrolment,
 * stats, tier, tier_benefits, orders_before and segments (evaluated now). m
 * may be NULL (an anonymous simulation). *tier receives the effective tier
 * index (-1). parts (FD_CTX_*): the stats counters and windows, attributes
 * and segments are left out unless asked for; the segments are evaluated with whatever
 * their own conditions read (fd_config.segment_reads). */
int fd_member_context(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                      const fd_local *lt, int64_t now, unsigned parts, json_t **out, int *tier);

/* The same from aggregates already loaded (stats is stolen, and holds the
 * counters when parts asks for them; tier is the effective tier index), for
 * scans over many members. */
json_t *fd_member_context_from(const fd_config *cfg, const fd_member *m, json_t *stats, int tier,
                               const fd_local *lt, int64_t now, unsigned parts);

/* The parts fd_member_context reads from the database for the parts asked:
 * those and, when the segments are asked for, what their conditions read. */
unsigned fd_member_context_needs(const fd_config *cfg, unsigned parts);

/* Names of the segments whose condition holds for data {"member","time"}. */
json_t *fd_segments_of(const fd_config *cfg, const json_t *data, const jl_env *env);

/* The per-thread JSONLogic scratch arena. */
jl_ctx *fd_thread_jl_ctx(void);

#endif
