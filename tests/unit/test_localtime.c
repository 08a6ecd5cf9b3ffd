/*
 * test_localtime.c - fd_localtime (base/localtime.c) across a daylight-saving
 * change and between timezones, including the same instant asked again
 * (the thread keeps its last conversion) after another zone or a midnight
 * lookup used the thread's calendar.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/fd.h"
#include "base/localtime.h"

/* 2026-03-29 01:00:00 UTC: Berlin moves from 02:00 CET to 03:00 CEST. */
static const int64_t BERLIN_SPRING = 1774746000;

static fd_local at(const char *tz, int64_t t)
{
    fd_local l;
    assert_int_equal(fd_localtime(tz, t, &l), FD_OK);
    return l;
}

static void across_daylight_saving(void **state)
{
    (void)state;
    fd_local before = at("Europe/Berlin", BERLIN_SPRING - 1);
    assert_int_equal(before.hour, 1);
    assert_int_equal(before.minute, 59);
    assert_int_equal(before.utc_offset_s, 3600);
    fd_local after = at("Europe/Berlin", BERLIN_SPRING);
    assert_int_equal(after.hour, 3);
    assert_int_equal(after.minute, 0);
    assert_int_equal(after.utc_offset_s, 7200);
    assert_int_equal(after.weekday, 7);                           /* a Sunday */
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING).hour, 3); /* asked again */
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING - 1).hour, 1);
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING + 86400).day, 30); /* a third instant */
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING - 1).minute, 59);
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING).utc_offset_s, 7200);
}

static void same_instant_in_other_zones(void **state)
{
    (void)state;
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING).hour, 3);
    fd_local tokyo = at("Asia/Tokyo", BERLIN_SPRING);
    assert_int_equal(tokyo.hour, 10);
    assert_int_equal(tokyo.utc_offset_s, 9 * 3600);
    assert_int_equal(at("Europe/Berlin", BERLIN_SPRING).hour, 3);
    int64_t midnight;
    assert_int_equal(fd_local_midnight("Europe/Berlin", 2026, 3, 29, &midnight), FD_OK);
    assert_int_equal(midnight, BERLIN_SPRING - 2 * 3600); /* 00:00 CET, 23:00 UTC */
    fd_local again = at("Europe/Berlin", BERLIN_SPRING);
    assert_int_equal(again.day, 29);
    assert_int_equal(again.hour, 3);
    fd_local l;
    assert_int_equal(fd_localtime("Not/AZone", BERLIN_SPRING, &l), FD_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(across_daylight_saving),
        cmocka_unit_test(same_instant_in_other_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
