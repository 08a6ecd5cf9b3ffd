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
#include <stdbool.h>
#include <stdint.h>

#include "core/jsonlogic.h"
#include "core/rfm.h"
#include "store/context.h"
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

/* *orders receives the number of orders the member has placed (refunded ones
 * included; a shared wallet's owner counts the wallet's orders, as in the
 * totals); 0 before the first. */
int fd_stats_orders_placed(fd_db *db, int64_t member_id, int64_t *orders);

/* Sums of a member's buckets for from_day <= day < to_day. */
int fd_stats_window(fd_db *db, int64_t member_id, int64_t from_day, int64_t to_day, int64_t *spend,
                    int64_t *orders, int64_t *points);

/* A member's aggregates as read from storage, before they become JSON. */
typedef struct fd_stats_raw {
    int64_t spend[3], orders[3], points[3]; /* last 30, 90, 365 days */
    bool has_orders;
    int64_t orders_total, orders_placed, spend_total, first_order_day, last_order_day;
    const char *categories, *skus, *channels; /* JSON text, borrowed */
} fd_stats_raw;

/* The "stats" object of the rule and segment context, as of local day
 * `today` (exponent for amounts as numbers). New reference. Two parts are
 * left out unless parts asks for them, since only conditions that name them
 * need them (fd_stats_read_by): FD_CTX_COUNTERS, the per-category, per-SKU
 * and channel figures (category_counts, sku_counts, top_categories,
 * top_skus, favourite_category, channels), and FD_CTX_WINDOWS, the spend,
 * orders and points of the last 30, 90 and 365 days (a query of their own). */
int fd_stats_json(fd_db *db, int64_t member_id, int64_t today, int exponent, const fd_rfm *rfm,
                  unsigned parts, json_t **out);
json_t *fd_stats_build(const fd_stats_raw *raw, int64_t today, int exponent, const fd_rfm *rfm,
                       unsigned parts);

/* The parts above (FD_CTX_COUNTERS, FD_CTX_WINDOWS) condition e may read. */
unsigned fd_stats_read_by(const jl_expr *e);

/* Computes the program's RFM cut points (quintiles over members with
 * orders) as of local day today; rfm->has is false without orders. */
int fd_stats_rfm_cuts(fd_db *db, int64_t program_id, int64_t today, fd_rfm *rfm);

/* Bulk form for scans (segment listing): calls fn for each member of
 * program_id with first_id <= id <= last_id that has aggregates. */
int fd_stats_scan(fd_db *db, int64_t program_id, int64_t first_id, int64_t last_id, int64_t today,
                  void (*fn)(int64_t member_id, const fd_stats_raw *raw, void *arg), void *arg);

#endif
