/*
 * rfm.h - RFM scores: recency (days since the last order), frequency
 * (orders) and monetary value (spend), each 1 to 5 by the program's
 * quintiles, 5 best. The cut points are computed by a job over all members
 * with orders (store/stats.c) and read by conditions as member.stats.rfm.
 */
#ifndef FD_RFM_H
#define FD_RFM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct fd_rfm {
    bool has;
    int64_t recency[4];   /* days since last order at the 20/40/60/80 % points */
    int64_t frequency[4]; /* orders */
    int64_t monetary[4];  /* minor units */
} fd_rfm;

/* The 1..5 score of v among the cut points; for recency fewer days is better. */
int fd_rfm_score(const int64_t cut[4], int64_t v, bool lower_is_better);

/* The classic segment of an R and F score pair (1..5 each), by the usual
 * R x F map: champions (R5 F4-5), loyal (R3-4 F4-5), potential_loyalists
 * (R4-5 F2-3), new_customers (R5 F1), promising (R4 F1), need_attention
 * (R3 F3), about_to_sleep (R3 F1-2), at_risk (R1-2 F3-4), cant_lose
 * (R1-2 F5), hibernating (R1-2 F1-2). A static string. */
const char *fd_rfm_segment(int r, int f);

#endif
