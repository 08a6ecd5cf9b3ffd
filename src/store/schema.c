/*
 * schema.c - the migrations. Never edit a released migration: add a new one.
 *
 * Portable SQL only (db.h): BIGINT and TEXT, epoch seconds, no SQLite-only
 * functions; `WITHOUT ROWID` (a table stored in the order of its primary
 * key) is dropped for PostgreSQL, whose tables are heaps anyway. Every table carries program_id;
 * every query filters on it. A lot that never expires has expires_at = 9223372036854775807
 * (FD_NEVER).
 */
#include "store/schema.h"

#include "base/fd.h"

static const char *const MIGRATIONS[] = {
    /* 1: programs, keys, members, ledger, orders, events, audit */
    "CREATE TABLE programs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  exponent BIGINT NOT NULL,"
    "  timezone TEXT NOT NULL,"
    "  point_value_micros BIGINT NOT NULL,"
    "  earn_rate_milli BIGINT NOT NULL,"
    "  earn_rounding TEXT NOT NULL,"
    "  pending_days BIGINT NOT NULL,"
    "  expiry_mode TEXT NOT NULL,"
    "  expiry_days BIGINT NOT NULL,"
    "  expiry_from TEXT NOT NULL,"
    "  refund_policy TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"

    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  key_id TEXT NOT NULL UNIQUE,"
    "  secret_hash TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  member_id BIGINT,"
    "  label TEXT,"
    "  created_by TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  revoked_at BIGINT);"

    "CREATE TABLE members ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  external_id TEXT,"
    "  email TEXT,"
    "  email_norm TEXT,"
    "  phone TEXT,"
    "  card_number TEXT,"
    "  qr_token TEXT,"
    "  attributes TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  consent TEXT NOT NULL,"
    "  consent_token_hash TEXT,"
    "  consent_at BIGINT,"
    "  balance BIGINT NOT NULL,"
    "  pending BIGINT NOT NULL,"
    "  merged_into BIGINT,"
    "  erased_at BIGINT,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX members_external ON members(program_id, external_id);"
    "CREATE UNIQUE INDEX members_email ON members(program_id, email_norm);"
    "CREATE UNIQUE INDEX members_phone ON members(program_id, phone);"
    "CREATE UNIQUE INDEX members_card ON members(program_id, card_number);"
    "CREATE UNIQUE INDEX members_qr ON members(program_id, qr_token);"
    "CREATE UNIQUE INDEX members_consent_token ON members(consent_token_hash);"

    "CREATE TABLE lots ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL REFERENCES members(id),"
    "  points BIGINT NOT NULL,"
    "  remaining BIGINT NOT NULL,"
    "  status TEXT NOT NULL," /* pending, active, closed */
    "  order_ref TEXT,"
    "  earned_at BIGINT NOT NULL,"
    "  matures_at BIGINT NOT NULL,"
    "  expires_at BIGINT NOT NULL);"
    "CREATE INDEX lots_member ON lots(member_id, status, expires_at);"
    "CREATE INDEX lots_expiry ON lots(status, expires_at);"
    "CREATE INDEX lots_maturity ON lots(status, matures_at);"

    "CREATE TABLE journal ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL REFERENCES members(id),"
    "  kind TEXT NOT NULL,"
    "  points BIGINT NOT NULL,"  /* change of the spendable balance */
    "  pending BIGINT NOT NULL," /* change of pending points */
    "  balance_after BIGINT NOT NULL,"
    "  lot_id BIGINT,"
    "  event_id TEXT,"
    "  order_id TEXT,"
    "  reason TEXT,"
    "  actor TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX journal_member ON journal(member_id, id);"
    "CREATE INDEX journal_program ON journal(program_id, created_at);"

    "CREATE TABLE orders ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL REFERENCES members(id),"
    "  order_id TEXT NOT NULL,"
    "  total BIGINT NOT NULL,"
    "  refunded BIGINT NOT NULL,"
    "  points BIGINT NOT NULL,"
    "  reversed BIGINT NOT NULL,"
    "  lot_id BIGINT,"
    "  channel TEXT,"
    "  occurred_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX orders_order ON orders(program_id, order_id);"
    "CREATE INDEX orders_member ON orders(member_id, occurred_at);"

    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  member_id BIGINT,"
    "  body_hash TEXT NOT NULL,"
    "  result TEXT NOT NULL,"
    "  channel TEXT,"
    "  occurred_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX events_event ON events(program_id, event_id);"
    "CREATE INDEX events_member ON events(member_id, id);"

    "CREATE TABLE audit_log ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object_type TEXT NOT NULL,"
    "  object_id TEXT,"
    "  before_json TEXT,"
    "  after_json TEXT,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX audit_program ON audit_log(program_id, id);",

    /* 2: earning rules, their versions and usage; journal entries name their rule */
    "CREATE TABLE earning_rules ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  version BIGINT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  points_awarded BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX earning_rules_program ON earning_rules(program_id, id);"
    "CREATE TABLE earning_rule_versions ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  rule_id BIGINT NOT NULL REFERENCES earning_rules(id),"
    "  version BIGINT NOT NULL,"
    "  change TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  changed_by TEXT NOT NULL,"
    "  changed_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX earning_rule_versions_rule ON earning_rule_versions(rule_id, version);"
    "CREATE TABLE rule_usage ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  rule_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  points BIGINT NOT NULL,"
    "  triggers BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX rule_usage_key ON rule_usage(rule_id, member_id, period);"
    "CREATE INDEX lots_order ON lots(member_id, order_ref);"
    "ALTER TABLE journal ADD COLUMN rule_id BIGINT;"
    "ALTER TABLE journal ADD COLUMN rule_version BIGINT;"
    "ALTER TABLE programs ADD COLUMN rules_version BIGINT NOT NULL DEFAULT 0;",

    /* 3: tiers, behaviour aggregates, segments, offers, birthdays */
    "ALTER TABLE programs ADD COLUMN tiers TEXT;"
    "ALTER TABLE programs ADD COLUMN config_version BIGINT NOT NULL DEFAULT 0;"
    "ALTER TABLE members ADD COLUMN tier TEXT;"
    "ALTER TABLE members ADD COLUMN tier_since BIGINT;"
    "ALTER TABLE members ADD COLUMN tier_period_end BIGINT;"
    "ALTER TABLE members ADD COLUMN tier_review_at BIGINT;"
    "ALTER TABLE members ADD COLUMN birthday_md BIGINT;"
    "ALTER TABLE members ADD COLUMN enrolled_md BIGINT;"
    "CREATE INDEX members_review ON members(tier_review_at);"
    "CREATE INDEX members_birthday ON members(program_id, birthday_md);"
    "CREATE INDEX members_enrolled ON members(program_id, enrolled_md);"
    "CREATE TABLE tier_history ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL REFERENCES members(id),"
    "  from_tier TEXT,"
    "  to_tier TEXT,"
    "  reason TEXT NOT NULL,"
    "  metric BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE INDEX tier_history_member ON tier_history(member_id, id);"
    "CREATE TABLE member_days ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  day BIGINT NOT NULL,"
    "  spend BIGINT NOT NULL,"
    "  orders BIGINT NOT NULL,"
    "  points BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX member_days_key ON member_days(member_id, day);"
    "CREATE INDEX member_days_program ON member_days(program_id, day);"
    "CREATE TABLE member_stats ("
    "  member_id BIGINT PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  orders_total BIGINT NOT NULL,"
    "  spend_total BIGINT NOT NULL,"
    "  first_order_day BIGINT,"
    "  last_order_day BIGINT,"
    "  categories TEXT NOT NULL,"
    "  skus TEXT NOT NULL,"
    "  channels TEXT NOT NULL);"
    "CREATE INDEX member_stats_program ON member_stats(program_id, member_id);"
    "CREATE TABLE segments ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  condition TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX segments_program ON segments(program_id, id);"
    "CREATE TABLE offers ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX offers_program ON offers(program_id, id);"
    "ALTER TABLE lots ADD COLUMN expiry_days BIGINT NOT NULL DEFAULT 0;",

    /* 4: members in id order per program (pages and segment scans walk it) */
    "CREATE INDEX members_program ON members(program_id, id);",

    /* 5: webhooks: subscriptions, the transactional outbox and its deliveries */
    "CREATE TABLE webhooks ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  url TEXT NOT NULL,"
    "  events TEXT NOT NULL,"
    "  secret TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX webhooks_program ON webhooks(program_id, id);"
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  member_id BIGINT,"
    "  payload TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE TABLE deliveries ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  webhook_id BIGINT NOT NULL REFERENCES webhooks(id),"
    "  outbox_id BIGINT NOT NULL REFERENCES outbox(id),"
    "  delivery_id TEXT NOT NULL UNIQUE,"
    "  member_id BIGINT NOT NULL,"
    "  status TEXT NOT NULL," /* pending, delivered, dead */
    "  attempts BIGINT NOT NULL,"
    "  next_attempt_at BIGINT NOT NULL,"
    "  last_status BIGINT,"
    "  last_error TEXT,"
    "  created_at BIGINT NOT NULL,"
    "  delivered_at BIGINT);"
    "CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);"
    "CREATE INDEX deliveries_order ON deliveries(webhook_id, member_id, status, id);"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);",

    /* 6: reminders and what each member was sent */
    "CREATE TABLE reminders ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX reminders_program ON reminders(program_id, id);"
    "CREATE TABLE reminder_sends ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  reminder_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  occurrence TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX reminder_sends_key ON reminder_sends(reminder_id, member_id, occurrence);",

    /* 7: purchases of customers who are not members (analytics: members vs guests) */
    "CREATE TABLE guest_orders ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  order_id TEXT NOT NULL,"
    "  total BIGINT NOT NULL,"
    "  refunded BIGINT NOT NULL,"
    "  channel TEXT,"
    "  occurred_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX guest_orders_order ON guest_orders(program_id, order_id);",

    /* 8: RFM quintile cut points per program */
    "ALTER TABLE programs ADD COLUMN rfm TEXT;",

    /* 9: rewards, campaigns, codes and vouchers, redemptions, stacking policy */
    "CREATE TABLE campaigns ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  uses BIGINT NOT NULL DEFAULT 0,"
    "  discount_total BIGINT NOT NULL DEFAULT 0,"
    "  order_total BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX campaigns_program ON campaigns(program_id, id);"
    "CREATE TABLE rewards ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  issued BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX rewards_program ON rewards(program_id, id);"
    "CREATE TABLE codes ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  code TEXT NOT NULL,"
    "  campaign_id BIGINT,"
    "  reward_id BIGINT,"
    "  member_id BIGINT,"
    "  active BIGINT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  max_uses BIGINT NOT NULL,"
    "  uses BIGINT NOT NULL DEFAULT 0,"
    "  balance BIGINT NOT NULL DEFAULT 0,"
    "  points BIGINT NOT NULL DEFAULT 0,"
    "  journal_id BIGINT,"
    "  request_id TEXT,"
    "  expires_at BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX codes_code ON codes(program_id, code);"
    "CREATE UNIQUE INDEX codes_request ON codes(program_id, member_id, request_id);"
    "CREATE INDEX codes_campaign ON codes(campaign_id, id);"
    "CREATE INDEX codes_member ON codes(member_id, id);"
    "CREATE INDEX codes_reward ON codes(reward_id, member_id);"
    "CREATE TABLE journal_lots ("
    "  journal_id BIGINT NOT NULL,"
    "  lot_id BIGINT NOT NULL,"
    "  points BIGINT NOT NULL);"
    "CREATE INDEX journal_lots_entry ON journal_lots(journal_id);"
    "CREATE TABLE redemptions ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  code_id BIGINT NOT NULL,"
    "  campaign_id BIGINT,"
    "  reward_id BIGINT,"
    "  member_id BIGINT,"
    "  order_id TEXT NOT NULL,"
    "  order_amount BIGINT NOT NULL,"
    "  discount BIGINT NOT NULL,"
    "  shipping_discount BIGINT NOT NULL,"
    "  gift_card BIGINT NOT NULL,"
    "  cashback BIGINT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  rolled_back_at BIGINT);"
    "CREATE UNIQUE INDEX redemptions_order ON redemptions(code_id, order_id);"
    "CREATE INDEX redemptions_program ON redemptions(program_id, order_id);"
    "CREATE INDEX redemptions_campaign ON redemptions(campaign_id, member_id);"
    "ALTER TABLE programs ADD COLUMN stacking TEXT;",

    /* 10: survey answers (NPS, satisfaction) sent with events */
    "CREATE TABLE survey_answers ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  nps BIGINT,"
    "  satisfaction BIGINT,"
    "  occurred_at BIGINT NOT NULL);"
    "CREATE INDEX survey_answers_program ON survey_answers(program_id, occurred_at);",

    /* 11: the look of the member page and landing pages */
    "ALTER TABLE programs ADD COLUMN branding TEXT;",

    /* 12: referrals */
    "ALTER TABLE programs ADD COLUMN referral_policy TEXT;"
    "CREATE TABLE referral_codes ("
    "  member_id BIGINT PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  code TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX referral_codes_code ON referral_codes(program_id, code);"
    "CREATE TABLE referrals ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  referrer_id BIGINT NOT NULL,"
    "  referee_id BIGINT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reason TEXT,"
    "  period TEXT NOT NULL,"
    "  order_id TEXT,"
    "  referrer_points BIGINT NOT NULL DEFAULT 0,"
    "  referee_points BIGINT NOT NULL DEFAULT 0,"
    "  created_at BIGINT NOT NULL,"
    "  completed_at BIGINT,"
    "  reversed_at BIGINT);"
    "CREATE INDEX referrals_referee ON referrals(referee_id, status);"
    "CREATE INDEX referrals_referrer ON referrals(referrer_id, period);"
    "CREATE INDEX referrals_order ON referrals(program_id, order_id);",

    /* 13: badges and challenges */
    "CREATE TABLE badges ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX badges_program ON badges(program_id, id);"
    "CREATE TABLE challenges ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  name TEXT NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  active BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  updated_by TEXT NOT NULL,"
    "  deleted_at BIGINT);"
    "CREATE INDEX challenges_program ON challenges(program_id, id);"
    "CREATE TABLE member_badges ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  badge_id BIGINT NOT NULL,"
    "  event_id TEXT,"
    "  points BIGINT NOT NULL,"
    "  earned_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX member_badges_key ON member_badges(member_id, badge_id);"
    "CREATE INDEX member_badges_badge ON member_badges(badge_id);"
    "CREATE TABLE member_challenges ("
    "  member_id BIGINT NOT NULL,"
    "  challenge_id BIGINT NOT NULL,"
    "  program_id BIGINT NOT NULL,"
    "  progress BIGINT NOT NULL,"
    "  last_week BIGINT NOT NULL,"
    "  completed_at BIGINT,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (member_id, challenge_id));"
    "CREATE INDEX member_challenges_challenge ON member_challenges(challenge_id);",

    /* 14: company accounts: their users earn into the account's wallet (a member row) */
    "ALTER TABLE members ADD COLUMN wallet_id BIGINT;"
    "ALTER TABLE orders ADD COLUMN wallet_id BIGINT;"
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  external_id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  wallet_id BIGINT NOT NULL,"
    "  pooling BIGINT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX accounts_external ON accounts(program_id, external_id);"
    "CREATE TABLE account_members ("
    "  account_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  program_id BIGINT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL,"
    "  PRIMARY KEY (account_id, member_id));"
    "CREATE UNIQUE INDEX account_members_member ON account_members(member_id);",

    /* 15: brands of a coalition program: one wallet, per-brand rules and reports */
    "CREATE TABLE brands ("
    "  id INTEGER PRIMARY KEY,"
    "  program_id BIGINT NOT NULL REFERENCES programs(id),"
    "  code TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL);"
    "CREATE UNIQUE INDEX brands_code ON brands(program_id, code);"
    "ALTER TABLE events ADD COLUMN brand TEXT;"
    "ALTER TABLE orders ADD COLUMN brand TEXT;"
    "ALTER TABLE guest_orders ADD COLUMN brand TEXT;",

    /* 16: one index less to write per earning (issue 11): lots were found by
     * order only among a member's pending ones, which lots_member(member_id,
     * status, ...) reaches as well. Each index keyed by member puts every
     * earning on one more scattered page; this one cost 9 % of plain earning. */
    "DROP INDEX lots_order;",

    /* 17: the orders a member has placed, counted in their totals (refunded
     * ones included, the orders of a shared wallet counted for its owner as
     * the totals are) instead of counted from orders(member_id, ...) on every
     * purchase: that index only served the count and cost every purchase a
     * scattered page (issue 11). */
    "ALTER TABLE member_stats ADD COLUMN orders_placed BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE orders_placed_tmp AS SELECT m AS member_id, COUNT(*) AS n FROM"
    "  (SELECT member_id AS m FROM orders UNION ALL"
    "   SELECT wallet_id FROM orders WHERE wallet_id IS NOT NULL) x GROUP BY m;"
    "CREATE UNIQUE INDEX orders_placed_tmp_member ON orders_placed_tmp(member_id);"
    "UPDATE member_stats SET orders_placed = COALESCE((SELECT n FROM orders_placed_tmp t"
    "  WHERE t.member_id = member_stats.member_id), 0);"
    "DROP TABLE orders_placed_tmp;"
    "DROP INDEX orders_member;",

    /* 18: day buckets and rule usage kept in the order of their key (issue 11):
     * each was a table of rowids plus a unique index on the key, so a purchase
     * probed two B-trees to read a bucket and wrote two to add one. */
    "CREATE TABLE member_days_new ("
    "  program_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  day BIGINT NOT NULL,"
    "  spend BIGINT NOT NULL,"
    "  orders BIGINT NOT NULL,"
    "  points BIGINT NOT NULL,"
    "  PRIMARY KEY (member_id, day)) WITHOUT ROWID;"
    "INSERT INTO member_days_new(program_id, member_id, day, spend, orders, points)"
    "  SELECT program_id, member_id, day, spend, orders, points FROM member_days;"
    "DROP TABLE member_days;"
    "ALTER TABLE member_days_new RENAME TO member_days;"
    "CREATE INDEX member_days_program ON member_days(program_id, day);"
    "CREATE TABLE rule_usage_new ("
    "  program_id BIGINT NOT NULL,"
    "  rule_id BIGINT NOT NULL,"
    "  member_id BIGINT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  points BIGINT NOT NULL,"
    "  triggers BIGINT NOT NULL,"
    "  PRIMARY KEY (rule_id, member_id, period)) WITHOUT ROWID;"
    "INSERT INTO rule_usage_new(program_id, rule_id, member_id, period, points, triggers)"
    "  SELECT program_id, rule_id, member_id, period, points, triggers FROM rule_usage;"
    "DROP TABLE rule_usage;"
    "ALTER TABLE rule_usage_new RENAME TO rule_usage;",

    /* 19: a rule's awarded points in a narrow table of their own (issue 11):
     * adding to the column of earning_rules rewrote the whole row, definition
     * included, once per awarding rule per event; here one statement adds an
     * earning's awards to rows of three integers. */
    "CREATE TABLE rule_totals ("
    "  rule_id BIGINT NOT NULL PRIMARY KEY,"
    "  program_id BIGINT NOT NULL,"
    "  points_awarded BIGINT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO rule_totals(rule_id, program_id, points_awarded)"
    "  SELECT id, program_id, points_awarded FROM earning_rules;"
    "ALTER TABLE earning_rules DROP COLUMN points_awarded;",

    /* 20: the two job indexes hold only the lots their job looks for (issue
     * 11): lots_expiry the active ones, lots_maturity the pending ones. An
     * earning writes one of them instead of both, and a lot that expires
     * leaves lots_expiry instead of moving within both (its status was their
     * first column): the expiry job wrote six index entries per lot, now three. */
    "DROP INDEX lots_expiry;"
    "DROP INDEX lots_maturity;"
    "CREATE INDEX lots_expiry ON lots(expires_at) WHERE status = 'active';"
    "CREATE INDEX lots_maturity ON lots(matures_at) WHERE status = 'pending';",

    /* 21: the tier job places members who have no tier yet; this is how far
     * it has looked, in member id order (0 after each PUT /v1/tiers). */
    "ALTER TABLE programs ADD COLUMN tiers_placed_through BIGINT NOT NULL DEFAULT 0;",

    /* 22: one journal entry per earning, its rules' shares beside it (issue
     * 11): an entry per awarding rule wrote three B-trees and checked the
     * member's key for each of them, five to nine times per purchase. The
     * entries written before keep theirs, copied here; journal.rule_id and
     * rule_version are no longer written or read. */
    "CREATE TABLE journal_rules ("
    "  program_id BIGINT NOT NULL,"
    "  entry_id BIGINT NOT NULL,"
    "  rule_id BIGINT NOT NULL,"
    "  rule_version BIGINT NOT NULL,"
    "  points BIGINT NOT NULL,"
    "  PRIMARY KEY (entry_id, rule_id)) WITHOUT ROWID;"
    "INSERT INTO journal_rules(program_id, entry_id, rule_id, rule_version, points)"
    "  SELECT program_id, id, rule_id, rule_version, points + pending FROM journal"
    "  WHERE rule_id IS NOT NULL;",

    /* 23: no query reads member_days by program and day (issue 11): every one
     * is by member, through the key. The index put each member's first
     * purchase of a day on a scattered page of that day's range. */
    "DROP INDEX member_days_program;",

    /* 24: a member's events counted by type for badge and challenge
     * conditions (member.events), each count as of the member's event
     * through_id: brought up to date from the events after it when a
     * condition needs them, so that costs the events since the last time
     * instead of a scan of the member's whole history on every event. */
    "CREATE TABLE member_event_counts ("
    "  member_id BIGINT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  program_id BIGINT NOT NULL,"
    "  events BIGINT NOT NULL,"
    "  through_id BIGINT NOT NULL,"
    "  PRIMARY KEY (member_id, type)) WITHOUT ROWID;",

    /* 25: a member's open lots in the order they are spent (expiry, then
     * earning, then id): with lots of one expiry (a program without expiry has
     * only FD_NEVER) every spend sorted all the member's open lots; now it
     * reads the oldest until they cover it. */
    "DROP INDEX lots_member;"
    "CREATE INDEX lots_member ON lots(member_id, status, expires_at, earned_at);",

    /* 26: an earning's rule shares in a column of its journal entry,
     * [[rule_id, rule_version, points], ...] in rule order (issue 11): a
     * row of journal_rules per share cost about 4,000 instructions, the
     * largest single part of a purchase. (PostgreSQL: string_agg.) */
    "ALTER TABLE journal ADD COLUMN rules TEXT;"
    "UPDATE journal SET rules = (SELECT '[' || group_concat('[' || rule_id || ',' ||"
    "  rule_version || ',' || points || ']', ',') || ']' FROM (SELECT rule_id, rule_version,"
    "  points FROM journal_rules p WHERE p.entry_id = journal.id ORDER BY p.rule_id) s)"
    "  WHERE id IN (SELECT entry_id FROM journal_rules);"
    "DROP TABLE journal_rules;",
};

#define N_MIGRATIONS ((int64_t)(sizeof MIGRATIONS / sizeof MIGRATIONS[0]))

int64_t fd_schema_latest(void)
{
    return N_MIGRATIONS;
}

int fd_schema_migrate(fd_db *db, int64_t *version)
{
    int64_t current = 0;
    int rc;
    /* One migration per exclusive transaction: two processes starting at once
     * take turns, and the second finds the work done. */
    for (;;) {
        if ((rc = fd_db_begin_exclusive(db))) return rc;
        rc = fd_db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)");
        if (!rc)
            rc = fd_db_one_i64(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                               FD_NOPARAMS, &current);
        if (rc || current >= N_MIGRATIONS) break;
        rc = fd_db_exec(db, MIGRATIONS[current]);
        if (!rc)
            rc = fd_db_run(db, "INSERT INTO schema_migrations(version, applied_at) VALUES ($1, $2)",
                           FD_PARAMS(FD_I(current + 1), FD_I(fd_now())), NULL);
        if (rc) break;
        if ((rc = fd_db_commit(db))) return rc;
        fd_log("info", "msg=\"schema migrated\" version=%lld", (long long)(current + 1));
    }
    if (rc) {
        fd_db_rollback(db);
        return rc;
    }
    fd_db_commit(db);
    if (current > N_MIGRATIONS) {
        fd_log("error", "msg=\"database schema %lld is newer than this binary (%lld)\"",
               (long long)current, (long long)N_MIGRATIONS);
        return FD_ECONFLICT;
    }
    *version = current;
    return FD_OK;
}
