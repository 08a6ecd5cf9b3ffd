/*
 * keys.c - API keys (keys.h).
 */
#include "store/keys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "store/programs.h"

#define SECRET_BYTES 32

static void hash_secret(const char *secret, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)secret, strlen(secret), NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

int fd_key_create(fd_db *db, int64_t program_id, fd_role role, int64_t member_id, const char *label,
                  const char *created_by, int64_t now, char key_out[FD_KEY_MAX],
                  char key_id_out[24])
{
    if ((role == FD_ROLE_MEMBER) != (member_id > 0)) return FD_EINVAL;
    unsigned char idb[8], sec[SECRET_BYTES];
    randombytes_buf(idb, sizeof idb);
    randombytes_buf(sec, sizeof sec);
    char key_id[17], hash[65];
    char secret[sodium_base64_ENCODED_LEN(SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2hex(key_id, sizeof key_id, idb, sizeof idb);
    sodium_bin2base64(secret, sizeof secret, sec, sizeof sec,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    hash_secret(secret, hash);
    int rc = fd_db_run(db,
                       "INSERT INTO api_keys(program_id, key_id, secret_hash, role, member_id,"
                       " label, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                       FD_PARAMS(FD_I(program_id), FD_S(key_id), FD_S(hash),
                                 FD_S(fd_role_name(role)), member_id ? FD_I(member_id) : FD_NULL,
                                 FD_S(label), FD_S(created_by), FD_I(now)),
                       NULL);
    if (rc) return rc;
    snprintf(key_out, FD_KEY_MAX, "fk_%s_%s", key_id, secret);
    snprintf(key_id_out, 24, "%s", key_id);
    return FD_OK;
}

int fd_key_authenticate(fd_db *db, const char *key, fd_principal *out, fd_program *program)
{
    /* fk_ + 16 hex + _ + 43 base64url */
    if (!key || strlen(key) != 3 + 16 + 1 + 43 || strncmp(key, "fk_", 3) || key[19] != '_')
        return FD_EAUTH;
    char key_id[17];
    memcpy(key_id, key + 3, 16);
    key_id[16] = 0;
    const char *secret = key + 20;
    fd_stmt *st;
    /* the program in the same statement: one read of the database, not two */
    int rc =
        fd_db_query(db,
                    "SELECT k.program_id, k.role, k.member_id, k.secret_hash, " FD_PROGRAM_COLUMNS
                    " FROM api_keys k JOIN programs p ON p.id = k.program_id"
                    " WHERE k.key_id = $1 AND k.revoked_at IS NULL",
                    FD_PARAMS(FD_S(key_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        char hash[65];
        hash_secret(secret, hash);
        const char *stored = fd_stmt_text(st, 3);
        if (stored && strlen(stored) == 64 && sodium_memcmp(hash, stored, 64) == 0 &&
            fd_role_parse(fd_stmt_text(st, 1), &out->role) == FD_OK) {
            out->program_id = fd_stmt_i64(st, 0);
            out->member_id = fd_stmt_i64(st, 2);
            fd_copy_text(out->key_id, sizeof out->key_id, key_id);
            memcpy(out->actor, "key:", 4);
            fd_copy_text(out->actor + 4, sizeof out->actor - 4, key_id);
            fd_program_from_row(st, 4, program);
            rc = FD_OK;
        } else {
            rc = FD_EAUTH;
        }
    } else if (rc == 0) {
        rc = FD_EAUTH;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_key_revoke(fd_db *db, int64_t program_id, const char *key_id, int64_t now)
{
    int64_t n = 0;
    int rc = fd_db_run(db,
                       "UPDATE api_keys SET revoked_at = $3 WHERE program_id = $1 AND key_id = $2"
                       " AND revoked_at IS NULL",
                       FD_PARAMS(FD_I(program_id), FD_S(key_id), FD_I(now)), &n);
    if (!rc && n == 0) rc = FD_ENOTFOUND;
    return rc;
}
