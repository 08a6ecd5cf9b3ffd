/*
 * reminders.c - /v1/reminders (definitions) and running them on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "jobs/reminders.h"
#include "store/audit.h"

typedef struct reminder_job {
    int64_t program_id, id;
    char op; /* 'c', 'u', 'd' */
    const char *name, *actor;
    char *definition;
    int active;
    fd_job_error err;
} reminder_job;

static int reminder_job_run(fd_db *db, void *arg)
{
    reminder_job *j = arg;
    int64_t now = fd_now(), n = 1;
    int rc;
    if (j->op == 'c')
        rc = fd_db_one_i64(
            db,
            "INSERT INTO reminders(program_id, name, definition, active, created_at,"
            " updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
            FD_PARAMS(FD_I(j->program_id), FD_S(j->name), FD_S(j->definition), FD_I(j->active),
                      FD_I(now), FD_S(j->actor)),
            &j->id);
    else if (j->op == 'u')
        rc = fd_db_run(
            db,
            "UPDATE reminders SET name = $3, definition = $4, active = $5, updated_at = $6,"
            " updated_by = $7 WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL",
            FD_PARAMS(FD_I(j->program_id), FD_I(j->id), FD_S(j->name), FD_S(j->definition),
                      FD_I(j->active), FD_I(now), FD_S(j->actor)),
            &n);
    else
        rc = fd_db_run(
            db,
            "UPDATE reminders SET deleted_at = $3, active = 0 WHERE program_id = $1 AND id = $2"
            " AND deleted_at IS NULL",
            FD_PARAMS(FD_I(j->program_id), FD_I(j->id), FD_I(now)), &n);
    if (!rc && n == 0)
        return job_fail(&j->err, FD_ENOTFOUND, "reminder_not_found", NULL, "no such reminder");
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    const char *action = j->op == 'c'   ? "reminder.create"
                         : j->op == 'u' ? "reminder.update"
                                        : "reminder.delete";
    return rc ? rc
              : fd_audit_add(db, j->program_id, j->actor, action, "reminder", id, NULL,
                             j->definition, now);
}

static json_t *reminder_json(fd_stmt *st)
{
    json_t *o = json_loads(fd_stmt_text(st, 1), 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "id", json_integer(fd_stmt_i64(st, 0)));
    json_object_set_new(o, "active", json_boolean(fd_stmt_i64(st, 2)));
    json_object_set_new(o, "updated_at", fd_json_time(fd_stmt_i64(st, 3)));
    json_object_set_new(o, "updated_by", json_string(fd_stmt_text(st, 4)));
    return o;
}

static void reply_reminders(fd_req *r, int64_t id, int status, int limit, int64_t after)
{
    fd_stmt *st;
    int rc = fd_db_query(
        r->db,
        "SELECT id, definition, active, updated_at, updated_by FROM reminders"
        " WHERE program_id = $1 AND deleted_at IS NULL AND ($2 = 0 OR id = $2)"
        " AND id > $3 ORDER BY id LIMIT $4",
        FD_PARAMS(FD_I(r->program.id), FD_I(id), FD_I(after), FD_I(id ? 1 : limit)), &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *data = json_array();
    int64_t last = 0;
    while (fd_stmt_next(st) == 1) {
        last = fd_stmt_i64(st, 0);
        json_array_append_new(data, reminder_json(st));
    }
    fd_stmt_done(st);
    if (!id)
        fd_reply(r, 200, fd_page_json(data, (int)json_array_size(data) == limit ? last : 0));
    else if (json_array_size(data))
        fd_reply(r, status, json_incref(json_array_get(data, 0)));
    else
        fd_reply_error(r, 404, "reminder_not_found", "no such reminder", NULL);
    if (id) json_decref(data);
}

static int body_or_reply(fd_req *r, reminder_job *j)
{
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the reminder as a JSON object", NULL);
        return FD_EINVAL;
    }
    json_t *act = json_object_get(r->body, "active");
    json_t *def = json_deep_copy(r->body);
    json_object_del(def, "active");
    json_object_del(def, "id");
    char field[64], msg[160];
    if ((act && !json_is_boolean(act)) || fd_reminder_check(def, field, msg)) {
        json_decref(def);
        if (act && !json_is_boolean(act))
            fd_reply_error(r, 422, "invalid_reminder", "active is true or false", "active");
        else
            fd_reply_error(r, 422, "invalid_reminder", msg, field);
        return FD_EINVAL;
    }
    j->active = !act || json_is_true(act);
    j->name = json_string_value(json_object_get(r->body, "name"));
    j->definition = json_canonical(def);
    json_decref(def);
    return FD_OK;
}

static void run(fd_req *r, reminder_job *j, int status)
{
    j->program_id = r->program.id;
    j->actor = r->who.actor;
    if (!write_or_reply(r, reminder_job_run, j, &j->err)) {
        if (j->op == 'd')
            fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j->id, "deleted", 1));
        else
            reply_reminders(r, j->id, status, 1, 0);
    }
    free(j->definition);
}

void h_reminders_create(fd_req *r)
{
    reminder_job j = {.op = 'c'};
    if (!body_or_reply(r, &j)) run(r, &j, 201);
}

void h_reminder_replace(fd_req *r)
{
    reminder_job j = {.op = 'u'};
    if (!param_id_or_reply(r, 0, &j.id) && !body_or_reply(r, &j)) run(r, &j, 200);
}

void h_reminder_delete(fd_req *r)
{
    reminder_job j = {.op = 'd'};
    if (!param_id_or_reply(r, 0, &j.id)) run(r, &j, 200);
}

void h_reminder_get(fd_req *r)
{
    int64_t id;
    if (!param_id_or_reply(r, 0, &id)) reply_reminders(r, id, 200, 1, 0);
}

void h_reminders_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (!page_or_reply(r, &limit, &after)) reply_reminders(r, 0, 200, limit, after);
}

void h_jobs_rfm(fd_req *r)
{
    int rc = fd_jobs_rfm_run(r->store, fd_now());
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, json_pack("{s:b}", "done", 1));
}

void h_jobs_reminders(fd_req *r)
{
    int64_t sent = 0;
    int rc = fd_jobs_reminders_run(r->store, fd_now(), &sent);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, json_pack("{s:I}", "reminders_sent", (json_int_t)sent));
}
