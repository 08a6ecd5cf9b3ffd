/*
 * birthdays.h - the daily calendar triggers: a "birthday" event for members
 * whose attributes.birthday falls today, and an "anniversary" event on the
 * day they enrolled, in each program's timezone. Earning rules with those
 * triggers give the bonus; the event ids ("birthday:<member>:<year>") make
 * it once per year however often the job runs.
 */
#ifndef FD_JOBS_BIRTHDAYS_H
#define FD_JOBS_BIRTHDAYS_H

#include <stdint.h>

#include "store/store.h"

/* Runs the triggers for instant now; *sent counts events newly applied. */
int fd_jobs_birthdays_run(fd_store *s, int64_t now, int64_t *sent);

#endif
