/*
 * birthdays.c - birthday and anniversary triggers (birthdays.h).
 */
#include "jobs/birthdays.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/events.h"
#include "base/fd.h"
#include "core/calendar.h"
#include "store/programs.h"
#include "store/tiering.h"

#define MEMBERS_MAX 100000 /* per program and trigger in one run */

typedef struct due {
    int64_t member_id, enrolled_at;
} due;

/* Members of program p whose column (birthday_md or enrolled_md) is md. */
static int load_due(fd_db *db, const char *sql, int64_t program_id, int64_t md, int64_t md2,
                    due **out, size_t *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql,
                         FD_PARAMS(FD_I(program_id), FD_I(md), FD_I(md2), FD_I(MEMBERS_MAX)), &st);
    if (rc) return rc;
    size_t cap = 64;
    due *v = fd_malloc(cap * sizeof *v);
    *n = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        if (*n == cap) v = fd_realloc(v, (cap *= 2) * sizeof *v);
        v[(*n)++] = (due){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1)};
    }
    fd_stmt_done(st);
    *out = v;
    return rc < 0 ? rc : FD_OK;
}

static int run_program(fd_store *s, fd_db *db, const fd_program *p, int64_t now, int64_t *sent)
{
    fd_date today;
    int rc = fd_local_date(p, now, &today);
    if (rc) return rc;
    int64_t md = today.month * 100 + today.day;
    /* 29 February birthdays are celebrated on 28 February in common years */
    int64_t md2 = md == 228 && fd_days_in_month(today.year, 2) == 28 ? 229 : md;
    static const char *const SQL[2] = {
        "SELECT id, created_at FROM members WHERE program_id = $1 AND birthday_md IN ($2, $3)"
        " AND state IN ('active', 'pending') ORDER BY id LIMIT $4",
        "SELECT id, created_at FROM members WHERE program_id = $1 AND enrolled_md IN ($2, $3)"
        " AND state IN ('active', 'pending') ORDER BY id LIMIT $4",
    };
    for (int kind = 0; kind < 2 && !rc; kind++) {
        due *v = NULL;
        size_t n = 0;
        rc = load_due(db, SQL[kind], p->id, md, md2, &v, &n);
        for (size_t i = 0; i < n && !rc; i++) {
            fd_date enrolled = fd_date_from_days(v[i].enrolled_at / 86400);
            int years = today.year - enrolled.year;
            if (kind == 1 && years < 1) continue; /* enrolled today: no anniversary yet */
            char id[96];
            snprintf(id, sizeof id, "%s:%lld:%d", kind ? "anniversary" : "birthday",
                     (long long)v[i].member_id, today.year);
            json_t *attrs = kind ? json_pack("{s:i}", "years", years) : NULL;
            int64_t points;
            bool duplicate;
            rc = fd_event_apply_custom(s, db, p, v[i].member_id, kind ? "anniversary" : "birthday",
                                       id, attrs, &points, &duplicate);
            if (rc == FD_ECONFLICT) rc = FD_OK; /* e.g. suspended meanwhile */
            if (!rc && !duplicate) (*sent)++;
            json_decref(attrs);
        }
        free(v);
    }
    return rc;
}

int fd_jobs_birthdays_run(fd_store *s, int64_t now, int64_t *sent)
{
    fd_db *db = fd_store_reader(s);
    int64_t count = 0;
    *sent = 0;
    int rc = fd_program_count(db, &count);
    /* program ids are dense from 1: init and the API never delete programs */
    for (int64_t id = 1; !rc && id <= count; id++) {
        fd_program p;
        if ((rc = fd_program_load(db, id, &p)) == FD_ENOTFOUND) {
            rc = FD_OK;
            continue;
        }
        if (!rc) rc = run_program(s, db, &p, now, sent);
    }
    fd_store_release(s, db);
    return rc;
}
