/*
 * localtime.h - civil time in a program's timezone (IANA names such as
 * "Europe/Berlin"), correct across daylight-saving changes. Backed by ICU's
 * calendar, one per thread and timezone, so the hot path does not allocate.
 */
#ifndef FD_LOCALTIME_H
#define FD_LOCALTIME_H

#include <stdint.h>

typedef struct fd_local {
    int year, month, day; /* month 1..12 */
    int hour, minute;
    int weekday;      /* ISO: 1 = Monday .. 7 = Sunday */
    int utc_offset_s; /* offset of the zone at that instant, DST included */
} fd_local;

/* The civil time of instant t (epoch seconds) in timezone tz. FD_EINVAL
 * when ICU does not know tz. */
int fd_localtime(const char *tz, int64_t t, fd_local *out);

/* The instant (epoch seconds) of local midnight starting date y-m-d in tz;
 * FD_EINVAL when ICU does not know tz. */
int fd_local_midnight(const char *tz, int y, int m, int d, int64_t *out);

#endif
