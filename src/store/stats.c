/*
 * stats.c - behaviour aggregates (stats.h).
 */
#include "store/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/calendar.h"
#include "core/jsonx.h"

int fd_stats_add_day(fd_db *db, int64_t program_id, int64_t member_id, int64_t day, int64_t spend,
                     int64_t orders, int64_t points)
{
    return fd_db_run(db,
                     "INSERT INTO member_days(program_id, member_id, day, spend, orders, points)"
                     " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (member_id, day) DO UPDATE SET"
                     " spend = member_days.spend + $4, orders = member_days.orders + $5,"
                     " points = member_days.points + $6",
                     FD_PARAMS(FD_I(program_id), FD_I(member_id), FD_I(day), FD_I(spend),
                               FD_I(orders), FD_I(points)),
                     NULL);
}

/* Adds n to key in a {key: count} object, keeping at most FD_STATS_TOP_MAX keys. */
static void count_key(json_t *counts, const char *key, int64_t n)
{
    if (!key || !*key) return;
    json_t *v = json_object_get(counts, key);
    if (v) {
        json_object_set_new(counts, key, json_integer(json_integer_value(v) + n));
        return;
    }
    if (json_object_size(counts) >= FD_STATS_TOP_MAX) { /* drop the least frequent */
        const char *k, *min_key = NULL;
        json_t *c;
        json_int_t min = 0;
        json_object_foreach(counts, k, c)
        {
            if (!min_key || json_integer_value(c) < min) min_key = k, min = json_integer_value(c);
        }
        if (min >= n) return;
        json_object_del(counts, min_key);
    }
    json_object_set_new(counts, key, json_integer(n));
}

static json_t *load_obj(const char *text, bool array)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (array ? json_is_array(v) : json_is_object(v)) return v;
    json_decref(v);
    return array ? json_array() : json_object();
}

int fd_stats_purchase(fd_db *db, int64_t program_id, int64_t member_id, int64_t day, int64_t total,
                      const json_t *lines, const char *channel)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db, "SELECT categories, skus, channels FROM member_stats WHERE member_id = $1",
                    FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    bool exists = rc == 1;
    json_t *chans = load_obj(exists ? fd_stmt_text(st, 2) : NULL, true), *cats = NULL, *skus = NULL;
    size_t i;
    json_t *l, *c;
    bool seen = false;
    json_array_foreach(chans, i, c) seen |= channel && !strcmp(json_string_value(c), channel);
    /* Without lines or a new channel the counters stay as they are: leave their JSON alone. */
    bool counters = !exists || json_array_size(lines) > 0 || (channel && !seen);
    if (counters) {
        cats = load_obj(exists ? fd_stmt_text(st, 0) : NULL, false);
        skus = load_obj(exists ? fd_stmt_text(st, 1) : NULL, false);
    }
    fd_stmt_done(st);
    if (rc < 0) goto done;
    if (!counters) {
        rc = fd_db_run(db,
                       "UPDATE member_stats SET orders_total = orders_total + 1,"
                       " orders_placed = orders_placed + 1,"
                       " spend_total = spend_total + $2, last_order_day = $3 WHERE member_id = $1",
                       FD_PARAMS(FD_I(member_id), FD_I(total), FD_I(day)), NULL);
        goto done;
    }
    json_array_foreach(lines, i, l)
    {
        int64_t q = json_integer_value(json_object_get(l, "quantity"));
        count_key(cats, json_string_value(json_object_get(l, "category")), q);
        count_key(skus, json_string_value(json_object_get(l, "sku")), q);
    }
    if (channel && !seen && json_array_size(chans) < 20)
        json_array_append_new(chans, json_string(channel));
    char *tc = fd_json_text(cats, false), *ts = fd_json_text(skus, false),
         *th = fd_json_text(chans, false);
    if (exists)
        rc = fd_db_run(
            db,
            "UPDATE member_stats SET orders_total = orders_total + 1,"
            " orders_placed = orders_placed + 1,"
            " spend_total = spend_total + $2, last_order_day = $3, categories = $4,"
            " skus = $5, channels = $6 WHERE member_id = $1",
            FD_PARAMS(FD_I(member_id), FD_I(total), FD_I(day), FD_S(tc), FD_S(ts), FD_S(th)), NULL);
    else
        rc =
            fd_db_run(db,
                      "INSERT INTO member_stats(member_id, program_id, orders_total, orders_placed,"
                      " spend_total, first_order_day, last_order_day, categories, skus,"
                      " channels) VALUES ($1, $2, 1, 1, $3, $4, $4, $5, $6, $7)",
                      FD_PARAMS(FD_I(member_id), FD_I(program_id), FD_I(total), FD_I(day), FD_S(tc),
                                FD_S(ts), FD_S(th)),
                      NULL);
    free(tc);
    free(ts);
    free(th);
done:
    json_decref(cats);
    json_decref(skus);
    json_decref(chans);
    return rc < 0 ? rc : FD_OK;
}

int fd_stats_refund(fd_db *db, int64_t member_id, int64_t amount, int64_t orders)
{
    return fd_db_run(db,
                     "UPDATE member_stats SET spend_total = spend_total - $2,"
                     " orders_total = orders_total - $3 WHERE member_id = $1",
                     FD_PARAMS(FD_I(member_id), FD_I(amount), FD_I(orders)), NULL);
}

int fd_stats_orders_placed(fd_db *db, int64_t member_id, int64_t *orders)
{
    int rc = fd_db_one_i64(db, "SELECT orders_placed FROM member_stats WHERE member_id = $1",
                           FD_PARAMS(FD_I(member_id)), orders);
    if (rc == FD_ENOTFOUND) *orders = 0, rc = FD_OK; /* no purchase yet */
    return rc;
}

int fd_stats_window(fd_db *db, int64_t member_id, int64_t from_day, int64_t to_day, int64_t *spend,
                    int64_t *orders, int64_t *points)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT COALESCE(SUM(spend), 0), COALESCE(SUM(orders), 0),"
                         " COALESCE(SUM(points), 0) FROM member_days WHERE member_id = $1"
                         " AND day >= $2 AND day < $3",
                         FD_PARAMS(FD_I(member_id), FD_I(from_day), FD_I(to_day)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        *spend = fd_stmt_i64(st, 0);
        *orders = fd_stmt_i64(st, 1);
        *points = fd_stmt_i64(st, 2);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

static double major(int64_t minor, int exponent)
{
    double d = (double)minor;
    for (int i = 0; i < exponent; i++)
        d /= 10;
    return d;
}

static json_t *date_json(int64_t day, bool present)
{
    if (!present) return json_null();
    fd_date d = fd_date_from_days(day);
    char buf[16];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year & 0x3fff, d.month & 15, d.day & 31);
    return json_string(buf);
}

/* Keys of a {key: count} object by count, largest first, at most 10. */
static json_t *top_keys(const json_t *counts)
{
    json_t *out = json_array();
    const char *used[10];
    for (int n = 0; n < 10; n++) {
        const char *k, *best = NULL;
        json_t *c;
        json_int_t best_n = 0;
        json_object_foreach((json_t *)counts, k, c)
        {
            bool taken = false;
            for (int u = 0; u < n; u++)
                taken |= !strcmp(used[u], k);
            if (!taken && (!best || json_integer_value(c) > best_n ||
                           (json_integer_value(c) == best_n && strcmp(k, best) < 0)))
                best = k, best_n = json_integer_value(c);
        }
        if (!best) break;
        used[n] = best;
        json_array_append_new(out, json_string(best));
    }
    return out;
}

static const int WINDOWS[] = {30, 90, 365};
/* The window figures' keys, per window: spend, orders, points. */
static const char *const WINDOW_KEYS[3][3] = {{"spend_30d", "orders_30d", "points_30d"},
                                              {"spend_90d", "orders_90d", "points_90d"},
                                              {"spend_365d", "orders_365d", "points_365d"}};

/* The optional parts of fd_stats_build, as paths of the rule and segment context. */
static const struct {
    const char *path;
    unsigned part;
} PART_PATHS[] = {
    {"member.stats.category_counts", FD_CTX_COUNTERS},
    {"member.stats.sku_counts", FD_CTX_COUNTERS},
    {"member.stats.top_categories", FD_CTX_COUNTERS},
    {"member.stats.top_skus", FD_CTX_COUNTERS},
    {"member.stats.favourite_category", FD_CTX_COUNTERS},
    {"member.stats.channels", FD_CTX_COUNTERS},
    {"member.stats.spend_30d", FD_CTX_WINDOWS},
    {"member.stats.orders_30d", FD_CTX_WINDOWS},
    {"member.stats.points_30d", FD_CTX_WINDOWS},
    {"member.stats.spend_90d", FD_CTX_WINDOWS},
    {"member.stats.orders_90d", FD_CTX_WINDOWS},
    {"member.stats.points_90d", FD_CTX_WINDOWS},
    {"member.stats.spend_365d", FD_CTX_WINDOWS},
    {"member.stats.orders_365d", FD_CTX_WINDOWS},
    {"member.stats.points_365d", FD_CTX_WINDOWS},
};

unsigned fd_stats_read_by(const jl_expr *e)
{
    unsigned parts = 0;
    for (size_t i = 0; i < sizeof PART_PATHS / sizeof *PART_PATHS; i++)
        if (!(parts & PART_PATHS[i].part) && jl_may_read(e, PART_PATHS[i].path))
            parts |= PART_PATHS[i].part;
    return parts;
}

/* The counters: per category and SKU by quantity, their top ten, channels. */
static void add_counters(json_t *o, const fd_stats_raw *raw)
{
    json_t *cats = load_obj(raw->categories, false), *skus = load_obj(raw->skus, false),
           *chans = load_obj(raw->channels, true);
    json_t *tc = top_keys(cats), *ts = top_keys(skus);
    fd_json_put(o, "favourite_category",
                json_array_size(tc) ? json_incref(json_array_get(tc, 0)) : json_null());
    fd_json_put(o, "top_categories", tc);
    fd_json_put(o, "top_skus", ts);
    fd_json_put(o, "category_counts", cats);
    fd_json_put(o, "sku_counts", skus);
    fd_json_put(o, "channels", chans);
}

json_t *fd_stats_build(const fd_stats_raw *raw, int64_t today, int exponent, const fd_rfm *rfm,
                       unsigned parts)
{
    json_t *o = json_object();
    for (int w = 0; parts & FD_CTX_WINDOWS && w < 3; w++) {
        fd_json_put(o, WINDOW_KEYS[w][0], json_real(major(raw->spend[w], exponent)));
        fd_json_put(o, WINDOW_KEYS[w][1], json_integer(raw->orders[w]));
        fd_json_put(o, WINDOW_KEYS[w][2], json_integer(raw->points[w]));
    }
    bool has = raw->has_orders;
    fd_json_put(o, "orders_total", json_integer(raw->orders_total));
    fd_json_put(o, "orders_placed", json_integer(raw->orders_placed));
    fd_json_put(o, "spend_total", json_real(major(raw->spend_total, exponent)));
    fd_json_put(o, "average_order_value",
                json_real(raw->orders_total > 0
                              ? major(raw->spend_total, exponent) / (double)raw->orders_total
                              : 0));
    fd_json_put(o, "first_order", date_json(raw->first_order_day, has));
    fd_json_put(o, "last_order", date_json(raw->last_order_day, has));
    fd_json_put(o, "days_since_last_order",
                has ? json_integer(today - raw->last_order_day) : json_null());
    if (parts & FD_CTX_COUNTERS) add_counters(o, raw);
    if (rfm && rfm->has && has) {
        int r = fd_rfm_score(rfm->recency, today - raw->last_order_day, true);
        int f = fd_rfm_score(rfm->frequency, raw->orders_total, false);
        int m = fd_rfm_score(rfm->monetary, raw->spend_total, false);
        fd_json_put(o, "rfm",
                    json_pack("{s:i, s:i, s:i, s:i, s:s}", "r", r, "f", f, "m", m, "score",
                              r * 100 + f * 10 + m, "segment", fd_rfm_segment(r, f)));
    } else {
        fd_json_put(o, "rfm", json_null());
    }
    return o;
}

/* The last value of the k-th fifth (k = 1..4) of a column in sort order:
 * values beyond it belong to higher fifths. */
static int quintile(fd_db *db, const char *sql, int64_t program_id, int64_t count, int k,
                    int64_t *out)
{
    int64_t offset = count * k / 5 - 1;
    return fd_db_one_i64(db, sql, FD_PARAMS(FD_I(program_id), FD_I(offset > 0 ? offset : 0)), out);
}

int fd_stats_rfm_cuts(fd_db *db, int64_t program_id, int64_t today, fd_rfm *rfm)
{
    static const char *const SQL[3] = {
        "SELECT last_order_day FROM member_stats WHERE program_id = $1 AND orders_total > 0"
        " ORDER BY last_order_day DESC LIMIT 1 OFFSET $2",
        "SELECT orders_total FROM member_stats WHERE program_id = $1 AND orders_total > 0"
        " ORDER BY orders_total LIMIT 1 OFFSET $2",
        "SELECT spend_total FROM member_stats WHERE program_id = $1 AND orders_total > 0"
        " ORDER BY spend_total LIMIT 1 OFFSET $2",
    };
    int64_t count;
    memset(rfm, 0, sizeof *rfm);
    int rc = fd_db_one_i64(
        db, "SELECT COUNT(*) FROM member_stats WHERE program_id = $1 AND orders_total > 0",
        FD_PARAMS(FD_I(program_id)), &count);
    if (rc || count == 0) return rc;
    for (int k = 1; k <= 4 && !rc; k++) {
        int64_t last_day;
        rc = quintile(db, SQL[0], program_id, count, k, &last_day);
        rfm->recency[k - 1] = today - last_day;
        if (!rc) rc = quintile(db, SQL[1], program_id, count, k, &rfm->frequency[k - 1]);
        if (!rc) rc = quintile(db, SQL[2], program_id, count, k, &rfm->monetary[k - 1]);
    }
    rfm->has = rc == FD_OK;
    return rc;
}

/* The three windows of one member in one pass over its last 365 days. */
static int windows(fd_db *db, int64_t member_id, int64_t today, fd_stats_raw *raw)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT SUM(CASE WHEN day >= $3 THEN spend ELSE 0 END),"
                         " SUM(CASE WHEN day >= $3 THEN orders ELSE 0 END),"
                         " SUM(CASE WHEN day >= $3 THEN points ELSE 0 END),"
                         " SUM(CASE WHEN day >= $4 THEN spend ELSE 0 END),"
                         " SUM(CASE WHEN day >= $4 THEN orders ELSE 0 END),"
                         " SUM(CASE WHEN day >= $4 THEN points ELSE 0 END),"
                         " SUM(spend), SUM(orders), SUM(points)"
                         " FROM member_days WHERE member_id = $1 AND day >= $5 AND day <= $2",
                         FD_PARAMS(FD_I(member_id), FD_I(today), FD_I(today - WINDOWS[0] + 1),
                                   FD_I(today - WINDOWS[1] + 1), FD_I(today - WINDOWS[2] + 1)),
                         &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    for (int w = 0; rc == 1 && w < 3; w++) { /* SUM of no rows is NULL: read as 0 */
        raw->spend[w] = fd_stmt_i64(st, 3 * w);
        raw->orders[w] = fd_stmt_i64(st, 3 * w + 1);
        raw->points[w] = fd_stmt_i64(st, 3 * w + 2);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

int fd_stats_json(fd_db *db, int64_t member_id, int64_t today, int exponent, const fd_rfm *rfm,
                  unsigned parts, json_t **out)
{
    fd_stats_raw raw = {0};
    int rc = parts & FD_CTX_WINDOWS ? windows(db, member_id, today, &raw) : FD_OK;
    fd_stmt *st;
    if (!rc)
        rc = fd_db_query(
            db,
            "SELECT orders_total, spend_total, first_order_day, last_order_day, categories,"
            " skus, channels, orders_placed FROM member_stats WHERE member_id = $1",
            FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        raw.has_orders = true;
        raw.orders_total = fd_stmt_i64(st, 0);
        raw.spend_total = fd_stmt_i64(st, 1);
        raw.first_order_day = fd_stmt_i64(st, 2);
        raw.last_order_day = fd_stmt_i64(st, 3);
        raw.categories = fd_stmt_text(st, 4);
        raw.skus = fd_stmt_text(st, 5);
        raw.channels = fd_stmt_text(st, 6);
        raw.orders_placed = fd_stmt_i64(st, 7);
    }
    if (rc >= 0) *out = fd_stats_build(&raw, today, exponent, rfm, parts);
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

int fd_stats_scan(fd_db *db, int64_t program_id, int64_t first_id, int64_t last_id, int64_t today,
                  void (*fn)(int64_t member_id, const fd_stats_raw *raw, void *arg), void *arg)
{
    /* Windows of every member of the range in one grouped query, then the
     * totals in a second; both walk their index in member order. Member ids
     * are unique across programs, so member_days needs no program filter (and
     * with one, SQLite would walk the program's (program_id, day) index). */
    size_t span = (size_t)(last_id - first_id + 1);
    fd_stats_raw *raw = fd_calloc(span, sizeof *raw);
    fd_stmt *st;
    int rc =
        fd_db_query(db,
                    "SELECT member_id,"
                    " SUM(CASE WHEN day >= $4 THEN spend ELSE 0 END),"
                    " SUM(CASE WHEN day >= $4 THEN orders ELSE 0 END),"
                    " SUM(CASE WHEN day >= $4 THEN points ELSE 0 END),"
                    " SUM(CASE WHEN day >= $5 THEN spend ELSE 0 END),"
                    " SUM(CASE WHEN day >= $5 THEN orders ELSE 0 END),"
                    " SUM(CASE WHEN day >= $5 THEN points ELSE 0 END),"
                    " SUM(spend), SUM(orders), SUM(points)"
                    " FROM member_days WHERE member_id >= $2 AND member_id <= $3"
                    " AND day >= $6 AND day <= $7 GROUP BY member_id",
                    FD_PARAMS(FD_I(program_id), FD_I(first_id), FD_I(last_id), FD_I(today - 29),
                              FD_I(today - 89), FD_I(today - 364), FD_I(today)),
                    &st);
    if (rc) {
        free(raw);
        return rc;
    }
    while ((rc = fd_stmt_next(st)) == 1) {
        fd_stats_raw *r = &raw[fd_stmt_i64(st, 0) - first_id];
        for (int w = 0; w < 3; w++) {
            r->spend[w] = fd_stmt_i64(st, 1 + 3 * w);
            r->orders[w] = fd_stmt_i64(st, 2 + 3 * w);
            r->points[w] = fd_stmt_i64(st, 3 + 3 * w);
        }
    }
    fd_stmt_done(st);
    if (rc < 0) {
        free(raw);
        return rc;
    }
    rc = fd_db_query(db,
                     "SELECT member_id, orders_total, spend_total, first_order_day, last_order_day,"
                     " categories, skus, channels, orders_placed FROM member_stats"
                     " WHERE program_id = $1"
                     " AND member_id >= $2 AND member_id <= $3 ORDER BY member_id",
                     FD_PARAMS(FD_I(program_id), FD_I(first_id), FD_I(last_id)), &st);
    if (rc) {
        free(raw);
        return rc;
    }
    int64_t next = first_id; /* members without totals come in order too */
    while ((rc = fd_stmt_next(st)) == 1) {
        int64_t id = fd_stmt_i64(st, 0);
        for (; next < id; next++)
            fn(next, &raw[next - first_id], arg);
        fd_stats_raw *r = &raw[id - first_id];
        r->has_orders = true;
        r->orders_total = fd_stmt_i64(st, 1);
        r->spend_total = fd_stmt_i64(st, 2);
        r->first_order_day = fd_stmt_i64(st, 3);
        r->last_order_day = fd_stmt_i64(st, 4);
        r->categories = fd_stmt_text(st, 5);
        r->skus = fd_stmt_text(st, 6);
        r->channels = fd_stmt_text(st, 7);
        r->orders_placed = fd_stmt_i64(st, 8);
        fn(id, r, arg);
        next = id + 1;
    }
    fd_stmt_done(st);
    for (; rc >= 0 && next <= last_id; next++)
        fn(next, &raw[next - first_id], arg);
    free(raw);
    return rc < 0 ? rc : FD_OK;
}
