/*
 * bench_log.c - the floor of an append-only event log on this machine: each
 * event's JSON parsed (jansson) and appended as one row (its id unique, its
 * text) in durable group commits of 1,000 (WAL, synchronous=FULL), on one
 * thread, with no rules, no state and no answers. What issue 11's batch
 * target (100,000 events/s) would have to be built on instead of the SQL
 * statements each event runs now (docs/performance.md).
 *   bench_log DB [EVENTS]
 * Prints "log_append_floor: <n> events/s (parse <us> us, append <us> us)".
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define GROUP 1000

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
    fprintf(stderr, "bench_log: %s: %s\n", sql, sqlite3_errmsg(db));
    return -1;
}

/* The text of purchase i, shaped like the batch bench's, in buf. */
static int purchase(char *buf, size_t size, long i)
{
    return snprintf(buf, size,
                    "{\"id\":\"bt-%ld\",\"type\":\"purchase\",\"external_id\":\"m%ld\","
                    "\"order\":{\"id\":\"bo-%ld\",\"total\":\"%ld.00\",\"currency\":\"EUR\"}}",
                    i, i * 7 % 100000 + 1, i, i % 300 + 1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_log DB [EVENTS]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 200000;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE log(seq INTEGER PRIMARY KEY, program_id BIGINT NOT NULL,"
                 " event_id TEXT NOT NULL, body TEXT NOT NULL);"
                 "CREATE UNIQUE INDEX log_event ON log(program_id, event_id);") ||
        sqlite3_prepare_v2(db, "INSERT INTO log(program_id, event_id, body) VALUES (1, ?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK)
        goto fail;
    char body[256];
    double parsing = 0, t0 = seconds();
    if (exec(db, "BEGIN")) goto fail;
    for (long i = 0; i < n; i++) {
        int len = purchase(body, sizeof body, i);
        double p0 = seconds();
        json_t *event = json_loadb(body, (size_t)len, 0, NULL);
        const char *id = json_string_value(json_object_get(event, "id"));
        parsing += seconds() - p0;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, body, len, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        json_decref(event);
        if (rc != SQLITE_DONE || (i % GROUP == GROUP - 1 && exec(db, "COMMIT; BEGIN"))) goto fail;
    }
    if (exec(db, "COMMIT")) goto fail;
    double total = seconds() - t0;
    printf("log_append_floor: %.0f events/s (parse %.2f us, append %.2f us)\n", (double)n / total,
           parsing / (double)n * 1e6, (total - parsing) / (double)n * 1e6);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
fail:
    fprintf(stderr, "bench_log: %s\n", db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 1;
}
