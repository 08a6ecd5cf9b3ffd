/*
 * schedule.c - validity windows (schedule.h).
 */
#include "core/schedule.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"

void fd_schedule_open(fd_schedule *s)
{
    memset(s, 0, sizeof *s);
    s->hour_from_min = s->hour_to_min = -1;
}

static int parse_hhmm(const json_t *v, int *out)
{
    const char *s = json_string_value(v);
    int h, m;
    char tail;
    if (!s || sscanf(s, "%2d:%2d%c", &h, &m, &tail) != 2 || h < 0 || m < 0 || m > 59 ||
        h * 60 + m > 24 * 60)
        return FD_EINVAL;
    *out = h * 60 + m;
    return FD_OK;
}

static int parse_days(const json_t *days, unsigned *mask)
{
    static const char *const NAMES[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    if (!json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > 7)
        return FD_EINVAL;
    size_t i;
    json_t *d;
    json_array_foreach(days, i, d)
    {
        int day = 0;
        if (json_is_integer(d) && json_integer_value(d) >= 1 && json_integer_value(d) <= 7)
            day = (int)json_integer_value(d);
        for (int k = 0; json_is_string(d) && k < 7; k++)
            if (!strcmp(json_string_value(d), NAMES[k])) day = k + 1;
        if (day == 0) return FD_EINVAL;
        *mask |= 1u << day;
    }
    return FD_OK;
}

int fd_schedule_parse(const json_t *v, const char *prefix, fd_schedule *s, char field[128],
                      char msg[160])
{
    fd_schedule_open(s);
#define BAD(f, m)                                                                                  \
    do {                                                                                           \
        snprintf(field, 128, "%.100s%s", prefix, f);                                               \
        snprintf(msg, 160, "%s", m);                                                               \
        return FD_EINVAL;                                                                          \
    } while (0)
    if (!v || json_is_null(v)) return FD_OK;
    if (!json_is_object(v)) BAD("", "must be an object: from, to, days, hours");
    const json_t *from = json_object_get(v, "from"), *to = json_object_get(v, "to");
    if (from && (!json_is_string(from) || fd_time_parse(json_string_value(from), &s->from)))
        BAD(".from", "from must be an ISO 8601 time with a zone");
    if (to && (!json_is_string(to) || fd_time_parse(json_string_value(to), &s->to)))
        BAD(".to", "to must be an ISO 8601 time with a zone");
    if (s->from && s->to && s->to <= s->from) BAD(".to", "to must be after from");
    const json_t *days = json_object_get(v, "days"), *hours = json_object_get(v, "hours");
    if (days && parse_days(days, &s->days_mask))
        BAD(".days", "days must list 1 to 7 weekdays: mon..sun or 1 (Monday) to 7 (Sunday)");
    if (hours &&
        (!json_is_object(hours) || parse_hhmm(json_object_get(hours, "from"), &s->hour_from_min) ||
         parse_hhmm(json_object_get(hours, "to"), &s->hour_to_min) ||
         s->hour_from_min == s->hour_to_min))
        BAD(".hours", "hours must be {\"from\":\"HH:MM\",\"to\":\"HH:MM\"}");
#undef BAD
    return FD_OK;
}

fd_schedule_verdict fd_schedule_check(const fd_schedule *s, int64_t now, int weekday,
                                      int local_minute)
{
    if (s->from && now < s->from) return FD_SCHEDULE_NOT_STARTED;
    if (s->to && now >= s->to) return FD_SCHEDULE_ENDED;
    if (s->days_mask && !(s->days_mask & (1u << weekday))) return FD_SCHEDULE_WRONG_DAY;
    if (s->hour_from_min >= 0) {
        int m = local_minute;
        bool inside = s->hour_from_min < s->hour_to_min
                          ? m >= s->hour_from_min && m < s->hour_to_min
                          : m >= s->hour_from_min || m < s->hour_to_min; /* wraps midnight */
        if (!inside) return FD_SCHEDULE_WRONG_HOUR;
    }
    return FD_SCHEDULE_OPEN;
}
