/*
 * loadgen.c - requests at a fixed rate over kept-alive connections (libcurl
 * multi), for latency at a stated load. wrk sends as fast as its connections
 * allow, so its latency is that of a saturated server; issue 11 asks for the
 * p99 at half the maximum throughput, which needs a rate.
 *
 * Each request has a scheduled send time (start + i / rate) and is handed to
 * libcurl then, whether or not a connection is free: when the server falls
 * behind, the wait for a connection is part of the latency (no coordinated
 * omission). Latency runs from that hand-over; how late the hand-overs were
 * against the schedule (this loop wakes at millisecond steps) is printed too.
 *
 *   loadgen URL KEY RATE SECONDS CONNECTIONS BODIES   POST each line of the
 *                                                      file BODIES to URL
 *   loadgen URL KEY RATE SECONDS CONNECTIONS -MEMBERS  GET URL/<1..MEMBERS>
 *
 * Prints "requests N rate R/s errors E p50 X ms p99 Y ms p999 Z ms max W ms
 * late_p99 L ms".
 * Bodies are used in order and the file must hold RATE x SECONDS of them.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WARMUP_S 1.0   /* requests scheduled in the first second are not counted */
#define POLL_MAX_MS 10 /* longest wait for the network between sends */

typedef struct run {
    const char *url;
    int members; /* > 0: GET url/<random member>; else POST bodies */
    char **bodies;
    size_t nbodies;
    double rate, seconds, start;
    struct curl_slist *headers;
    double *sent;       /* per request: when handed to libcurl */
    double *latency_ms; /* per request, -1 until done */
    size_t total, errors, done;
} run;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A benchmark tool: out of memory ends the run. */
static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fprintf(stderr, "loadgen: out of memory\n");
        exit(1);
    }
    return q;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t cap = 1024;
    char **v = xrealloc(NULL, cap * sizeof *v), *line = NULL;
    size_t len = 0;
    ssize_t got;
    *n = 0;
    while ((got = getline(&line, &len, f)) > 0) {
        if (line[got - 1] == '\n') line[got - 1] = '\0';
        if (*n == cap) v = xrealloc(v, (cap *= 2) * sizeof *v);
        size_t len_line = strlen(line) + 1;
        v[*n] = memcpy(xrealloc(NULL, len_line), line, len_line);
        (*n)++;
    }
    free(line);
    fclose(f);
    return v;
}

/* Starts request i on handle h. */
static void start_request(run *r, CURLM *multi, CURL *h, size_t i, char *url, size_t url_size)
{
    curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)i);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    if (r->members > 0) {
        snprintf(url, url_size, "%s/%d", r->url, 1 + rand() % r->members);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_URL, r->url);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->bodies[i]);
    }
    curl_multi_add_handle(multi, h);
}

/* Records the requests that finished; their handles go back to the pool. */
static void collect(run *r, CURLM *multi, CURL **pool, size_t *npool)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *h = msg->easy_handle;
        void *priv = NULL;
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        size_t i = (size_t)priv;
        r->latency_ms[i] = (now_s() - r->sent[i]) * 1000.0;
        if (msg->data.result != CURLE_OK || status >= 500 || status == 0) r->errors++;
        r->done++;
        curl_multi_remove_handle(multi, h);
        pool[(*npool)++] = h;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(run *r)
{
    size_t first = (size_t)(WARMUP_S * r->rate), n = 0, nlate = 0;
    double *v = xrealloc(NULL, (r->total + 1) * sizeof *v);
    double *late = xrealloc(NULL, (r->total + 1) * sizeof *late);
    for (size_t i = first; i < r->total; i++) {
        if (r->latency_ms[i] >= 0) v[n++] = r->latency_ms[i];
        if (r->sent[i] > 0) late[nlate++] = (r->sent[i] - (r->start + (double)i / r->rate)) * 1000;
    }
    qsort(v, n, sizeof *v, cmp_double);
    qsort(late, nlate, sizeof *late, cmp_double);
#define AT(a, k, q) ((k) ? (a)[(size_t)((double)((k)-1) * (q))] : 0.0)
    printf("requests %zu rate %.0f/s errors %zu p50 %.2f ms p99 %.2f ms p999 %.2f ms max %.2f ms"
           " late_p99 %.2f ms\n",
           n, (double)r->total / r->seconds, r->errors, AT(v, n, 0.50), AT(v, n, 0.99),
           AT(v, n, 0.999), AT(v, n, 1.0), AT(late, nlate, 0.99));
#undef AT
    free(v);
    free(late);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: loadgen URL KEY RATE SECONDS CONNECTIONS BODIES|-MEMBERS\n");
        return 2;
    }
    run r = {.url = argv[1], .rate = atof(argv[3]), .seconds = atof(argv[4])};
    int connections = atoi(argv[5]);
    if (argv[6][0] == '-')
        r.members = atoi(argv[6] + 1);
    else if (!(r.bodies = read_lines(argv[6], &r.nbodies)))
        return perror(argv[6]), 1;
    r.total = (size_t)(r.rate * r.seconds);
    if (r.rate <= 0 || r.seconds <= 0 || connections <= 0 || (!r.members && r.nbodies < r.total)) {
        fprintf(stderr, "loadgen: bad rate, duration, connections or too few bodies\n");
        return 2;
    }
    char auth[512];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", argv[2]);
    r.headers = curl_slist_append(NULL, auth);
    r.headers = curl_slist_append(r.headers, "Content-Type: application/json");
    r.latency_ms = xrealloc(NULL, r.total * sizeof *r.latency_ms);
    r.sent = xrealloc(NULL, r.total * sizeof *r.sent);
    for (size_t i = 0; i < r.total; i++)
        r.latency_ms[i] = -1, r.sent[i] = 0;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)connections);
    size_t npool = 0, next = 0;
    CURL **pool = xrealloc(NULL, r.total * sizeof *pool);
    char url[1024];
    srand(7919);
    r.start = now_s();
    double deadline = r.start + r.seconds + 30; /* stragglers get 30 s */
    while (r.done < r.total && now_s() < deadline) {
        double t = now_s();
        for (; next < r.total && r.start + (double)next / r.rate <= t; next++) {
            CURL *h = npool ? pool[--npool] : curl_easy_init();
            r.sent[next] = now_s();
            start_request(&r, multi, h, next, url, sizeof url);
        }
        int running;
        curl_multi_perform(multi, &running);
        collect(&r, multi, pool, &npool);
        double wait_ms = next < r.total ? (r.start + (double)next / r.rate - now_s()) * 1000 : 1;
        int timeout = wait_ms <= 0 ? 0 : wait_ms >= POLL_MAX_MS ? POLL_MAX_MS : 1 + (int)wait_ms;
        curl_multi_poll(multi, NULL, 0, timeout, NULL);
    }
    r.errors += r.total - r.done; /* never answered */
    report(&r);
    while (npool)
        curl_easy_cleanup(pool[--npool]);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
