/*
 * ledger.c - journal and lots (ledger.h).
 */
#include "store/ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/jsonx.h"
#include "core/ledger.h"
#include "store/members.h"
#include "store/outbox.h"
#include "store/programs.h"

#define INSERT_ENTRY                                                                               \
    "INSERT INTO journal(program_id, member_id, kind, points, pending, balance_after, lot_id,"     \
    " event_id, order_id, reason, actor, created_at, rules)"                                       \
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
#define ENTRY_PARAMS 13

/* m's balance and pending after an entry of dpoints and dpending, in *balance
 * and *pending; FD_EOVERFLOW when either would leave its range. */
static int after_entry(int64_t balance_before, int64_t pending_before, int64_t dpoints,
                       int64_t dpending, int64_t *balance, int64_t *pending)
{
    if (fd_add_i64(balance_before, dpoints, balance) ||
        fd_add_i64(pending_before, dpending, pending) || *balance > FD_POINTS_MAX ||
        *balance < -FD_POINTS_MAX || *pending > FD_POINTS_MAX)
        return FD_EOVERFLOW;
    return FD_OK;
}

/* Appends one journal entry (with its rule shares as stored, or NULL) and
 * applies it to m in memory; *entry (may be NULL) receives the entry's id.
 * The caller saves m's balance. */
static int append_entry(fd_db *db, fd_member *m, int64_t dpoints, int64_t dpending, int64_t lot_id,
                        const fd_posting *post, const char *shares, int64_t *entry)
{
    int64_t balance, pending;
    int rc = after_entry(m->balance, m->pending, dpoints, dpending, &balance, &pending);
    if (rc) return rc;
    const fd_param params[ENTRY_PARAMS] = {FD_I(m->program_id),
                                           FD_I(m->id),
                                           FD_S(post->kind),
                                           FD_I(dpoints),
                                           FD_I(dpending),
                                           FD_I(balance),
                                           lot_id ? FD_I(lot_id) : FD_NULL,
                                           FD_S(post->event_id),
                                           FD_S(post->order_id),
                                           FD_S(post->reason),
                                           FD_S(post->actor),
                                           FD_I(post->now),
                                           FD_S(shares)};
    rc = entry ? fd_db_one_i64(db, INSERT_ENTRY " RETURNING id", params, ENTRY_PARAMS, entry)
               : fd_db_run(db, INSERT_ENTRY, params, ENTRY_PARAMS, NULL);
    if (rc) return rc;
    m->balance = balance;
    m->pending = pending;
    return FD_OK;
}

/* One journal entry, applied to m and its row. */
static int journal_entry(fd_db *db, fd_member *m, int64_t dpoints, int64_t dpending, int64_t lot_id,
                         const fd_posting *post, int64_t *entry)
{
    int rc = append_entry(db, m, dpoints, dpending, lot_id, post, NULL, entry);
    return rc ? rc : fd_member_save_balance(db, m);
}

static int journal(fd_db *db, fd_member *m, int64_t dpoints, int64_t dpending, int64_t lot_id,
                   const fd_posting *post)
{
    return journal_entry(db, m, dpoints, dpending, lot_id, post, NULL);
}

/* One lot of `total` points and its journal entry (post, with the rule
 * shares as stored or NULL); *lot_id receives the lot's id. */
static int credit_lot(fd_db *db, const fd_program *p, fd_member *m, int64_t total, bool pending,
                      const fd_posting *post, const char *shares, int64_t *lot_id)
{
    if (total <= 0 || total > FD_POINTS_MAX) return FD_EINVAL;
    int64_t now = post->now;
    int64_t lot_points = pending ? total : fd_credit_lot_points(m->balance, total);
    int64_t matures_at = pending ? fd_lot_matures_at(p, now) : now;
    int64_t expires_at = pending && p->expiry_from == FD_EXPIRY_FROM_ACTIVATION
                             ? FD_NEVER /* set when it matures */
                             : fd_lot_expiry(p, now, now);
    const char *status = pending ? "pending" : lot_points > 0 ? "active" : "closed";
    int rc =
        fd_db_one_i64(db,
                      "INSERT INTO lots(program_id, member_id, points, remaining, status,"
                      " order_ref, earned_at, matures_at, expires_at, expiry_days)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                      FD_PARAMS(FD_I(m->program_id), FD_I(m->id), FD_I(total), FD_I(lot_points),
                                FD_S(status), FD_S(post->order_id), FD_I(now), FD_I(matures_at),
                                FD_I(expires_at), FD_I(p->expiry_days)),
                      lot_id);
    if (!rc)
        rc = append_entry(db, m, pending ? 0 : total, pending ? total : 0, *lot_id, post, shares,
                          NULL);
    if (!rc) rc = fd_member_save_balance(db, m);
    return rc;
}

static int part_order(const void *a, const void *b)
{
    const fd_rule_part *x = a, *y = b;
    return (x->rule_id > y->rule_id) - (x->rule_id < y->rule_id);
}

/* The n rule shares as the journal stores them (fd_ledger_shares_parse), in
 * rule order; caller frees. */
static char *shares_text(const fd_rule_part *parts, size_t n)
{
    fd_rule_part *sorted = fd_malloc(n * sizeof *sorted);
    memcpy(sorted, parts, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, part_order);
    fd_json_writer w;
    fd_jw_init(&w);
    fd_jw_open(&w, NULL, '[');
    for (size_t i = 0; i < n; i++) {
        fd_jw_open(&w, NULL, '[');
        fd_jw_int(&w, NULL, sorted[i].rule_id);
        fd_jw_int(&w, NULL, sorted[i].rule_version);
        fd_jw_int(&w, NULL, sorted[i].points);
        fd_jw_close(&w, ']');
    }
    fd_jw_close(&w, ']');
    free(sorted);
    return fd_jw_finish(&w, NULL);
}

int fd_ledger_credit(fd_db *db, const fd_program *p, fd_member *m, int64_t points, bool pending,
                     const fd_posting *post, int64_t *lot_id)
{
    int64_t lot;
    int rc = credit_lot(db, p, m, points, pending, post, NULL, &lot);
    if (!rc && lot_id) *lot_id = lot;
    return rc;
}

int fd_ledger_credit_rules(fd_db *db, const fd_program *p, fd_member *m, const fd_rule_part *parts,
                           size_t n, bool pending, const fd_posting *post, int64_t *lot_id)
{
    int64_t total = 0, lot;
    if (n == 0 || n > FD_LEDGER_SHARES_MAX) return FD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (parts[i].points <= 0 || fd_add_i64(total, parts[i].points, &total)) return FD_EINVAL;
    char *shares = shares_text(parts, n);
    int rc = credit_lot(db, p, m, total, pending, post, shares, &lot);
    free(shares);
    if (!rc && lot_id) *lot_id = lot;
    return rc;
}

int fd_ledger_shares_parse(const char *stored, fd_rule_part **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!stored) return FD_OK;
    json_t *a = json_loads(stored, 0, NULL);
    size_t k = json_array_size(a);
    fd_rule_part *parts = fd_calloc(k ? k : 1, sizeof *parts);
    int rc = json_is_array(a) && k <= FD_LEDGER_SHARES_MAX ? FD_OK : FD_EINVAL;
    for (size_t i = 0; i < k && !rc; i++) {
        const json_t *x = json_array_get(a, i);
        int64_t v[3];
        for (size_t c = 0; c < 3 && !rc; c++) {
            const json_t *y = json_array_get(x, c);
            if (json_array_size(x) != 3 || !json_is_integer(y)) rc = FD_EINVAL;
            v[c] = json_integer_value(y);
        }
        if (!rc) parts[i] = (fd_rule_part){v[0], v[1], v[2]};
    }
    json_decref(a);
    if (rc) {
        free(parts);
        return rc;
    }
    *out = parts;
    *n = k;
    return FD_OK;
}

json_t *fd_ledger_shares_json(const char *stored)
{
    fd_rule_part *parts;
    size_t n;
    json_t *a = json_array();
    if (fd_ledger_shares_parse(stored, &parts, &n)) return a; /* fidelis check reports it */
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:I, s:I, s:I}", "rule_id", (json_int_t)parts[i].rule_id, "version",
                         (json_int_t)parts[i].rule_version, "points", (json_int_t)parts[i].points));
    free(parts);
    return a;
}

const char FD_LEDGER_SPEND_LOTS_SQL[] =
    "SELECT id, remaining, expires_at, earned_at, order_ref FROM lots"
    " WHERE member_id = $1 AND status = 'active' AND remaining > 0"
    " ORDER BY expires_at, earned_at, id";

/* Takes up to amount points from m's spendable lots, FIFO by expiry with
 * the lots of first_order in front; *taken receives what the lots gave.
 * With `takes`, *takes receives the lots that gave (remaining = what each
 * gave; caller frees) and *ntakes their number. Without first_order only the
 * oldest lots that cover amount are read, so a spend costs the lots it takes,
 * not all the member's open ones; with it, all are (the order's may be last). */
static int take_lots(fd_db *db, int64_t member_id, int64_t amount, const char *first_order,
                     int64_t *taken, fd_lot **takes, size_t *ntakes)
{
    fd_stmt *st;
    int rc = fd_db_query(db, FD_LEDGER_SPEND_LOTS_SQL, FD_PARAMS(FD_I(member_id)), &st);
    if (rc) return rc;
    size_t n = 0, cap = 16, front = 0;
    /* what the lots read hold: below amount until the last (no overflow:
     * each lot and amount are at most FD_POINTS_MAX) */
    int64_t covered = 0;
    fd_lot *lots = fd_malloc(cap * sizeof *lots);
    while ((rc = fd_stmt_next(st)) == 1) {
        if (n == cap) lots = fd_realloc(lots, (cap *= 2) * sizeof *lots);
        fd_lot l = {fd_stmt_i64(st, 0), fd_stmt_i64(st, 1), fd_stmt_i64(st, 2), fd_stmt_i64(st, 3)};
        const char *ref = fd_stmt_text(st, 4);
        lots[n++] = l;
        if (first_order && ref && !strcmp(ref, first_order)) { /* the order's own lots first */
            memmove(lots + front + 1, lots + front, (n - 1 - front) * sizeof *lots);
            lots[front++] = l;
        }
        if (!first_order && (covered += l.remaining) >= amount) {
            rc = 0; /* the later lots would give nothing */
            break;
        }
    }
    fd_stmt_done(st);
    int64_t *take = fd_calloc(n ? n : 1, sizeof *take);
    if (rc == 0) {
        *taken = fd_lots_take(lots, n, amount, take);
        for (size_t i = 0; i < n && !rc; i++) {
            if (!take[i]) continue;
            int64_t left = lots[i].remaining - take[i];
            rc = fd_db_run(
                db, "UPDATE lots SET remaining = $2, status = $3 WHERE id = $1",
                FD_PARAMS(FD_I(lots[i].id), FD_I(left), FD_S(left ? "active" : "closed")), NULL);
        }
    }
    if (rc == 0 && takes) { /* keep the lots that gave, in place */
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (take[i]) lots[k++] = (fd_lot){lots[i].id, take[i], lots[i].expires_at, 0};
        *takes = lots;
        *ntakes = k;
        lots = NULL;
    }
    free(take);
    free(lots);
    return rc;
}

int fd_ledger_debit(fd_db *db, fd_member *m, int64_t points, const char *first_order,
                    bool allow_negative, const fd_posting *post)
{
    if (points <= 0 || points > FD_POINTS_MAX) return FD_EINVAL;
    if (!allow_negative && m->balance < points) return FD_ENOFUNDS;
    int64_t taken;
    int rc = take_lots(db, m->id, points, first_order, &taken, NULL, NULL);
    if (rc) return rc;
    if (taken < points && !allow_negative)
        return FD_ENOFUNDS; /* lots disagree: caller rolls back */
    return journal(db, m, -points, 0, 0, post);
}

int fd_ledger_reverse(fd_db *db, const fd_program *p, fd_member *m, int64_t points,
                      const char *order_id, const fd_posting *post, fd_reversal *plan)
{
    int64_t order_pending = 0;
    fd_reversal r;
    int rc = fd_ledger_order_pending(db, m, order_id, &order_pending);
    if (rc) return rc;
    fd_reversal_plan(points, order_pending, m->balance, p->refund_policy, &r);
    if (r.from_pending) rc = fd_ledger_cancel_pending(db, m, order_id, r.from_pending, post);
    if (!rc && r.from_available)
        rc = fd_ledger_debit(db, m, r.from_available, order_id, true, post);
    if (!rc && plan) *plan = r;
    return rc;
}

int fd_ledger_lot_state(fd_db *db, int64_t lot_id, char status[16], int64_t *remaining)
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT status, remaining FROM lots WHERE id = $1",
                         FD_PARAMS(FD_I(lot_id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        snprintf(status, 16, "%s", fd_stmt_text(st, 0));
        *remaining = fd_stmt_i64(st, 1);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_ledger_order_pending(fd_db *db, const fd_member *m, const char *order_id, int64_t *points)
{
    return fd_db_one_i64(db,
                         "SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE member_id = $1"
                         " AND order_ref = $2 AND status = 'pending'",
                         FD_PARAMS(FD_I(m->id), FD_S(order_id)), points);
}

int fd_ledger_cancel_pending(fd_db *db, fd_member *m, const char *order_id, int64_t points,
                             const fd_posting *post)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, remaining FROM lots WHERE member_id = $1 AND order_ref = $2"
                         " AND status = 'pending' AND remaining > 0 ORDER BY id",
                         FD_PARAMS(FD_I(m->id), FD_S(order_id)), &st);
    if (rc) return rc;
    size_t n = 0, cap = 8;
    fd_lot *lots = fd_malloc(cap * sizeof *lots);
    while ((rc = fd_stmt_next(st)) == 1) {
        if (n == cap) lots = fd_realloc(lots, (cap *= 2) * sizeof *lots);
        lots[n++] = (fd_lot){.id = fd_stmt_i64(st, 0), .remaining = fd_stmt_i64(st, 1)};
    }
    fd_stmt_done(st);
    int64_t *take = fd_calloc(n ? n : 1, sizeof *take);
    if (rc == 0 && (points <= 0 || fd_lots_take(lots, n, points, take) != points)) rc = FD_EINVAL;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!take[i]) continue;
        int64_t left = lots[i].remaining - take[i];
        rc = fd_db_run(db, "UPDATE lots SET remaining = $2, status = $3 WHERE id = $1",
                       FD_PARAMS(FD_I(lots[i].id), FD_I(left), FD_S(left ? "pending" : "closed")),
                       NULL);
    }
    free(take);
    free(lots);
    return rc ? rc : journal(db, m, 0, -points, 0, post);
}

/* After points came back to lots of m, the open lots must hold exactly
 * max(0, balance): a negative balance consumes what came back. */
static int settle_lots(fd_db *db, fd_member *m)
{
    int64_t lots_total, taken;
    int rc = fd_db_one_i64(db,
                           "SELECT COALESCE(SUM(remaining), 0) FROM lots WHERE member_id = $1"
                           " AND status = 'active'",
                           FD_PARAMS(FD_I(m->id)), &lots_total);
    int64_t target = m->balance > 0 ? m->balance : 0;
    if (!rc && lots_total > target)
        rc = take_lots(db, m->id, lots_total - target, NULL, &taken, NULL, NULL);
    return rc;
}

int fd_ledger_spend(fd_db *db, fd_member *m, int64_t points, const fd_posting *post, int64_t *entry)
{
    if (points <= 0 || points > FD_POINTS_MAX) return FD_EINVAL;
    if (m->balance < points) return FD_ENOFUNDS;
    int64_t taken;
    fd_lot *takes = NULL;
    size_t n = 0;
    int rc = take_lots(db, m->id, points, NULL, &taken, &takes, &n);
    if (!rc && taken < points) rc = FD_ENOFUNDS; /* lots disagree: caller rolls back */
    if (!rc) rc = journal_entry(db, m, -points, 0, 0, post, entry);
    for (size_t i = 0; i < n && !rc; i++)
        rc = fd_db_run(db,
                       "INSERT INTO journal_lots(journal_id, lot_id, points) VALUES ($1, $2, $3)",
                       FD_PARAMS(FD_I(*entry), FD_I(takes[i].id), FD_I(takes[i].remaining)), NULL);
    free(takes);
    return rc;
}

int fd_ledger_restore(fd_db *db, fd_member *m, int64_t entry, const fd_posting *post)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT l.id, t.points, l.expires_at FROM journal_lots t"
                         " JOIN lots l ON l.id = t.lot_id WHERE t.journal_id = $1 ORDER BY l.id",
                         FD_PARAMS(FD_I(entry)), &st);
    if (rc) return rc;
    size_t n = 0, cap = 8;
    fd_lot *lots = fd_malloc(cap * sizeof *lots);
    while ((rc = fd_stmt_next(st)) == 1) {
        if (n == cap) lots = fd_realloc(lots, (cap *= 2) * sizeof *lots);
        lots[n++] = (fd_lot){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1), fd_stmt_i64(st, 2), 0};
    }
    fd_stmt_done(st);
    int64_t total = 0, expired = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        total += lots[i].remaining;
        if (fd_lot_expired(lots[i].expires_at, post->now)) {
            expired += lots[i].remaining; /* comes back and expires at once */
            continue;
        }
        rc = fd_db_run(
            db, "UPDATE lots SET remaining = remaining + $2, status = 'active' WHERE id = $1",
            FD_PARAMS(FD_I(lots[i].id), FD_I(lots[i].remaining)), NULL);
    }
    free(lots);
    if (rc < 0) return rc;
    if (total == 0) return FD_ENOTFOUND;
    rc = journal(db, m, total, 0, 0, post);
    fd_posting exp = *post;
    exp.kind = "expire";
    exp.reason = "returned points of a lot that expired meanwhile";
    if (!rc && expired) rc = journal(db, m, -expired, 0, 0, &exp);
    return rc ? rc : settle_lots(db, m);
}

int fd_ledger_entry_member(fd_db *db, int64_t program_id, int64_t entry, fd_member *out)
{
    int64_t member_id;
    int rc = fd_db_one_i64(db, "SELECT member_id FROM journal WHERE id = $1 AND program_id = $2",
                           FD_PARAMS(FD_I(entry), FD_I(program_id)), &member_id);
    return rc ? rc : fd_member_get_locked(db, program_id, member_id, out);
}

int fd_ledger_merge(fd_db *db, fd_member *into, fd_member *from, const fd_posting *post)
{
    int64_t points = from->balance, pending = from->pending;
    int rc = FD_OK;
    if (points || pending) rc = journal(db, from, -points, -pending, 0, post);
    if (!rc)
        rc = fd_db_run(db,
                       "UPDATE lots SET member_id = $2 WHERE member_id = $1 AND status <> 'closed'",
                       FD_PARAMS(FD_I(from->id), FD_I(into->id)), NULL);
    fd_posting in = *post;
    in.kind = "merge_in";
    if (!rc && (points || pending)) rc = journal(db, into, points, pending, 0, &in);
    if (rc) return rc;
    return settle_lots(db, into);
}

/* Small cache of programs for the jobs, which walk lots of many programs. */
typedef struct {
    fd_program p[8];
    int n;
} program_cache;

static int cached_program(fd_db *db, program_cache *c, int64_t id, const fd_program **out)
{
    for (int i = 0; i < c->n; i++) {
        if (c->p[i].id == id) {
            *out = &c->p[i];
            return FD_OK;
        }
    }
    int slot = c->n < 8 ? c->n++ : (int)(id % 8);
    int rc = fd_program_load(db, id, &c->p[slot]);
    if (!rc) *out = &c->p[slot];
    return rc;
}

typedef struct {
    int64_t lot, program, member, remaining, earned_at, matures_at, expiry_days;
} due_lot;

/* Loads at most limit lots selected by sql ($1 = now, $2 = limit). */
static int load_due(fd_db *db, const char *sql, int64_t now, int limit, due_lot **out, int *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, sql, FD_PARAMS(FD_I(now), FD_I(limit)), &st);
    if (rc) return rc;
    due_lot *v = fd_calloc((size_t)limit, sizeof *v);
    int k = 0;
    while (k < limit && (rc = fd_stmt_next(st)) == 1) {
        v[k++] = (due_lot){fd_stmt_i64(st, 0), fd_stmt_i64(st, 1), fd_stmt_i64(st, 2),
                           fd_stmt_i64(st, 3), fd_stmt_i64(st, 4), fd_stmt_i64(st, 5),
                           fd_stmt_i64(st, 6)};
    }
    fd_stmt_done(st);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return FD_OK;
}

/* The webhooks that want one job's lot messages (one type), looked up once per
 * program in a chunk of lots: the chunk is one transaction. */
typedef struct lot_hooks {
    const char *type;
    int64_t program_id; /* whose hooks these are; 0 before the first lookup */
    int64_t hooks[FD_OUTBOX_HOOKS_MAX];
    int n;
} lot_hooks;

static int emit_lot(fd_db *db, lot_hooks *h, const fd_member *m, int64_t lot, int64_t points,
                    int64_t now)
{
    int rc;
    if (h->program_id != m->program_id) {
        if ((rc = fd_outbox_subscribers(db, m->program_id, h->type, h->hooks, &h->n))) return rc;
        h->program_id = m->program_id;
    }
    if (h->n == 0) return FD_OK; /* the jobs run this per lot: no message built for no one */
    json_t *data =
        json_pack("{s:I, s:I, s:I, s:I}", "lot_id", (json_int_t)lot, "points", (json_int_t)points,
                  "balance", (json_int_t)m->balance, "pending", (json_int_t)m->pending);
    rc = fd_outbox_write(db, m->program_id, h->type, m->id, data, h->hooks, h->n, now);
    json_decref(data);
    return rc;
}

/* "+program_id": not through an index (SQLite's way of saying so; a unary
 * plus in PostgreSQL too), so that the primary key serves the order. */
const char FD_LEDGER_EXPORT_PAGE_SQL[] =
    "SELECT id, member_id, kind, points, pending, balance_after, order_id, event_id, reason,"
    " actor, created_at, rules FROM journal WHERE +program_id = $1 AND id > $2 ORDER BY id"
    " LIMIT $3";

const char FD_LEDGER_MATURE_DUE_SQL[] =
    "SELECT id, program_id, member_id, remaining, earned_at, matures_at, expiry_days FROM lots"
    " WHERE status = 'pending' AND matures_at <= $1 ORDER BY matures_at, id LIMIT $2";
const char FD_LEDGER_EXPIRE_DUE_SQL[] =
    "SELECT id, program_id, member_id, remaining, earned_at, matures_at, expiry_days FROM lots"
    " WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2";

int fd_ledger_mature_due(fd_db *db, int64_t now, int limit, int64_t *count)
{
    due_lot *due;
    int n, rc = load_due(db, FD_LEDGER_MATURE_DUE_SQL, now, limit, &due, &n);
    if (rc) return rc;
    program_cache cache = {.n = 0};
    lot_hooks hooks = {.type = "points.pending_matured"};
    for (int i = 0; i < n && !rc; i++) {
        const fd_program *p;
        fd_member m;
        if ((rc = cached_program(db, &cache, due[i].program, &p))) break;
        if ((rc = fd_member_get_balance(db, due[i].program, due[i].member, &m))) break;
        int64_t points = due[i].remaining;
        int64_t keep = fd_credit_lot_points(m.balance, points);
        fd_program lp = *p; /* the lot keeps the expiry it was earned with (tier benefit) */
        if (due[i].expiry_days) lp.expiry_days = due[i].expiry_days;
        int64_t expires_at = fd_lot_expiry(&lp, due[i].earned_at, due[i].matures_at);
        rc = fd_db_run(db,
                       "UPDATE lots SET status = $2, remaining = $3, expires_at = $4 WHERE id = $1",
                       FD_PARAMS(FD_I(due[i].lot), FD_S(keep ? "active" : "closed"), FD_I(keep),
                                 FD_I(expires_at)),
                       NULL);
        fd_posting post = {"mature", "return window ended", NULL, NULL, "system", now};
        if (!rc && points) rc = journal(db, &m, points, -points, due[i].lot, &post);
        if (!rc && points) rc = emit_lot(db, &hooks, &m, due[i].lot, points, now);
    }
    free(due);
    if (!rc) *count = n;
    return rc;
}

int fd_ledger_expire_due(fd_db *db, int64_t now, int limit, int64_t *count)
{
    due_lot *due;
    int n, rc = load_due(db, FD_LEDGER_EXPIRE_DUE_SQL, now, limit, &due, &n);
    if (rc) return rc;
    lot_hooks hooks = {.type = "points.expired"};
    for (int i = 0; i < n && !rc; i++) {
        fd_member m;
        if ((rc = fd_member_get_balance(db, due[i].program, due[i].member, &m))) break;
        rc = fd_db_run(db, "UPDATE lots SET status = 'closed', remaining = 0 WHERE id = $1",
                       FD_PARAMS(FD_I(due[i].lot)), NULL);
        fd_posting post = {"expire", "points expired", NULL, NULL, "system", now};
        if (!rc && due[i].remaining) rc = journal(db, &m, -due[i].remaining, 0, due[i].lot, &post);
        if (!rc && due[i].remaining)
            rc = emit_lot(db, &hooks, &m, due[i].lot, due[i].remaining, now);
    }
    free(due);
    if (!rc) *count = n;
    return rc;
}

__attribute__((format(printf, 4, 0))) static void violation(void (*report)(const char *, void *),
                                                            void *arg, int64_t *count,
                                                            const char *fmt, long long a,
                                                            long long b, long long c)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a, b, c);
    report(msg, arg);
    (*count)++;
}

/* *bad receives the journal entries with rule shares that are not an
 * earning's, do not parse, or do not add up to its points. */
static int count_bad_shares(fd_db *db, int64_t *bad)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db, "SELECT kind, points + pending, rules FROM journal WHERE rules IS NOT NULL",
                    FD_NOPARAMS, &st);
    if (rc) return rc;
    *bad = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        fd_rule_part *parts;
        size_t n;
        int64_t sum = 0;
        bool ok = !fd_ledger_shares_parse(fd_stmt_text(st, 2), &parts, &n);
        for (size_t i = 0; ok && i < n; i++)
            ok = parts[i].points > 0 && !fd_add_i64(sum, parts[i].points, &sum);
        free(parts); /* NULL when the text did not parse */
        if (!ok || n == 0 || strcmp(fd_stmt_text(st, 0), "earn") || sum != fd_stmt_i64(st, 1))
            (*bad)++;
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

int fd_ledger_check(fd_db *db, void (*report)(const char *msg, void *arg), void *arg,
                    int64_t *members, int64_t *violations)
{
    fd_stmt *st;
    int64_t bad = 0, nmembers = 0;
    int rc =
        fd_db_query(db,
                    "SELECT m.id, m.balance, m.pending,"
                    " COALESCE((SELECT SUM(j.points) FROM journal j WHERE j.member_id = m.id), 0),"
                    " COALESCE((SELECT SUM(j.pending) FROM journal j WHERE j.member_id = m.id), 0),"
                    " COALESCE((SELECT SUM(l.remaining) FROM lots l WHERE l.member_id = m.id"
                    "   AND l.status = 'active'), 0),"
                    " COALESCE((SELECT SUM(l.remaining) FROM lots l WHERE l.member_id = m.id"
                    "   AND l.status = 'pending'), 0),"
                    " COALESCE((SELECT j.balance_after FROM journal j WHERE j.member_id = m.id"
                    "   ORDER BY j.id DESC LIMIT 1), 0)"
                    " FROM members m ORDER BY m.id",
                    FD_NOPARAMS, &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        long long id = fd_stmt_i64(st, 0), bal = fd_stmt_i64(st, 1), pen = fd_stmt_i64(st, 2);
        long long jbal = fd_stmt_i64(st, 3), jpen = fd_stmt_i64(st, 4);
        long long lact = fd_stmt_i64(st, 5), lpen = fd_stmt_i64(st, 6), last = fd_stmt_i64(st, 7);
        nmembers++;
        if (bal != jbal)
            violation(report, arg, &bad, "member %lld: balance %lld != journal sum %lld", id, bal,
                      jbal);
        if (bal != last)
            violation(report, arg, &bad, "member %lld: balance %lld != last balance_after %lld", id,
                      bal, last);
        if (pen != jpen || pen != lpen)
            violation(report, arg, &bad, "member %lld: pending %lld != journal %lld or lots", id,
                      pen, jpen);
        if ((bal >= 0 && lact != bal) || (bal < 0 && lact != 0))
            violation(report, arg, &bad, "member %lld: open lots hold %lld, balance is %lld", id,
                      lact, bal);
    }
    fd_stmt_done(st);
    if (rc < 0) return rc;
    int64_t badlots = 0;
    rc = fd_db_one_i64(db,
                       "SELECT COUNT(*) FROM lots WHERE remaining < 0 OR remaining > points"
                       " OR (status = 'closed' AND remaining <> 0)",
                       FD_NOPARAMS, &badlots);
    if (rc) return rc;
    if (badlots)
        violation(report, arg, &bad, "%lld lots hold impossible remaining points", badlots, 0, 0);
    int64_t badparts = 0;
    if ((rc = count_bad_shares(db, &badparts))) return rc;
    if (badparts)
        violation(report, arg, &bad,
                  "%lld journal entries differ from the sum of their rules' shares", badparts, 0,
                  0);
    *members = nmembers;
    *violations = bad;
    return FD_OK;
}
