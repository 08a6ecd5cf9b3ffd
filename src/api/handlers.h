/*
 * handlers.h - every route handler, grouped by the file that implements it.
 * The route table (routes.c) says who may call each.
 */
#ifndef FD_HANDLERS_H
#define FD_HANDLERS_H

#include "api/api.h"

/* system.c */
void h_healthz(fd_req *r);
void h_readyz(fd_req *r);
void h_metrics(fd_req *r);
void h_program_get(fd_req *r);
void h_program_patch(fd_req *r);
void h_keys_create(fd_req *r);
void h_keys_list(fd_req *r);
void h_keys_revoke(fd_req *r);
void h_audit_list(fd_req *r);
void h_jobs_expire(fd_req *r);
#ifdef FIDELIS_TESTING
void h_test_clock(fd_req *r);
#endif

/* members.c */
void h_members_upsert(fd_req *r);
void h_members_list(fd_req *r);
void h_members_lookup(fd_req *r);
void h_member_get(fd_req *r);
void h_member_patch(fd_req *r);
void h_member_consent(fd_req *r);
void h_consent_confirm(fd_req *r);
void h_member_erase(fd_req *r);
void h_member_merge(fd_req *r);
void h_member_token(fd_req *r);

/* points.c */
void h_member_ledger(fd_req *r);
void h_member_lots(fd_req *r);
void h_member_adjust(fd_req *r);

/* events.c */
void h_events_post(fd_req *r);
void h_events_batch(fd_req *r);
void h_event_get(fd_req *r);
void h_order_get(fd_req *r);

/* rules.c */
void h_rules_create(fd_req *r);
void h_rules_list(fd_req *r);
void h_rule_get(fd_req *r);
void h_rule_replace(fd_req *r);
void h_rule_patch(fd_req *r);
void h_rule_delete(fd_req *r);
void h_rule_versions(fd_req *r);

/* tiers.c */
void h_tiers_get(fd_req *r);
void h_tiers_put(fd_req *r);
void h_member_progress(fd_req *r);
void h_member_tier_history(fd_req *r);

/* segments.c */
void h_segments_create(fd_req *r);
void h_segments_list(fd_req *r);
void h_segment_get(fd_req *r);
void h_segment_replace(fd_req *r);
void h_segment_delete(fd_req *r);
void h_segment_members(fd_req *r);
void h_segment_count(fd_req *r);
void h_segment_export(fd_req *r);
void h_offers_create(fd_req *r);
void h_offers_list(fd_req *r);
void h_offer_get(fd_req *r);
void h_offer_replace(fd_req *r);
void h_offer_delete(fd_req *r);
void h_member_offers(fd_req *r);

/* system.c: jobs on demand */
void h_jobs_tiers(fd_req *r);
void h_jobs_birthdays(fd_req *r);

/* webhooks.c */
void h_webhooks_create(fd_req *r);
void h_webhooks_list(fd_req *r);
void h_webhook_get(fd_req *r);
void h_webhook_patch(fd_req *r);
void h_webhook_delete(fd_req *r);
void h_webhook_deliveries(fd_req *r);
void h_delivery_replay(fd_req *r);

/* reminders.c */
void h_reminders_create(fd_req *r);
void h_reminders_list(fd_req *r);
void h_reminder_get(fd_req *r);
void h_reminder_replace(fd_req *r);
void h_reminder_delete(fd_req *r);
void h_jobs_reminders(fd_req *r);
void h_jobs_rfm(fd_req *r);

/* analytics.c */
void h_report_clv(fd_req *r);
void h_report_kpis(fd_req *r);
void h_report_kpis_series(fd_req *r);
void h_member_clv(fd_req *r);

/* referrals.c */
void h_referral_policy_get(fd_req *r);
void h_referral_policy_put(fd_req *r);
void h_member_referral(fd_req *r);
void h_member_referral_enter(fd_req *r);

/* pages.c */
void h_session(fd_req *r);
void h_branding_get(fd_req *r);
void h_branding_put(fd_req *r);
void h_landing(fd_req *r);
void h_landing_signup(fd_req *r);
void h_landing_confirm(fd_req *r);

/* roi.c */
void h_report_campaigns(fd_req *r);

/* import.c */
void h_import(fd_req *r);
void h_export(fd_req *r);

/* catalog.c */
void h_campaigns_create(fd_req *r);
void h_campaigns_list(fd_req *r);
void h_campaign_get(fd_req *r);
void h_campaign_replace(fd_req *r);
void h_campaign_patch(fd_req *r);
void h_campaign_delete(fd_req *r);
void h_campaign_codes_create(fd_req *r);
void h_campaign_codes_list(fd_req *r);
void h_code_get(fd_req *r);
void h_code_patch(fd_req *r);
void h_rewards_create(fd_req *r);
void h_rewards_list(fd_req *r);
void h_reward_get(fd_req *r);
void h_reward_replace(fd_req *r);
void h_reward_patch(fd_req *r);
void h_reward_delete(fd_req *r);
void h_member_vouchers(fd_req *r);
void h_badges_create(fd_req *r);
void h_badges_list(fd_req *r);
void h_badge_get(fd_req *r);
void h_badge_replace(fd_req *r);
void h_badge_patch(fd_req *r);
void h_badge_delete(fd_req *r);
void h_challenges_create(fd_req *r);
void h_challenges_list(fd_req *r);
void h_challenge_get(fd_req *r);
void h_challenge_replace(fd_req *r);
void h_challenge_patch(fd_req *r);
void h_challenge_delete(fd_req *r);

/* engagement.c */
void h_member_badges(fd_req *r);
void h_member_challenges(fd_req *r);

/* carts.c */
void h_cart_evaluate(fd_req *r);
void h_cart_redeem(fd_req *r);
void h_code_validate(fd_req *r);
void h_order_rollback(fd_req *r);
void h_stacking_get(fd_req *r);
void h_stacking_put(fd_req *r);

/* brands.c */
void h_brands_create(fd_req *r);
void h_brands_list(fd_req *r);
void h_report_brands(fd_req *r);

/* accounts.c */
void h_accounts_create(fd_req *r);
void h_account_get(fd_req *r);
void h_account_user_add(fd_req *r);
void h_account_user_remove(fd_req *r);

/* rewards.c */
void h_account_reward_redeem(fd_req *r);
void h_member_rewards(fd_req *r);
void h_member_reward_redeem(fd_req *r);
void h_member_voucher_cancel(fd_req *r);
void h_member_voucher_qr(fd_req *r);
void h_member_voucher_barcode(fd_req *r);

/* events.c: simulation shares the event parser */
void h_simulate(fd_req *r);

#endif
