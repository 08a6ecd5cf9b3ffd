/*
 * reminders.c - the reminder scheduler (reminders.h).
 */
#include "jobs/reminders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "base/localtime.h"
#include "core/calendar.h"
#include "core/jsonx.h"
#include "core/template.h"
#include "store/config.h"
#include "store/context.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/programs.h"
#include "store/stats.h"
#include "store/tiering.h"

static const char *const TRIGGERS[] = {"points_expiring", "after_enrolment", "birthday_month",
                                       "inactive", "tier_expiring"};

static int trigger_index(const char *s)
{
    for (int i = 0; s && i < 5; i++)
        if (!strcmp(TRIGGERS[i], s)) return i;
    return -1;
}

static int bad(char *field, char *msg, const char *f, const char *m)
{
    snprintf(field, 64, "%s", f);
    snprintf(msg, 160, "%s", m);
    return FD_EINVAL;
}

int fd_reminder_check(const json_t *def, char field[64], char msg[160])
{
    const json_t *name = json_object_get(def, "name"), *trig = json_object_get(def, "trigger"),
                 *tpl = json_object_get(def, "template"), *chan = json_object_get(def, "channel"),
                 *seg = json_object_get(def, "segment");
    if (!json_is_object(def)) return bad(field, msg, "", "a reminder is a JSON object");
    if (!json_is_string(name) || json_string_length(name) == 0 || json_string_length(name) > 127)
        return bad(field, msg, "name", "name is required (at most 127 bytes)");
    int t = trigger_index(json_string_value(json_object_get(trig, "type")));
    if (t < 0)
        return bad(field, msg, "trigger.type",
                   "trigger.type is points_expiring, after_enrolment, birthday_month, inactive or "
                   "tier_expiring");
    const json_t *days = json_object_get(trig, "days");
    if (t != 2 &&
        (!json_is_integer(days) || json_integer_value(days) < 0 || json_integer_value(days) > 3650))
        return bad(field, msg, "trigger.days", "trigger.days is a number of days (0 to 3650)");
    if (!json_is_string(chan) || json_string_length(chan) == 0 || json_string_length(chan) > 32)
        return bad(field, msg, "channel", "channel is a label such as email, sms, push or chatbot");
    if (!json_is_string(tpl) || fd_template_check(json_string_value(tpl)))
        return bad(field, msg, "template",
                   "template is text with {{dotted.path}} placeholders (4 KiB)");
    if (seg && !json_is_null(seg) && (!json_is_string(seg) || json_string_length(seg) == 0))
        return bad(field, msg, "segment", "segment is the name of a segment");
    return FD_OK;
}

typedef struct candidate {
    int64_t member_id;
    char occurrence[48];
    json_t *vars; /* trigger values for the template */
} candidate;

static json_t *date_json(const fd_program *p, int64_t t)
{
    fd_date d;
    char buf[16] = "";
    if (fd_local_date(p, t, &d) == FD_OK)
        snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year & 0x3fff, d.month & 15, d.day & 31);
    return json_string(buf);
}

/* The members a reminder concerns today, with the occurrence that makes
 * the send unique. */
static int candidates(fd_db *db, const fd_program *p, const json_t *def, int64_t now,
                      candidate **out, size_t *n)
{
    const json_t *trig = json_object_get(def, "trigger");
    int t = trigger_index(json_string_value(json_object_get(trig, "type")));
    int64_t days = json_integer_value(json_object_get(trig, "days"));
    fd_date today;
    int rc = fd_local_date(p, now, &today);
    if (rc) return rc;
    int64_t today_days = fd_date_days(today), midnight;
    static const char *const SQL[] = {
        "SELECT member_id, MIN(expires_at), SUM(remaining) FROM lots WHERE program_id = $1"
        " AND status = 'active' AND remaining > 0 AND expires_at > $2 AND expires_at <= $3"
        " GROUP BY member_id ORDER BY member_id LIMIT $4",
        "SELECT id, created_at, 0 FROM members WHERE program_id = $1 AND created_at >= $2"
        " AND created_at < $3 ORDER BY id LIMIT $4",
        "SELECT id, birthday_md, 0 FROM members WHERE program_id = $1 AND birthday_md >= $2"
        " AND birthday_md <= $3 ORDER BY id LIMIT $4",
        "SELECT member_id, last_order_day, orders_total FROM member_stats WHERE program_id = $1"
        " AND last_order_day >= $2 AND last_order_day <= $3 ORDER BY member_id LIMIT $4",
        "SELECT id, tier_review_at, 0 FROM members WHERE program_id = $1 AND tier IS NOT NULL"
        " AND tier_review_at > $2 AND tier_review_at <= $3 ORDER BY id LIMIT $4",
    };
    int64_t a = 0, b = 0;
    switch (t) {
    case 0:
        a = now, b = now + days * 86400;
        break;
    case 1: {
        fd_date d = fd_date_from_days(today_days - days);
        if ((rc = fd_local_midnight(p->timezone, d.year, d.month, d.day, &midnight))) return rc;
        a = midnight;
        d = fd_date_from_days(today_days - days + 1);
        if ((rc = fd_local_midnight(p->timezone, d.year, d.month, d.day, &b))) return rc;
        break;
    }
    case 2:
        a = today.month * 100 + 1, b = today.month * 100 + 31;
        break;
    case 3:
        a = 0, b = today_days - days;
        break;
    default:
        a = now, b = now + days * 86400;
    }
    fd_stmt *st;
    if ((rc = fd_db_query(db, SQL[t],
                          FD_PARAMS(FD_I(p->id), FD_I(a), FD_I(b), FD_I(FD_REMINDER_BATCH)), &st)))
        return rc;
    size_t cap = 64;
    candidate *v = fd_malloc(cap * sizeof *v);
    *n = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        if (*n == cap) v = fd_realloc(v, (cap *= 2) * sizeof *v);
        candidate *c = &v[(*n)++];
        int64_t x = fd_stmt_i64(st, 1), y = fd_stmt_i64(st, 2);
        c->member_id = fd_stmt_i64(st, 0);
        switch (t) {
        case 0:
            snprintf(c->occurrence, sizeof c->occurrence, "expiry:%lld", (long long)x);
            c->vars =
                json_pack("{s:I, s:o}", "points", (json_int_t)y, "expires_on", date_json(p, x));
            break;
        case 1:
            snprintf(c->occurrence, sizeof c->occurrence, "enrolment+%lld", (long long)days);
            c->vars = json_pack("{s:I}", "days", (json_int_t)days);
            break;
        case 2:
            snprintf(c->occurrence, sizeof c->occurrence, "birthday:%d", today.year);
            c->vars = json_pack("{s:i}", "month", today.month);
            break;
        case 3:
            snprintf(c->occurrence, sizeof c->occurrence, "inactive-since:%lld", (long long)x);
            c->vars = json_pack("{s:I, s:I}", "days_since_last_order", (json_int_t)(today_days - x),
                                "orders_total", (json_int_t)y);
            break;
        default:
            snprintf(c->occurrence, sizeof c->occurrence, "review:%lld", (long long)x);
            c->vars = json_pack("{s:o}", "requalify_by", date_json(p, x));
        }
    }
    fd_stmt_done(st);
    *out = v;
    return rc < 0 ? rc : FD_OK;
}

typedef struct send_job {
    int64_t program_id, reminder_id, member_id, now; /* reminder 0: points.expiring_soon */
    const char *occurrence;
    json_t *message;
    bool sent;
    const char *type; /* the webhook type; NULL: "reminder" */
} send_job;

/* The send record and the message commit together; a second run finds the
 * record and sends nothing. */
static int send_run(fd_db *db, void *arg)
{
    send_job *j = arg;
    int64_t found;
    int rc = fd_db_one_i64(db,
                           "SELECT id FROM reminder_sends WHERE reminder_id = $1 AND member_id = $2"
                           " AND occurrence = $3",
                           FD_PARAMS(FD_I(j->reminder_id), FD_I(j->member_id), FD_S(j->occurrence)),
                           &found);
    if (rc == FD_OK) return FD_OK; /* already sent: nothing to do */
    if (rc != FD_ENOTFOUND) return rc;
    rc = fd_db_run(db,
                   "INSERT INTO reminder_sends(program_id, reminder_id, member_id, occurrence,"
                   " created_at) VALUES ($1, $2, $3, $4, $5)",
                   FD_PARAMS(FD_I(j->program_id), FD_I(j->reminder_id), FD_I(j->member_id),
                             FD_S(j->occurrence), FD_I(j->now)),
                   NULL);
    /* another process sent it meanwhile: run again to see its record (PostgreSQL
     * aborts the statement, so this must not pass as success) */
    if (rc == FD_ECONFLICT) return FD_EBUSY;
    if (!rc)
        rc = fd_outbox_emit(db, j->program_id, j->type ? j->type : "reminder", j->member_id,
                            j->message, j->now);
    j->sent = rc == FD_OK;
    return rc;
}

/* Whether the member may get it, and the template data if so. */
static int audience(fd_db *db, const fd_program *p, const fd_config *cfg, const char *segment,
                    const fd_member *m, const fd_local *lt, int64_t now, json_t **data)
{
    *data = NULL;
    if (m->consent == FD_CONSENT_OPTED_OUT ||
        (m->state != FD_STATE_ACTIVE && m->state != FD_STATE_PENDING))
        return FD_OK;
    json_t *ctx;
    int tier;
    int rc = fd_member_context(db, p, cfg, m, lt, now, FD_CTX_ALL, &ctx, &tier);
    if (rc) return rc;
    bool in = !segment;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(ctx, "segments"), i, s) in |=
        segment && !strcmp(json_string_value(s), segment);
    if (!in) {
        json_decref(ctx);
        return FD_OK;
    }
    json_object_set_new(ctx, "email", m->email[0] ? json_string(m->email) : json_null());
    json_object_set_new(ctx, "phone", m->phone[0] ? json_string(m->phone) : json_null());
    json_object_set_new(ctx, "balance", json_integer(m->balance));
    *data = ctx;
    return FD_OK;
}

static int run_reminder(fd_store *s, fd_db *db, const fd_program *p, const fd_config *cfg,
                        int64_t id, const json_t *def, int64_t now, int64_t *sent)
{
    candidate *v = NULL;
    size_t n = 0;
    fd_local lt;
    int rc = fd_localtime(p->timezone, now, &lt);
    if (!rc) rc = candidates(db, p, def, now, &v, &n);
    const char *segment = json_string_value(json_object_get(def, "segment"));
    const char *tpl = json_string_value(json_object_get(def, "template"));
    for (size_t i = 0; i < n; i++) {
        fd_member m = {0};
        json_t *member = NULL;
        if (!rc && fd_member_get(db, p->id, v[i].member_id, &m) == FD_OK)
            rc = audience(db, p, cfg, segment, &m, &lt, now, &member);
        if (!rc && member) {
            json_t *data = json_pack("{s:O}", "member", member);
            json_object_update(data, v[i].vars);
            char *text = fd_template_render(tpl, data);
            json_t *msg = json_pack(
                "{s:I, s:s, s:O, s:O, s:s, s:s, s:o}", "reminder_id", (json_int_t)id, "name",
                json_string_value(json_object_get(def, "name")), "channel",
                json_object_get(def, "channel"), "trigger", json_object_get(def, "trigger"),
                "occurrence", v[i].occurrence, "message", text, "member",
                json_pack("{s:I, s:s?, s:O, s:O, s:O}", "id", (json_int_t)m.id, "external_id",
                          m.external_id[0] ? m.external_id : NULL, "email",
                          json_object_get(member, "email"), "phone",
                          json_object_get(member, "phone"), "tier",
                          json_object_get(member, "tier")));
            json_object_set(msg, "data", v[i].vars);
            send_job j = {p->id, id, m.id, now, v[i].occurrence, msg, false, NULL};
            rc = fd_store_write(s, send_run, &j);
            if (!rc && j.sent) (*sent)++;
            json_decref(msg);
            free(text);
            json_decref(data);
            json_decref(member);
        }
        fd_member_clear(&m);
        json_decref(v[i].vars);
    }
    free(v);
    return rc;
}

/* points.expiring_soon: one message per member and earliest expiry date,
 * FD_EXPIRING_SOON_DAYS ahead, to every subscriber (no consent needed: it is
 * about the member's account; a reminder decides what the member is told). */
static int expiring_soon(fd_store *s, fd_db *db, const fd_program *p, int64_t now, int64_t *sent)
{
    json_t *def = json_pack("{s:{s:s, s:i}}", "trigger", "type", "points_expiring", "days",
                            FD_EXPIRING_SOON_DAYS);
    candidate *v = NULL;
    size_t n = 0;
    int rc = candidates(db, p, def, now, &v, &n);
    for (size_t i = 0; i < n; i++) {
        if (!rc) {
            send_job j = {p->id,           0,         v[i].member_id, now,
                          v[i].occurrence, v[i].vars, false,          "points.expiring_soon"};
            rc = fd_store_write(s, send_run, &j);
            if (!rc && j.sent) (*sent)++;
        }
        json_decref(v[i].vars);
    }
    free(v);
    json_decref(def);
    return rc;
}

int fd_jobs_reminders_run(fd_store *s, int64_t now, int64_t *sent)
{
    fd_db *db = fd_store_reader(s);
    int64_t programs = 0;
    *sent = 0;
    int rc = fd_program_count(db, &programs);
    for (int64_t pid = 1; !rc && pid <= programs; pid++) {
        fd_program p;
        fd_config *cfg = NULL;
        if (fd_program_load(db, pid, &p) != FD_OK) continue;
        if ((rc = fd_config_get(db, &p, &cfg))) break;
        int64_t notices = 0; /* not reminders: not counted in *sent */
        if ((rc = expiring_soon(s, db, &p, now, &notices))) {
            fd_config_release(cfg);
            break;
        }
        fd_stmt *st;
        rc = fd_db_query(db,
                         "SELECT id, definition FROM reminders WHERE program_id = $1 AND active = 1"
                         " AND deleted_at IS NULL ORDER BY id",
                         FD_PARAMS(FD_I(pid)), &st);
        size_t cap = 8, n = 0;
        int64_t *ids = fd_malloc(cap * sizeof *ids);
        json_t **defs = fd_malloc(cap * sizeof *defs);
        while (!rc && fd_stmt_next(st) == 1) {
            if (n == cap) {
                cap *= 2;
                ids = fd_realloc(ids, cap * sizeof *ids);
                defs = fd_realloc(defs, cap * sizeof *defs);
            }
            ids[n] = fd_stmt_i64(st, 0);
            defs[n++] = json_loads(fd_stmt_text(st, 1), 0, NULL);
        }
        if (!rc) fd_stmt_done(st);
        for (size_t i = 0; i < n; i++) {
            if (!rc && defs[i]) rc = run_reminder(s, db, &p, cfg, ids[i], defs[i], now, sent);
            json_decref(defs[i]);
        }
        free(ids);
        free(defs);
        fd_config_release(cfg);
    }
    fd_store_release(s, db);
    return rc;
}

typedef struct rfm_job {
    int64_t program_id;
    char *text;
} rfm_job;

static int rfm_save(fd_db *db, void *arg)
{
    rfm_job *j = arg;
    return fd_db_run(
        db,
        "UPDATE programs SET rfm = $2, config_version = config_version + 1 WHERE id = $1"
        " AND (rfm IS NULL OR rfm <> $2)",
        FD_PARAMS(FD_I(j->program_id), FD_S(j->text)), NULL);
}

int fd_jobs_rfm_run(fd_store *s, int64_t now)
{
    fd_db *db = fd_store_reader(s);
    int64_t programs = 0;
    int rc = fd_program_count(db, &programs);
    for (int64_t pid = 1; !rc && pid <= programs; pid++) {
        fd_program p;
        fd_date today;
        fd_rfm rfm;
        if (fd_program_load(db, pid, &p) != FD_OK) continue;
        rc = fd_local_date(&p, now, &today);
        if (!rc) rc = fd_stats_rfm_cuts(db, pid, fd_date_days(today), &rfm);
        if (rc || !rfm.has) continue;
        json_t *o = json_pack("{s:[I,I,I,I], s:[I,I,I,I], s:[I,I,I,I]}", "recency",
                              (json_int_t)rfm.recency[0], (json_int_t)rfm.recency[1],
                              (json_int_t)rfm.recency[2], (json_int_t)rfm.recency[3], "frequency",
                              (json_int_t)rfm.frequency[0], (json_int_t)rfm.frequency[1],
                              (json_int_t)rfm.frequency[2], (json_int_t)rfm.frequency[3],
                              "monetary", (json_int_t)rfm.monetary[0], (json_int_t)rfm.monetary[1],
                              (json_int_t)rfm.monetary[2], (json_int_t)rfm.monetary[3]);
        rfm_job j = {pid, fd_json_text(o, true)};
        json_decref(o);
        rc = fd_store_write(s, rfm_save, &j);
        free(j.text);
    }
    fd_store_release(s, db);
    return rc;
}
