/*
 * fd.c - the shared basics declared in fd.h.
 */
#include "base/fd.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *fd_strerror(int rc)
{
    switch (rc) {
    case FD_OK:
        return "ok";
    case FD_EINVAL:
        return "invalid input";
    case FD_ENOTFOUND:
        return "not found";
    case FD_ECONFLICT:
        return "conflict";
    case FD_ENOFUNDS:
        return "insufficient points";
    case FD_EBUSY:
        return "busy, retry later";
    case FD_EIO:
        return "storage error";
    case FD_EOVERFLOW:
        return "number out of range";
    case FD_EAUTH:
        return "authentication required";
    case FD_EFORBIDDEN:
        return "forbidden";
    case FD_ETOOBIG:
        return "too large";
    case FD_EREPLAY:
        return "transaction to be replayed";
    }
    return "unknown error";
}

__attribute__((noreturn)) static void oom(size_t n)
{
    fprintf(stderr, "fidelis: out of memory allocating %zu bytes\n", n);
    abort();
}

void *fd_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *fd_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) oom(count * size);
    return p;
}

void *fd_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom(n);
    return q;
}

void fd_copy_text(char *dst, size_t n, const char *src)
{
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len) memcpy(dst, src, len);
    dst[len] = 0;
}

char *fd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(fd_malloc(n), s, n);
}

FILE *fd_memstream(char **text, size_t *len)
{
    FILE *f = open_memstream(text, len);
    if (!f) oom(0);
    return f;
}

int fd_add_i64(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return FD_EOVERFLOW;
    *out = r;
    return FD_OK;
}

int fd_mul_i64(int64_t a, int64_t b, int64_t *out)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return FD_EOVERFLOW;
    *out = r;
    return FD_OK;
}

#ifdef FIDELIS_TESTING
static _Atomic int64_t test_now;
void fd_clock_set(int64_t now)
{
    atomic_store(&test_now, now);
}
#endif

int64_t fd_now(void)
{
#ifdef FIDELIS_TESTING
    int64_t t = atomic_load(&test_now);
    if (t) return t;
#endif
    return (int64_t)time(NULL);
}

int64_t fd_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec fd_deadline_ms(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + ms % 1000 * 1000000;
    ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    return ts;
}

/* Writes v as exactly width digits at p (v < 10^width). */
static void put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
}

/* Digit by digit: every reply with a time formats it, and strftime took
 * about 2,000 instructions per time. */
void fd_time_format(int64_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    int year = tm.tm_year + 1900;
    if (n < sizeof "YYYY-MM-DDTHH:MM:SSZ" || year < 0 || year > 9999) {
        snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        return;
    }
    memcpy(buf, "0000-00-00T00:00:00Z", sizeof "YYYY-MM-DDTHH:MM:SSZ");
    put_digits(buf, year, 4);
    put_digits(buf + 5, tm.tm_mon + 1, 2);
    put_digits(buf + 8, tm.tm_mday, 2);
    put_digits(buf + 11, tm.tm_hour, 2);
    put_digits(buf + 14, tm.tm_min, 2);
    put_digits(buf + 17, tm.tm_sec, 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return FD_EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return FD_OK;
}

int fd_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != ' ') || !*p++ || digits(&p, 2, &h) ||
        *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
        return FD_EINVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') return FD_EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int sign = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p++ == '+' ? 1 : -1;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om)) return FD_EINVAL;
    } else {
        return FD_EINVAL;
    }
    if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60 || oh > 23 || om > 59)
        return FD_EINVAL;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return FD_EINVAL;
    /* Days from civil (Howard Hinnant's algorithm), exact for the proleptic Gregorian calendar. */
    int yy = y - (mo <= 2);
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + doe - 719468;
    int64_t t = days * 86400 + h * 3600 + mi * 60 + se;
    t -= sign * (oh * 3600 + om * 60);
    *out = t;
    return FD_OK;
}

void fd_log(const char *level, const char *fmt, ...)
{
    char ts[32];
    fd_time_format((int64_t)time(NULL), ts, sizeof ts);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s level=%s %s\n", ts, level, msg);
}
