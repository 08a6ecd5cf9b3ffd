/*
 * fd.h - what every Fidelis module shares: the one status enum, allocation
 * wrappers that treat out-of-memory as fatal, overflow-checked integer
 * arithmetic, limits, and the clock.
 */
#ifndef FD_H
#define FD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Functions that can fail return FD_OK or one of these negative codes; the API
 * layer maps each to exactly one HTTP status (src/api/http.c). */
enum fd_status {
    FD_OK = 0,
    FD_EINVAL = -1,     /* input is malformed or out of range (400/422) */
    FD_ENOTFOUND = -2,  /* the thing named does not exist (404) */
    FD_ECONFLICT = -3,  /* it exists already, or its state forbids this (409) */
    FD_ENOFUNDS = -4,   /* not enough points (422) */
    FD_EBUSY = -5,      /* storage busy or queue full: retry later (503) */
    FD_EIO = -6,        /* storage or system failure (500) */
    FD_EOVERFLOW = -7,  /* a number would leave its range (422) */
    FD_EAUTH = -8,      /* no valid credentials (401) */
    FD_EFORBIDDEN = -9, /* credentials lack the role (403) */
    FD_ETOOBIG = -10,   /* body, batch or list above its limit (413) */
    FD_EREPLAY = -11,   /* internal to the store: run the transaction again, carefully */
};

/* Short human text for a status code; static storage. */
const char *fd_strerror(int rc);

/* Limits (docs/architecture.md lists them all). */
#define FD_BODY_MAX (1024 * 1024)            /* bytes of a request body */
#define FD_BATCH_BODY_MAX (32 * 1024 * 1024) /* bytes of a POST /v1/events:batch body */
#define FD_BATCH_MAX 10000                   /* events in one batch */
#define FD_PAGE_MAX 500                      /* items per list page */
#define FD_PAGE_DEFAULT 50
#define FD_ORDER_LINES_MAX 1000                 /* lines per order */
#define FD_ATTRS_MAX 16384                      /* bytes of custom attributes, serialised */
#define FD_TEXT_MAX 256                         /* ids, names, references */
#define FD_WRITER_QUEUE_MAX 20000               /* write jobs waiting for the group commit */
#define FD_POINTS_MAX INT64_C(1000000000000000) /* 10^15: any single balance or posting */

/* Allocation that aborts on out-of-memory, so call sites stay readable. */
void *fd_malloc(size_t n);
void *fd_calloc(size_t count, size_t size);
void *fd_realloc(void *p, size_t n);
char *fd_strdup(const char *s);
/* src (NULL: empty) into dst of n > 0 bytes, cut to fit as snprintf would,
 * without its format parsing: row readers copy several per request. */
void fd_copy_text(char *dst, size_t n, const char *src);
/* A stream into a growing buffer: *text and *len hold what was written once
 * it is closed (the caller frees *text). */
FILE *fd_memstream(char **text, size_t *len);

/* Overflow-checked arithmetic: return FD_EOVERFLOW and leave *out untouched. */
int fd_add_i64(int64_t a, int64_t b, int64_t *out);
int fd_mul_i64(int64_t a, int64_t b, int64_t *out);

/* Seconds since the Unix epoch, UTC. In FIDELIS_TESTING builds the value can be
 * moved by fd_clock_set(); release builds have no way to change it. */
int64_t fd_now(void);
#ifdef FIDELIS_TESTING
void fd_clock_set(int64_t now); /* 0 returns to the real clock */
#endif

/* Monotonic microseconds, for latency measurement. */
int64_t fd_monotonic_us(void);

/* The wall-clock time ms milliseconds from now, for pthread_cond_timedwait. */
struct timespec fd_deadline_ms(int64_t ms);

/* ISO 8601 "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void fd_time_format(int64_t t, char *buf, size_t n);
/* Parses ISO 8601 with 'Z' or a +hh:mm offset, optional fraction; FD_EINVAL if not. */
int fd_time_parse(const char *s, int64_t *out);

/* Logging: one line, to stderr, with level and time. */
void fd_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
