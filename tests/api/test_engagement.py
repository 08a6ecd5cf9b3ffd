"""Engagement (issue 10): referrals with their abuse refusals and reversal,
and brand isolation across programs."""
import re

import harness
from test_rules import RuleTest

POLICY = {"referrer_points": 500, "referee_points": 250, "min_order": "30.00", "within_days": 30,
          "max_per_referrer": 2, "period": "year", "fingerprints": ["payment_fingerprint"],
          "link_template": "https://shop.example/join?ref={code}"}


class Referrals(RuleTest):
    def tearDown(self):
        self.srv.req("POST", "/v1/_test/clock", {})

    def setUp(self):
        super().setUp()
        s, pol = self.req("PUT", "/v1/referral-policy", POLICY)
        self.assertEqual(s, 200, pol)
        self.rule(name="base", trigger="purchase", effect={"type": "per_amount", "rate": "1"})

    def code_of(self, m):
        s, ref = self.req("GET", "/v1/members/%d/referral" % m["id"])
        self.assertEqual(s, 200, ref)
        return ref

    def enroll(self, ext, code, **fields):
        s, m = self.req("POST", "/v1/members", dict(external_id=ext, referral_code=code, **fields))
        self.assertEqual(s, 201, m)
        return m

    def test_success_both_earn_and_refund_reverses(self):
        ana = self.member("ana", email="ana@example.com")
        ref = self.code_of(ana)
        self.assertRegex(ref["code"], r"^R-[2-9A-HJKMNP-Z]{7}$")
        self.assertEqual(ref["link"], "https://shop.example/join?ref=" + ref["code"])
        self.assertEqual(self.code_of(ana)["code"], ref["code"])       # the same code every time
        ben = self.enroll("ben", ref["code"].lower(), email="ben@example.com")
        self.assertEqual(ben["referral"], {"status": "pending", "referrer_id": ana["id"]})
        small = self.buy("b1", "ben", "20.00")                        # below the minimum
        self.assertNotIn("referral", small)
        e = self.buy("b2", "ben", "40.00")
        self.assertEqual(e["referral"], {"status": "completed", "referrer_id": ana["id"],
                                         "referrer_points": 500, "referee_points": 250})
        self.assertEqual((self.balance(ana), self.balance(ben)), (500, 20 + 40 + 250))
        e = self.buy("b3", "ben", "50.00")                            # only the first one counts
        self.assertNotIn("referral", e)
        s, r = self.req("POST", "/v1/events", {"id": "b2-r", "type": "refund", "order_id": "o-b2",
                                               "amount": "5.00"})
        self.assertNotIn("referral", r)                               # 35.00 left: it still counts
        s, r = self.req("POST", "/v1/events", {"id": "b2-r2", "type": "refund", "order_id": "o-b2",
                                               "amount": "10.00"})
        self.assertEqual(s, 201, r)
        self.assertEqual(r["referral"]["status"], "reversed")        # 25.00 left: below 30.00
        self.assertEqual(self.balance(ana), 0)
        # 20 + 40 + 50 earned, 15 of the refunded order's points and the 250 taken back
        self.assertEqual(self.balance(ben), 20 + 40 + 50 - 15)
        s, r = self.req("POST", "/v1/events", {"id": "b2-r3", "type": "refund", "order_id": "o-b2"})
        self.assertNotIn("referral", r)                               # reversed once only
        s, ref = self.req("GET", "/v1/members/%d/referral" % ana["id"])
        self.assertEqual([x["status"] for x in ref["referrals"]], ["reversed"])
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_abuse_refusals(self):
        ana = self.member("ab-ana", email="ana@example.com", attributes={"payment_fingerprint": "card-1"})
        code = self.code_of(ana)["code"]
        # the same mailbox cannot enrol twice at all (identifiers are unique): nothing is linked
        s, dup = self.req("POST", "/v1/members", {"external_id": "ab-dup", "email": "Ana+promo@Example.com",
                                                  "referral_code": code})
        self.assertEqual((s, dup["error"]["code"]), (409, "identifier_taken"))
        m = self.enroll("ab-card", code, attributes={"payment_fingerprint": "card-1"})
        self.assertEqual(m["referral"], {"status": "refused", "reason": "same_payment_fingerprint",
                                         "referrer_id": ana["id"]})
        self.assertEqual(self.enroll("ab-x", "R-NOPE222")["referral"],
                         {"status": "refused", "reason": "unknown_code"})
        # self-referral after enrolment, and a member who ordered already
        s, out = self.req("POST", "/v1/members/%d/referral" % ana["id"], {"code": code})
        self.assertEqual(out["referral"]["reason"], "self_referral")
        old = self.member("ab-old")
        self.buy("ab-o1", "ab-old", "10.00")
        s, out = self.req("POST", "/v1/members/%d/referral" % old["id"], {"code": code})
        self.assertEqual(out["referral"]["reason"], "not_new")
        # a ring: B enrolled with A's code; A (no orders yet) then enters B's code
        b = self.enroll("ab-b", code)
        self.assertEqual(b["referral"]["status"], "pending")
        s, out = self.req("POST", "/v1/members/%d/referral" % ana["id"], {"code": self.code_of(b)["code"]})
        self.assertEqual(out["referral"]["reason"], "ring")
        # the limit: two per referrer per year (b is one), so one more, then refused
        self.assertEqual(self.enroll("ab-c", code)["referral"]["status"], "pending")
        self.assertEqual(self.enroll("ab-d", code)["referral"]["reason"], "referrer_limit")
        s, again = self.req("POST", "/v1/members/%d/referral" % b["id"], {"code": code})
        self.assertEqual(again["referral"]["reason"], "already_referred")
        gone = self.member("ab-gone")
        gone_code = self.code_of(gone)["code"]
        self.assertEqual(self.req("POST", "/v1/members/%d/erase" % gone["id"], {})[0], 200)
        self.assertEqual(self.enroll("ab-e", gone_code)["referral"]["reason"], "referrer_closed")
        s, ref = self.req("GET", "/v1/members/%d/referral" % ana["id"])
        self.assertEqual(sorted(x.get("reason", x["status"]) for x in ref["referrals"]),
                         sorted(["same_payment_fingerprint", "self_referral", "not_new", "pending",
                                 "pending", "referrer_limit", "already_referred"]))
        s, bref = self.req("GET", "/v1/members/%d/referral" % b["id"])
        self.assertEqual([x.get("reason") for x in bref["referrals"]], ["ring"])

    def test_window_closes(self):
        self.srv.set_clock("2045-01-01T10:00:00Z")
        ana = self.member("w-ana")
        late = self.enroll("w-late", self.code_of(ana)["code"])
        self.srv.set_clock("2045-03-01T10:00:00Z")   # 59 days later
        e = self.buy("w1", "w-late", "100.00")
        self.assertEqual(e["referral"]["status"], "expired")
        self.assertEqual(self.balance(ana), 0)
        self.assertNotIn("referral", self.buy("w2", "w-late", "100.00"))

    def test_policy_validation_and_switch(self):
        self.assertError(self.req("PUT", "/v1/referral-policy", {"min_order": "abc"}), 422,
                         "invalid_policy", "min_order")
        self.assertError(self.req("PUT", "/v1/referral-policy", {"link_template": "http://x/{code}"}),
                         422, "invalid_policy", "link_template")
        self.req("PUT", "/v1/referral-policy", dict(POLICY, enabled=False))
        ana = self.member("off-ana")
        m = self.enroll("off-ben", self.code_of(ana)["code"])
        self.assertEqual(m["referral"], {"status": "refused", "reason": "disabled"})


class BadgesAndChallenges(RuleTest):
    def tearDown(self):
        self.srv.req("POST", "/v1/_test/clock", {})

    def define(self, path, **d):
        s, doc = self.req("POST", path, d)
        self.assertEqual(s, 201, doc)
        return doc

    def test_badges_are_earned_once(self):
        self.rule(name="base", trigger="purchase", effect={"type": "per_amount", "rate": "1"})
        first = self.define("/v1/badges", name="First purchase", points=10,
                            condition={">=": [{"var": "member.stats.orders_total"}, 1]})
        critic = self.define("/v1/badges", name="Critic",
                             condition={">=": [{"var": "member.events.review_written"}, 3]})
        explorer = self.define("/v1/badges", name="Explorer", condition={
            ">=": [{"var": "member.stats.category_counts.length"}, 3]})
        self.define("/v1/badges", name="Three categories", points=5, condition={
            "all": [[{"var": "member.stats.category_counts.shoes"}, {"var": "member.stats.category_counts.socks"},
                     {"var": "member.stats.category_counts.hats"}], {">": [{"var": ""}, 0]}]})
        m = self.member("bd")
        e = self.buy("bd1", "bd", "10.00", lines=[{"sku": "S1", "category": "shoes", "quantity": 1,
                                                  "unit_price": "10.00"}])
        self.assertEqual([b["name"] for b in e["engagement"]["badges"]], ["First purchase"])
        self.assertEqual(e["balance"], 10 + 10)
        e = self.buy("bd2", "bd", "10.00")
        self.assertNotIn("engagement", e)                          # earned once
        for i in range(3):
            s, e = self.event("rv%d" % i, "bd", "review_written")
            self.assertEqual(s, 201, e)
        self.assertEqual([b["name"] for b in e["engagement"]["badges"]], ["Critic"])
        e = self.buy("bd3", "bd", "20.00", lines=[
            {"sku": "K1", "category": "socks", "quantity": 1, "unit_price": "10.00"},
            {"sku": "H1", "category": "hats", "quantity": 1, "unit_price": "10.00"}])
        self.assertEqual([b["name"] for b in e["engagement"]["badges"]], ["Three categories"])
        s, mine = self.req("GET", "/v1/members/%d/badges" % m["id"])
        self.assertEqual([(b["name"], b["event_id"]) for b in mine["data"]],
                         [("First purchase", "bd1"), ("Critic", "rv2"), ("Three categories", "bd3")])
        s, doc = self.req("GET", "/v1/badges/%d" % first["id"])
        self.assertEqual(doc["earned_by"], 1)
        self.assertIsNotNone(explorer)
        self.assertError(self.req("POST", "/v1/badges", {"name": "bad", "condition": {"nope": 1}}), 422,
                         "invalid_badge", "condition")
        self.assertError(self.req("POST", "/v1/badges", {"name": "no condition"}), 422, "invalid_badge")
        self.assertEqual(self.balance(m), 10 + 10 + 10 + 20 + 5)
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_each_catalog_has_its_own_cap(self):
        """A program holds at most 200 live badges and 200 challenges (the
        campaigns and rewards have 500): the 201st is refused with the right
        number, and deleting one makes room again."""
        for path, name in (("/v1/badges", "badge"), ("/v1/challenges", "challenge")):
            extra = {"condition": {"==": [1, 2]}} if name == "badge" else \
                {"event_type": "purchase", "count": 2}
            made = [self.define(path, name="%s %d" % (name, i), **extra) for i in range(200)]
            s, doc = self.req("POST", path, dict(name="one too many", **extra))
            self.assertEqual((s, doc["error"]["code"]), (409, "catalog_full"), doc)
            self.assertEqual(doc["error"]["message"], "a program has at most 200 %ss" % name)
            self.assertEqual(self.req("DELETE", "%s/%d" % (path, made[0]["id"]))[0], 200)
            self.define(path, name="room again", **extra)

    def test_badges_see_the_parts_of_the_context_they_read(self):
        """After an event the badge conditions get the parts of the member context
        they read (attributes, the 30-day window, segments), not the whole of it."""
        self.assertEqual(self.req("POST", "/v1/segments", {
            "name": "buyers", "condition": {">=": [{"var": "member.stats.orders_total"}, 1]}})[0], 201)
        self.define("/v1/badges", name="German",
                    condition={"==": [{"var": "member.attributes.country"}, "DE"]})
        self.define("/v1/badges", name="Spent this month",
                    condition={">": [{"var": "member.stats.spend_30d"}, 5]})
        self.define("/v1/badges", name="Buyer", condition={"in_segment": "buyers"})
        de = self.member("parts-de", attributes={"country": "DE"})
        e = self.buy("pd1", "parts-de", "10.00")
        self.assertEqual(sorted(b["name"] for b in e["engagement"]["badges"]),
                         ["Buyer", "German", "Spent this month"])
        fr = self.member("parts-fr", attributes={"country": "FR"})
        e = self.buy("pf1", "parts-fr", "2.00")
        self.assertEqual([b["name"] for b in e["engagement"]["badges"]], ["Buyer"])
        # none reads member.events: they are not counted
        self.assertEqual(self.srv.sql("SELECT COUNT(*) FROM member_event_counts WHERE member_id"
                                      " IN (%d, %d)" % (de["id"], fr["id"])), [(0,)])

    def kept_counts(self, member_id):
        """The member's kept event counts {type: n}, the event they are as of
        (the highest through_id) and the member's last event; each count is
        checked against the member's events of its type up to its through_id."""
        rows = self.srv.sql("SELECT type, events, through_id FROM member_event_counts"
                            " WHERE member_id = %d ORDER BY type" % member_id)
        for t, n, through in rows:
            self.assertEqual(self.srv.sql("SELECT COUNT(*) FROM events WHERE member_id = %d AND"
                                          " type = '%s' AND id <= %d" % (member_id, t, through)),
                             [(n,)], t)
        last = self.srv.sql("SELECT MAX(id) FROM events WHERE member_id = %d" % member_id)[0][0]
        return {t: n for t, n, _ in rows}, max((r[2] for r in rows), default=None), last

    def test_event_counts_kept_from_the_members_history(self):
        """member.events counts a member's whole history, events from before any
        badge included, but each event reads only the events since the last one
        counted: the counts are kept per member and type (member_event_counts),
        and only once a condition reads them."""
        m = self.member("hist")
        self.define("/v1/badges", name="First purchase", condition={
            ">=": [{"var": "member.stats.orders_total"}, 1]})
        for i in range(4):
            self.assertEqual(self.event("hr%d" % i, "hist", "review_written")[0], 201)
        s, r = self.req("POST", "/v1/events:batch", {"events": [
            {"id": "ho%d" % i, "type": "app_open", "external_id": "hist"} for i in range(2)]})
        self.assertEqual(s, 200, r)
        self.assertEqual(self.kept_counts(m["id"])[0], {})   # no condition reads them yet
        self.define("/v1/badges", name="Critic", points=7,
                    condition={">=": [{"var": "member.events.review_written"}, 6]})
        self.define("/v1/badges", name="Regular", condition={
            ">=": [{"var": "member.events.app_open"}, 3]})
        s, e = self.event("hr4", "hist", "review_written")     # the history counted: 5 reviews
        self.assertNotIn("engagement", e)
        counts, through, last = self.kept_counts(m["id"])
        self.assertEqual((counts, through), ({"review_written": 4, "app_open": 2}, last - 1))
        s, e = self.event("ho2", "hist", "app_open")
        self.assertEqual([b["name"] for b in e["engagement"]["badges"]], ["Regular"])
        s, r = self.req("POST", "/v1/events:batch", {"events": [
            {"id": "hb%d" % i, "type": t, "external_id": "hist"}
            for i, t in enumerate(["app_open", "review_written", "app_open"])]})
        self.assertEqual([x["status"] for x in r["results"]], [201, 201, 201], r)
        self.assertEqual([b["name"] for b in r["results"][1]["result"]["engagement"]["badges"]],
                         ["Critic"])                          # 4 + 1 + 1 reviews
        counts, through, last = self.kept_counts(m["id"])
        self.assertEqual((counts, through), ({"review_written": 6, "app_open": 4}, last - 1))
        self.assertEqual(self.balance(m), 7)

    def test_challenge_progress_and_the_period_boundary(self):
        m = self.member("ch")
        c = self.define("/v1/challenges", name="3 orders in October", event_type="purchase", count=3,
                        points=100, condition={">=": [{"var": "event.order.total"}, 10]},
                        schedule={"from": "2046-10-01T00:00:00+02:00", "to": "2046-11-01T00:00:00+01:00"})
        quiz = self.define("/v1/challenges", name="Quiz", event_type="quiz_answered", count=1, points=5)
        self.srv.set_clock("2046-09-30T21:59:59Z")                  # 23:59:59 in Berlin: September
        self.assertNotIn("engagement", self.buy("c0", "ch", "50.00", at="2046-09-30T21:59:59Z"))
        self.srv.set_clock("2046-10-10T12:00:00Z")
        e = self.buy("c1", "ch", "50.00", at="2046-10-10T12:00:00Z")
        self.assertEqual(e["engagement"]["challenges"], [
            {"id": c["id"], "name": "3 orders in October", "progress": 1, "target": 3, "completed": False}])
        self.assertNotIn("engagement", self.buy("c-small", "ch", "5.00", at="2046-10-11T12:00:00Z"))
        self.buy("c2", "ch", "50.00", at="2046-10-12T12:00:00Z")
        s, prog = self.req("GET", "/v1/members/%d/challenges" % m["id"])
        self.assertEqual({p["name"]: (p["progress"], p["target"]) for p in prog["data"]},
                         {"3 orders in October": (2, 3), "Quiz": (0, 1)})
        # the last second of October (23:59:59 local) still counts and completes it
        e = self.buy("c3", "ch", "50.00", at="2046-10-31T22:59:59Z")
        self.assertEqual(e["engagement"]["challenges"][0]["completed"], True)
        self.assertNotIn("engagement", self.buy("c4", "ch", "50.00", at="2046-10-31T23:00:00Z"))
        s, prog = self.req("GET", "/v1/members/%d/challenges" % m["id"])
        done = [p for p in prog["data"] if p["name"] == "3 orders in October"][0]
        self.assertIsNotNone(done["completed_at"])
        s, e = self.event("q1", "ch", "quiz_answered")
        self.assertEqual(e["engagement"]["challenges"][0]["completed"], True)
        self.assertIsNotNone(quiz)

    def test_streak_of_weeks(self):
        m = self.member("st")
        self.define("/v1/challenges", name="3-week streak", event_type="purchase", streak_weeks=3, points=30)
        weeks = ["2047-01-07", "2047-01-09", "2047-01-15", "2047-01-29", "2047-02-04", "2047-02-12"]
        got = []
        for i, day in enumerate(weeks):  # ISO weeks 2, 2 again, 3, (none in 4) 5, 6, 7
            e = self.buy("st%d" % i, "st", "10.00", at=day + "T12:00:00Z")
            ch = e.get("engagement", {}).get("challenges", [{}])[0]
            got.append((ch.get("progress"), ch.get("completed")))
        self.assertEqual(got, [(1, False), (1, False), (2, False), (1, False), (2, False), (3, True)])
        self.assertEqual(self.balance(m), 60 + 30)
        self.assertError(self.req("POST", "/v1/challenges", {"name": "x", "event_type": "purchase"}), 422,
                         "invalid_challenge", "count")


class CompanyAccounts(RuleTest):
    def test_pooled_earning_account_tier_roles_and_refunds(self):
        # volume tiers on the account's yearly spend; Gold earns double through the rule's tier rate
        s, t = self.req("PUT", "/v1/tiers", {"metric": "spend", "window": {"type": "calendar_year"},
                                             "tiers": [{"name": "Standard", "threshold": "0.00"},
                                                       {"name": "Gold", "threshold": "1000.00"}]})
        self.assertEqual(s, 200, t)
        self.rule(name="volume", trigger="purchase",
                  effect={"type": "per_amount", "rate": "1", "tier_rates": {"Gold": "2"}})
        s, acc = self.req("POST", "/v1/accounts", {"external_id": "acme", "name": "ACME Ltd"})
        self.assertEqual(s, 201, acc)
        wallet = acc["wallet"]["member_id"]
        buyer, boss = self.member("acme-buyer"), self.member("acme-boss")
        solo = self.member("solo")
        for m, role in ((buyer, "buyer"), (boss, "approver")):
            s, acc = self.req("POST", "/v1/accounts/%d/users" % acc["id"], {"member_id": m["id"], "role": role})
            self.assertEqual(s, 200, acc)
        self.assertEqual([(u["member_id"], u["role"]) for u in acc["users"]],
                         [(buyer["id"], "buyer"), (boss["id"], "approver")])
        e = self.buy("a1", "acme-buyer", "600.00")
        self.assertEqual((e["points"], e["wallet"]["balance"]), (600, 600))
        e = self.buy("a2", "acme-boss", "500.00")    # the account passes 1000.00: Gold
        self.assertEqual(e["tier_change"]["to"], "Gold")
        e = self.buy("a3", "acme-buyer", "100.00")   # Gold's rate for the account's users
        self.assertEqual((e["points"], e["wallet"]["balance"]), (200, 600 + 500 + 200))
        self.assertEqual((self.balance(buyer), self.balance(boss)), (0, 0))
        self.assertEqual(self.buy("s1", "solo", "100.00")["points"], 100)   # not in the account
        s, acc = self.req("GET", "/v1/accounts/%d" % acc["id"])
        self.assertEqual((acc["wallet"]["balance"], acc["wallet"]["tier"]), (1300, "Gold"))
        # per-user history: the user's orders; the account's ledger is the wallet's
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % wallet)
        self.assertEqual([x["order_id"] for x in ledger["data"]], ["o-a3", "o-a2", "o-a1"])
        s, order = self.req("GET", "/v1/orders/o-a1")
        self.assertEqual(order["member_id"], buyer["id"])
        # a refund takes the points back from the account
        s, r = self.req("POST", "/v1/events", {"id": "a1-r", "type": "refund", "order_id": "o-a1"})
        self.assertEqual((s, r["points_reversed"], r["wallet"]["balance"]), (201, 600, 700))
        # rewards: approvers redeem with the account's points, buyers may not
        s, rew = self.req("POST", "/v1/rewards", {"name": "Office coffee", "points": 300,
                                                 "benefit": {"type": "physical", "sku": "COFFEE"}})
        s, doc = self.req("POST", "/v1/accounts/%d/rewards/%d/redeem" % (acc["id"], rew["id"]),
                          {"member_id": buyer["id"]})
        self.assertEqual((s, doc["error"]["code"]), (403, "not_authorised"))
        s, v = self.req("POST", "/v1/accounts/%d/rewards/%d/redeem" % (acc["id"], rew["id"]),
                        {"member_id": boss["id"]})
        self.assertEqual((s, v["member_id"], v["member_balance"]), (201, boss["id"], 400))
        s, c = self.req("POST", "/v1/members/%d/vouchers/%s/cancel" % (boss["id"], v["code"]))
        self.assertEqual((s, c["member_balance"]), (200, 700))      # back to the account
        s, doc = self.req("POST", "/v1/accounts/%d/rewards/%d/redeem" % (acc["id"], rew["id"]),
                          {"member_id": solo["id"]})
        self.assertEqual(s, 404)
        # one account per member; leaving the account: points go to the member again
        s, other = self.req("POST", "/v1/accounts", {"external_id": "globex", "name": "Globex"})
        self.assertError(self.req("POST", "/v1/accounts/%d/users" % other["id"],
                                  {"member_id": buyer["id"], "role": "buyer"}), 409, "member_in_another_account")
        s, acc = self.req("DELETE", "/v1/accounts/%d/users/%d" % (acc["id"], buyer["id"]))
        self.assertEqual(s, 200, acc)
        e = self.buy("a4", "acme-buyer", "10.00")
        self.assertNotIn("wallet", e)
        self.assertEqual(self.balance(buyer), 10)
        self.assertError(self.req("POST", "/v1/accounts", {"external_id": "acme", "name": "again"}), 409,
                         "external_id_taken")
        self.assertError(self.req("POST", "/v1/accounts/%d/users" % other["id"],
                                  {"member_id": wallet, "role": "admin"}), 404, "member_not_found")
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)


class Coalition(RuleTest):
    """Several brands in one coalition program: one wallet per member, each
    brand its own earning rate, reports per brand and overall."""

    def test_shared_wallet_per_brand_rates_and_reports(self):
        for code, name in (("shoes-co", "Shoes & Co"), ("cafe", "Cafe Nero")):
            s, b = self.req("POST", "/v1/brands", {"code": code, "name": name})
            self.assertEqual(s, 201, b)
        self.assertError(self.req("POST", "/v1/brands", {"code": "cafe", "name": "again"}), 409, "code_taken")
        for code, rate in (("shoes-co", "1"), ("cafe", "5")):
            self.rule(name="rate " + code, trigger="purchase",
                      condition={"==": [{"var": "event.brand"}, code]},
                      effect={"type": "per_amount", "rate": rate})
        ana = self.member("co-ana")
        self.member("co-ben")
        self.srv.set_clock("2048-05-10T12:00:00Z")
        try:
            def buy(eid, ext, total, brand):
                s, e = self.req("POST", "/v1/events", {"id": eid, "type": "purchase", "external_id": ext,
                                                       "brand": brand, "order": {"id": "o-" + eid,
                                                       "total": total, "currency": "EUR"}})
                self.assertEqual(s, 201, e)
                return e
            self.assertEqual(buy("co1", "co-ana", "100.00", "shoes-co")["points"], 100)
            self.assertEqual(buy("co2", "co-ana", "4.00", "cafe")["points"], 20)
            self.assertEqual(buy("co3", "co-ben", "6.00", "cafe")["points"], 30)
            self.assertEqual(self.balance(ana), 120)              # one wallet across brands
            self.assertError(self.req("POST", "/v1/events", {"id": "co4", "type": "purchase",
                                                             "external_id": "co-ana", "brand": "nope",
                                                             "order": {"id": "o-co4", "total": "1.00",
                                                                       "currency": "EUR"}}), 422,
                             "invalid_field", "brand")
            s, rep = self.req("GET", "/v1/reports/brands?from=2048-05-01&to=2048-05-31")
            self.assertEqual(s, 200, rep)
            got = {b["brand"]: (b["orders"], b["revenue"], b["customers"], b["points_issued"])
                   for b in rep["brands"]}
            self.assertEqual(got, {"shoes-co": (1, "100.00", 1, 100), "cafe": (2, "10.00", 2, 50)})
            o = rep["overall"]
            self.assertEqual((o["orders"], o["revenue"], o["customers"], o["points_issued"]),
                             (3, "110.00", 2, 150))
        finally:
            self.srv.req("POST", "/v1/_test/clock", {})


class BrandIsolation(harness.ServerTest):
    """Two programs in one installation: every route that names a thing of
    program A, called with program B's admin key, finds nothing; B's lists
    hold nothing of A's."""

    def test_every_route_with_another_programs_key(self):
        import os
        srv = self.srv
        a = lambda m, p, b=None: srv.req(m, p, b)               # program A: the server's admin key
        rc, out, err = srv.cli("init", "--name", "Brand B", "--currency", "GBP",
                               "--timezone", "Europe/London")
        self.assertEqual(rc, 0, err)
        bkey = out.split("admin key: ")[1].strip()
        m = srv.member("iso-m", email="iso@example.com")
        srv.purchase("iso-e1", "iso-m", "50.00", order_id="ISO-ORDER")
        ids = {}
        for path, body in (("/v1/earning-rules", {"name": "iso", "trigger": "purchase",
                                                  "effect": {"type": "fixed", "points": 1}}),
                           ("/v1/segments", {"name": "iso", "condition": True}),
                           ("/v1/offers", {"name": "iso"}),
                           ("/v1/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["*"]}),
                           ("/v1/reminders", {"name": "iso", "trigger": {"type": "birthday_month"},
                                              "channel": "email", "template": "hi"}),
                           ("/v1/campaigns", {"name": "iso", "benefit": {"type": "fixed", "amount": "1.00"}}),
                           ("/v1/rewards", {"name": "iso", "points": 1, "benefit": {"type": "free_shipping"}}),
                           ("/v1/badges", {"name": "iso", "condition": True}),
                           ("/v1/challenges", {"name": "iso", "event_type": "purchase", "count": 2}),
                           ("/v1/accounts", {"external_id": "iso", "name": "iso"})):
            s, doc = a("POST", path, body)
            self.assertEqual(s, 201, (path, doc))
            ids[path] = doc["id"]
        a("POST", "/v1/campaigns/%d/codes" % ids["/v1/campaigns"], {"code": "ISO-CODE"})
        s, v = a("POST", "/v1/members/%d/rewards/%d/redeem" % (m["id"], ids["/v1/rewards"]))
        s, key = a("POST", "/v1/keys", {"role": "analyst"})
        s, dl = a("GET", "/v1/webhooks/%d/deliveries" % ids["/v1/webhooks"])
        values = {"/v1/members/{}": m["id"], "/v1/earning-rules/{}": ids["/v1/earning-rules"],
                  "/v1/segments/{}": ids["/v1/segments"], "/v1/offers/{}": ids["/v1/offers"],
                  "/v1/webhooks/{}": ids["/v1/webhooks"], "/v1/reminders/{}": ids["/v1/reminders"],
                  "/v1/campaigns/{}": ids["/v1/campaigns"], "/v1/rewards/{}": ids["/v1/rewards"],
                  "/v1/badges/{}": ids["/v1/badges"], "/v1/challenges/{}": ids["/v1/challenges"],
                  "/v1/accounts/{}": ids["/v1/accounts"],
                  "/v1/codes/{}": "ISO-CODE", "/v1/orders/{}": "ISO-ORDER", "/v1/events/{}": "iso-e1",
                  "/v1/keys/{}": key["key_id"], "/v1/deliveries/{}": dl["data"][0]["delivery_id"]}
        second = {"rewards": ids["/v1/rewards"], "vouchers": v["code"], "users": m["id"]}
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                               "api", "routes.c")) as f:
            text = f.read()
        tried = 0
        for method, pattern in re.findall(r'\{"(\w+)", "([^"]+)",', text):
            if "{}" not in pattern or not pattern.startswith("/v1/") or pattern.startswith(("/v1/imports", "/v1/exports")):
                continue
            parts = pattern.split("/")
            first = "/".join(parts[:4])
            path = pattern.replace("{}", str(values[first]), 1)
            if "{}" in path:
                path = path.replace("{}", str(second[parts[4]]), 1)
            s, doc = srv.req(method, path, {} if method in ("POST", "PUT", "PATCH") else None, key=bkey)
            self.assertIn(s, (403, 404, 422), (method, path, s, doc))
            tried += 1
        self.assertGreater(tried, 40)
        for path in ("/v1/members", "/v1/earning-rules", "/v1/segments", "/v1/offers", "/v1/webhooks",
                     "/v1/reminders", "/v1/campaigns", "/v1/rewards", "/v1/badges", "/v1/challenges",
                     "/v1/keys", "/v1/audit"):
            s, doc = srv.req("GET", path, key=bkey)
            self.assertEqual(s, 200, (path, doc))
            mine = {x.get("id") for x in doc["data"]}
            self.assertFalse(mine & {m["id"], ids.get(path)} - {None} if path != "/v1/keys" else set(),
                             (path, doc["data"]))
            self.assertNotIn("iso", json_names(doc["data"]), path)
        s, k = srv.req("GET", "/v1/reports/kpis", key=bkey)
        self.assertEqual((k["kpis"]["members"], k["kpis"]["member_orders"], k["currency"]), (0, 0, "GBP"))
        s, cart = srv.req("POST", "/v1/carts/evaluate", {"order": {"lines": [
            {"sku": "X", "quantity": 1, "unit_price": "5.00"}]}, "codes": ["ISO-CODE"]}, key=bkey)
        self.assertEqual(cart["rejected"][0]["reason"]["code"], "code_not_found")


def json_names(rows):
    return {x.get("name") or x.get("external_id") for x in rows}


if __name__ == "__main__":
    harness.main()
