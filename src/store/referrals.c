/*
 * referrals.c - referral codes, links and outcomes (referrals.h).
 */
#include "store/referrals.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/calendar.h"
#include "core/promo.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/stats.h"
#include "store/tiering.h"

int fd_referral_policy_load(fd_db *db, const fd_program *p, fd_referral_policy *out)
{
    fd_stmt *st;
    fd_referral_policy_default(out);
    int rc = fd_db_query(db, "SELECT referral_policy FROM programs WHERE id = $1",
                         FD_PARAMS(FD_I(p->id)), &st);
    if (rc) return rc;
    json_t *def = NULL;
    if (fd_stmt_next(st) == 1 && fd_stmt_text(st, 0))
        def = json_loads(fd_stmt_text(st, 0), 0, NULL);
    fd_stmt_done(st);
    char field[128], msg[160];
    if (def && fd_referral_policy_parse(def, p->exponent, out, field, msg))
        fd_referral_policy_default(out); /* validated when saved: a hand edit */
    json_decref(def);
    return FD_OK;
}

int fd_referral_code(fd_db *db, int64_t program_id, int64_t member_id, bool create, int64_t now,
                     char code[32])
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT code FROM referral_codes WHERE member_id = $1",
                         FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) snprintf(code, 32, "%s", fd_stmt_text(st, 0));
    fd_stmt_done(st);
    if (rc == 1) return FD_OK;
    if (rc < 0) return rc;
    if (!create) return FD_ENOTFOUND;
    for (int i = 0; i < 8; i++) { /* 31^7 codes: a collision is rare, two in a row rarer */
        int64_t n = 0;
        fd_code_generate(FD_REFERRAL_CODE_PATTERN, code);
        rc = fd_db_run(db,
                       "INSERT INTO referral_codes(member_id, program_id, code, created_at)"
                       " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                       FD_PARAMS(FD_I(member_id), FD_I(program_id), FD_S(code), FD_I(now)), &n);
        if (rc || n) return rc;
    }
    return FD_EBUSY;
}

/* The period key a referral counts in for the referrer's limit. */
static int period_key(const fd_program *p, const fd_referral_policy *pol, int64_t now, char key[16])
{
    fd_date d;
    int rc = fd_local_date(p, now, &d);
    if (!rc) fd_period_key(pol->period, d.year, d.month, d.day, key);
    return rc;
}

/* Whether referee is among the referrers above referrer (A refers B refers A). */
static int in_chain(fd_db *db, int64_t referrer, int64_t referee, bool *ring)
{
    int64_t at = referrer;
    *ring = false;
    for (int hop = 0; hop < FD_REFERRAL_CHAIN_MAX; hop++) {
        int64_t up;
        int rc = fd_db_one_i64(db,
                               "SELECT referrer_id FROM referrals WHERE referee_id = $1"
                               " AND status IN ('pending', 'completed') ORDER BY id LIMIT 1",
                               FD_PARAMS(FD_I(at)), &up);
        if (rc == FD_ENOTFOUND) return FD_OK;
        if (rc) return rc;
        if (up == referee) {
            *ring = true;
            return FD_OK;
        }
        at = up;
    }
    return FD_OK;
}

/* The first abuse rule referee and referrer break into *why, or NULL. */
static int refusal(fd_db *db, const fd_referral_policy *pol, const fd_member *referee,
                   const fd_member *referrer, const char *period, char buf[96], const char **why)
{
    int64_t n;
    bool ring;
    int rc;
    *why = referrer->id == referee->id
               ? "self_referral"
               : fd_referral_same_person(referrer, referee, &pol->fingerprints, buf);
    if (*why) return FD_OK;
    if (!fd_member_can_earn(referrer)) return (*why = "referrer_closed"), FD_OK;
    rc = fd_db_one_i64(db,
                       "SELECT COUNT(*) FROM referrals WHERE referee_id = $1"
                       " AND status <> 'refused'",
                       FD_PARAMS(FD_I(referee->id)), &n);
    if (rc) return rc;
    if (n) return (*why = "already_referred"), FD_OK;
    if ((rc = fd_stats_orders_placed(db, referee->id, &n))) return rc;
    if (n) return (*why = "not_new"), FD_OK;
    if ((rc = in_chain(db, referrer->id, referee->id, &ring))) return rc;
    if (ring) return (*why = "ring"), FD_OK;
    if (pol->max_per_referrer) {
        rc = fd_db_one_i64(db,
                           "SELECT COUNT(*) FROM referrals WHERE referrer_id = $1 AND period = $2"
                           " AND status IN ('pending', 'completed')",
                           FD_PARAMS(FD_I(referrer->id), FD_S(period)), &n);
        if (rc) return rc;
        if (n >= pol->max_per_referrer) *why = "referrer_limit";
    }
    return FD_OK;
}

int fd_referral_link(fd_db *db, const fd_program *p, const fd_member *referee, const char *code,
                     int64_t now, json_t **outcome)
{
    fd_referral_policy pol;
    fd_member referrer = {0};
    char period[16], buf[96], norm[FD_CODE_PATTERN_MAX + 1];
    const char *why = NULL;
    int64_t referrer_id = 0;
    int rc = fd_referral_policy_load(db, p, &pol);
    if (!rc) rc = period_key(p, &pol, now, period);
    if (rc) goto done;
    if (!pol.enabled) {
        *outcome = json_pack("{s:s, s:s}", "status", "refused", "reason", "disabled");
        goto done;
    }
    rc = fd_code_normalise(code, norm)
             ? FD_ENOTFOUND
             : fd_db_one_i64(db,
                             "SELECT member_id FROM referral_codes"
                             " WHERE program_id = $1 AND code = $2",
                             FD_PARAMS(FD_I(p->id), FD_S(norm)), &referrer_id);
    if (rc == FD_ENOTFOUND) {
        *outcome = json_pack("{s:s, s:s}", "status", "refused", "reason", "unknown_code");
        rc = FD_OK;
        goto done;
    }
    if (!rc) rc = fd_member_get_locked(db, p->id, referrer_id, &referrer);
    if (!rc) rc = refusal(db, &pol, referee, &referrer, period, buf, &why);
    if (!rc)
        rc = fd_db_run(db,
                       "INSERT INTO referrals(program_id, referrer_id, referee_id, status, reason,"
                       " period, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                       FD_PARAMS(FD_I(p->id), FD_I(referrer_id), FD_I(referee->id),
                                 FD_S(why ? "refused" : "pending"), FD_S(why), FD_S(period),
                                 FD_I(now)),
                       NULL);
    if (!rc) {
        *outcome = json_pack("{s:s, s:I}", "status", why ? "refused" : "pending", "referrer_id",
                             (json_int_t)referrer_id);
        if (why) json_object_set_new(*outcome, "reason", json_string(why));
    }
done:
    fd_member_clear(&referrer);
    fd_referral_policy_clear(&pol);
    return rc;
}

typedef struct referral_row {
    int64_t id, referrer, created_at, referrer_points, referee_points;
} referral_row;

static int find_referral(fd_db *db, const char *sql, const fd_param *params, size_t n,
                         referral_row *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, params, n, &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1)
        *out = (referral_row){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1), fd_stmt_i64(st, 2),
                              fd_stmt_i64(st, 3), fd_stmt_i64(st, 4)};
    fd_stmt_done(st);
    return rc == 1 ? FD_OK : rc == 0 ? FD_ENOTFOUND : rc;
}

static int credit(fd_db *db, const fd_program *p, fd_member *m, int64_t points,
                  const char *order_id, const char *reason, int64_t now)
{
    if (!points) return FD_OK;
    fd_posting post = {"earn", reason, NULL, order_id, "referral", now};
    return fd_ledger_credit(db, p, m, points, p->pending_days > 0, &post, NULL);
}

int fd_referral_on_purchase(fd_db *db, const fd_program *p, fd_member *m, const char *order_id,
                            int64_t total, int64_t occurred_at, int64_t now, json_t **outcome)
{
    referral_row r;
    *outcome = NULL;
    int rc = find_referral(db,
                           "SELECT id, referrer_id, created_at, 0, 0 FROM referrals"
                           " WHERE referee_id = $1 AND status = 'pending' ORDER BY id LIMIT 1",
                           FD_PARAMS(FD_I(m->id)), &r);
    if (rc == FD_ENOTFOUND) return FD_OK;
    if (rc) return rc;
    fd_referral_policy pol;
    if ((rc = fd_referral_policy_load(db, p, &pol))) return rc;
    int64_t days = (occurred_at - r.created_at) / 86400;
    if (!fd_referral_qualifies(&pol, total, days)) {
        if (pol.within_days && days > pol.within_days) { /* too late: it will never qualify */
            rc = fd_db_run(db, "UPDATE referrals SET status = 'expired' WHERE id = $1",
                           FD_PARAMS(FD_I(r.id)), NULL);
            *outcome =
                json_pack("{s:s, s:I}", "status", "expired", "referrer_id", (json_int_t)r.referrer);
        }
        fd_referral_policy_clear(&pol);
        return rc;
    }
    fd_member referrer = {0};
    char reason[160];
    snprintf(reason, sizeof reason, "referral: member %lld's first order", (long long)m->id);
    rc = fd_member_get_locked(db, p->id, r.referrer, &referrer);
    if (!rc) rc = credit(db, p, &referrer, pol.referrer_points, order_id, reason, now);
    if (!rc) rc = credit(db, p, m, pol.referee_points, order_id, "referral: welcome", now);
    if (!rc)
        rc =
            fd_db_run(db,
                      "UPDATE referrals SET status = 'completed', order_id = $2,"
                      " referrer_points = $3, referee_points = $4, completed_at = $5 WHERE id = $1",
                      FD_PARAMS(FD_I(r.id), FD_S(order_id), FD_I(pol.referrer_points),
                                FD_I(pol.referee_points), FD_I(now)),
                      NULL);
    if (!rc) {
        *outcome =
            json_pack("{s:s, s:I, s:I, s:I}", "status", "completed", "referrer_id",
                      (json_int_t)r.referrer, "referrer_points", (json_int_t)pol.referrer_points,
                      "referee_points", (json_int_t)pol.referee_points);
        json_t *data = json_pack("{s:I, s:I, s:s, s:I, s:I}", "referrer_id", (json_int_t)r.referrer,
                                 "referee_id", (json_int_t)m->id, "order_id", order_id,
                                 "referrer_points", (json_int_t)pol.referrer_points,
                                 "referee_points", (json_int_t)pol.referee_points);
        rc = fd_outbox_emit(db, p->id, "referral.completed", r.referrer, data, now);
        json_decref(data);
    }
    fd_member_clear(&referrer);
    fd_referral_policy_clear(&pol);
    return rc;
}

int fd_referral_on_refund(fd_db *db, const fd_program *p, fd_member *m, const char *order_id,
                          int64_t left, int64_t now, json_t **outcome)
{
    referral_row r;
    *outcome = NULL;
    int rc = find_referral(db,
                           "SELECT id, referrer_id, created_at, referrer_points, referee_points"
                           " FROM referrals WHERE program_id = $1 AND order_id = $2"
                           " AND status = 'completed'",
                           FD_PARAMS(FD_I(p->id), FD_S(order_id)), &r);
    if (rc == FD_ENOTFOUND) return FD_OK;
    if (rc) return rc;
    fd_referral_policy pol;
    if ((rc = fd_referral_policy_load(db, p, &pol))) return rc;
    bool still = left > 0 && left >= pol.min_order;
    fd_referral_policy_clear(&pol);
    if (still) return FD_OK;
    fd_member referrer = {0};
    fd_posting post = {
        "reverse", "referral reversed: its order was refunded", NULL, order_id, "referral", now};
    rc = fd_member_get_locked(db, p->id, r.referrer, &referrer);
    if (!rc && r.referrer_points)
        rc = fd_ledger_reverse(db, p, &referrer, r.referrer_points, order_id, &post, NULL);
    if (!rc && r.referee_points)
        rc = fd_ledger_reverse(db, p, m, r.referee_points, order_id, &post, NULL);
    if (!rc)
        rc = fd_db_run(db,
                       "UPDATE referrals SET status = 'reversed', reversed_at = $2 WHERE id = $1",
                       FD_PARAMS(FD_I(r.id), FD_I(now)), NULL);
    if (!rc)
        *outcome =
            json_pack("{s:s, s:I, s:I, s:I}", "status", "reversed", "referrer_id",
                      (json_int_t)r.referrer, "referrer_points", (json_int_t)r.referrer_points,
                      "referee_points", (json_int_t)r.referee_points);
    fd_member_clear(&referrer);
    return rc;
}
