/*
 * catalog.c - /v1/campaigns and /v1/rewards (definitions with their kill
 * switch and budget consumption), campaign codes (one shared code or many
 * from a pattern), /v1/codes/{code} (look up, switch off), and the
 * definitions of badges and challenges (docs/engagement.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/catalog.h"
#include "api/handlers.h"
#include "base/fd.h"
#include "core/campaign.h"
#include "core/engagement.h"
#include "core/ledger.h"
#include "core/reward.h"
#include "store/audit.h"
#include "store/config.h"
#include "store/promos.h"

#define CODES_PER_REQUEST 200000 /* codes one generate request makes at most */

/* ---------- definitions ---------- */

/* Checks a definition with its kind's parser (and frees what it built). */
typedef int (*def_check_fn)(const json_t *def, int exponent, char field[128], char msg[160]);

typedef struct catalog_kind {
    fd_catalog table;
    const char *noun;      /* "campaign" */
    const char *not_found; /* "campaign_not_found" */
    const char *invalid;   /* "invalid_campaign" */
    def_check_fn check;
    const char *counted; /* the name of the count each row carries ("issued") */
    int64_t max;         /* live definitions per program */
} catalog_kind;

static int check_campaign(const json_t *def, int exponent, char field[128], char msg[160])
{
    fd_campaign c;
    int rc = fd_campaign_parse(def, exponent, &c, field, msg);
    if (!rc) fd_campaign_clear(&c);
    return rc;
}

static int check_reward(const json_t *def, int exponent, char field[128], char msg[160])
{
    fd_reward w;
    int rc = fd_reward_parse(def, exponent, &w, field, msg);
    if (!rc) fd_reward_clear(&w);
    return rc;
}

static int check_badge(const json_t *def, int exponent, char field[128], char msg[160])
{
    fd_badge b;
    (void)exponent;
    int rc = fd_badge_parse(def, &b, field, msg);
    if (!rc) fd_badge_clear(&b);
    return rc;
}

static int check_challenge(const json_t *def, int exponent, char field[128], char msg[160])
{
    fd_challenge c;
    (void)exponent;
    int rc = fd_challenge_parse(def, &c, field, msg);
    if (!rc) fd_challenge_clear(&c);
    return rc;
}

static const catalog_kind CAMPAIGN = {FD_CATALOG_CAMPAIGN, "campaign",     "campaign_not_found",
                                      "invalid_campaign",  check_campaign, NULL,
                                      FD_CAMPAIGNS_MAX};
static const catalog_kind REWARD = {FD_CATALOG_REWARD, "reward",     "reward_not_found",
                                    "invalid_reward",  check_reward, "issued",
                                    FD_REWARDS_MAX};
static const catalog_kind BADGE = {FD_CATALOG_BADGE, "badge",     "badge_not_found",
                                   "invalid_badge",  check_badge, "earned_by",
                                   FD_BADGES_MAX};
static const catalog_kind CHALLENGE = {FD_CATALOG_CHALLENGE, "challenge",     "challenge_not_found",
                                       "invalid_challenge",  check_challenge, "completed_by",
                                       FD_CHALLENGES_MAX};

typedef struct def_job {
    const catalog_kind *kind;
    int64_t program_id, id;
    char op; /* 'c' create, 'u' replace, 'a' set active, 'd' delete */
    const char *name, *actor;
    char *text;
    bool active;
    fd_job_error err;
} def_job;

static int def_job_run(fd_db *db, void *arg)
{
    def_job *j = arg;
    int64_t now = fd_now();
    fd_catalog t = j->kind->table;
    int64_t live = 0;
    if (j->op == 'c' && fd_catalog_count(db, t, j->program_id, &live) == FD_OK &&
        live >= j->kind->max)
        return job_fail(&j->err, FD_ECONFLICT, "catalog_full", NULL,
                        "a program has at most %lld %ss", (long long)j->kind->max, j->kind->noun);
    int rc = j->op == 'c' ? fd_catalog_insert(db, t, j->program_id, j->name, j->text, j->active,
                                              j->actor, now, &j->id)
             : j->op == 'd'
                 ? fd_catalog_delete(db, t, j->program_id, j->id, now)
                 : fd_catalog_update(db, t, j->program_id, j->id, j->name,
                                     j->op == 'u' ? j->text : NULL, j->active, j->actor, now);
    if (rc == FD_ECONFLICT)
        return job_fail(&j->err, rc, "name_taken", "name", "another %s has this name",
                        j->kind->noun);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, j->kind->not_found, NULL, "no such %s", j->kind->noun);
    if (rc) return rc;
    char id[24], action[48];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    snprintf(action, sizeof action, "%s.%s", j->kind->noun,
             j->op == 'c'   ? "create"
             : j->op == 'u' ? "update"
             : j->op == 'd' ? "delete"
             : j->active    ? "enable"
                            : "disable");
    return fd_audit_add(db, j->program_id, j->actor, action, j->kind->noun, id, NULL,
                        j->op == 'u' || j->op == 'c' ? j->text : NULL, now);
}

/* Validates a definition body with the kind's parser; j receives its
 * canonical text without the bookkeeping members. */
static int def_body_or_reply(fd_req *r, def_job *j)
{
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the definition as a JSON object", NULL);
        return FD_EINVAL;
    }
    json_t *act = json_object_get(r->body, "active");
    if (act && !json_is_boolean(act)) {
        fd_reply_error(r, 422, j->kind->invalid, "active must be true or false", "active");
        return FD_EINVAL;
    }
    j->active = !act || json_is_true(act);
    json_t *def = json_deep_copy(r->body);
    static const char *const BOOKKEEPING[] = {"id",         "active",     "usage",     "issued",
                                              "created_at", "updated_at", "updated_by"};
    for (size_t i = 0; i < sizeof BOOKKEEPING / sizeof *BOOKKEEPING; i++)
        json_object_del(def, BOOKKEEPING[i]);
    char field[128] = "", msg[160] = "";
    if (j->kind->check(def, r->program.exponent, field, msg)) {
        json_decref(def);
        fd_reply_error(r, 422, j->kind->invalid, msg, field);
        return FD_EINVAL;
    }
    j->name = json_string_value(json_object_get(r->body, "name"));
    j->text = json_canonical(def);
    json_decref(def);
    return FD_OK;
}

static json_t *limit_json(int64_t limit, int64_t used, const fd_program *p, bool money)
{
    json_t *o = json_object();
    json_object_set_new(o, "limit",
                        !limit  ? json_null()
                        : money ? fd_json_amount(limit, p->exponent)
                                : json_integer(limit));
    json_object_set_new(o, "used", money ? fd_json_amount(used, p->exponent) : json_integer(used));
    json_object_set_new(o, "left",
                        !limit  ? json_null()
                        : money ? fd_json_amount(limit > used ? limit - used : 0, p->exponent)
                                : json_integer(limit > used ? limit - used : 0));
    return o;
}

/* Budget consumption of a campaign: each limit with what is used and left. */
static json_t *usage_json(const json_t *def, fd_stmt *st, const fd_program *p)
{
    fd_campaign c;
    char field[128], msg[160];
    fd_campaign_limits l = {0};
    if (fd_campaign_parse(def, p->exponent, &c, field, msg) == FD_OK) {
        l = c.limits;
        fd_campaign_clear(&c);
    }
    return json_pack("{s:o, s:o, s:o}", "uses", limit_json(l.uses, fd_stmt_i64(st, 5), p, false),
                     "discount", limit_json(l.discount, fd_stmt_i64(st, 6), p, true),
                     "order_amount", limit_json(l.order_amount, fd_stmt_i64(st, 7), p, true));
}

static json_t *def_json(const catalog_kind *k, fd_stmt *st, const fd_program *p)
{
    json_t *o = json_loads(fd_stmt_text(st, 1), 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (k->table == FD_CATALOG_CAMPAIGN)
        json_object_set_new(o, "usage", usage_json(o, st, p));
    else
        json_object_set_new(o, k->counted, json_integer(fd_stmt_i64(st, 5)));
    json_object_set_new(o, "id", json_integer(fd_stmt_i64(st, 0)));
    json_object_set_new(o, "active", json_boolean(fd_stmt_i64(st, 2)));
    json_object_set_new(o, "updated_at", fd_json_time(fd_stmt_i64(st, 3)));
    json_object_set_new(o, "updated_by", json_string(fd_stmt_text(st, 4)));
    return o;
}

static const char *const LIST_SQL[][2] = {
    [FD_CATALOG_CAMPAIGN] =
        {"SELECT id, definition, active, updated_at, updated_by, uses, discount_total,"
         " order_total FROM campaigns WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",
         "SELECT id, definition, active, updated_at, updated_by, uses, discount_total,"
         " order_total FROM campaigns WHERE program_id = $1 AND id > $2 AND deleted_at IS NULL"
         " ORDER BY id LIMIT $3"},
    [FD_CATALOG_REWARD] =
        {"SELECT id, definition, active, updated_at, updated_by, issued FROM rewards"
         " WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",
         "SELECT id, definition, active, updated_at, updated_by, issued FROM rewards"
         " WHERE program_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3"},
#define COUNTED_SQL(table, count)                                                                  \
    {                                                                                              \
        "SELECT id, definition, active, updated_at, updated_by, " count " FROM " table             \
        " WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",                               \
            "SELECT id, definition, active, updated_at, updated_by, " count " FROM " table         \
            " WHERE program_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3"       \
    }
    [FD_CATALOG_BADGE] = COUNTED_SQL(
        "badges", "(SELECT COUNT(*) FROM member_badges m WHERE m.badge_id = badges.id)"),
    [FD_CATALOG_CHALLENGE] =
        COUNTED_SQL("challenges", "(SELECT COUNT(*) FROM member_challenges m WHERE"
                                  " m.challenge_id = challenges.id AND m.completed_at IS"
                                  " NOT NULL)"),
};

static void reply_defs(fd_req *r, const catalog_kind *k, int64_t id, int status, int limit,
                       int64_t after)
{
    fd_stmt *st;
    int rc = id ? fd_db_query(r->db, LIST_SQL[k->table][0],
                              FD_PARAMS(FD_I(r->program.id), FD_I(id)), &st)
                : fd_db_query(r->db, LIST_SQL[k->table][1],
                              FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (id) {
        if (fd_stmt_next(st) == 1)
            fd_reply(r, status, def_json(k, st, &r->program));
        else {
            char msg[64];
            snprintf(msg, sizeof msg, "no such %s", k->noun);
            fd_reply_error(r, 404, k->not_found, msg, NULL);
        }
    } else {
        json_t *data = json_array();
        int64_t last = 0;
        while (fd_stmt_next(st) == 1) {
            last = fd_stmt_i64(st, 0);
            json_array_append_new(data, def_json(k, st, &r->program));
        }
        fd_reply(r, 200, fd_page_json(data, (int)json_array_size(data) == limit ? last : 0));
    }
    fd_stmt_done(st);
}

static void def_create(fd_req *r, const catalog_kind *k)
{
    def_job j = {.kind = k, .op = 'c', .program_id = r->program.id, .actor = r->who.actor};
    if (def_body_or_reply(r, &j)) return;
    if (!write_or_reply(r, def_job_run, &j, &j.err)) reply_defs(r, k, j.id, 201, 0, 0);
    free(j.text);
}

static void def_replace(fd_req *r, const catalog_kind *k)
{
    def_job j = {.kind = k, .op = 'u', .program_id = r->program.id, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.id) || def_body_or_reply(r, &j)) return;
    if (!write_or_reply(r, def_job_run, &j, &j.err)) reply_defs(r, k, j.id, 200, 0, 0);
    free(j.text);
}

/* PATCH {"active": false}: the kill switch, effective for the next request. */
static void def_patch(fd_req *r, const catalog_kind *k)
{
    def_job j = {.kind = k, .op = 'a', .program_id = r->program.id, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.id)) return;
    json_t *act = r->body ? json_object_get(r->body, "active") : NULL;
    if (!json_is_boolean(act) || json_object_size(r->body) != 1) {
        fd_reply_error(r, 422, k->invalid, "PATCH takes {\"active\": true|false}; PUT replaces",
                       "active");
        return;
    }
    j.active = json_is_true(act);
    if (!write_or_reply(r, def_job_run, &j, &j.err)) reply_defs(r, k, j.id, 200, 0, 0);
}

static void def_delete(fd_req *r, const catalog_kind *k)
{
    def_job j = {.kind = k, .op = 'd', .program_id = r->program.id, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.id)) return;
    if (!write_or_reply(r, def_job_run, &j, &j.err))
        fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j.id, "deleted", 1));
}

static void def_get(fd_req *r, const catalog_kind *k)
{
    int64_t id;
    if (!param_id_or_reply(r, 0, &id)) reply_defs(r, k, id, 200, 0, 0);
}

static void def_list(fd_req *r, const catalog_kind *k)
{
    int limit;
    int64_t after;
    if (!page_or_reply(r, &limit, &after)) reply_defs(r, k, 0, 200, limit, after);
}

void h_campaigns_create(fd_req *r)
{
    def_create(r, &CAMPAIGN);
}
void h_campaigns_list(fd_req *r)
{
    def_list(r, &CAMPAIGN);
}
void h_campaign_get(fd_req *r)
{
    def_get(r, &CAMPAIGN);
}
void h_campaign_replace(fd_req *r)
{
    def_replace(r, &CAMPAIGN);
}
void h_campaign_patch(fd_req *r)
{
    def_patch(r, &CAMPAIGN);
}
void h_campaign_delete(fd_req *r)
{
    def_delete(r, &CAMPAIGN);
}
void h_badges_create(fd_req *r)
{
    def_create(r, &BADGE);
}
void h_badges_list(fd_req *r)
{
    def_list(r, &BADGE);
}
void h_badge_get(fd_req *r)
{
    def_get(r, &BADGE);
}
void h_badge_replace(fd_req *r)
{
    def_replace(r, &BADGE);
}
void h_badge_patch(fd_req *r)
{
    def_patch(r, &BADGE);
}
void h_badge_delete(fd_req *r)
{
    def_delete(r, &BADGE);
}
void h_challenges_create(fd_req *r)
{
    def_create(r, &CHALLENGE);
}
void h_challenges_list(fd_req *r)
{
    def_list(r, &CHALLENGE);
}
void h_challenge_get(fd_req *r)
{
    def_get(r, &CHALLENGE);
}
void h_challenge_replace(fd_req *r)
{
    def_replace(r, &CHALLENGE);
}
void h_challenge_patch(fd_req *r)
{
    def_patch(r, &CHALLENGE);
}
void h_challenge_delete(fd_req *r)
{
    def_delete(r, &CHALLENGE);
}
void h_rewards_create(fd_req *r)
{
    def_create(r, &REWARD);
}
void h_rewards_list(fd_req *r)
{
    def_list(r, &REWARD);
}
void h_reward_get(fd_req *r)
{
    def_get(r, &REWARD);
}
void h_reward_replace(fd_req *r)
{
    def_replace(r, &REWARD);
}
void h_reward_patch(fd_req *r)
{
    def_patch(r, &REWARD);
}
void h_reward_delete(fd_req *r)
{
    def_delete(r, &REWARD);
}

/* ---------- campaign codes ---------- */

typedef struct codes_job {
    int64_t program_id, campaign_id;
    const char *code;    /* one shared code, or */
    const char *pattern; /* count codes from a pattern */
    int64_t count, max_uses, balance, expires_at, made;
    const char *actor;
    fd_job_error err;
} codes_job;

static int codes_job_run(fd_db *db, void *arg)
{
    codes_job *j = arg;
    int64_t now = fd_now(), exists;
    int rc = fd_db_one_i64(db,
                           "SELECT id FROM campaigns WHERE program_id = $1 AND id = $2"
                           " AND deleted_at IS NULL",
                           FD_PARAMS(FD_I(j->program_id), FD_I(j->campaign_id)), &exists);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "campaign_not_found", NULL, "no such campaign");
    if (rc) return rc;
    if (j->code) {
        fd_code c = {.program_id = j->program_id,
                     .campaign_id = j->campaign_id,
                     .active = true,
                     .max_uses = j->max_uses,
                     .balance = j->balance,
                     .expires_at = j->expires_at,
                     .created_at = now};
        snprintf(c.code, sizeof c.code, "%s", j->code);
        snprintf(c.status, sizeof c.status, "active");
        rc = fd_code_insert(db, &c, NULL);
        if (rc == FD_ECONFLICT)
            return job_fail(&j->err, rc, "code_taken", "code", "the code %s exists already",
                            j->code);
        j->made = rc ? 0 : 1;
    } else {
        rc = fd_codes_generate(db, j->program_id, j->campaign_id, j->pattern, j->count, j->max_uses,
                               j->balance, j->expires_at, now, &j->made);
        if (!rc && j->made < j->count)
            return job_fail(&j->err, FD_ECONFLICT, "pattern_exhausted", "pattern",
                            "only %lld new codes could be drawn from the pattern",
                            (long long)j->made);
    }
    char id[24], detail[160];
    snprintf(id, sizeof id, "%lld", (long long)j->campaign_id);
    snprintf(detail, sizeof detail, "{\"codes\": %lld}", (long long)j->made);
    return rc ? rc
              : fd_audit_add(db, j->program_id, j->actor, "campaign.codes", "campaign", id, NULL,
                             detail, now);
}

/* The gift card credit codes of a campaign start with. */
static int64_t campaign_balance(fd_req *r, int64_t campaign_id)
{
    fd_config *cfg;
    int64_t balance = 0;
    if (fd_config_get(r->db, &r->program, &cfg)) return 0;
    const fd_campaign *c = fd_config_campaign(cfg, campaign_id);
    if (c && c->promo.benefit.kind == FD_BENEFIT_GIFT_CARD) balance = c->promo.benefit.amount;
    fd_config_release(cfg);
    return balance;
}

/* POST /v1/campaigns/{id}/codes: {"code": "XMAS15"} (shared, unlimited
 * uses unless max_uses) or {"pattern": "XMAS-####-????", "count": 1000}
 * (unique, one use each unless max_uses); "expires_at" optional. */
void h_campaign_codes_create(fd_req *r)
{
    codes_job j = {.program_id = r->program.id, .actor = r->who.actor, .expires_at = FD_NEVER};
    if (param_id_or_reply(r, 0, &j.campaign_id)) return;
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send {\"code\"} or {\"pattern\", \"count\"}",
                       NULL);
        return;
    }
    const char *code, *pattern;
    bool present, has_max;
    int64_t max_uses = 0, expires;
    char norm[FD_CODE_PATTERN_MAX + 1];
    if (body_str_or_reply(r, "code", false, &code) ||
        body_str_or_reply(r, "pattern", false, &pattern) ||
        body_int_or_reply(r, "max_uses", false, 1, FD_POINTS_MAX, &max_uses, &has_max) ||
        body_time_or_reply(r, "expires_at", &expires, &present))
        return;
    if (present) j.expires_at = expires;
    if (!code == !pattern) {
        fd_reply_error(r, 422, "invalid_field", "send either code or pattern", "code");
        return;
    }
    if (code) {
        if (fd_code_normalise(code, norm)) {
            fd_reply_error(r, 422, "invalid_field",
                           "a code is 1 to 64 characters of A-Z, 0-9, - and _", "code");
            return;
        }
        j.code = norm;
        j.max_uses = has_max ? max_uses : 0;
    } else {
        int64_t space;
        if (fd_code_pattern(pattern, &space)) {
            fd_reply_error(r, 422, "invalid_pattern",
                           "# is a digit, ? a letter, * either; other characters A-Z 0-9 - _",
                           "pattern");
            return;
        }
        if (body_int_or_reply(r, "count", true, 1, CODES_PER_REQUEST, &j.count, &present)) return;
        if (space / 10 < j.count) { /* keep collisions rare and codes hard to guess */
            fd_reply_error(r, 422, "pattern_too_small",
                           "the pattern must allow at least 10 times more codes than requested",
                           "pattern");
            return;
        }
        j.pattern = pattern;
        j.max_uses = has_max ? max_uses : 1;
    }
    j.balance = campaign_balance(r, j.campaign_id);
    if (write_or_reply(r, codes_job_run, &j, &j.err)) return;
    json_t *o = json_pack("{s:I, s:I}", "campaign_id", (json_int_t)j.campaign_id, "created",
                          (json_int_t)j.made);
    if (j.code) json_object_set_new(o, "code", json_string(j.code));
    fd_reply(r, 201, o);
}

json_t *code_json(const fd_code *c, const fd_program *p)
{
    json_t *o = json_pack("{s:s, s:b, s:s, s:I, s:I, s:o}", "code", c->code, "active", c->active,
                          "status", c->status, "max_uses", (json_int_t)c->max_uses, "uses",
                          (json_int_t)c->uses, "created_at", fd_json_time(c->created_at));
    json_object_set_new(o, "expires_at",
                        c->expires_at == FD_NEVER ? json_null() : fd_json_time(c->expires_at));
    if (c->campaign_id) json_object_set_new(o, "campaign_id", json_integer(c->campaign_id));
    if (c->reward_id) json_object_set_new(o, "reward_id", json_integer(c->reward_id));
    if (c->member_id) json_object_set_new(o, "member_id", json_integer(c->member_id));
    if (c->balance) json_object_set_new(o, "balance", fd_json_amount(c->balance, p->exponent));
    if (c->points) json_object_set_new(o, "points", json_integer(c->points));
    return o;
}

/* One row of CODE_LIST_COLS as the API shows a code. */
static json_t *code_row(fd_stmt *st, void *program)
{
    fd_code c = {.id = fd_stmt_i64(st, 0),
                 .active = fd_stmt_i64(st, 2) != 0,
                 .max_uses = fd_stmt_i64(st, 4),
                 .uses = fd_stmt_i64(st, 5),
                 .balance = fd_stmt_i64(st, 6),
                 .points = fd_stmt_i64(st, 7),
                 .expires_at = fd_stmt_i64(st, 8),
                 .created_at = fd_stmt_i64(st, 9),
                 .campaign_id = fd_stmt_i64(st, 10),
                 .reward_id = fd_stmt_i64(st, 11),
                 .member_id = fd_stmt_i64(st, 12)};
    snprintf(c.code, sizeof c.code, "%s", fd_stmt_text(st, 1));
    snprintf(c.status, sizeof c.status, "%s", fd_stmt_text(st, 3));
    return code_json(&c, program);
}

/* One page of the codes of a campaign or of a member (owner, by sql). */
static void reply_codes(fd_req *r, const char *sql, int64_t owner, int limit, int64_t after)
{
    reply_page(r, sql, FD_PARAMS(FD_I(r->program.id), FD_I(owner), FD_I(after), FD_I(limit)), limit,
               code_row, &r->program);
}

#define CODE_LIST_COLS                                                                             \
    "SELECT id, code, active, status, max_uses, uses, balance, points, expires_at, created_at,"    \
    " COALESCE(campaign_id, 0), COALESCE(reward_id, 0), COALESCE(member_id, 0) FROM codes"

void h_campaign_codes_list(fd_req *r)
{
    int64_t id, after;
    int limit;
    if (owned_id_or_reply(r, 0, "campaign", &id) || page_or_reply(r, &limit, &after)) return;
    reply_codes(r,
                CODE_LIST_COLS " WHERE program_id = $1 AND campaign_id = $2 AND id > $3"
                               " ORDER BY id LIMIT $4",
                id, limit, after);
}

void h_member_vouchers(fd_req *r)
{
    int64_t id, after;
    int limit;
    if (owned_id_or_reply(r, 0, "member", &id) || page_or_reply(r, &limit, &after)) return;
    reply_codes(r,
                CODE_LIST_COLS " WHERE program_id = $1 AND member_id = $2 AND id > $3"
                               " ORDER BY id LIMIT $4",
                id, limit, after);
}

int code_or_reply(fd_req *r, int i, fd_code *c)
{
    char norm[FD_CODE_PATTERN_MAX + 1];
    int rc = fd_code_normalise(r->params[i], norm)
                 ? FD_ENOTFOUND
                 : fd_code_find(r->db, r->program.id, norm, false, c);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "code_not_found", "no such code", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    return rc;
}

void h_code_get(fd_req *r)
{
    fd_code c;
    if (!code_or_reply(r, 0, &c)) fd_reply(r, 200, code_json(&c, &r->program));
}

typedef struct code_switch_job {
    int64_t program_id;
    char code[FD_CODE_PATTERN_MAX + 1];
    const char *actor;
    bool active;
    fd_code c;
} code_switch_job;

static int code_switch_run(fd_db *db, void *arg)
{
    code_switch_job *j = arg;
    int rc = fd_code_find(db, j->program_id, j->code, true, &j->c);
    j->c.active = j->active;
    if (!rc) rc = fd_code_save(db, &j->c);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, j->active ? "code.enable" : "code.disable",
                          "code", j->code, NULL, NULL, fd_now());
    return rc;
}

/* PATCH /v1/codes/{code} {"active": false}: the code's kill switch. */
void h_code_patch(fd_req *r)
{
    code_switch_job j = {.program_id = r->program.id, .actor = r->who.actor};
    if (code_or_reply(r, 0, &j.c)) return;
    json_t *act = r->body ? json_object_get(r->body, "active") : NULL;
    if (!json_is_boolean(act) || json_object_size(r->body) != 1) {
        fd_reply_error(r, 422, "invalid_field", "PATCH takes {\"active\": true|false}", "active");
        return;
    }
    j.active = json_is_true(act);
    snprintf(j.code, sizeof j.code, "%s", j.c.code);
    if (!write_or_reply(r, code_switch_run, &j, NULL))
        fd_reply(r, 200, code_json(&j.c, &r->program));
}
