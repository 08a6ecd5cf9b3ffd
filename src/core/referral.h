/*
 * referral.h - the referral programme's rules: what a successful referral
 * earns both sides, what counts as the referee's qualifying order, and how
 * abuse is recognised (docs/engagement.md). Pure decisions; the store
 * links members and books the points.
 *
 * JSON: {"enabled", "referrer_points", "referee_points", "min_order": "30.00",
 *        "within_days": 30, "max_per_referrer": 10, "period": "year",
 *        "fingerprints": ["payment_fingerprint", "device_id"],
 *        "link_template": "https://shop.example/join?ref={code}"}
 */
#ifndef FD_REFERRAL_H
#define FD_REFERRAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/member.h"
#include "core/names.h"
#include "core/rules.h"

#define FD_REFERRAL_CHAIN_MAX 64 /* referrers walked up when looking for a ring */

typedef struct fd_referral_policy {
    bool enabled;
    int64_t referrer_points, referee_points;
    int64_t min_order;        /* minor units; 0: any order qualifies */
    int64_t within_days;      /* days from the referral to the qualifying order; 0: no limit */
    int64_t max_per_referrer; /* referrals (pending or completed) per period; 0: no limit */
    fd_period period;
    fd_name_list fingerprints; /* attributes two different people never share */
    char link_template[256];   /* "{code}" is replaced; "" : no link */
} fd_referral_policy;

/* The policy of a program without one: switched off. */
void fd_referral_policy_default(fd_referral_policy *p);
int fd_referral_policy_parse(const json_t *def, int exponent, fd_referral_policy *out,
                             char field[128], char msg[160]);
void fd_referral_policy_clear(fd_referral_policy *p);

/* Why a and b look like one person: "same_email", "same_phone",
 * "same_card" or "same_<attribute>" (into buf), or NULL when they do not. */
const char *fd_referral_same_person(const fd_member *a, const fd_member *b,
                                    const fd_name_list *fingerprints, char buf[96]);

/* Whether an order of `total` placed `days` after the referral qualifies. */
bool fd_referral_qualifies(const fd_referral_policy *p, int64_t total, int64_t days);

/* The share link for code into out ("" without a template). */
void fd_referral_share_link(const fd_referral_policy *p, const char *code, char out[320]);

#endif
