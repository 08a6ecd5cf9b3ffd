/*
 * test_money.c - amounts, currencies and rounding (core/money.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/fd.h"
#include "core/money.h"

static void currency_exponents(void **state)
{
    (void)state;
    int e = -1;
    assert_int_equal(fd_currency_exponent("EUR", &e), FD_OK);
    assert_int_equal(e, 2);
    assert_int_equal(fd_currency_exponent("JPY", &e), FD_OK);
    assert_int_equal(e, 0);
    assert_int_equal(fd_currency_exponent("KWD", &e), FD_OK);
    assert_int_equal(e, 3);
    assert_int_equal(fd_currency_exponent("CLF", &e), FD_OK);
    assert_int_equal(e, 4);
    assert_int_equal(fd_currency_exponent("XXX", &e), FD_EINVAL);
    assert_int_equal(fd_currency_exponent("eur", &e), FD_EINVAL);
    assert_int_equal(fd_currency_exponent("EURO", &e), FD_EINVAL);
    assert_int_equal(fd_currency_exponent("", &e), FD_EINVAL);
    assert_int_equal(fd_currency_exponent(NULL, &e), FD_EINVAL);
}

static void amount_parsing(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_int_equal(fd_amount_parse("105.99", 2, &v), FD_OK);
    assert_int_equal(v, 10599);
    assert_int_equal(fd_amount_parse("105", 2, &v), FD_OK);
    assert_int_equal(v, 10500);
    assert_int_equal(fd_amount_parse("0.5", 2, &v), FD_OK);
    assert_int_equal(v, 50);
    assert_int_equal(fd_amount_parse("1000", 0, &v), FD_OK);
    assert_int_equal(v, 1000);
    assert_int_equal(fd_amount_parse("1.234", 3, &v), FD_OK);
    assert_int_equal(v, 1234);
    /* refused shapes */
    assert_int_equal(fd_amount_parse("1.999", 2, &v), FD_EINVAL); /* too many decimals */
    assert_int_equal(fd_amount_parse("1.5", 0, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("-1.00", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("+1.00", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("1e3", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse(" 1", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse(".5", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("5.", 2, &v), FD_EINVAL);
    assert_int_equal(fd_amount_parse("1.2.3", 2, &v), FD_EINVAL);
    /* range: 10^15 minor units is the largest amount */
    assert_int_equal(fd_amount_parse("10000000000000.00", 2, &v), FD_OK);
    assert_int_equal(v, INT64_C(1000000000000000));
    assert_int_equal(fd_amount_parse("10000000000000.01", 2, &v), FD_EOVERFLOW);
    assert_int_equal(fd_amount_parse("99999999999999999999999", 2, &v), FD_EOVERFLOW);
}

static void amount_formatting(void **state)
{
    (void)state;
    char buf[40];
    fd_amount_format(10599, 2, buf, sizeof buf);
    assert_string_equal(buf, "105.99");
    fd_amount_format(5, 2, buf, sizeof buf);
    assert_string_equal(buf, "0.05");
    fd_amount_format(-5, 2, buf, sizeof buf);
    assert_string_equal(buf, "-0.05");
    fd_amount_format(1000, 0, buf, sizeof buf);
    assert_string_equal(buf, "1000");
    fd_amount_format(INT64_MIN, 2, buf, sizeof buf);
    assert_string_equal(buf, "-92233720368547758.08");
}

static void points_rounding(void **state)
{
    (void)state;
    int64_t p = -1;
    /* 1 point per 1.00, 105.99 -> floor 105, round 106, ceil 106 */
    assert_int_equal(fd_points_for_amount(10599, 2, 1000, FD_ROUND_FLOOR, &p), FD_OK);
    assert_int_equal(p, 105);
    assert_int_equal(fd_points_for_amount(10599, 2, 1000, FD_ROUND_HALF_UP, &p), FD_OK);
    assert_int_equal(p, 106);
    assert_int_equal(fd_points_for_amount(10549, 2, 1000, FD_ROUND_HALF_UP, &p), FD_OK);
    assert_int_equal(p, 105);
    assert_int_equal(fd_points_for_amount(10550, 2, 1000, FD_ROUND_HALF_UP, &p), FD_OK);
    assert_int_equal(p, 106);
    assert_int_equal(fd_points_for_amount(10501, 2, 1000, FD_ROUND_CEIL, &p), FD_OK);
    assert_int_equal(p, 106);
    assert_int_equal(fd_points_for_amount(10500, 2, 1000, FD_ROUND_CEIL, &p), FD_OK);
    assert_int_equal(p, 105);
    /* 1.5 points per unit */
    assert_int_equal(fd_points_for_amount(1000, 2, 1500, FD_ROUND_FLOOR, &p), FD_OK);
    assert_int_equal(p, 15);
    /* yen: 1 point per 100 yen */
    assert_int_equal(fd_points_for_amount(1999, 0, 10, FD_ROUND_FLOOR, &p), FD_OK);
    assert_int_equal(p, 19);
    /* zero and extremes */
    assert_int_equal(fd_points_for_amount(0, 2, 1000, FD_ROUND_CEIL, &p), FD_OK);
    assert_int_equal(p, 0);
    assert_int_equal(
        fd_points_for_amount(INT64_C(1000000000000000), 0, 1000000000, FD_ROUND_FLOOR, &p),
        FD_EOVERFLOW);
    assert_int_equal(fd_points_for_amount(-1, 2, 1000, FD_ROUND_FLOOR, &p), FD_EINVAL);
}

static void div_round(void **state)
{
    (void)state;
    int64_t q;
    assert_int_equal(fd_div_round(7, 2, FD_ROUND_FLOOR, &q), FD_OK);
    assert_int_equal(q, 3);
    assert_int_equal(fd_div_round(7, 2, FD_ROUND_HALF_UP, &q), FD_OK);
    assert_int_equal(q, 4);
    assert_int_equal(fd_div_round(7, 2, FD_ROUND_CEIL, &q), FD_OK);
    assert_int_equal(q, 4);
    assert_int_equal(fd_div_round(1, 3, FD_ROUND_HALF_UP, &q), FD_OK);
    assert_int_equal(q, 0);
    assert_int_equal(fd_div_round(1, 0, FD_ROUND_FLOOR, &q), FD_EINVAL);
    assert_int_equal(fd_div_round(-1, 3, FD_ROUND_FLOOR, &q), FD_EINVAL);
}

static void overflow_helpers(void **state)
{
    (void)state;
    int64_t r = 0;
    assert_int_equal(fd_add_i64(INT64_MAX, 1, &r), FD_EOVERFLOW);
    assert_int_equal(fd_add_i64(1, 2, &r), FD_OK);
    assert_int_equal(r, 3);
    assert_int_equal(fd_mul_i64(INT64_MAX / 2 + 1, 2, &r), FD_EOVERFLOW);
}

/* fd_deadline_ms: a valid timespec (pthread_cond_timedwait refuses any
 * other and returns at once) the right distance ahead. */
static void deadlines(void **state)
{
    (void)state;
    const int64_t cases[] = {0, 1, 50, 999, 1000, 1500, 2000, 3600 * 1000};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct timespec now, d = fd_deadline_ms(cases[i]);
        clock_gettime(CLOCK_REALTIME, &now);
        assert_true(d.tv_nsec >= 0 && d.tv_nsec < 1000000000L);
        int64_t ahead_ms =
            ((int64_t)d.tv_sec - now.tv_sec) * 1000 + (d.tv_nsec - now.tv_nsec) / 1000000;
        assert_true(ahead_ms <= cases[i] && ahead_ms >= cases[i] - 100);
    }
}

static void time_parsing(void **state)
{
    (void)state;
    int64_t t;
    char buf[32];
    assert_int_equal(fd_time_parse("1970-01-01T00:00:00Z", &t), FD_OK);
    assert_int_equal(t, 0);
    assert_int_equal(fd_time_parse("2024-02-29T12:00:00Z", &t), FD_OK);
    fd_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T12:00:00Z");
    assert_int_equal(fd_time_parse("2026-11-23T01:30:00+02:00", &t), FD_OK);
    fd_time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-22T23:30:00Z");
    assert_int_equal(fd_time_parse("2026-11-23T01:30:00.123Z", &t), FD_OK);
    fd_time_format(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    fd_time_format(946782245, buf, sizeof buf);
    assert_string_equal(buf, "2000-01-02T03:04:05Z");
    fd_time_format(253402300799, buf, sizeof buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    fd_time_format(253402300800, buf, sizeof buf); /* five digits of year, as %Y writes them */
    assert_string_equal(buf, "10000-01-01T00:00:00Z");
    fd_time_format(946782245, buf, 8); /* too small: cut, still terminated */
    assert_string_equal(buf, "2000-01");
    assert_int_equal(fd_time_parse("2023-02-29T00:00:00Z", &t), FD_EINVAL);
    assert_int_equal(fd_time_parse("2026-11-23T01:30:00", &t), FD_EINVAL); /* no zone */
    assert_int_equal(fd_time_parse("2026-13-01T00:00:00Z", &t), FD_EINVAL);
    assert_int_equal(fd_time_parse("yesterday", &t), FD_EINVAL);
    assert_int_equal(fd_time_parse("2026-11-23T01:30:00Zjunk", &t), FD_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(currency_exponents), cmocka_unit_test(amount_parsing),
        cmocka_unit_test(amount_formatting),  cmocka_unit_test(points_rounding),
        cmocka_unit_test(div_round),          cmocka_unit_test(overflow_helpers),
        cmocka_unit_test(time_parsing),       cmocka_unit_test(deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
