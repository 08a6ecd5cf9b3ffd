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
        self.assertError(srv.req("GET", "/v1/members/999999/clv?as_of=2031-01-01"), 404, "no_orders")


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


if __name__ == "__main__":
    harness.main()
