/*
 * tiering.c - tiers applied to members (tiering.h).
 */
#include "store/tiering.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/jsonx.h"
#include "core/money.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/programs.h"
#include "store/stats.h"

int fd_local_date(const fd_program *p, int64_t t, fd_date *out)
{
    fd_local lt;
    int rc = fd_localtime(p->timezone, t, &lt);
    if (!rc) *out = (fd_date){lt.year, lt.month, lt.day};
    return rc;
}

static int midnight(const fd_program *p, fd_date d, int64_t *out)
{
    return fd_local_midnight(p->timezone, d.year, d.month, d.day, out);
}

int fd_tier_metric_value(fd_db *db, const fd_config *cfg, int64_t member_id, fd_date end,
                         int64_t *metric)
{
    fd_date start = fd_tier_window_start(&cfg->tiers, end);
    int64_t spend, orders, points;
    int rc = fd_stats_window(db, member_id, fd_date_days(start), fd_date_days(end), &spend, &orders,
                             &points);
    if (rc) return rc;
    *metric = cfg->tiers.metric == FD_METRIC_POINTS  ? points
              : cfg->tiers.metric == FD_METRIC_SPEND ? spend
                                                     : orders;
    return FD_OK;
}

/* The metric over the window that includes today. */
static int metric_today(fd_db *db, const fd_program *p, const fd_config *cfg, int64_t member_id,
                        int64_t now, int64_t *metric)
{
    fd_date today;
    int rc = fd_local_date(p, now, &today);
    if (rc) return rc;
    return fd_tier_metric_value(db, cfg, member_id, fd_date_from_days(fd_date_days(today) + 1),
                                metric);
}

int fd_tier_effective(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                      int64_t now, int *index)
{
    *index = -1;
    if (!cfg->has_tiers) return FD_OK;
    if (m->tier[0]) {
        *index = fd_tier_index(&cfg->tiers, m->tier);
        if (*index >= 0) return FD_OK;
    }
    int64_t metric;
    int rc = metric_today(db, p, cfg, m->id, now, &metric);
    if (!rc) *index = fd_tier_for_metric(&cfg->tiers, metric);
    return rc;
}

static int history(fd_db *db, const fd_member *m, const char *from, const char *to,
                   const char *reason, int64_t metric, int64_t now)
{
    return fd_db_run(db,
                     "INSERT INTO tier_history(program_id, member_id, from_tier, to_tier, reason,"
                     " metric, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     FD_PARAMS(FD_I(m->program_id), FD_I(m->id), FD_S(from && *from ? from : NULL),
                               FD_S(to && *to ? to : NULL), FD_S(reason), FD_I(metric), FD_I(now)),
                     NULL);
}

/* Moves m to tier index to (-1: none), recording why; dates are set by the caller. */
static int change_tier(fd_db *db, const fd_config *cfg, fd_member *m, int to, const char *reason,
                       int64_t metric, int64_t now, json_t **change)
{
    char from[64];
    snprintf(from, sizeof from, "%s", m->tier);
    snprintf(m->tier, sizeof m->tier, "%s", to >= 0 ? cfg->tiers.tiers[to].name : "");
    m->tier_since = now;
    int64_t hooks[FD_OUTBOX_HOOKS_MAX];
    int n = 0;
    int rc = fd_member_set_tier(db, m);
    if (!rc) rc = history(db, m, from, m->tier, reason, metric, now);
    if (!rc) rc = fd_outbox_subscribers(db, m->program_id, "tier.changed", hooks, &n);
    if (!rc && n) { /* the message only for webhooks that want it */
        json_t *msg =
            json_pack("{s:s?, s:s?, s:s, s:I}", "from", from[0] ? from : NULL, "to",
                      m->tier[0] ? m->tier : NULL, "reason", reason, "metric", (json_int_t)metric);
        rc = fd_outbox_write(db, m->program_id, "tier.changed", m->id, msg, hooks, n, now);
        json_decref(msg);
    }
    if (!rc && change)
        *change = json_pack("{s:s?, s:s?, s:s}", "from", from[0] ? from : NULL, "to",
                            m->tier[0] ? m->tier : NULL, "reason", reason);
    return rc;
}

/* Starts a qualification period on local day d: period end and review date. */
static int start_period(const fd_program *p, const fd_config *cfg, fd_member *m, fd_date d)
{
    fd_date end = fd_tier_period_end(&cfg->tiers, d);
    int rc = midnight(p, end, &m->tier_period_end);
    if (!rc)
        rc = midnight(p, fd_date_add_months(end, cfg->tiers.retention_months), &m->tier_review_at);
    return rc;
}

int fd_tier_after_event(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                        int64_t now, json_t **change)
{
    if (!cfg->has_tiers) return FD_OK;
    int current = fd_tier_index(&cfg->tiers, m->tier);
    if (current == cfg->tiers.n - 1) return FD_OK; /* the top tier: no metric can raise it */
    int64_t metric;
    fd_date today;
    int rc = metric_today(db, p, cfg, m->id, now, &metric);
    if (!rc) rc = fd_local_date(p, now, &today);
    if (rc) return rc;
    int target = fd_tier_for_metric(&cfg->tiers, metric);
    if (target <= current) return FD_OK;
    if ((rc = start_period(p, cfg, m, today))) return rc;
    return change_tier(db, cfg, m, target, current < 0 && !m->tier[0] ? "qualified" : "upgrade",
                       metric, now, change);
}

int fd_tier_after_refund(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                         int64_t now, json_t **change)
{
    if (!cfg->has_tiers || !cfg->tiers.downgrade_on_refund || !m->tier[0]) return FD_OK;
    int64_t metric;
    int rc = metric_today(db, p, cfg, m->id, now, &metric);
    if (rc) return rc;
    int current = fd_tier_index(&cfg->tiers, m->tier),
        target = fd_tier_for_metric(&cfg->tiers, metric);
    if (target >= current) return FD_OK;
    return change_tier(db, cfg, m, target, "refund", metric, now, change);
}

/* Reviews one member whose requalification date came. */
static int review(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m, int64_t now)
{
    if (!cfg->has_tiers) { /* tiers removed: nothing to requalify */
        m->tier_review_at = 0;
        return fd_member_set_tier(db, m);
    }
    fd_date ended, today;
    int64_t metric;
    int rc = fd_local_date(p, m->tier_period_end, &ended);
    if (!rc) rc = fd_local_date(p, now, &today);
    if (!rc) rc = fd_tier_metric_value(db, cfg, m->id, ended, &metric);
    if (rc) return rc;
    int current = fd_tier_index(&cfg->tiers, m->tier),
        target = fd_tier_for_metric(&cfg->tiers, metric);
    /* The next period starts where the ended one stopped (a late job run changes nothing). */
    fd_date next_from = fd_date_days(ended) <= fd_date_days(today) ? ended : today;
    if ((rc = start_period(p, cfg, m, next_from))) return rc;
    if (target == current) return fd_member_set_tier(db, m); /* requalified */
    return change_tier(db, cfg, m, target, target < current ? "period_end" : "upgrade", metric, now,
                       NULL);
}

int fd_tier_review_due(fd_db *db, int64_t now, int limit, int64_t *count)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, program_id FROM members WHERE tier_review_at <= $1"
                         " ORDER BY tier_review_at, id LIMIT $2",
                         FD_PARAMS(FD_I(now), FD_I(limit)), &st);
    if (rc) return rc;
    int64_t(*due)[2] = fd_calloc((size_t)limit, sizeof *due);
    int n = 0;
    while (n < limit && (rc = fd_stmt_next(st)) == 1) {
        due[n][0] = fd_stmt_i64(st, 0);
        due[n][1] = fd_stmt_i64(st, 1);
        n++;
    }
    fd_stmt_done(st);
    for (int i = 0; i < n && rc >= 0; i++) {
        fd_program p;
        fd_config *cfg = NULL;
        fd_member m = {0};
        rc = fd_program_load(db, due[i][1], &p);
        if (!rc) rc = fd_config_get(db, &p, &cfg);
        if (!rc) rc = fd_member_get_locked(db, p.id, due[i][0], &m);
        if (!rc && m.tier_review_at && m.tier_review_at <= now) rc = review(db, &p, cfg, &m, now);
        fd_member_clear(&m);
        fd_config_release(cfg);
    }
    free(due);
    if (rc < 0) return rc;
    *count = n;
    return FD_OK;
}

/* The first program with tiers that has members the placement has not
 * looked at yet: its id (0 when there is none) and the last member id it
 * looked at. */
static int program_to_place(fd_db *db, int64_t *program_id, int64_t *after)
{
    fd_stmt *st;
    *program_id = 0;
    int rc = fd_db_query(db,
                         "SELECT p.id, p.tiers_placed_through FROM programs p"
                         " WHERE p.tiers IS NOT NULL AND p.tiers_placed_through <"
                         " (SELECT COALESCE(MAX(m.id), 0) FROM members m WHERE m.program_id = p.id)"
                         " ORDER BY p.id LIMIT 1",
                         FD_NOPARAMS, &st);
    if (rc) return rc;
    if ((rc = fd_stmt_next(st)) == 1) {
        *program_id = fd_stmt_i64(st, 0);
        *after = fd_stmt_i64(st, 1);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* Up to limit member ids of the program after id after, in id order: all of
 * them counted in *n, the ones without a tier put in untiered[*nu], the last
 * one in *last. Closed members are left as they are. */
static int members_after(fd_db *db, int64_t program_id, int64_t after, int limit, int *n,
                         int64_t *untiered, int *nu, int64_t *last)
{
    fd_stmt *st;
    *n = *nu = 0;
    int rc = fd_db_query(db,
                         "SELECT id, tier, state FROM members WHERE program_id = $1 AND id > $2"
                         " ORDER BY id LIMIT $3",
                         FD_PARAMS(FD_I(program_id), FD_I(after), FD_I(limit)), &st);
    if (rc) return rc;
    while (*n < limit && (rc = fd_stmt_next(st)) == 1) {
        const char *tier = fd_stmt_text(st, 1), *state = fd_stmt_text(st, 2);
        *last = fd_stmt_i64(st, 0);
        (*n)++;
        if ((!tier || !*tier) && strcmp(state, fd_member_state_name(FD_STATE_CLOSED)))
            untiered[(*nu)++] = *last;
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* Gives member id, found without a tier, the tier its metric reaches now, as
 * its next event would (reason "qualified"); counts it in *placed. */
static int place(fd_db *db, const fd_program *p, const fd_config *cfg, int64_t id, int64_t now,
                 int64_t *placed)
{
    fd_member m = {0};
    int rc = fd_member_get_locked(db, p->id, id, &m);
    if (!rc && !m.tier[0]) {
        rc = fd_tier_after_event(db, p, cfg, &m, now, NULL);
        if (!rc && m.tier[0]) (*placed)++;
    }
    fd_member_clear(&m);
    return rc == FD_ENOTFOUND ? FD_OK : rc; /* gone since the scan: nothing to place */
}

int fd_tier_place_due(fd_db *db, int64_t now, int limit, int64_t *examined, int64_t *placed)
{
    assert(limit > 0);
    *examined = *placed = 0;
    int64_t program_id, after;
    int rc = program_to_place(db, &program_id, &after);
    if (rc || !program_id) return rc;
    fd_program p;
    fd_config *cfg = NULL;
    int64_t *untiered = fd_calloc((size_t)limit, sizeof *untiered), last = after;
    int n = 0, nu = 0;
    rc = fd_program_load(db, program_id, &p);
    if (!rc) rc = fd_config_get(db, &p, &cfg);
    if (!rc) rc = members_after(db, program_id, after, limit, &n, untiered, &nu, &last);
    for (int i = 0; i < nu && !rc && cfg->has_tiers; i++)
        rc = place(db, &p, cfg, untiered[i], now, placed);
    if (!rc)
        rc = fd_db_run(db, "UPDATE programs SET tiers_placed_through = $2 WHERE id = $1",
                       FD_PARAMS(FD_I(program_id), FD_I(last)), NULL);
    if (!rc) *examined = n;
    fd_config_release(cfg);
    free(untiered);
    return rc;
}

static json_t *date_json(fd_date d)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year & 0x3fff, d.month & 15, d.day & 31);
    return json_string(buf);
}

static json_t *metric_value(const fd_program *p, const fd_config *cfg, int64_t v)
{
    if (cfg->tiers.metric != FD_METRIC_SPEND) return json_integer(v);
    char buf[40];
    fd_amount_format(v, p->exponent, buf, sizeof buf);
    return json_string(buf);
}

int fd_tier_progress(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                     int64_t now, json_t **out)
{
    if (!cfg->has_tiers) {
        *out = json_pack("{s:n, s:s}", "tier", "message", "this program has no tiers");
        return FD_OK;
    }
    fd_date today;
    int64_t metric;
    int index;
    int rc = fd_local_date(p, now, &today);
    fd_date end = fd_date_from_days(fd_date_days(today) + 1);
    if (!rc) rc = fd_tier_metric_value(db, cfg, m->id, end, &metric);
    if (!rc) rc = fd_tier_effective(db, p, cfg, m, now, &index);
    if (rc) return rc;
    const fd_tier_config *t = &cfg->tiers;
    json_t *o = json_pack(
        "{s:s?, s:o, s:o, s:{s:s, s:o, s:{s:o, s:o}}}", "tier",
        index >= 0 ? t->tiers[index].name : NULL, "since", fd_json_time(m->tier_since), "benefits",
        index >= 0 ? json_incref(t->tiers[index].benefits) : json_object(), "metric", "type",
        fd_tier_metric_name(t->metric), "value", metric_value(p, cfg, metric), "window", "from",
        date_json(fd_tier_window_start(t, end)), "to", date_json(today));
    json_object_set_new(o, "requalify_by", fd_json_time(m->tier[0] ? m->tier_review_at : 0));
    if (index >= 0 && m->tier[0]) {
        int64_t need = t->tiers[index].threshold - metric;
        json_object_set_new(o, "requalify_missing", metric_value(p, cfg, need > 0 ? need : 0));
    }
    if (index + 1 < t->n) {
        const fd_tier *next = &t->tiers[index + 1];
        int64_t missing = next->threshold - metric;
        char msg[160], amount[40];
        if (t->metric == FD_METRIC_SPEND) {
            fd_amount_format(missing, p->exponent, amount, sizeof amount);
            snprintf(msg, sizeof msg, "%s %s more to %s", amount, p->currency, next->name);
        } else {
            snprintf(msg, sizeof msg, "%lld more %s to %s", (long long)missing,
                     t->metric == FD_METRIC_POINTS ? "points" : "orders", next->name);
        }
        json_object_set_new(o, "next_tier", json_string(next->name));
        json_object_set_new(o, "next_threshold", metric_value(p, cfg, next->threshold));
        json_object_set_new(o, "missing", metric_value(p, cfg, missing));
        json_object_set_new(o, "message", json_string(msg));
    } else {
        json_object_set_new(o, "next_tier", json_null());
        json_object_set_new(o, "message", json_string("top tier reached"));
    }
    *out = o;
    return FD_OK;
}
