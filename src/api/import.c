/*
 * import.c - bulk import and export (import.h).
 */
#include "api/import.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/events.h"
#include "api/handlers.h"
#include "api/members_json.h"
#include "base/fd.h"
#include "core/identity.h"
#include "store/events.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/segments.h"

#define BATCH 1000 /* orders or ledger rows per group commit */
#define RECORD_MAX (1 << 20)
#define ERRORS_KEPT 1000

int fd_import_kind_parse(const char *s, fd_import_kind *out)
{
    if (s && !strcmp(s, "members"))
        *out = FD_IMPORT_MEMBERS;
    else if (s && !strcmp(s, "orders"))
        *out = FD_IMPORT_ORDERS;
    else if (s && !strcmp(s, "ledger"))
        *out = FD_IMPORT_LEDGER;
    else
        return FD_EINVAL;
    return FD_OK;
}

/* ---------- reading records ---------- */

typedef struct reader {
    FILE *in;
    bool ndjson;
    char *line;
    size_t cap;
    int64_t line_no; /* of the record's first line */
    int64_t next_line;
    json_t *header; /* CSV column names */
} reader;

/* Splits one CSV record (RFC 4180: quotes, doubled quotes, embedded
 * newlines) into strings. Returns FD_EINVAL for an unterminated quote. */
static int csv_fields(const char *rec, json_t **out)
{
    json_t *fields = json_array();
    size_t n = strlen(rec), cap = n + 1, len = 0;
    char *buf = fd_malloc(cap);
    bool quoted = false, was_quoted = false;
    for (size_t i = 0; i <= n; i++) {
        char c = rec[i];
        if (quoted) {
            if (c == '"' && rec[i + 1] == '"')
                buf[len++] = '"', i++;
            else if (c == '"')
                quoted = false;
            else if (c == 0)
                break;
            else
                buf[len++] = c;
        } else if (c == '"' && len == 0 && !was_quoted) {
            quoted = was_quoted = true;
        } else if (c == ',' || c == 0 || c == '\n' || c == '\r') {
            if ((c == '\n' || c == '\r') && i + 1 < n) continue; /* only at the end */
            json_array_append_new(fields, json_stringn(buf, len));
            len = 0;
            was_quoted = false;
            if (c != ',') break;
        } else {
            buf[len++] = c;
        }
    }
    free(buf);
    if (quoted) {
        json_decref(fields);
        return FD_EINVAL;
    }
    *out = fields;
    return FD_OK;
}

static bool quotes_open(const char *s)
{
    bool open = false;
    for (; *s; s++)
        if (*s == '"') open = !open;
    return open;
}

/* Reads the next record into *rec (a JSON object: NDJSON as is, CSV by the
 * header). 1 for a record, 0 at the end, FD_EINVAL for a bad one (skipped). */
static int next_record(reader *r, json_t **rec, char *err, size_t errlen)
{
    ssize_t got = getline(&r->line, &r->cap, r->in);
    if (got < 0) return 0;
    r->line_no = ++r->next_line;
    if (got > RECORD_MAX) {
        snprintf(err, errlen, "record longer than 1 MiB");
        return FD_EINVAL;
    }
    if (r->ndjson) {
        json_error_t je;
        *rec = json_loads(r->line, JSON_REJECT_DUPLICATES, &je);
        if (!json_is_object(*rec)) {
            snprintf(err, errlen, "not a JSON object: %s", *rec ? "wrong type" : je.text);
            json_decref(*rec);
            return FD_EINVAL;
        }
        return 1;
    }
    while (quotes_open(r->line) && strlen(r->line) < RECORD_MAX) { /* a quoted newline */
        char *more = NULL;
        size_t cap = 0;
        if (getline(&more, &cap, r->in) < 0) {
            free(more);
            break;
        }
        r->next_line++;
        r->line = fd_realloc(r->line, strlen(r->line) + strlen(more) + 1);
        strcat(r->line, more);
        r->cap = strlen(r->line) + 1;
        free(more);
    }
    json_t *fields;
    if (csv_fields(r->line, &fields)) {
        snprintf(err, errlen, "unterminated quote");
        return FD_EINVAL;
    }
    if (!r->header) { /* the header row */
        r->header = fields;
        return next_record(r, rec, err, errlen);
    }
    if (json_array_size(fields) == 1 && json_string_length(json_array_get(fields, 0)) == 0) {
        json_decref(fields); /* an empty line */
        return next_record(r, rec, err, errlen);
    }
    if (json_array_size(fields) != json_array_size(r->header)) {
        snprintf(err, errlen, "%zu fields, the header has %zu", json_array_size(fields),
                 json_array_size(r->header));
        json_decref(fields);
        return FD_EINVAL;
    }
    json_t *o = json_object();
    size_t i;
    json_t *name;
    json_array_foreach(r->header, i, name)
    {
        json_t *v = json_array_get(fields, i);
        if (json_string_length(v) == 0) continue; /* empty cell: absent */
        const char *key = json_string_value(name);
        const char *dot = strchr(key, '.');
        if (dot) { /* "attributes.country" -> {"attributes": {"country": ...}} */
            char parent[64];
            snprintf(parent, sizeof parent, "%.*s", (int)(dot - key), key);
            json_t *sub = json_object_get(o, parent);
            if (!sub) json_object_set_new(o, parent, sub = json_object());
            json_object_set(sub, dot + 1, v);
        } else {
            json_object_set(o, key, v);
        }
    }
    json_decref(fields);
    *rec = o;
    return 1;
}

/* ---------- the report ---------- */

/* Counts and reports a rejected row; takes ownership of error. */
static void reject(fd_import_report *rep, const fd_import_options *o, int64_t line, int status,
                   json_t *error)
{
    rep->rejected++;
    const char *field = json_string_value(json_object_get(error, "field"));
    if (o->rejects)
        fprintf(o->rejects, "line %lld: %s%s%s\n", (long long)line, field ? field : "",
                field ? ": " : "", json_string_value(json_object_get(error, "message")));
    if (json_array_size(rep->errors) < ERRORS_KEPT)
        json_array_append_new(rep->errors, json_pack("{s:I, s:i, s:o}", "line", (json_int_t)line,
                                                     "status", status, "error", error));
    else
        json_decref(error);
}

static json_t *simple_error(const char *code, const char *message)
{
    return json_pack("{s:s, s:s, s:n}", "code", code, "message", message, "field");
}

static void progress(const fd_import_options *o, const fd_import_report *rep, int64_t t0)
{
    if (!o->progress || rep->rows % 1000) return;
    double s = (double)(fd_monotonic_us() - t0) / 1e6;
    fprintf(stderr, "\r%lld rows, %lld applied, %lld rejected (%.0f rows/s)", (long long)rep->rows,
            (long long)rep->applied, (long long)rep->rejected, s > 0 ? (double)rep->rows / s : 0.0);
}

/* ---------- orders ---------- */

/* Turns a CSV order row into an event body; consecutive rows of one order
 * (same type and order_id) become its lines. */
static json_t *order_event(json_t *row)
{
    const char *type = json_string_value(json_object_get(row, "type"));
    const char *order_id = json_string_value(json_object_get(row, "order_id"));
    char id[300];
    if (type && !strcmp(type, "refund")) {
        const char *rid = json_string_value(json_object_get(row, "refund_id"));
        snprintf(id, sizeof id, "import:refund:%s", rid ? rid : order_id ? order_id : "");
        json_t *e = json_pack(
            "{s:s, s:s, s:s?, s:O?, s:O?, s:O?, s:O?}", "id", id, "type", "refund", "order_id",
            order_id, "amount", json_object_get(row, "amount"), "external_id",
            json_object_get(row, "external_id"), "occurred_at", json_object_get(row, "occurred_at"),
            "channel", json_object_get(row, "channel"));
        return e;
    }
    snprintf(id, sizeof id, "import:order:%s", order_id ? order_id : "");
    json_t *order =
        json_pack("{s:s?, s:O?, s:O?, s:O?, s:[]}", "id", order_id, "total",
                  json_object_get(row, "total"), "currency", json_object_get(row, "currency"),
                  "shipping", json_object_get(row, "shipping"), "lines");
    return json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:o}", "id", id, "type", "purchase",
                     "external_id", json_object_get(row, "external_id"), "occurred_at",
                     json_object_get(row, "occurred_at"), "channel",
                     json_object_get(row, "channel"), "order", order);
}

static void add_line(json_t *event, json_t *row)
{
    if (!json_object_get(row, "sku")) return;
    json_t *q = json_object_get(row, "quantity");
    json_int_t qty = q ? strtoll(json_string_value(q) ? json_string_value(q) : "0", NULL, 10) : 1;
    if (json_is_integer(q)) qty = json_integer_value(q);
    json_array_append_new(json_object_get(json_object_get(event, "order"), "lines"),
                          json_pack("{s:O, s:O?, s:I, s:O?}", "sku", json_object_get(row, "sku"),
                                    "category", json_object_get(row, "category"), "quantity", qty,
                                    "unit_price", json_object_get(row, "unit_price")));
}

static int flush_events(fd_store *s, fd_db *db, const fd_program *p, const fd_principal *who,
                        json_t **events, int64_t *lines, size_t *n, const fd_import_options *o,
                        fd_import_report *rep)
{
    if (*n == 0) return FD_OK;
    fd_batch_answer *answers;
    int rc = fd_events_batch(s, db, p, who->actor, events, *n, &answers);
    for (size_t i = 0; !rc && i < *n; i++) {
        int status = answers[i].status;
        if (status == 201) {
            rep->applied++;
        } else if (status == 200) {
            rep->duplicates++;
        } else {
            json_t *a = json_loads(answers[i].json, 0, NULL);
            reject(rep, o, lines[i], status, json_incref(json_object_get(a, "error")));
            json_decref(a);
        }
    }
    if (!rc) fd_batch_answers_free(answers, *n);
    for (size_t i = 0; i < *n; i++)
        json_decref(events[i]);
    *n = 0;
    return rc;
}

static int import_orders(fd_store *s, fd_db *db, const fd_program *p, const fd_principal *who,
                         reader *rd, const fd_import_options *o, fd_import_report *rep)
{
    json_t *events[BATCH];
    int64_t lines[BATCH];
    size_t n = 0;
    int64_t t0 = fd_monotonic_us();
    char err[200];
    json_t *rec;
    int got, rc = FD_OK;
    while (!rc && (got = next_record(rd, &rec, err, sizeof err)) != 0) {
        rep->rows++;
        progress(o, rep, t0);
        if (got < 0) {
            reject(rep, o, rd->line_no, 400, simple_error("invalid_record", err));
            continue;
        }
        json_t *event = rec;
        if (!rd->ndjson) { /* group consecutive lines of one order */
            const char *oid = json_string_value(json_object_get(rec, "order_id"));
            const char *type = json_string_value(json_object_get(rec, "type"));
            bool refund = type && !strcmp(type, "refund");
            json_t *prev = n ? events[n - 1] : NULL;
            const char *prev_oid =
                prev ? json_string_value(json_object_get(json_object_get(prev, "order"), "id"))
                     : NULL;
            if (!refund && prev && prev_oid && oid && !strcmp(prev_oid, oid)) {
                add_line(prev, rec);
                json_decref(rec);
                rep->rows--; /* a line of the previous order, not a new record */
                continue;
            }
            event = order_event(rec);
            if (!refund) add_line(event, rec);
            json_decref(rec);
        }
        if (!o->award_points) json_object_set_new(event, "award_points", json_false());
        if (n == BATCH && (rc = flush_events(s, db, p, who, events, lines, &n, o, rep))) break;
        lines[n] = rd->line_no;
        events[n++] = event;
    }
    if (!rc) rc = flush_events(s, db, p, who, events, lines, &n, o, rep);
    for (size_t i = 0; i < n; i++)
        json_decref(events[i]);
    return rc;
}

/* ---------- members ---------- */

typedef struct member_work {
    pthread_mutex_t mu;
    reader *rd;
    fd_store *store;
    const fd_program *p;
    const fd_principal *who;
    const fd_import_options *o;
    fd_import_report *rep;
    int64_t t0;
    bool done;
} member_work;

/* Several threads upsert rows at once so the writer commits them in groups. */
static void *member_worker(void *arg)
{
    member_work *w = arg;
    for (;;) {
        json_t *rec = NULL;
        char err[200];
        pthread_mutex_lock(&w->mu);
        int got = w->done ? 0 : next_record(w->rd, &rec, err, sizeof err);
        int64_t line = w->rd->line_no;
        if (got == 0)
            w->done = true;
        else
            w->rep->rows++;
        if (got < 0) reject(w->rep, w->o, line, 400, simple_error("invalid_record", err));
        progress(w->o, w->rep, w->t0);
        pthread_mutex_unlock(&w->mu);
        if (got == 0) return NULL;
        if (got < 0) continue;
        fd_req fake = {.store = w->store, .body = rec, .program = *w->p, .who = *w->who};
        fake.db = fd_store_reader(w->store);
        h_members_upsert(&fake);
        fd_store_release(w->store, fake.db);
        pthread_mutex_lock(&w->mu);
        if (fake.status == 201)
            w->rep->applied++;
        else if (fake.status == 200)
            w->rep->updated++; /* already there: updated in place */
        else {
            json_t *reply = json_loads(fake.reply ? fake.reply : "{}", 0, NULL);
            reject(w->rep, w->o, line, fake.status, json_incref(json_object_get(reply, "error")));
            json_decref(reply);
        }
        pthread_mutex_unlock(&w->mu);
        free(fake.reply);
        json_decref(rec);
    }
}

static int import_members(fd_store *s, const fd_program *p, const fd_principal *who, reader *rd,
                          const fd_import_options *o, fd_import_report *rep)
{
    member_work w = {
        .rd = rd, .store = s, .p = p, .who = who, .o = o, .rep = rep, .t0 = fd_monotonic_us()};
    pthread_mutex_init(&w.mu, NULL);
    pthread_t t[FD_IMPORT_THREADS];
    for (int i = 0; i < FD_IMPORT_THREADS; i++)
        pthread_create(&t[i], NULL, member_worker, &w);
    for (int i = 0; i < FD_IMPORT_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_destroy(&w.mu);
    return FD_OK;
}

/* ---------- ledger ---------- */

typedef struct ledger_job {
    const fd_program *p;
    const char *actor, *external_id, *reason, *reference;
    int64_t points;
    int64_t line;
    int rc; /* the row's outcome */
    bool duplicate;
    fd_job_error err;
} ledger_job;

/* A manual credit or debit, once per reference (stored as an event id).
 * Replayable: it starts from its inputs alone. */
static int ledger_row(fd_db *db, ledger_job *j)
{
    char id[300], hash[65], *result = NULL;
    j->duplicate = false;
    memset(&j->err, 0, sizeof j->err);
    snprintf(id, sizeof id, "import:ledger:%s", j->reference);
    int rc = fd_event_get(db, j->p->id, id, hash, &result);
    free(result);
    if (rc == FD_OK) {
        j->duplicate = true;
        return FD_OK;
    }
    fd_member m = {0};
    rc = fd_member_find(db, j->p->id, FD_LOOKUP_EXTERNAL_ID, j->external_id, &m);
    if (!rc) {
        int64_t mid = m.id;
        fd_member_clear(&m);
        rc = fd_member_get_locked(db, j->p->id, mid, &m);
    }
    if (rc == FD_ENOTFOUND)
        return job_fail(&j->err, rc, "member_not_found", "external_id", "no member %s",
                        j->external_id);
    fd_posting post = {"adjust", j->reason, id, NULL, j->actor, fd_now()};
    if (!rc)
        rc = j->points > 0 ? fd_ledger_credit(db, j->p, &m, j->points, false, &post, NULL)
                           : fd_ledger_debit(db, &m, -j->points, NULL, false, &post);
    if (rc == FD_ENOFUNDS)
        rc = job_fail(&j->err, rc, "insufficient_points", "points", "the member has fewer points");
    if (!rc)
        rc = fd_event_insert(db, j->p->id, id, "ledger_import", m.id, "", "{}", NULL, NULL,
                             fd_now(), fd_now());
    fd_member_clear(&m);
    return rc;
}

/* Rows of the ledger file applied in one group commit, each on its own. */
typedef struct ledger_batch {
    ledger_job rows[BATCH];
    json_t *recs[BATCH]; /* the rows' strings live here until the batch is applied */
    size_t n;
} ledger_batch;

static int ledger_step(fd_db *db, void *ctx, size_t i)
{
    ledger_job *j = &((ledger_batch *)ctx)->rows[i];
    return j->rc = ledger_row(db, j);
}

static int ledger_batch_run(fd_db *db, void *ctx)
{
    return fd_db_steps(db, ((ledger_batch *)ctx)->n, ledger_step, NULL, ctx, FD_EBUSY, "row");
}

/* Applies the batch and reports each row. */
static void flush_ledger(fd_store *s, ledger_batch *b, const fd_import_options *o,
                         fd_import_report *rep)
{
    int rc = b->n ? fd_store_write_replayable(s, ledger_batch_run, b) : FD_OK;
    for (size_t i = 0; i < b->n; i++) {
        ledger_job *j = &b->rows[i];
        int jrc = rc ? rc : j->rc;
        if (!jrc)
            j->duplicate ? rep->duplicates++ : rep->applied++;
        else
            reject(rep, o, j->line, fd_http_status(jrc),
                   json_pack("{s:s, s:s, s:s?}", "code", j->err.code ? j->err.code : "invalid",
                             "message", j->err.code ? j->err.message : fd_strerror(jrc), "field",
                             j->err.field));
        json_decref(b->recs[i]);
    }
    b->n = 0;
}

static int import_ledger(fd_store *s, const fd_program *p, const fd_principal *who, reader *rd,
                         const fd_import_options *o, fd_import_report *rep)
{
    char err[200];
    json_t *rec;
    int got;
    int64_t t0 = fd_monotonic_us();
    ledger_batch *b = fd_calloc(1, sizeof *b);
    while ((got = next_record(rd, &rec, err, sizeof err)) != 0) {
        rep->rows++;
        progress(o, rep, t0);
        if (got < 0) {
            reject(rep, o, rd->line_no, 400, simple_error("invalid_record", err));
            continue;
        }
        json_t *pts = json_object_get(rec, "points");
        long long points = json_is_integer(pts)  ? json_integer_value(pts)
                           : json_is_string(pts) ? strtoll(json_string_value(pts), NULL, 10)
                                                 : 0;
        ledger_job j = {.p = p,
                        .actor = who->actor,
                        .external_id = json_string_value(json_object_get(rec, "external_id")),
                        .reason = json_string_value(json_object_get(rec, "reason")),
                        .reference = json_string_value(json_object_get(rec, "reference")),
                        .points = points,
                        .line = rd->line_no};
        if (!j.external_id || !j.reference || !fd_ident_valid(j.reference) || !j.reason ||
            points == 0 || points > FD_POINTS_MAX || points < -FD_POINTS_MAX) {
            reject(rep, o, rd->line_no, 422,
                   simple_error("invalid_record",
                                "external_id, reference, reason and non-zero points are required"));
            json_decref(rec);
            continue;
        }
        b->rows[b->n] = j;
        b->recs[b->n++] = rec;
        if (b->n == BATCH) flush_ledger(s, b, o, rep);
    }
    flush_ledger(s, b, o, rep);
    free(b);
    return FD_OK;
}

static int by_line(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "line"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "line"));
    return (x > y) - (x < y);
}

/* Rejections come from parsing and from batches: report them by line. */
static void qsort_errors(json_t *errors)
{
    size_t n = json_array_size(errors);
    json_t **v = fd_malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(errors, i));
    qsort(v, n, sizeof *v, by_line);
    json_array_clear(errors);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(errors, v[i]);
    free(v);
}

int fd_import(fd_store *s, const fd_program *p, const fd_principal *who, FILE *in,
              const fd_import_options *o, fd_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->errors = json_array();
    reader rd = {.in = in, .ndjson = o->ndjson};
    fd_db *db = fd_store_reader(s);
    int rc = o->kind == FD_IMPORT_ORDERS    ? import_orders(s, db, p, who, &rd, o, rep)
             : o->kind == FD_IMPORT_MEMBERS ? import_members(s, p, who, &rd, o, rep)
                                            : import_ledger(s, p, who, &rd, o, rep);
    fd_store_release(s, db);
    qsort_errors(rep->errors);
    if (o->progress) fprintf(stderr, "\n");
    free(rd.line);
    json_decref(rd.header);
    return rc;
}

/* ---------- export ---------- */

void fd_csv_cell(FILE *out, const char *s, bool last)
{
    fputc('"', out);
    char *end = NULL;
    if (s && *s) strtod(s, &end);
    bool number = end && *end == 0;
    if (s && *s && !number && strchr("=+-@", s[0]))
        fputc('\'', out); /* no formulas in spreadsheets */
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    fputs(last ? "\"\n" : "\",", out);
}

static void export_member(const fd_member *m, void *arg)
{
    void **a = arg;
    FILE *out = a[0];
    bool ndjson = *(bool *)a[1];
    json_t *j = fd_member_json(m, NULL);
    if (ndjson) {
        char *line = fd_json_text(j, false);
        fprintf(out, "%s\n", line);
        free(line);
    } else {
        char id[24], bal[24], pend[24];
        snprintf(id, sizeof id, "%lld", (long long)m->id);
        snprintf(bal, sizeof bal, "%lld", (long long)m->balance);
        snprintf(pend, sizeof pend, "%lld", (long long)m->pending);
        fd_csv_cell(out, id, false);
        fd_csv_cell(out, m->external_id, false);
        fd_csv_cell(out, m->email, false);
        fd_csv_cell(out, m->phone, false);
        fd_csv_cell(out, m->card_number, false);
        fd_csv_cell(out, fd_member_state_name(m->state), false);
        fd_csv_cell(out, m->tier, false);
        fd_csv_cell(out, bal, false);
        fd_csv_cell(out, pend, false);
        fd_csv_cell(out, m->attributes, true);
    }
    json_decref(j);
    *(int64_t *)a[2] = m->id;
}

static void export_segment_member(const fd_member *m, void *arg)
{
    int64_t after;
    void *a[3] = {((void **)arg)[0], ((void **)arg)[1], &after};
    export_member(m, a);
}

int fd_export_segment(fd_store *s, const fd_program *p, int64_t segment_id, bool ndjson, FILE *out)
{
    fd_db *db = fd_store_reader(s);
    fd_config *cfg = NULL;
    int rc = fd_config_get(db, p, &cfg);
    const fd_segment *seg = NULL;
    for (size_t i = 0; !rc && i < cfg->nsegments; i++)
        if (cfg->segments[i].id == segment_id) seg = &cfg->segments[i];
    if (!rc && !seg) rc = FD_ENOTFOUND;
    if (!rc) {
        if (!ndjson)
            fputs("\"id\",\"external_id\",\"email\",\"phone\",\"card_number\",\"state\",\"tier\","
                  "\"balance\",\"pending\",\"attributes\"\n",
                  out);
        void *arg[2] = {out, &ndjson};
        int64_t last;
        bool done;
        rc = fd_segment_scan(db, p, cfg, seg->condition, fd_now(), 0, INT64_MAX,
                             export_segment_member, arg, &last, &done);
    }
    fd_config_release(cfg);
    fd_store_release(s, db);
    return rc;
}

#define JOURNAL_EXPORT_PAGE 5000 /* entries per query */

/* Room for one share in the rules cell: a separator, two 64-bit integers
 * (at most 20 characters each) and the colon. */
#define SHARE_CELL_MAX 42

/* An entry's rules as one CSV cell: "rule_id:points" separated by spaces. */
static char *rules_cell(const json_t *rules)
{
    size_t size = SHARE_CELL_MAX * json_array_size(rules) + 1, used = 0;
    char *text = fd_malloc(size);
    text[0] = '\0';
    size_t i;
    const json_t *x;
    json_array_foreach(rules, i, x) used +=
        (size_t)snprintf(text + used, size - used, "%s%lld:%lld", i ? " " : "",
                         (long long)json_integer_value(json_object_get(x, "rule_id")),
                         (long long)json_integer_value(json_object_get(x, "points")));
    return text;
}

/* The journal entry of the export's current row (FD_LEDGER_EXPORT_PAGE_SQL). */
static json_t *export_entry_json(fd_stmt *st)
{
    char t[32];
    fd_time_format(fd_stmt_i64(st, 10), t, sizeof t);
    return json_pack("{s:I, s:I, s:s, s:I, s:I, s:I, s:s?, s:s?, s:o, s:s?, s:s, s:s}", "id",
                     (json_int_t)fd_stmt_i64(st, 0), "member_id", (json_int_t)fd_stmt_i64(st, 1),
                     "kind", fd_stmt_text(st, 2), "points", (json_int_t)fd_stmt_i64(st, 3),
                     "pending", (json_int_t)fd_stmt_i64(st, 4), "balance_after",
                     (json_int_t)fd_stmt_i64(st, 5), "order_id", fd_stmt_text(st, 6), "event_id",
                     fd_stmt_text(st, 7), "rules", fd_ledger_shares_json(fd_stmt_text(st, 11)),
                     "reason", fd_stmt_text(st, 8), "actor", fd_stmt_text(st, 9), "created_at", t);
}

/* Writes entry e (export_entry_json, its rules added) as a CSV line or an
 * NDJSON object, and frees it. */
static void export_entry(json_t *e, bool ndjson, FILE *out)
{
    if (ndjson) {
        char *line = fd_json_text(e, false);
        fprintf(out, "%s\n", line);
        free(line);
    } else {
        static const char *const keys[] = {"id",      "member_id",     "kind",     "points",
                                           "pending", "balance_after", "order_id", "event_id",
                                           "rules",   "reason",        "actor",    "created_at"};
        for (int k = 0; k < 12; k++) {
            json_t *v = json_object_get(e, keys[k]);
            char buf[40], *cell = NULL;
            const char *text = json_string_value(v);
            if (json_is_integer(v))
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)), text = buf;
            else if (json_is_array(v))
                text = cell = rules_cell(v);
            fd_csv_cell(out, text, k == 11);
            free(cell);
        }
    }
    json_decref(e);
}

int fd_export(fd_store *s, const fd_program *p, const char *kind, bool ndjson, FILE *out)
{
    fd_db *db = fd_store_reader(s);
    int rc = FD_OK;
    if (!strcmp(kind, "members")) {
        if (!ndjson)
            fputs("\"id\",\"external_id\",\"email\",\"phone\",\"card_number\",\"state\",\"tier\","
                  "\"balance\",\"pending\",\"attributes\"\n",
                  out);
        int64_t after = 0, last = -1;
        while (!rc && last != after) {
            last = after;
            void *arg[3] = {out, &ndjson, &after};
            rc = fd_member_list(db, p->id, after, 1000, export_member, arg);
        }
    } else {
        if (!ndjson)
            fputs("\"id\",\"member_id\",\"kind\",\"points\",\"pending\",\"balance_after\","
                  "\"order_id\",\"event_id\",\"rules\",\"reason\",\"actor\",\"created_at\"\n",
                  out);
        int64_t after = 0;
        for (int entries = JOURNAL_EXPORT_PAGE; !rc && entries == JOURNAL_EXPORT_PAGE;) {
            fd_stmt *st;
            entries = 0;
            rc = fd_db_query(db, FD_LEDGER_EXPORT_PAGE_SQL,
                             FD_PARAMS(FD_I(p->id), FD_I(after), FD_I(JOURNAL_EXPORT_PAGE)), &st);
            if (rc) break;
            while ((rc = fd_stmt_next(st)) == 1) {
                after = fd_stmt_i64(st, 0);
                export_entry(export_entry_json(st), ndjson, out);
                entries++;
            }
            fd_stmt_done(st);
        }
    }
    fd_store_release(s, db);
    return rc;
}

/* POST /v1/imports/{members|orders|ledger}: the body is CSV (with a header
 * row) or NDJSON (Content-Type application/x-ndjson), at most 1 MiB; larger
 * files go through `fidelis import`. Answers the report. */
void h_import(fd_req *r)
{
    fd_import_options o = {.award_points = true};
    if (fd_import_kind_parse(r->params[0], &o.kind)) {
        fd_reply_error(r, 404, "not_found", "import members, orders or ledger", NULL);
        return;
    }
    const char *ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    const char *points = fd_query(r, "award_points");
    o.ndjson = ctype && (strstr(ctype, "ndjson") || strstr(ctype, "jsonl"));
    o.award_points = !points || strcmp(points, "false");
    if (!r->raw_len) {
        fd_reply_error(r, 400, "body_required", "send the rows as CSV or NDJSON", NULL);
        return;
    }
    FILE *in = fmemopen((void *)r->raw, r->raw_len, "r");
    fd_import_report rep;
    int rc = fd_import(r->store, &r->program, &r->who, in, &o, &rep);
    fclose(in);
    if (rc) {
        json_decref(rep.errors);
        fd_reply_status(r, rc, NULL);
        return;
    }
    fd_reply(r, 200,
             json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "rows", (json_int_t)rep.rows, "applied",
                       (json_int_t)rep.applied, "updated", (json_int_t)rep.updated, "already_there",
                       (json_int_t)rep.duplicates, "rejected", (json_int_t)rep.rejected, "errors",
                       rep.errors));
}

/* GET /v1/exports/{members|ledger}?format=csv|ndjson */
void h_export(fd_req *r)
{
    const char *kind = r->params[0], *format = fd_query(r, "format");
    if (strcmp(kind, "members") && strcmp(kind, "ledger")) {
        fd_reply_error(r, 404, "not_found", "export members or ledger", NULL);
        return;
    }
    if (format && strcmp(format, "csv") && strcmp(format, "ndjson")) {
        fd_reply_error(r, 422, "invalid_query", "format is csv or ndjson", "format");
        return;
    }
    bool ndjson = format && !strcmp(format, "ndjson");
    char *buf = NULL;
    size_t len = 0;
    FILE *out = fd_memstream(&buf, &len);
    int rc = fd_export(r->store, &r->program, kind, ndjson, out);
    fclose(out);
    if (rc) {
        free(buf);
        fd_reply_status(r, rc, NULL);
        return;
    }
    r->status = 200;
    r->content_type = ndjson ? "application/x-ndjson" : "text/csv; charset=utf-8";
    r->reply = buf;
    r->replied = true;
}
