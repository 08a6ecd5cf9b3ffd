/*
 * expiry.h - the ledger's time-driven job: pending points whose return
 * window ended become spendable, then lots whose expiry date came expire.
 * Runs in chunks of FD_EXPIRY_CHUNK lots, one group commit each, so a large
 * backlog never holds the writer for long. Idempotent: running it twice at
 * the same time changes nothing the second time.
 */
#ifndef FD_JOBS_EXPIRY_H
#define FD_JOBS_EXPIRY_H

#include <stdint.h>

#include "store/store.h"

#define FD_EXPIRY_CHUNK 1000

/* Runs the job once for time `now`; reports how many lots matured and expired. */
int fd_jobs_expiry_run(fd_store *s, int64_t now, int64_t *matured, int64_t *expired);

/* Reviews the members whose tier must be requalified (period end plus
 * retention; *reviewed counts them), then places the members who have no
 * tier yet (fd_tier_place_due; *placed counts those who got one). Running it
 * twice changes nothing more. */
int fd_jobs_tiers_run(fd_store *s, int64_t now, int64_t *reviewed, int64_t *placed);

/* The background thread runs expiry, the tier job (reviews, placement) and
 * the birthday and anniversary triggers every interval. */
typedef struct fd_expiry_thread fd_expiry_thread;

/* Starts a background thread running the job every interval_s seconds. */
int fd_expiry_thread_start(fd_store *s, int interval_s, fd_expiry_thread **out);
void fd_expiry_thread_stop(fd_expiry_thread *t);

#endif
