/*
 * referrals.c - /v1/referral-policy, a member's referral code and link with
 * the referrals it brought (GET /v1/members/{id}/referral), and a referral
 * code entered after enrolment (POST /v1/members/{id}/referral). Codes
 * given at enrolment go through POST /v1/members ("referral_code").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/referral.h"
#include "store/audit.h"
#include "store/members.h"
#include "store/referrals.h"

/* ---------- policy ---------- */

static json_t *policy_json(const fd_program *p, const fd_referral_policy *pol)
{
    static const char *const PERIODS[] = {"day", "week", "month", "year", "lifetime"};
    json_t *fp = json_array();
    for (size_t i = 0; i < pol->fingerprints.n; i++)
        json_array_append_new(fp, json_string(pol->fingerprints.items[i]));
    json_t *o = json_pack(
        "{s:b, s:I, s:I, s:o, s:I, s:I, s:s, s:o}", "enabled", pol->enabled, "referrer_points",
        (json_int_t)pol->referrer_points, "referee_points", (json_int_t)pol->referee_points,
        "min_order", fd_json_amount(pol->min_order, p->exponent), "within_days",
        (json_int_t)pol->within_days, "max_per_referrer", (json_int_t)pol->max_per_referrer,
        "period", PERIODS[pol->period], "fingerprints", fp);
    json_object_set_new(o, "link_template",
                        pol->link_template[0] ? json_string(pol->link_template) : json_null());
    return o;
}

void h_referral_policy_get(fd_req *r)
{
    fd_referral_policy pol;
    int rc = fd_referral_policy_load(r->db, &r->program, &pol);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200, policy_json(&r->program, &pol));
    fd_referral_policy_clear(&pol);
}

typedef struct policy_job {
    int64_t program_id;
    const char *actor;
    char *text;
} policy_job;

static int policy_run(fd_db *db, void *arg)
{
    policy_job *j = arg;
    int rc = fd_db_run(db, "UPDATE programs SET referral_policy = $2 WHERE id = $1",
                       FD_PARAMS(FD_I(j->program_id), FD_S(j->text)), NULL);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "referral_policy.update", "program", NULL,
                          NULL, j->text, fd_now());
    return rc;
}

void h_referral_policy_put(fd_req *r)
{
    fd_referral_policy pol;
    char field[128], msg[160];
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the policy as a JSON object", NULL);
        return;
    }
    if (fd_referral_policy_parse(r->body, r->program.exponent, &pol, field, msg)) {
        fd_reply_error(r, 422, "invalid_policy", msg, field);
        return;
    }
    policy_job j = {r->program.id, r->who.actor, json_canonical(r->body)};
    if (!write_or_reply(r, policy_run, &j, NULL)) fd_reply(r, 200, policy_json(&r->program, &pol));
    free(j.text);
    fd_referral_policy_clear(&pol);
}

/* ---------- a member's code and referrals ---------- */

typedef struct code_job {
    const fd_program *p;
    int64_t member_id;
    const char *code; /* POST: the code entered */
    char own[32];     /* GET: the member's own code */
    json_t *outcome;
    fd_job_error err;
} code_job;

static int own_code_run(fd_db *db, void *arg)
{
    code_job *j = arg;
    fd_member m = {0};
    int rc = fd_member_get(db, j->p->id, j->member_id, &m);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", NULL, "no such member");
    fd_member_clear(&m);
    return rc ? rc : fd_referral_code(db, j->p->id, j->member_id, true, fd_now(), j->own);
}

static json_t *referral_row(fd_stmt *st)
{
    json_t *o = json_pack("{s:s, s:o}", "status", fd_stmt_text(st, 0), "created_at",
                          fd_json_time(fd_stmt_i64(st, 2)));
    if (fd_stmt_text(st, 1)) json_object_set_new(o, "reason", json_string(fd_stmt_text(st, 1)));
    if (!fd_stmt_is_null(st, 3))
        json_object_set_new(o, "completed_at", fd_json_time(fd_stmt_i64(st, 3)));
    json_object_set_new(o, "points", json_integer(fd_stmt_i64(st, 4)));
    return o;
}

/* GET /v1/members/{id}/referral: the code (drawn on first use), the share
 * link, and the referrals it brought, newest first (the referees stay
 * anonymous: a member sees outcomes, not people). */
void h_member_referral(fd_req *r)
{
    code_job j = {.p = &r->program};
    if (param_id_or_reply(r, 0, &j.member_id) || write_or_reply(r, own_code_run, &j, &j.err))
        return;
    fd_referral_policy pol;
    fd_stmt *st;
    int rc = fd_referral_policy_load(r->db, &r->program, &pol);
    if (!rc)
        rc = fd_db_query(r->db,
                         "SELECT status, reason, created_at, completed_at, referrer_points"
                         " FROM referrals WHERE referrer_id = $1 ORDER BY id DESC LIMIT 100",
                         FD_PARAMS(FD_I(j.member_id)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *list = json_array();
    while (fd_stmt_next(st) == 1)
        json_array_append_new(list, referral_row(st));
    fd_stmt_done(st);
    char link[320];
    fd_referral_share_link(&pol, j.own, link);
    json_t *o = json_pack("{s:I, s:s, s:b, s:o}", "member_id", (json_int_t)j.member_id, "code",
                          j.own, "enabled", pol.enabled, "referrals", list);
    json_object_set_new(o, "link", link[0] ? json_string(link) : json_null());
    fd_reply(r, 200, o);
    fd_referral_policy_clear(&pol);
}

static int enter_code_run(fd_db *db, void *arg)
{
    code_job *j = arg;
    fd_member m = {0};
    json_decref(j->outcome);
    j->outcome = NULL;
    int rc = fd_member_get_locked(db, j->p->id, j->member_id, &m);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", NULL, "no such member");
    if (!rc) rc = fd_referral_link(db, j->p, &m, j->code, fd_now(), &j->outcome);
    fd_member_clear(&m);
    return rc;
}

/* POST /v1/members/{id}/referral {"code"}: a member who enrolled without a
 * code enters one before their first order. 200 with the outcome, whether
 * pending or refused (the refusal is recorded). */
void h_member_referral_enter(fd_req *r)
{
    code_job j = {.p = &r->program};
    if (param_id_or_reply(r, 0, &j.member_id) || body_str_or_reply(r, "code", true, &j.code))
        return;
    if (!write_or_reply(r, enter_code_run, &j, &j.err))
        fd_reply(
            r, 200,
            json_pack("{s:I, s:O}", "member_id", (json_int_t)j.member_id, "referral", j.outcome));
    json_decref(j.outcome);
}
