/*
 * keys.h - API keys: creation, authentication, listing, revocation.
 *
 * A key reads "fk_<key id>_<secret>": the key id (16 hex digits) finds the
 * row, the secret (43 base64url characters, 256 random bits from libsodium)
 * is stored only as its BLAKE2b-256 hash and compared in constant time.
 * A fast hash is right here because the secret is random, not a password.
 */
#ifndef FD_KEYS_H
#define FD_KEYS_H

#include <stdint.h>

#include "core/program.h"
#include "core/role.h"
#include "store/db.h"

#define FD_KEY_MAX 80 /* bytes of a key's text, with the terminator */

typedef struct fd_principal {
    int64_t program_id;
    fd_role role;
    int64_t member_id; /* for FD_ROLE_MEMBER keys; 0 otherwise */
    char key_id[24];
    char actor[40]; /* "key:<key id>", recorded in the journal and audit log */
} fd_principal;

/* Creates a key; writes its full text (shown once) into key_out. member_id is
 * required for FD_ROLE_MEMBER and must be 0 otherwise (FD_EINVAL). */
int fd_key_create(fd_db *db, int64_t program_id, fd_role role, int64_t member_id, const char *label,
                  const char *created_by, int64_t now, char key_out[FD_KEY_MAX],
                  char key_id_out[24]);

/* Authenticates a key's text. FD_EAUTH when malformed, unknown, revoked or
 * wrong, or when its program is gone; fills *out and *program (the key's
 * program, read with the key) otherwise. */
int fd_key_authenticate(fd_db *db, const char *key, fd_principal *out, fd_program *program);

/* Revokes key_id of program_id; FD_ENOTFOUND if there is no such live key. */
int fd_key_revoke(fd_db *db, int64_t program_id, const char *key_id, int64_t now);

#endif
