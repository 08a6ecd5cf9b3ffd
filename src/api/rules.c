/*
 * rules.c - /v1/earning-rules (create, list, read, replace, switch on/off,
 * retire, version history) and /v1/simulate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "core/rules.h"
#include "store/audit.h"
#include "store/earning.h"
#include "store/members.h"
#include "store/rules.h"

static json_t *rule_json(const fd_rule_row *row)
{
    json_t *o = json_loads(row->definition, 0, NULL);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    json_object_set_new(o, "id", json_integer(row->id));
    json_object_set_new(o, "version", json_integer(row->version));
    json_object_set_new(o, "active", json_boolean(row->active));
    json_object_set_new(o, "points_awarded", json_integer(row->points_awarded));
    json_object_set_new(o, "created_at", fd_json_time(row->created_at));
    json_object_set_new(o, "updated_at", fd_json_time(row->updated_at));
    json_object_set_new(o, "updated_by", json_string(row->updated_by));
    return o;
}

/* Validates the body as a rule; *definition receives its canonical text
 * without the bookkeeping fields (caller frees). */
static int definition_or_reply(fd_req *r, char **definition, bool *active, const char **name)
{
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the rule as a JSON object", NULL);
        return FD_EINVAL;
    }
    json_t *def = json_deep_copy(r->body);
    static const char *const BOOKKEEPING[] = {
        "id", "version", "points_awarded", "created_at", "updated_at", "updated_by", "active"};
    json_t *act = json_object_get(r->body, "active");
    if (act && !json_is_boolean(act)) {
        json_decref(def);
        fd_reply_error(r, 422, "invalid_field", "active must be true or false", "active");
        return FD_EINVAL;
    }
    *active = !act || json_is_true(act);
    for (size_t i = 0; i < sizeof BOOKKEEPING / sizeof BOOKKEEPING[0]; i++)
        json_object_del(def, BOOKKEEPING[i]);
    fd_rule rule;
    char field[128], msg[160];
    if (fd_rule_parse(def, &rule, field, msg)) {
        json_decref(def);
        fd_reply_error(r, 422, "invalid_rule", msg, field);
        return FD_EINVAL;
    }
    fd_rule_clear(&rule);
    *definition = json_canonical(def);
    *name = json_string_value(json_object_get(r->body, "name"));
    json_decref(def);
    return FD_OK;
}

typedef struct rule_job {
    int64_t program_id, id;
    char op; /* 'c' create, 'u' update, 'a' set active, 'd' delete */
    const char *name, *actor;
    char *definition;
    bool active;
    fd_rule_row row; /* result */
    fd_job_error err;
} rule_job;

static char *row_text(const fd_rule_row *row)
{
    json_t *o = rule_json(row);
    char *s = json_canonical(o);
    json_decref(o);
    return s;
}

static int rule_job_run(fd_db *db, void *arg)
{
    rule_job *j = arg;
    int64_t now = fd_now(), version;
    fd_rule_row before = {0};
    int rc = FD_OK;
    if (j->op != 'c') {
        rc = fd_rule_get(db, j->program_id, j->id, &before);
        if (rc == FD_ENOTFOUND)
            return job_fail(&j->err, rc, "rule_not_found", NULL, "no such rule");
        if (rc) return rc;
    }
    switch (j->op) {
    case 'c':
        rc = fd_rule_insert(db, j->program_id, j->name, j->definition, j->active, j->actor, now,
                            &j->id);
        if (rc == FD_ETOOBIG)
            rc = job_fail(&j->err, FD_ECONFLICT, "too_many_rules", NULL,
                          "a program has at most %d rules", FD_RULES_MAX);
        break;
    case 'u':
        rc = fd_rule_update(db, j->program_id, j->id, j->name, j->definition, j->active, j->actor,
                            now, &version);
        break;
    case 'a': {
        json_t *def = json_loads(before.definition, 0, NULL);
        const char *name = json_string_value(json_object_get(def, "name"));
        rc = fd_rule_update(db, j->program_id, j->id, name ? name : "", before.definition,
                            j->active, j->actor, now, &version);
        json_decref(def);
        break;
    }
    case 'd':
        rc = fd_rule_delete(db, j->program_id, j->id, j->actor, now);
        break;
    }
    char id[24], *b = j->op == 'c' ? NULL : row_text(&before), *a = NULL;
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    if (!rc && j->op != 'd') {
        rc = fd_rule_get(db, j->program_id, j->id, &j->row);
        if (!rc) a = row_text(&j->row);
    }
    static const char *const ACTIONS[] = {"rule.create", "rule.update", "rule.switch",
                                          "rule.delete"};
    const char *action = ACTIONS[j->op == 'c' ? 0 : j->op == 'u' ? 1 : j->op == 'a' ? 2 : 3];
    if (!rc) rc = fd_audit_add(db, j->program_id, j->actor, action, "earning_rule", id, b, a, now);
    free(b);
    free(a);
    fd_rule_row_clear(&before);
    return rc;
}

static void run_rule_job(fd_req *r, rule_job *j, int status)
{
    j->program_id = r->program.id;
    j->actor = r->who.actor;
    if (!write_or_reply(r, rule_job_run, j, &j->err)) {
        if (j->op == 'd')
            fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j->id, "deleted", 1));
        else
            fd_reply(r, status, rule_json(&j->row));
    }
    fd_rule_row_clear(&j->row);
    free(j->definition);
}

void h_rules_create(fd_req *r)
{
    rule_job j = {.op = 'c'};
    if (definition_or_reply(r, &j.definition, &j.active, &j.name)) return;
    run_rule_job(r, &j, 201);
}

void h_rule_replace(fd_req *r)
{
    rule_job j = {.op = 'u'};
    if (param_id_or_reply(r, 0, &j.id) || definition_or_reply(r, &j.definition, &j.active, &j.name))
        return;
    run_rule_job(r, &j, 200);
}

void h_rule_patch(fd_req *r)
{
    rule_job j = {.op = 'a'};
    json_t *act = r->body ? json_object_get(r->body, "active") : NULL;
    if (param_id_or_reply(r, 0, &j.id)) return;
    if (!json_is_boolean(act) || json_object_size(r->body) != 1) {
        fd_reply_error(r, 422, "invalid_field",
                       "PATCH switches a rule on or off: {\"active\": false}; replace it with PUT",
                       "active");
        return;
    }
    j.active = json_is_true(act);
    run_rule_job(r, &j, 200);
}

void h_rule_delete(fd_req *r)
{
    rule_job j = {.op = 'd'};
    if (param_id_or_reply(r, 0, &j.id)) return;
    run_rule_job(r, &j, 200);
}

void h_rule_get(fd_req *r)
{
    int64_t id;
    fd_rule_row row = {0};
    if (param_id_or_reply(r, 0, &id)) return;
    int rc = fd_rule_get(r->db, r->program.id, id, &row);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "rule_not_found", "no such rule", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, rule_json(&row));
    fd_rule_row_clear(&row);
}

typedef struct {
    json_t *data;
    int64_t last;
} rule_acc;

static void add_rule(const fd_rule_row *row, void *arg)
{
    rule_acc *a = arg;
    json_array_append_new(a->data, rule_json(row));
    a->last = row->id;
}

void h_rules_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    rule_acc acc = {json_array(), 0};
    int rc = fd_rule_list(r->db, r->program.id, after, limit, add_rule, &acc);
    if (rc) {
        json_decref(acc.data);
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200,
             fd_page_json(acc.data, (int)json_array_size(acc.data) == limit ? acc.last : 0));
}

static void add_version(int64_t version, const char *change, const char *definition, bool active,
                        const char *by, int64_t at, void *arg)
{
    json_t *def = json_loads(definition, 0, NULL);
    json_array_append_new(arg, json_pack("{s:I, s:s, s:o, s:b, s:s, s:o}", "version",
                                         (json_int_t)version, "change", change, "definition",
                                         def ? def : json_null(), "active", active, "changed_by",
                                         by, "changed_at", fd_json_time(at)));
}

void h_rule_versions(fd_req *r)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return;
    json_t *data = json_array();
    int rc = fd_rule_versions(r->db, r->program.id, id, add_version, data);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "rule_not_found", "no such rule", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    else {
        fd_reply(r, 200, json_pack("{s:o}", "data", data));
        return;
    }
    json_decref(data);
}
