/*
 * ledger.c - pure ledger decisions (see ledger.h).
 */
#include "core/ledger.h"

#include <assert.h>
#include <stdlib.h>

#include "base/fd.h"

static int cmp_fifo(const void *a, const void *b)
{
    const fd_lot *x = a, *y = b;
    if (x->expires_at != y->expires_at) return x->expires_at < y->expires_at ? -1 : 1;
    if (x->earned_at != y->earned_at) return x->earned_at < y->earned_at ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

void fd_lots_sort_fifo(fd_lot *lots, size_t n)
{
    if (n > 1) qsort(lots, n, sizeof *lots, cmp_fifo);
}

int64_t fd_lots_take(const fd_lot *lots, size_t n, int64_t amount, int64_t *take)
{
    assert(amount >= 0);
    int64_t left = amount;
    for (size_t i = 0; i < n; i++) {
        assert(lots[i].remaining >= 0);
        int64_t t = lots[i].remaining < left ? lots[i].remaining : left;
        take[i] = t;
        left -= t;
    }
    return amount - left;
}

int64_t fd_lot_expiry(const fd_program *p, int64_t earned_at, int64_t activated_at)
{
    if (p->expiry_mode == FD_EXPIRY_NONE) return FD_NEVER;
    int64_t from = p->expiry_from == FD_EXPIRY_FROM_EARN ? earned_at : activated_at;
    return from + p->expiry_days * 86400;
}

int64_t fd_lot_matures_at(const fd_program *p, int64_t earned_at)
{
    return earned_at + p->pending_days * 86400;
}

int64_t fd_credit_lot_points(int64_t balance, int64_t amount)
{
    assert(amount >= 0);
    if (balance >= 0) return amount;
    int64_t debt = -balance;
    return amount > debt ? amount - debt : 0;
}

int fd_refund_reversal(int64_t earned, int64_t total, int64_t refunded_before, int64_t refund,
                       int64_t reversed_before, fd_rounding mode, int64_t *reverse)
{
    if (earned < 0 || total < 0 || refunded_before < 0 || refund <= 0 || reversed_before < 0 ||
        refunded_before > total || refund > total - refunded_before || reversed_before > earned)
        return FD_EINVAL;
    int64_t left = total - refunded_before - refund;
    int64_t keep;
    int rc = fd_div_round((__int128)earned * left, total, mode, &keep);
    if (rc) return rc;
    if (keep > earned) keep = earned;
    int64_t target = earned - keep; /* reversed in total after this refund */
    *reverse = target > reversed_before ? target - reversed_before : 0;
    return FD_OK;
}

void fd_reversal_plan(int64_t points, int64_t order_pending, int64_t balance,
                      fd_refund_policy policy, fd_reversal *out)
{
    assert(points >= 0 && order_pending >= 0);
    out->from_pending = points < order_pending ? points : order_pending;
    int64_t rest = points - out->from_pending;
    if (policy == FD_REFUND_CAP_AT_ZERO) {
        int64_t avail = balance > 0 ? balance : 0;
        out->from_available = rest < avail ? rest : avail;
    } else {
        out->from_available = rest;
    }
    out->waived = rest - out->from_available;
}
