/*
 * promos.h - campaigns, rewards, codes (campaign codes, gift cards and the
 * vouchers rewards issue) and redemptions in storage. Every function runs
 * inside the caller's transaction; decisions come from core/promo.h,
 * core/campaign.h and core/reward.h.
 *
 * Concurrency: the counters a limit is checked against (campaign uses and
 * totals, reward stock, a code's uses) are read with fd_*_lock, which takes
 * the row's write lock first on PostgreSQL (a no-op UPDATE), so concurrent
 * redemptions in several processes queue on the row and each sees the
 * previous one's count. On SQLite the single writer already serialises them.
 */
#ifndef FD_STORE_PROMOS_H
#define FD_STORE_PROMOS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/fd.h"
#include "core/promo.h"
#include "store/db.h"

/* Which catalog table a definition lives in. */
typedef enum {
    FD_CATALOG_CAMPAIGN,
    FD_CATALOG_REWARD,
    FD_CATALOG_BADGE,
    FD_CATALOG_CHALLENGE
} fd_catalog;

/* Creates a definition (name unique among live ones: FD_ECONFLICT), replaces
 * one (definition NULL: only the active flag changes), or deletes one; each
 * bumps the program's configuration version. FD_ENOTFOUND for unknown ids. */
int fd_catalog_insert(fd_db *db, fd_catalog t, int64_t program_id, const char *name,
                      const char *definition, bool active, const char *actor, int64_t now,
                      int64_t *id);
int fd_catalog_update(fd_db *db, fd_catalog t, int64_t program_id, int64_t id, const char *name,
                      const char *definition, bool active, const char *actor, int64_t now);
/* Live (not deleted) definitions of the program. */
int fd_catalog_count(fd_db *db, fd_catalog t, int64_t program_id, int64_t *n);
int fd_catalog_delete(fd_db *db, fd_catalog t, int64_t program_id, int64_t id, int64_t now);

/* A campaign's running totals. */
typedef struct fd_campaign_usage {
    int64_t uses, discount_total, order_total;
} fd_campaign_usage;

int fd_campaign_usage_lock(fd_db *db, int64_t campaign_id, fd_campaign_usage *out);
int fd_campaign_usage_get(fd_db *db, int64_t campaign_id, fd_campaign_usage *out);
/* Adds (or with negative values takes back) one redemption's figures. */
int fd_campaign_usage_add(fd_db *db, int64_t campaign_id, int64_t uses, int64_t discount,
                          int64_t amount);
/* Redemptions of the campaign by the member, not rolled back. */
int fd_campaign_member_uses(fd_db *db, int64_t campaign_id, int64_t member_id, int64_t *out);

/* Vouchers a reward has issued (not cancelled) in total, with the row locked. */
int fd_reward_issued_lock(fd_db *db, int64_t reward_id, int64_t *issued);
int fd_reward_issued_add(fd_db *db, int64_t reward_id, int64_t delta);
/* Vouchers of the reward the member holds (not cancelled). */
int fd_reward_member_count(fd_db *db, int64_t reward_id, int64_t member_id, int64_t *out);

/* ---------- codes ---------- */

typedef struct fd_code {
    int64_t id, program_id, campaign_id, reward_id, member_id; /* 0 when none */
    char code[FD_CODE_PATTERN_MAX + 1];
    bool active;     /* kill switch of this code */
    char status[16]; /* "active", "cancelled" (voucher given back for its points) */
    int64_t max_uses, uses;
    int64_t balance;    /* gift cards: credit left, minor units */
    int64_t points;     /* points the voucher cost, 0 for campaign codes */
    int64_t journal_id; /* the spend of those points */
    int64_t expires_at; /* FD_NEVER for none */
    int64_t created_at;
} fd_code;

/* Finds a code by its text (normalised); with lock, takes its row lock. */
int fd_code_find(fd_db *db, int64_t program_id, const char *code, bool lock, fd_code *out);
/* Inserts c (c->id receives the id); FD_ECONFLICT when the text exists. */
int fd_code_insert(fd_db *db, fd_code *c, const char *request_id);
/* The voucher a member's earlier request with this id issued. */
int fd_code_find_request(fd_db *db, int64_t program_id, int64_t member_id, const char *request_id,
                         fd_code *out);
/* Sets a code's uses, balance, status and active flag from c. */
int fd_code_save(fd_db *db, const fd_code *c);

/* Generates `count` unique codes of `pattern` for a campaign (each usable
 * max_uses times (0: no limit), until expires_at; gift cards with `balance`); codes taken already
 * are drawn again, up to 20 rounds. *made receives how many were inserted. */
int fd_codes_generate(fd_db *db, int64_t program_id, int64_t campaign_id, const char *pattern,
                      int64_t count, int64_t max_uses, int64_t balance, int64_t expires_at,
                      int64_t now, int64_t *made);

/* ---------- redemptions ---------- */

typedef struct fd_redemption {
    int64_t id, program_id, code_id, campaign_id, reward_id, member_id;
    char order_id[FD_TEXT_MAX + 1];
    int64_t order_amount; /* the cart's goods before discounts */
    int64_t discount, shipping_discount, gift_card, cashback;
    char status[16]; /* "redeemed", "rolled_back" */
    int64_t created_at, rolled_back_at;
} fd_redemption;

/* The redemption of code_id for order_id (FD_ENOTFOUND when none). */
int fd_redemption_find(fd_db *db, int64_t code_id, const char *order_id, fd_redemption *out);
/* Inserts r; a rolled-back redemption of the same code and order is reused. */
int fd_redemption_save(fd_db *db, fd_redemption *r);

#endif
