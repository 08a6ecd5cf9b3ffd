/*
 * schedule.h - when something is valid: dates, weekdays and hours of the day
 * in the program's timezone. Earning rules, campaigns and rewards share it.
 *
 * JSON form: {"from": ISO time, "to": ISO time, "days": ["sat", "sun"] or
 * [6, 7], "hours": {"from": "HH:MM", "to": "HH:MM"}}, every member optional.
 */
#ifndef FD_SCHEDULE_H
#define FD_SCHEDULE_H

#include <jansson.h>
#include <stdint.h>

typedef struct fd_schedule {
    int64_t from, to;               /* valid from (inclusive) / to (exclusive); 0 = open */
    unsigned days_mask;             /* bit d (1..7, ISO weekday) set = allowed; 0 = every day */
    int hour_from_min, hour_to_min; /* minutes of the local day; -1 = all day; may wrap midnight */
} fd_schedule;

/* What fd_schedule_check found. */
typedef enum {
    FD_SCHEDULE_OPEN = 0,
    FD_SCHEDULE_NOT_STARTED,
    FD_SCHEDULE_ENDED,
    FD_SCHEDULE_WRONG_DAY,
    FD_SCHEDULE_WRONG_HOUR
} fd_schedule_verdict;

/* An open schedule (always valid). */
void fd_schedule_open(fd_schedule *s);

/* Parses v (NULL or null: open). On FD_EINVAL, field receives the member's
 * name after `prefix` ("schedule.days") and msg says why. */
int fd_schedule_parse(const json_t *v, const char *prefix, fd_schedule *out, char field[128],
                      char msg[160]);

/* Whether instant now, on ISO weekday `weekday` at `local_minute` of the
 * local day, is inside the schedule. */
fd_schedule_verdict fd_schedule_check(const fd_schedule *s, int64_t now, int weekday,
                                      int local_minute);

#endif
