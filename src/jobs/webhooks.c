/*
 * webhooks.c - the webhook delivery worker (webhooks.h).
 */
#include "jobs/webhooks.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fd.h"

#define ROUND_MAX 50 /* deliveries per round */
#define LEASE_S 120  /* a claimed delivery is retried by anyone after this */
#define BACKOFF_CAP_MS 3600000
#define ERROR_MAX 200

void fd_webhook_settings_default(fd_webhook_settings *s)
{
    *s = (fd_webhook_settings){
        .interval_ms = 1000, .timeout_ms = 5000, .backoff_ms = 1000, .max_attempts = 15};
}

void fd_webhook_signature(const char *secret, int64_t t, const char *body, char *out, size_t n)
{
    char ts[24];
    snprintf(ts, sizeof ts, "%lld.", (long long)t);
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[2 * sizeof mac + 1];
    sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
    snprintf(out, n, "t=%lld,v1=%s", (long long)t, hex);
}

typedef struct due {
    int64_t id, attempts;
    char delivery_id[40];
    char type[64];
    char *url, *secret, *payload;
    /* outcome */
    long status;
    char error[ERROR_MAX];
    int ok;
} due;

/* Loads due deliveries whose member has no earlier undelivered one. */
static int load_due(fd_db *db, int64_t now, due *v, int *n)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db,
                    "SELECT d.id, d.attempts, d.delivery_id, o.type, w.url, w.secret, o.payload"
                    " FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id"
                    " JOIN outbox o ON o.id = d.outbox_id"
                    " WHERE d.status = 'pending' AND d.next_attempt_at <= $1"
                    " AND NOT EXISTS (SELECT 1 FROM deliveries e WHERE e.webhook_id = d.webhook_id"
                    "   AND e.member_id = d.member_id AND e.status = 'pending' AND e.id < d.id)"
                    " ORDER BY d.id LIMIT $2",
                    FD_PARAMS(FD_I(now), FD_I(ROUND_MAX)), &st);
    if (rc) return rc;
    *n = 0;
    while (*n < ROUND_MAX && (rc = fd_stmt_next(st)) == 1) {
        due *d = &v[(*n)++];
        memset(d, 0, sizeof *d);
        d->id = fd_stmt_i64(st, 0);
        d->attempts = fd_stmt_i64(st, 1);
        snprintf(d->delivery_id, sizeof d->delivery_id, "%s", fd_stmt_text(st, 2));
        snprintf(d->type, sizeof d->type, "%s", fd_stmt_text(st, 3));
        d->url = fd_strdup(fd_stmt_text(st, 4));
        d->secret = fd_strdup(fd_stmt_text(st, 5));
        d->payload = fd_strdup(fd_stmt_text(st, 6));
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

typedef struct claim_job {
    due *v;
    int n;
    int64_t now;
    const fd_webhook_settings *cfg;
} claim_job;

/* Leases the deliveries: another worker (or process) skips them meanwhile. */
static int claim(fd_db *db, void *arg)
{
    claim_job *j = arg;
    for (int i = 0; i < j->n; i++) {
        int64_t changed = 0;
        int rc =
            fd_db_run(db,
                      "UPDATE deliveries SET next_attempt_at = $3 WHERE id = $1"
                      " AND status = 'pending' AND next_attempt_at <= $2",
                      FD_PARAMS(FD_I(j->v[i].id), FD_I(j->now), FD_I(j->now + LEASE_S)), &changed);
        if (rc) return rc;
        j->v[i].ok = changed == 1 ? 0 : -1; /* -1: someone else has it */
    }
    return FD_OK;
}

bool fd_address_private(const char *ip)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, ip, a) == 1) {
        return a[0] == 127 || a[0] == 10 || a[0] == 0 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
               (a[0] == 100 && (a[1] & 0xc0) == 64);
    }
    if (inet_pton(AF_INET6, ip, a) != 1) return true; /* not an address: refuse */
    static const unsigned char MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!memcmp(a, MAPPED, 12)) {
        char v4[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, a + 12, v4, sizeof v4);
        return fd_address_private(v4);
    }
    static const unsigned char ZERO[15] = {0};
    bool loopback_or_any = !memcmp(a, ZERO, 15) && (a[15] == 1 || a[15] == 0);
    return loopback_or_any || (a[0] & 0xfe) == 0xfc /* fc00::/7 */ ||
           (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) /* fe80::/10 */;
}

/* libcurl asks before sending on a connection it made: refuse private
 * addresses (checked on the address connected to, so DNS cannot point a
 * public name at an internal host). */
static int check_peer(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)local_ip, (void)primary_port, (void)local_port;
    bool *refused = arg;
    *refused = fd_address_private(primary_ip);
    return *refused ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static void send_one(CURL *c, due *d, const fd_webhook_settings *cfg, int64_t now)
{
    char sig[160], hdr_sig[200], hdr_id[80], hdr_type[100];
    fd_webhook_signature(d->secret, now, d->payload, sig, sizeof sig);
    snprintf(hdr_sig, sizeof hdr_sig, "Fidelis-Signature: %s", sig);
    snprintf(hdr_id, sizeof hdr_id, "Fidelis-Delivery: %s", d->delivery_id);
    snprintf(hdr_type, sizeof hdr_type, "Fidelis-Event: %s", d->type);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, hdr_sig);
    h = curl_slist_append(h, hdr_id);
    h = curl_slist_append(h, hdr_type);
    h = curl_slist_append(h, "User-Agent: fidelis-webhooks/1");
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, d->url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, d->payload);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    bool refused = false;
    if (!cfg->allow_private) {
        curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, check_peer);
        curl_easy_setopt(c, CURLOPT_PREREQDATA, &refused);
    }
    CURLcode res = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &d->status);
    curl_slist_free_all(h);
    d->ok = res == CURLE_OK && d->status >= 200 && d->status < 300;
    if (refused)
        snprintf(d->error, sizeof d->error,
                 "refused: the address is loopback or private (serve --webhook-allow-private)");
    else if (res != CURLE_OK)
        snprintf(d->error, sizeof d->error, "%s", curl_easy_strerror(res));
    else if (!d->ok)
        snprintf(d->error, sizeof d->error, "HTTP %ld", d->status);
}

/* Delay before attempt number `attempts` + 1: backoff x 2^(attempts-1), capped,
 * with up to 25 % random jitter so retries of many deliveries spread out. */
static int64_t retry_delay_ms(const fd_webhook_settings *cfg, int64_t attempts)
{
    int64_t ms = cfg->backoff_ms;
    for (int64_t i = 1; i < attempts && ms < BACKOFF_CAP_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_CAP_MS) ms = BACKOFF_CAP_MS;
    return ms + (ms >= 4 ? randombytes_uniform((uint32_t)(ms / 4)) : 0);
}

typedef struct result_job {
    due *v;
    int n;
    int64_t now;
    const fd_webhook_settings *cfg;
} result_job;

static int record(fd_db *db, void *arg)
{
    result_job *j = arg;
    int rc = FD_OK;
    for (int i = 0; i < j->n && !rc; i++) {
        due *d = &j->v[i];
        if (d->ok < 0) continue; /* not ours */
        int64_t attempts = d->attempts + 1;
        const char *status = d->ok                              ? "delivered"
                             : attempts >= j->cfg->max_attempts ? "dead"
                                                                : "pending";
        int64_t next = j->now + (retry_delay_ms(j->cfg, attempts) + 999) / 1000;
        rc = fd_db_run(db,
                       "UPDATE deliveries SET status = $2, attempts = $3, next_attempt_at = $4,"
                       " last_status = $5, last_error = $6, delivered_at = $7 WHERE id = $1",
                       FD_PARAMS(FD_I(d->id), FD_S(status), FD_I(attempts), FD_I(next),
                                 FD_I(d->status), FD_S(d->ok ? NULL : d->error),
                                 d->ok ? FD_I(j->now) : FD_NULL),
                       NULL);
        if (!rc && !d->ok && !strcmp(status, "dead"))
            fd_log("warn", "msg=\"webhook delivery dead-lettered\" delivery=%s error=\"%s\"",
                   d->delivery_id, d->error);
    }
    return rc;
}

int fd_webhooks_run_once(fd_store *s, const fd_webhook_settings *cfg, int *sent)
{
    due *v = fd_calloc(ROUND_MAX, sizeof *v);
    int n = 0;
    int64_t now = fd_now();
    fd_db *db = fd_store_reader(s);
    int rc = load_due(db, now, v, &n);
    fd_store_release(s, db);
    *sent = 0;
    if (!rc && n) {
        claim_job cj = {v, n, now, cfg};
        rc = fd_store_write(s, claim, &cj);
    }
    if (!rc && n) {
        CURL *c = curl_easy_init();
        for (int i = 0; i < n; i++) {
            if (v[i].ok < 0) continue;
            send_one(c, &v[i], cfg, fd_now());
            (*sent)++;
        }
        curl_easy_cleanup(c);
        result_job rj = {v, n, fd_now(), cfg};
        rc = fd_store_write(s, record, &rj);
    }
    for (int i = 0; i < n; i++) {
        free(v[i].url);
        free(v[i].secret);
        free(v[i].payload);
    }
    free(v);
    return rc;
}

struct fd_webhook_worker {
    fd_store *store;
    fd_webhook_settings cfg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void *worker_main(void *arg)
{
    fd_webhook_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        int sent = 0;
        int rc = fd_webhooks_run_once(w->store, &w->cfg, &sent);
        if (rc) fd_log("error", "job=webhooks rc=%d msg=\"%s\"", rc, fd_strerror(rc));
        pthread_mutex_lock(&w->mu);
        if (sent || w->stop) continue; /* more may be due at once */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += w->cfg.interval_ms / 1000;
        until.tv_nsec += (long)(w->cfg.interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int fd_webhook_worker_start(fd_store *s, const fd_webhook_settings *cfg, fd_webhook_worker **out)
{
    fd_webhook_worker *w = fd_calloc(1, sizeof *w);
    w->store = s;
    w->cfg = *cfg;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
        free(w);
        return FD_EIO;
    }
    *out = w;
    return FD_OK;
}

void fd_webhook_worker_stop(fd_webhook_worker *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    free(w);
}
