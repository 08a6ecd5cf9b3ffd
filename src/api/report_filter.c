/*
 * report_filter.c - ?segment=&tier=&campaign= of the KPI reports: the
 * members the figures are restricted to (report_filter.h).
 */
#include "api/report_filter.h"

#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "store/config.h"
#include "store/kpis.h"
#include "store/segments.h"

typedef struct id_set {
    int64_t *ids;
    size_t n, cap;
} id_set;

static void add(id_set *s, int64_t id)
{
    if (s->n == s->cap) s->ids = fd_realloc(s->ids, (s->cap = s->cap ? s->cap * 2 : 256) * 8);
    s->ids[s->n++] = id;
}

static void collect(const fd_member *m, void *arg)
{
    add(arg, m->id);
}

/* Member ids (ascending) of a query of one integer column. */
static int query_ids(fd_db *db, const char *sql, const fd_param *params, size_t n, id_set *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, params, n, &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1)
        add(out, fd_stmt_i64(st, 0));
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* Members in the segment now (ascending ids: the scan walks them in order). */
static int segment_ids(fd_req *r, const fd_config *cfg, const fd_segment *seg, id_set *out)
{
    int64_t after = 0, last;
    bool done = false;
    int64_t now = fd_now();
    int rc = FD_OK;
    while (!rc && !done) {
        rc = fd_segment_scan(r->db, &r->program, cfg, seg->condition, now, after, 100000, collect,
                             out, &last, &done);
        after = last;
    }
    return rc;
}

/* Keeps in a the ids also in b (both ascending). */
static void intersect(id_set *a, const id_set *b)
{
    size_t i = 0, j = 0, k = 0;
    while (i < a->n && j < b->n) {
        if (a->ids[i] < b->ids[j])
            i++;
        else if (a->ids[i] > b->ids[j])
            j++;
        else
            a->ids[k++] = a->ids[i++], j++;
    }
    a->n = k;
}

static const fd_segment *find_segment(const fd_config *cfg, const char *key)
{
    char *end;
    long long id = strtoll(key, &end, 10);
    for (size_t i = 0; i < cfg->nsegments; i++) {
        const fd_segment *s = &cfg->segments[i];
        if ((*end == 0 && s->id == id) || !strcmp(s->name, key)) return s;
    }
    return NULL;
}

/* Narrows *set (or starts it) with the members of one filter. */
static int narrow(fd_req *r, const fd_config *cfg, char which, const char *value, bool *started,
                  id_set *set)
{
    id_set these = {0};
    int rc = FD_OK;
    if (which == 's') {
        const fd_segment *seg = find_segment(cfg, value);
        if (!seg) {
            fd_reply_error(r, 404, "segment_not_found", "no such segment", "segment");
            return FD_ENOTFOUND;
        }
        rc = segment_ids(r, cfg, seg, &these);
    } else if (which == 't') {
        rc = query_ids(r->db,
                       "SELECT id FROM members WHERE program_id = $1 AND tier = $2"
                       " AND merged_into IS NULL ORDER BY id",
                       FD_PARAMS(FD_I(r->program.id), FD_S(value)), &these);
    } else {
        char *end;
        long long id = strtoll(value, &end, 10);
        if (*end || !fd_config_campaign(cfg, id)) {
            fd_reply_error(r, 404, "campaign_not_found", "no such campaign", "campaign");
            return FD_ENOTFOUND;
        }
        rc = query_ids(r->db,
                       "SELECT DISTINCT member_id FROM redemptions WHERE program_id = $1"
                       " AND campaign_id = $2 AND status = 'redeemed' AND member_id IS NOT NULL"
                       " ORDER BY member_id",
                       FD_PARAMS(FD_I(r->program.id), FD_I(id)), &these);
    }
    if (rc) {
        free(these.ids);
        fd_reply_status(r, rc, NULL);
        return rc;
    }
    if (*started) {
        intersect(set, &these);
        free(these.ids);
    } else {
        *set = these;
        *started = true;
    }
    return FD_OK;
}

int report_filter_or_reply(fd_req *r, bool *filtered, json_t **desc)
{
    static const struct {
        char which;
        const char *name;
    } FILTERS[] = {{'s', "segment"}, {'t', "tier"}, {'c', "campaign"}};
    fd_config *cfg = NULL;
    id_set set = {0};
    bool started = false;
    int rc = FD_OK;
    *desc = json_object();
    for (size_t i = 0; i < 3 && !rc; i++) {
        const char *value = fd_query(r, FILTERS[i].name);
        if (!value) continue;
        if (!cfg && (rc = fd_config_get(r->db, &r->program, &cfg))) {
            fd_reply_status(r, rc, NULL);
            break;
        }
        json_object_set_new(*desc, FILTERS[i].name, json_string(value));
        rc = narrow(r, cfg, FILTERS[i].which, value, &started, &set);
    }
    *filtered = started;
    if (!rc && started) {
        json_object_set_new(*desc, "members", json_integer((json_int_t)set.n));
        rc = fd_kpis_filter(r->db, set.ids, set.n);
        if (rc) fd_reply_status(r, rc, NULL);
    }
    free(set.ids);
    fd_config_release(cfg);
    if (rc) {
        json_decref(*desc);
        *desc = NULL;
    }
    return rc;
}
