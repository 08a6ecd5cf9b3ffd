/*
 * tiers.c - /v1/tiers (the program's tier configuration), a member's tier
 * progress and tier history.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/tiers.h"
#include "store/audit.h"
#include "store/config.h"
#include "store/members.h"
#include "store/tiering.h"

void h_tiers_get(fd_req *r)
{
    fd_config *cfg;
    int rc = fd_config_get(r->db, &r->program, &cfg);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    if (cfg->has_tiers)
        fd_reply(r, 200, fd_tier_config_json(&cfg->tiers, r->program.exponent));
    else
        fd_reply(r, 200, json_pack("{s:n, s:[]}", "metric", "tiers"));
    fd_config_release(cfg);
}

typedef struct {
    int64_t program_id;
    const char *actor;
    char *text;
} tiers_job;

static int tiers_job_run(fd_db *db, void *arg)
{
    tiers_job *j = arg;
    int64_t now = fd_now();
    fd_stmt *st;
    char *before = NULL;
    int rc = fd_db_query(db, "SELECT tiers FROM programs WHERE id = $1",
                         FD_PARAMS(FD_I(j->program_id)), &st);
    if (rc) return rc;
    if (fd_stmt_next(st) == 1 && fd_stmt_text(st, 0)) before = fd_strdup(fd_stmt_text(st, 0));
    fd_stmt_done(st);
    /* the tier job looks at every member again: new thresholds may place
     * members who had none */
    rc = fd_db_run(db, "UPDATE programs SET tiers = $2, tiers_placed_through = 0 WHERE id = $1",
                   FD_PARAMS(FD_I(j->program_id), FD_S(j->text)), NULL);
    if (!rc) rc = fd_config_bump(db, j->program_id);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "tiers.update", "tiers", NULL, before,
                          j->text, now);
    free(before);
    return rc;
}

/* PUT /v1/tiers: replaces the configuration. Thresholds apply from the next
 * event; nobody is downgraded by a change (SPEC §15.6): downgrades happen
 * only at reviews. */
void h_tiers_put(fd_req *r)
{
    fd_tier_config c;
    char field[64], msg[160];
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the tier configuration as a JSON object",
                       NULL);
        return;
    }
    if (fd_tier_config_parse(r->body, r->program.exponent, &c, field, msg)) {
        fd_reply_error(r, 422, "invalid_tiers", msg, field);
        return;
    }
    json_t *canon = fd_tier_config_json(&c, r->program.exponent);
    tiers_job j = {r->program.id, r->who.actor, json_canonical(canon)};
    if (!write_or_reply(r, tiers_job_run, &j, NULL))
        fd_reply(r, 200, canon);
    else
        json_decref(canon);
    free(j.text);
    fd_tier_config_clear(&c);
}

/* Loads the member of path parameter 0 and the program's configuration. */
static int member_config_or_reply(fd_req *r, fd_member *m, fd_config **cfg)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return FD_ENOTFOUND;
    int rc = fd_member_get(r->db, r->program.id, id, m);
    if (rc == FD_ENOTFOUND) {
        fd_reply_error(r, 404, "member_not_found", "no such member", NULL);
        return rc;
    }
    if (!rc) rc = fd_config_get(r->db, &r->program, cfg);
    if (rc) fd_reply_status(r, rc, NULL);
    return rc;
}

void h_member_progress(fd_req *r)
{
    fd_member m = {0};
    fd_config *cfg = NULL;
    json_t *out;
    if (member_config_or_reply(r, &m, &cfg)) {
        fd_member_clear(&m);
        return;
    }
    int rc = fd_tier_progress(r->db, &r->program, cfg, &m, fd_now(), &out);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, out);
    fd_config_release(cfg);
    fd_member_clear(&m);
}

static json_t *history_row(fd_stmt *st, void *arg)
{
    (void)arg;
    return json_pack("{s:s?, s:s?, s:s, s:I, s:o}", "from", fd_stmt_text(st, 1), "to",
                     fd_stmt_text(st, 2), "reason", fd_stmt_text(st, 3), "metric",
                     (json_int_t)fd_stmt_i64(st, 4), "at", fd_json_time(fd_stmt_i64(st, 5)));
}

void h_member_tier_history(fd_req *r)
{
    int64_t id, after;
    int limit;
    if (owned_id_or_reply(r, 0, "member", &id) || page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT id, from_tier, to_tier, reason, metric, created_at FROM tier_history"
               " WHERE member_id = $1 AND program_id = $2 AND ($3 = 0 OR id < $3)"
               " ORDER BY id DESC LIMIT $4",
               FD_PARAMS(FD_I(id), FD_I(r->program.id), FD_I(after), FD_I(limit)), limit,
               history_row, NULL);
}
