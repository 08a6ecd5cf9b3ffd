/*
 * members.h - persistence of members (core/member.h). Every function is
 * scoped by program: a member of another program is FD_ENOTFOUND.
 */
#ifndef FD_STORE_MEMBERS_H
#define FD_STORE_MEMBERS_H

#include <stdint.h>

#include "core/member.h"
#include "store/db.h"

typedef enum {
    FD_LOOKUP_EXTERNAL_ID,
    FD_LOOKUP_EMAIL, /* by normalised email */
    FD_LOOKUP_PHONE, /* by normalised phone */
    FD_LOOKUP_CARD,
    FD_LOOKUP_QR,
} fd_lookup;

/* Loads member id of program_id into *out (caller calls fd_member_clear). */
/* Month and day of attributes.birthday ("1990-05-17" or "05-17") as MMDD, 0 if none. */
int64_t fd_member_birthday_md(const char *attributes);

int fd_member_get(fd_db *db, int64_t program_id, int64_t id, fd_member *out);
/* Locks member id's row for the rest of the transaction (a no-op UPDATE, the
 * same SQL on every backend) and loads it fresh into *out. Call before any
 * change of its ledger, so that processes sharing a PostgreSQL database
 * never lose an update. */
int fd_member_get_locked(fd_db *db, int64_t program_id, int64_t id, fd_member *out);
/* The same lock, then only the member's id, program, balance and pending in
 * *out (the rest zero, nothing to clear): for the jobs, which change one
 * member's balance per lot and need nothing else of it. */
int fd_member_get_balance(fd_db *db, int64_t program_id, int64_t id, fd_member *out);

/* Finds a member by one identifier (already normalised). */
int fd_member_find(fd_db *db, int64_t program_id, fd_lookup by, const char *value, fd_member *out);

/* Inserts m (identifiers normalised by the caller), generating its QR token;
 * sets m->id. FD_ECONFLICT when an identifier is taken. */
int fd_member_insert(fd_db *db, fd_member *m, int64_t now);
/* Saves identifiers, attributes, state and consent of m. FD_ECONFLICT when an
 * identifier is taken by another member. */
int fd_member_save(fd_db *db, const fd_member *m, int64_t now);
/* Saves m's tier, tier_since, tier_period_end and tier_review_at. */
int fd_member_set_tier(fd_db *db, const fd_member *m);
/* Saves m's balance and pending points. */
int fd_member_save_balance(fd_db *db, const fd_member *m);

/* Pages through members with id > after, at most limit, calling fn for each
 * (the member is valid only during the call). */
int fd_member_list(fd_db *db, int64_t program_id, int64_t after, int limit,
                   void (*fn)(const fd_member *m, void *arg), void *arg);

/* Sets a consent confirmation token's hash (NULL clears it). */
int fd_member_set_consent_token(fd_db *db, int64_t member_id, const char *token_hash);
/* Finds the member holding a consent token hash. */
int fd_member_find_by_consent_token(fd_db *db, int64_t program_id, const char *token_hash,
                                    fd_member *out);

#endif
