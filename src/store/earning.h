/*
 * earning.h - how an event earns: builds the rule context (event, order,
 * member, local time), loads each rule's usage, runs core/rules.c, and
 * writes the outcome (one lot and journal entry per awarding rule, usage
 * and budget counters). Used by POST /v1/events inside the writer's
 * transaction, so limits and budgets are exact, and by POST /v1/simulate on
 * a reader connection, which writes nothing.
 */
#ifndef FD_STORE_EARNING_H
#define FD_STORE_EARNING_H

#include <jansson.h>
#include <stdbool.h>

#include "core/jsonx.h"
#include "core/member.h"
#include "core/program.h"
#include "core/rules.h"
#include "store/config.h"
#include "store/db.h"
#include "store/ledger.h"
#include "store/rules.h"

typedef struct fd_earning {
    /* inputs, borrowed */
    const fd_program *p;
    const fd_ruleset *rs;
    const fd_config *cfg; /* tiers and segments */
    const fd_member *m;   /* NULL: an anonymous simulation */
    const json_t *event;  /* the validated event body */
    const char *type;
    int64_t occurred_at;
    int64_t total, shipping; /* purchases, minor units */
    bool explain;            /* each rule's detail text (a simulation shows it) */
    /* outputs */
    fd_rule_outcome *outcomes;           /* one per rule of rs */
    char (*details)[FD_RULE_DETAIL_MAX]; /* with explain: the outcomes' texts */
    char (*points_period)[16];           /* per rule with a member points limit, else "" */
    char (*triggers_period)[16];         /* per rule with a member triggers limit, else "" */
    int64_t points;                      /* total awarded */
    bool base_rate;                      /* no rules defined: the program's base rate applied */
    int tier;                            /* the member's effective tier index, -1 for none */
    int64_t orders_before;               /* purchases: orders the member placed before this one */
} fd_earning;

/* Locks the rows of the rules with a budget that an event of this type can
 * trigger, for the rest of the transaction (call first, before the member). */
int fd_earning_lock_budgets(fd_db *db, const fd_ruleset *rs, const char *type);

/* Evaluates e against the rules; reads usage and order count from db. */
int fd_earning_evaluate(fd_db *db, fd_earning *e);

/* Credits what e awarded to m (pending when the program holds points): one
 * lot and one journal entry for the sum, each rule's share beside it
 * (fd_ledger_credit_rules), and counts usage and budgets. post gives the
 * event, order and actor; its reason is set here (the rules' names). */
int fd_earning_apply(fd_db *db, fd_earning *e, fd_member *m, bool pending, fd_posting post);

/* Every rule of the evaluation with its points, fired, reason and detail, or
 * the base rate's entry (a simulation's explanation; caller owns it). */
json_t *fd_earning_breakdown(const fd_earning *e);

/* Writes "rules" to w: the rules that awarded points, as
 * [{rule_id, version, name, points}], or the base rate's entry
 * {rule_id: null, name, points, fired, reason} when it awarded some. An
 * event's result and its points.earned message both carry it. */
void fd_earning_awards_write(const fd_earning *e, fd_json_writer *w);

void fd_earning_clear(fd_earning *e);

#endif
