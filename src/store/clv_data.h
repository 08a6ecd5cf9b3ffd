/*
 * clv_data.h - the customer summaries the CLV models need, from the
 * behaviour aggregates: x = purchase days after the first (repeat
 * transactions, one a day at most), t_x and T in weeks since the first
 * purchase, m = average order value (all orders: the aggregates keep no
 * per-order values, so the first order counts too).
 */
#ifndef FD_CLV_DATA_H
#define FD_CLV_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/clv.h"
#include "store/db.h"

#define FD_CLV_FIT_MAX 50000 /* customers the models are fitted on (the first by id) */

/* Loads up to max customers with orders of program_id as of local day today
 * (or only member_id when it is not 0). Caller frees *c and *ids. */
int fd_clv_load(fd_db *db, int64_t program_id, int64_t member_id, int64_t today, int exponent,
                size_t max, fd_clv_customer **c, int64_t **ids, size_t *n);

#endif
