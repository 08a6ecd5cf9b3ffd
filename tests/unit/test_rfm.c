/*
 * test_rfm.c - RFM quintile scores and the classic R x F segment map (core/rfm.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/rfm.h"

static void scores_by_cut_points(void **state)
{
    (void)state;
    const int64_t orders[4] = {1, 2, 4, 8}, days[4] = {10, 30, 90, 180};
    assert_int_equal(fd_rfm_score(orders, 1, false), 1); /* on a cut point: that fifth */
    assert_int_equal(fd_rfm_score(orders, 3, false), 3);
    assert_int_equal(fd_rfm_score(orders, 9, false), 5);
    assert_int_equal(fd_rfm_score(days, 0, true), 5); /* bought today: best recency */
    assert_int_equal(fd_rfm_score(days, 31, true), 3);
    assert_int_equal(fd_rfm_score(days, 400, true), 1);
}

/* Every one of the 25 cells, row by row (R 1..5), column by column (F 1..5). */
static void segment_map(void **state)
{
    (void)state;
    static const char *const MAP[5][5] = {
        {"hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"},
        {"hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"},
        {"about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"},
        {"promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"},
        {"new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"},
    };
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++)
            assert_string_equal(fd_rfm_segment(r, f), MAP[r - 1][f - 1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scores_by_cut_points),
        cmocka_unit_test(segment_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
