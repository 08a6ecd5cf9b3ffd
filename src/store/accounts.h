/*
 * accounts.h - company (B2B) accounts: a company with several member users,
 * each with a role (buyer, approver, admin), and a wallet: a member row of
 * its own whose ledger, tier and aggregates are the account's. With
 * pooling, the users' points go to the wallet (members.wallet_id), so the
 * account's tier follows the account's total volume (docs/engagement.md).
 */
#ifndef FD_STORE_ACCOUNTS_H
#define FD_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

typedef struct fd_account {
    int64_t id, program_id, wallet_id;
    char external_id[257];
    char name[257];
    bool pooling;
    int64_t created_at;
} fd_account;

/* Creates the account and its wallet member (external id "account:<id>");
 * FD_ECONFLICT when the external id is taken. */
int fd_account_create(fd_db *db, fd_account *a, int64_t now);
int fd_account_get(fd_db *db, int64_t program_id, int64_t id, fd_account *out);

/* Adds member_id as a user with role ("buyer", "approver", "admin"), or
 * changes their role; FD_ECONFLICT when they belong to another account.
 * With pooling, their points go to the wallet from now on. */
int fd_account_add_user(fd_db *db, const fd_account *a, int64_t member_id, const char *role,
                        int64_t now);
/* Removes the user (their points go to themselves again); FD_ENOTFOUND. */
int fd_account_remove_user(fd_db *db, const fd_account *a, int64_t member_id);
/* The user's role in account a, FD_ENOTFOUND when not a user. */
int fd_account_role(fd_db *db, const fd_account *a, int64_t member_id, char role[16]);

#endif
