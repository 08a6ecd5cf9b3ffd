/*
 * events.h - the event pipeline without HTTP, for background jobs that
 * produce events (birthdays, anniversaries): the same idempotency, rules,
 * tiers and aggregates as POST /v1/events.
 */
#ifndef FD_API_EVENTS_H
#define FD_API_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/program.h"
#include "store/db.h"
#include "store/store.h"

/* Applies custom event `type` with id event_id for member_id (attributes
 * may be NULL). *points receives what it earned; *duplicate whether the id
 * was already applied. reader is a reader connection for the rules. */
int fd_event_apply_custom(fd_store *s, fd_db *reader, const fd_program *p, int64_t member_id,
                          const char *type, const char *event_id, const json_t *attributes,
                          int64_t *points, bool *duplicate);

/* One event's answer in a batch: its HTTP status and its JSON text,
 * {"status": 201|200, "result": {...}} or {"status": 4xx, "error": {...}}. */
typedef struct fd_batch_answer {
    int status;
    char *json;
} fd_batch_answer;

/* Applies n event bodies (borrowed) in group commits of up to 1,000 events,
 * with the same validation as POST /v1/events; one event's failure leaves
 * the others applied. *answers receives one answer per body, in order
 * (caller frees with fd_batch_answers_free). FD_EBUSY and storage errors
 * fail the whole batch, and *answers is left alone. */
int fd_events_batch(fd_store *s, fd_db *reader, const fd_program *p, const char *actor,
                    json_t *const *bodies, size_t n, fd_batch_answer **answers);

void fd_batch_answers_free(fd_batch_answer *answers, size_t n);

#endif
