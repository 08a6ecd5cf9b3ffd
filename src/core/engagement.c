/*
 * engagement.c - badges and challenges (engagement.h).
 */
#include "core/engagement.h"

#include <stdio.h>
#include <string.h>

#include "base/fd.h"
#include "core/perr.h"

static int parse_name(const json_t *def, char name[128], fd_perr *e)
{
    const json_t *n = json_object_get(def, "name");
    if (!json_is_string(n) || json_string_length(n) == 0 || json_string_length(n) >= 128)
        return fd_perr_set(e, "name", "name is required (at most 127 bytes)");
    snprintf(name, 128, "%s", json_string_value(n));
    return FD_OK;
}

static int parse_points(const json_t *v, int64_t *out, fd_perr *e)
{
    if (v &&
        (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > FD_POINTS_MAX))
        return fd_perr_set(e, "points", "points (the bonus) is an integer from 0");
    *out = v ? json_integer_value(v) : 0;
    return FD_OK;
}

static int parse_condition(const json_t *v, bool required, jl_expr **out, fd_perr *e)
{
    char err[200];
    if (!v || json_is_null(v))
        return required ? fd_perr_set(e, "condition", "condition (JSONLogic) is required") : FD_OK;
    if (jl_compile(v, out, err, sizeof err)) {
        char msg[160];
        snprintf(msg, sizeof msg, "%.150s", err);
        return fd_perr_set(e, "condition", msg);
    }
    return FD_OK;
}

static int parse_texts(const json_t *def, fd_perr *e)
{
    static const char *const TEXTS[] = {"description", "image_url"};
    for (int i = 0; i < 2; i++) {
        const json_t *v = json_object_get(def, TEXTS[i]);
        if (v && (!json_is_string(v) || json_string_length(v) > 2000))
            return fd_perr_set(e, TEXTS[i], "a text of at most 2000 bytes");
    }
    return FD_OK;
}

int fd_badge_parse(const json_t *def, fd_badge *b, char field[128], char msg[160])
{
    memset(b, 0, sizeof *b);
    fd_perr e = {field, msg};
    if (!json_is_object(def)) return fd_perr_set(&e, "", "a badge is a JSON object");
    int rc = parse_name(def, b->name, &e);
    if (!rc) rc = parse_texts(def, &e);
    if (!rc) rc = parse_points(json_object_get(def, "points"), &b->points, &e);
    if (!rc) rc = parse_condition(json_object_get(def, "condition"), true, &b->condition, &e);
    if (rc) return rc;
    b->definition = json_deep_copy(def);
    return FD_OK;
}

void fd_badge_clear(fd_badge *b)
{
    jl_free(b->condition);
    json_decref(b->definition);
    b->condition = NULL;
    b->definition = NULL;
}

static bool type_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("_.-", s[i])))
            return false;
    return true;
}

int fd_challenge_parse(const json_t *def, fd_challenge *c, char field[128], char msg[160])
{
    memset(c, 0, sizeof *c);
    fd_schedule_open(&c->schedule);
    fd_perr e = {field, msg};
    if (!json_is_object(def)) return fd_perr_set(&e, "", "a challenge is a JSON object");
    const json_t *type = json_object_get(def, "event_type"), *count = json_object_get(def, "count"),
                 *streak = json_object_get(def, "streak_weeks");
    int rc = parse_name(def, c->name, &e);
    if (!rc) rc = parse_texts(def, &e);
    if (!rc && (!json_is_string(type) || !type_ok(json_string_value(type))))
        rc = fd_perr_set(&e, "event_type", "event_type is purchase or a custom event type");
    if (!rc) snprintf(c->event_type, sizeof c->event_type, "%s", json_string_value(type));
    if (!rc && !count == !streak)
        rc = fd_perr_set(&e, "count", "give either count or streak_weeks");
    const json_t *n = count ? count : streak;
    if (!rc && (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > 10000))
        rc = fd_perr_set(&e, count ? "count" : "streak_weeks", "an integer from 1 to 10000");
    if (!rc) *(count ? &c->count : &c->streak_weeks) = json_integer_value(n);
    if (!rc) rc = parse_points(json_object_get(def, "points"), &c->points, &e);
    if (!rc)
        rc = fd_schedule_parse(json_object_get(def, "schedule"), "schedule", &c->schedule, field,
                               msg);
    if (!rc) rc = parse_condition(json_object_get(def, "condition"), false, &c->condition, &e);
    if (rc) {
        fd_challenge_clear(c);
        return rc;
    }
    c->definition = json_deep_copy(def);
    return FD_OK;
}

void fd_challenge_clear(fd_challenge *c)
{
    jl_free(c->condition);
    json_decref(c->definition);
    c->condition = NULL;
    c->definition = NULL;
}

int64_t fd_challenge_target(const fd_challenge *c)
{
    return c->count ? c->count : c->streak_weeks;
}

bool fd_challenge_step(const fd_challenge *c, fd_challenge_progress *p, int64_t day)
{
    if (p->completed) return false;
    if (c->count) {
        p->progress++;
    } else {
        int64_t week = (day - 4) / 7; /* 1970-01-05, day 4, was a Monday */
        if (p->progress == 0 || week > p->last_week + 1) {
            p->progress = 1; /* a first week, or a gap: the streak starts again */
            p->last_week = week;
        } else if (week == p->last_week + 1) {
            p->progress++;
            p->last_week = week;
        } /* the same week again, or an older event: nothing new */
    }
    p->completed = p->progress >= fd_challenge_target(c);
    return p->completed;
}
