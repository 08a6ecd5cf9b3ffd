/*
 * reply.c - replies, error mapping and input helpers for handlers (api.h).
 */
#include <assert.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/fd.h"
#include "core/identity.h"
#include "core/money.h"

/* One HTTP status and default error code per fd_status. */
static const struct {
    int rc, http;
    const char *code;
} STATUS_MAP[] = {
    {FD_EINVAL, 422, "invalid"},
    {FD_ENOTFOUND, 404, "not_found"},
    {FD_ECONFLICT, 409, "conflict"},
    {FD_ENOFUNDS, 422, "insufficient_points"},
    {FD_EBUSY, 503, "busy"},
    {FD_EIO, 500, "storage_error"},
    {FD_EOVERFLOW, 422, "out_of_range"},
    {FD_EAUTH, 401, "unauthenticated"},
    {FD_EFORBIDDEN, 403, "forbidden"},
    {FD_ETOOBIG, 413, "too_large"},
};

int fd_http_status(int rc)
{
    for (size_t i = 0; i < sizeof STATUS_MAP / sizeof STATUS_MAP[0]; i++)
        if (STATUS_MAP[i].rc == rc) return STATUS_MAP[i].http;
    return 500;
}

void fd_reply(fd_req *r, int status, json_t *v)
{
    if (r->replied) { /* a handler bug; keep the first reply */
        json_decref(v);
        return;
    }
    r->status = status;
    r->reply = fd_json_text(v, false);
    r->replied = true;
    json_decref(v);
}

void fd_reply_written(fd_req *r, int status, fd_json_writer *w)
{
    size_t len;
    char *text = fd_jw_finish(w, &len);
    fd_reply_bytes(r, status, NULL, (unsigned char *)text, len);
}

void fd_reply_bytes(fd_req *r, int status, const char *content_type, unsigned char *body,
                    size_t len)
{
    if (r->replied) {
        free(body);
        return;
    }
    r->status = status;
    r->content_type = content_type;
    r->reply = (char *)body;
    r->reply_len = len;
    r->replied = true;
}

void fd_reply_error(fd_req *r, int status, const char *code, const char *message, const char *field)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    json_object_set_new(e, "field", field ? json_string(field) : json_null());
    fd_reply(r, status, json_pack("{s:o}", "error", e));
}

void fd_reply_status(fd_req *r, int rc, const char *message)
{
    const char *code = "internal";
    for (size_t i = 0; i < sizeof STATUS_MAP / sizeof STATUS_MAP[0]; i++)
        if (STATUS_MAP[i].rc == rc) code = STATUS_MAP[i].code;
    fd_reply_error(r, fd_http_status(rc), code, message ? message : fd_strerror(rc), NULL);
}

int job_fail(fd_job_error *e, int rc, const char *code, const char *field, const char *fmt, ...)
{
    e->code = code;
    e->field = field;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return rc;
}

int written_or_reply(fd_req *r, int rc, const fd_job_error *e)
{
    if (rc >= 0) return FD_OK;
    if (e && e->code)
        fd_reply_error(r, fd_http_status(rc), e->code, e->message, e->field);
    else
        fd_reply_status(r, rc, NULL);
    return rc;
}

int write_or_reply(fd_req *r, fd_write_fn fn, void *ctx, const fd_job_error *e)
{
    return written_or_reply(r, fd_store_write(r->store, fn, ctx), e);
}

int write_replayable_or_reply(fd_req *r, fd_write_fn fn, void *ctx, const fd_job_error *e)
{
    return written_or_reply(r, fd_store_write_replayable(r->store, fn, ctx), e);
}

static int field_error(fd_req *r, const char *field, const char *what)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s %s", field, what);
    fd_reply_error(r, 422, "invalid_field", msg, field);
    return FD_EINVAL;
}

int body_str_or_reply(fd_req *r, const char *key, bool required, const char **out)
{
    json_t *v = r->body ? json_object_get(r->body, key) : NULL;
    *out = NULL;
    if (!v || json_is_null(v)) return required ? field_error(r, key, "is required") : FD_OK;
    if (!json_is_string(v)) return field_error(r, key, "must be a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0) return field_error(r, key, "must not be empty");
    if (n > FD_TEXT_MAX) return field_error(r, key, "is longer than 256 bytes");
    if (strlen(s) != n) return field_error(r, key, "must not contain NUL");
    *out = s;
    return FD_OK;
}

int body_ident_or_reply(fd_req *r, const char *key, bool required, const char **out)
{
    int rc = body_str_or_reply(r, key, required, out);
    if (rc || !*out) return rc;
    if (!fd_ident_valid(*out)) return field_error(r, key, "must be printable ASCII without spaces");
    return FD_OK;
}

int body_int_or_reply(fd_req *r, const char *key, bool required, int64_t min, int64_t max,
                      int64_t *out, bool *present)
{
    json_t *v = r->body ? json_object_get(r->body, key) : NULL;
    if (present) *present = false;
    if (!v || json_is_null(v)) return required ? field_error(r, key, "is required") : FD_OK;
    if (!json_is_integer(v)) return field_error(r, key, "must be an integer");
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) return field_error(r, key, "is out of range");
    *out = (int64_t)i;
    if (present) *present = true;
    return FD_OK;
}

int json_amount_or_reply(fd_req *r, json_t *o, const char *key, const char *field, int exponent,
                         bool required, int64_t *out, bool *present)
{
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (present) *present = false;
    if (!v || json_is_null(v)) return required ? field_error(r, field, "is required") : FD_OK;
    int rc = fd_amount_from_json(v, exponent, out);
    if (rc == FD_EOVERFLOW) return field_error(r, field, "is too large");
    if (rc) {
        char what[128];
        snprintf(what, sizeof what,
                 "must be a non-negative decimal amount with at most %d decimals, e.g. \"105.00\"",
                 exponent);
        return field_error(r, field, what);
    }
    if (present) *present = true;
    return FD_OK;
}

int body_time_or_reply(fd_req *r, const char *key, int64_t *out, bool *present)
{
    const char *s;
    *present = false;
    if (body_str_or_reply(r, key, false, &s)) return FD_EINVAL;
    if (!s) return FD_OK;
    if (fd_time_parse(s, out)) return field_error(r, key, "must be an ISO 8601 time with a zone");
    *present = true;
    return FD_OK;
}

int param_id_or_reply(fd_req *r, int i, int64_t *out)
{
    const char *s = r->params[i];
    char *end;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || v <= 0 || s[0] == '+' || s[0] == ' ') {
        fd_reply_error(r, 404, "not_found", "no such id", NULL);
        return FD_ENOTFOUND;
    }
    *out = v;
    return FD_OK;
}

const char *fd_query(fd_req *r, const char *key)
{
    if (!r->conn) return NULL; /* a request replayed without HTTP (imports) */
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static int query_int(fd_req *r, const char *key, int64_t min, int64_t max, int64_t *out)
{
    const char *s = fd_query(r, key);
    if (!s) return FD_OK;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < min || v > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be an integer from %lld to %lld", key, (long long)min,
                 (long long)max);
        fd_reply_error(r, 422, "invalid_query", msg, key);
        return FD_EINVAL;
    }
    *out = v;
    return FD_OK;
}

int page_or_reply(fd_req *r, int *limit, int64_t *after)
{
    int64_t l = FD_PAGE_DEFAULT, a = 0;
    if (query_int(r, "limit", 1, FD_PAGE_MAX, &l) || query_int(r, "cursor", 0, INT64_MAX, &a))
        return FD_EINVAL;
    *limit = (int)l;
    *after = a;
    return FD_OK;
}

char *json_canonical(const json_t *v)
{
    return fd_json_text(v, true);
}

json_t *fd_page_json(json_t *data, int64_t next_cursor)
{
    json_t *o = json_pack("{s:o}", "data", data);
    if (next_cursor) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)next_cursor);
        json_object_set_new(o, "next_cursor", json_string(buf));
    } else {
        json_object_set_new(o, "next_cursor", json_null());
    }
    return o;
}

void reply_page(fd_req *r, const char *sql, const fd_param *params, size_t n, int limit,
                json_t *(*row)(fd_stmt *st, void *arg), void *arg)
{
    fd_stmt *st;
    int rc = fd_db_query(r->db, sql, params, n, &st);
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return;
    }
    json_t *data = json_array();
    int64_t last = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        last = fd_stmt_i64(st, 0);
        json_t *item = row(st, arg);
        if (item) json_array_append_new(data, item);
    }
    fd_stmt_done(st);
    if (rc < 0) {
        json_decref(data);
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200, fd_page_json(data, (int)json_array_size(data) == limit ? last : 0));
}

static int line_bad(fd_req *r, const char *field, const char *message)
{
    fd_reply_error(r, 422, "invalid_field", message, field);
    return FD_EINVAL;
}

int order_line_or_reply(fd_req *r, json_t *l, size_t i, int exponent, fd_cart_line *out)
{
    char field[64];
    snprintf(field, sizeof field, "order.lines[%zu]", i);
    if (!json_is_object(l)) return line_bad(r, field, "each line must be an object");
    const json_t *sku = json_object_get(l, "sku"), *cat = json_object_get(l, "category"),
                 *qty = json_object_get(l, "quantity");
    if (!json_is_string(sku) || !fd_ident_valid(json_string_value(sku)))
        return line_bad(r, field, "line sku is required: printable ASCII without spaces");
    if (cat && !json_is_null(cat) &&
        (!json_is_string(cat) || json_string_length(cat) == 0 ||
         json_string_length(cat) > FD_TEXT_MAX))
        return line_bad(r, field, "line category must be a non-empty string");
    if (!json_is_integer(qty) || json_integer_value(qty) < 1 || json_integer_value(qty) > 1000000)
        return line_bad(r, field, "line quantity must be an integer from 1 to 1000000");
    snprintf(field, sizeof field, "order.lines[%zu].unit_price", i);
    if (json_amount_or_reply(r, l, "unit_price", field, exponent, true, &out->unit_price, NULL))
        return FD_EINVAL;
    out->sku = json_string_value(sku);
    out->category = json_string_value(cat);
    out->quantity = json_integer_value(qty);
    if (fd_mul_i64(out->quantity, out->unit_price, &out->gross) || out->gross > FD_AMOUNT_MAX)
        return line_bad(r, field, "the line's amount is out of range");
    return FD_OK;
}

void token_hash_hex(const char *token, char hex[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

int owned_id_or_reply(fd_req *r, int i, const char *what, int64_t *out)
{
    static const struct {
        const char *what, *sql;
    } OWNED[] = {
        {"member", "SELECT id FROM members WHERE program_id = $1 AND id = $2"},
        {"webhook", "SELECT id FROM webhooks WHERE program_id = $1 AND id = $2"},
        {"campaign", "SELECT id FROM campaigns WHERE program_id = $1 AND id = $2"},
    };
    int64_t id, found;
    if (param_id_or_reply(r, i, &id)) return FD_EINVAL;
    for (size_t k = 0; k < sizeof OWNED / sizeof *OWNED; k++) {
        if (strcmp(OWNED[k].what, what)) continue;
        int rc =
            fd_db_one_i64(r->db, OWNED[k].sql, FD_PARAMS(FD_I(r->program.id), FD_I(id)), &found);
        if (rc == FD_OK) {
            *out = id;
            return FD_OK;
        }
        if (rc != FD_ENOTFOUND) {
            fd_reply_status(r, rc, NULL);
            return rc;
        }
        break;
    }
    char code[48], msg[64];
    snprintf(code, sizeof code, "%s_not_found", what);
    snprintf(msg, sizeof msg, "no such %s", what);
    fd_reply_error(r, 404, code, msg, NULL);
    return FD_ENOTFOUND;
}

void fd_reply_after_write(fd_req *r, fd_write_fn fn, void *ctx, fd_req_written_fn written)
{
    assert(!r->replied && !r->later.fn && fn && written);
    r->later.fn = fn;
    r->later.ctx = ctx;
    r->later.written = written;
}
