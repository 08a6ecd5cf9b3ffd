"""Tiers, dynamic segments, personalised offers, birthdays (issue 4)."""
import csv
import io

import harness
from test_rules import RuleTest

PER_EURO = {"type": "per_amount", "rate": "1"}
TIERS = {"metric": "points", "window": {"type": "calendar_year"},
         "tiers": [{"name": "Bronze", "threshold": 0},
                   {"name": "Silver", "threshold": 100, "benefits": {"earn_rate": "1.5"}},
                   {"name": "Gold", "threshold": 500, "benefits": {"earn_rate": "2", "expiry_days": 730}}]}


class TierTest(RuleTest):
    def tearDown(self):
        self.srv.req("POST", "/v1/_test/clock", {})

    def clock(self, iso):
        self.srv.set_clock(iso)

    def tiers(self, **over):
        t = dict(TIERS)
        t.update(over)
        s, doc = self.req("PUT", "/v1/tiers", t)
        self.assertEqual(s, 200, doc)
        return doc

    def progress(self, m):
        s, p = self.req("GET", "/v1/members/%d/progress" % m["id"])
        self.assertEqual(s, 200, p)
        return p

    def job(self, name):
        s, doc = self.req("POST", "/v1/jobs/" + name)
        self.assertEqual(s, 200, doc)
        return doc


class Tiers(TierTest):
    def test_upgrade_mid_order_and_progress(self):
        self.tiers()
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t1")
        e = self.buy("u1", "t1", "60.00")
        self.assertEqual((e["tier"], e["tier_change"]["to"]), ("Bronze", "Bronze"))
        p = self.progress(m)
        self.assertEqual((p["tier"], p["next_tier"], p["missing"]), ("Bronze", "Silver", 40))
        self.assertEqual(p["message"], "40 more points to Silver")
        e = self.buy("u2", "t1", "50.00")
        self.assertEqual(e["tier_change"], {"from": "Bronze", "to": "Silver", "reason": "upgrade"})
        self.assertEqual(e["tier"], "Silver")
        p = self.progress(m)
        self.assertEqual((p["metric"]["value"], p["missing"], p["message"]), (110, 390, "390 more points to Gold"))
        self.assertIsNotNone(p["requalify_by"])
        s, hist = self.req("GET", "/v1/members/%d/tiers" % m["id"])
        self.assertEqual([(h["from"], h["to"]) for h in hist["data"]], [("Bronze", "Silver"), (None, "Bronze")])
        s, member = self.req("GET", "/v1/members/%d" % m["id"])
        self.assertEqual(member["tier"]["name"], "Silver")
        e = self.buy("u3", "t1", "400.00")
        self.assertEqual(e["tier_change"], {"from": "Silver", "to": "Gold", "reason": "upgrade"})
        e = self.buy("u4", "t1", "900.00")                     # the top tier: nothing above
        self.assertEqual(e["tier"], "Gold")
        self.assertNotIn("tier_change", e)
        s, hist = self.req("GET", "/v1/members/%d/tiers" % m["id"])
        self.assertEqual([h["to"] for h in hist["data"]], ["Gold", "Silver", "Bronze"])

    def test_the_tier_job_places_members_without_a_tier(self):
        self.clock("2031-06-01T12:00:00Z")
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        low, high, gone = self.member("pl1"), self.member("pl2"), self.member("pl3")
        self.buy("pl-b1", "pl2", "150.00")  # 150 points this year, before the program had tiers
        self.assertEqual(self.req("POST", "/v1/members/%d/erase" % gone["id"])[0], 200)
        self.tiers()
        # (the job serves every program on the server: the counts are checked once it is done)
        self.job("tiers")
        self.assertEqual(self.job("tiers")["placed_members"], 0)  # twice: nothing more
        for m, tier in ((low, "Bronze"), (high, "Silver")):
            s, doc = self.req("GET", "/v1/members/%d" % m["id"])
            self.assertEqual(doc["tier"]["name"], tier)
            self.assertEqual(doc["tier"]["requalify_by"], "2031-12-31T23:00:00Z")  # 1 Jan 2032 in Berlin
            s, hist = self.req("GET", "/v1/members/%d/tiers" % m["id"])
            self.assertEqual([(h["from"], h["to"], h["reason"]) for h in hist["data"]],
                             [(None, tier, "qualified")])
        s, doc = self.req("GET", "/v1/members/%d/tiers" % gone["id"])
        self.assertEqual(doc["data"], [])  # an erased member is left alone
        # the next event changes no tier
        self.assertNotIn("tier_change", self.buy("pl-b2", "pl1", "10.00"))
        # a member enrolled since is placed at the next run
        late = self.member("pl4")
        self.assertEqual(self.job("tiers")["placed_members"], 1)
        self.assertEqual(self.req("GET", "/v1/members/%d" % late["id"])[1]["tier"]["name"], "Bronze")

    def test_members_below_the_lowest_tier_are_placed_after_new_thresholds(self):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("pn1")
        self.buy("pn-b1", "pn1", "50.00")
        self.tiers(tiers=[{"name": "Silver", "threshold": 100}, {"name": "Gold", "threshold": 500}])
        self.assertEqual(self.job("tiers")["placed_members"], 0)  # 50 points reach no tier
        self.assertIsNone(self.req("GET", "/v1/members/%d" % m["id"])[1]["tier"])
        self.tiers(tiers=[{"name": "Silver", "threshold": 50}, {"name": "Gold", "threshold": 500}])
        self.assertEqual(self.job("tiers")["placed_members"], 1)
        self.assertEqual(self.req("GET", "/v1/members/%d" % m["id"])[1]["tier"]["name"], "Silver")

    def test_downgrade_at_period_end_without_retention(self):
        self.tiers()
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t2")
        self.clock("2030-03-01T12:00:00Z")
        self.assertEqual(self.buy("d1", "t2", "150.00")["tier"], "Silver")
        s, member = self.req("GET", "/v1/members/%d" % m["id"])
        self.assertEqual(member["tier"]["requalify_by"], "2030-12-31T23:00:00Z")  # 1 Jan 2031 in Berlin
        # (the job reviews every program on the server: count only this member's state)
        self.clock("2030-12-31T22:59:59Z")
        self.job("tiers")
        self.assertEqual(self.req("GET", "/v1/members/%d" % m["id"])[1]["tier"]["requalify_by"],
                         "2030-12-31T23:00:00Z")
        self.clock("2030-12-31T23:00:00Z")
        self.assertGreaterEqual(self.job("tiers")["reviewed_members"], 1)
        self.assertEqual(self.progress(m)["tier"], "Silver")  # 2030 requalifies Silver
        self.assertEqual(self.req("GET", "/v1/members/%d" % m["id"])[1]["tier"]["requalify_by"],
                         "2031-12-31T23:00:00Z")
        self.clock("2031-12-31T23:00:00Z")  # nothing earned in 2031
        self.job("tiers")
        self.assertEqual(self.progress(m)["tier"], "Bronze")
        s, hist = self.req("GET", "/v1/members/%d/tiers" % m["id"])
        self.job("tiers")  # twice: nothing more
        self.assertEqual(self.req("GET", "/v1/members/%d/tiers" % m["id"])[1], hist)
        self.assertEqual(hist["data"][0]["reason"], "period_end")

    def test_downgrade_waits_for_retention(self):
        self.tiers(retention_months=3)
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t3")
        self.clock("2030-03-01T12:00:00Z")
        self.buy("r1", "t3", "150.00")
        s, member = self.req("GET", "/v1/members/%d" % m["id"])
        self.assertEqual(member["tier"]["requalify_by"], "2031-03-31T22:00:00Z")  # 1 April, CEST
        self.clock("2031-01-15T12:00:00Z")
        self.job("tiers")
        self.assertEqual(self.progress(m)["tier"], "Silver")
        self.clock("2031-03-31T22:00:00Z")
        self.job("tiers")
        self.assertEqual(self.progress(m)["tier"], "Silver")  # 2030 earned 150: requalified
        self.clock("2032-03-31T22:00:00Z")
        self.job("tiers")
        self.assertEqual(self.progress(m)["tier"], "Bronze")

    def test_calendar_year_boundary(self):
        self.tiers()
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t4")
        self.clock("2030-12-31T22:30:00Z")  # 23:30 on 31 December in Berlin
        self.buy("c1", "t4", "120.00")
        self.assertEqual(self.progress(m)["metric"]["value"], 120)
        self.clock("2030-12-31T23:00:00Z")  # a new calendar year in Berlin
        p = self.progress(m)
        self.assertEqual((p["metric"]["value"], p["metric"]["window"]["from"]), (0, "2031-01-01"))
        self.assertEqual(p["tier"], "Silver")  # kept until its review

    def test_rolling_window_boundary(self):
        self.tiers(window={"type": "rolling", "months": 12})
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t5")
        self.clock("2030-01-15T12:00:00Z")
        self.buy("w1", "t5", "100.00")
        self.clock("2031-01-14T12:00:00Z")
        self.assertEqual(self.progress(m)["metric"]["value"], 100)
        self.clock("2031-01-15T12:00:00Z")
        self.assertEqual(self.progress(m)["metric"]["value"], 0)

    def test_refund_keeps_tier_unless_the_program_says_so(self):
        self.tiers()
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        m = self.member("t6")
        self.buy("f1", "t6", "150.00")
        s, r = self.req("POST", "/v1/events", {"id": "f1-r", "type": "refund", "order_id": "o-f1"})
        self.assertEqual((s, r["tier"]), (201, "Silver"))
        self.assertEqual(self.progress(m)["metric"]["value"], 0)
        self.tiers(downgrade_on_refund=True)
        n = self.member("t7")
        self.buy("g1", "t7", "150.00")
        s, r = self.req("POST", "/v1/events", {"id": "g1-r", "type": "refund", "order_id": "o-g1",
                                               "amount": "100.00"})
        self.assertEqual((r["tier"], r["tier_change"]["reason"]), ("Bronze", "refund"))

    def test_tier_dependent_earning(self):
        self.tiers()
        self.rule(name="base", trigger="purchase",
                  effect={"type": "per_amount", "rate": "1", "rate_from_tier": True})
        self.member("t8")
        self.assertEqual(self.buy("e1", "t8", "100.00")["points"], 100)  # Bronze: the rule's rate
        self.assertEqual(self.buy("e2", "t8", "100.00")["points"], 150)  # Silver: 1.5
        self.assertEqual(self.buy("e3", "t8", "200.00")["points"], 300)  # still Silver
        self.assertEqual(self.buy("e4", "t8", "100.00")["points"], 200)  # Gold since e3: 2
        s, lots = self.req("GET", "/v1/members/%d/lots" % self.req("GET", "/v1/members/lookup?external_id=t8")[1]["id"])
        self.assertEqual(len(lots["data"]), 4)

    def test_invalid_tier_configurations(self):
        cases = [
            ({"metric": "karma", "window": {"type": "calendar_year"}, "tiers": [{"name": "A", "threshold": 0}]}, "metric"),
            ({"metric": "points", "window": {"type": "rolling"}, "tiers": [{"name": "A", "threshold": 0}]}, "window.months"),
            ({"metric": "points", "window": {"type": "calendar_year"},
              "tiers": [{"name": "A", "threshold": 100}, {"name": "B", "threshold": 100}]}, "tiers[1].threshold"),
            ({"metric": "points", "window": {"type": "calendar_year"},
              "tiers": [{"name": "A", "threshold": 500}, {"name": "B", "threshold": 100}]}, "tiers[1].threshold"),
            ({"metric": "points", "window": {"type": "calendar_year"},
              "tiers": [{"name": "A", "threshold": 0}, {"name": "A", "threshold": 10}]}, "tiers[1].name"),
            ({"metric": "spend", "window": {"type": "calendar_year"},
              "tiers": [{"name": "A", "threshold": "10.005"}]}, "tiers[0].threshold"),
            ({"metric": "points", "window": {"type": "calendar_year"}, "tiers": []}, "tiers"),
        ]
        for body, field in cases:
            self.assertError(self.req("PUT", "/v1/tiers", body), 422, "invalid_tiers", field)
        s, t = self.req("GET", "/v1/tiers")
        self.assertEqual(t["tiers"], [])

    def test_spend_metric_message(self):
        self.tiers(metric="spend", tiers=[{"name": "Member", "threshold": "0"},
                                          {"name": "Gold", "threshold": "1000.00"}])
        m = self.member("t9")
        self.buy("s1", "t9", "760.00")
        self.assertEqual(self.progress(m)["message"], "240.00 EUR more to Gold")


class Segments(TierTest):
    def segment(self, name, condition):
        s, seg = self.req("POST", "/v1/segments", {"name": name, "condition": condition})
        self.assertEqual(s, 201, seg)
        return seg

    def test_entry_and_exit_as_the_window_slides(self):
        seg = self.segment("big spenders", {">": [{"var": "member.stats.spend_365d"}, 1000]})
        m = self.member("s1")
        self.member("s2")
        self.clock("2030-06-01T12:00:00Z")
        self.buy("b1", "s1", "1200.00")
        self.buy("b2", "s2", "20.00")
        s, page = self.req("GET", "/v1/segments/%d/members" % seg["id"])
        self.assertEqual([x["external_id"] for x in page["data"]], ["s1"])
        s, c = self.req("GET", "/v1/segments/%d/count" % seg["id"])
        self.assertEqual(c["members"], 1)
        s, offers = self.req("GET", "/v1/members/%d/offers" % m["id"])
        self.assertEqual(offers["segments"], ["big spenders"])
        self.clock("2031-05-31T12:00:00Z")  # day 365 of the window
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 1)
        self.clock("2031-06-01T12:00:00Z")  # the order slid out
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 0)

    def test_segment_in_an_earning_rule(self):
        self.segment("vip_de", {"and": [{"==": [{"var": "member.attributes.country"}, "DE"]},
                                        {">=": [{"var": "member.stats.orders_total"}, 2]}]})
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.rule(name="vip double", trigger="purchase", condition={"in_segment": "vip_de"},
                  effect={"type": "multiplier", "factor": "2"})
        self.member("de", attributes={"country": "DE"})
        got = [self.buy("v%d" % i, "de", "10.00")["points"] for i in range(3)]
        self.assertEqual(got, [10, 10, 20])  # in the segment from its third order

    def test_orders_placed_counts_refunded_orders(self):
        """orders_total leaves a fully refunded order out; orders_placed, and the
        member.orders_before conditions see, keep it (segments and rules alike)."""
        seg = self.segment("placed two, kept one", {"and": [
            {"==": [{"var": "member.stats.orders_total"}, 1]},
            {"==": [{"var": "member.stats.orders_placed"}, 2]},
            {"==": [{"var": "member.orders_before"}, 2]}]})
        self.member("rf")
        self.buy("rf1", "rf", "10.00")
        self.buy("rf2", "rf", "10.00")
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 0)
        s, r = self.req("POST", "/v1/events", {"id": "rf1-back", "type": "refund", "order_id": "o-rf1"})
        self.assertEqual(s, 201, r)
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 1)

    def test_counters_survive_orders_without_lines(self):
        """Orders without lines on a known channel leave the JSON counters alone
        (stats.c); the totals still move and a new channel is still added."""
        seg = self.segment("s1 on two channels", {"and": [
            {"==": [{"var": "member.stats.sku_counts.S1"}, 2]},
            {"in": ["web", {"var": "member.stats.channels"}]},
            {"in": ["store", {"var": "member.stats.channels"}]},
            {"==": [{"var": "member.stats.orders_total"}, 3]}]})
        self.member("c1")
        lines = [{"sku": "S1", "category": "shoes", "quantity": 2, "unit_price": "5.00"}]
        for eid, channel, with_lines in (("k1", "web", True), ("k2", "store", False), ("k3", "web", False)):
            body = {"id": eid, "type": "purchase", "external_id": "c1", "channel": channel,
                    "order": {"id": "o-" + eid, "total": "10.00", "currency": "EUR"}}
            if with_lines:
                body["order"]["lines"] = lines
            s, e = self.req("POST", "/v1/events", body)
            self.assertEqual(s, 201, e)
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 1)

    def test_listing_pages_count_and_csv(self):
        seg = self.segment("germany", {"==": [{"var": "member.attributes.country"}, "DE"]})
        for i in range(7):
            self.member("de-%d" % i, attributes={"country": "DE"}, email="de%d@example.com" % i)
            self.member("fr-%d" % i, attributes={"country": "FR"})
        seen, cursor = [], None
        while True:
            s, page = self.req("GET", "/v1/segments/%d/members?limit=3%s" % (seg["id"], "&cursor=" + cursor if cursor else ""))
            self.assertEqual(s, 200, page)
            seen += [m["external_id"] for m in page["data"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(seen, ["de-%d" % i for i in range(7)])
        status, data, ctype = self.srv.raw("GET", "/v1/segments/%d/export" % seg["id"],
                                           headers={"Authorization": "Bearer " + self.key})
        self.assertTrue(ctype.startswith("text/csv"))
        rows = list(csv.reader(io.StringIO(data.decode())))
        self.assertEqual(rows[0], ["member_id", "external_id", "email", "tier", "balance"])
        self.assertEqual(len(rows), 8)
        self.assertEqual(rows[1][2], "de0@example.com")

    def test_counting_builds_what_the_condition_reads(self):
        """A count scans every member with only the parts of the context its condition
        reads: segments made of another segment (whose condition reads the attributes,
        or a 30-day window) and one reading the local time count like the simple one."""
        de = self.segment("de", {"==": [{"var": "member.attributes.country"}, "DE"]})
        of_de = self.segment("in de", {"in_segment": "de"})
        listed = self.segment("listed de", {"in": ["de", {"var": "member.segments"}]})
        timed = self.segment("de this century", {"and": [{">=": [{"var": "time.year"}, 2000]},
                                                         {"==": [{"var": "member.attributes.country"}, "DE"]}]})
        self.segment("spenders", {">": [{"var": "member.stats.spend_30d"}, 5]})
        of_spenders = self.segment("in spenders", {"in_segment": "spenders"})  # reads a window
        for i in range(3):
            self.member("cnt-de-%d" % i, attributes={"country": "DE"})
        self.member("cnt-fr", attributes={"country": "FR"})
        s, e = self.req("POST", "/v1/events", {"id": "cnt-1", "type": "purchase", "external_id": "cnt-fr",
                                               "order": {"id": "CNT-1", "total": "10.00", "currency": "EUR"}})
        self.assertEqual(s, 201, e)
        counts = [self.req("GET", "/v1/segments/%d/count" % s["id"])[1]["members"]
                  for s in (de, of_de, listed, timed, of_spenders)]
        self.assertEqual(counts, [3, 3, 3, 3, 1])

    def test_rfm_scores(self):
        seg = self.segment("most frequent", {"==": [{"var": "member.stats.rfm.f"}, 5]})
        best = self.segment("champions", {">=": [{"var": "member.stats.rfm.score"}, 550]})
        named = self.segment("rfm champions", {"==": [{"var": "member.stats.rfm.segment"}, "champions"]})
        for i in range(1, 6):
            self.member("rfm-%d" % i)
            for k in range(i):
                self.buy("rfm-%d-%d" % (i, k), "rfm-%d" % i, "%d.00" % (10 * i))
        self.assertEqual(self.req("GET", "/v1/segments/%d/count" % seg["id"])[1]["members"], 0)  # no cut points yet
        self.job("rfm")
        s, page = self.req("GET", "/v1/segments/%d/members" % seg["id"])
        self.assertEqual([m["external_id"] for m in page["data"]], ["rfm-5"])
        s, page = self.req("GET", "/v1/segments/%d/members" % best["id"])
        self.assertEqual([m["external_id"] for m in page["data"]], ["rfm-5"])
        # all bought today (R 5); rfm-4 and rfm-5 have the most orders (F 4 and 5): "champions"
        s, page = self.req("GET", "/v1/segments/%d/members" % named["id"])
        self.assertEqual([m["external_id"] for m in page["data"]], ["rfm-4", "rfm-5"])

    def test_invalid_segments(self):
        self.assertError(self.req("POST", "/v1/segments", {"name": "x"}), 422, "invalid_segment", "condition")
        self.assertError(self.req("POST", "/v1/segments", {"name": "x", "condition": {"and": [{"nope": 1}]}}),
                         422, "invalid_segment", "condition/and/0/nope")
        self.segment("dup", True)
        self.assertError(self.req("POST", "/v1/segments", {"name": "dup", "condition": True}), 409, "name_taken")
        self.assertError(self.req("GET", "/v1/segments/999/members"), 404, "segment_not_found")


class Offers(TierTest):
    def test_offers_ranked_by_purchase_history(self):
        for name, target, prio in (("shoe care", {"category": "shoes"}, 0), ("bag sale", {"category": "bags"}, 0),
                                   ("newsletter", None, 5), ("vip lounge", None, 9)):
            body = {"name": name, "priority": prio, "content": {"message": name}}
            if target:
                body["target"] = target
            if name == "vip lounge":
                body["condition"] = {"==": [{"var": "member.tier"}, "Gold"]}
            s, o = self.req("POST", "/v1/offers", body)
            self.assertEqual(s, 201, o)
        m = self.member("o1")
        self.buy("p1", "o1", "90.00", lines=[
            {"sku": "RUN", "category": "shoes", "quantity": 3, "unit_price": "20.00"},
            {"sku": "TOTE", "category": "bags", "quantity": 1, "unit_price": "30.00"}])
        s, offers = self.req("GET", "/v1/members/%d/offers" % m["id"])
        names = [o["name"] for o in offers["data"]]
        self.assertEqual(names, ["shoe care", "bag sale", "newsletter"])
        self.assertEqual(offers["data"][0]["reason"], "bought 3 items of category shoes")
        self.assertEqual(offers["data"][0]["rank"], 1)
        self.assertError(self.req("POST", "/v1/offers", {"name": "bad", "condition": {"?": 1}}), 422, "invalid_offer")


class Birthdays(TierTest):
    def test_birthday_bonus_once_per_year(self):
        self.rule(name="birthday", trigger="birthday", effect={"type": "fixed", "points": 100})
        self.clock("2030-05-17T10:00:00Z")
        m = self.member("bd", attributes={"birthday": "1990-05-17"})
        self.member("other", attributes={"birthday": "1990-05-18"})
        self.job("birthdays")
        self.job("birthdays")  # twice the same day: still once
        self.assertEqual(self.balance(m), 100)
        self.clock("2031-05-17T10:00:00Z")
        self.job("birthdays")
        self.assertEqual(self.balance(m), 200)
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % m["id"])
        self.assertEqual([e["event_id"] for e in ledger["data"]],
                         ["birthday:%d:2031" % m["id"], "birthday:%d:2030" % m["id"]])

    def test_anniversary(self):
        self.rule(name="anniversary", trigger="anniversary",
                  condition={">=": [{"var": "event.attributes.years"}, 1]},
                  effect={"type": "fixed", "points": 50})
        self.clock("2030-02-10T10:00:00Z")
        m = self.member("ann")
        self.job("birthdays")
        self.assertEqual(self.balance(m), 0)  # enrolled today
        self.clock("2031-02-10T10:00:00Z")
        self.job("birthdays")
        self.assertEqual(self.balance(m), 50)


if __name__ == "__main__":
    harness.main()
