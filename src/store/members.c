/*
 * members.c - member rows (members.h).
 */
#include "store/members.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MEMBER_COLS                                                                                \
    "id, program_id, external_id, email, email_norm, phone, card_number, qr_token,"                \
    " attributes, state, consent, consent_at, balance, pending, merged_into, erased_at,"           \
    " created_at, updated_at, tier, tier_since, tier_period_end, tier_review_at, wallet_id"

static void read_row(fd_stmt *st, fd_member *m)
{
    memset(m, 0, sizeof *m);
    m->id = fd_stmt_i64(st, 0);
    m->program_id = fd_stmt_i64(st, 1);
    fd_copy_text(m->external_id, sizeof m->external_id, fd_stmt_text(st, 2));
    fd_copy_text(m->email, sizeof m->email, fd_stmt_text(st, 3));
    fd_copy_text(m->email_norm, sizeof m->email_norm, fd_stmt_text(st, 4));
    fd_copy_text(m->phone, sizeof m->phone, fd_stmt_text(st, 5));
    fd_copy_text(m->card_number, sizeof m->card_number, fd_stmt_text(st, 6));
    fd_copy_text(m->qr_token, sizeof m->qr_token, fd_stmt_text(st, 7));
    const char *attrs = fd_stmt_text(st, 8);
    m->attributes = fd_strdup(attrs ? attrs : "{}");
    fd_member_state_parse(fd_stmt_text(st, 9), &m->state);
    fd_consent_parse(fd_stmt_text(st, 10), &m->consent);
    m->consent_at = fd_stmt_i64(st, 11);
    m->balance = fd_stmt_i64(st, 12);
    m->pending = fd_stmt_i64(st, 13);
    m->merged_into = fd_stmt_i64(st, 14);
    m->erased_at = fd_stmt_i64(st, 15);
    m->created_at = fd_stmt_i64(st, 16);
    m->updated_at = fd_stmt_i64(st, 17);
    fd_copy_text(m->tier, sizeof m->tier, fd_stmt_text(st, 18));
    m->tier_since = fd_stmt_i64(st, 19);
    m->tier_period_end = fd_stmt_i64(st, 20);
    m->tier_review_at = fd_stmt_i64(st, 21);
    m->wallet_id = fd_stmt_i64(st, 22);
}

/* Month and day of attributes.birthday ("1990-05-17" or "05-17") as MMDD, 0 if none. */
int64_t fd_member_birthday_md(const char *attributes)
{
    json_t *a = json_loads(attributes ? attributes : "{}", 0, NULL);
    const char *b = json_string_value(json_object_get(a, "birthday"));
    int y, m = 0, d = 0;
    char tail;
    if (b && sscanf(b, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 &&
        sscanf(b, "%2d-%2d%c", &m, &d, &tail) != 2)
        m = d = 0;
    json_decref(a);
    return m >= 1 && m <= 12 && d >= 1 && d <= 31 ? m * 100 + d : 0;
}

/* Month and day of an instant (UTC) as MMDD. */
static int64_t instant_md(int64_t t)
{
    char buf[32];
    fd_time_format(t, buf, sizeof buf);
    return atoi(buf + 5) * 100 + atoi(buf + 8);
}

/* The one member sql finds, read into *out by read (FD_ENOTFOUND: none). */
static int one_member_as(fd_db *db, const char *sql, const fd_param *p, size_t n,
                         void (*read)(fd_stmt *, fd_member *), fd_member *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, p, n, &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        read(st, out);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

static int one_member(fd_db *db, const char *sql, const fd_param *p, size_t n, fd_member *out)
{
    return one_member_as(db, sql, p, n, read_row, out);
}

int fd_member_get(fd_db *db, int64_t program_id, int64_t id, fd_member *out)
{
    return one_member(db, "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND id = $2",
                      FD_PARAMS(FD_I(program_id), FD_I(id)), out);
}

/* Locks member id's row where processes share the database (a no-op UPDATE). */
static int lock_row(fd_db *db, int64_t program_id, int64_t id)
{
    if (!fd_db_shared(db)) return FD_OK; /* one writer */
    int64_t n = 0;
    int rc = fd_db_run(
        db, "UPDATE members SET updated_at = updated_at WHERE program_id = $1 AND id = $2",
        FD_PARAMS(FD_I(program_id), FD_I(id)), &n);
    return !rc && n == 0 ? FD_ENOTFOUND : rc;
}

int fd_member_get_locked(fd_db *db, int64_t program_id, int64_t id, fd_member *out)
{
    int rc = lock_row(db, program_id, id);
    return rc ? rc : fd_member_get(db, program_id, id, out);
}

/* read_row's part for fd_member_get_balance: the id, program and balances. */
static void read_balances(fd_stmt *st, fd_member *m)
{
    memset(m, 0, sizeof *m);
    m->id = fd_stmt_i64(st, 0);
    m->program_id = fd_stmt_i64(st, 1);
    m->balance = fd_stmt_i64(st, 2);
    m->pending = fd_stmt_i64(st, 3);
}

int fd_member_get_balance(fd_db *db, int64_t program_id, int64_t id, fd_member *out)
{
    int rc = lock_row(db, program_id, id);
    return rc ? rc
              : one_member_as(db,
                              "SELECT id, program_id, balance, pending FROM members"
                              " WHERE program_id = $1 AND id = $2",
                              FD_PARAMS(FD_I(program_id), FD_I(id)), read_balances, out);
}

int fd_member_find(fd_db *db, int64_t program_id, fd_lookup by, const char *value, fd_member *out)
{
    static const char *const SQL[] = {
        "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND external_id = $2",
        "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND email_norm = $2",
        "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND phone = $2",
        "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND card_number = $2",
        "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND qr_token = $2",
    };
    return one_member(db, SQL[by], FD_PARAMS(FD_I(program_id), FD_S(value)), out);
}

static const char *opt(const char *s)
{
    return s && *s ? s : NULL;
}

int fd_member_insert(fd_db *db, fd_member *m, int64_t now)
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(m->qr_token, sizeof m->qr_token, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    m->created_at = m->updated_at = now;
    return fd_db_one_i64(
        db,
        "INSERT INTO members(program_id, external_id, email, email_norm, phone, card_number,"
        " qr_token, attributes, state, consent, consent_at, balance, pending, created_at,"
        " updated_at, birthday_md, enrolled_md)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, 0, $12, $12, $13, $14)"
        " RETURNING id",
        FD_PARAMS(FD_I(m->program_id), FD_S(opt(m->external_id)), FD_S(opt(m->email)),
                  FD_S(opt(m->email_norm)), FD_S(opt(m->phone)), FD_S(opt(m->card_number)),
                  FD_S(m->qr_token), FD_S(m->attributes ? m->attributes : "{}"),
                  FD_S(fd_member_state_name(m->state)), FD_S(fd_consent_name(m->consent)),
                  FD_I(m->consent_at), FD_I(now), FD_I(fd_member_birthday_md(m->attributes)),
                  FD_I(instant_md(now))),
        &m->id);
}

int fd_member_save(fd_db *db, const fd_member *m, int64_t now)
{
    return fd_db_run(
        db,
        "UPDATE members SET external_id = $3, email = $4, email_norm = $5, phone = $6,"
        " card_number = $7, qr_token = $8, attributes = $9, state = $10, consent = $11,"
        " consent_at = $12, merged_into = $13, erased_at = $14, updated_at = $15,"
        " birthday_md = $16 WHERE program_id = $1 AND id = $2",
        FD_PARAMS(FD_I(m->program_id), FD_I(m->id), FD_S(opt(m->external_id)), FD_S(opt(m->email)),
                  FD_S(opt(m->email_norm)), FD_S(opt(m->phone)), FD_S(opt(m->card_number)),
                  FD_S(opt(m->qr_token)), FD_S(m->attributes ? m->attributes : "{}"),
                  FD_S(fd_member_state_name(m->state)), FD_S(fd_consent_name(m->consent)),
                  FD_I(m->consent_at), m->merged_into ? FD_I(m->merged_into) : FD_NULL,
                  m->erased_at ? FD_I(m->erased_at) : FD_NULL, FD_I(now),
                  FD_I(fd_member_birthday_md(m->attributes))),
        NULL);
}

int fd_member_save_balance(fd_db *db, const fd_member *m)
{
    return fd_db_run(db, "UPDATE members SET balance = $2, pending = $3 WHERE id = $1",
                     FD_PARAMS(FD_I(m->id), FD_I(m->balance), FD_I(m->pending)), NULL);
}

int fd_member_list(fd_db *db, int64_t program_id, int64_t after, int limit,
                   void (*fn)(const fd_member *m, void *arg), void *arg)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1 AND id > $2"
                         " ORDER BY id LIMIT $3",
                         FD_PARAMS(FD_I(program_id), FD_I(after), FD_I(limit)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        fd_member m;
        read_row(st, &m);
        fn(&m, arg);
        fd_member_clear(&m);
    }
    fd_stmt_done(st);
    return rc;
}

int fd_member_set_consent_token(fd_db *db, int64_t member_id, const char *token_hash)
{
    return fd_db_run(db, "UPDATE members SET consent_token_hash = $2 WHERE id = $1",
                     FD_PARAMS(FD_I(member_id), FD_S(token_hash)), NULL);
}

int fd_member_find_by_consent_token(fd_db *db, int64_t program_id, const char *token_hash,
                                    fd_member *out)
{
    return one_member(db,
                      "SELECT " MEMBER_COLS " FROM members WHERE program_id = $1"
                      " AND consent_token_hash = $2",
                      FD_PARAMS(FD_I(program_id), FD_S(token_hash)), out);
}

int fd_member_set_tier(fd_db *db, const fd_member *m)
{
    return fd_db_run(db,
                     "UPDATE members SET tier = $2, tier_since = $3, tier_period_end = $4,"
                     " tier_review_at = $5 WHERE id = $1",
                     FD_PARAMS(FD_I(m->id), FD_S(m->tier[0] ? m->tier : NULL), FD_I(m->tier_since),
                               FD_I(m->tier_period_end),
                               m->tier_review_at ? FD_I(m->tier_review_at) : FD_NULL),
                     NULL);
}
