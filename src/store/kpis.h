/*
 * kpis.h - the counts and sums behind the program KPI report
 * (GET /v1/reports/kpis, docs/analytics.md), for the half-open interval
 * [from, to) of Unix seconds. Orders count by when they happened
 * (occurred_at), ledger figures by when they were booked.
 */
#ifndef FD_KPIS_H
#define FD_KPIS_H

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
} fd_kpis;

/* Fills *out for program_id over [from, to). */
int fd_kpis_load(fd_db *db, int64_t program_id, int64_t from, int64_t to, fd_kpis *out);

#endif
