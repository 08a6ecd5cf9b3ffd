/*
 * system.c - health, metrics, program settings, API keys, audit log, jobs.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/handlers.h"
#include "api/server.h"
#include "base/fd.h"
#include "jobs/birthdays.h"
#include "jobs/expiry.h"
#include "store/audit.h"
#include "store/keys.h"
#include "store/programs.h"

void h_healthz(fd_req *r)
{
    fd_reply(r, 200, json_pack("{s:s}", "status", "ok"));
}

void h_readyz(fd_req *r)
{
    int64_t one;
    int rc = fd_db_one_i64(r->db, "SELECT 1", FD_NOPARAMS, &one);
    if (rc)
        fd_reply_error(r, 503, "not_ready", "the database does not answer", NULL);
    else
        fd_reply(r, 200, json_pack("{s:s}", "status", "ready"));
}

void h_metrics(fd_req *r)
{
    /* Prometheus text, not JSON: wrapped as a JSON string would defeat scrapers,
     * so this one handler bypasses fd_reply. */
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4";
    r->reply = fd_server_metrics(r->srv);
    r->replied = true;
}

static json_t *program_json(const fd_program *p)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:I, s:{s:s, s:I, s:s}, s:s, s:o}", "id",
        (json_int_t)p->id, "name", p->name, "currency", p->currency, "timezone", p->timezone,
        "point_value", fd_json_amount(p->point_value_micros, 6), "earn_rate",
        fd_json_amount(p->earn_rate_milli, 3), "earn_rounding", fd_rounding_name(p->earn_rounding),
        "pending_days", (json_int_t)p->pending_days, "expiry", "mode",
        fd_expiry_mode_name(p->expiry_mode), "days", (json_int_t)p->expiry_days, "from",
        fd_expiry_from_name(p->expiry_from), "refund_policy",
        fd_refund_policy_name(p->refund_policy), "created_at", fd_json_time(p->created_at));
    return o;
}

void h_program_get(fd_req *r)
{
    fd_reply(r, 200, program_json(&r->program));
}

static int timezone_valid(const char *tz)
{
    if (!tz || strstr(tz, "..") || tz[0] == '/' || strlen(tz) >= FD_TZ_MAX) return 0;
    for (const char *p = tz; *p; p++)
        if (!(*p == '/' || *p == '_' || *p == '-' || *p == '+' || (*p >= 'A' && *p <= 'Z') ||
              (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            return 0;
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Applies the settings present in the body to p; replies 422 on the first bad one. */
static int program_apply_or_reply(fd_req *r, fd_program *p)
{
    const char *s;
    const char *bad = NULL;
    if (body_str_or_reply(r, "name", false, &s)) return FD_EINVAL;
    if (s) snprintf(p->name, sizeof p->name, "%s", s);
    if (body_str_or_reply(r, "currency", false, &s)) return FD_EINVAL;
    if (s && (strlen(s) != 3 || fd_currency_exponent(s, &p->exponent)))
        bad = "currency";
    else if (s)
        memcpy(p->currency, s, 4);
    if (!bad && body_str_or_reply(r, "timezone", false, &s)) return FD_EINVAL;
    if (!bad && s && !timezone_valid(s))
        bad = "timezone";
    else if (!bad && s)
        snprintf(p->timezone, sizeof p->timezone, "%s", s);
    if (!bad && json_amount_or_reply(r, r->body, "point_value", "point_value", 6, false,
                                     &p->point_value_micros, NULL))
        return FD_EINVAL;
    if (!bad && json_amount_or_reply(r, r->body, "earn_rate", "earn_rate", 3, false,
                                     &p->earn_rate_milli, NULL))
        return FD_EINVAL;
    if (!bad && body_str_or_reply(r, "earn_rounding", false, &s)) return FD_EINVAL;
    if (!bad && s && fd_rounding_parse(s, &p->earn_rounding)) bad = "earn_rounding";
    if (!bad && body_int_or_reply(r, "pending_days", false, 0, 3650, &p->pending_days, NULL))
        return FD_EINVAL;
    if (!bad && body_str_or_reply(r, "refund_policy", false, &s)) return FD_EINVAL;
    if (!bad && s && fd_refund_policy_parse(s, &p->refund_policy)) bad = "refund_policy";
    json_t *exp = r->body ? json_object_get(r->body, "expiry") : NULL;
    if (!bad && exp) {
        json_t *mode = json_object_get(exp, "mode"), *days = json_object_get(exp, "days"),
               *from = json_object_get(exp, "from");
        if (!json_is_object(exp))
            bad = "expiry";
        else if (mode && fd_expiry_mode_parse(json_string_value(mode), &p->expiry_mode))
            bad = "expiry.mode";
        else if (days && (!json_is_integer(days) || json_integer_value(days) < 0 ||
                          json_integer_value(days) > 36500))
            bad = "expiry.days";
        else if (from && fd_expiry_from_parse(json_string_value(from), &p->expiry_from))
            bad = "expiry.from";
        if (!bad && days) p->expiry_days = json_integer_value(days);
    }
    if (!bad && fd_program_validate(p, &bad) == FD_OK) return FD_OK;
    char msg[96];
    snprintf(msg, sizeof msg, "%s has an invalid value", bad);
    fd_reply_error(r, 422, "invalid_field", msg, bad);
    return FD_EINVAL;
}

typedef struct {
    fd_program p;
    const char *actor;
    char *before, *after;
} program_job;

static int program_save_job(fd_db *db, void *arg)
{
    program_job *j = arg;
    int64_t now = fd_now();
    int rc = fd_program_save(db, &j->p, now);
    if (!rc)
        rc = fd_audit_add(db, j->p.id, j->actor, "program.update", "program", NULL, j->before,
                          j->after, now);
    return rc;
}

void h_program_patch(fd_req *r)
{
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the settings to change as a JSON object",
                       NULL);
        return;
    }
    program_job j = {r->program, r->who.actor, NULL, NULL};
    if (program_apply_or_reply(r, &j.p)) return;
    if (j.p.exponent != r->program.exponent) {
        int64_t orders;
        fd_db_one_i64(r->db, "SELECT COUNT(*) FROM orders WHERE program_id = $1",
                      FD_PARAMS(FD_I(r->program.id)), &orders);
        if (orders) {
            fd_reply_error(r, 409, "currency_in_use",
                           "the currency's decimals cannot change once orders exist", "currency");
            return;
        }
    }
    json_t *before = program_json(&r->program), *after = program_json(&j.p);
    j.before = json_canonical(before);
    j.after = json_canonical(after);
    json_decref(before);
    if (!write_or_reply(r, program_save_job, &j, NULL))
        fd_reply(r, 200, after);
    else
        json_decref(after);
    free(j.before);
    free(j.after);
}

typedef struct {
    int64_t program_id, member_id;
    fd_role role;
    const char *label, *actor;
    char key[FD_KEY_MAX], key_id[24];
} key_job;

static int key_create_job(fd_db *db, void *arg)
{
    key_job *j = arg;
    int64_t now = fd_now();
    int rc = fd_key_create(db, j->program_id, j->role, j->member_id, j->label, j->actor, now,
                           j->key, j->key_id);
    char after[160];
    snprintf(after, sizeof after, "{\"key_id\":\"%s\",\"role\":\"%s\",\"member_id\":%lld}",
             j->key_id, fd_role_name(j->role), (long long)j->member_id);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "key.create", "key", j->key_id, NULL, after,
                          now);
    return rc;
}

/* Creates a key and replies 201 with it; shared with POST /v1/members/{id}/token. */
void reply_new_key(fd_req *r, fd_role role, int64_t member_id, const char *label)
{
    key_job j = {r->program.id, member_id, role, label, r->who.actor, {0}, {0}};
    if (write_or_reply(r, key_create_job, &j, NULL)) return;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s*}", "key", j.key, "key_id", j.key_id, "role",
                          fd_role_name(role), "label", label);
    json_object_set_new(o, "member_id", member_id ? json_integer(member_id) : json_null());
    if (member_id) { /* the link a shop sends its member: the key stays in the fragment */
        char url[160];
        snprintf(url, sizeof url, "/member.html#member=%lld&key=%s", (long long)member_id, j.key);
        json_object_set_new(o, "page_url", json_string(url));
        sodium_memzero(url, sizeof url);
    }
    fd_reply(r, 201, o);
    sodium_memzero(j.key, sizeof j.key);
}

void h_keys_create(fd_req *r)
{
    const char *role_name, *label;
    int64_t member_id = 0;
    fd_role role;
    if (body_str_or_reply(r, "role", true, &role_name) ||
        body_str_or_reply(r, "label", false, &label) ||
        body_int_or_reply(r, "member_id", false, 1, INT64_MAX, &member_id, NULL))
        return;
    if (fd_role_parse(role_name, &role)) {
        fd_reply_error(r, 422, "invalid_field",
                       "role must be admin, marketer, analyst, pos or member", "role");
        return;
    }
    if ((role == FD_ROLE_MEMBER) != (member_id > 0)) {
        fd_reply_error(r, 422, "invalid_field",
                       "member_id is required for, and only for, role member", "member_id");
        return;
    }
    if (member_id) {
        int64_t found;
        if (fd_db_one_i64(r->db, "SELECT id FROM members WHERE program_id = $1 AND id = $2",
                          FD_PARAMS(FD_I(r->program.id), FD_I(member_id)), &found)) {
            fd_reply_error(r, 404, "member_not_found", "no such member", "member_id");
            return;
        }
    }
    reply_new_key(r, role, member_id, label);
}

static json_t *key_row(fd_stmt *st, void *arg)
{
    (void)arg;
    json_t *k = json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o}", "key_id", fd_stmt_text(st, 1), "role",
                          fd_stmt_text(st, 2), "label", fd_stmt_text(st, 4), "created_by",
                          fd_stmt_text(st, 5), "created_at", fd_json_time(fd_stmt_i64(st, 6)),
                          "revoked_at", fd_json_time(fd_stmt_i64(st, 7)));
    json_object_set_new(k, "member_id",
                        fd_stmt_is_null(st, 3) ? json_null() : json_integer(fd_stmt_i64(st, 3)));
    return k;
}

void h_keys_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT id, key_id, role, member_id, label, created_by, created_at, revoked_at"
               " FROM api_keys WHERE program_id = $1 AND id > $2 ORDER BY id LIMIT $3",
               FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, key_row, NULL);
}

typedef struct {
    int64_t program_id;
    const char *key_id, *actor;
} revoke_job;

static int key_revoke_job(fd_db *db, void *arg)
{
    revoke_job *j = arg;
    int64_t now = fd_now();
    int rc = fd_key_revoke(db, j->program_id, j->key_id, now);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "key.revoke", "key", j->key_id, NULL, NULL,
                          now);
    return rc;
}

void h_keys_revoke(fd_req *r)
{
    revoke_job j = {r->program.id, r->params[0], r->who.actor};
    fd_job_error e = {0};
    if (!strcmp(r->params[0], r->who.key_id)) {
        fd_reply_error(r, 409, "own_key", "a key cannot revoke itself", NULL);
        return;
    }
    if (write_or_reply(r, key_revoke_job, &j, &e)) return;
    fd_reply(r, 200, json_pack("{s:s, s:b}", "key_id", j.key_id, "revoked", 1));
}

static json_t *audit_row(fd_stmt *st, void *arg)
{
    (void)arg;
    const char *before = fd_stmt_text(st, 5), *after = fd_stmt_text(st, 6);
    json_t *a = json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o}", "id", (json_int_t)fd_stmt_i64(st, 0),
                          "actor", fd_stmt_text(st, 1), "action", fd_stmt_text(st, 2),
                          "object_type", fd_stmt_text(st, 3), "object_id", fd_stmt_text(st, 4),
                          "created_at", fd_json_time(fd_stmt_i64(st, 7)));
    json_object_set_new(a, "before", before ? json_loads(before, 0, NULL) : json_null());
    json_object_set_new(a, "after", after ? json_loads(after, 0, NULL) : json_null());
    return a;
}

void h_audit_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    /* Newest first: the cursor is the last id seen, 0 for the first page. */
    reply_page(r,
               "SELECT id, actor, action, object_type, object_id, before_json, after_json,"
               " created_at FROM audit_log WHERE program_id = $1 AND ($2 = 0 OR id < $2)"
               " ORDER BY id DESC LIMIT $3",
               FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, audit_row, NULL);
}

void h_jobs_expire(fd_req *r)
{
    int64_t matured = 0, expired = 0;
    int rc = fd_jobs_expiry_run(r->store, fd_now(), &matured, &expired);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200,
             json_pack("{s:I, s:I}", "matured_lots", (json_int_t)matured, "expired_lots",
                       (json_int_t)expired));
}

void h_jobs_tiers(fd_req *r)
{
    int64_t reviewed = 0, placed = 0;
    int rc = fd_jobs_tiers_run(r->store, fd_now(), &reviewed, &placed);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200,
                 json_pack("{s:I, s:I}", "reviewed_members", (json_int_t)reviewed, "placed_members",
                           (json_int_t)placed));
}

void h_jobs_birthdays(fd_req *r)
{
    int64_t sent = 0;
    int rc = fd_jobs_birthdays_run(r->store, fd_now(), &sent);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, json_pack("{s:I}", "events_sent", (json_int_t)sent));
}

#ifdef FIDELIS_TESTING
void h_test_clock(fd_req *r)
{
    int64_t now = 0;
    bool present;
    if (body_time_or_reply(r, "now", &now, &present)) return;
    fd_clock_set(present ? now : 0);
    fd_reply(r, 200, json_pack("{s:o}", "now", fd_json_time(fd_now())));
}
#endif
