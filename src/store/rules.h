/*
 * rules.h - earning rules in storage: rows with their versions, usage
 * counters for limits, and a cache of compiled rule sets per program.
 *
 * Every change writes a new version row (who, when, the whole definition)
 * and bumps programs.rules_version in the same transaction; the cache
 * recompiles a program's rules when that number moves, so a change applies
 * to the next event without a restart.
 */
#ifndef FD_STORE_RULES_H
#define FD_STORE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rules.h"
#include "store/db.h"

typedef struct fd_rule_row {
    int64_t id, version;
    char *definition; /* JSON text, owned */
    bool active;
    int64_t points_awarded;
    int64_t created_at, updated_at;
    char updated_by[48];
} fd_rule_row;

void fd_rule_row_clear(fd_rule_row *r);

/* Creates a rule (version 1). */
int fd_rule_insert(fd_db *db, int64_t program_id, const char *name, const char *definition,
                   bool active, const char *actor, int64_t now, int64_t *id);
/* Replaces a rule's definition and active flag: version + 1. FD_ENOTFOUND
 * for a missing or deleted rule. */
int fd_rule_update(fd_db *db, int64_t program_id, int64_t id, const char *name,
                   const char *definition, bool active, const char *actor, int64_t now,
                   int64_t *version);
/* Deletes (retires) a rule: it stops applying; its history stays. */
int fd_rule_delete(fd_db *db, int64_t program_id, int64_t id, const char *actor, int64_t now);
int fd_rule_get(fd_db *db, int64_t program_id, int64_t id, fd_rule_row *out);
/* Pages through live rules with id > after; fn borrows each row. */
int fd_rule_list(fd_db *db, int64_t program_id, int64_t after, int limit,
                 void (*fn)(const fd_rule_row *r, void *arg), void *arg);
/* Versions of a rule, oldest first: fn(version, change, definition, active, by, at). */
int fd_rule_versions(fd_db *db, int64_t program_id, int64_t id,
                     void (*fn)(int64_t version, const char *change, const char *definition,
                                bool active, const char *by, int64_t at, void *arg),
                     void *arg);

/* Usage for limits. */
int fd_rule_usage_get(fd_db *db, int64_t rule_id, int64_t member_id, const char *period,
                      int64_t *points, int64_t *triggers);
int fd_rule_usage_add(fd_db *db, int64_t program_id, int64_t rule_id, int64_t member_id,
                      const char *period, int64_t points, int64_t triggers);
/* The points a rule has awarded so far (its budget's use). */
int fd_rule_budget_used(fd_db *db, int64_t rule_id, int64_t *used);
/* Locks a rule's total until the transaction ends (PostgreSQL; a no-op write
 * under SQLite's single writer): concurrent awards of a budgeted rule queue. */
int fd_rule_lock_total(fd_db *db, int64_t rule_id);
/* Adds each part's points to the total of its rule, for the n parts; the
 * rules are distinct, n <= FD_RULES_MAX, and each rule's row exists
 * (fd_rule_insert writes it). Where the connection may defer writes
 * (fd_db_may_defer: the SQLite writer outside savepoints), the amounts are
 * kept and written once when the transaction commits; fd_rule_budget_used
 * sees them meanwhile. */
int fd_rule_award(fd_db *db, int64_t program_id, const fd_rule_part *parts, size_t n);

/* A program's compiled active rules, sorted by priority. Shared and
 * reference-counted: release it when done. `defined` counts the program's
 * live rules, active or not (0 means the program's base rate applies). */
typedef struct fd_ruleset {
    int64_t program_id, version;
    size_t n, defined;
    bool campaigns; /* some rule belongs to a campaign */
    unsigned reads; /* the context parts some rule's condition may read (FD_CTX_*) */
    fd_rule *rules;
    const fd_rule **sorted;
    int refs; /* guarded by the cache lock */
} fd_ruleset;

/* The rule set for rules_version of program_id, compiling it on a miss. */
int fd_ruleset_get(fd_db *db, int64_t program_id, int64_t rules_version, fd_ruleset **out);
void fd_ruleset_release(fd_ruleset *rs);
/* Frees every cached rule set (at shutdown). */
void fd_ruleset_cache_clear(void);

#endif
