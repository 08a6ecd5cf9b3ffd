/*
 * engagement.c - a member's badges and challenges: GET
 * /v1/members/{id}/badges (earned, with when and by which event) and GET
 * /v1/members/{id}/challenges (progress in every active challenge).
 */
#include "api/handlers.h"
#include "base/fd.h"
#include "store/config.h"

static json_t *badge_row(fd_stmt *st, void *arg)
{
    (void)arg;
    json_t *def = json_loads(fd_stmt_text(st, 1), 0, NULL);
    json_t *o =
        json_pack("{s:I, s:s, s:o, s:I}", "badge_id", (json_int_t)fd_stmt_i64(st, 2), "name",
                  json_string_value(json_object_get(def, "name")), "earned_at",
                  fd_json_time(fd_stmt_i64(st, 3)), "points", (json_int_t)fd_stmt_i64(st, 5));
    json_object_set_new(o, "event_id",
                        fd_stmt_text(st, 4) ? json_string(fd_stmt_text(st, 4)) : json_null());
    const json_t *desc = json_object_get(def, "description"),
                 *img = json_object_get(def, "image_url");
    if (desc) json_object_set(o, "description", (json_t *)desc);
    if (img) json_object_set(o, "image_url", (json_t *)img);
    json_decref(def);
    return o;
}

void h_member_badges(fd_req *r)
{
    int64_t id, after;
    int limit;
    if (owned_id_or_reply(r, 0, "member", &id) || page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT mb.id, b.definition, mb.badge_id, mb.earned_at, mb.event_id, mb.points"
               " FROM member_badges mb JOIN badges b ON b.id = mb.badge_id WHERE mb.member_id = $1"
               " AND mb.program_id = $2 AND mb.id > $3 ORDER BY mb.id LIMIT $4",
               FD_PARAMS(FD_I(id), FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, badge_row,
               NULL);
}

void h_member_challenges(fd_req *r)
{
    int64_t id;
    fd_config *cfg = NULL;
    if (owned_id_or_reply(r, 0, "member", &id)) return;
    int rc = fd_config_get(r->db, &r->program, &cfg);
    json_t *list = json_array();
    for (size_t i = 0; !rc && i < cfg->nchallenges; i++) {
        const fd_challenge *c = &cfg->challenges[i];
        fd_stmt *st;
        if (!c->active) continue;
        rc = fd_db_query(r->db,
                         "SELECT progress, completed_at FROM member_challenges"
                         " WHERE member_id = $1 AND challenge_id = $2",
                         FD_PARAMS(FD_I(id), FD_I(c->id)), &st);
        if (rc) break;
        bool row = fd_stmt_next(st) == 1;
        json_t *o = json_deep_copy(c->definition);
        json_object_set_new(o, "id", json_integer(c->id));
        json_object_set_new(o, "progress", json_integer(row ? fd_stmt_i64(st, 0) : 0));
        json_object_set_new(o, "target", json_integer(fd_challenge_target(c)));
        json_object_set_new(o, "completed_at",
                            row && !fd_stmt_is_null(st, 1) ? fd_json_time(fd_stmt_i64(st, 1))
                                                           : json_null());
        fd_stmt_done(st);
        json_array_append_new(list, o);
    }
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, json_pack("{s:I, s:O}", "member_id", (json_int_t)id, "data", list));
    json_decref(list);
    fd_config_release(cfg);
}
