/*
 * shopper.h - who is buying, as promo validation sees it: the member (when
 * known) with tier, segments, order count and birthday month, the local
 * time, and the JSONLogic context {"member", "cart", "time"} custom
 * validation rules read.
 */
#ifndef FD_SHOPPER_H
#define FD_SHOPPER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/localtime.h"
#include "core/member.h"
#include "core/promo.h"
#include "store/config.h"
#include "store/db.h"

typedef struct fd_shopper {
    bool has_member;
    fd_member m;
    json_t *data; /* {"member", "cart", "time"} */
    fd_local lt;
    jl_env env;
    int64_t now;
} fd_shopper;

/* Loads member_id (0: a guest) of program p at `now`, its row locked when
 * `lock`; cart (borrowed JSON, may be NULL) becomes data.cart.
 * FD_ENOTFOUND when the member does not exist. fd_shopper_clear releases. */
int fd_shopper_load(fd_db *db, const fd_program *p, const fd_config *cfg, int64_t member_id,
                    bool lock, int64_t now, json_t *cart, fd_shopper *out);
void fd_shopper_clear(fd_shopper *s);

/* The facts fd_promo_check needs (borrowing from s); cart may be NULL. */
void fd_shopper_facts(const fd_shopper *s, const fd_cart *cart, fd_promo_facts *f);

#endif
