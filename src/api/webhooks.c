/*
 * webhooks.c - /v1/webhooks (subscriptions), their deliveries, and replay.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/fd.h"
#include "store/audit.h"

#define URL_MAX 2048
#define SECRET_MIN 16

static const char *const TYPES[] = {"*",
                                    "member.enrolled",
                                    "member.updated",
                                    "points.earned",
                                    "points.pending_matured",
                                    "points.expired",
                                    "points.expiring_soon",
                                    "points.reversed",
                                    "points.adjusted",
                                    "tier.changed",
                                    "reminder",
                                    "reward.redeemed",
                                    "voucher.redeemed",
                                    "voucher.rolled_back",
                                    "badge.earned",
                                    "referral.completed",
                                    "reward.fulfilment_requested",
                                    "consent.requested",
                                    "challenge.completed"};

static bool known_type(const char *s)
{
    for (size_t i = 0; s && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(TYPES[i], s)) return true;
    return false;
}

static bool url_ok(const char *u)
{
    return u && strlen(u) <= URL_MAX && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)) &&
           !strpbrk(u, " \t\r\n");
}

/* Reads url, events and active from the body into the out-parameters; fields
 * not sent stay as they are. */
static int fields_or_reply(fd_req *r, const char **url, char **events, int *active)
{
    json_t *u = json_object_get(r->body, "url"), *ev = json_object_get(r->body, "events"),
           *act = json_object_get(r->body, "active");
    if (u && !url_ok(json_string_value(u))) {
        fd_reply_error(r, 422, "invalid_field", "url must be an http:// or https:// URL", "url");
        return FD_EINVAL;
    }
    if (u) *url = json_string_value(u);
    if (ev) {
        size_t i;
        json_t *e;
        if (!json_is_array(ev) || json_array_size(ev) == 0 || json_array_size(ev) > 32)
            goto bad_events;
        json_array_foreach(ev, i, e) if (!known_type(json_string_value(e))) goto bad_events;
        free(*events);
        *events = fd_json_text(ev, false);
    }
    if (act && !json_is_boolean(act)) {
        fd_reply_error(r, 422, "invalid_field", "active must be true or false", "active");
        return FD_EINVAL;
    }
    if (act) *active = json_is_true(act);
    return FD_OK;
bad_events:
    fd_reply_error(r, 422, "invalid_field",
                   "events is a list of event types (docs/webhooks.md) or [\"*\"]", "events");
    return FD_EINVAL;
}

typedef struct hook_job {
    int64_t program_id, id;
    char op; /* 'c', 'u', 'd', 'r' replay */
    const char *url, *secret, *actor, *delivery;
    char *events;
    int active;
    fd_job_error err;
} hook_job;

static int hook_job_run(fd_db *db, void *arg)
{
    hook_job *j = arg;
    int64_t now = fd_now(), n = 0;
    int rc;
    switch (j->op) {
    case 'c':
        rc = fd_db_one_i64(
            db,
            "INSERT INTO webhooks(program_id, url, events, secret, active, created_at,"
            " updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            FD_PARAMS(FD_I(j->program_id), FD_S(j->url), FD_S(j->events), FD_S(j->secret),
                      FD_I(j->active), FD_I(now)),
            &j->id);
        n = 1;
        break;
    case 'u':
        rc = fd_db_run(db,
                       "UPDATE webhooks SET url = COALESCE($3, url), events = COALESCE($4, events),"
                       " active = $5, updated_at = $6 WHERE program_id = $1 AND id = $2"
                       " AND deleted_at IS NULL",
                       FD_PARAMS(FD_I(j->program_id), FD_I(j->id), FD_S(j->url), FD_S(j->events),
                                 FD_I(j->active), FD_I(now)),
                       &n);
        break;
    case 'd':
        rc = fd_db_run(
            db,
            "UPDATE webhooks SET deleted_at = $3, active = 0 WHERE program_id = $1 AND id = $2"
            " AND deleted_at IS NULL",
            FD_PARAMS(FD_I(j->program_id), FD_I(j->id), FD_I(now)), &n);
        if (!rc && n) /* its undelivered messages go nowhere now */
            rc = fd_db_run(db,
                           "UPDATE deliveries SET status = 'dead', last_error = 'webhook deleted'"
                           " WHERE webhook_id = $1 AND status = 'pending'",
                           FD_PARAMS(FD_I(j->id)), NULL);
        break;
    default:
        rc =
            fd_db_run(db,
                      "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3"
                      " WHERE program_id = $1 AND delivery_id = $2 AND status <> 'pending'",
                      FD_PARAMS(FD_I(j->program_id), FD_S(j->delivery), FD_I(now)), &n);
    }
    if (!rc && n == 0)
        return job_fail(
            &j->err, FD_ENOTFOUND, j->op == 'r' ? "delivery_not_found" : "webhook_not_found", NULL,
            j->op == 'r' ? "no such delivery, or it is pending already" : "no such webhook");
    char id[48];
    snprintf(id, sizeof id, "%s", j->op == 'r' ? j->delivery : "");
    if (j->op != 'r') snprintf(id, sizeof id, "%lld", (long long)j->id);
    static const char *const ACTIONS[] = {"webhook.create", "webhook.update", "webhook.delete",
                                          "delivery.replay"};
    const char *action = ACTIONS[j->op == 'c' ? 0 : j->op == 'u' ? 1 : j->op == 'd' ? 2 : 3];
    return rc ? rc
              : fd_audit_add(db, j->program_id, j->actor, action, "webhook", id, NULL, NULL, now);
}

static json_t *hook_json(fd_stmt *st)
{
    const char *secret = fd_stmt_text(st, 3);
    char hint[16];
    snprintf(hint, sizeof hint, "%.10s...", secret ? secret : "");
    json_t *events = json_loads(fd_stmt_text(st, 2), 0, NULL);
    return json_pack("{s:I, s:s, s:o, s:s, s:b, s:o, s:o}", "id", (json_int_t)fd_stmt_i64(st, 0),
                     "url", fd_stmt_text(st, 1), "events", events ? events : json_array(),
                     "secret_hint", hint, "active", (int)fd_stmt_i64(st, 4), "created_at",
                     fd_json_time(fd_stmt_i64(st, 5)), "updated_at",
                     fd_json_time(fd_stmt_i64(st, 6)));
}

#define HOOK_COLS "id, url, events, secret, active, created_at, updated_at"

static int load_hook(fd_req *r, int64_t id, json_t **out, int *active)
{
    fd_stmt *st;
    int rc = fd_db_query(r->db,
                         "SELECT " HOOK_COLS " FROM webhooks WHERE program_id = $1 AND id = $2"
                         " AND deleted_at IS NULL",
                         FD_PARAMS(FD_I(r->program.id), FD_I(id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        *out = hook_json(st);
        if (active) *active = (int)fd_stmt_i64(st, 4);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

static void reply_hook(fd_req *r, int64_t id, int status, const char *secret)
{
    json_t *o;
    int rc = load_hook(r, id, &o, NULL);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "webhook_not_found", "no such webhook", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    else {
        if (secret) json_object_set_new(o, "secret", json_string(secret));
        fd_reply(r, status, o);
    }
}

void h_webhooks_create(fd_req *r)
{
    hook_job j = {.op = 'c', .active = 1, .program_id = r->program.id, .actor = r->who.actor};
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send {\"url\": ..., \"events\": [...]}", NULL);
        return;
    }
    j.events = fd_strdup("[\"*\"]");
    const char *secret;
    char generated[64];
    if (fields_or_reply(r, &j.url, &j.events, &j.active) ||
        body_str_or_reply(r, "secret", false, &secret)) {
        free(j.events);
        return;
    }
    if (!j.url) {
        fd_reply_error(r, 422, "invalid_field", "url is required", "url");
        free(j.events);
        return;
    }
    if (secret && strlen(secret) < SECRET_MIN) {
        fd_reply_error(r, 422, "invalid_field", "secret must have at least 16 characters",
                       "secret");
        free(j.events);
        return;
    }
    if (!secret) {
        unsigned char raw[24];
        randombytes_buf(raw, sizeof raw);
        strcpy(generated, "whsec_");
        sodium_bin2base64(generated + 6, sizeof generated - 6, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        secret = generated;
    }
    j.secret = secret;
    if (!write_or_reply(r, hook_job_run, &j, &j.err)) reply_hook(r, j.id, 201, secret);
    free(j.events);
}

void h_webhook_get(fd_req *r)
{
    int64_t id;
    if (!param_id_or_reply(r, 0, &id)) reply_hook(r, id, 200, NULL);
}

void h_webhook_patch(fd_req *r)
{
    hook_job j = {.op = 'u', .program_id = r->program.id, .actor = r->who.actor};
    json_t *current;
    if (param_id_or_reply(r, 0, &j.id)) return;
    int rc = load_hook(r, j.id, &current, &j.active);
    if (rc) {
        if (rc == FD_ENOTFOUND)
            fd_reply_error(r, 404, "webhook_not_found", "no such webhook", NULL);
        else
            fd_reply_status(r, rc, NULL);
        return;
    }
    json_decref(current);
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the fields to change", NULL);
        return;
    }
    if (!fields_or_reply(r, &j.url, &j.events, &j.active) &&
        !write_or_reply(r, hook_job_run, &j, &j.err))
        reply_hook(r, j.id, 200, NULL);
    free(j.events);
}

void h_webhook_delete(fd_req *r)
{
    hook_job j = {.op = 'd', .program_id = r->program.id, .actor = r->who.actor};
    if (param_id_or_reply(r, 0, &j.id)) return;
    if (!write_or_reply(r, hook_job_run, &j, &j.err))
        fd_reply(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)j.id, "deleted", 1));
}

static json_t *hook_row(fd_stmt *st, void *arg)
{
    (void)arg;
    return hook_json(st);
}

void h_webhooks_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    reply_page(r,
               "SELECT " HOOK_COLS " FROM webhooks WHERE program_id = $1 AND id > $2"
               " AND deleted_at IS NULL ORDER BY id LIMIT $3",
               FD_PARAMS(FD_I(r->program.id), FD_I(after), FD_I(limit)), limit, hook_row, NULL);
}

static json_t *delivery_row(fd_stmt *st, void *arg)
{
    (void)arg;
    json_t *payload = json_loads(fd_stmt_text(st, 11), 0, NULL);
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:I, s:o, s:s?, s:o, s:o, s:o}", "delivery_id",
                  fd_stmt_text(st, 1), "type", fd_stmt_text(st, 2), "status", fd_stmt_text(st, 4),
                  "attempts", (json_int_t)fd_stmt_i64(st, 5), "next_attempt_at",
                  fd_json_time(fd_stmt_i64(st, 6)), "last_error", fd_stmt_text(st, 8), "created_at",
                  fd_json_time(fd_stmt_i64(st, 9)), "delivered_at",
                  fd_json_time(fd_stmt_i64(st, 10)), "payload", payload ? payload : json_null());
    json_object_set_new(d, "member_id",
                        fd_stmt_i64(st, 3) ? json_integer(fd_stmt_i64(st, 3)) : json_null());
    json_object_set_new(d, "last_status",
                        fd_stmt_is_null(st, 7) ? json_null() : json_integer(fd_stmt_i64(st, 7)));
    return d;
}

void h_webhook_deliveries(fd_req *r)
{
    int64_t id, after;
    int limit;
    const char *status = fd_query(r, "status");
    if (owned_id_or_reply(r, 0, "webhook", &id) || page_or_reply(r, &limit, &after)) return;
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "dead")) {
        fd_reply_error(r, 422, "invalid_query", "status is pending, delivered or dead", "status");
        return;
    }
    reply_page(r,
               "SELECT d.id, d.delivery_id, o.type, d.member_id, d.status, d.attempts,"
               " d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at,"
               " o.payload FROM deliveries d JOIN outbox o ON o.id = d.outbox_id"
               " WHERE d.program_id = $1 AND d.webhook_id = $2 AND d.id > $3"
               " AND ($4 = '' OR d.status = $4) ORDER BY d.id LIMIT $5",
               FD_PARAMS(FD_I(r->program.id), FD_I(id), FD_I(after), FD_S(status ? status : ""),
                         FD_I(limit)),
               limit, delivery_row, NULL);
}

void h_delivery_replay(fd_req *r)
{
    hook_job j = {
        .op = 'r', .program_id = r->program.id, .actor = r->who.actor, .delivery = r->params[0]};
    if (!write_or_reply(r, hook_job_run, &j, &j.err))
        fd_reply(r, 200, json_pack("{s:s, s:s}", "delivery_id", j.delivery, "status", "pending"));
}
