/*
 * outbox.h - the transactional outbox: every meaningful change writes its
 * message in the same transaction as the change (so nothing is announced
 * that did not happen, and nothing that happened is lost), with one delivery
 * row per subscribed webhook. The delivery worker (jobs/webhooks.c) sends
 * them later, outside any request.
 */
#ifndef FD_OUTBOX_H
#define FD_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "store/db.h"

/* Writes message `type` about member_id (0: none) with data (borrowed) for
 * every active webhook of the program subscribed to it. */
int fd_outbox_emit(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                   const json_t *data, int64_t now);

/* The same in two halves, for a caller whose data costs to build (one per
 * event): which active webhooks of the program want `type` (their ids in
 * hooks, at most FD_OUTBOX_HOOKS_MAX, the count in *n), then, if any, the
 * message for them. */
#define FD_OUTBOX_HOOKS_MAX 64
int fd_outbox_subscribers(fd_db *db, int64_t program_id, const char *type, int64_t *hooks, int *n);
int fd_outbox_write(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                    const json_t *data, const int64_t *hooks, int n, int64_t now);
/* The same with data as compact JSON text (an object written by
 * fd_json_writer), for a message written on every event. */
int fd_outbox_write_text(fd_db *db, int64_t program_id, const char *type, int64_t member_id,
                         const char *data, const int64_t *hooks, int n, int64_t now);

/* True when the webhook's subscription list covers type: events_json is
 * the list as the API stores it (a JSON array of known type names, or
 * ["*"]), read without parsing it. */
int fd_webhook_wants(const char *events_json, const char *type);

#endif
