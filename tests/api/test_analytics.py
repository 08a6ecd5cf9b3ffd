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
        self.assertError(srv.req("GET", "/v1/reports/clv?as_of=2031-02-30"), 422, "invalid_query")
        self.assertError(srv.req("GET", "/v1/members/999999/clv?as_of=2031-01-01"), 404, "no_orders")


if __name__ == "__main__":
    harness.main()
