/*
 * ledger.h - the decisions of the points ledger, as pure functions over
 * numbers and arrays: which lots a spend consumes, when a lot expires, how a
 * refund is reversed, how a credit repays a negative balance. The store layer
 * loads the inputs and writes the outcome (src/service/ledger_ops.c).
 *
 * Vocabulary (docs/architecture.md):
 *   balance  - spendable points = sum of the journal's available deltas; may be
 *              negative after a refund of points already spent (program setting).
 *   pending  - earned points still in the return window.
 *   lot      - the points of one earning, with its own expiry; spending takes
 *              from lots, FIFO by expiry date.
 * Invariant checked by `fidelis check`:
 *   balance >= 0  =>  balance == sum of open lots' remaining points
 *   balance <  0  =>  every open lot has 0 remaining.
 */
#ifndef FD_LEDGER_H
#define FD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/program.h"

#define FD_NEVER INT64_MAX /* expires_at of a lot that never expires */

typedef struct fd_lot {
    int64_t id;
    int64_t remaining;  /* points still spendable (or still pending) */
    int64_t expires_at; /* first second at which the lot is expired; FD_NEVER */
    int64_t earned_at;
} fd_lot;

/* Sorts lots into spending order: earliest expiry first, lots that never
 * expire last, ties by earning time then id. */
void fd_lots_sort_fifo(fd_lot *lots, size_t n);

/* Takes up to `amount` points from lots in the given order. take[i] receives
 * what lot i gives (caller provides n slots). Returns the total taken, which
 * is less than amount only when the lots hold less. Lots are not modified. */
int64_t fd_lots_take(const fd_lot *lots, size_t n, int64_t amount, int64_t *take);

/* A lot is valid while now < expires_at: it is expired at its expiry second. */
static inline bool fd_lot_expired(int64_t expires_at, int64_t now)
{
    return now >= expires_at;
}

/* Expiry instant of points earned at earned_at and spendable from
 * activated_at, under the program's policy; FD_NEVER when nothing expires. */
int64_t fd_lot_expiry(const fd_program *p, int64_t earned_at, int64_t activated_at);

/* When points earned at `earned_at` become spendable (pending window). */
int64_t fd_lot_matures_at(const fd_program *p, int64_t earned_at);

/* A credit of `amount` points to a member whose balance is `balance` first
 * repays a negative balance; the rest forms the new lot. Returns the points
 * the new lot holds (0..amount). */
int64_t fd_credit_lot_points(int64_t balance, int64_t amount);

/* Points to reverse for a refund, cumulative and proportional: after all
 * refunds so far, the member keeps round(earned * (total - refunded) / total)
 * with the rounding used for earning, so a full refund reverses exactly what
 * was earned and partial refunds add up. refund must be 1..total-refunded_before
 * (FD_EINVAL otherwise). */
int fd_refund_reversal(int64_t earned, int64_t total, int64_t refunded_before, int64_t refund,
                       int64_t reversed_before, fd_rounding mode, int64_t *reverse);

/* How a reversal of `points` is collected (SPEC §15.1, §15.2): first from the
 * order's still-pending points, then from the spendable balance; with
 * FD_REFUND_CAP_AT_ZERO the balance stops at zero and the rest is waived. */
typedef struct fd_reversal {
    int64_t from_pending;
    int64_t from_available;
    int64_t waived;
} fd_reversal;

void fd_reversal_plan(int64_t points, int64_t order_pending, int64_t balance,
                      fd_refund_policy policy, fd_reversal *out);

#endif
