/*
 * rfm.c - RFM scoring (rfm.h).
 */
#include "core/rfm.h"

int fd_rfm_score(const int64_t cut[4], int64_t v, bool lower_is_better)
{
    int above = 0; /* cut points v exceeds */
    for (int i = 0; i < 4; i++)
        above += v > cut[i];
    return lower_is_better ? 5 - above : 1 + above;
}
