/*
 * server.c - libmicrohttpd glue: bounded body reading, routing, key
 * authentication and role checks, dispatch, per-route metrics (server.h).
 *
 * Threads: libmicrohttpd's pool (one network thread per core) reads
 * requests and answers the quick reads on the spot. A request that may
 * wait (every write waits for its group commit; some reads are long) must
 * not run there, since it would hold up every other connection of that
 * thread: its connection is suspended and the request handed to a request
 * worker, which runs the handler and resumes the connection; the network
 * thread then sends the reply. A single event (ROUTE_NETWORK) is validated
 * on the network thread, which hands its write to the store; the store's
 * thread that finds it durable resumes the connection and the network
 * thread replies, so no thread waits for the commit and two thread
 * hand-offs per event are saved.
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/routes.h"
#include "base/fd.h"
#include "base/metrics.h"
#include "store/programs.h"

/* Statuses counted per route; anything else is counted as "other". */
static const int COUNTED[] = {200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 500, 503};
#define NCOUNTED ((int)(sizeof COUNTED / sizeof COUNTED[0]))
#define ROUTES_MAX 256
#define NETWORK_THREADS_MAX 16
/* A connection's memory: its request line and headers (so they may take
 * about 15 KiB, 431 beyond) and its read and write buffers. libmicrohttpd
 * zeroes all of it after every request of a kept-alive connection: at its
 * default of 32 KiB that was a third of a balance read's instructions. */
#define CONNECTION_POOL_BYTES (16 * 1024)
/* A ROUTE_NETWORK request with a larger body goes to a worker all the same:
 * parsing it would hold up the network thread's other connections. An event
 * is a few KiB; 1 MiB of JSON takes milliseconds. */
#define NETWORK_BODY_MAX (64 * 1024)

/* Per-connection state while a request is read and answered. */
typedef struct conn_state {
    char *body;
    size_t len, max;
    bool too_big;
    int64_t t0_us;
    int route;       /* index in fd_routes, or -1 */
    bool path_known; /* some route has this path (405 rather than 404) */
    fd_req *req;     /* set while a worker has it, and once answered */
    struct MHD_Connection *conn;
    struct conn_state *next; /* in the workers' queue */
} conn_state;

struct fd_server {
    struct MHD_Daemon *mhd;
    fd_store *store;
    char *web_dir;                                      /* NULL: no pages */
    _Atomic int64_t hits[ROUTES_MAX + 1][NCOUNTED + 1]; /* last route row: unmatched */
    _Atomic int64_t latency[FD_LATENCY_BUCKETS + 1];
    _Atomic int64_t latency_sum_us, requests;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;  /* requests queued, or stopping */
    conn_state *head, *tail; /* requests waiting for a worker */
    bool stopping; /* workers finish the queue and exit; new requests run on the network threads */
    int in_store;  /* requests whose reply waits for a write in the store (write_later) */
    pthread_cond_t idle_cv; /* in_store fell to 0 while stopping */
    pthread_t *workers;
    int nworkers;
};

static int match_route(const char *method, const char *path, fd_req *r, bool *path_known)
{
    *path_known = false;
    for (int i = 0; i < fd_nroutes; i++) {
        const char *p = fd_routes[i].pattern, *u = path;
        int np = 0;
        const char *params[4];
        size_t plen[4];
        while (*p && *u) {
            if (p[0] == '{' && p[1] == '}') {
                const char *end = strchr(u, '/');
                size_t n = end ? (size_t)(end - u) : strlen(u);
                if (n == 0 || np == 4) break;
                params[np] = u;
                plen[np++] = n;
                u += n;
                p += 2;
            } else if (*p == *u) {
                p++;
                u++;
            } else {
                break;
            }
        }
        if (*p || *u) continue;
        *path_known = true;
        if (strcmp(fd_routes[i].method, method)) continue;
        for (int k = 0; k < np; k++) {
            char *v = fd_malloc(plen[k] + 1);
            memcpy(v, params[k], plen[k]);
            v[plen[k]] = 0;
            r->params[k] = v;
        }
        return i;
    }
    return -1;
}

static const char *api_key(struct MHD_Connection *c)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7)) return auth + 7;
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Api-Key");
}

/* Authenticates, checks the role and loads the program; replies on failure. */
static int authorize_or_reply(fd_req *r, const fd_route *route)
{
    const char *key = api_key(r->conn);
    if (!key) {
        fd_reply_error(r, 401, "unauthenticated",
                       "an API key is required (Authorization: Bearer <key>)", NULL);
        return FD_EAUTH;
    }
    int rc = fd_key_authenticate(r->db, key, &r->who, &r->program);
    if (rc == FD_EAUTH) {
        fd_reply_error(r, 401, "unauthenticated", "the API key is unknown or revoked", NULL);
        return rc;
    }
    if (rc) {
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    if (!(route->roles & FD_ROLE_BIT(r->who.role))) {
        char msg[96];
        snprintf(msg, sizeof msg, "role %s may not call this route", fd_role_name(r->who.role));
        fd_reply_error(r, 403, "forbidden", msg, NULL);
        return FD_EFORBIDDEN;
    }
    if (r->who.role == FD_ROLE_MEMBER) {
        char own[24];
        snprintf(own, sizeof own, "%lld", (long long)r->who.member_id);
        bool self = (route->flags & ROUTE_SELF) && r->params[0] && !strcmp(r->params[0], own);
        if (!self && !(route->flags & ROUTE_KEY)) {
            fd_reply_error(r, 403, "forbidden", "a member key sees only its own member", NULL);
            return FD_EFORBIDDEN;
        }
    }
    return FD_OK;
}

static int parse_body_or_reply(fd_req *r, const conn_state *cs)
{
    if (cs->len == 0) return FD_OK;
    json_error_t err;
    r->body = json_loadb(cs->body, cs->len, JSON_REJECT_DUPLICATES, &err);
    if (!r->body) {
        char msg[200];
        snprintf(msg, sizeof msg, "malformed JSON at line %d column %d: %s", err.line, err.column,
                 err.text);
        fd_reply_error(r, 400, "invalid_json", msg, NULL);
        return FD_EINVAL;
    }
    if (!json_is_object(r->body)) {
        fd_reply_error(r, 400, "invalid_json", "the body must be a JSON object", NULL);
        return FD_EINVAL;
    }
    return FD_OK;
}

static bool write_later(fd_server *s, fd_req *r, conn_state *cs);

/* The handler's write of fd_reply_after_write, run by the store. */
static int run_later(fd_db *db, void *arg)
{
    fd_req *r = arg;
    return r->later.fn(db, r->later.ctx);
}

/* The reply to what the store wrote for r (written_later), once: the
 * handler's written call, with its write's outcome. */
static void reply_if_written(fd_req *r)
{
    if (!r->later.written_rc) return;
    r->later.written_rc = false;
    r->later.written(r, r->later.ctx, r->later.rc);
    if (!r->replied) fd_reply_error(r, 500, "internal", "the handler did not reply", NULL);
}

/* Runs the matched route's handler (or answers why none runs). Returns true
 * when the handler's write went to the store (write_later), which resumes
 * the connection once it is durable: r is then not the caller's to touch,
 * and on_request replies on resumption. Otherwise r->reply is set. may_wait:
 * the caller is a request worker, which waits for a write that the handler
 * handed over instead of suspending the connection. */
static bool dispatch(fd_server *s, fd_req *r, conn_state *cs, bool may_wait)
{
    int i = cs->route;
    if (i < 0) {
        if (cs->path_known)
            fd_reply_error(r, 405, "method_not_allowed", "method not allowed here", NULL);
        else
            fd_reply_error(r, 404, "not_found", "no such route", NULL);
        return false;
    }
    if (cs->too_big) {
        fd_reply_error(r, 413, "body_too_large",
                       cs->max > FD_BODY_MAX ? "the request body exceeds 32 MiB"
                                             : "the request body exceeds 1 MiB",
                       NULL);
        return false;
    }
    const fd_route *route = &fd_routes[i];
    r->db = fd_store_reader(s->store);
    r->raw = cs->body;
    r->raw_len = cs->len;
    if ((route->flags & ROUTE_PUBLIC) || authorize_or_reply(r, route) == FD_OK) {
        if ((route->flags & ROUTE_RAW) || parse_body_or_reply(r, cs) == FD_OK) route->handler(r);
    }
    fd_store_release(s->store, r->db);
    r->db = NULL;
    if (r->later.fn && !r->replied) {
        if (!may_wait && write_later(s, r, cs)) return true;
        r->later.written(r, r->later.ctx, fd_store_write_replayable(s->store, run_later, r));
    }
    if (!r->replied) fd_reply_error(r, 500, "internal", "the handler did not reply", NULL);
    return false;
}

static void count(fd_server *s, int route, int status, int64_t us)
{
    int row = route >= 0 && route < ROUTES_MAX ? route : ROUTES_MAX;
    int col = NCOUNTED;
    for (int k = 0; k < NCOUNTED; k++)
        if (COUNTED[k] == status) col = k;
    atomic_fetch_add(&s->hits[row][col], 1);
    int b = 0;
    while (b < FD_LATENCY_BUCKETS && us > fd_latency_bounds_us[b])
        b++;
    atomic_fetch_add(&s->latency[b], 1);
    atomic_fetch_add(&s->latency_sum_us, us);
    atomic_fetch_add(&s->requests, 1);
}

static enum MHD_Result send_reply(struct MHD_Connection *c, fd_req *r)
{
    size_t n = r->reply_len ? r->reply_len : strlen(r->reply);
    struct MHD_Response *resp = MHD_create_response_from_buffer(n, r->reply, MHD_RESPMEM_MUST_FREE);
    r->reply = NULL; /* owned by the response now */
    MHD_add_response_header(resp, "Content-Type",
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* A safe relative path of a page: [A-Za-z0-9._-/], no empty, "." or ".."
 * segment, no hidden file. */
static bool page_path_ok(const char *p)
{
    if (*p != '/' || strlen(p) > 200) return false;
    for (const char *c = p + 1; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || strchr("._-/", *c);
        if (!ok) return false;
        if (*c == '.' && c[-1] == '/') return false; /* "/." starts ., .. and hidden names */
        if (*c == '/' && c[-1] == '/') return false;
    }
    return true;
}

static const char *content_type_of(const char *path)
{
    static const char *const TYPES[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof TYPES / sizeof *TYPES; i++)
        if (!strcmp(dot, TYPES[i][0])) return TYPES[i][1];
    return NULL;
}

/* GET of a page or asset under the web folder; "/" is index.html. Answers
 * NO when it is not one (the API's 404 follows). */
static bool serve_page(fd_server *s, struct MHD_Connection *c, const char *method, const char *url,
                       enum MHD_Result *ret)
{
    if (!s->web_dir || strcmp(method, "GET") || !strncmp(url, "/v1/", 4)) return false;
    const char *path = strcmp(url, "/") ? url : "/index.html";
    const char *type = content_type_of(path);
    char file[512];
    if (!page_path_ok(path) || !type ||
        snprintf(file, sizeof file, "%s%s", s->web_dir, path) >= (int)sizeof file)
        return false;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) return false;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    *ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return true;
}

static void free_req(fd_req *r)
{
    for (int k = 0; k < 4; k++)
        free((void *)r->params[k]);
    json_decref(r->body);
    free(r->reply);
    free(r);
}

/* Sends r's reply and frees r. */
static enum MHD_Result answer(fd_server *s, struct MHD_Connection *c, conn_state *cs, fd_req *r)
{
    enum MHD_Result ret = send_reply(c, r);
    count(s, cs->route, r->status, fd_monotonic_us() - cs->t0_us);
    free_req(r);
    return ret;
}

/* Whether the request may wait (a write, a long read): then a worker runs it. */
static bool needs_worker(const char *method, const conn_state *cs)
{
    if (cs->route < 0 || cs->too_big) return false; /* answered at once */
    if (fd_routes[cs->route].flags & ROUTE_NETWORK) return cs->len > NETWORK_BODY_MAX;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) return true;
    return (fd_routes[cs->route].flags & ROUTE_WORKER) != 0;
}

/* Suspends the connection and queues its request r for the workers; false
 * once the server is stopping, when the caller runs it itself (nothing
 * suspended). */
static bool hand_to_worker(fd_server *s, struct MHD_Connection *c, conn_state *cs, fd_req *r)
{
    pthread_mutex_lock(&s->mu);
    bool queued = !s->stopping;
    if (queued) {
        cs->req = r;
        cs->conn = c;
        MHD_suspend_connection(c); /* before a worker can resume it */
        cs->next = NULL;
        if (s->tail)
            s->tail->next = cs;
        else
            s->head = cs;
        s->tail = cs;
        pthread_cond_signal(&s->work_cv);
    }
    pthread_mutex_unlock(&s->mu);
    return queued;
}

/* The store's call once the write of r is durable: the connection resumed,
 * after which r is the network thread's again and on_request replies. The
 * reply is not built here: the syncer's next sync would wait for it. */
static void written_later(void *arg, int rc)
{
    fd_req *r = arg;
    fd_server *s = r->srv;
    r->later.rc = rc;
    r->later.written_rc = true;
    MHD_resume_connection(r->conn); /* libmicrohttpd calls on_request again */
    pthread_mutex_lock(&s->mu);
    if (--s->in_store == 0 && s->stopping) pthread_cond_signal(&s->idle_cv);
    pthread_mutex_unlock(&s->mu);
}

/* Suspends the connection and hands the handler's write to the store, which
 * resumes it once the write is durable (written_later). False once the
 * server is stopping, when the caller waits for the write itself (nothing
 * suspended). */
static bool write_later(fd_server *s, fd_req *r, conn_state *cs)
{
    pthread_mutex_lock(&s->mu);
    bool later = !s->stopping;
    if (later) {
        s->in_store++;
        cs->req = r;
        MHD_suspend_connection(r->conn); /* before the store can resume it */
    }
    pthread_mutex_unlock(&s->mu);
    if (later) {
        int rc = fd_store_submit_then(s->store, run_later, r, written_later);
        if (rc) written_later(r, rc); /* refused: the reply now */
    }
    return later;
}

static void *worker_main(void *arg)
{
    fd_server *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->work_cv, &s->mu);
        conn_state *cs = s->head;
        if (!cs) break; /* stopping, and nothing left */
        s->head = cs->next;
        if (!s->head) s->tail = NULL;
        pthread_mutex_unlock(&s->mu);
        dispatch(s, cs->req, cs, true);
        MHD_resume_connection(cs->conn); /* libmicrohttpd calls on_request again */
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    fd_server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        cs = fd_calloc(1, sizeof *cs);
        cs->t0_us = fd_monotonic_us();
        cs->max = !strcmp(url, "/v1/events:batch") ? FD_BATCH_BODY_MAX : FD_BODY_MAX;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > cs->max) cs->too_big = true;
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big && cs->len + *upload_size > cs->max) {
            cs->too_big = true;
            free(cs->body);
            cs->body = NULL;
        }
        if (!cs->too_big) {
            cs->body = fd_realloc(cs->body, cs->len + *upload_size + 1);
            memcpy(cs->body + cs->len, upload_data, *upload_size);
            cs->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (cs->req) { /* resumed: a worker ran it, or the store wrote what it handed over */
        fd_req *r = cs->req;
        cs->req = NULL;
        reply_if_written(r);
        return answer(s, c, cs, r);
    }
    enum MHD_Result page;
    if (serve_page(s, c, method, url, &page)) return page;
    fd_req *r = fd_calloc(1, sizeof *r);
    r->srv = s;
    r->store = s->store;
    r->conn = c;
    r->method = method;
    r->path = url;
    cs->route = match_route(method, url, r, &cs->path_known);
    if (needs_worker(method, cs) && hand_to_worker(s, c, cs, r)) return MHD_YES;
    if (dispatch(s, r, cs, false)) return MHD_YES; /* resumed once written */
    return answer(s, c, cs, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    conn_state *cs = *con_cls;
    if (cs) {
        if (cs->req) { /* answered by a worker or written by the store, never sent */
            reply_if_written(cs->req); /* frees what the handler handed over */
            free_req(cs->req);
        }
        free(cs->body);
        free(cs);
    }
    *con_cls = NULL;
}

static int bind_listen(const char *addr, int *fd_out, int *port_out)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host) return FD_EINVAL;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    int port = atoi(colon + 1);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    if (port < 0 || port > 65535 || inet_pton(AF_INET, host, &a.sin_addr) != 1) return FD_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
        fd_log("error", "msg=\"cannot listen on %s\"", addr);
        if (fd >= 0) close(fd);
        return FD_EIO;
    }
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *fd_out = fd;
    *port_out = ntohs(a.sin_port);
    return FD_OK;
}

int fd_server_start(const fd_server_config *cfg, fd_store *store, fd_server **out, int *port)
{
    if (fd_nroutes > ROUTES_MAX) {
        fd_log("error", "msg=\"%d routes, more than ROUTES_MAX %d\"", fd_nroutes, ROUTES_MAX);
        return FD_EINVAL;
    }
    int fd, rc = bind_listen(cfg->listen, &fd, port);
    if (rc) return rc;
    fd_server *s = fd_calloc(1, sizeof *s);
    s->store = store;
    s->web_dir = cfg->web_dir && *cfg->web_dir ? fd_strdup(cfg->web_dir) : NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->idle_cv, NULL);
    s->workers = fd_calloc((size_t)cfg->threads, sizeof *s->workers);
    for (; s->nworkers < cfg->threads; s->nworkers++)
        if (pthread_create(&s->workers[s->nworkers], NULL, worker_main, s)) break;
    if (s->nworkers < cfg->threads) {
        fd_log("error", "msg=\"could not start the request workers\"");
        close(fd);
        fd_server_stop(s);
        return FD_EIO;
    }
    /* poll(), not epoll: with epoll, MHD_quiesce_daemon (fd_server_stop) races
     * with the network threads and libmicrohttpd aborts the process now and
     * then (docs/architecture.md). */
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
                                  MHD_ALLOW_SUSPEND_RESUME,
                              0, NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)fd_server_network_threads(),
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_POOL_BYTES,
                              MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
                              4096u, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!s->mhd) {
        fd_log("error", "msg=\"libmicrohttpd failed to start\"");
        close(fd);
        fd_server_stop(s);
        return FD_EIO;
    }
    *out = s;
    return FD_OK;
}

int fd_server_network_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > NETWORK_THREADS_MAX ? NETWORK_THREADS_MAX : (int)n;
}

/* No new connections; the workers finish what is queued (resuming each
 * connection) and exit, and the writes handed to the store are answered,
 * while requests still arriving on open connections run on the network
 * threads; then libmicrohttpd stops, with no connection left suspended.
 * Under load this takes what the queue takes, not until the clients stop
 * sending. */
void fd_server_stop(fd_server *s)
{
    if (!s) return;
    MHD_socket listening = s->mhd ? MHD_quiesce_daemon(s->mhd) : MHD_INVALID_SOCKET;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    assert(!s->head); /* nothing is queued once stopping is set */
    pthread_mutex_lock(&s->mu);
    while (s->in_store) /* nor, soon, handed to the store */
        pthread_cond_wait(&s->idle_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (s->mhd) MHD_stop_daemon(s->mhd);
    if (listening != MHD_INVALID_SOCKET) close(listening); /* quiesced: ours to close */
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->idle_cv);
    pthread_mutex_destroy(&s->mu);
    free(s->workers);
    free(s->web_dir);
    free(s);
}

char *fd_server_metrics(fd_server *s)
{
    size_t cap = 65536, n = 0;
    char *out = fd_malloc(cap);
    n += (size_t)snprintf(out + n, cap - n,
                          "# HELP fidelis_http_requests_total HTTP requests by route and status.\n"
                          "# TYPE fidelis_http_requests_total counter\n");
    for (int i = 0; i <= fd_nroutes && i <= ROUTES_MAX; i++) {
        int row = i < fd_nroutes ? i : ROUTES_MAX;
        for (int k = 0; k <= NCOUNTED; k++) {
            int64_t v = s->hits[row][k];
            if (!v || n + 256 > cap) continue;
            char status[8];
            if (k < NCOUNTED)
                snprintf(status, sizeof status, "%d", COUNTED[k]);
            else
                strcpy(status, "other");
            n += (size_t)snprintf(
                out + n, cap - n,
                "fidelis_http_requests_total{route=\"%s %s\",status=\"%s\"} %lld\n",
                i < fd_nroutes ? fd_routes[i].method : "ANY",
                i < fd_nroutes ? fd_routes[i].pattern : "unmatched", status, (long long)v);
        }
    }
    n += (size_t)snprintf(out + n, cap - n,
                          "# HELP fidelis_http_request_duration_seconds Request latency.\n"
                          "# TYPE fidelis_http_request_duration_seconds histogram\n");
    int64_t cum = 0;
    for (int b = 0; b <= FD_LATENCY_BUCKETS; b++) {
        cum += s->latency[b];
        char le[32];
        if (b < FD_LATENCY_BUCKETS)
            snprintf(le, sizeof le, "%g", fd_latency_bounds_us[b] / 1e6);
        else
            strcpy(le, "+Inf");
        n += (size_t)snprintf(out + n, cap - n,
                              "fidelis_http_request_duration_seconds_bucket{le=\"%s\"} %lld\n", le,
                              (long long)cum);
    }
    n += (size_t)snprintf(out + n, cap - n,
                          "fidelis_http_request_duration_seconds_sum %.6f\n"
                          "fidelis_http_request_duration_seconds_count %lld\n",
                          (double)s->latency_sum_us / 1e6, (long long)s->requests);
    char *core = fd_metrics_render_core();
    size_t cl = strlen(core);
    out = fd_realloc(out, n + cl + 1);
    memcpy(out + n, core, cl + 1);
    free(core);
    return out;
}
