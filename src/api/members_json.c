/*
 * members_json.c - member serialisation (members_json.h).
 */
#include "api/members_json.h"

#include <stdlib.h>

#include "api/api.h"
#include "base/fd.h"

static json_t *opt_str(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

json_t *fd_member_json(const fd_member *m, const fd_program *p)
{
    json_t *attrs = json_loads(m->attributes ? m->attributes : "{}", 0, NULL);
    json_t *o = json_pack(
        "{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:{s:s, s:o}, s:I, s:I, s:o, s:o, s:o, s:o}",
        "id", (json_int_t)m->id, "external_id", opt_str(m->external_id), "email", opt_str(m->email),
        "phone", opt_str(m->phone), "card_number", opt_str(m->card_number), "qr_token",
        opt_str(m->qr_token), "attributes", attrs ? attrs : json_object(), "state",
        fd_member_state_name(m->state), "consent", "marketing", fd_consent_name(m->consent), "at",
        fd_json_time(m->consent_at), "balance", (json_int_t)m->balance, "pending",
        (json_int_t)m->pending, "merged_into",
        m->merged_into ? json_integer(m->merged_into) : json_null(), "erased_at",
        fd_json_time(m->erased_at), "created_at", fd_json_time(m->created_at), "updated_at",
        fd_json_time(m->updated_at));
    json_object_set_new(o, "tier",
                        m->tier[0] ? json_pack("{s:s, s:o, s:o}", "name", m->tier, "since",
                                               fd_json_time(m->tier_since), "requalify_by",
                                               fd_json_time(m->tier_review_at))
                                   : json_null());
    json_object_set_new(o, "wallet_id", m->wallet_id ? json_integer(m->wallet_id) : json_null());
    if (p) {
        int64_t liability;
        if (fd_program_liability(p, m->balance, &liability) == FD_OK)
            json_object_set_new(o, "liability", fd_json_amount(liability, p->exponent));
    }
    return o;
}

char *fd_member_json_text(const fd_member *m)
{
    json_t *o = fd_member_json(m, NULL);
    char *s = json_canonical(o);
    json_decref(o);
    return s;
}
