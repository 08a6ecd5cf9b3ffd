/*
 * bench_segments.c - counting a segment over many members: N members (default
 * 1,000,000) with daily aggregates in a fresh SQLite file, then a full scan
 * of "spent more than 1000 in the last 365 days and lives in DE".
 * Prints "segment_count_<N>_members: <s> s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "store/config.h"
#include "store/db.h"
#include "store/programs.h"
#include "store/schema.h"
#include "store/segments.h"

static void count(const fd_member *m, void *arg)
{
    (void)m;
    (*(int64_t *)arg)++;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
    const char *path = argc > 2 ? argv[2] : "build/bench/segments.db";
    char wal[256];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(path);
    unlink(wal);
    fd_db *db;
    int64_t version;
    if (fd_db_open(path, &db) || fd_schema_migrate(db, &version)) return 1;
    fd_db_exec(db, "PRAGMA synchronous=OFF");
    fd_program p;
    fd_program_defaults(&p);
    int64_t now = 1795420800; /* 2026-11-23 */
    fd_program_insert(db, &p, now);
    fd_local lt;
    fd_localtime(p.timezone, now, &lt);
    int64_t today = fd_date_days((fd_date){lt.year, lt.month, lt.day});
    int64_t t0 = fd_monotonic_us();
    fd_db_begin(db);
    for (int64_t i = 1; i <= n; i++) {
        char ext[32];
        snprintf(ext, sizeof ext, "m%lld", (long long)i);
        const char *attrs = i % 3 ? "{\"country\":\"DE\"}" : "{\"country\":\"FR\"}";
        fd_db_run(
            db,
            "INSERT INTO members(program_id, external_id, attributes, state, consent, balance,"
            " pending, created_at, updated_at) VALUES ($1, $2, $3, 'active', 'none', 0, 0, $4, $4)",
            FD_PARAMS(FD_I(p.id), FD_S(ext), FD_S(attrs), FD_I(now)), NULL);
        for (int d = 0; d < 3; d++) /* three shopping days over the last two years */
            fd_db_run(db,
                      "INSERT INTO member_days(program_id, member_id, day, spend, orders, points)"
                      " VALUES ($1, $2, $3, $4, 1, $5)",
                      FD_PARAMS(FD_I(p.id), FD_I(i), FD_I(today - (i * 7 + d * 200) % 700),
                                FD_I((i % 900) * 100), FD_I(i % 900)),
                      NULL);
        fd_db_run(db,
                  "INSERT INTO member_stats(member_id, program_id, orders_total, spend_total,"
                  " first_order_day, last_order_day, categories, skus, channels)"
                  " VALUES ($1, $2, 3, $3, $4, $5, '{\"shoes\":2}', '{\"SKU-1\":2}', '[\"web\"]')",
                  FD_PARAMS(FD_I(i), FD_I(p.id), FD_I((i % 900) * 300), FD_I(today - 600),
                            FD_I(today - i % 300)),
                  NULL);
        if (i % 100000 == 0) {
            fd_db_commit(db);
            fd_db_begin(db);
        }
    }
    fd_db_commit(db);
    fprintf(stderr, "(loaded %lld members in %.1f s)\n", (long long)n,
            (double)(fd_monotonic_us() - t0) / 1e6);
    fd_db_run(db,
              "INSERT INTO segments(program_id, name, condition, version, created_at, updated_at,"
              " updated_by) VALUES (1, 'big DE', $1, 1, 0, 0, 'bench')",
              FD_PARAMS(FD_S("{\"and\":[{\">\":[{\"var\":\"member.stats.spend_365d\"},1000]},"
                             "{\"==\":[{\"var\":\"member.attributes.country\"},\"DE\"]}]}")),
              NULL);
    fd_program_load(db, p.id, &p);
    fd_config *cfg;
    if (fd_config_get(db, &p, &cfg)) return 1;
    int64_t matches = 0, last;
    bool done;
    t0 = fd_monotonic_us();
    int rc = fd_segment_scan(db, &p, cfg, cfg->segments[0].condition, now, 0, INT64_MAX, count,
                             &matches, &last, &done);
    double s = (double)(fd_monotonic_us() - t0) / 1e6;
    if (rc || !done) return 1;
    printf("segment_count_%lld_members: %.2f s\n", (long long)n, s);
    fprintf(stderr, "(%lld members in the segment)\n", (long long)matches);
    fd_config_release(cfg);
    fd_db_close(db);
    if (!getenv("KEEP_DB")) {
        unlink(path);
        unlink(wal);
    }
    return 0;
}
