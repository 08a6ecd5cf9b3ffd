/*
 * ledger.h - the points journal and lots in storage. Every balance change
 * goes through here, inside the caller's transaction, and writes exactly one
 * journal entry; the decisions come from core/ledger.h.
 */
#ifndef FD_STORE_LEDGER_H
#define FD_STORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/ledger.h"
#include "core/member.h"
#include "core/program.h"
#include "core/rules.h"
#include "store/db.h"

/* What a journal entry records besides the amounts. Strings are borrowed. */
typedef struct fd_posting {
    const char
        *kind; /* earn, adjust, redeem, restore, reverse, mature, expire, merge_in, merge_out */
    const char *reason;
    const char *event_id;
    const char *order_id;
    const char *actor;
    int64_t now;
} fd_posting;

/* Credits points to m: a pending lot (spendable at the end of the program's
 * pending window) or a spendable lot that first repays a negative balance.
 * Updates m's balances and row; *lot_id (may be NULL) receives the lot. */
int fd_ledger_credit(fd_db *db, const fd_program *p, fd_member *m, int64_t points, bool pending,
                     const fd_posting *post, int64_t *lot_id);

/* Credits what several rules awarded at once (the n rules an event fired,
 * each part's points above 0): one lot and one journal entry (post) hold
 * their sum, and each rule's share is recorded in the entry (its `rules`
 * column). FD_EINVAL for no parts, more than FD_LEDGER_SHARES_MAX, a part of
 * no points, or a sum out of range. */
#define FD_LEDGER_SHARES_MAX FD_RULES_MAX
int fd_ledger_credit_rules(fd_db *db, const fd_program *p, fd_member *m, const fd_rule_part *parts,
                           size_t n, bool pending, const fd_posting *post, int64_t *lot_id);

/* The rule shares of a journal entry from its `rules` column, stored as
 * [[rule_id, rule_version, points], ...] in rule order; NULL (an entry no
 * rule made: an adjustment, a redemption, the program's base rate) has none.
 * *parts (caller frees; NULL for none) and *n receive them; FD_EINVAL for a
 * text of another form, with nothing returned. */
int fd_ledger_shares_parse(const char *stored, fd_rule_part **parts, size_t *n);

/* The same as a new array of {"rule_id", "version", "points"} (empty for
 * NULL, and for a text of another form, which `fidelis check` reports). */
json_t *fd_ledger_shares_json(const char *stored);

/* Debits points from m's spendable lots, FIFO by expiry, the lots of order
 * first_order first when not NULL. When the lots hold less: FD_ENOFUNDS,
 * unless allow_negative, in which case the balance goes below zero. */
int fd_ledger_debit(fd_db *db, fd_member *m, int64_t points, const char *first_order,
                    bool allow_negative, const fd_posting *post);

/* Spends points of m (a reward): FIFO by expiry, never below zero
 * (FD_ENOFUNDS), remembering which lots gave what; *entry receives the
 * journal entry, the handle for fd_ledger_restore. */
int fd_ledger_spend(fd_db *db, fd_member *m, int64_t points, const fd_posting *post,
                    int64_t *entry);

/* Gives back what spend `entry` took, to the lots it came from with their
 * expiry dates, in one journal entry of post->kind; points of a lot that
 * has expired meanwhile come back and expire at once (a second entry, kind
 * expire). A negative balance is repaid first. FD_ENOTFOUND when the entry
 * took nothing. */
int fd_ledger_restore(fd_db *db, fd_member *m, int64_t entry, const fd_posting *post);

/* Loads, locked, the member whose ledger holds journal entry `entry` (who
 * paid for a voucher: the holder, or their company account's wallet). */
int fd_ledger_entry_member(fd_db *db, int64_t program_id, int64_t entry, fd_member *out);

/* Points of order_id still pending for m (inside the return window). */
int fd_ledger_order_pending(fd_db *db, const fd_member *m, const char *order_id, int64_t *points);

/* Cancels points of order_id's pending lots (a refund inside the return
 * window): at most what they hold, FD_EINVAL beyond. */
int fd_ledger_cancel_pending(fd_db *db, fd_member *m, const char *order_id, int64_t points,
                             const fd_posting *post);

/* Takes back `points` earned with order_id (a refund): from the order's
 * pending points first, then from the balance, which goes below zero or
 * stops at zero as p's refund policy says (fd_reversal_plan). *plan (may
 * be NULL) receives how it was collected. */
int fd_ledger_reverse(fd_db *db, const fd_program *p, fd_member *m, int64_t points,
                      const char *order_id, const fd_posting *post, fd_reversal *plan);

/* Status ("pending", "active", "closed") and remaining points of a lot. */
int fd_ledger_lot_state(fd_db *db, int64_t lot_id, char status[16], int64_t *remaining);

/* Moves from's points, pending points and open lots into `into`, with a
 * merge_out and a merge_in journal entry; from's history stays with from. */
int fd_ledger_merge(fd_db *db, fd_member *into, fd_member *from, const fd_posting *post);

/* Jobs: activate pending lots whose window ended, and expire lots whose date
 * came, across all programs, at most `limit` lots per call; *count receives
 * how many were processed (call again while it equals limit). */
int fd_ledger_mature_due(fd_db *db, int64_t now, int limit, int64_t *count);
int fd_ledger_expire_due(fd_db *db, int64_t now, int limit, int64_t *count);
/* The queries those jobs find their lots with ($1 now, $2 limit): each must
 * search its partial index (lots_maturity, lots_expiry) in order, which
 * tests/unit/test_store_ledger.c checks against SQLite's plan. */
extern const char FD_LEDGER_MATURE_DUE_SQL[];
extern const char FD_LEDGER_EXPIRE_DUE_SQL[];

/* A page of the journal export ($1 program, $2 the last entry id seen, $3
 * the page size in entries), in id order. It walks the journal by id: were
 * the program's filter to use journal_program, each page would read and sort
 * all of the program's entries (tests/unit/test_store_ledger.c checks the
 * plan). Columns: id, member_id, kind, points, pending, balance_after,
 * order_id, event_id, reason, actor, created_at, rules (as stored:
 * fd_ledger_shares_json). */
extern const char FD_LEDGER_EXPORT_PAGE_SQL[];

/* The query a spend finds member $1's open lots with, in the order it takes
 * them (FIFO: expiry, earning, id): lots_member gives that order, so a spend
 * reads only the oldest lots that cover it (the plan is checked in
 * tests/unit/test_store_ledger.c; sorting them cost 20 ms per spend at 20,000
 * open lots). */
extern const char FD_LEDGER_SPEND_LOTS_SQL[];

/* Verifies every ledger invariant (ledger.h in core) for every member;
 * calls report for each violation; *violations receives their number. */
int fd_ledger_check(fd_db *db, void (*report)(const char *msg, void *arg), void *arg,
                    int64_t *members, int64_t *violations);

#endif
