/*
 * engagement.h - badges earned and challenge progress in storage, updated
 * after each of a member's events inside the event's transaction
 * (docs/engagement.md). Decisions come from core/engagement.h.
 */
#ifndef FD_STORE_ENGAGEMENT_H
#define FD_STORE_ENGAGEMENT_H

#include <jansson.h>
#include <stdint.h>

#include "core/member.h"
#include "core/program.h"
#include "store/config.h"
#include "store/db.h"

/* The event of member m (locked) that has just been applied. */
typedef struct fd_engagement_event {
    const char *type;
    const char *event_id;
    const json_t *body; /* the event as sent: "event" in badge and challenge conditions */
    int64_t occurred_at;
    int64_t now;
} fd_engagement_event;

/* Awards the badges whose condition now holds (once each, with their bonus
 * and a badge.earned webhook) and counts the event in the challenges it
 * belongs to (completing them: bonus and challenge.completed). *out
 * receives {"badges": [...], "challenges": [...]} of what changed, or NULL
 * when nothing did. */
int fd_engagement_after_event(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                              const fd_engagement_event *ev, json_t **out);

#endif
