/*
 * reminders.h - scheduled messages to members (points expiring, N days
 * after enrolment, birthday month, no order for N days, tier about to be
 * lost), rendered from a template and delivered as a "reminder" webhook
 * carrying the channel (email, sms, push, chatbot...) so the shop's tool
 * sends it. Each member gets each reminder at most once per occurrence,
 * even when the scheduler runs twice or in two processes (a unique row per
 * reminder, member and occurrence, written with the message). Members who
 * opted out of marketing, and suspended or closed members, get none.
 */
#ifndef FD_JOBS_REMINDERS_H
#define FD_JOBS_REMINDERS_H

#include <jansson.h>
#include <stdint.h>

#include "store/store.h"

#define FD_REMINDER_BATCH 100000 /* candidates per reminder and run */
#define FD_EXPIRING_SOON_DAYS 30 /* points.expiring_soon looks this far ahead */

/* Validates a reminder definition; field and msg say what is wrong. */
int fd_reminder_check(const json_t *def, char field[64], char msg[160]);

/* Recomputes every program's RFM cut points as of now (a new configuration
 * version only when they change). */
int fd_jobs_rfm_run(fd_store *s, int64_t now);

/* Runs every active reminder of every program for instant now, and sends
 * points.expiring_soon (once per member and expiry date, 30 days ahead). */
int fd_jobs_reminders_run(fd_store *s, int64_t now, int64_t *sent);

#endif
