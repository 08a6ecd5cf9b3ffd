/*
 * referrals.h - referral codes, the link between a referee and their
 * referrer, and its outcome: completed by the referee's first qualifying
 * order (both earn), refused for abuse (with the reason recorded), expired,
 * or reversed when the qualifying order is refunded. Runs inside the
 * caller's transaction; the rules come from core/referral.h.
 *
 * Outcomes are JSON objects for the caller's reply:
 *   {"status": "pending" | "completed" | "refused" | "expired" | "reversed",
 *    "reason"?, "referrer_id", "referrer_points"?, "referee_points"?}
 */
#ifndef FD_STORE_REFERRALS_H
#define FD_STORE_REFERRALS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/member.h"
#include "core/program.h"
#include "core/referral.h"
#include "store/db.h"

#define FD_REFERRAL_CODE_PATTERN "R-*******" /* 31^7 codes per program */

/* The program's referral policy (switched off when it has none). */
int fd_referral_policy_load(fd_db *db, const fd_program *p, fd_referral_policy *out);

/* The member's referral code, drawn on first use when create (FD_ENOTFOUND
 * otherwise). */
int fd_referral_code(fd_db *db, int64_t program_id, int64_t member_id, bool create, int64_t now,
                     char code[32]);

/* Links referee (locked by the caller) to the owner of code, or records
 * why not: unknown_code, disabled, self_referral (same_email...),
 * already_referred, not_new (the referee has ordered already), ring,
 * referrer_limit, referrer_closed. *outcome receives the outcome (new
 * reference); FD_OK either way. */
int fd_referral_link(fd_db *db, const fd_program *p, const fd_member *referee, const char *code,
                     int64_t now, json_t **outcome);

/* After a purchase of member m (locked): completes their pending referral
 * when the order qualifies (both sides earn, kind earn, with a
 * referral.completed webhook), or expires it when its window closed.
 * *outcome is NULL when the member has no pending referral. */
int fd_referral_on_purchase(fd_db *db, const fd_program *p, fd_member *m, const char *order_id,
                            int64_t total, int64_t occurred_at, int64_t now, json_t **outcome);

/* After a refund of order_id (of member m, locked): when the order no
 * longer qualifies, takes the referral's points back from both sides
 * (kind reverse, under the program's refund policy). *outcome NULL when
 * the order completed no referral. */
int fd_referral_on_refund(fd_db *db, const fd_program *p, fd_member *m, const char *order_id,
                          int64_t left, int64_t now, json_t **outcome);

#endif
