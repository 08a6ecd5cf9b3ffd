/*
 * referral.c - referral rules (referral.h).
 */
#include "core/referral.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/money.h"
#include "core/perr.h"

void fd_referral_policy_default(fd_referral_policy *p)
{
    memset(p, 0, sizeof *p);
    p->period = FD_PERIOD_YEAR;
}

static int count_or_bad(const json_t *v, int64_t max, int64_t *out)
{
    if (!v) return FD_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return FD_EINVAL;
    *out = json_integer_value(v);
    return FD_OK;
}

int fd_referral_policy_parse(const json_t *def, int exponent, fd_referral_policy *p,
                             char field[128], char msg[160])
{
    fd_referral_policy_default(p);
    fd_perr e = {field, msg};
    if (!json_is_object(def)) return fd_perr_set(&e, "", "the referral policy is a JSON object");
    const json_t *en = json_object_get(def, "enabled"), *min = json_object_get(def, "min_order");
    const json_t *per = json_object_get(def, "period"),
                 *link = json_object_get(def, "link_template");
    if (en && !json_is_boolean(en)) return fd_perr_set(&e, "enabled", "enabled is true or false");
    p->enabled = !en || json_is_true(en);
    if (count_or_bad(json_object_get(def, "referrer_points"), FD_POINTS_MAX, &p->referrer_points))
        return fd_perr_set(&e, "referrer_points", "referrer_points is an integer from 0");
    if (count_or_bad(json_object_get(def, "referee_points"), FD_POINTS_MAX, &p->referee_points))
        return fd_perr_set(&e, "referee_points", "referee_points is an integer from 0");
    if (min && (fd_amount_from_json(min, exponent, &p->min_order) || p->min_order < 0))
        return fd_perr_set(&e, "min_order", "min_order is an amount (\"30.00\")");
    if (count_or_bad(json_object_get(def, "within_days"), 3650, &p->within_days))
        return fd_perr_set(&e, "within_days", "within_days is from 0 (no limit) to 3650");
    if (count_or_bad(json_object_get(def, "max_per_referrer"), 1000000, &p->max_per_referrer))
        return fd_perr_set(&e, "max_per_referrer", "max_per_referrer is an integer from 0");
    static const char *const PERIODS[] = {"day", "week", "month", "year", "lifetime"};
    int k = -1;
    for (int i = 0; per && i < 5; i++)
        if (json_is_string(per) && !strcmp(json_string_value(per), PERIODS[i])) k = i;
    if (per && k < 0)
        return fd_perr_set(&e, "period", "period is day, week, month, year or lifetime");
    if (k >= 0) p->period = (fd_period)k;
    if (fd_names_parse(json_object_get(def, "fingerprints"), &p->fingerprints)) {
        fd_referral_policy_clear(p);
        return fd_perr_set(&e, "fingerprints", "fingerprints lists attribute names");
    }
    if (link && (!json_is_string(link) || json_string_length(link) >= sizeof p->link_template ||
                 strncmp(json_string_value(link), "https://", 8))) {
        fd_referral_policy_clear(p);
        return fd_perr_set(&e, "link_template", "link_template is an https:// URL with {code}");
    }
    snprintf(p->link_template, sizeof p->link_template, "%s", link ? json_string_value(link) : "");
    return FD_OK;
}

void fd_referral_policy_clear(fd_referral_policy *p)
{
    fd_names_clear(&p->fingerprints);
}

const char *fd_referral_same_person(const fd_member *a, const fd_member *b,
                                    const fd_name_list *fingerprints, char buf[96])
{
    if (a->email_norm[0] && !strcmp(a->email_norm, b->email_norm)) return "same_email";
    if (a->phone[0] && !strcmp(a->phone, b->phone)) return "same_phone";
    if (a->card_number[0] && !strcmp(a->card_number, b->card_number)) return "same_card";
    json_t *x = json_loads(a->attributes ? a->attributes : "{}", 0, NULL);
    json_t *y = json_loads(b->attributes ? b->attributes : "{}", 0, NULL);
    const char *why = NULL;
    for (size_t i = 0; i < fingerprints->n && !why; i++) {
        const json_t *u = json_object_get(x, fingerprints->items[i]);
        const json_t *v = json_object_get(y, fingerprints->items[i]);
        if (u && v && !json_is_null(u) && json_equal(u, v)) {
            snprintf(buf, 96, "same_%.80s", fingerprints->items[i]);
            why = buf;
        }
    }
    json_decref(x);
    json_decref(y);
    return why;
}

bool fd_referral_qualifies(const fd_referral_policy *p, int64_t total, int64_t days)
{
    return total >= p->min_order && (!p->within_days || days <= p->within_days);
}

void fd_referral_share_link(const fd_referral_policy *p, const char *code, char out[320])
{
    const char *at = strstr(p->link_template, "{code}");
    if (!p->link_template[0])
        out[0] = 0;
    else if (!at)
        snprintf(out, 320, "%s", p->link_template);
    else
        snprintf(out, 320, "%.*s%s%s", (int)(at - p->link_template), p->link_template, code,
                 at + 6);
}
