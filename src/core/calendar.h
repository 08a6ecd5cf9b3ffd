/*
 * calendar.h - civil-date arithmetic (SPEC §15.13): days since the epoch,
 * adding months with the day clamped to the month's length (31 January + 1
 * month = 28 or 29 February).
 */
#ifndef FD_CALENDAR_H
#define FD_CALENDAR_H

#include <stdint.h>

typedef struct fd_date {
    int year, month, day; /* month 1..12 */
} fd_date;

int64_t fd_date_days(fd_date d); /* days since 1970-01-01 */
fd_date fd_date_from_days(int64_t days);
fd_date fd_date_add_months(fd_date d, int months); /* months may be negative */
int fd_days_in_month(int year, int month);

#endif
