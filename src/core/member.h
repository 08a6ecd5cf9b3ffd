/*
 * member.h - a member of a program: identifiers, state, consent, balances.
 */
#ifndef FD_MEMBER_H
#define FD_MEMBER_H

#include <stdint.h>

#include "base/fd.h"
#include "core/identity.h"

typedef enum {
    FD_STATE_PENDING = 0, /* enrolled, not yet confirmed: earns, cannot redeem */
    FD_STATE_ACTIVE = 1,
    FD_STATE_SUSPENDED = 2, /* neither earns nor spends until reactivated */
    FD_STATE_CLOSED = 3,    /* final: after erase or merge */
} fd_member_state;

typedef enum {
    FD_CONSENT_NONE = 0,
    FD_CONSENT_PENDING = 1, /* opt-in requested, confirmation token issued */
    FD_CONSENT_OPTED_IN = 2,
    FD_CONSENT_OPTED_OUT = 3,
} fd_consent;

#define FD_CARD_MAX 64
#define FD_PHONE_MAX 21

typedef struct fd_member {
    int64_t id;
    int64_t program_id;
    char external_id[FD_TEXT_MAX + 1]; /* "" when absent (erased) */
    char email[FD_EMAIL_MAX + 1];
    char email_norm[FD_EMAIL_MAX + 1];
    char phone[FD_PHONE_MAX + 1];
    char card_number[FD_CARD_MAX + 1];
    char qr_token[40];
    char *attributes; /* JSON object text, owned: fd_member_clear frees it */
    fd_member_state state;
    fd_consent consent;
    int64_t consent_at;
    int64_t balance;
    int64_t pending;
    char tier[64];           /* "" when none */
    int64_t tier_since;      /* when the current tier was reached */
    int64_t tier_period_end; /* end of the qualification period it was reached or kept in */
    int64_t tier_review_at;  /* when it must be requalified (period end + retention) */
    int64_t merged_into;     /* 0 unless merged */
    int64_t wallet_id;       /* 0, or the member holding this one's points (a company account) */
    int64_t erased_at;       /* 0 unless erased */
    int64_t created_at;
    int64_t updated_at;
} fd_member;

void fd_member_clear(fd_member *m);

const char *fd_member_state_name(fd_member_state s);
int fd_member_state_parse(const char *s, fd_member_state *out);
const char *fd_consent_name(fd_consent c);
int fd_consent_parse(const char *s, fd_consent *out);

/* Earning is allowed in states pending and active; spending only in active. */
static inline int fd_member_can_earn(const fd_member *m)
{
    return m->state == FD_STATE_PENDING || m->state == FD_STATE_ACTIVE;
}

#endif
