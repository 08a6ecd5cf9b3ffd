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
                           ("/v1/rewards", {"name": "iso", "points": 1, "benefit": {"type": "free_shipping"}})):
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
                  "/v1/codes/{}": "ISO-CODE", "/v1/orders/{}": "ISO-ORDER", "/v1/events/{}": "iso-e1",
                  "/v1/keys/{}": key["key_id"], "/v1/deliveries/{}": dl["data"][0]["delivery_id"]}
        second = {"rewards": ids["/v1/rewards"], "vouchers": v["code"]}
        text = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                                 "api", "routes.c")).read()
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
                     "/v1/reminders", "/v1/campaigns", "/v1/rewards", "/v1/keys", "/v1/audit"):
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
