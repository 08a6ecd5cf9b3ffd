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

/* Applies n event bodies (borrowed) as one group commit, each in its own
 * savepoint, with the same validation as POST /v1/events. *results receives
 * one entry per body: {"status": 201|200, "result": ...} or {"status": 4xx,
 * "error": {...}}. FD_EBUSY and storage errors fail the whole batch. */
int fd_events_batch(fd_store *s, fd_db *reader, const fd_program *p, const char *actor,
                    json_t *const *bodies, size_t n, json_t **results);

#endif
