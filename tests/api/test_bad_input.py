"""Hostile and malformed input: always a clear 4xx JSON error, never a crash,
and nothing changes."""
import http.client
import json
import random

import harness
from harness import ServerTest


class BadInput(ServerTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.m = cls.srv.member("bad-1")
        cls.srv.purchase("bad-base", "bad-1", "10.00", order_id="BAD-ORDER")

    def snapshot(self):
        """What must not change: the member, its ledger, the stored events."""
        srv = self.srv
        s, m = srv.req("GET", "/v1/members/%d" % self.m["id"])
        s, ledger = srv.req("GET", "/v1/members/%d/ledger?limit=500" % self.m["id"])
        s, members = srv.req("GET", "/v1/members?limit=500")
        return (m["balance"], m["pending"], m["updated_at"], len(ledger["data"]),
                len(members["data"]))

    def setUp(self):
        self.before = self.snapshot()

    def tearDown(self):
        self.assertEqual(self.snapshot(), self.before, "bad input changed something")
        self.assertEqual(self.srv.req("GET", "/healthz", key=None)[0], 200)

    def event(self, **over):
        body = {"id": "bad-evt", "type": "purchase", "external_id": "bad-1",
                "order": {"id": "BAD-NEW", "total": "10.00", "currency": "EUR"}}
        body.update(over)
        return body

    def order(self, **over):
        o = {"id": "BAD-NEW", "total": "10.00", "currency": "EUR"}
        o.update(over)
        return self.event(order=o)

    def post(self, body):
        return self.srv.req("POST", "/v1/events", body)

    def test_malformed_json(self):
        for raw in [b"{", b"{\"id\": }", b"[1,2]", b"\"text\"", b"null", b"\xff\xfe",
                    b"{\"id\":\"a\",\"id\":\"b\"}", b"{\"a\":1} trailing"]:
            self.assertError(self.post(raw), 400, "invalid_json")

    def test_missing_body_and_fields(self):
        self.assertError(self.srv.req("POST", "/v1/events"), 400, "body_required")
        self.assertError(self.post({}), 422, "invalid_field", "id")
        self.assertError(self.post({"id": "x"}), 422, "invalid_field", "type")
        self.assertError(self.post(self.event(type="review_written", external_id=None, order=None)), 422,
                         "invalid_field", "external_id")
        self.assertError(self.post(self.event(order=None)), 422, "invalid_field", "order")
        self.assertError(self.post(self.order(total=None)), 422, "invalid_field", "order.total")
        self.assertError(self.post(self.order(id=None)), 422, "invalid_field", "order.id")

    def test_wrong_types(self):
        self.assertError(self.post(self.event(id=12)), 422, "invalid_field", "id")
        self.assertError(self.post(self.event(external_id=["x"])), 422, "invalid_field", "external_id")
        self.assertError(self.post(self.event(member_id="1")), 422, "invalid_field", "member_id")
        self.assertError(self.post(self.event(order="A-1")), 422, "invalid_field", "order")
        self.assertError(self.post(self.order(total=True)), 422, "invalid_field", "order.total")
        self.assertError(self.post(self.order(lines={"sku": "x"})), 422, "invalid_field", "order.lines")
        self.assertError(self.post(self.order(lines=[{"sku": "x", "quantity": "2", "unit_price": "1.00"}])),
                         422, "invalid_field")
        self.assertError(self.post(self.event(type="Purchase!")), 422, "invalid_field", "type")
        self.assertError(self.post(self.event(occurred_at="yesterday")), 422, "invalid_field", "occurred_at")
        self.assertError(self.post(self.event(attributes=[1])), 422, "invalid_field", "attributes")
        self.assertError(self.post(self.event(id="has space")), 422, "invalid_field", "id")
        self.assertError(self.post(self.event(id="x" * 300)), 422, "invalid_field", "id")

    def test_bad_amounts(self):
        for total in ["-5.00", "5.001", "1e3", "", " 5", "NaN", "0x10", "99999999999999999999",
                      -5, 5.001, 1e300]:
            self.assertError(self.post(self.order(total=total)), 422, "invalid_field", "order.total")
        self.assertError(self.post(self.order(lines=[{"sku": "A", "quantity": 1,
                                                      "unit_price": "-1"}])),
                         422, "invalid_field", "order.lines[0].unit_price")
        self.assertError(self.post(self.order(lines=[{"sku": "A", "quantity": 0, "unit_price": "1"}])),
                         422, "invalid_field")
        self.assertError(self.post(self.order(lines=[{"sku": "A", "quantity": 1, "unit_price": "1"}] * 1001)),
                         422, "invalid_field", "order.lines")
        self.assertError(self.srv.refund("bad-r", "BAD-ORDER", "0"), 422, "invalid_field", "amount")
        self.assertError(self.srv.refund("bad-r", "BAD-ORDER", "10.01"), 422, "refund_exceeds_order")
        self.assertError(self.srv.refund("bad-r", "BAD-ORDER", "-1.00"), 422, "invalid_field")

    def test_unknown_member_and_currency(self):
        self.assertError(self.post(self.event(external_id="nobody")), 404, "member_not_found")
        self.assertError(self.post(self.event(member_id=999999)), 404, "member_not_found")
        self.assertError(self.post(self.order(currency="XYZ")), 422, "unknown_currency")
        self.assertError(self.post(self.order(currency="USD")), 422, "currency_mismatch")
        self.assertError(self.post(self.order(currency="eur")), 422, "unknown_currency")

    def test_oversized_bodies(self):
        big = b'{"id":"' + b"x" * (2 * 1024 * 1024) + b'"}'
        self.assertError(self.post(big), 413, "body_too_large")
        deep = b'{"id":"deep","type":"signup","external_id":"bad-1","attributes":' + \
            b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}"
        s, doc = self.post(deep)
        self.assertIn(s, (400, 413, 422), doc)
        attrs = {"k%d" % i: "v" * 100 for i in range(200)}
        self.assertError(self.srv.req("POST", "/v1/members", {"external_id": "bad-1",
                                                              "attributes": attrs}), 413)

    def test_member_routes(self):
        srv = self.srv
        self.assertError(srv.req("POST", "/v1/members", {"external_id": 5}), 422, "invalid_field",
                         "external_id")
        self.assertError(srv.req("POST", "/v1/members", {"external_id": "bad-1", "email": "nope"}), 422,
                         "invalid_field", "email")
        self.assertError(srv.req("POST", "/v1/members", {"external_id": "bad-1", "phone": "12"}), 422)
        self.assertError(srv.req("POST", "/v1/members", {"external_id": "bad-1", "state": "closed"}), 422)
        self.assertError(srv.req("POST", "/v1/members", {"external_id": "bad-1", "attributes": "x"}), 422)
        self.assertError(srv.req("GET", "/v1/members/abc"), 404)
        self.assertError(srv.req("GET", "/v1/members/-1"), 404)
        self.assertError(srv.req("GET", "/v1/members/99999999999999999999999"), 404)
        self.assertError(srv.req("GET", "/v1/members/0"), 404)
        self.assertError(srv.req("GET", "/v1/members?limit=0"), 422, "invalid_query")
        self.assertError(srv.req("GET", "/v1/members?limit=100000"), 422, "invalid_query")
        self.assertError(srv.req("GET", "/v1/members?cursor=abc"), 422, "invalid_query")
        self.assertError(srv.req("POST", "/v1/members/%d/adjustments" % self.m["id"],
                                 {"points": 0, "reason": "x"}), 422)
        self.assertError(srv.req("POST", "/v1/members/%d/adjustments" % self.m["id"],
                                 {"points": 2 ** 62, "reason": "x"}), 422)
        self.assertError(srv.req("POST", "/v1/members/%d/adjustments" % self.m["id"],
                                 {"points": 10}), 422, "invalid_field", "reason")
        self.assertError(srv.req("POST", "/v1/members/%d/consent" % self.m["id"], {"marketing": "maybe"}), 422)
        self.assertError(srv.req("PATCH", "/v1/program", {"currency": "ABC"}), 422, "invalid_field", "currency")
        self.assertError(srv.req("PATCH", "/v1/program", {"timezone": "../../etc/passwd"}), 422,
                         "invalid_field", "timezone")
        self.assertError(srv.req("PATCH", "/v1/program", {"expiry": {"mode": "days", "days": 0}}), 422)
        self.assertError(srv.req("PATCH", "/v1/program", {"earn_rounding": "sometimes"}), 422)
        self.assertError(srv.req("POST", "/v1/keys", {"role": "root"}), 422)
        self.assertError(srv.req("POST", "/v1/keys", {"role": "member"}), 422)
        self.assertError(srv.req("POST", "/v1/keys", {"role": "member", "member_id": 999999}), 404)

    def test_routes_and_methods(self):
        srv = self.srv
        self.assertError(srv.req("GET", "/v1/nothing"), 404, "not_found")
        self.assertError(srv.req("DELETE", "/v1/members"), 405, "method_not_allowed")
        self.assertError(srv.req("GET", "/v1/members/1/ledger/extra"), 404)
        status, data, ctype = srv.raw("GET", "/v1/members/" + "9" * 5000,
                                      headers={"Authorization": "Bearer " + srv.admin_key})
        self.assertIn(status, (404, 414, 431))

    def test_request_headers_up_to_15_kib(self):
        """A connection's memory is 16 KiB (docs/architecture.md, Limits): headers of 14,000 bytes are
        read, 20,000 get 431, and the kept-alive connection then answers a normal request."""
        srv = self.srv
        auth = {"Authorization": "Bearer " + srv.admin_key}
        status, data, _ = srv.raw("GET", "/v1/program", headers=dict(auth, **{"X-Pad": "a" * 14000}))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(data)["name"], srv.req("GET", "/v1/program")[1]["name"])
        status, _, _ = srv.raw("GET", "/v1/program", headers=dict(auth, **{"X-Pad": "a" * 20000}))
        self.assertEqual(status, 431)
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        for pad in (14000, 0, 14000):
            c.request("GET", "/v1/program", headers=dict(auth, **{"X-Pad": "a" * pad}))
            r = c.getresponse()
            self.assertEqual((r.status, "id" in json.loads(r.read())), (200, True))
        c.close()

    def test_engagement_and_page_routes_refuse_bad_bodies(self):
        """The write routes of referrals, badges, challenges, brands, company accounts,
        branding and landing pages: malformed, mistyped, oversized or nested-deep bodies
        get a 4xx JSON error and change nothing."""
        srv, mid = self.srv, self.m["id"]
        lists = ["/v1/badges", "/v1/challenges", "/v1/brands", "/v1/referral-policy",
                 "/v1/program/branding", "/v1/members/%d/referral" % mid]
        before = [srv.req("GET", path)[1] for path in lists]
        routes = [("POST", "/v1/badges"), ("PUT", "/v1/badges/1"), ("PATCH", "/v1/badges/1"),
                  ("POST", "/v1/challenges"), ("PUT", "/v1/challenges/1"),
                  ("PATCH", "/v1/challenges/1"), ("POST", "/v1/brands"), ("POST", "/v1/accounts"),
                  ("POST", "/v1/accounts/999999/users"),
                  ("POST", "/v1/accounts/999999/rewards/1/redeem"),
                  ("POST", "/v1/members/%d/referral" % mid), ("PUT", "/v1/referral-policy"),
                  ("PUT", "/v1/program/branding")]
        deep = b"[" * 5000 + b"]" * 5000
        bodies = [b"not json", b"[]", b"42", b'{"name": ', deep,
                  json.dumps({"name": 5, "points": "many", "condition": {"bogus": []},
                              "event_type": 7, "count": -1, "code": ["x"], "enabled": "yes",
                              "min_order": {}, "colors": 3, "language": "xx"}).encode(),
                  json.dumps({"name": "x" * 20000, "code": "y" * 20000}).encode()]
        for method, path in routes:
            for body in bodies:
                if method == "PUT" and body == bodies[-1]:
                    continue  # unknown members only: the default policy or branding (docs/engagement.md, web.md)
                s, doc = srv.req(method, path, body)
                self.assertTrue(400 <= s < 500, (method, path, body[:40], s, doc))
                self.assertIn("error", doc, (method, path, body[:40]))
        s, data, _ = srv.raw("POST", "/c/1/signup", b"\x00\xff" * 100,
                             {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertTrue(400 <= s < 500, s)
        self.assertEqual([srv.req("GET", path)[1] for path in lists], before)

    def test_random_mutations_never_crash(self):
        rng = random.Random(1234)
        # a custom event needs a member and this one does not exist, so no mutant can
        # be a valid event (a purchase without member would be a valid guest purchase)
        body = self.order(lines=[{"sku": "A-1", "category": "shoes", "quantity": 2,
                                  "unit_price": "5.00"}])
        body["external_id"] = "ghost-member"
        body["type"] = "review_written"
        base = json.dumps(body).encode()
        for i in range(400):
            b = bytearray(base)
            for _ in range(rng.randint(1, 8)):
                op = rng.random()
                pos = rng.randrange(len(b))
                if op < 0.4:
                    b[pos] = rng.randrange(256)
                elif op < 0.7:
                    del b[pos]
                else:
                    b.insert(pos, rng.choice(b'{}[]",:0-9.e\\'))
            s, doc = self.post(bytes(b))
            self.assertTrue(400 <= s < 500, (s, bytes(b), doc))
            self.assertIn("error", doc)


if __name__ == "__main__":
    harness.main()
