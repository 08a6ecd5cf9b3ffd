/*
 * kpis.h - the counts and sums behind the program KPI report
 * (GET /v1/reports/kpis, docs/analytics.md), for the half-open interval
 * [from, to) of Unix seconds. Orders count by when they happened
 * (occurred_at), ledger figures by when they were booked.
 */
#ifndef FD_KPIS_H
#define FD_KPIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

typedef struct fd_kpis {
    int64_t members;        /* enrolled before `to` and not merged into another */
    int64_t new_members;    /* of those, enrolled in the period */
    int64_t buyers;         /* members with an order in the period */
    int64_t repeat_buyers;  /* members with two orders or more in the period */
    int64_t member_orders;  /* orders of members in the period */
    int64_t member_revenue; /* their totals less refunds, minor units */
    int64_t guest_orders;   /* orders of customers who are not members */
    int64_t guest_revenue;
    int64_t points_issued;   /* journal kind earn: spendable and pending */
    int64_t points_reversed; /* kind reverse, as a positive number */
    int64_t points_expired;  /* kind expire, positive */
    int64_t points_adjusted; /* kind adjust, net */
    int64_t balance_at_end;  /* spendable points of all members at `to` */
    int64_t pending_at_end;  /* pending points at `to` */
    int64_t points_redeemed; /* kind redeem less kind restore, positive */
    /* code redemptions booked in the period and not rolled back; the orders
     * they were on and those orders' goods amount (each order once) */
    int64_t redemptions, redemption_discount, redemption_orders, redemption_revenue;
    /* survey answers (events with attributes.nps / satisfaction) */
    int64_t nps_answers, promoters, passives, detractors;
    int64_t satisfaction_answers, satisfaction_sum, satisfied; /* satisfied: 4 or 5 of 5 */
} fd_kpis;

/* Sets the connection's member filter to the n members in ids (kept in a
 * temporary table of the connection) for fd_kpis_load calls with filtered. */
int fd_kpis_filter(fd_db *db, const int64_t *ids, size_t n);

/* Fills *out for program_id over [from, to): every member's figures, or
 * with `filtered` only those of the connection's member filter. Guest
 * figures are the shop's and never filtered. */
int fd_kpis_load(fd_db *db, int64_t program_id, int64_t from, int64_t to, bool filtered,
                 fd_kpis *out);

#endif
