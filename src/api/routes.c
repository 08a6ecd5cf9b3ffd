/*
 * routes.c - every route of the API and who may call it (SPEC §13).
 * docs/openapi.yaml describes the same list.
 */
#include "api/routes.h"

#include "api/handlers.h"
#include "core/role.h"

#define ADMIN FD_ROLE_BIT(FD_ROLE_ADMIN)
#define STAFF FD_ROLES_STAFF
#define READ FD_ROLES_READ
#define FRONT FD_ROLES_FRONT
#define LOOKUP (FD_ROLES_READ | FD_ROLE_BIT(FD_ROLE_POS))
#define SELF (LOOKUP | FD_ROLE_BIT(FD_ROLE_MEMBER)) /* members: their own only */

const fd_route fd_routes[] = {
    {"GET", "/healthz", 0, ROUTE_PUBLIC, h_healthz},
    {"GET", "/readyz", 0, ROUTE_PUBLIC, h_readyz},
    {"GET", "/metrics", ADMIN | FD_ROLE_BIT(FD_ROLE_ANALYST), 0, h_metrics},

    {"GET", "/v1/program", LOOKUP, 0, h_program_get},
    {"GET", "/v1/session", SELF, ROUTE_KEY, h_session},
    {"GET", "/v1/program/branding", LOOKUP, 0, h_branding_get},
    {"PUT", "/v1/program/branding", STAFF, 0, h_branding_put},
    {"GET", "/c/{}", 0, ROUTE_PUBLIC, h_landing},
    {"POST", "/c/{}/signup", 0, ROUTE_PUBLIC | ROUTE_RAW, h_landing_signup},
    {"GET", "/c/{}/confirm", 0, ROUTE_PUBLIC, h_landing_confirm},
    {"PATCH", "/v1/program", ADMIN, 0, h_program_patch},
    {"POST", "/v1/keys", ADMIN, 0, h_keys_create},
    {"GET", "/v1/keys", ADMIN, 0, h_keys_list},
    {"DELETE", "/v1/keys/{}", ADMIN, 0, h_keys_revoke},
    {"GET", "/v1/audit", ADMIN, 0, h_audit_list},
    {"POST", "/v1/jobs/expire", ADMIN, 0, h_jobs_expire},
#ifdef FIDELIS_TESTING
    {"POST", "/v1/_test/clock", ADMIN, 0, h_test_clock},
#endif

    {"POST", "/v1/members", FRONT, 0, h_members_upsert},
    {"GET", "/v1/members", READ, 0, h_members_list},
    {"GET", "/v1/members/lookup", LOOKUP, 0, h_members_lookup},
    {"GET", "/v1/members/{}", SELF, ROUTE_SELF, h_member_get},
    {"PATCH", "/v1/members/{}", STAFF, 0, h_member_patch},
    {"POST", "/v1/members/{}/consent", FRONT, 0, h_member_consent},
    {"POST", "/v1/consent/confirm", FRONT, 0, h_consent_confirm},
    {"POST", "/v1/members/{}/erase", ADMIN, 0, h_member_erase},
    {"POST", "/v1/members/{}/merge", STAFF, 0, h_member_merge},
    {"POST", "/v1/members/{}/token", FRONT, 0, h_member_token},
    {"GET", "/v1/members/{}/ledger", SELF, ROUTE_SELF, h_member_ledger},
    {"GET", "/v1/members/{}/lots", SELF, ROUTE_SELF, h_member_lots},
    {"POST", "/v1/members/{}/adjustments", STAFF, 0, h_member_adjust},

    {"POST", "/v1/earning-rules", STAFF, 0, h_rules_create},
    {"GET", "/v1/earning-rules", READ, 0, h_rules_list},
    {"GET", "/v1/earning-rules/{}", READ, 0, h_rule_get},
    {"PUT", "/v1/earning-rules/{}", STAFF, 0, h_rule_replace},
    {"PATCH", "/v1/earning-rules/{}", STAFF, 0, h_rule_patch},
    {"DELETE", "/v1/earning-rules/{}", STAFF, 0, h_rule_delete},
    {"GET", "/v1/earning-rules/{}/versions", READ, 0, h_rule_versions},
    {"POST", "/v1/simulate", LOOKUP, 0, h_simulate},

    {"GET", "/v1/tiers", LOOKUP, 0, h_tiers_get},
    {"PUT", "/v1/tiers", STAFF, 0, h_tiers_put},
    {"GET", "/v1/members/{}/progress", SELF, ROUTE_SELF, h_member_progress},
    {"GET", "/v1/members/{}/tiers", SELF, ROUTE_SELF, h_member_tier_history},
    {"GET", "/v1/members/{}/offers", SELF, ROUTE_SELF, h_member_offers},
    {"POST", "/v1/jobs/tiers", ADMIN, 0, h_jobs_tiers},
    {"POST", "/v1/jobs/birthdays", ADMIN, 0, h_jobs_birthdays},

    {"POST", "/v1/segments", STAFF, 0, h_segments_create},
    {"GET", "/v1/segments", READ, 0, h_segments_list},
    {"GET", "/v1/segments/{}", READ, 0, h_segment_get},
    {"PUT", "/v1/segments/{}", STAFF, 0, h_segment_replace},
    {"DELETE", "/v1/segments/{}", STAFF, 0, h_segment_delete},
    {"GET", "/v1/segments/{}/members", READ, 0, h_segment_members},
    {"GET", "/v1/segments/{}/count", READ, 0, h_segment_count},
    {"GET", "/v1/segments/{}/export", READ, 0, h_segment_export},
    {"POST", "/v1/offers", STAFF, 0, h_offers_create},
    {"GET", "/v1/offers", READ, 0, h_offers_list},
    {"GET", "/v1/offers/{}", READ, 0, h_offer_get},
    {"PUT", "/v1/offers/{}", STAFF, 0, h_offer_replace},
    {"DELETE", "/v1/offers/{}", STAFF, 0, h_offer_delete},

    {"POST", "/v1/webhooks", ADMIN, 0, h_webhooks_create},
    {"GET", "/v1/webhooks", ADMIN, 0, h_webhooks_list},
    {"GET", "/v1/webhooks/{}", ADMIN, 0, h_webhook_get},
    {"PATCH", "/v1/webhooks/{}", ADMIN, 0, h_webhook_patch},
    {"DELETE", "/v1/webhooks/{}", ADMIN, 0, h_webhook_delete},
    {"GET", "/v1/webhooks/{}/deliveries", ADMIN, 0, h_webhook_deliveries},
    {"POST", "/v1/deliveries/{}/replay", ADMIN, 0, h_delivery_replay},

    {"POST", "/v1/reminders", STAFF, 0, h_reminders_create},
    {"GET", "/v1/reminders", READ, 0, h_reminders_list},
    {"GET", "/v1/reminders/{}", READ, 0, h_reminder_get},
    {"PUT", "/v1/reminders/{}", STAFF, 0, h_reminder_replace},
    {"DELETE", "/v1/reminders/{}", STAFF, 0, h_reminder_delete},
    {"POST", "/v1/jobs/reminders", ADMIN, 0, h_jobs_reminders},
    {"POST", "/v1/jobs/rfm", ADMIN, 0, h_jobs_rfm},

    {"GET", "/v1/reports/clv", READ, 0, h_report_clv},
    {"GET", "/v1/reports/kpis", READ, 0, h_report_kpis},
    {"GET", "/v1/reports/kpis/series", READ, 0, h_report_kpis_series},
    {"GET", "/v1/reports/campaigns", READ, 0, h_report_campaigns},
    {"GET", "/v1/members/{}/clv", READ, 0, h_member_clv},
    {"POST", "/v1/imports/{}", ADMIN, ROUTE_RAW, h_import},
    {"GET", "/v1/exports/{}", READ, 0, h_export},

    {"POST", "/v1/events", FRONT, 0, h_events_post},
    {"POST", "/v1/events:batch", FRONT, 0, h_events_batch},
    {"GET", "/v1/events/{}", LOOKUP, 0, h_event_get},
    {"GET", "/v1/orders/{}", LOOKUP, 0, h_order_get},
    {"POST", "/v1/orders/{}/rollback", FRONT, 0, h_order_rollback},

    {"POST", "/v1/campaigns", STAFF, 0, h_campaigns_create},
    {"GET", "/v1/campaigns", READ, 0, h_campaigns_list},
    {"GET", "/v1/campaigns/{}", READ, 0, h_campaign_get},
    {"PUT", "/v1/campaigns/{}", STAFF, 0, h_campaign_replace},
    {"PATCH", "/v1/campaigns/{}", STAFF, 0, h_campaign_patch},
    {"DELETE", "/v1/campaigns/{}", STAFF, 0, h_campaign_delete},
    {"POST", "/v1/campaigns/{}/codes", STAFF, 0, h_campaign_codes_create},
    {"GET", "/v1/campaigns/{}/codes", READ, 0, h_campaign_codes_list},
    {"GET", "/v1/codes/{}", LOOKUP, 0, h_code_get},
    {"PATCH", "/v1/codes/{}", STAFF, 0, h_code_patch},
    {"POST", "/v1/codes/{}/validate", FRONT, 0, h_code_validate},
    {"POST", "/v1/carts/evaluate", FRONT, 0, h_cart_evaluate},
    {"POST", "/v1/carts/redeem", FRONT, 0, h_cart_redeem},
    {"GET", "/v1/stacking-policy", LOOKUP, 0, h_stacking_get},
    {"PUT", "/v1/stacking-policy", STAFF, 0, h_stacking_put},

    {"POST", "/v1/rewards", STAFF, 0, h_rewards_create},
    {"GET", "/v1/rewards", LOOKUP, 0, h_rewards_list},
    {"GET", "/v1/rewards/{}", LOOKUP, 0, h_reward_get},
    {"PUT", "/v1/rewards/{}", STAFF, 0, h_reward_replace},
    {"PATCH", "/v1/rewards/{}", STAFF, 0, h_reward_patch},
    {"DELETE", "/v1/rewards/{}", STAFF, 0, h_reward_delete},
    {"GET", "/v1/members/{}/rewards", SELF, ROUTE_SELF, h_member_rewards},
    {"POST", "/v1/members/{}/rewards/{}/redeem", FRONT | FD_ROLE_BIT(FD_ROLE_MEMBER), ROUTE_SELF,
     h_member_reward_redeem},
    {"GET", "/v1/members/{}/vouchers", SELF, ROUTE_SELF, h_member_vouchers},
    {"GET", "/v1/members/{}/referral", SELF, ROUTE_SELF, h_member_referral},
    {"POST", "/v1/members/{}/referral", FRONT, 0, h_member_referral_enter},
    {"GET", "/v1/members/{}/badges", SELF, ROUTE_SELF, h_member_badges},
    {"GET", "/v1/members/{}/challenges", SELF, ROUTE_SELF, h_member_challenges},
    {"POST", "/v1/badges", STAFF, 0, h_badges_create},
    {"GET", "/v1/badges", LOOKUP, 0, h_badges_list},
    {"GET", "/v1/badges/{}", LOOKUP, 0, h_badge_get},
    {"PUT", "/v1/badges/{}", STAFF, 0, h_badge_replace},
    {"PATCH", "/v1/badges/{}", STAFF, 0, h_badge_patch},
    {"DELETE", "/v1/badges/{}", STAFF, 0, h_badge_delete},
    {"POST", "/v1/challenges", STAFF, 0, h_challenges_create},
    {"GET", "/v1/challenges", LOOKUP, 0, h_challenges_list},
    {"GET", "/v1/challenges/{}", LOOKUP, 0, h_challenge_get},
    {"PUT", "/v1/challenges/{}", STAFF, 0, h_challenge_replace},
    {"PATCH", "/v1/challenges/{}", STAFF, 0, h_challenge_patch},
    {"DELETE", "/v1/challenges/{}", STAFF, 0, h_challenge_delete},
    {"POST", "/v1/accounts", STAFF, 0, h_accounts_create},
    {"GET", "/v1/accounts/{}", LOOKUP, 0, h_account_get},
    {"POST", "/v1/accounts/{}/users", FRONT, 0, h_account_user_add},
    {"DELETE", "/v1/accounts/{}/users/{}", FRONT, 0, h_account_user_remove},
    {"POST", "/v1/accounts/{}/rewards/{}/redeem", FRONT, 0, h_account_reward_redeem},
    {"GET", "/v1/referral-policy", LOOKUP, 0, h_referral_policy_get},
    {"PUT", "/v1/referral-policy", STAFF, 0, h_referral_policy_put},
    {"POST", "/v1/members/{}/vouchers/{}/cancel", FRONT | FD_ROLE_BIT(FD_ROLE_MEMBER), ROUTE_SELF,
     h_member_voucher_cancel},
    {"GET", "/v1/members/{}/vouchers/{}/qr", SELF, ROUTE_SELF, h_member_voucher_qr},
    {"GET", "/v1/members/{}/vouchers/{}/barcode", SELF, ROUTE_SELF, h_member_voucher_barcode},
};

const int fd_nroutes = (int)(sizeof fd_routes / sizeof fd_routes[0]);
