/*
 * engagement.h - badges and challenges (docs/engagement.md).
 *
 * A badge is earned once, the first time its JSONLogic condition holds
 * after one of the member's events: {"member" (the context earning rules
 * see, with "events": counts per event type), "event", "time"}.
 * JSON: {"name", "description", "image_url", "condition", "points"}.
 *
 * A challenge counts the member's events of one type (optionally only
 * those its condition accepts) inside its schedule: "count" of them, or a
 * "streak" of that many consecutive ISO weeks with at least one, completes
 * it once, with an optional points bonus.
 * JSON: {"name", "description", "event_type", "count" | "streak_weeks",
 *        "condition", "schedule", "points"}.
 */
#ifndef FD_ENGAGEMENT_H
#define FD_ENGAGEMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/jsonlogic.h"
#include "core/schedule.h"

#define FD_BADGES_MAX 200
#define FD_CHALLENGES_MAX 200

typedef struct fd_badge {
    int64_t id;
    char name[128];
    bool active;
    jl_expr *condition;
    int64_t points;
    json_t *definition;
} fd_badge;

typedef struct fd_challenge {
    int64_t id;
    char name[128];
    bool active;
    char event_type[65];
    int64_t count;        /* events needed; 0 with a streak */
    int64_t streak_weeks; /* consecutive ISO weeks needed; 0 with a count */
    jl_expr *condition;   /* NULL: every event of the type */
    fd_schedule schedule;
    int64_t points;
    json_t *definition;
} fd_challenge;

int fd_badge_parse(const json_t *def, fd_badge *out, char field[128], char msg[160]);
void fd_badge_clear(fd_badge *b);
int fd_challenge_parse(const json_t *def, fd_challenge *out, char field[128], char msg[160]);
void fd_challenge_clear(fd_challenge *c);

/* A member's standing in a challenge. */
typedef struct fd_challenge_progress {
    int64_t progress; /* events counted, or the current streak in weeks */
    int64_t
        last_week; /* streaks: ISO week index of the last counted event (days / 7 from a Monday) */
    bool completed;
} fd_challenge_progress;

/* Counts one event on local day `day` (days since 1970-01-01) into *p;
 * true when it completes the challenge now. Completed challenges stay so. */
bool fd_challenge_step(const fd_challenge *c, fd_challenge_progress *p, int64_t day);

/* What the challenge needs in all: count or streak_weeks. */
int64_t fd_challenge_target(const fd_challenge *c);

#endif
