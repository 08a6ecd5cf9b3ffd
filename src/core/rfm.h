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

#endif
