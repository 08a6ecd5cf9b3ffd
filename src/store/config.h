/*
 * config.h - a program's tiers, segments, offers, campaigns, rewards and
 * stacking policy, parsed and compiled
 * once per change and shared by every request (reference-counted).
 *
 * Every change bumps programs.config_version in its transaction; each
 * request reads that number with the program, so a change applies to the
 * next request in every process.
 */
#ifndef FD_STORE_CONFIG_H
#define FD_STORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/campaign.h"
#include "core/engagement.h"
#include "core/jsonlogic.h"
#include "core/promo.h"
#include "core/reward.h"
#include "core/rfm.h"
#include "core/program.h"
#include "core/tiers.h"
#include "store/db.h"

#define FD_SEGMENTS_MAX 200
#define FD_OFFERS_MAX 200

typedef struct fd_segment {
    int64_t id;
    char name[128];
    jl_expr *condition;
} fd_segment;

typedef struct fd_offer {
    int64_t id;
    char name[128];
    jl_expr *condition; /* NULL: everyone */
    char target_category[128];
    char target_sku[128];
    int priority;
    json_t *definition; /* as saved, for the reply */
} fd_offer;

typedef struct fd_config {
    int64_t program_id, version;
    bool has_tiers;
    fd_tier_config tiers;
    fd_rfm rfm; /* quintile cut points, from the RFM job */
    fd_segment *segments;
    size_t nsegments;
    fd_offer *offers;
    size_t noffers;
    fd_campaign *campaigns; /* every live campaign, active or not, in id order */
    size_t ncampaigns;
    fd_reward *rewards; /* every live reward, active or not, in id order */
    size_t nrewards;
    fd_badge *badges; /* every live badge, active or not */
    size_t nbadges;
    fd_challenge *challenges; /* every live challenge, active or not */
    size_t nchallenges;
    fd_stacking stacking;
    unsigned segment_reads;    /* the context parts segment and campaign conditions read */
    unsigned engagement_reads; /* and those badge and challenge conditions read */
    bool engagement_counts;    /* whether one of those may read member.events */
    int refs;                  /* guarded by the cache lock */
} fd_config;

/* The configuration of program p at p->config_version. */
int fd_config_get(fd_db *db, const fd_program *p, fd_config **out);
void fd_config_release(fd_config *c);
void fd_config_cache_clear(void);

/* The campaign or reward with this id, or NULL. */
const fd_campaign *fd_config_campaign(const fd_config *c, int64_t id);
const fd_reward *fd_config_reward(const fd_config *c, int64_t id);

/* Marks the program's configuration changed (in the caller's transaction). */
int fd_config_bump(fd_db *db, int64_t program_id);

/* Parses an offer definition; on FD_EINVAL field and msg say why. */
int fd_offer_parse(const json_t *def, fd_offer *out, char field[128], char msg[160]);
void fd_offer_clear(fd_offer *o);

#endif
