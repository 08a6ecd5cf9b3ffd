"""Web pages (issue 8): the member page, the dashboard and a landing page in
headless Chromium (tests/e2e/pages.mjs, playwright-core) against a real
server with seeded data. Screenshots go to build-*/screenshots/."""
import json
import os
import subprocess
import unittest

import harness
from harness import Server

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "tests", "e2e", "pages.mjs")


@unittest.skipIf(harness.PG_PORT, "the pages are the same on PostgreSQL; tested once, on SQLite")
class Pages(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=["--web", os.path.join(ROOT, "web")])
        cls.shots = os.path.join(os.path.dirname(harness.BINARY), "screenshots")
        os.makedirs(cls.shots, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def browse(self, scenario, **args):
        base = "http://127.0.0.1:%d" % self.srv.port
        p = subprocess.run(["node", SCRIPT, scenario, base, json.dumps(args), self.shots],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["page_errors"], [], scenario)
        return out

    def ok(self, result, status=(200, 201)):
        s, doc = result
        self.assertIn(s, status if isinstance(status, tuple) else (status,), doc)
        return doc

    def test_member_page_redeems_and_shows_a_qr_code(self):
        srv = self.srv
        self.ok(srv.req("PUT", "/v1/program/branding", {"primary_color": "#7a1fa2", "point_name": "stars",
                                                        "program_title": "Club Demo", "language": "en"}))
        self.ok(srv.req("PUT", "/v1/referral-policy", {"referrer_points": 100,
                                                       "link_template": "https://shop.example/?ref={code}"}))
        self.ok(srv.req("POST", "/v1/badges", {"name": "Welcome badge", "condition": True}))
        self.ok(srv.req("POST", "/v1/challenges", {"name": "Two quizzes", "event_type": "quiz_done",
                                                   "count": 2}))
        m = srv.member("page-1")
        self.ok(srv.req("POST", "/v1/members/%d/adjustments" % m["id"], {"points": 300, "reason": "welcome"}))
        self.ok(srv.req("POST", "/v1/events", {"id": "page-q1", "type": "quiz_done", "external_id": "page-1"}))
        self.ok(srv.req("POST", "/v1/rewards", {"name": "Free shipping", "points": 100,
                                                "benefit": {"type": "free_shipping"}}))
        self.ok(srv.req("POST", "/v1/rewards", {"name": "Weekend trip", "points": 5000,
                                                "benefit": {"type": "experience"}}))
        link = self.ok(srv.req("POST", "/v1/members/%d/token" % m["id"], {}))
        out = self.browse("member", page_url=link["page_url"], reward="Free shipping",
                          too_dear="Weekend trip")
        self.assertEqual((out["before"], out["after"], out["title"]), ("300", "200", "Club Demo"))
        self.assertIn("4700 more points needed", out["unavailable"])
        self.assertRegex(out["code"], r"^[2-9A-Z]{4}(-[2-9A-Z]{4}){3}$")
        self.assertFalse(out["leaked"])  # the key left the address bar
        s, ref = srv.req("GET", "/v1/members/%d/referral" % m["id"])
        self.assertEqual(out["referral"], ref["code"])
        self.assertIn("Welcome badge", out["badges"])
        self.assertEqual(out["challenge"], "Two quizzes: 1 / 2")
        self.assertEqual(srv.balance(m["id"])[0], 200)
        s, vouchers = srv.req("GET", "/v1/members/%d/vouchers" % m["id"])
        self.assertEqual([v["code"] for v in vouchers["data"]], [out["code"]])

    def test_marketer_disables_a_campaign_and_earning_stops(self):
        srv = self.srv
        marketer = srv.key("marketer")
        camp = self.ok(srv.req("POST", "/v1/campaigns", {"name": "Black Friday", "benefit": {
            "type": "percent", "percent": 20}}))
        self.ok(srv.req("POST", "/v1/earning-rules", {"name": "black friday points", "trigger": "purchase",
                                                      "campaign_id": camp["id"],
                                                      "effect": {"type": "fixed", "points": 100}}))
        srv.member("bf-1")
        s, e = srv.purchase("bf-e1", "bf-1", "10.00")
        self.assertEqual(e["points"], 100)
        out = self.browse("kill", key=marketer, campaign="Black Friday")
        self.assertEqual(out["state"], "off")
        s, e = srv.purchase("bf-e2", "bf-1", "10.00")   # the next earn event through the API
        self.assertEqual((s, e["points"]), (201, 0))
        s, audit = srv.req("GET", "/v1/audit?limit=5")
        self.assertIn("campaign.disable", [a["action"] for a in audit["data"]])

    def test_marketer_sees_why_a_rule_condition_is_refused(self):
        srv = self.srv
        rule = self.ok(srv.req("POST", "/v1/earning-rules", {"name": "big baskets", "trigger": "purchase",
                                                             "effect": {"type": "fixed", "points": 5}}))
        out = self.browse("rule", key=srv.key("marketer"), rule="big baskets")
        self.assertIn("condition", out["error"])
        self.assertIn("no_such_op", out["error"])
        self.assertIn("big baskets: 5 (awarded)", out["simulated"])          # the draft, unsaved
        self.assertIn("big baskets: 0 (condition_false)", out["simulatedLow"])
        self.assertIn("version 2", out["saved"])
        s, r = srv.req("GET", "/v1/earning-rules/%d" % rule["id"])
        self.assertEqual(r["condition"], {">": [{"var": "order.total"}, 50]})

    def test_overview_charts_and_what_an_analyst_may_not_do(self):
        srv = self.srv
        self.ok(srv.req("POST", "/v1/campaigns", {"name": "Overview campaign", "benefit": {
            "type": "fixed", "amount": "1.00"}}))
        self.ok(srv.req("POST", "/v1/segments", {"name": "everyone", "condition": True}))
        out = self.browse("overview", key=srv.key("analyst"))
        self.assertNotIn("Audit", out["tabs"])
        self.assertEqual(out["buttons"], 0)   # no kill switch offered to an analyst
        self.assertRegex(out["members"], r"^\d+$")
        self.assertIn("everyone", out["segments"])

    def test_landing_page_signup_with_double_opt_in(self):
        srv = self.srv
        self.ok(srv.req("PUT", "/v1/program/branding", {"primary_color": "#0b6e4f"}))
        hook = self.ok(srv.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/crm",
                                                        "events": ["consent.requested"]}))
        camp = self.ok(srv.req("POST", "/v1/campaigns", {"name": "Spring club", "description": "Join and save",
                                                         "benefit": {"type": "percent", "percent": 10}}))
        out = self.browse("landing", campaign_id=camp["id"], email="New.Fan@example.com")
        self.assertEqual((out["heading"], out["primary"]), ("Spring club", "#0b6e4f"))
        self.assertIn("Check your inbox", out["notice"])
        s, m = srv.req("GET", "/v1/members/lookup?email=new.fan@example.com")
        self.assertEqual((s, m["consent"]["marketing"]), (200, "pending"))
        s, dl = srv.req("GET", "/v1/webhooks/%d/deliveries" % hook["id"])
        url = dl["data"][0]["payload"]["data"]["confirmation_url"]
        out = self.browse("confirm", url=url)
        self.assertIn("confirmed", out["notice"])
        s, m = srv.req("GET", "/v1/members/%d" % m["id"])
        self.assertEqual(m["consent"]["marketing"], "opted_in")
        out = self.browse("confirm", url=url)   # a link works once
        self.assertIn("no longer valid", out["notice"])
        status, body, ctype = srv.raw("GET", "/c/999999")
        self.assertEqual((status, ctype.split(";")[0]), (404, "text/html"))
        for form in (b"email=a%4", b"email=%", b"consent=yes&email=%zz@x", b"\x00\xff&&==", b"",
                     b"email=" + b"a" * 5000 + b"@example.com&consent=yes"):
            status, body, ctype = srv.raw("POST", "/c/%d/signup" % camp["id"], form,
                                          {"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(status, 422, (form[:40], body[:200]))
            self.assertIn(b"valid email", body)

    def test_static_files_are_served_safely(self):
        srv = self.srv
        status, body, ctype = srv.raw("GET", "/member.html")
        self.assertEqual((status, ctype.split(";")[0]), (200, "text/html"))
        status, body, ctype = srv.raw("GET", "/vendor/chart.umd.js")
        self.assertEqual(status, 200)
        for bad in ("/../README.md", "/.git/config", "/%2e%2e/README.md", "/web//admin.html",
                    "/package.json/../README.md", "/README.md"):
            status, body, ctype = srv.raw("GET", bad)
            self.assertIn(status, (400, 404), bad)


if __name__ == "__main__":
    harness.main()
