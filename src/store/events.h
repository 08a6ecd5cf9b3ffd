/*
 * events.h - stored events (for idempotency) and orders (for refunds).
 */
#ifndef FD_STORE_EVENTS_H
#define FD_STORE_EVENTS_H

#include <stdint.h>

#include "base/fd.h"
#include "store/db.h"

typedef struct fd_order {
    int64_t id;
    int64_t member_id;
    char order_id[FD_TEXT_MAX + 1];
    int64_t total;     /* minor units the customer paid, the base of earning */
    int64_t refunded;  /* minor units refunded so far */
    int64_t points;    /* points the order earned */
    int64_t reversed;  /* points reversed (or waived) by refunds so far */
    int64_t lot_id;    /* the lot the earning created, 0 if none */
    int64_t wallet_id; /* the member whose ledger holds its points when not member_id, else 0 */
    int64_t occurred_at;
} fd_order;

/* channel and brand (of a coalition program) may be NULL. */
int fd_order_insert(fd_db *db, int64_t program_id, fd_order *o, const char *channel,
                    const char *brand, int64_t now);
int fd_order_get(fd_db *db, int64_t program_id, const char *order_id, fd_order *out);
int fd_order_save_refund(fd_db *db, const fd_order *o);

/* Finds a processed event: its body hash and stored result (caller frees).
 * FD_ENOTFOUND when the id is new. */
int fd_event_get(fd_db *db, int64_t program_id, const char *event_id, char body_hash[65],
                 char **result);
int fd_event_insert(fd_db *db, int64_t program_id, const char *event_id, const char *type,
                    int64_t member_id, const char *body_hash, const char *result,
                    const char *channel, const char *brand, int64_t occurred_at, int64_t now);

#endif
