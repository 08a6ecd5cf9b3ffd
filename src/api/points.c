/*
 * points.c - a member's journal, open lots, and manual adjustments.
 */
#include <stdio.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/ledger.h"
#include "store/audit.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/outbox.h"

static int member_exists_or_reply(fd_req *r, int64_t *id)
{
    if (param_id_or_reply(r, 0, id)) return FD_ENOTFOUND;
    int64_t found;
    int rc = fd_db_one_i64(r->db, "SELECT id FROM members WHERE program_id = $1 AND id = $2",
                           FD_PARAMS(FD_I(r->program.id), FD_I(*id)), &found);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "member_not_found", "no such member", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    return rc;
}

/* One entry of the member's journal from a row of the query below. */
static json_t *journal_row(fd_stmt *st, void *arg)
{
    (void)arg;
    json_t *e =
        json_pack("{s:I, s:s, s:I, s:I, s:I, s:s?, s:s?, s:s?, s:s, s:o, s:o}", "id",
                  (json_int_t)fd_stmt_i64(st, 0), "kind", fd_stmt_text(st, 1), "points",
                  (json_int_t)fd_stmt_i64(st, 2), "pending", (json_int_t)fd_stmt_i64(st, 3),
                  "balance_after", (json_int_t)fd_stmt_i64(st, 4), "event_id", fd_stmt_text(st, 6),
                  "order_id", fd_stmt_text(st, 7), "reason", fd_stmt_text(st, 8), "actor",
                  fd_stmt_text(st, 9), "created_at", fd_json_time(fd_stmt_i64(st, 10)), "rules",
                  fd_ledger_shares_json(fd_stmt_text(st, 11)));
    json_object_set_new(e, "lot_id",
                        fd_stmt_is_null(st, 5) ? json_null() : json_integer(fd_stmt_i64(st, 5)));
    return e;
}

void h_member_ledger(fd_req *r)
{
    int64_t id, after;
    int limit;
    if (member_exists_or_reply(r, &id) || page_or_reply(r, &limit, &after)) return;
    /* Newest first, the cursor the last entry id seen. */
    reply_page(r,
               "SELECT id, kind, points, pending, balance_after, lot_id, event_id, order_id,"
               " reason, actor, created_at, rules FROM journal WHERE member_id = $1"
               " AND program_id = $2 AND ($3 = 0 OR id < $3) ORDER BY id DESC LIMIT $4",
               FD_PARAMS(FD_I(id), FD_I(r->program.id), FD_I(after), FD_I(limit)), limit,
               journal_row, NULL);
}

void h_member_lots(fd_req *r)
{
    int64_t id;
    if (member_exists_or_reply(r, &id)) return;
    /* Open lots in spending order: what expires first is spent first. */
    fd_stmt *st;
    int rc = fd_db_query(r->db,
                         "SELECT id, points, remaining, status, order_ref, earned_at, matures_at,"
                         " expires_at FROM lots WHERE member_id = $1 AND program_id = $2"
                         " AND status <> 'closed' AND remaining > 0"
                         " ORDER BY status, expires_at, earned_at, id LIMIT $3",
                         FD_PARAMS(FD_I(id), FD_I(r->program.id), FD_I(FD_PAGE_MAX)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *data = json_array();
    while ((rc = fd_stmt_next(st)) == 1) {
        int64_t expires = fd_stmt_i64(st, 7);
        json_t *l = json_pack(
            "{s:I, s:I, s:I, s:s, s:s?, s:o, s:o, s:o}", "id", (json_int_t)fd_stmt_i64(st, 0),
            "points", (json_int_t)fd_stmt_i64(st, 1), "remaining", (json_int_t)fd_stmt_i64(st, 2),
            "status", fd_stmt_text(st, 3), "order_id", fd_stmt_text(st, 4), "earned_at",
            fd_json_time(fd_stmt_i64(st, 5)), "matures_at", fd_json_time(fd_stmt_i64(st, 6)),
            "expires_at", expires == FD_NEVER ? json_null() : fd_json_time(expires));
        json_array_append_new(data, l);
    }
    fd_stmt_done(st);
    if (rc < 0) {
        json_decref(data);
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200, json_pack("{s:o}", "data", data));
}

typedef struct {
    const fd_program *program;
    int64_t id, points;
    const char *reason, *actor;
    fd_member m;
    fd_job_error err;
} adjust_job;

static int adjust_job_run(fd_db *db, void *arg)
{
    adjust_job *j = arg;
    int64_t now = fd_now();
    fd_member_clear(&j->m); /* from an earlier run of the job (a retry) */
    int rc = fd_member_get_locked(db, j->program->id, j->id, &j->m);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", NULL, "no such member");
    if (rc) return rc;
    if (j->m.state == FD_STATE_CLOSED)
        return job_fail(&j->err, FD_ECONFLICT, "member_closed", NULL,
                        "the member is closed (erased or merged)");
    fd_posting post = {"adjust", j->reason, NULL, NULL, j->actor, now};
    rc = j->points > 0 ? fd_ledger_credit(db, j->program, &j->m, j->points, false, &post, NULL)
                       : fd_ledger_debit(db, &j->m, -j->points, NULL, false, &post);
    if (rc == FD_ENOFUNDS)
        return job_fail(&j->err, rc, "insufficient_points", "points", "the member has %lld points",
                        (long long)j->m.balance);
    if (rc == FD_EOVERFLOW)
        return job_fail(&j->err, rc, "out_of_range", "points", "the balance would leave its range");
    if (rc) return rc;
    char id[24], after[160];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    snprintf(after, sizeof after, "{\"points\":%lld,\"balance\":%lld}", (long long)j->points,
             (long long)j->m.balance);
    rc =
        fd_audit_add(db, j->program->id, j->actor, "points.adjust", "member", id, NULL, after, now);
    json_t *msg =
        json_pack("{s:I, s:s, s:I, s:I}", "points", (json_int_t)j->points, "reason", j->reason,
                  "balance", (json_int_t)j->m.balance, "pending", (json_int_t)j->m.pending);
    if (!rc) rc = fd_outbox_emit(db, j->program->id, "points.adjusted", j->m.id, msg, now);
    json_decref(msg);
    return rc;
}

void h_member_adjust(fd_req *r)
{
    adjust_job j = {.program = &r->program, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.id) ||
        body_int_or_reply(r, "points", true, -FD_POINTS_MAX, FD_POINTS_MAX, &j.points, NULL) ||
        body_str_or_reply(r, "reason", true, &j.reason))
        return;
    if (j.points == 0) {
        fd_reply_error(r, 422, "invalid_field", "points must not be 0", "points");
        return;
    }
    if (!write_or_reply(r, adjust_job_run, &j, &j.err))
        fd_reply(r, 201,
                 json_pack("{s:I, s:I, s:I, s:I}", "member_id", (json_int_t)j.id, "points",
                           (json_int_t)j.points, "balance", (json_int_t)j.m.balance, "pending",
                           (json_int_t)j.m.pending));
    fd_member_clear(&j.m);
}
