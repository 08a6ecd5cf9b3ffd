/*
 * engagement.c - badges and challenges after each event (engagement.h).
 */
#include "store/engagement.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "store/context.h"
#include "store/ledger.h"
#include "store/outbox.h"

/* Adds one to counts[type]. */
static void count_one(json_t *counts, const char *type)
{
    json_object_set_new(counts, type,
                        json_integer(json_integer_value(json_object_get(counts, type)) + 1));
}

/* Brings member_id's kept counts (counts: {"<type>": n}, as of event *through)
 * up to date with its events after *through: the one before this, once
 * engagement runs on each of the member's events; the member's whole history
 * the first time. Each changed count is written back. */
static int count_since(fd_db *db, int64_t program_id, int64_t member_id, json_t *counts,
                       int64_t *through)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, type FROM events WHERE member_id = $1 AND id > $2"
                         " ORDER BY id",
                         FD_PARAMS(FD_I(member_id), FD_I(*through)), &st);
    if (rc) return rc;
    json_t *changed = json_object();
    while ((rc = fd_stmt_next(st)) == 1) {
        const char *type = fd_stmt_text(st, 1);
        *through = fd_stmt_i64(st, 0);
        count_one(counts, type);
        json_object_set(changed, type, json_true());
    }
    fd_stmt_done(st);
    const char *type;
    json_t *yes;
    json_object_foreach(changed, type, yes)
    {
        if (rc) break; /* the scan's error, or the last write's */
        rc = fd_db_run(db,
                       "INSERT INTO member_event_counts(member_id, type, program_id, events,"
                       " through_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (member_id, type)"
                       " DO UPDATE SET events = $4, through_id = $5",
                       FD_PARAMS(FD_I(member_id), FD_S(type), FD_I(program_id),
                                 FD_I(json_integer_value(json_object_get(counts, type))),
                                 FD_I(*through)),
                       NULL);
    }
    json_decref(changed);
    return rc;
}

/* {"<type>": count} of the member's events, this one included (its row is
 * written after the decisions): the kept counts (member_event_counts) and
 * the events since. */
static int event_counts(fd_db *db, int64_t program_id, int64_t member_id, const char *type,
                        json_t **out)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT type, events, through_id FROM member_event_counts"
                         " WHERE member_id = $1",
                         FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    json_t *counts = json_object();
    int64_t through = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        json_object_set_new(counts, fd_stmt_text(st, 0), json_integer(fd_stmt_i64(st, 1)));
        if (fd_stmt_i64(st, 2) > through) through = fd_stmt_i64(st, 2);
    }
    fd_stmt_done(st);
    if (rc >= 0) rc = count_since(db, program_id, member_id, counts, &through);
    if (rc < 0) {
        json_decref(counts);
        return rc;
    }
    count_one(counts, type);
    *out = counts;
    return FD_OK;
}

static int bonus(fd_db *db, const fd_program *p, fd_member *m, int64_t points, const char *what,
                 const char *name, const fd_engagement_event *ev)
{
    if (!points) return FD_OK;
    char reason[160];
    snprintf(reason, sizeof reason, "%s: %s", what, name);
    fd_posting post = {"earn", reason, ev->event_id, NULL, what, ev->now};
    return fd_ledger_credit(db, p, m, points, false, &post, NULL);
}

static int notify(fd_db *db, const fd_program *p, const fd_member *m, const char *type, int64_t id,
                  const char *name, int64_t points, const fd_engagement_event *ev)
{
    json_t *data = json_pack("{s:I, s:s, s:I, s:s}", "id", (json_int_t)id, "name", name, "points",
                             (json_int_t)points, "event_id", ev->event_id);
    int rc = fd_outbox_emit(db, p->id, type, m->id, data, ev->now);
    json_decref(data);
    return rc;
}

/* The ids of the badges member_id holds, ascending: *ids (caller frees) and *n. */
static int held_badges(fd_db *db, int64_t member_id, int64_t **ids, size_t *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT badge_id FROM member_badges WHERE member_id = $1"
                         " ORDER BY badge_id",
                         FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    size_t count = 0, cap = 16;
    int64_t *held = fd_malloc(cap * sizeof *held);
    while ((rc = fd_stmt_next(st)) == 1) {
        if (count == cap) held = fd_realloc(held, (cap *= 2) * sizeof *held);
        held[count++] = fd_stmt_i64(st, 0);
    }
    fd_stmt_done(st);
    if (rc < 0) {
        free(held);
        return rc;
    }
    *ids = held;
    *n = count;
    return FD_OK;
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int award_badges(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                        const fd_engagement_event *ev, const json_t *data, const jl_env *env,
                        json_t *earned)
{
    int64_t *held = NULL;
    size_t nheld = 0;
    int rc = cfg->nbadges ? held_badges(db, m->id, &held, &nheld) : FD_OK; /* not one per badge */
    for (size_t i = 0; i < cfg->nbadges && !rc; i++) {
        const fd_badge *b = &cfg->badges[i];
        if (!b->active || bsearch(&b->id, held, nheld, sizeof *held, cmp_id)) continue;
        if (!jl_test(b->condition, data, env, fd_thread_jl_ctx())) continue;
        rc = fd_db_run(db,
                       "INSERT INTO member_badges(program_id, member_id, badge_id, event_id,"
                       " points, earned_at) VALUES ($1, $2, $3, $4, $5, $6)",
                       FD_PARAMS(FD_I(p->id), FD_I(m->id), FD_I(b->id), FD_S(ev->event_id),
                                 FD_I(b->points), FD_I(ev->now)),
                       NULL);
        if (!rc) rc = bonus(db, p, m, b->points, "badge", b->name, ev);
        if (!rc) rc = notify(db, p, m, "badge.earned", b->id, b->name, b->points, ev);
        json_array_append_new(earned, json_pack("{s:I, s:s, s:I}", "id", (json_int_t)b->id, "name",
                                                b->name, "points", (json_int_t)b->points));
    }
    free(held);
    return rc;
}

static int load_progress(fd_db *db, int64_t member_id, int64_t challenge_id,
                         fd_challenge_progress *out, bool *found)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT progress, last_week, completed_at FROM member_challenges"
                         " WHERE member_id = $1 AND challenge_id = $2",
                         FD_PARAMS(FD_I(member_id), FD_I(challenge_id)), &st);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    rc = fd_stmt_next(st);
    *found = rc == 1;
    if (rc == 1)
        *out = (fd_challenge_progress){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1),
                                       !fd_stmt_is_null(st, 2)};
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

static int save_progress(fd_db *db, const fd_program *p, int64_t member_id, int64_t challenge_id,
                         const fd_challenge_progress *pr, bool found, int64_t now)
{
    if (found)
        return fd_db_run(db,
                         "UPDATE member_challenges SET progress = $3, last_week = $4,"
                         " completed_at = $5, updated_at = $6 WHERE member_id = $1"
                         " AND challenge_id = $2",
                         FD_PARAMS(FD_I(member_id), FD_I(challenge_id), FD_I(pr->progress),
                                   FD_I(pr->last_week), pr->completed ? FD_I(now) : FD_NULL,
                                   FD_I(now)),
                         NULL);
    return fd_db_run(db,
                     "INSERT INTO member_challenges(member_id, challenge_id, program_id, progress,"
                     " last_week, completed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     FD_PARAMS(FD_I(member_id), FD_I(challenge_id), FD_I(p->id), FD_I(pr->progress),
                               FD_I(pr->last_week), pr->completed ? FD_I(now) : FD_NULL, FD_I(now)),
                     NULL);
}

static int count_challenges(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                            const fd_engagement_event *ev, const json_t *data, const jl_env *env,
                            const fd_local *lt, json_t *changed)
{
    int rc = FD_OK;
    int64_t day = fd_date_days((fd_date){lt->year, lt->month, lt->day});
    for (size_t i = 0; i < cfg->nchallenges && !rc; i++) {
        const fd_challenge *c = &cfg->challenges[i];
        if (!c->active || strcmp(c->event_type, ev->type)) continue;
        if (fd_schedule_check(&c->schedule, ev->occurred_at, lt->weekday,
                              lt->hour * 60 + lt->minute) != FD_SCHEDULE_OPEN)
            continue;
        if (c->condition && !jl_test(c->condition, data, env, fd_thread_jl_ctx())) continue;
        fd_challenge_progress pr;
        bool found;
        if ((rc = load_progress(db, m->id, c->id, &pr, &found)) || pr.completed) continue;
        bool done = fd_challenge_step(c, &pr, day);
        rc = save_progress(db, p, m->id, c->id, &pr, found, ev->now);
        if (!rc && done) rc = bonus(db, p, m, c->points, "challenge", c->name, ev);
        if (!rc && done)
            rc = notify(db, p, m, "challenge.completed", c->id, c->name, c->points, ev);
        json_array_append_new(
            changed, json_pack("{s:I, s:s, s:I, s:I, s:b}", "id", (json_int_t)c->id, "name",
                               c->name, "progress", (json_int_t)pr.progress, "target",
                               (json_int_t)fd_challenge_target(c), "completed", done));
    }
    return rc;
}

int fd_engagement_after_event(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                              const fd_engagement_event *ev, json_t **out)
{
    *out = NULL;
    if (!cfg->nbadges && !cfg->nchallenges) return FD_OK;
    fd_local lt;
    json_t *member = NULL, *counts = NULL;
    int tier;
    int rc = fd_localtime(p->timezone, ev->occurred_at, &lt);
    if (!rc)
        rc = fd_member_context(db, p, cfg, m, &lt, ev->now, cfg->engagement_reads, &member, &tier);
    if (!rc && cfg->engagement_counts) rc = event_counts(db, p->id, m->id, ev->type, &counts);
    if (rc) {
        json_decref(member);
        return rc;
    }
    if (counts) json_object_set_new(member, "events", counts);
    json_t *data = json_pack("{s:o, s:O, s:o}", "member", member, "event",
                             ev->body ? ev->body : json_null(), "time", fd_time_context(&lt));
    jl_env env = {ev->occurred_at, lt.weekday, lt.hour, lt.utc_offset_s};
    json_t *badges = json_array(), *challenges = json_array();
    rc = award_badges(db, p, cfg, m, ev, data, &env, badges);
    if (!rc) rc = count_challenges(db, p, cfg, m, ev, data, &env, &lt, challenges);
    json_decref(data);
    if (!rc && (json_array_size(badges) || json_array_size(challenges)))
        *out = json_pack("{s:O, s:O}", "badges", badges, "challenges", challenges);
    json_decref(badges);
    json_decref(challenges);
    return rc;
}
