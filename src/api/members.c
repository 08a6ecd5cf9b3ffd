/*
 * members.c - member routes: upsert, read, lookup, list, update, consent
 * (double opt-in), erase, merge, member-scoped keys.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/members_json.h"
#include "base/fd.h"
#include "core/identity.h"
#include "core/member.h"
#include "store/audit.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/referrals.h"
#include "store/outbox.h"

/* Fields of a create/update request. A NULL pointer means "not sent"; the
 * clear_ flags mean "sent as null": remove the identifier. */
typedef struct member_input {
    const char *external_id, *email, *phone, *card_number;
    const char *referral_code; /* enrolment with a referral code */
    bool clear_email, clear_phone, clear_card;
    char email_norm[FD_EMAIL_MAX + 1], phone_norm[FD_PHONE_MAX + 1];
    json_t *attributes; /* borrowed from the body */
    bool has_state;
    fd_member_state state;
} member_input;

static bool sent_null(fd_req *r, const char *key)
{
    json_t *v = json_object_get(r->body, key);
    return v && json_is_null(v);
}

static int input_or_reply(fd_req *r, bool require_external, member_input *in)
{
    memset(in, 0, sizeof *in);
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the member as a JSON object", NULL);
        return FD_EINVAL;
    }
    const char *state;
    if (body_ident_or_reply(r, "external_id", require_external, &in->external_id) ||
        body_str_or_reply(r, "email", false, &in->email) ||
        body_str_or_reply(r, "referral_code", false, &in->referral_code) ||
        body_str_or_reply(r, "phone", false, &in->phone) ||
        body_ident_or_reply(r, "card_number", false, &in->card_number) ||
        body_str_or_reply(r, "state", false, &state))
        return FD_EINVAL;
    in->clear_email = sent_null(r, "email");
    in->clear_phone = sent_null(r, "phone");
    in->clear_card = sent_null(r, "card_number");
    if (in->email && fd_email_normalize(in->email, in->email_norm)) {
        fd_reply_error(r, 422, "invalid_field", "email is not a valid address", "email");
        return FD_EINVAL;
    }
    if (in->phone && fd_phone_normalize(in->phone, in->phone_norm)) {
        fd_reply_error(r, 422, "invalid_field", "phone must hold 5 to 20 digits", "phone");
        return FD_EINVAL;
    }
    if (in->card_number && strlen(in->card_number) > FD_CARD_MAX) {
        fd_reply_error(r, 422, "invalid_field", "card_number is longer than 64 bytes",
                       "card_number");
        return FD_EINVAL;
    }
    if (state) {
        if (fd_member_state_parse(state, &in->state) || in->state == FD_STATE_CLOSED) {
            fd_reply_error(r, 422, "invalid_field",
                           "state must be pending, active or suspended "
                           "(closing is done by erase or merge)",
                           "state");
            return FD_EINVAL;
        }
        in->has_state = true;
    }
    json_t *attrs = json_object_get(r->body, "attributes");
    if (attrs && !json_is_null(attrs)) {
        if (!json_is_object(attrs)) {
            fd_reply_error(r, 422, "invalid_field", "attributes must be a JSON object",
                           "attributes");
            return FD_EINVAL;
        }
        char *text = fd_json_text(attrs, false);
        size_t n = strlen(text);
        free(text);
        if (n > FD_ATTRS_MAX) {
            fd_reply_error(r, 413, "attributes_too_large", "attributes exceed 16 KiB",
                           "attributes");
            return FD_ETOOBIG;
        }
        in->attributes = attrs;
    }
    return FD_OK;
}

typedef struct member_job {
    const fd_program *p;
    int64_t program_id;
    int64_t id; /* 0: upsert by external id */
    const member_input *in;
    const char *actor;
    fd_member m; /* result */
    bool created;
    json_t *referral; /* the referral's outcome, when a code came with the enrolment */
    fd_job_error err;
} member_job;

/* FD_ECONFLICT with the field when another member holds this identifier. */
static int check_unique(fd_db *db, member_job *j, fd_lookup by, const char *value,
                        const char *field)
{
    if (!value || !*value) return FD_OK;
    fd_member other = {0};
    int rc = fd_member_find(db, j->program_id, by, value, &other);
    int64_t other_id = other.id;
    fd_member_clear(&other);
    if (rc == FD_ENOTFOUND || (rc == FD_OK && other_id == j->m.id)) return FD_OK;
    if (rc) return rc;
    return job_fail(&j->err, FD_ECONFLICT, "identifier_taken", field,
                    "another member (%lld) already has this %s", (long long)other_id, field);
}

static void merge_attributes(fd_member *m, json_t *patch)
{
    json_t *cur = json_loads(m->attributes ? m->attributes : "{}", 0, NULL);
    if (!json_is_object(cur)) {
        json_decref(cur);
        cur = json_object();
    }
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v)
    {
        if (json_is_null(v))
            json_object_del(cur, k);
        else
            json_object_set(cur, k, v);
    }
    free(m->attributes);
    m->attributes = fd_json_text(cur, false);
    json_decref(cur);
}

static void apply_input(fd_member *m, const member_input *in)
{
    if (in->external_id) snprintf(m->external_id, sizeof m->external_id, "%s", in->external_id);
    if (in->email) {
        snprintf(m->email, sizeof m->email, "%s", in->email);
        snprintf(m->email_norm, sizeof m->email_norm, "%s", in->email_norm);
    } else if (in->clear_email) {
        m->email[0] = m->email_norm[0] = 0;
    }
    if (in->phone)
        snprintf(m->phone, sizeof m->phone, "%s", in->phone_norm);
    else if (in->clear_phone)
        m->phone[0] = 0;
    if (in->card_number)
        snprintf(m->card_number, sizeof m->card_number, "%s", in->card_number);
    else if (in->clear_card)
        m->card_number[0] = 0;
    if (in->has_state) m->state = in->state;
    if (in->attributes) merge_attributes(m, in->attributes);
}

static int member_write_job(fd_db *db, void *arg)
{
    member_job *j = arg;
    const member_input *in = j->in;
    int64_t now = fd_now();
    fd_member_clear(&j->m); /* from an earlier run of the job (a retry) */
    int rc = j->id
                 ? fd_member_get_locked(db, j->program_id, j->id, &j->m)
                 : fd_member_find(db, j->program_id, FD_LOOKUP_EXTERNAL_ID, in->external_id, &j->m);
    if (!rc && !j->id) { /* lock the row found by its external id */
        int64_t id = j->m.id;
        fd_member_clear(&j->m);
        rc = fd_member_get_locked(db, j->program_id, id, &j->m);
    }
    if (rc == FD_ENOTFOUND && j->id)
        return job_fail(&j->err, rc, "member_not_found", NULL, "no such member");
    if (rc && rc != FD_ENOTFOUND) return rc;
    j->created = rc == FD_ENOTFOUND;
    char *before = j->created ? NULL : fd_member_json_text(&j->m);
    if (j->created) {
        memset(&j->m, 0, sizeof j->m);
        j->m.program_id = j->program_id;
        j->m.state = FD_STATE_ACTIVE;
        j->m.attributes = fd_strdup("{}");
    } else if (j->m.state == FD_STATE_CLOSED) {
        free(before);
        return job_fail(&j->err, FD_ECONFLICT, "member_closed", NULL,
                        "the member is closed (erased or merged)");
    }
    apply_input(&j->m, in);
    if (!(rc = check_unique(db, j, FD_LOOKUP_EXTERNAL_ID, j->m.external_id, "external_id")) &&
        !(rc = check_unique(db, j, FD_LOOKUP_EMAIL, j->m.email_norm, "email")) &&
        !(rc = check_unique(db, j, FD_LOOKUP_PHONE, j->m.phone, "phone")) &&
        !(rc = check_unique(db, j, FD_LOOKUP_CARD, j->m.card_number, "card_number"))) {
        rc = j->created ? fd_member_insert(db, &j->m, now) : fd_member_save(db, &j->m, now);
        /* another process enrolled the same member meanwhile: run again as an update */
        if (rc == FD_ECONFLICT && j->created) rc = FD_EBUSY;
    }
    json_decref(j->referral);
    j->referral = NULL;
    if (!rc && j->created && in->referral_code)
        rc = fd_referral_link(db, j->p, &j->m, in->referral_code, now, &j->referral);
    if (!rc) {
        char *after = fd_member_json_text(&j->m), id[24];
        snprintf(id, sizeof id, "%lld", (long long)j->m.id);
        rc = fd_audit_add(db, j->program_id, j->actor,
                          j->created ? "member.create" : "member.update", "member", id, before,
                          after, now);
        free(after);
        json_t *data = fd_member_json(&j->m, NULL);
        if (!rc)
            rc =
                fd_outbox_emit(db, j->program_id, j->created ? "member.enrolled" : "member.updated",
                               j->m.id, data, now);
        json_decref(data);
    }
    free(before);
    return rc;
}

static void write_member(fd_req *r, int64_t id, bool require_external)
{
    member_input in;
    if (input_or_reply(r, require_external, &in)) return;
    member_job j = {
        .p = &r->program, .program_id = r->program.id, .id = id, .in = &in, .actor = r->who.actor};
    if (!write_or_reply(r, member_write_job, &j, &j.err)) {
        json_t *o = fd_member_json(&j.m, &r->program);
        if (j.referral) json_object_set(o, "referral", j.referral);
        fd_reply(r, j.created ? 201 : 200, o);
    }
    json_decref(j.referral);
    fd_member_clear(&j.m);
}

void h_members_upsert(fd_req *r)
{
    write_member(r, 0, true);
}

void h_member_patch(fd_req *r)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return;
    write_member(r, id, false);
}

/* Loads the member of path parameter 0; replies 404 when absent. */
static int member_or_reply(fd_req *r, fd_member *m)
{
    int64_t id;
    if (param_id_or_reply(r, 0, &id)) return FD_ENOTFOUND;
    int rc = fd_member_get(r->db, r->program.id, id, m);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "member_not_found", "no such member", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    return rc;
}

/* Replies 200 with member m, written as text without a tree (every balance
 * read is one). */
static void reply_member(fd_req *r, const fd_member *m)
{
    fd_json_writer w;
    fd_jw_init(&w);
    fd_member_write(&w, NULL, m, &r->program);
    fd_reply_written(r, 200, &w);
}

void h_member_get(fd_req *r)
{
    fd_member m = {0};
    if (member_or_reply(r, &m)) return;
    reply_member(r, &m);
    fd_member_clear(&m);
}

void h_members_lookup(fd_req *r)
{
    static const struct {
        const char *key;
        fd_lookup by;
    } KEYS[] = {{"external_id", FD_LOOKUP_EXTERNAL_ID},
                {"email", FD_LOOKUP_EMAIL},
                {"phone", FD_LOOKUP_PHONE},
                {"card_number", FD_LOOKUP_CARD},
                {"qr_token", FD_LOOKUP_QR}};
    const char *value = NULL;
    fd_lookup by = FD_LOOKUP_EXTERNAL_ID;
    int given = 0;
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        const char *v = fd_query(r, KEYS[i].key);
        if (v) {
            value = v;
            by = KEYS[i].by;
            given++;
        }
    }
    if (given != 1 || !*value || strlen(value) > FD_TEXT_MAX) {
        fd_reply_error(r, 422, "invalid_query",
                       "give exactly one of external_id, email, phone, card_number, qr_token",
                       NULL);
        return;
    }
    char norm[FD_EMAIL_MAX + 1];
    if (by == FD_LOOKUP_EMAIL || by == FD_LOOKUP_PHONE) {
        int rc = by == FD_LOOKUP_EMAIL ? fd_email_normalize(value, norm)
                                       : fd_phone_normalize(value, norm);
        if (rc) {
            fd_reply_error(r, 422, "invalid_query", "not a valid email or phone", NULL);
            return;
        }
        value = norm;
    }
    fd_member m = {0};
    int rc = fd_member_find(r->db, r->program.id, by, value, &m);
    if (rc == FD_ENOTFOUND)
        fd_reply_error(r, 404, "member_not_found", "no member matches", NULL);
    else if (rc)
        fd_reply_status(r, rc, NULL);
    else
        reply_member(r, &m);
    fd_member_clear(&m);
}

typedef struct {
    json_t *data;
    const fd_program *p;
    int64_t last;
} list_acc;

static void add_member(const fd_member *m, void *arg)
{
    list_acc *a = arg;
    json_array_append_new(a->data, fd_member_json(m, a->p));
    a->last = m->id;
}

void h_members_list(fd_req *r)
{
    int limit;
    int64_t after;
    if (page_or_reply(r, &limit, &after)) return;
    list_acc acc = {json_array(), &r->program, 0};
    int rc = fd_member_list(r->db, r->program.id, after, limit, add_member, &acc);
    if (rc) {
        json_decref(acc.data);
        fd_reply_status(r, rc, NULL);
        return;
    }
    int full = (int)json_array_size(acc.data) == limit;
    fd_reply(r, 200, fd_page_json(acc.data, full ? acc.last : 0));
}

/* Consent, erase, merge: one job shape that loads the member and applies op. */
typedef struct consent_job {
    int64_t program_id, id, other_id;
    const char *actor;
    int op; /* 'i' opt in, 'o' opt out, 'c' confirm, 'e' erase, 'm' merge */
    char token_hash[65];
    fd_member m;
    fd_job_error err;
} consent_job;

/* Audit entry plus the member.updated message. */
static int audit_member(fd_db *db, const fd_member *m, const char *actor, const char *action,
                        const char *before, int64_t now)
{
    char id[24], *after = fd_member_json_text(m);
    snprintf(id, sizeof id, "%lld", (long long)m->id);
    int rc = fd_audit_add(db, m->program_id, actor, action, "member", id, before, after, now);
    free(after);
    json_t *data = fd_member_json(m, NULL);
    json_object_set_new(data, "change", json_string(action));
    if (!rc) rc = fd_outbox_emit(db, m->program_id, "member.updated", m->id, data, now);
    json_decref(data);
    return rc;
}

static int erase(fd_member *m, int64_t now)
{
    m->external_id[0] = m->email[0] = m->email_norm[0] = m->phone[0] = 0;
    m->card_number[0] = m->qr_token[0] = 0;
    free(m->attributes);
    m->attributes = fd_strdup("{}");
    m->state = FD_STATE_CLOSED;
    m->consent = FD_CONSENT_OPTED_OUT;
    m->consent_at = now;
    m->erased_at = now;
    return FD_OK;
}

static int merge(fd_db *db, consent_job *j, int64_t now)
{
    fd_member from = {0};
    if (j->other_id == j->id)
        return job_fail(&j->err, FD_EINVAL, "invalid_field", "from_member_id",
                        "a member cannot be merged into itself");
    int rc = fd_member_get_locked(db, j->program_id, j->other_id, &from);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", "from_member_id", "no such member");
    if (!rc && from.state == FD_STATE_CLOSED)
        rc = job_fail(&j->err, FD_ECONFLICT, "member_closed", "from_member_id",
                      "that member is already closed (erased or merged)");
    fd_posting post = {"merge_out", "member merge", NULL, NULL, j->actor, now};
    if (!rc) rc = fd_ledger_merge(db, &j->m, &from, &post);
    if (!rc) {
        from.state = FD_STATE_CLOSED;
        from.merged_into = j->m.id;
        rc = fd_member_save(db, &from, now);
    }
    if (!rc) rc = audit_member(db, &from, j->actor, "member.merged_into", NULL, now);
    fd_member_clear(&from);
    return rc;
}

static int consent_job_run(fd_db *db, void *arg)
{
    consent_job *j = arg;
    int64_t now = fd_now();
    fd_member_clear(&j->m); /* from an earlier run of the job (a retry) */
    int rc = j->op == 'c' ? fd_member_find_by_consent_token(db, j->program_id, j->token_hash, &j->m)
                          : fd_member_get_locked(db, j->program_id, j->id, &j->m);
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, j->op == 'c' ? "invalid_token" : "member_not_found", NULL,
                        j->op == 'c' ? "unknown or already used confirmation token"
                                     : "no such member");
    if (rc) return rc;
    if (j->m.state == FD_STATE_CLOSED && j->op != 'e')
        return job_fail(&j->err, FD_ECONFLICT, "member_closed", NULL,
                        "the member is closed (erased or merged)");
    if (j->m.erased_at) return FD_OK; /* erase twice: nothing more to do */
    char *before = j->op == 'e' ? NULL : fd_member_json_text(&j->m);
    const char *action = "member.consent";
    switch (j->op) {
    case 'i':
        if (j->m.consent == FD_CONSENT_OPTED_IN) break;
        j->m.consent = FD_CONSENT_PENDING;
        rc = fd_member_set_consent_token(db, j->m.id, j->token_hash);
        break;
    case 'o':
        j->m.consent = FD_CONSENT_OPTED_OUT;
        j->m.consent_at = now;
        rc = fd_member_set_consent_token(db, j->m.id, NULL);
        break;
    case 'c':
        j->m.consent = FD_CONSENT_OPTED_IN;
        j->m.consent_at = now;
        rc = fd_member_set_consent_token(db, j->m.id, NULL);
        break;
    case 'e':
        action = "member.erase";
        rc = erase(&j->m, now);
        if (!rc) rc = fd_member_set_consent_token(db, j->m.id, NULL);
        break;
    case 'm':
        action = "member.merge";
        rc = merge(db, j, now);
        break;
    }
    if (!rc) rc = fd_member_save(db, &j->m, now);
    if (!rc) rc = audit_member(db, &j->m, j->actor, action, before, now);
    free(before);
    return rc;
}

static void run_consent_job(fd_req *r, consent_job *j, json_t *extra)
{
    j->program_id = r->program.id;
    j->actor = r->who.actor;
    if (!write_or_reply(r, consent_job_run, j, &j->err)) {
        json_t *o = fd_member_json(&j->m, &r->program);
        if (extra) json_object_update(o, extra);
        fd_reply(r, 200, o);
    }
    json_decref(extra);
    fd_member_clear(&j->m);
}

void h_member_consent(fd_req *r)
{
    consent_job j = {0};
    const char *marketing;
    if (param_id_or_reply(r, 0, &j.id) || body_str_or_reply(r, "marketing", true, &marketing))
        return;
    json_t *extra = NULL;
    if (!strcmp(marketing, "opt_in")) {
        unsigned char raw[24];
        char token[40];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(token, sizeof token, raw, sizeof raw,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        token_hash_hex(token, j.token_hash);
        j.op = 'i';
        extra = json_pack("{s:s}", "confirmation_token", token);
    } else if (!strcmp(marketing, "opt_out")) {
        j.op = 'o';
    } else {
        fd_reply_error(r, 422, "invalid_field", "marketing must be opt_in or opt_out", "marketing");
        return;
    }
    run_consent_job(r, &j, extra);
}

void h_consent_confirm(fd_req *r)
{
    consent_job j = {.op = 'c'};
    const char *token;
    if (body_str_or_reply(r, "token", true, &token)) return;
    token_hash_hex(token, j.token_hash);
    run_consent_job(r, &j, NULL);
}

void h_member_erase(fd_req *r)
{
    consent_job j = {.op = 'e'};
    if (param_id_or_reply(r, 0, &j.id)) return;
    run_consent_job(r, &j, NULL);
}

void h_member_merge(fd_req *r)
{
    consent_job j = {.op = 'm'};
    if (param_id_or_reply(r, 0, &j.id) ||
        body_int_or_reply(r, "from_member_id", true, 1, INT64_MAX, &j.other_id, NULL))
        return;
    run_consent_job(r, &j, NULL);
}

void h_member_token(fd_req *r)
{
    fd_member m = {0};
    const char *label = NULL;
    if (r->body && body_str_or_reply(r, "label", false, &label)) return;
    if (member_or_reply(r, &m)) return;
    bool closed = m.state == FD_STATE_CLOSED;
    int64_t id = m.id;
    fd_member_clear(&m);
    if (closed) {
        fd_reply_error(r, 409, "member_closed", "the member is closed (erased or merged)", NULL);
        return;
    }
    reply_new_key(r, FD_ROLE_MEMBER, id, label ? label : "member page");
}
