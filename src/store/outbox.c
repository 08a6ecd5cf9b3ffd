/*
 * outbox.c - the transactional outbox (outbox.h).
 */
#include "store/outbox.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/jsonx.h"

/* The column holds the API's own text of a list of known type names
 * (api/webhooks.c): each element a quoted name without escapes. So an
 * element equals type exactly when type in quotes occurs in the text, and a
 * quote can only open a name there. Parsing the list for every message cost
 * as much as half the message's row. */
int fd_webhook_wants(const char *events_json, const char *type)
{
    char quoted[64];
    int n = snprintf(quoted, sizeof quoted, "\"%s\"", type);
    if (n < 0 || (size_t)n >= sizeof quoted) return 0; /* longer than any type */
    return strstr(events_json, "\"*\"") || strstr(events_json, quoted);
}

int fd_outbox_subscribers(fd_db *db, int64_t program_id, const char *type, int64_t *hooks, int *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, events FROM webhooks WHERE program_id = $1 AND active = 1"
                         " AND deleted_at IS NULL ORDER BY id",
                         FD_PARAMS(FD_I(program_id)), &st);
    if (rc) return rc;
    *n = 0;
    while ((rc = fd_stmt_next(st)) == 1 && *n < FD_OUTBOX_HOOKS_MAX)
        if (fd_webhook_wants(fd_stmt_text(st, 1), type)) hooks[(*n)++] = fd_stmt_i64(st, 0);
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* A new delivery's id at time now: "dlv_", then now (8 hex digits) and 12
 * random bytes. Ids in time order put each new one among the last pages of
 * the unique index instead of on a page anywhere in it; 96 random bits per
 * second keep them unique. */
static void delivery_id(int64_t now, char id[40])
{
    unsigned char raw[16];
    uint32_t t = (uint32_t)now;
    for (int k = 0; k < 4; k++)
        raw[k] = (unsigned char)(t >> (24 - 8 * k));
    randombytes_buf(raw + 4, sizeof raw - 4);
    memcpy(id, "dlv_", 4);
    sodium_bin2hex(id + 4, 40 - 4, raw, sizeof raw);
}

int fd_outbox_write(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                    const json_t *data, const int64_t *hooks, int n, int64_t now)
{
    char *text = fd_json_text(data, false);
    int rc = fd_outbox_write_text(db, program_id, type, member_id, text, hooks, n, now);
    free(text);
    return rc;
}

int fd_outbox_write_text(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                         const char *data, const int64_t *hooks, int n, int64_t now)
{
    fd_json_writer w;
    fd_jw_init(&w);
    fd_jw_open(&w, NULL, '{');
    fd_jw_string(&w, "type", type);
    fd_jw_time(&w, "created_at", now);
    fd_jw_raw(&w, "data", data);
    if (member_id) fd_jw_int(&w, "member_id", member_id);
    fd_jw_close(&w, '}');
    char *payload = fd_jw_finish(&w, NULL);
    int64_t outbox_id;
    int rc =
        fd_db_one_i64(db,
                      "INSERT INTO outbox(program_id, type, member_id, payload, created_at)"
                      " VALUES ($1, $2, $3, $4, $5) RETURNING id",
                      FD_PARAMS(FD_I(program_id), FD_S(type), member_id ? FD_I(member_id) : FD_NULL,
                                FD_S(payload), FD_I(now)),
                      &outbox_id);
    free(payload);
    for (int i = 0; i < n && !rc; i++) {
        char id[40];
        delivery_id(now, id);
        rc = fd_db_run(
            db,
            "INSERT INTO deliveries(program_id, webhook_id, outbox_id, delivery_id, member_id,"
            " status, attempts, next_attempt_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6)",
            FD_PARAMS(FD_I(program_id), FD_I(hooks[i]), FD_I(outbox_id), FD_S(id), FD_I(member_id),
                      FD_I(now)),
            NULL);
    }
    return rc;
}

int fd_outbox_emit(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                   const json_t *data, int64_t now)
{
    int64_t hooks[FD_OUTBOX_HOOKS_MAX];
    int n;
    int rc = fd_outbox_subscribers(db, program_id, type, hooks, &n);
    return rc || n == 0 ? rc
                        : fd_outbox_write(db, program_id, type, member_id, data, hooks, n, now);
}
