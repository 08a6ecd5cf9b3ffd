/*
 * tiering.h - tiers applied to members: the metric over the qualification
 * window (from the daily aggregates), upgrades at events, downgrades at
 * reviews and (by setting) at refunds, history, and progress.
 */
#ifndef FD_TIERING_H
#define FD_TIERING_H

#include <jansson.h>
#include <stdint.h>

#include "core/calendar.h"
#include "core/member.h"
#include "core/program.h"
#include "store/config.h"
#include "store/db.h"

/* The local date of instant t in the program's timezone. */
int fd_local_date(const fd_program *p, int64_t t, fd_date *out);

/* m's tier metric over the window that ends (exclusive) on local day end. */
int fd_tier_metric_value(fd_db *db, const fd_config *cfg, int64_t member_id, fd_date end,
                         int64_t *metric);

/* The tier m has now: the stored one, or for a member never assigned one,
 * the tier the current metric reaches. -1 for none. */
int fd_tier_effective(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                      int64_t now, int *index);

/* After an event: upgrades m when the metric reaches a higher tier. *change
 * (may be NULL) receives {"from","to","reason"} when the tier changed. */
int fd_tier_after_event(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                        int64_t now, json_t **change);

/* After a refund: downgrades at once when the program says so. */
int fd_tier_after_refund(fd_db *db, const fd_program *p, const fd_config *cfg, fd_member *m,
                         int64_t now, json_t **change);

/* Job: reviews members whose requalification date came (at most limit). */
int fd_tier_review_due(fd_db *db, int64_t now, int limit, int64_t *count);

/* Job: places members who have no tier yet (members enrolled before the
 * program had tiers, or since the last run, who had no event since) in the
 * tier their metric reaches, as their next event would. Looks at up to limit
 * members of one program per call, in id order, from where the last call
 * stopped (programs.tiers_placed_through; PUT /v1/tiers starts it over).
 * *examined: members looked at (0: every program is done); *placed: those
 * who got a tier. Closed members are left alone. */
int fd_tier_place_due(fd_db *db, int64_t now, int limit, int64_t *examined, int64_t *placed);

/* {"tier","since","metric",...,"message":"240 more points to Gold"} */
int fd_tier_progress(fd_db *db, const fd_program *p, const fd_config *cfg, const fd_member *m,
                     int64_t now, json_t **out);

#endif
