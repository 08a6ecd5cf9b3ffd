/*
 * program.h - a loyalty program's settings: currency, timezone, point value,
 * base earning, pending window, expiry and refund policy.
 */
#ifndef FD_PROGRAM_H
#define FD_PROGRAM_H

#include <stdint.h>

#include "core/money.h"

typedef enum { FD_EXPIRY_NONE = 0, FD_EXPIRY_DAYS = 1 } fd_expiry_mode;
typedef enum { FD_EXPIRY_FROM_ACTIVATION = 0, FD_EXPIRY_FROM_EARN = 1 } fd_expiry_from;
typedef enum { FD_REFUND_ALLOW_NEGATIVE = 0, FD_REFUND_CAP_AT_ZERO = 1 } fd_refund_policy;

#define FD_NAME_MAX 128
#define FD_TZ_MAX 64

typedef struct fd_program {
    int64_t id;
    char name[FD_NAME_MAX];
    char currency[4];
    int exponent;               /* minor-unit digits of currency */
    char timezone[FD_TZ_MAX];   /* IANA name, e.g. "Europe/Berlin" */
    int64_t point_value_micros; /* value of one point in millionths of a major unit */
    int64_t earn_rate_milli;    /* base earning: thousandths of a point per major unit */
    fd_rounding earn_rounding;
    int64_t pending_days; /* return window before earned points become spendable */
    fd_expiry_mode expiry_mode;
    int64_t expiry_days;        /* with FD_EXPIRY_DAYS */
    fd_expiry_from expiry_from; /* pending points: expiry counts from activation or earning */
    fd_refund_policy refund_policy;
    int64_t rules_version;  /* moves on every earning-rule change (store/rules.h) */
    int64_t config_version; /* moves on every tier, segment or offer change (store/config.h) */
    int64_t created_at;
} fd_program;

/* Fills p with the defaults of a new program (EUR, Europe/Berlin, 1 point per
 * unit, floor, no pending window, no expiry, negative balances allowed). */
void fd_program_defaults(fd_program *p);

/* Names of the enums as they appear in the API. Parsers return FD_EINVAL for
 * unknown names. */
const char *fd_expiry_mode_name(fd_expiry_mode m);
int fd_expiry_mode_parse(const char *s, fd_expiry_mode *out);
const char *fd_expiry_from_name(fd_expiry_from f);
int fd_expiry_from_parse(const char *s, fd_expiry_from *out);
const char *fd_refund_policy_name(fd_refund_policy r);
int fd_refund_policy_parse(const char *s, fd_refund_policy *out);

/* Checks the settings are coherent (ranges, currency known); FD_EINVAL with
 * *field naming the first bad setting. */
int fd_program_validate(const fd_program *p, const char **field);

/* Liability in minor units of `points` outstanding points, rounded down. */
int fd_program_liability(const fd_program *p, int64_t points, int64_t *minor);

#endif
