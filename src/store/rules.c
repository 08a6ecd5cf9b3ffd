/*
 * rules.c - earning rules in storage and the compiled-rules cache (rules.h).
 */
#include "store/rules.h"

#include <assert.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "store/context.h"

void fd_rule_row_clear(fd_rule_row *r)
{
    free(r->definition);
    r->definition = NULL;
}

static int bump_version(fd_db *db, int64_t program_id)
{
    return fd_db_run(db, "UPDATE programs SET rules_version = rules_version + 1 WHERE id = $1",
                     FD_PARAMS(FD_I(program_id)), NULL);
}

static int add_version(fd_db *db, int64_t program_id, int64_t id, int64_t version,
                       const char *change, const char *definition, bool active, const char *actor,
                       int64_t now)
{
    int rc = fd_db_run(db,
                       "INSERT INTO earning_rule_versions(program_id, rule_id, version, change,"
                       " definition, active, changed_by, changed_at)"
                       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                       FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(version), FD_S(change),
                                 FD_S(definition), FD_I(active), FD_S(actor), FD_I(now)),
                       NULL);
    return rc ? rc : bump_version(db, program_id);
}

int fd_rule_insert(fd_db *db, int64_t program_id, const char *name, const char *definition,
                   bool active, const char *actor, int64_t now, int64_t *id)
{
    int64_t live;
    int rc = fd_db_one_i64(db,
                           "SELECT COUNT(*) FROM earning_rules WHERE program_id = $1"
                           " AND deleted_at IS NULL",
                           FD_PARAMS(FD_I(program_id)), &live);
    if (rc) return rc;
    if (live >= FD_RULES_MAX) return FD_ETOOBIG;
    rc = fd_db_one_i64(db,
                       "INSERT INTO earning_rules(program_id, version, name, definition, active,"
                       " created_at, updated_at, updated_by)"
                       " VALUES ($1, 1, $2, $3, $4, $5, $5, $6) RETURNING id",
                       FD_PARAMS(FD_I(program_id), FD_S(name), FD_S(definition), FD_I(active),
                                 FD_I(now), FD_S(actor)),
                       id);
    if (!rc)
        rc = fd_db_run(db,
                       "INSERT INTO rule_totals(rule_id, program_id, points_awarded)"
                       " VALUES ($1, $2, 0)",
                       FD_PARAMS(FD_I(*id), FD_I(program_id)), NULL);
    return rc ? rc : add_version(db, program_id, *id, 1, "create", definition, active, actor, now);
}

int fd_rule_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                   const char *definition, bool active, const char *actor, int64_t now,
                   int64_t *version)
{
    int rc = fd_db_one_i64(db,
                           "UPDATE earning_rules SET version = version + 1, name = $3,"
                           " definition = $4, active = $5, updated_at = $6, updated_by = $7"
                           " WHERE program_id = $1 AND id = $2 AND deleted_at IS NULL"
                           " RETURNING version",
                           FD_PARAMS(FD_I(program_id), FD_I(id), FD_S(name), FD_S(definition),
                                     FD_I(active), FD_I(now), FD_S(actor)),
                           version);
    return rc ? rc
              : add_version(db, program_id, id, *version, "update", definition, active, actor, now);
}

int fd_rule_delete(fd_db *db, int64_t program_id, int64_t id, const char *actor, int64_t now)
{
    fd_rule_row row = {0};
    int rc = fd_rule_get(db, program_id, id, &row);
    int64_t version = 0;
    if (!rc)
        rc = fd_db_one_i64(db,
                           "UPDATE earning_rules SET version = version + 1, active = 0,"
                           " deleted_at = $3, updated_at = $3, updated_by = $4"
                           " WHERE program_id = $1 AND id = $2 RETURNING version",
                           FD_PARAMS(FD_I(program_id), FD_I(id), FD_I(now), FD_S(actor)), &version);
    if (!rc)
        rc = add_version(db, program_id, id, version, "delete", row.definition, false, actor, now);
    fd_rule_row_clear(&row);
    return rc;
}

#define RULE_SELECT                                                                                \
    "SELECT r.id, r.version, r.definition, r.active, t.points_awarded, r.created_at,"              \
    " r.updated_at, r.updated_by FROM earning_rules r JOIN rule_totals t ON t.rule_id = r.id"

static void read_row(fd_stmt *st, fd_rule_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = fd_stmt_i64(st, 0);
    r->version = fd_stmt_i64(st, 1);
    r->definition = fd_strdup(fd_stmt_text(st, 2));
    r->active = fd_stmt_i64(st, 3) != 0;
    r->points_awarded = fd_stmt_i64(st, 4);
    r->created_at = fd_stmt_i64(st, 5);
    r->updated_at = fd_stmt_i64(st, 6);
    snprintf(r->updated_by, sizeof r->updated_by, "%s", fd_stmt_text(st, 7));
}

int fd_rule_get(fd_db *db, int64_t program_id, int64_t id, fd_rule_row *out)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         RULE_SELECT " WHERE r.program_id = $1 AND r.id = $2"
                                     " AND r.deleted_at IS NULL",
                         FD_PARAMS(FD_I(program_id), FD_I(id)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        read_row(st, out);
        rc = FD_OK;
    } else if (rc == 0) {
        rc = FD_ENOTFOUND;
    }
    fd_stmt_done(st);
    return rc;
}

int fd_rule_list(fd_db *db, int64_t program_id, int64_t after, int limit,
                 void (*fn)(const fd_rule_row *r, void *arg), void *arg)
{
    fd_stmt *st;
    int rc =
        fd_db_query(db,
                    RULE_SELECT " WHERE r.program_id = $1"
                                " AND r.deleted_at IS NULL AND r.id > $2 ORDER BY r.id LIMIT $3",
                    FD_PARAMS(FD_I(program_id), FD_I(after), FD_I(limit)), &st);
    if (rc) return rc;
    while ((rc = fd_stmt_next(st)) == 1) {
        fd_rule_row r;
        read_row(st, &r);
        fn(&r, arg);
        fd_rule_row_clear(&r);
    }
    fd_stmt_done(st);
    return rc;
}

int fd_rule_versions(fd_db *db, int64_t program_id, int64_t id,
                     void (*fn)(int64_t version, const char *change, const char *definition,
                                bool active, const char *by, int64_t at, void *arg),
                     void *arg)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT version, change, definition, active, changed_by, changed_at"
                         " FROM earning_rule_versions WHERE program_id = $1 AND rule_id = $2"
                         " ORDER BY version",
                         FD_PARAMS(FD_I(program_id), FD_I(id)), &st);
    if (rc) return rc;
    int rows = 0;
    while ((rc = fd_stmt_next(st)) == 1) {
        rows++;
        fn(fd_stmt_i64(st, 0), fd_stmt_text(st, 1), fd_stmt_text(st, 2), fd_stmt_i64(st, 3) != 0,
           fd_stmt_text(st, 4), fd_stmt_i64(st, 5), arg);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : rows ? FD_OK : FD_ENOTFOUND;
}

int fd_rule_usage_get(fd_db *db, int64_t rule_id, int64_t member_id, const char *period,
                      int64_t *points, int64_t *triggers)
{
    fd_stmt *st;
    *points = *triggers = 0;
    int rc = fd_db_query(db,
                         "SELECT points, triggers FROM rule_usage WHERE rule_id = $1"
                         " AND member_id = $2 AND period = $3",
                         FD_PARAMS(FD_I(rule_id), FD_I(member_id), FD_S(period)), &st);
    if (rc) return rc;
    rc = fd_stmt_next(st);
    if (rc == 1) {
        *points = fd_stmt_i64(st, 0);
        *triggers = fd_stmt_i64(st, 1);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

int fd_rule_usage_add(fd_db *db, int64_t program_id, int64_t rule_id, int64_t member_id,
                      const char *period, int64_t points, int64_t triggers)
{
    return fd_db_run(
        db,
        "INSERT INTO rule_usage(program_id, rule_id, member_id, period, points, triggers)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (rule_id, member_id, period)"
        " DO UPDATE SET points = rule_usage.points + $5,"
        " triggers = rule_usage.triggers + $6",
        FD_PARAMS(FD_I(program_id), FD_I(rule_id), FD_I(member_id), FD_S(period), FD_I(points),
                  FD_I(triggers)),
        NULL);
}

int fd_rule_lock_total(fd_db *db, int64_t rule_id)
{
    return fd_db_run(db,
                     "UPDATE rule_totals SET points_awarded = points_awarded WHERE rule_id = $1",
                     FD_PARAMS(FD_I(rule_id)), NULL);
}

/* Awards go in one upsert of up to this many rows (every rule has its row, so
 * each takes the DO UPDATE path) instead of one statement per awarding rule. */
#define AWARDS_PER_STATEMENT 16

static char awards_sql[AWARDS_PER_STATEMENT][160 + 24 * AWARDS_PER_STATEMENT];
static pthread_once_t awards_once = PTHREAD_ONCE_INIT;

static void awards_sql_init(void)
{
    for (int k = 1; k <= AWARDS_PER_STATEMENT; k++)
        fd_db_rows_sql(
            awards_sql[k - 1], sizeof awards_sql[0],
            "INSERT INTO rule_totals(rule_id, program_id, points_awarded) VALUES ", k, 3,
            " ON CONFLICT (rule_id) DO UPDATE"
            " SET points_awarded = rule_totals.points_awarded + excluded.points_awarded");
}

/* Rules with awards pending in one transaction; a set holds at least one
 * earning's, so that it always fits after the set is written. */
#define AWARDS_PENDING_MAX 512
_Static_assert(AWARDS_PENDING_MAX >= FD_RULES_MAX, "an earning's awards fit in a set");

/* Points to add to a rule's total (its program's id for the upsert's insert path). */
typedef struct award {
    int64_t rule_id, program_id, points;
} award;

typedef struct award_set {
    size_t n;
    award rows[AWARDS_PENDING_MAX];
} award_set;

static int write_awards(fd_db *db, const award *rows, size_t n)
{
    pthread_once(&awards_once, awards_sql_init);
    for (size_t at = 0; at < n;) {
        size_t k = n - at;
        if (k > AWARDS_PER_STATEMENT) k = AWARDS_PER_STATEMENT;
        fd_param params[3 * AWARDS_PER_STATEMENT];
        for (size_t i = 0; i < k; i++) {
            params[3 * i] = FD_I(rows[at + i].rule_id);
            params[3 * i + 1] = FD_I(rows[at + i].program_id);
            params[3 * i + 2] = FD_I(rows[at + i].points);
        }
        int rc = fd_db_run(db, awards_sql[k - 1], params, 3 * k, NULL);
        if (rc) return rc;
        at += k;
    }
    return FD_OK;
}

/* The awards of a transaction, kept until it commits (fd_db_deferred): the
 * rules of a group's events share their rows, so the group writes each row
 * once instead of each event writing it. */
static void *pending_create(void)
{
    return fd_calloc(1, sizeof(award_set));
}

static int pending_flush(fd_db *db, void *state)
{
    award_set *a = state;
    int rc = write_awards(db, a->rows, a->n);
    a->n = 0;
    return rc;
}

static void pending_drop(void *state)
{
    ((award_set *)state)->n = 0;
}

static const fd_db_deferred_ops PENDING_AWARDS = {pending_create, pending_flush, pending_drop,
                                                  free};

/* The index of rule_id in a, a->n if it has none. */
static size_t find_rule(const award_set *a, int64_t rule_id)
{
    size_t k = 0;
    while (k < a->n && a->rows[k].rule_id != rule_id)
        k++;
    return k;
}

/* The points pending for rule_id in a (may be NULL), 0 if none. */
static int64_t pending_points(const award_set *a, int64_t rule_id)
{
    size_t k = a ? find_rule(a, rule_id) : 0;
    return a && k < a->n ? a->rows[k].points : 0;
}

/* Adds the awards to a, as one amount per rule; FD_ETOOBIG when a has no room
 * for a new rule (the caller writes a first). */
static int add_pending(award_set *a, int64_t program_id, const fd_rule_part *parts, size_t n)
{
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++)
        fresh += find_rule(a, parts[i].rule_id) == a->n;
    if (a->n + fresh > AWARDS_PENDING_MAX) return FD_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        size_t k = find_rule(a, parts[i].rule_id);
        if (k == a->n) a->rows[a->n++] = (award){parts[i].rule_id, program_id, 0};
        if (fd_add_i64(a->rows[k].points, parts[i].points, &a->rows[k].points)) return FD_EOVERFLOW;
    }
    return FD_OK;
}

int fd_rule_award(fd_db *db, int64_t program_id, const fd_rule_part *parts, size_t n)
{
    if (fd_db_may_defer(db)) {
        award_set *a = fd_db_deferred(db, &PENDING_AWARDS);
        int rc = add_pending(a, program_id, parts, n);
        if (rc != FD_ETOOBIG) return rc;
        if ((rc = pending_flush(db, a))) return rc;
        return add_pending(a, program_id, parts, n);
    }
    award rows[FD_RULES_MAX];
    assert(n <= FD_RULES_MAX);
    for (size_t i = 0; i < n; i++)
        rows[i] = (award){parts[i].rule_id, program_id, parts[i].points};
    return write_awards(db, rows, n);
}

int fd_rule_budget_used(fd_db *db, int64_t rule_id, int64_t *used)
{
    int rc = fd_db_one_i64(db, "SELECT points_awarded FROM rule_totals WHERE rule_id = $1",
                           FD_PARAMS(FD_I(rule_id)), used);
    if (!rc) *used += pending_points(fd_db_deferred_peek(db, &PENDING_AWARDS), rule_id);
    return rc;
}

/* ---------- compiled rule sets ---------- */

#define CACHE_PROGRAMS 64

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static fd_ruleset *cache[CACHE_PROGRAMS];

static void ruleset_free(fd_ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        fd_rule_clear(&rs->rules[i]);
    free(rs->rules);
    free(rs->sorted);
    free(rs);
}

static int load_ruleset(fd_db *db, int64_t program_id, int64_t version, fd_ruleset **out)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, version, definition, active FROM earning_rules"
                         " WHERE program_id = $1 AND deleted_at IS NULL ORDER BY id",
                         FD_PARAMS(FD_I(program_id)), &st);
    if (rc) return rc;
    fd_ruleset *rs = fd_calloc(1, sizeof *rs);
    rs->program_id = program_id;
    rs->version = version;
    rs->rules = fd_calloc(FD_RULES_MAX, sizeof *rs->rules);
    while ((rc = fd_stmt_next(st)) == 1) {
        rs->defined++;
        if (!fd_stmt_i64(st, 3) || rs->n == FD_RULES_MAX) continue;
        json_t *def = json_loads(fd_stmt_text(st, 2), 0, NULL);
        char field[128], msg[160];
        fd_rule *r = &rs->rules[rs->n];
        if (def && fd_rule_parse(def, r, field, msg) == FD_OK) {
            r->id = fd_stmt_i64(st, 0);
            r->version = fd_stmt_i64(st, 1);
            rs->campaigns = rs->campaigns || r->campaign_id;
            rs->reads |= fd_context_reads(r->condition);
            rs->n++;
        } else { /* validated when saved: only a bug or a hand edit gets here */
            fd_log("error", "msg=\"stored rule does not parse\" rule=%lld field=%s",
                   (long long)fd_stmt_i64(st, 0), field);
        }
        json_decref(def);
    }
    fd_stmt_done(st);
    if (rc < 0) {
        ruleset_free(rs);
        return rc;
    }
    rs->sorted = fd_calloc(rs->n ? rs->n : 1, sizeof *rs->sorted);
    for (size_t i = 0; i < rs->n; i++)
        rs->sorted[i] = &rs->rules[i];
    fd_rules_sort(rs->sorted, rs->n);
    *out = rs;
    return FD_OK;
}

int fd_ruleset_get(fd_db *db, int64_t program_id, int64_t rules_version, fd_ruleset **out)
{
    size_t slot = (size_t)program_id % CACHE_PROGRAMS;
    pthread_mutex_lock(&cache_mu);
    fd_ruleset *rs = cache[slot];
    if (rs && rs->program_id == program_id && rs->version == rules_version) {
        rs->refs++;
        pthread_mutex_unlock(&cache_mu);
        *out = rs;
        return FD_OK;
    }
    int rc = load_ruleset(db, program_id, rules_version, &rs);
    if (rc) {
        pthread_mutex_unlock(&cache_mu);
        return rc;
    }
    if (cache[slot] && --cache[slot]->refs == 0) ruleset_free(cache[slot]);
    rs->refs = 2; /* the cache's and the caller's */
    cache[slot] = rs;
    pthread_mutex_unlock(&cache_mu);
    *out = rs;
    return FD_OK;
}

void fd_ruleset_release(fd_ruleset *rs)
{
    if (!rs) return;
    pthread_mutex_lock(&cache_mu);
    bool last = --rs->refs == 0;
    pthread_mutex_unlock(&cache_mu);
    if (last) ruleset_free(rs);
}

void fd_ruleset_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_PROGRAMS; i++) {
        if (cache[i] && --cache[i]->refs == 0) ruleset_free(cache[i]);
        cache[i] = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
}
