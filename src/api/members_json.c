/*
 * members_json.c - member serialisation (members_json.h).
 */
#include "api/members_json.h"

#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/fd.h"

/* A text field the API shows as null when empty. */
static void opt_str(fd_json_writer *w, const char *key, const char *s)
{
    fd_jw_string(w, key, s && *s ? s : NULL);
}

/* The stored attributes are the compact text of an object, as fd_json_text
 * wrote it (members.c, accounts.c): written as they are, not parsed. */
static const char *attributes_text(const fd_member *m)
{
    const char *a = m->attributes;
    size_t n = a ? strlen(a) : 0;
    return n >= 2 && a[0] == '{' && a[n - 1] == '}' ? a : "{}";
}

void fd_member_write(fd_json_writer *w, const char *key, const fd_member *m, const fd_program *p)
{
    fd_jw_open(w, key, '{');
    fd_jw_int(w, "id", m->id);
    opt_str(w, "external_id", m->external_id);
    opt_str(w, "email", m->email);
    opt_str(w, "phone", m->phone);
    opt_str(w, "card_number", m->card_number);
    opt_str(w, "qr_token", m->qr_token);
    fd_jw_raw(w, "attributes", attributes_text(m));
    fd_jw_string(w, "state", fd_member_state_name(m->state));
    fd_jw_open(w, "consent", '{');
    fd_jw_string(w, "marketing", fd_consent_name(m->consent));
    fd_jw_time(w, "at", m->consent_at);
    fd_jw_close(w, '}');
    fd_jw_int(w, "balance", m->balance);
    fd_jw_int(w, "pending", m->pending);
    if (m->merged_into)
        fd_jw_int(w, "merged_into", m->merged_into);
    else
        fd_jw_string(w, "merged_into", NULL);
    fd_jw_time(w, "erased_at", m->erased_at);
    fd_jw_time(w, "created_at", m->created_at);
    fd_jw_time(w, "updated_at", m->updated_at);
    if (m->tier[0]) {
        fd_jw_open(w, "tier", '{');
        fd_jw_string(w, "name", m->tier);
        fd_jw_time(w, "since", m->tier_since);
        fd_jw_time(w, "requalify_by", m->tier_review_at);
        fd_jw_close(w, '}');
    } else {
        fd_jw_string(w, "tier", NULL);
    }
    if (m->wallet_id)
        fd_jw_int(w, "wallet_id", m->wallet_id);
    else
        fd_jw_string(w, "wallet_id", NULL);
    int64_t liability;
    if (p && fd_program_liability(p, m->balance, &liability) == FD_OK)
        fd_jw_amount(w, "liability", liability, p->exponent);
    fd_jw_close(w, '}');
}

json_t *fd_member_json(const fd_member *m, const fd_program *p)
{
    fd_json_writer w;
    fd_jw_init_tree(&w);
    fd_member_write(&w, NULL, m, p);
    return fd_jw_finish_tree(&w);
}

char *fd_member_json_text(const fd_member *m)
{
    json_t *o = fd_member_json(m, NULL);
    char *s = json_canonical(o);
    json_decref(o);
    return s;
}
