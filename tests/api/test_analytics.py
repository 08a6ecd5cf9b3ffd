"""Predictive CLV over the API (issue 7, first part): models fitted on the
program's own customers; the statistics themselves are checked against the
published CDNOW estimates in tests/unit/test_clv.c."""
import random

import harness
from harness import ServerTest


class CLV(ServerTest):
    def test_report_and_member(self):
        srv = self.srv
        rng = random.Random(3)
        self.assertError(srv.req("GET", "/v1/reports/clv"), 409, "not_enough_data")
        # 60 customers over 2030: some buy often and recently, some once, some stop early
        n = 0
        for c in range(60):
            srv.member("clv-%d" % c)
            days = sorted(rng.sample(range(1, 360), 1 + (c % 6) * (c % 3)))
            if c % 4 == 0:
                days = [d for d in days if d < 90] or days[:1]
            for d in days:
                n += 1
                when = "2030-%02d-%02dT12:00:00Z" % (1 + (d - 1) // 30 if d <= 360 else 12, 1 + (d - 1) % 28)
                self.assertEqual(srv.purchase("clv-e%d" % n, "clv-%d" % c, "%d.00" % rng.randint(10, 90),
                                              occurred_at=when)[0], 201)
        s, rep = srv.req("GET", "/v1/reports/clv?as_of=2031-01-01&horizon_weeks=26")
        self.assertEqual(s, 200, rep)
        m = rep["model"]
        self.assertEqual(m["customers"], 60)
        self.assertTrue(all(m["bgnbd"][k] > 0 for k in ("r", "alpha", "a", "b")))
        top = rep["top"]
        self.assertEqual(len(top), 10)
        self.assertTrue(all(top[i]["clv"] >= top[i + 1]["clv"] for i in range(9)))
        self.assertGreater(rep["distribution"]["total"], 0)
        best = top[0]
        s, one = srv.req("GET", "/v1/members/%d/clv?as_of=2031-01-01&horizon_weeks=26" % best["member_id"])
        self.assertEqual(s, 200, one)
        self.assertAlmostEqual(one["clv"], best["clv"], places=6)
        self.assertTrue(0 <= one["p_alive"] <= 1)
        self.assertError(srv.req("GET", "/v1/reports/clv?horizon_weeks=1"), 422, "invalid_query")
        self.assertError(srv.req("GET", "/v1/reports/clv?discount="), 422, "invalid_query", "discount")
        self.assertError(srv.req("GET", "/v1/reports/clv?as_of=2031-02-30"), 422, "invalid_query")
        self.assertError(srv.req("GET", "/v1/members/999999/clv?as_of=2031-01-01"), 404, "member_not_found")


class KPIs(ServerTest):
    """A small March 2040 in Europe/Berlin, every figure computed by hand."""

    def guest(self, event_id, total, when):
        body = {"id": event_id, "type": "purchase", "occurred_at": when,
                "order": {"id": "G-" + event_id, "total": total, "currency": "EUR"}}
        self.assertEqual(self.srv.req("POST", "/v1/events", body)[0], 201)

    def setUp(self):
        srv = self.srv
        if getattr(type(self), "ready", False):
            return
        type(self).ready = True
        srv.set_clock("2040-02-15T10:00:00Z")
        a = srv.member("kpi-a")
        srv.set_clock("2040-03-05T10:00:00Z")
        srv.member("kpi-b")
        c = srv.member("kpi-c")
        # A: two March orders (a repeat customer), the second refunded in full,
        # and one at 00:30 on 1 April Berlin time (22:30 UTC on 31 March): outside
        for eid, total, when in (("k1", "100.00", "2040-03-03T12:00:00Z"), ("k2", "50.00", "2040-03-04T12:00:00Z"),
                                 ("k3", "10.00", "2040-03-31T22:30:00Z")):
            self.assertEqual(srv.purchase(eid, "kpi-a", total, occurred_at=when)[0], 201)
        self.assertEqual(srv.refund("k2-r", "order-k2")[0], 201)
        # B: one order at 00:30 on 1 March Berlin time (23:30 UTC on 29 February): inside
        self.assertEqual(srv.purchase("k4", "kpi-b", "30.00", occurred_at="2040-02-29T23:30:00Z")[0], 201)
        self.guest("g1", "20.00", "2040-03-10T12:00:00Z")
        self.guest("g2", "40.00", "2040-03-11T12:00:00Z")
        self.assertEqual(srv.refund("g2-r", "G-g2", "10.00")[0], 201)
        s, adj = srv.req("POST", "/v1/members/%d/adjustments" % c["id"], {"points": 25, "reason": "goodwill"})
        self.assertIn(s, (200, 201), adj)
        type(self).member_a = a

    def test_march(self):
        s, rep = self.srv.req("GET", "/v1/reports/kpis?from=2040-03-01&to=2040-03-31")
        self.assertEqual(s, 200, rep)
        self.assertEqual((rep["from"], rep["to"], rep["timezone"]), ("2040-03-01", "2040-03-31", "Europe/Berlin"))
        k = rep["kpis"]
        expect = {
            "members": 3, "new_members": 2,
            "active_members": 2, "active_engagement_rate": 0.6667,       # A and B of 3
            "repeat_customers": 1, "repeat_customer_rate": 0.5,         # A of A and B
            "purchase_frequency": 1.5,                                   # 3 orders / 2 buyers
            "member_orders": 3, "member_revenue": "130.00",              # 100 + 50 - 50 + 30
            "member_average_order_value": "43.33",                       # 130 / 3, half up
            "guest_orders": 2, "guest_revenue": "50.00",                 # 20 + 40 - 10
            "guest_average_order_value": "25.00",
            "member_order_share": 0.6,                                   # 3 of 5 orders
            "monetary_bonus": 0.7333,                                    # 43.333 / 25 - 1
            # booked in March (the clock): 100 + 50 + 10 + 30 earned, 50 reversed, 25 adjusted
            "points_issued": 190, "points_reversed": 50, "points_expired": 0, "points_adjusted": 25,
            "points_outstanding": 165, "points_pending": 0,
        }
        for name, want in expect.items():
            self.assertEqual(k[name], want, name)
        s, program = self.srv.req("GET", "/v1/program")
        value = float(program["point_value"])
        self.assertEqual(k["liability"], "%.2f" % (165 * value))

    def test_february_and_default_period(self):
        s, rep = self.srv.req("GET", "/v1/reports/kpis?from=2040-02-01&to=2040-02-29")
        k = rep["kpis"]
        self.assertEqual((k["members"], k["new_members"], k["active_members"]), (1, 1, 0))
        self.assertEqual((k["active_engagement_rate"], k["repeat_customer_rate"], k["member_average_order_value"]),
                         (0.0, None, None))
        self.assertEqual((k["points_issued"], k["points_outstanding"], k["liability"]), (0, 0, "0.00"))
        self.srv.set_clock("2040-03-20T10:00:00Z")
        s, rep = self.srv.req("GET", "/v1/reports/kpis")
        self.assertEqual((rep["from"], rep["to"]), ("2040-02-20", "2040-03-20"))

    def get_csv(self, path):
        import csv, io
        status, data, ctype = self.srv.raw("GET", path, headers={"Authorization": "Bearer " + self.srv.admin_key})
        self.assertEqual(status, 200, data)
        self.assertTrue(ctype.startswith("text/csv"))
        return list(csv.DictReader(io.StringIO(data.decode())))

    def test_csv(self):
        rows = self.get_csv("/v1/reports/kpis?from=2040-03-01&to=2040-03-31&format=csv")
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual((r["from"], r["to"], r["member_revenue"], r["active_members"], r["monetary_bonus"]),
                         ("2040-03-01", "2040-03-31", "130.00", "2", "0.7333"))
        self.assertEqual(r["guest_average_order_value"], "25.00")

    def test_series(self):
        srv = self.srv
        s, ser = srv.req("GET", "/v1/reports/kpis/series?from=2040-02-27&to=2040-03-14&interval=week")
        self.assertEqual(s, 200, ser)
        # ISO weeks, clipped to the period: Mon 27 Feb - Sun 4 Mar, 5-11 Mar, 12-14 Mar
        self.assertEqual([(p["from"], p["to"]) for p in ser["points"]],
                         [("2040-02-27", "2040-03-04"), ("2040-03-05", "2040-03-11"), ("2040-03-12", "2040-03-14")])
        w1, w2, w3 = (p["kpis"] for p in ser["points"])
        # week 1: B on 1 March (Berlin), A on 3 and 4 March (the second refunded)
        self.assertEqual((w1["member_orders"], w1["member_revenue"], w1["guest_orders"]), (3, "130.00", 0))
        self.assertEqual((w1["members"], w1["points_issued"]), (1, 0))      # B and C enrol on 5 March
        # week 2: members B and C enrol, every point is booked (clock 5 March), the guests buy
        self.assertEqual((w2["new_members"], w2["points_issued"], w2["points_outstanding"]), (2, 190, 165))
        self.assertEqual((w2["guest_orders"], w2["guest_revenue"], w2["member_orders"]), (2, "50.00", 0))
        self.assertEqual((w3["points_issued"], w3["points_outstanding"]), (0, 165))
        s, ser = srv.req("GET", "/v1/reports/kpis/series?from=2040-01-15&to=2040-04-02&interval=month")
        self.assertEqual([p["from"] for p in ser["points"]], ["2040-01-15", "2040-02-01", "2040-03-01", "2040-04-01"])
        self.assertEqual(ser["points"][3]["kpis"]["member_orders"], 1)     # A at 00:30 on 1 April
        s, ser = srv.req("GET", "/v1/reports/kpis/series?from=2040-03-01&to=2040-03-03")
        self.assertEqual((ser["interval"], len(ser["points"])), ("day", 3))
        rows = self.get_csv("/v1/reports/kpis/series?from=2040-03-01&to=2040-03-31&interval=week&format=csv")
        self.assertEqual([r["from"] for r in rows], ["2040-03-01", "2040-03-05", "2040-03-12", "2040-03-19", "2040-03-26"])
        self.assertEqual(sum(int(r["member_orders"]) for r in rows), 3)
        self.assertError(srv.req("GET", "/v1/reports/kpis/series?interval=hour"), 422, "invalid_query", "interval")
        self.assertError(srv.req("GET", "/v1/reports/kpis/series?from=2030-01-01&to=2040-01-01&interval=day"),
                         422, "invalid_query", "interval")

    def test_bad_queries_and_roles(self):
        srv = self.srv
        for q in ("from=2040-03-32", "to=yesterday", "from=2040-04-01&to=2040-03-01",
                  "from=2000-01-01&to=2040-01-01", "format=xml", "from=2040-3-1x"):
            self.assertError(srv.req("GET", "/v1/reports/kpis?" + q), 422, "invalid_query")
        self.assertEqual(srv.req("GET", "/v1/reports/kpis", key=srv.key("analyst"))[0], 200)
        member_key = srv.key("member", member_id=self.member_a["id"])
        self.assertError(srv.req("GET", "/v1/reports/kpis", key=member_key), 403)
        self.assertError(srv.req("GET", "/v1/reports/kpis", key=None), 401)


class ProgramPays(ServerTest):
    """March 2041, by hand: redemptions, NPS and satisfaction, member filters, campaign ROI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        srv = cls.srv
        srv.set_clock("2041-03-10T10:00:00Z")
        ok = lambda r, *codes: (r[0] in codes) or (_ for _ in ()).throw(AssertionError(r))
        ok(srv.req("PATCH", "/v1/program", {"point_value": "0.01"}), 200)
        ok(srv.req("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "calendar_year"},
                                        "tiers": [{"name": "Bronze", "threshold": 0},
                                                  {"name": "Gold", "threshold": 100}]}), 200)
        ok(srv.req("POST", "/v1/segments", {"name": "de", "condition": {
            "==": [{"var": "member.attributes.country"}, "DE"]}}), 201)
        s, camp = srv.req("POST", "/v1/campaigns", {"name": "Spring", "benefit": {
            "type": "fixed", "amount": "5.00"}})
        cls.campaign = camp
        ok(srv.req("POST", "/v1/campaigns/%d/codes" % camp["id"], {"code": "SPRING"}), 201)
        ok(srv.req("POST", "/v1/earning-rules", {"name": "base", "trigger": "purchase",
                                                 "effect": {"type": "per_amount", "rate": "1"}}), 201)
        ok(srv.req("POST", "/v1/earning-rules", {"name": "spring bonus", "trigger": "purchase",
                                                 "campaign_id": camp["id"],
                                                 "effect": {"type": "fixed", "points": 10}}), 201)
        s, rew = srv.req("POST", "/v1/rewards", {"name": "10 off", "points": 50,
                                                 "benefit": {"type": "fixed", "amount": "10.00"}})
        cls.reward = rew
        a = srv.member("pa", attributes={"country": "DE"})
        srv.member("pb", attributes={"country": "FR"})
        srv.member("pc", attributes={"country": "DE"})
        ok(srv.purchase("p1", "pa", "120.00"), 201)           # 120 + 10: Gold
        ok(srv.purchase("p2", "pb", "40.00"), 201)            # 40 + 10
        s, v = srv.req("POST", "/v1/members/%d/rewards/%d/redeem" % (a["id"], rew["id"]))
        ok((s, v), 201)
        ok(srv.req("POST", "/v1/carts/redeem", {"member_id": a["id"], "codes": ["SPRING", v["code"]],
                                                "order": {"id": "R-1", "lines": [
                                                    {"sku": "X", "quantity": 1, "unit_price": "60.00"}]}}),
           200)
        for eid, ext, attrs in (("s1", "pa", {"nps": 10, "satisfaction": 5}), ("s2", "pb", {"nps": 9}),
                                ("s3", "pc", {"nps": 3, "satisfaction": 2})):
            ok(srv.req("POST", "/v1/events", {"id": eid, "type": "survey_answered",
                                              "external_id": ext, "attributes": attrs}), 201)
        srv.req("POST", "/v1/_test/clock", {})

    def kpis(self, query=""):
        s, rep = self.srv.req("GET", "/v1/reports/kpis?from=2041-03-01&to=2041-03-31" + query)
        self.assertEqual(s, 200, rep)
        return rep

    def test_redemptions_and_surveys(self):
        k = self.kpis()["kpis"]
        got = {n: k[n] for n in ("points_issued", "points_redeemed", "redemption_rate",
                                 "code_redemptions", "discount_granted", "orders_with_codes",
                                 "attributed_revenue", "nps_responses", "nps_promoters",
                                 "nps_passives", "nps_detractors", "nps", "satisfaction_responses",
                                 "satisfaction_average", "csat")}
        self.assertEqual(got, {
            "points_issued": 180, "points_redeemed": 50, "redemption_rate": 0.2778,   # 50 / 180
            "code_redemptions": 2, "discount_granted": "15.00", "orders_with_codes": 1,
            "attributed_revenue": "60.00",                                          # R-1 once
            "nps_responses": 3, "nps_promoters": 2, "nps_passives": 0, "nps_detractors": 1,
            "nps": 33.3,                                                            # (2 - 1) / 3
            "satisfaction_responses": 2, "satisfaction_average": 3.5, "csat": 0.5})
        self.assertError(self.srv.req("POST", "/v1/events", {
            "id": "s9", "type": "survey_answered", "external_id": "pa",
            "attributes": {"nps": 11}}), 422, "invalid_field", "attributes.nps")

    def test_member_filters(self):
        rep = self.kpis("&tier=Gold")
        k = rep["kpis"]
        self.assertEqual(rep["filters"], {"tier": "Gold", "members": 1})
        self.assertEqual((k["members"], k["points_issued"], k["redemption_rate"], k["nps"]),
                         (1, 130, 0.3846, 100.0))
        rep = self.kpis("&segment=de")
        k = rep["kpis"]
        self.assertEqual((rep["filters"]["members"], k["members"], k["active_members"], k["nps"],
                          k["satisfaction_average"]), (2, 2, 1, 0.0, 3.5))
        self.assertEqual(k["guest_orders"], 0)   # guests are never filtered (none here)
        rep = self.kpis("&campaign=%d" % self.campaign["id"])
        self.assertEqual((rep["filters"]["members"], rep["kpis"]["member_revenue"]), (1, "120.00"))
        rep = self.kpis("&segment=de&tier=Bronze")
        self.assertEqual((rep["filters"]["members"], rep["kpis"]["members"]), (1, 1))   # pc
        self.assertError(self.srv.req("GET", "/v1/reports/kpis?segment=nope"), 404, "segment_not_found")
        self.assertError(self.srv.req("GET", "/v1/reports/kpis?campaign=999"), 404, "campaign_not_found")
        s, ser = self.srv.req("GET", "/v1/reports/kpis/series?from=2041-03-01&to=2041-03-31"
                                     "&interval=month&tier=Gold")
        self.assertEqual((s, ser["points"][0]["kpis"]["points_issued"]), (200, 130))

    def test_campaign_roi(self):
        s, rep = self.srv.req("GET", "/v1/reports/campaigns?from=2041-03-01&to=2041-03-31")
        self.assertEqual(s, 200, rep)
        c = rep["campaigns"][0]
        # 5.00 off + 20 points of its rule at 0.01 = 5.20; revenue 60.00: (60 - 5.2) / 5.2
        self.assertEqual((c["name"], c["redemptions"], c["customers"], c["discount"], c["points"],
                          c["points_value"], c["cost"], c["attributed_revenue"], c["roi"]),
                         ("Spring", 1, 1, "5.00", 20, "0.20", "5.20", "60.00", 10.5385))
        w = rep["rewards"][0]
        # the voucher gave 10.00 off an order of 60.00; its 50 points were the member's
        self.assertEqual((w["name"], w["vouchers_issued"], w["points"], w["redemptions"], w["cost"],
                          w["roi"]), ("10 off", 1, 50, 1, "10.00", 5.0))
        s, rep = self.srv.req("GET", "/v1/reports/campaigns?from=2041-04-01&to=2041-04-30")
        self.assertEqual((rep["campaigns"][0]["redemptions"], rep["campaigns"][0]["roi"]), (0, None))


if __name__ == "__main__":
    harness.main()
