/*
 * pages.c - what the web pages need from the server: who a key is
 * (/v1/session), the program's branding, and the campaign landing page,
 * rendered here, with its sign-up form (double opt-in through the webhook
 * channel). The member page and the dashboard themselves are static files
 * (web/) that call the JSON API.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/members_json.h"
#include "base/fd.h"
#include "core/identity.h"
#include "core/role.h"
#include "core/template.h"
#include "store/audit.h"
#include "store/config.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/programs.h"

#define BRANDING_TEXT_MAX 500

/* ---------- branding ---------- */

static int load_branding(fd_db *db, int64_t program_id, json_t **out)
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT branding FROM programs WHERE id = $1",
                         FD_PARAMS(FD_I(program_id)), &st);
    if (rc) return rc;
    json_t *b = NULL;
    if (fd_stmt_next(st) == 1 && fd_stmt_text(st, 0)) b = json_loads(fd_stmt_text(st, 0), 0, NULL);
    fd_stmt_done(st);
    *out = json_is_object(b) ? b : (json_decref(b), json_object());
    return FD_OK;
}

static bool colour_ok(const char *s)
{
    if (strlen(s) != 7 || s[0] != '#') return false;
    for (int i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i])) return false;
    return true;
}

/* A logo is an https URL or a path on this server. */
static bool url_ok(const char *s)
{
    if (strncmp(s, "https://", 8) && s[0] != '/') return false;
    for (const char *c = s; *c; c++)
        if (*c <= ' ' || strchr("\"'<>\\`", *c)) return false;
    return true;
}

/* Validates a branding body member by member; 422 names the bad one. */
static int branding_or_reply(fd_req *r)
{
    static const struct {
        const char *name;
        char kind; /* 'c' colour, 'u' url, 't' text, 'l' language */
    } FIELDS[] = {{"logo_url", 'u'},   {"primary_color", 'c'}, {"accent_color", 'c'},
                  {"point_name", 't'}, {"language", 'l'},      {"program_title", 't'}};
    if (!r->body) {
        fd_reply_error(r, 400, "body_required", "send the branding as a JSON object", NULL);
        return FD_EINVAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(r->body, key, v)
    {
        int k = -1;
        for (int i = 0; i < (int)(sizeof FIELDS / sizeof *FIELDS); i++)
            if (!strcmp(key, FIELDS[i].name)) k = i;
        const char *s = json_string_value(v);
        bool ok = k >= 0 && s && *s && strlen(s) <= BRANDING_TEXT_MAX;
        if (ok && FIELDS[k].kind == 'c') ok = colour_ok(s);
        if (ok && FIELDS[k].kind == 'u') ok = url_ok(s);
        if (ok && FIELDS[k].kind == 'l') ok = strlen(s) == 2 && s[0] >= 'a' && s[1] >= 'a';
        if (!ok) {
            fd_reply_error(r, 422, "invalid_branding",
                           k < 0 ? "known fields: logo_url, primary_color, accent_color, "
                                   "point_name, language, program_title"
                                 : "colours are #RRGGBB, logo_url https://... or /path, language "
                                   "two letters, texts at most 500 bytes",
                           key);
            return FD_EINVAL;
        }
    }
    return FD_OK;
}

typedef struct branding_job {
    int64_t program_id;
    const char *actor;
    char *text;
} branding_job;

static int branding_run(fd_db *db, void *arg)
{
    branding_job *j = arg;
    int rc = fd_db_run(db, "UPDATE programs SET branding = $2 WHERE id = $1",
                       FD_PARAMS(FD_I(j->program_id), FD_S(j->text)), NULL);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, j->actor, "program.branding", "program", NULL, NULL,
                          j->text, fd_now());
    return rc;
}

static void reply_branding(fd_req *r)
{
    json_t *b;
    int rc = load_branding(r->db, r->program.id, &b);
    if (rc)
        fd_reply_status(r, rc, NULL);
    else
        fd_reply(r, 200, b);
}

void h_branding_get(fd_req *r)
{
    reply_branding(r);
}

/* PUT /v1/program/branding: the look of the member page and landing pages. */
void h_branding_put(fd_req *r)
{
    if (branding_or_reply(r)) return;
    branding_job j = {r->program.id, r->who.actor, json_canonical(r->body)};
    if (!write_or_reply(r, branding_run, &j, NULL)) reply_branding(r);
    free(j.text);
}

/* GET /v1/session: the calling key's role, member and program, with the
 * branding: what a page needs to show itself. */
void h_session(fd_req *r)
{
    json_t *b;
    int rc = load_branding(r->db, r->program.id, &b);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *o =
        json_pack("{s:s, s:{s:I, s:s, s:s, s:s, s:o}, s:o}", "role", fd_role_name(r->who.role),
                  "program", "id", (json_int_t)r->program.id, "name", r->program.name, "currency",
                  r->program.currency, "timezone", r->program.timezone, "point_value",
                  fd_json_amount(r->program.point_value_micros, 6), "branding", b);
    json_object_set_new(o, "member_id",
                        r->who.member_id ? json_integer(r->who.member_id) : json_null());
    fd_reply(r, 200, o);
}

/* ---------- campaign landing page ---------- */

/* Text made safe inside HTML (element text and quoted attributes). */
static void put_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static const char *branding_text(const json_t *b, const char *key, const char *fallback)
{
    const char *s = json_string_value(json_object_get(b, key));
    return s ? s : fallback;
}

/* The campaign of path parameter 0 and its program, or a 404 page. */
static int landing_campaign(fd_req *r, fd_config **cfg, const fd_campaign **c)
{
    int64_t id, program_id;
    char *end;
    id = strtoll(r->params[0], &end, 10);
    int rc = *end || id < 1 ? FD_ENOTFOUND
                            : fd_db_one_i64(r->db,
                                            "SELECT program_id FROM campaigns WHERE id = $1"
                                            " AND deleted_at IS NULL AND active = 1",
                                            FD_PARAMS(FD_I(id)), &program_id);
    if (!rc) rc = fd_program_load(r->db, program_id, &r->program);
    if (!rc) rc = fd_config_get(r->db, &r->program, cfg);
    if (!rc) {
        *c = fd_config_campaign(*cfg, id);
        if (!*c) rc = FD_ENOTFOUND;
    }
    if (rc) {
        fd_config_release(*cfg);
        *cfg = NULL;
        if (rc == FD_ENOTFOUND)
            fd_reply_bytes(r, 404, "text/html; charset=utf-8",
                           (unsigned char *)fd_strdup("<!doctype html><title>Not found</title>"
                                                      "<p>This campaign is not running.</p>"),
                           0);
        else
            fd_reply_status(r, rc, NULL);
    }
    return rc;
}

static void landing_html(FILE *f, const fd_program *p, const json_t *b, const fd_campaign *c,
                         const char *notice)
{
    const json_t *def = c->definition;
    fputs("<!doctype html><html lang=\"", f);
    put_escaped(f, branding_text(b, "language", "en"));
    fputs("\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
          "content=\"width=device-width, initial-scale=1\"><title>",
          f);
    put_escaped(f, c->name);
    fputs("</title><link rel=\"stylesheet\" href=\"/fidelis.css\"><style>:root{--primary:", f);
    put_escaped(f, branding_text(b, "primary_color", "#1f4e8c"));
    fputs(";--accent:", f);
    put_escaped(f, branding_text(b, "accent_color", "#e8a33d"));
    fputs("}</style></head><body class=\"landing\"><header class=\"brand\">", f);
    const char *logo = json_string_value(json_object_get(b, "logo_url"));
    if (logo) {
        fputs("<img class=\"logo\" alt=\"\" src=\"", f);
        put_escaped(f, logo);
        fputs("\">", f);
    }
    fputs("<span>", f);
    put_escaped(f, branding_text(b, "program_title", p->name));
    fputs("</span></header><main><h1>", f);
    put_escaped(f, c->name);
    fputs("</h1>", f);
    const char *text = json_string_value(json_object_get(def, "description"));
    if (text) {
        fputs("<p class=\"lead\">", f);
        put_escaped(f, text);
        fputs("</p>", f);
    }
    if (notice) {
        fputs("<p class=\"notice\" role=\"status\">", f);
        put_escaped(f, notice);
        fputs("</p>", f);
    } else {
        fprintf(f,
                "<form class=\"card\" method=\"post\" action=\"/c/%lld/signup\">"
                "<label for=\"email\">Email</label>"
                "<input id=\"email\" name=\"email\" type=\"email\" required autocomplete=\"email\">"
                "<label class=\"check\"><input name=\"consent\" type=\"checkbox\" value=\"yes\" "
                "required> I want to receive offers by email</label>"
                "<button type=\"submit\">Join</button></form>",
                (long long)c->id);
    }
    fputs("</main></body></html>", f);
}

static void reply_landing(fd_req *r, int status, const fd_campaign *c, const char *notice)
{
    json_t *b = NULL;
    if (load_branding(r->db, r->program.id, &b)) b = json_object();
    char *html = NULL;
    size_t len = 0;
    FILE *f = fd_memstream(&html, &len);
    landing_html(f, &r->program, b, c, notice);
    fclose(f);
    json_decref(b);
    fd_reply_bytes(r, status, "text/html; charset=utf-8", (unsigned char *)html, len);
}

/* GET /c/{campaign_id}: the campaign's landing page with the sign-up form. */
void h_landing(fd_req *r)
{
    fd_config *cfg = NULL;
    const fd_campaign *c;
    if (landing_campaign(r, &cfg, &c)) return;
    reply_landing(r, 200, c, NULL);
    fd_config_release(cfg);
}

/* Reads field `name` of an application/x-www-form-urlencoded body into out. */
static bool form_field(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > n && !strncmp(body + i, name, n) && body[i + n] == '=') {
            size_t k = 0;
            for (size_t j = i + n + 1; j < end && k + 1 < cap; j++) {
                char ch = body[j];
                if (ch == '+') ch = ' ';
                if (ch == '%' && j + 2 < end) { /* both hex digits inside the field */
                    char hex[3] = {body[j + 1], body[j + 2], 0};
                    ch = (char)strtol(hex, NULL, 16);
                    j += 2;
                }
                out[k++] = ch;
            }
            out[k] = 0;
            return true;
        }
        i = end + 1;
    }
    return false;
}

typedef struct signup_job {
    const fd_program *p;
    int64_t campaign_id;
    char email[FD_EMAIL_MAX + 1];
    char token[48];
    char token_hash[65];
    bool existed;
} signup_job;

/* Enrolls (or finds) the member by email, asks for marketing consent and
 * sends the confirmation link through the webhook channel. */
static int signup_run(fd_db *db, void *arg)
{
    signup_job *j = arg;
    int64_t now = fd_now();
    fd_member m = {0};
    int rc = fd_member_find(db, j->p->id, FD_LOOKUP_EMAIL, j->email, &m);
    j->existed = rc == FD_OK;
    if (rc == FD_ENOTFOUND) {
        m.program_id = j->p->id;
        snprintf(m.external_id, sizeof m.external_id, "web:%.250s", j->email);
        snprintf(m.email, sizeof m.email, "%s", j->email);
        fd_email_normalize(j->email, m.email_norm);
        m.attributes = fd_strdup("{\"source\":\"landing page\"}");
        m.state = FD_STATE_ACTIVE;
        rc = fd_member_insert(db, &m, now);
        if (!rc) {
            json_t *data = fd_member_json(&m, j->p);
            rc = fd_outbox_emit(db, j->p->id, "member.enrolled", m.id, data, now);
            json_decref(data);
        }
    }
    if (!rc && m.consent != FD_CONSENT_OPTED_IN) {
        m.consent = FD_CONSENT_PENDING;
        rc = fd_member_set_consent_token(db, m.id, j->token_hash);
        if (!rc) rc = fd_member_save(db, &m, now);
        char url[160];
        snprintf(url, sizeof url, "/c/%lld/confirm?token=%s", (long long)j->campaign_id, j->token);
        json_t *data =
            json_pack("{s:I, s:s, s:s, s:I}", "member_id", (json_int_t)m.id, "email", m.email,
                      "confirmation_url", url, "campaign_id", (json_int_t)j->campaign_id);
        if (!rc) rc = fd_outbox_emit(db, j->p->id, "consent.requested", m.id, data, now);
        json_decref(data);
    }
    fd_member_clear(&m);
    return rc;
}

/* POST /c/{campaign_id}/signup (a form post from the landing page). */
void h_landing_signup(fd_req *r)
{
    fd_config *cfg = NULL;
    const fd_campaign *c;
    if (landing_campaign(r, &cfg, &c)) return;
    signup_job j = {.p = &r->program, .campaign_id = c->id};
    char consent[8] = "";
    bool has_email = form_field(r->raw, r->raw_len, "email", j.email, sizeof j.email);
    form_field(r->raw, r->raw_len, "consent", consent, sizeof consent);
    char norm[FD_EMAIL_MAX + 1];
    if (!has_email || fd_email_normalize(j.email, norm) || strcmp(consent, "yes")) {
        reply_landing(r, 422, c, "Please enter a valid email address and tick the box.");
        fd_config_release(cfg);
        return;
    }
    unsigned char raw[24];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(j.token, sizeof j.token, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    token_hash_hex(j.token, j.token_hash);
    if (fd_store_write(r->store, signup_run, &j) < 0)
        reply_landing(r, 503, c, "Something went wrong; please try again in a moment.");
    else
        reply_landing(r, 200, c, "Thank you! Check your inbox: we sent you a link to confirm.");
    fd_config_release(cfg);
}

typedef struct confirm_job {
    int64_t program_id;
    char token_hash[65];
} confirm_job;

static int confirm_run(fd_db *db, void *arg)
{
    confirm_job *j = arg;
    fd_member m = {0};
    int64_t now = fd_now();
    int rc = fd_member_find_by_consent_token(db, j->program_id, j->token_hash, &m);
    if (rc) return rc;
    m.consent = FD_CONSENT_OPTED_IN;
    m.consent_at = now;
    rc = fd_member_set_consent_token(db, m.id, NULL);
    if (!rc) rc = fd_member_save(db, &m, now);
    if (!rc)
        rc = fd_audit_add(db, j->program_id, "landing page", "member.consent", "member",
                          m.external_id, NULL, "{\"marketing\":\"opted_in\"}", now);
    fd_member_clear(&m);
    return rc;
}

/* GET /c/{campaign_id}/confirm?token=: the link of the confirmation email. */
void h_landing_confirm(fd_req *r)
{
    fd_config *cfg = NULL;
    const fd_campaign *c;
    if (landing_campaign(r, &cfg, &c)) return;
    const char *token = fd_query(r, "token");
    confirm_job j = {.program_id = r->program.id};
    int rc = FD_ENOTFOUND;
    if (token && strlen(token) < 64) {
        token_hash_hex(token, j.token_hash);
        rc = fd_store_write(r->store, confirm_run, &j);
    }
    if (rc == FD_ENOTFOUND)
        reply_landing(r, 404, c, "This link is no longer valid: it was used already or is wrong.");
    else if (rc < 0)
        reply_landing(r, 503, c, "Something went wrong; please try again in a moment.");
    else
        reply_landing(r, 200, c, "Your subscription is confirmed. Welcome!");
    fd_config_release(cfg);
}
