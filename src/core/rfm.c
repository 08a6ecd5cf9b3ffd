/*
 * rfm.c - RFM scoring (rfm.h).
 */
#include "core/rfm.h"

#include <assert.h>

int fd_rfm_score(const int64_t cut[4], int64_t v, bool lower_is_better)
{
    int above = 0; /* cut points v exceeds */
    for (int i = 0; i < 4; i++)
        above += v > cut[i];
    return lower_is_better ? 5 - above : 1 + above;
}

const char *fd_rfm_segment(int r, int f)
{
    assert(r >= 1 && r <= 5 && f >= 1 && f <= 5);
    if (r <= 2) return f <= 2 ? "hibernating" : f <= 4 ? "at_risk" : "cant_lose";
    if (f >= 4) return r == 5 ? "champions" : "loyal";
    if (r == 3) return f == 3 ? "need_attention" : "about_to_sleep";
    if (f == 1) return r == 5 ? "new_customers" : "promising";
    return "potential_loyalists";
}
