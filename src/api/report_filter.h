/*
 * report_filter.h - the period and member filters of the reports. Members: ?segment= (id
 * or name: members in the segment now), ?tier= (members whose tier is that
 * now), ?campaign= (members who redeemed a code of the campaign); several
 * filters intersect.
 */
#ifndef FD_API_REPORT_FILTER_H
#define FD_API_REPORT_FILTER_H

#include "api/api.h"
#include "core/calendar.h"

/* ?from=&to= local dates, both included, at most 3660 days apart; by
 * default the 30 days to today (analytics.c). */
int report_period_or_reply(fd_req *r, fd_date *from, fd_date *to);

/* Reads the filters; when there are any, loads their members into the
 * connection's KPI filter (store/kpis.h) and sets *filtered. *desc receives
 * {"segment"?, "tier"?, "campaign"?, "members"?} for the reply (owned by
 * the caller). Replies 404 for an unknown segment or campaign. */
int report_filter_or_reply(fd_req *r, bool *filtered, json_t **desc);

#endif
