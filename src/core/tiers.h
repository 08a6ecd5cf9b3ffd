/*
 * tiers.h - a program's tier configuration and the decisions on it: which
 * tier a metric qualifies for, the qualification window, when a tier must be
 * requalified, and what is missing to reach the next one (SPEC §4, §15.6-7).
 *
 * Upgrades happen at the event that crosses a threshold; downgrades only at
 * a review, when a qualification period has ended (plus the optional
 * retention), or at a refund when the program asks for it.
 */
#ifndef FD_TIERS_H
#define FD_TIERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/calendar.h"

#define FD_TIERS_MAX 10

typedef enum { FD_METRIC_POINTS, FD_METRIC_SPEND, FD_METRIC_ORDERS } fd_tier_metric;
typedef enum { FD_WINDOW_ROLLING, FD_WINDOW_CALENDAR_YEAR } fd_tier_window;

typedef struct fd_tier {
    char name[64];
    int64_t threshold;    /* points, minor units or orders */
    json_t *benefits;     /* owned; an object */
    int64_t rate_milli;   /* benefits.earn_rate, 0 if none */
    int64_t factor_milli; /* benefits.earn_multiplier, 0 if none */
    int64_t expiry_days;  /* benefits.expiry_days, 0 if none */
} fd_tier;

typedef struct fd_tier_config {
    fd_tier_metric metric;
    fd_tier_window window;
    int months;           /* rolling window length */
    int retention_months; /* grace after a period ends before a downgrade */
    bool downgrade_on_refund;
    fd_tier tiers[FD_TIERS_MAX];
    int n;
} fd_tier_config;

/* Parses and validates {"metric","window","retention_months","downgrade_on_refund","tiers":[...]}.
 * exponent is the currency's, for spend thresholds written as amounts. On
 * FD_EINVAL, field and msg say what is wrong ("tiers[2].threshold": "thresholds
 * must increase"). */
int fd_tier_config_parse(const json_t *def, int exponent, fd_tier_config *out, char field[64],
                         char msg[160]);
void fd_tier_config_clear(fd_tier_config *c);

/* The configuration as JSON (thresholds of spend as amounts). New reference. */
json_t *fd_tier_config_json(const fd_tier_config *c, int exponent);

/* Index of the highest tier whose threshold metric reaches, -1 for none. */
int fd_tier_for_metric(const fd_tier_config *c, int64_t metric);
/* Index of the tier named name, -1 if none. */
int fd_tier_index(const fd_tier_config *c, const char *name);

/* First day of the qualification window that ends (exclusive) at day
 * `end` (local date): rolling N months back, or 1 January of end's year
 * (of the year before when end is a 1 January, i.e. a calendar period end). */
fd_date fd_tier_window_start(const fd_tier_config *c, fd_date end);

/* End (exclusive, local date) of the qualification period that contains
 * day `d` for a tier reached on d: 1 January next year, or d + N months. */
fd_date fd_tier_period_end(const fd_tier_config *c, fd_date d);

const char *fd_tier_metric_name(fd_tier_metric m);

#endif
