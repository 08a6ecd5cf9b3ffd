/*
 * config.c - the per-program configuration cache (config.h).
 */
#include "store/config.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd.h"
#include "core/perr.h"
#include "store/context.h"

#define CACHE_PROGRAMS 64

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static fd_config *cache[CACHE_PROGRAMS];

int fd_offer_parse(const json_t *def, fd_offer *o, char field[128], char msg[160])
{
    memset(o, 0, sizeof *o);
    const json_t *name = json_object_get(def, "name"), *target = json_object_get(def, "target"),
                 *prio = json_object_get(def, "priority"),
                 *cond = json_object_get(def, "condition");
#define BAD(f, m)                                                                                  \
    do {                                                                                           \
        snprintf(field, 128, "%s", f);                                                             \
        snprintf(msg, 160, "%s", m);                                                               \
        fd_offer_clear(o);                                                                         \
        return FD_EINVAL;                                                                          \
    } while (0)
    if (!json_is_object(def)) BAD("", "an offer is a JSON object");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) >= sizeof o->name)
        BAD("name", "name is required (at most 127 bytes)");
    snprintf(o->name, sizeof o->name, "%s", json_string_value(name));
    if (target && !json_is_object(target))
        BAD("target", "target is {\"category\": ...} or {\"sku\": ...}");
    const json_t *cat = json_object_get(target, "category"), *sku = json_object_get(target, "sku");
    if ((cat && (!json_is_string(cat) || json_string_length(cat) >= sizeof o->target_category)) ||
        (sku && (!json_is_string(sku) || json_string_length(sku) >= sizeof o->target_sku)))
        BAD("target", "target category and sku are strings");
    snprintf(o->target_category, sizeof o->target_category, "%s",
             cat ? json_string_value(cat) : "");
    snprintf(o->target_sku, sizeof o->target_sku, "%s", sku ? json_string_value(sku) : "");
    if (prio && (!json_is_integer(prio) || json_integer_value(prio) < -1000 ||
                 json_integer_value(prio) > 1000))
        BAD("priority", "priority is an integer from -1000 to 1000");
    o->priority = prio ? (int)json_integer_value(prio) : 0;
    const json_t *content = json_object_get(def, "content");
    if (content && !json_is_object(content))
        BAD("content", "content is an object (message, code, discount...)");
    fd_perr e = {field, msg};
    if (cond && !json_is_null(cond) && fd_perr_compile(&e, "condition", cond, &o->condition)) {
        fd_offer_clear(o);
        return FD_EINVAL;
    }
#undef BAD
    o->definition = json_deep_copy(def);
    return FD_OK;
}

void fd_offer_clear(fd_offer *o)
{
    jl_free(o->condition);
    json_decref(o->definition);
    o->condition = NULL;
    o->definition = NULL;
}

static void config_free(fd_config *c)
{
    if (c->has_tiers) fd_tier_config_clear(&c->tiers);
    for (size_t i = 0; i < c->nsegments; i++)
        jl_free(c->segments[i].condition);
    for (size_t i = 0; i < c->noffers; i++)
        fd_offer_clear(&c->offers[i]);
    for (size_t i = 0; i < c->ncampaigns; i++)
        fd_campaign_clear(&c->campaigns[i]);
    for (size_t i = 0; i < c->nrewards; i++)
        fd_reward_clear(&c->rewards[i]);
    for (size_t i = 0; i < c->nbadges; i++)
        fd_badge_clear(&c->badges[i]);
    for (size_t i = 0; i < c->nchallenges; i++)
        fd_challenge_clear(&c->challenges[i]);
    fd_stacking_clear(&c->stacking);
    free(c->segments);
    free(c->offers);
    free(c->campaigns);
    free(c->rewards);
    free(c->badges);
    free(c->challenges);
    free(c);
}

static void read_cuts(const json_t *a, int64_t cut[4])
{
    for (int i = 0; i < 4; i++)
        cut[i] = json_integer_value(json_array_get(a, (size_t)i));
}

static int load_tiers(fd_db *db, const fd_program *p, fd_config *c)
{
    fd_stmt *st;
    int rc = fd_db_query(db, "SELECT tiers, rfm, stacking FROM programs WHERE id = $1",
                         FD_PARAMS(FD_I(p->id)), &st);
    if (rc) return rc;
    if (fd_stmt_next(st) != 1) {
        fd_stmt_done(st);
        return FD_OK;
    }
    json_t *rfm = fd_stmt_text(st, 1) ? json_loads(fd_stmt_text(st, 1), 0, NULL) : NULL;
    if (json_is_object(rfm)) {
        c->rfm.has = true;
        read_cuts(json_object_get(rfm, "recency"), c->rfm.recency);
        read_cuts(json_object_get(rfm, "frequency"), c->rfm.frequency);
        read_cuts(json_object_get(rfm, "monetary"), c->rfm.monetary);
    }
    json_decref(rfm);
    json_t *stacking = fd_stmt_text(st, 2) ? json_loads(fd_stmt_text(st, 2), 0, NULL) : NULL;
    char sfield[128], smsg[160];
    if (stacking && fd_stacking_parse(stacking, &c->stacking, sfield, smsg))
        fd_stacking_default(&c->stacking);
    json_decref(stacking);
    if (fd_stmt_text(st, 0)) {
        json_t *def = json_loads(fd_stmt_text(st, 0), 0, NULL);
        char field[64], msg[160];
        c->has_tiers =
            def && fd_tier_config_parse(def, p->exponent, &c->tiers, field, msg) == FD_OK;
        json_decref(def);
    }
    fd_stmt_done(st);
    return FD_OK;
}

static int load_segments(fd_db *db, int64_t program_id, fd_config *c)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, name, condition FROM segments WHERE program_id = $1"
                         " AND deleted_at IS NULL ORDER BY id",
                         FD_PARAMS(FD_I(program_id)), &st);
    if (rc) return rc;
    c->segments = fd_calloc(FD_SEGMENTS_MAX, sizeof *c->segments);
    while ((rc = fd_stmt_next(st)) == 1 && c->nsegments < FD_SEGMENTS_MAX) {
        fd_segment *s = &c->segments[c->nsegments];
        json_t *cond = json_loads(fd_stmt_text(st, 2), JSON_DECODE_ANY, NULL);
        char err[200];
        if (cond && jl_compile(cond, &s->condition, err, sizeof err) == FD_OK) {
            s->id = fd_stmt_i64(st, 0);
            snprintf(s->name, sizeof s->name, "%s", fd_stmt_text(st, 1));
            c->nsegments++;
        }
        json_decref(cond);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

static int load_offers(fd_db *db, int64_t program_id, fd_config *c)
{
    fd_stmt *st;
    int rc = fd_db_query(db,
                         "SELECT id, definition FROM offers WHERE program_id = $1 AND active = 1"
                         " AND deleted_at IS NULL ORDER BY id",
                         FD_PARAMS(FD_I(program_id)), &st);
    if (rc) return rc;
    c->offers = fd_calloc(FD_OFFERS_MAX, sizeof *c->offers);
    while ((rc = fd_stmt_next(st)) == 1 && c->noffers < FD_OFFERS_MAX) {
        json_t *def = json_loads(fd_stmt_text(st, 1), 0, NULL);
        char field[128], msg[160];
        fd_offer *o = &c->offers[c->noffers];
        if (def && fd_offer_parse(def, o, field, msg) == FD_OK) {
            o->id = fd_stmt_i64(st, 0);
            c->noffers++;
        }
        json_decref(def);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

/* Definitions of one catalog table, parsed into an array of `size`-byte
 * structs that begin like fd_campaign (id, name, active). */
typedef int (*def_parse_fn)(const json_t *def, int exponent, void *out, char field[128],
                            char msg[160]);

typedef struct def_table {
    const char *sql; /* id, definition, active of a program's live rows ($1), in id order */
    size_t size, max;
    def_parse_fn parse;
} def_table;

typedef struct def_head { /* the first members of every definition struct */
    int64_t id;
    char name[128];
    bool active;
} def_head;

#define SAME_HEAD(type)                                                                            \
    _Static_assert(offsetof(type, id) == offsetof(def_head, id) &&                                 \
                       offsetof(type, name) == offsetof(def_head, name) &&                         \
                       offsetof(type, active) == offsetof(def_head, active),                       \
                   #type " begins like def_head")
SAME_HEAD(fd_campaign);
SAME_HEAD(fd_reward);
SAME_HEAD(fd_badge);
SAME_HEAD(fd_challenge);

static int load_defs(fd_db *db, const fd_program *p, const def_table *t, void **out, size_t *n)
{
    fd_stmt *st;
    int rc = fd_db_query(db, t->sql, FD_PARAMS(FD_I(p->id)), &st);
    if (rc) return rc;
    char *v = fd_calloc(t->max, t->size);
    *out = v;
    while ((rc = fd_stmt_next(st)) == 1 && *n < t->max) {
        json_t *def = json_loads(fd_stmt_text(st, 1), 0, NULL);
        char field[128], msg[160];
        def_head *slot = (def_head *)(v + *n * t->size);
        if (def && t->parse(def, p->exponent, slot, field, msg) == FD_OK) {
            slot->id = fd_stmt_i64(st, 0);
            slot->active = fd_stmt_i64(st, 2) != 0;
            (*n)++;
        }
        json_decref(def);
    }
    fd_stmt_done(st);
    return rc < 0 ? rc : FD_OK;
}

static int parse_campaign(const json_t *d, int e, void *o, char *f, char *m)
{
    return fd_campaign_parse(d, e, o, f, m);
}

static int parse_reward(const json_t *d, int e, void *o, char *f, char *m)
{
    return fd_reward_parse(d, e, o, f, m);
}

static int parse_badge(const json_t *d, int e, void *o, char *f, char *m)
{
    (void)e;
    return fd_badge_parse(d, o, f, m);
}

static int parse_challenge(const json_t *d, int e, void *o, char *f, char *m)
{
    (void)e;
    return fd_challenge_parse(d, o, f, m);
}

/* Every live definition, active or not: a disabled campaign is still known,
 * so its codes are refused as disabled rather than unknown. */
#define LIVE(table)                                                                                \
    "SELECT id, definition, active FROM " table " WHERE program_id = $1 AND deleted_at IS NULL"    \
    " ORDER BY id"

static const def_table CAMPAIGNS = {LIVE("campaigns"), sizeof(fd_campaign), FD_CAMPAIGNS_MAX,
                                    parse_campaign};
static const def_table REWARDS = {LIVE("rewards"), sizeof(fd_reward), FD_REWARDS_MAX, parse_reward};
static const def_table BADGES = {LIVE("badges"), sizeof(fd_badge), FD_BADGES_MAX, parse_badge};
static const def_table CHALLENGES = {LIVE("challenges"), sizeof(fd_challenge), FD_CHALLENGES_MAX,
                                     parse_challenge};

const fd_campaign *fd_config_campaign(const fd_config *c, int64_t id)
{
    for (size_t i = 0; i < c->ncampaigns; i++)
        if (c->campaigns[i].id == id) return &c->campaigns[i];
    return NULL;
}

const fd_reward *fd_config_reward(const fd_config *c, int64_t id)
{
    for (size_t i = 0; i < c->nrewards; i++)
        if (c->rewards[i].id == id) return &c->rewards[i];
    return NULL;
}

/* The parts of the member context (fd_context_reads) that the conditions
 * evaluated with it whenever segments are asked for (segments, campaign
 * rules) may read. */
static unsigned segment_reads(const fd_config *c)
{
    unsigned reads = 0;
    for (size_t i = 0; i < c->nsegments; i++)
        reads |= fd_context_reads(c->segments[i].condition);
    for (size_t i = 0; i < c->ncampaigns; i++)
        for (int k = 0; k < c->campaigns[i].promo.nrules; k++)
            reads |= fd_context_reads(c->campaigns[i].promo.rules[k].condition);
    return reads;
}

/* Adds what condition e may read to *reads (fd_context_reads) and *counts
 * (whether it may read the member's event counts, member.events). */
static void add_reads(const jl_expr *e, unsigned *reads, bool *counts)
{
    *reads |= fd_context_reads(e);
    *counts |= jl_may_read(e, "member.events");
}

/* The parts the badge and challenge conditions checked after events may
 * read; *counts tells whether one of them may read the member's event
 * counts, which cost a query of their own. */
static unsigned engagement_reads(const fd_config *c, bool *counts)
{
    unsigned reads = 0;
    *counts = false;
    for (size_t i = 0; i < c->nbadges; i++)
        add_reads(c->badges[i].condition, &reads, counts);
    for (size_t i = 0; i < c->nchallenges; i++)
        add_reads(c->challenges[i].condition, &reads, counts);
    return reads;
}

int fd_config_get(fd_db *db, const fd_program *p, fd_config **out)
{
    size_t slot = (size_t)p->id % CACHE_PROGRAMS;
    pthread_mutex_lock(&cache_mu);
    fd_config *c = cache[slot];
    if (c && c->program_id == p->id && c->version == p->config_version) {
        c->refs++;
        pthread_mutex_unlock(&cache_mu);
        *out = c;
        return FD_OK;
    }
    c = fd_calloc(1, sizeof *c);
    c->program_id = p->id;
    c->version = p->config_version;
    fd_stacking_default(&c->stacking);
    int rc = load_tiers(db, p, c);
    if (!rc) rc = load_segments(db, p->id, c);
    if (!rc) rc = load_offers(db, p->id, c);
    if (!rc) rc = load_defs(db, p, &CAMPAIGNS, (void **)&c->campaigns, &c->ncampaigns);
    if (!rc) rc = load_defs(db, p, &REWARDS, (void **)&c->rewards, &c->nrewards);
    if (!rc) rc = load_defs(db, p, &BADGES, (void **)&c->badges, &c->nbadges);
    if (!rc) rc = load_defs(db, p, &CHALLENGES, (void **)&c->challenges, &c->nchallenges);
    if (rc) {
        pthread_mutex_unlock(&cache_mu);
        config_free(c);
        return rc;
    }
    c->segment_reads = segment_reads(c);
    c->engagement_reads = engagement_reads(c, &c->engagement_counts);
    if (cache[slot] && --cache[slot]->refs == 0) config_free(cache[slot]);
    c->refs = 2;
    cache[slot] = c;
    pthread_mutex_unlock(&cache_mu);
    *out = c;
    return FD_OK;
}

void fd_config_release(fd_config *c)
{
    if (!c) return;
    pthread_mutex_lock(&cache_mu);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&cache_mu);
    if (last) config_free(c);
}

void fd_config_cache_clear(void)
{
    pthread_mutex_lock(&cache_mu);
    for (size_t i = 0; i < CACHE_PROGRAMS; i++) {
        if (cache[i] && --cache[i]->refs == 0) config_free(cache[i]);
        cache[i] = NULL;
    }
    pthread_mutex_unlock(&cache_mu);
}

int fd_config_bump(fd_db *db, int64_t program_id)
{
    return fd_db_run(db, "UPDATE programs SET config_version = config_version + 1 WHERE id = $1",
                     FD_PARAMS(FD_I(program_id)), NULL);
}
