/*
 * test_ledger.c - the ledger's pure decisions (core/ledger.c): FIFO
 * spending, expiry boundaries, pending windows, debt repayment, refunds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/ledger.h"

#define DAY 86400

static void fifo_across_many_lots(void **state)
{
    (void)state;
    enum { N = 200 };
    fd_lot lots[N];
    int64_t take[N];
    /* lot i holds i+1 points; expiries shuffled; every 10th never expires */
    for (int i = 0; i < N; i++) {
        int64_t exp = (int64_t)((i * 7919) % N) * DAY + 1000;
        lots[i] = (fd_lot){.id = i + 1,
                           .remaining = i + 1,
                           .expires_at = i % 10 == 0 ? FD_NEVER : exp,
                           .earned_at = i};
    }
    fd_lots_sort_fifo(lots, N);
    for (int i = 1; i < N; i++) {
        assert_true(lots[i - 1].expires_at <= lots[i].expires_at);
        if (lots[i - 1].expires_at == lots[i].expires_at)
            assert_true(lots[i - 1].earned_at <= lots[i].earned_at);
    }
    assert_int_equal(lots[N - 1].expires_at, FD_NEVER);

    int64_t total = 0;
    for (int i = 0; i < N; i++)
        total += lots[i].remaining;
    int64_t want = total / 3;
    int64_t got = fd_lots_take(lots, N, want, take);
    assert_int_equal(got, want);
    /* a prefix is emptied, at most one lot is cut, the rest untouched */
    int i = 0;
    int64_t sum = 0;
    while (i < N && take[i] == lots[i].remaining)
        sum += take[i++];
    if (i < N) {
        sum += take[i];
        assert_true(take[i] < lots[i].remaining);
        for (int k = i + 1; k < N; k++)
            assert_int_equal(take[k], 0);
    }
    assert_int_equal(sum, want);

    /* asking for more than there is takes everything and says so */
    assert_int_equal(fd_lots_take(lots, N, total + 5, take), total);
    assert_int_equal(fd_lots_take(lots, 0, 10, take), 0);
}

static void expiry_boundary_second(void **state)
{
    (void)state;
    fd_program p;
    fd_program_defaults(&p);
    p.expiry_mode = FD_EXPIRY_DAYS;
    p.expiry_days = 30;
    int64_t earned = 1700000000;
    int64_t exp = fd_lot_expiry(&p, earned, earned);
    assert_int_equal(exp, earned + 30 * DAY);
    assert_false(fd_lot_expired(exp, exp - 1)); /* valid until the last second */
    assert_true(fd_lot_expired(exp, exp));      /* expired at its expiry second */
    assert_true(fd_lot_expired(exp, exp + 1));
    assert_false(fd_lot_expired(FD_NEVER, INT64_MAX - 1));

    p.expiry_mode = FD_EXPIRY_NONE;
    assert_int_equal(fd_lot_expiry(&p, earned, earned), FD_NEVER);
}

static void pending_window_and_expiry_origin(void **state)
{
    (void)state;
    fd_program p;
    fd_program_defaults(&p);
    p.pending_days = 14;
    p.expiry_mode = FD_EXPIRY_DAYS;
    p.expiry_days = 365;
    int64_t earned = 1700000000, matured = fd_lot_matures_at(&p, earned);
    assert_int_equal(matured, earned + 14 * DAY);
    p.expiry_from = FD_EXPIRY_FROM_ACTIVATION; /* the default */
    assert_int_equal(fd_lot_expiry(&p, earned, matured), matured + 365 * DAY);
    p.expiry_from = FD_EXPIRY_FROM_EARN;
    assert_int_equal(fd_lot_expiry(&p, earned, matured), earned + 365 * DAY);
}

static void credit_repays_debt_first(void **state)
{
    (void)state;
    assert_int_equal(fd_credit_lot_points(0, 100), 100);
    assert_int_equal(fd_credit_lot_points(50, 100), 100);
    assert_int_equal(fd_credit_lot_points(-30, 100), 70);
    assert_int_equal(fd_credit_lot_points(-100, 100), 0);
    assert_int_equal(fd_credit_lot_points(-500, 100), 0);
}

static void refund_half_then_rest(void **state)
{
    (void)state;
    int64_t r1, r2;
    /* 105.00 earned 105 points (floor). Refund 52.50: the member keeps
     * floor(105 * 52.50 / 105.00) = 52, so 53 are reversed. */
    assert_int_equal(fd_refund_reversal(105, 10500, 0, 5250, 0, FD_ROUND_FLOOR, &r1), FD_OK);
    assert_int_equal(r1, 53);
    assert_int_equal(fd_refund_reversal(105, 10500, 5250, 5250, r1, FD_ROUND_FLOOR, &r2), FD_OK);
    assert_int_equal(r2, 52);
    assert_int_equal(r1 + r2, 105); /* a full refund reverses exactly what was earned */
    /* with round-half-up the kept part rounds up */
    assert_int_equal(fd_refund_reversal(105, 10500, 0, 5250, 0, FD_ROUND_HALF_UP, &r1), FD_OK);
    assert_int_equal(r1, 52);
}

static void many_partial_refunds_add_up(void **state)
{
    (void)state;
    /* 99.99 at 1 point per unit = 99 points; refunded 0.01 at a time */
    int64_t earned = 99, total = 9999, refunded = 0, reversed = 0, r;
    while (refunded < total) {
        assert_int_equal(
            fd_refund_reversal(earned, total, refunded, 1, reversed, FD_ROUND_FLOOR, &r), FD_OK);
        assert_true(r >= 0 && r <= 1);
        refunded += 1;
        reversed += r;
        assert_true(reversed <= earned);
    }
    assert_int_equal(reversed, earned);
}

static void refund_out_of_range(void **state)
{
    (void)state;
    int64_t r = -7;
    assert_int_equal(fd_refund_reversal(105, 10500, 0, 10501, 0, FD_ROUND_FLOOR, &r), FD_EINVAL);
    assert_int_equal(fd_refund_reversal(105, 10500, 5000, 5501, 0, FD_ROUND_FLOOR, &r), FD_EINVAL);
    assert_int_equal(fd_refund_reversal(105, 10500, 0, 0, 0, FD_ROUND_FLOOR, &r), FD_EINVAL);
    assert_int_equal(fd_refund_reversal(105, 10500, 0, -5, 0, FD_ROUND_FLOOR, &r), FD_EINVAL);
    assert_int_equal(r, -7); /* untouched on error */
    /* an order that earned nothing reverses nothing */
    assert_int_equal(fd_refund_reversal(0, 50, 0, 50, 0, FD_ROUND_FLOOR, &r), FD_OK);
    assert_int_equal(r, 0);
}

static void reversal_plans(void **state)
{
    (void)state;
    fd_reversal p;
    /* pending first (SPEC 15.1) */
    fd_reversal_plan(50, 80, 10, FD_REFUND_ALLOW_NEGATIVE, &p);
    assert_int_equal(p.from_pending, 50);
    assert_int_equal(p.from_available, 0);
    fd_reversal_plan(100, 80, 10, FD_REFUND_ALLOW_NEGATIVE, &p);
    assert_int_equal(p.from_pending, 80);
    assert_int_equal(p.from_available, 20);
    assert_int_equal(p.waived, 0);
    /* points already spent: negative balance, or stop at zero (SPEC 15.2) */
    fd_reversal_plan(50, 0, 30, FD_REFUND_ALLOW_NEGATIVE, &p);
    assert_int_equal(p.from_available, 50);
    fd_reversal_plan(50, 0, 30, FD_REFUND_CAP_AT_ZERO, &p);
    assert_int_equal(p.from_available, 30);
    assert_int_equal(p.waived, 20);
    fd_reversal_plan(50, 0, -10, FD_REFUND_CAP_AT_ZERO, &p);
    assert_int_equal(p.from_available, 0);
    assert_int_equal(p.waived, 50);
}

static void liability(void **state)
{
    (void)state;
    fd_program p;
    fd_program_defaults(&p); /* 1 point = 0.01 EUR */
    int64_t minor;
    assert_int_equal(fd_program_liability(&p, 105, &minor), FD_OK);
    assert_int_equal(minor, 105);
    p.point_value_micros = 5000; /* 0.005 EUR: half a cent, rounded down */
    assert_int_equal(fd_program_liability(&p, 105, &minor), FD_OK);
    assert_int_equal(minor, 52);
    assert_int_equal(fd_program_liability(&p, -105, &minor), FD_OK);
    assert_int_equal(minor, -52);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_across_many_lots),
        cmocka_unit_test(expiry_boundary_second),
        cmocka_unit_test(pending_window_and_expiry_origin),
        cmocka_unit_test(credit_repays_debt_first),
        cmocka_unit_test(refund_half_then_rest),
        cmocka_unit_test(many_partial_refunds_add_up),
        cmocka_unit_test(refund_out_of_range),
        cmocka_unit_test(reversal_plans),
        cmocka_unit_test(liability),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
