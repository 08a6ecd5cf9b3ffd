/*
 * localtime.c - timezone conversion with ICU (localtime.h).
 */
#include "base/localtime.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ucal.h>
#include <unicode/ustring.h>

#include "base/fd.h"

typedef struct cal_cache {
    UCalendar *cal;
    char tz[64];
    /* The last two conversions: an event converts its own instant and now,
     * the events of a batch or of one busy second share both, and ICU's
     * field computation is the cost. recent[newest] is the latest. */
    struct {
        bool used;
        int64_t t;
        fd_local local;
    } recent[2];
    int newest;
} cal_cache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    cal_cache *c = p;
    if (c->cal) ucal_close(c->cal);
    free(c);
}

static void cache_init(void)
{
    pthread_key_create(&cache_key, cache_free);
}

/* This thread's calendar cache (created on first use). */
static cal_cache *thread_cache(void)
{
    pthread_once(&cache_once, cache_init);
    cal_cache *c = pthread_getspecific(cache_key);
    if (!c) {
        c = fd_calloc(1, sizeof *c);
        pthread_setspecific(cache_key, c);
    }
    return c;
}

static UCalendar *calendar(cal_cache *c, const char *tz)
{
    if (c->cal && !strcmp(c->tz, tz)) return c->cal;
    if (c->cal) ucal_close(c->cal);
    c->cal = NULL;
    c->recent[0].used = c->recent[1].used = false;
    if (strlen(tz) >= sizeof c->tz) return NULL;
    UChar utz[64];
    u_uastrcpy(utz, tz);
    UErrorCode st = U_ZERO_ERROR;
    UCalendar *cal = ucal_open(utz, -1, "en_US", UCAL_GREGORIAN, &st);
    if (U_FAILURE(st)) return NULL;
    /* ICU falls back to GMT for unknown zones; refuse them instead. */
    UChar got[64];
    ucal_getTimeZoneID(cal, got, 64, &st);
    char back[64];
    u_austrcpy(back, got);
    if (U_FAILURE(st) || (strcmp(back, tz) && !strcmp(back, "Etc/Unknown"))) {
        ucal_close(cal);
        return NULL;
    }
    c->cal = cal;
    snprintf(c->tz, sizeof c->tz, "%s", tz);
    return cal;
}

int fd_localtime(const char *tz, int64_t t, fd_local *out)
{
    cal_cache *c = thread_cache();
    UCalendar *cal = calendar(c, tz);
    if (!cal) return FD_EINVAL;
    for (int i = 0; i < 2; i++) {
        if (c->recent[i].used && c->recent[i].t == t) {
            *out = c->recent[i].local;
            return FD_OK;
        }
    }
    UErrorCode st = U_ZERO_ERROR;
    ucal_setMillis(cal, (UDate)t * 1000.0, &st);
    out->year = ucal_get(cal, UCAL_YEAR, &st);
    out->month = ucal_get(cal, UCAL_MONTH, &st) + 1;
    out->day = ucal_get(cal, UCAL_DATE, &st);
    out->hour = ucal_get(cal, UCAL_HOUR_OF_DAY, &st);
    out->minute = ucal_get(cal, UCAL_MINUTE, &st);
    int dow = ucal_get(cal, UCAL_DAY_OF_WEEK, &st); /* 1 = Sunday */
    out->weekday = dow == UCAL_SUNDAY ? 7 : dow - 1;
    out->utc_offset_s =
        (ucal_get(cal, UCAL_ZONE_OFFSET, &st) + ucal_get(cal, UCAL_DST_OFFSET, &st)) / 1000;
    if (U_FAILURE(st)) return FD_EINVAL;
    c->newest ^= 1; /* the older entry makes room */
    c->recent[c->newest].used = true;
    c->recent[c->newest].t = t;
    c->recent[c->newest].local = *out;
    return FD_OK;
}

int fd_local_midnight(const char *tz, int y, int m, int d, int64_t *out)
{
    UCalendar *cal = calendar(thread_cache(), tz);
    if (!cal) return FD_EINVAL;
    UErrorCode st = U_ZERO_ERROR;
    ucal_clear(cal);
    ucal_setDateTime(cal, y, m - 1, d, 0, 0, 0, &st);
    UDate ms = ucal_getMillis(cal, &st);
    if (U_FAILURE(st)) return FD_EINVAL;
    *out = (int64_t)(ms / 1000.0);
    return FD_OK;
}
