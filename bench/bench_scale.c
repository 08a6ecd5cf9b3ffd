/*
 * bench_scale.c - fills a database made by `fidelis init` with the history
 * the scale figures of issue 11 need: members m1..mN, each with E earn
 * entries written by the product's ledger (fd_ledger_credit: a lot, a journal
 * entry, the member's balance), so `fidelis check` holds afterwards. The
 * program gets a 365-day expiry; one entry in ten was earned 400 days ago,
 * so a tenth of the lots is due when the expiry job runs.
 *
 * Usage: bench_scale DB MEMBERS ENTRIES_PER_MEMBER
 * Prints "(seeded ...)" to stderr; the figures come from bench/run.sh.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/fd.h"
#include "store/db.h"
#include "store/ledger.h"
#include "store/members.h"
#include "store/programs.h"

#define COMMIT_EVERY 20000 /* members per transaction */
#define DAY 86400

static int seed_member(fd_db *db, const fd_program *p, int64_t i, int64_t entries, int64_t now)
{
    fd_member m = {.program_id = p->id, .state = FD_STATE_ACTIVE};
    snprintf(m.external_id, sizeof m.external_id, "m%lld", (long long)i);
    int rc = fd_member_insert(db, &m, now - 500 * DAY);
    for (int64_t e = 0; e < entries && !rc; e++) {
        int64_t at = e % 10 == 0 ? now - 400 * DAY : now - (e * 7 + i) % 300 * DAY;
        fd_posting post = {"earn", NULL, NULL, NULL, "bench", at};
        rc = fd_ledger_credit(db, p, &m, 10 + (i + e) % 90, false, &post, NULL);
    }
    fd_member_clear(&m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 4 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_scale DB MEMBERS ENTRIES_PER_MEMBER\n");
        return 2;
    }
    int64_t n = atoll(argv[2]), entries = atoll(argv[3]), now = fd_now();
    fd_db *db;
    fd_program p;
    if (fd_db_open(argv[1], &db) || fd_program_load(db, 1, &p)) {
        fprintf(stderr, "bench_scale: %s has no program (run fidelis init)\n", argv[1]);
        return 1;
    }
    fd_db_exec(db, "PRAGMA synchronous=OFF"); /* seeding is set-up, not a measured write */
    p.expiry_mode = FD_EXPIRY_DAYS;
    p.expiry_days = 365;
    p.expiry_from = FD_EXPIRY_FROM_EARN;
    int64_t t0 = fd_monotonic_us();
    int rc = fd_db_begin(db);
    if (!rc) rc = fd_program_save(db, &p, now);
    for (int64_t i = 1; i <= n && !rc; i++) {
        rc = seed_member(db, &p, i, entries, now);
        if (!rc && i % COMMIT_EVERY == 0 && !(rc = fd_db_commit(db))) rc = fd_db_begin(db);
    }
    if (!rc) rc = fd_db_commit(db);
    fd_db_close(db);
    if (rc) {
        fprintf(stderr, "bench_scale: %s\n", fd_strerror(rc));
        return 1;
    }
    fprintf(stderr, "(seeded %lld members with %lld entries each in %.1f s)\n", (long long)n,
            (long long)entries, (double)(fd_monotonic_us() - t0) / 1e6);
    return 0;
}
