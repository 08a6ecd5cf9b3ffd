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

/* The member's fields are set one by one rather than through one json_pack:
 * every balance read builds this object, and parsing json_pack's format cost
 * about 7 % of the read. */
json_t *fd_member_json(const fd_member *m, const fd_program *p)
{
    json_t *attrs = json_loads(m->attributes ? m->attributes : "{}", 0, NULL);
    json_t *consent = json_object();
    json_object_set_new(consent, "marketing", json_string(fd_consent_name(m->consent)));
    json_object_set_new(consent, "at", fd_json_time(m->consent_at));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "external_id", opt_str(m->external_id));
    json_object_set_new(o, "email", opt_str(m->email));
    json_object_set_new(o, "phone", opt_str(m->phone));
    json_object_set_new(o, "card_number", opt_str(m->card_number));
    json_object_set_new(o, "qr_token", opt_str(m->qr_token));
    json_object_set_new(o, "attributes", attrs ? attrs : json_object());
    json_object_set_new(o, "state", json_string(fd_member_state_name(m->state)));
    json_object_set_new(o, "consent", consent);
    json_object_set_new(o, "balance", json_integer(m->balance));
    json_object_set_new(o, "pending", json_integer(m->pending));
    json_object_set_new(o, "merged_into",
                        m->merged_into ? json_integer(m->merged_into) : json_null());
    json_object_set_new(o, "erased_at", fd_json_time(m->erased_at));
    json_object_set_new(o, "created_at", fd_json_time(m->created_at));
    json_object_set_new(o, "updated_at", fd_json_time(m->updated_at));
    json_t *tier = json_null();
    if (m->tier[0]) {
        tier = json_object();
        json_object_set_new(tier, "name", json_string(m->tier));
        json_object_set_new(tier, "since", fd_json_time(m->tier_since));
        json_object_set_new(tier, "requalify_by", fd_json_time(m->tier_review_at));
    }
    json_object_set_new(o, "tier", tier);
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
