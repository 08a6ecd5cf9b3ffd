/*
 * stats.h - behaviour aggregates, maintained incrementally as events arrive
 * (no scan per event): daily buckets of spend, orders and points earned per
 * member, for sliding windows (tiers, segments); and per-member totals with
 * first and last order, favourite categories and SKUs, channels used.
 *
 * Days are local dates of the program's timezone, as days since 1970-01-01.
 * A refund is booked on the day of the order it refunds, so windows slide
 * past it together with the order.
 */
#ifndef FD_STATS_H
#define FD_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "store/db.h"

#define FD_STATS_TOP_MAX 50 /* categories or SKUs kept per member */

/* Adds to a member's day bucket (any delta may be negative). */
int fd_stats_add_day(fd_db *db, int64_t program_id, int64_t member_id, int64_t day, int64_t spend,
                     int64_t orders, int64_t points);

/* Records a purchase in the member's totals: count, amount, first/last order
 * day, the lines' categories and SKUs (by quantity), the channel. */
int fd_stats_purchase(fd_db *db, int64_t program_id, int64_t member_id, int64_t day, int64_t total,
                      const json_t *lines, const char *channel);

/* Takes a refund out of the totals (amount; one order less when full). */
int fd_stats_refund(fd_db *db, int64_t member_id, int64_t amount, int64_t orders);

/* Sums of a member's buckets for from_day <= day < to_day. */
int fd_stats_window(fd_db *db, int64_t member_id, int64_t from_day, int64_t to_day, int64_t *spend,
                    int64_t *orders, int64_t *points);

/* The "stats" object of the rule and segment context, as of local day
 * `today` (exponent for amounts as numbers). New reference. */
int fd_stats_json(fd_db *db, int64_t member_id, int64_t today, int exponent, json_t **out);

#endif
