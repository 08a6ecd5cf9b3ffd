/*
 * api.h - the HTTP/JSON layer: a request as handlers see it, and the helpers
 * they use to read input and write replies.
 *
 * Flow: server.c accepts the request, reads the body (bounded), matches the
 * route, authenticates the key and checks its role, loads the key's program,
 * parses the JSON body, then calls the handler. A handler validates input,
 * asks core/ to decide, store/ to persist, and replies exactly once.
 * Helpers named ..._or_reply send the error reply themselves and return a
 * negative code, so handlers stay flat:
 *
 *     if (body_str_or_reply(r, "external_id", true, &ext)) return;
 */
#ifndef FD_API_H
#define FD_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/jsonx.h"
#include "core/program.h"
#include "core/promo.h"
#include "store/db.h"
#include "store/keys.h"
#include "store/store.h"

typedef struct fd_server fd_server;
typedef struct fd_req fd_req;

/* What runs once a write handed over by fd_reply_after_write is durable (or
 * refused): replies according to rc, frees ctx. */
typedef void (*fd_req_written_fn)(fd_req *r, void *ctx, int rc);

struct fd_req {
    fd_server *srv;
    fd_store *store;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const char *params[4]; /* path parameters, in order */
    json_t *body;          /* parsed JSON object, or NULL when the body was empty */
    const char *raw;       /* the body as sent, for routes that take CSV or NDJSON */
    size_t raw_len;
    fd_db *db;          /* reader connection for this request */
    fd_principal who;   /* authenticated caller */
    fd_program program; /* the caller's program */
    /* reply */
    int status;
    char *reply;              /* malloc'ed body */
    size_t reply_len;         /* its length; 0: a NUL-terminated text */
    const char *content_type; /* NULL: application/json */
    bool replied;
    /* fd_reply_after_write: the write the server hands to the store */
    struct {
        fd_write_fn fn;
        void *ctx;
        fd_req_written_fn written;
        int rc;          /* its outcome, once written_rc */
        bool written_rc; /* the store is done with it: written is to run */
    } later;
};

/* Replies with JSON value v (reference stolen). */
void fd_reply(fd_req *r, int status, json_t *v);
/* Replies with the JSON text w wrote (w is spent). */
void fd_reply_written(fd_req *r, int status, fd_json_writer *w);
/* Replies with len bytes of body (malloc'ed, stolen) of a content type. */
void fd_reply_bytes(fd_req *r, int status, const char *content_type, unsigned char *body,
                    size_t len);
/* Replies {"error":{"code","message","field"}}; field may be NULL. */
void fd_reply_error(fd_req *r, int status, const char *code, const char *message,
                    const char *field);
/* Replies with the HTTP status and code of an fd_status value. */
void fd_reply_status(fd_req *r, int rc, const char *message);
/* The HTTP status for an fd_status value. */
int fd_http_status(int rc);

/* Reads a string field of the body: 422 when of another type, empty, longer
 * than FD_TEXT_MAX or, when required, missing. *out is NULL when absent. */
int body_str_or_reply(fd_req *r, const char *key, bool required, const char **out);
/* Same for identifiers (printable ASCII, no spaces). */
int body_ident_or_reply(fd_req *r, const char *key, bool required, const char **out);
/* Reads an integer field; *present tells whether it was there. */
int body_int_or_reply(fd_req *r, const char *key, bool required, int64_t min, int64_t max,
                      int64_t *out, bool *present);
/* Reads an amount (decimal string "105.99", or a JSON number exactly
 * representable in the currency's minor units) from object o. */
int json_amount_or_reply(fd_req *r, json_t *o, const char *key, const char *field, int exponent,
                         bool required, int64_t *out, bool *present);
/* Reads an ISO 8601 time field. */
int body_time_or_reply(fd_req *r, const char *key, int64_t *out, bool *present);

/* Reads line i of an order, {"sku", "category"?, "quantity", "unit_price"}
 * (field "order.lines[i]"); sku and category are borrowed from l. */
int order_line_or_reply(fd_req *r, json_t *l, size_t i, int exponent, fd_cart_line *out);

/* Path parameter i as the id of a member, webhook or campaign of the
 * caller's program (what: "member", "webhook", "campaign"); 404 with
 * <what>_not_found otherwise. */
int owned_id_or_reply(fd_req *r, int i, const char *what, int64_t *out);

/* Path parameter i as a positive integer id; 404 otherwise. */
int param_id_or_reply(fd_req *r, int i, int64_t *out);
/* Query argument, or NULL. */
const char *fd_query(fd_req *r, const char *key);
/* Reads ?limit= and ?cursor= (an id); 422 when malformed. */
int page_or_reply(fd_req *r, int *limit, int64_t *after);

/* A list page: {"data": data, "next_cursor": "<id>" or null} (data stolen). */
json_t *fd_page_json(json_t *data, int64_t next_cursor);
/* Runs a list query whose first column is the row id (the cursor) and
 * replies a page: one row(st, arg) object per row, next_cursor when the page
 * is full. row returns NULL for a row it folded into the object it returned
 * before (a joined row of the same id). Replies the mapped error when the
 * query fails. */
void reply_page(fd_req *r, const char *sql, const fd_param *params, size_t n, int limit,
                json_t *(*row)(fd_stmt *st, void *arg), void *arg);

/* BLAKE2b of a one-time token (consent confirmations) as 64 hex digits. */
void token_hash_hex(const char *token, char hex[65]);

/* Creates a key of the caller's program and replies 201 with its text. */
void reply_new_key(fd_req *r, fd_role role, int64_t member_id, const char *label);

/* The canonical text of v, as stored and hashed: fd_json_text with sorted
 * keys; caller frees. */
char *json_canonical(const json_t *v);

/* Why a write job failed, filled by the job (it runs on the writer thread
 * and cannot reply itself). code NULL means "use the status's default". */
typedef struct fd_job_error {
    const char *code;
    const char *field;
    char message[200];
} fd_job_error;

/* Sets e and returns rc, for `return job_fail(e, FD_ECONFLICT, "order_exists", ...)`. */
int job_fail(fd_job_error *e, int rc, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Runs fn in the next group commit; on failure replies with e (or the
 * status's default) and returns the negative code. */
int write_or_reply(fd_req *r, fd_write_fn fn, void *ctx, const fd_job_error *e);
/* The same for a replayable job (fd_store_write_replayable). */
int write_replayable_or_reply(fd_req *r, fd_write_fn fn, void *ctx, const fd_job_error *e);
/* Replies with e (or the status's default) when a write's code rc is an
 * error, and returns it; FD_OK otherwise. */
int written_or_reply(fd_req *r, int rc, const fd_job_error *e);

/* Instead of replying: the reply comes once the replayable write fn(db, ctx)
 * is durable, without a thread waiting for it. After the handler returns,
 * the server gives its reader back and queues the write
 * (fd_store_submit_then); once it is durable the store resumes the
 * connection and written(r, ctx, rc) replies, on the network thread again
 * (FD_EBUSY when the queue was full). On a request worker, or while the
 * server stops, the server waits for the write itself. Either way written
 * runs exactly once, with r->db NULL. */
void fd_reply_after_write(fd_req *r, fd_write_fn fn, void *ctx, fd_req_written_fn written);

#endif
