/*
 * stats.c - behaviour aggregates (stats.h).
 */
#include "store/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/calendar.h"

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
    int rc = fd_db_query(db, "SELECT categories, skus, channels FROM member_stats WHERE member_id = $1",
                         FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    bool exists = rc == 1;
    json_t *cats = load_obj(exists ? fd_stmt_text(st, 0) : NULL, false);
    json_t *skus = load_obj(exists ? fd_stmt_text(st, 1) : NULL, false);
    json_t *chans = load_obj(exists ? fd_stmt_text(st, 2) : NULL, true);
    fd_stmt_done(st);
    if (rc < 0) goto done;
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l)
    {
        int64_t q = json_integer_value(json_object_get(l, "quantity"));
        count_key(cats, json_string_value(json_object_get(l, "category")), q);
        count_key(skus, json_string_value(json_object_get(l, "sku")), q);
    }
    bool seen = false;
    json_t *c;
    json_array_foreach(chans, i, c) seen |= channel && !strcmp(json_string_value(c), channel);
    if (channel && !seen && json_array_size(chans) < 20) json_array_append_new(chans, json_string(channel));
    char *tc = json_dumps(cats, JSON_COMPACT), *ts = json_dumps(skus, JSON_COMPACT),
         *th = json_dumps(chans, JSON_COMPACT);
    if (exists)
        rc = fd_db_run(db,
                       "UPDATE member_stats SET orders_total = orders_total + 1,"
                       " spend_total = spend_total + $2, last_order_day = $3, categories = $4,"
                       " skus = $5, channels = $6 WHERE member_id = $1",
                       FD_PARAMS(FD_I(member_id), FD_I(total), FD_I(day), FD_S(tc), FD_S(ts), FD_S(th)),
                       NULL);
    else
        rc = fd_db_run(db,
                       "INSERT INTO member_stats(member_id, program_id, orders_total, spend_total,"
                       " first_order_day, last_order_day, categories, skus, channels)"
                       " VALUES ($1, $2, 1, $3, $4, $4, $5, $6, $7)",
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
    for (int i = 0; i < exponent; i++) d /= 10;
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
            for (int u = 0; u < n; u++) taken |= !strcmp(used[u], k);
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

int fd_stats_json(fd_db *db, int64_t member_id, int64_t today, int exponent, json_t **out)
{
    static const int WINDOWS[] = {30, 90, 365};
    json_t *o = json_object();
    int rc = FD_OK;
    for (int w = 0; w < 3 && !rc; w++) {
        int64_t spend = 0, orders = 0, points = 0;
        rc = fd_stats_window(db, member_id, today - WINDOWS[w] + 1, today + 1, &spend, &orders, &points);
        char key[32];
        snprintf(key, sizeof key, "spend_%dd", WINDOWS[w]);
        json_object_set_new(o, key, json_real(major(spend, exponent)));
        snprintf(key, sizeof key, "orders_%dd", WINDOWS[w]);
        json_object_set_new(o, key, json_integer(orders));
        snprintf(key, sizeof key, "points_%dd", WINDOWS[w]);
        json_object_set_new(o, key, json_integer(points));
    }
    fd_stmt *st;
    if (!rc)
        rc = fd_db_query(db,
                         "SELECT orders_total, spend_total, first_order_day, last_order_day, categories,"
                         " skus, channels FROM member_stats WHERE member_id = $1",
                         FD_PARAMS(FD_I(member_id)), &st);
    if (rc) {
        json_decref(o);
        return rc;
    }
    rc = fd_stmt_next(st);
    bool has = rc == 1;
    int64_t orders = has ? fd_stmt_i64(st, 0) : 0, spend = has ? fd_stmt_i64(st, 1) : 0;
    int64_t last = has ? fd_stmt_i64(st, 3) : 0;
    json_t *cats = load_obj(has ? fd_stmt_text(st, 4) : NULL, false);
    json_t *skus = load_obj(has ? fd_stmt_text(st, 5) : NULL, false);
    json_t *chans = load_obj(has ? fd_stmt_text(st, 6) : NULL, true);
    json_object_set_new(o, "orders_total", json_integer(orders));
    json_object_set_new(o, "spend_total", json_real(major(spend, exponent)));
    json_object_set_new(o, "average_order_value",
                        json_real(orders > 0 ? major(spend, exponent) / (double)orders : 0));
    json_object_set_new(o, "first_order", date_json(has ? fd_stmt_i64(st, 2) : 0, has));
    json_object_set_new(o, "last_order", date_json(last, has));
    json_object_set_new(o, "days_since_last_order", has ? json_integer(today - last) : json_null());
    fd_stmt_done(st);
    json_t *tc = top_keys(cats), *ts = top_keys(skus);
    json_object_set_new(o, "favourite_category", json_array_size(tc) ? json_incref(json_array_get(tc, 0)) : json_null());
    json_object_set_new(o, "top_categories", tc);
    json_object_set_new(o, "top_skus", ts);
    json_object_set_new(o, "category_counts", cats);
    json_object_set_new(o, "sku_counts", skus);
    json_object_set_new(o, "channels", chans);
    *out = o;
    return rc < 0 ? rc : FD_OK;
}
