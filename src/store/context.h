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

/* {"weekday","hour","minute","date","day","month","year"} of a local time. */
json_t *fd_time_context(const fd_local *lt);

/* The "member" object: id, external_id, state, attributes, days_since_enrolment,
 * stats, tier, tier_benefits and segments (evaluated now). m may be NULL
 * (an anonymous simulation). *tier receives the effective tier index (-1).
 * counters: include the stats counters (fd_stats_json); the segments are
 * evaluated with them whenever one of their conditions reads them. */
int fd_member_context(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                      const fd_local *lt, int64_t now, bool counters, json_t **out, int *tier);

/* The same from aggregates already loaded (stats is stolen; tier is the
 * effective tier index), for scans over many members. */
json_t *fd_member_context_from(const fd_config *cfg, const fd_member *m, json_t *stats, int tier,
                               const fd_local *lt, int64_t now);

/* Names of the segments whose condition holds for data {"member","time"}. */
json_t *fd_segments_of(const fd_config *cfg, const json_t *data, const jl_env *env);

/* The per-thread JSONLogic scratch arena. */
jl_ctx *fd_thread_jl_ctx(void);

#endif
