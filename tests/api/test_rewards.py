"""Rewards, vouchers, codes, stacking, campaigns, budgets and the kill switch (issue 5)."""
import http.client
import json
import re
import threading

import harness
from test_rules import RuleTest

LINES = [{"sku": "SHOE", "category": "shoes", "quantity": 2, "unit_price": "40.00"},
         {"sku": "SOCK", "category": "socks", "quantity": 1, "unit_price": "20.00"}]
VOUCHER = re.compile(r"^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){3}$")


class PromoTest(RuleTest):
    def tearDown(self):
        self.srv.req("POST", "/v1/_test/clock", {})

    def give(self, m, points, reason="welcome"):
        s, doc = self.req("POST", "/v1/members/%d/adjustments" % m["id"],
                          {"points": points, "reason": reason})
        self.assertEqual(s, 201, doc)

    def reward(self, **d):
        s, r = self.req("POST", "/v1/rewards", d)
        self.assertEqual(s, 201, r)
        return r

    def campaign(self, code=None, **d):
        s, c = self.req("POST", "/v1/campaigns", d)
        self.assertEqual(s, 201, c)
        if code:
            s, doc = self.req("POST", "/v1/campaigns/%d/codes" % c["id"], {"code": code})
            self.assertEqual(s, 201, doc)
        return c

    def cart(self, codes, member=None, order_id=None, lines=LINES, shipping="5.00", redeem=False):
        order = {"lines": lines, "currency": "EUR"}
        if shipping:
            order["shipping"] = shipping
        if order_id:
            order["id"] = order_id
        body = {"order": order, "codes": codes}
        if member:
            body["member_id"] = member["id"]
        return self.req("POST", "/v1/carts/redeem" if redeem else "/v1/carts/evaluate", body)

    def ok_cart(self, *a, **k):
        s, doc = self.cart(*a, **k)
        self.assertEqual(s, 200, doc)
        return doc

    def refused(self, *a, **k):
        """A redemption that must fail because of a code: 422, nothing recorded."""
        s, doc = self.cart(*a, redeem=True, **k)
        self.assertEqual((s, doc["error"]["code"]), (422, "codes_rejected"), doc)
        return doc

    def refusal(self, doc, code):
        return [r["reason"] for r in doc["rejected"] if r["code"] == code][0]

    def redeem_reward(self, m, r, **body):
        return self.req("POST", "/v1/members/%d/rewards/%d/redeem" % (m["id"], r["id"]), body or None)


class Readme(PromoTest):
    def test_readme_rewards_walkthrough(self):
        """The README's rewards and promotions part, with cust-42's 72 points."""
        m = self.member("cust-42")
        self.give(m, 72)
        r = self.reward(name="5 off", points=50, benefit={"type": "fixed", "amount": "5.00"})
        s, doc = self.req("GET", "/v1/members/%d/rewards" % m["id"])
        self.assertEqual([x["cost"] for x in doc["available"]], [50])
        s, v = self.redeem_reward(m, r)
        self.assertEqual((s, v["member_balance"]), (201, 22))
        s, svg = self.req("GET", v["qr_url"])
        self.assertTrue(svg.startswith("<svg"))
        c = self.campaign("XMAS10", name="Xmas 10 %", limits={"uses": 500},
                          benefit={"type": "percent", "percent": 10})
        doc = self.ok_cart(["XMAS10", v["code"]], member=m, order_id="A-1003", shipping=None,
                           lines=[{"sku": "SHOE-1", "quantity": 1, "unit_price": "80.00"}],
                           redeem=True)
        self.assertEqual([(a["code"], a["discount"]) for a in doc["applied"]],
                         [("XMAS10", "8.00"), (v["code"], "5.00")])
        self.assertEqual(doc["total"], "67.00")
        s, rb = self.req("POST", "/v1/orders/A-1003/rollback")
        self.assertEqual([(x["code"], x["discount"], x["points_returned"]) for x in rb["rolled_back"]],
                         [("XMAS10", "8.00", 0), (v["code"], "5.00", 50)])
        self.assertEqual(self.balance(m), 72)
        s, camp = self.req("GET", "/v1/campaigns/%d" % c["id"])
        self.assertEqual(camp["usage"]["uses"]["used"], 0)


class Rewards(PromoTest):
    def test_catalog_availability_and_reasons(self):
        self.req("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "calendar_year"},
                                      "tiers": [{"name": "Bronze", "threshold": 0},
                                                {"name": "Gold", "threshold": 1000}]})
        m = self.member("r1")
        self.give(m, 300)
        cheap = self.reward(name="Free shipping", points=100, benefit={"type": "free_shipping"})
        dear = self.reward(name="20 % off", points=500, benefit={"type": "percent", "percent": 20})
        gold = self.reward(name="Lounge", points=50, benefit={"type": "experience"},
                           validation={"tiers": ["Gold"]})
        sold = self.reward(name="Mug", points=10, stock=1,
                           benefit={"type": "physical", "sku": "MUG"})
        tiered = self.reward(name="Sample", points=400, tier_points={"Bronze": 250},
                             benefit={"type": "free_product", "sku": "SAMPLE"})
        other = self.member("r2")
        self.give(other, 100)
        s, v = self.redeem_reward(other, sold)
        self.assertEqual(s, 201, v)
        s, doc = self.req("GET", "/v1/members/%d/rewards" % m["id"])
        self.assertEqual(s, 200, doc)
        self.assertEqual(doc["balance"], 300)
        avail = {r["name"]: r["cost"] for r in doc["available"]}
        self.assertEqual(avail, {"Free shipping": 100, "Sample": 250})
        why = {r["name"]: r["reason"]["code"] for r in doc["unavailable"]}
        self.assertEqual(why, {"20 % off": "not_enough_points", "Lounge": "tier_not_eligible",
                               "Mug": "out_of_stock"})
        self.assertEqual([r["reason"]["message"] for r in doc["unavailable"]
                          if r["name"] == "20 % off"], ["200 more points needed"])
        # the tier price applies when redeeming too
        s, v = self.redeem_reward(m, tiered)
        self.assertEqual((s, v["points"], v["member_balance"]), (201, 250, 50), v)
        s, doc = self.redeem_reward(m, dear)
        self.assertEqual((s, doc["error"]["code"]), (422, "not_enough_points"))
        s, doc = self.redeem_reward(m, gold)
        self.assertEqual((s, doc["error"]["code"]), (422, "tier_not_eligible"))
        self.assertEqual(self.balance(m), 50)

    def test_redeem_issues_voucher_with_qr_and_barcode(self):
        m = self.member("v1")
        self.give(m, 1000)
        r = self.reward(name="10 off", points=400, voucher_days=14, limit_per_member=2,
                        benefit={"type": "fixed", "amount": "10.00"})
        s, v = self.redeem_reward(m, r, request_id="req-1")
        self.assertEqual(s, 201, v)
        self.assertRegex(v["code"], VOUCHER)
        self.assertEqual((v["points"], v["member_balance"], v["max_uses"], v["uses"]), (400, 600, 1, 0))
        # the same request again: the same voucher, nothing spent twice
        s, again = self.redeem_reward(m, r, request_id="req-1")
        self.assertEqual((s, again["code"], again.get("replayed")), (200, v["code"], True))
        self.assertEqual(self.balance(m), 600)
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % m["id"])
        redeem = [e for e in ledger["data"] if e["kind"] == "redeem"]
        self.assertEqual([e["points"] for e in redeem], [-400])
        s, svg = self.req("GET", v["qr_url"])
        self.assertEqual(s, 200)
        self.assertTrue(svg.startswith("<svg") and svg.endswith("</svg>"), svg[:80])
        status, png, ctype = self.srv.raw("GET", v["barcode_url"] + "?format=png", b"",
                                          {"Authorization": "Bearer " + self.key})
        self.assertEqual((status, ctype, png[:8]), (200, "image/png", b"\x89PNG\r\n\x1a\n"))
        status, bar, ctype = self.srv.raw("GET", v["barcode_url"], b"",
                                          {"Authorization": "Bearer " + self.key})
        self.assertEqual((status, ctype), (200, "image/svg+xml"))
        # a member token sees its own vouchers, not another member's
        s, tok = self.req("POST", "/v1/members/%d/token" % m["id"], {})
        self.assertEqual(s, 201, tok)
        s, mine = self.srv.req("GET", "/v1/members/%d/vouchers" % m["id"], key=tok["key"])
        self.assertEqual([c["code"] for c in mine["data"]], [v["code"]])
        other = self.member("v2")
        s, doc = self.srv.req("GET", "/v1/members/%d/vouchers" % other["id"], key=tok["key"])
        self.assertEqual(s, 403)
        s, doc = self.req("GET", "/v1/members/%d/vouchers/%s/qr" % (other["id"], v["code"]))
        self.assertEqual((s, doc["error"]["code"]), (404, "code_not_found"))
        # the limit per member
        self.assertEqual(self.redeem_reward(m, r)[0], 201)
        s, doc = self.redeem_reward(m, r)
        self.assertEqual((s, doc["error"]["code"]), (422, "limit_reached"))

    def test_cancel_returns_points_to_their_lots(self):
        self.req("PATCH", "/v1/program", {"expiry": {"mode": "days", "days": 30}})
        self.srv.set_clock("2041-01-01T00:00:00Z")
        m = self.member("c1")
        self.give(m, 100, "first")
        self.srv.set_clock("2041-01-10T00:00:00Z")
        self.give(m, 100, "second")
        r = self.reward(name="150 pts", points=150, benefit={"type": "fixed", "amount": "5.00"})
        s, v = self.redeem_reward(m, r)
        self.assertEqual(s, 201, v)
        s, lots = self.req("GET", "/v1/members/%d/lots" % m["id"])
        self.assertEqual(sorted(l["remaining"] for l in lots["data"]), [50])  # the first is spent
        s, c = self.req("POST", "/v1/members/%d/vouchers/%s/cancel" % (m["id"], v["code"]))
        self.assertEqual((s, c["status"], c["member_balance"]), (200, "cancelled", 200), c)
        s, lots = self.req("GET", "/v1/members/%d/lots" % m["id"])
        self.assertEqual(sorted((l["remaining"], l["expires_at"]) for l in lots["data"]),
                         [(100, "2041-01-31T00:00:00Z"), (100, "2041-02-09T00:00:00Z")])
        s, doc = self.req("POST", "/v1/members/%d/vouchers/%s/cancel" % (m["id"], v["code"]))
        self.assertEqual((s, doc["error"]["code"]), (409, "voucher_not_cancellable"))
        s, doc = self.cart([v["code"]], member=m)
        self.assertEqual(self.refusal(doc, v["code"])["code"], "code_cancelled")
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)


class Benefits(PromoTest):
    def test_each_benefit_on_a_cart_and_its_webhook(self):
        s, hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/erp",
                                                    "events": ["reward.redeemed", "voucher.redeemed",
                                                               "reward.fulfilment_requested"]})
        self.assertEqual(s, 201, hook)
        m = self.member("bf")
        self.give(m, 1000)
        kinds = {
            "sample": {"type": "free_product", "sku": "SOCK"},
            "lounge": {"type": "experience"},
            "mug": {"type": "physical", "sku": "MUG-1"},
            "back5": {"type": "cashback", "percent": 5},
        }
        codes = {}
        for name, benefit in kinds.items():
            r = self.reward(name=name, points=10, benefit=benefit)
            s, v = self.redeem_reward(m, r)
            self.assertEqual(s, 201, v)
            codes[name] = v["code"]
        doc = self.ok_cart([codes["sample"], codes["lounge"], codes["mug"], codes["back5"]],
                           member=m, order_id="bf-1", redeem=True)
        got = {a["benefit"]: (a["discount"], a["cashback"]) for a in doc["applied"]}
        # the sock is free (20.00); cashback is 5 % of what is left to pay: 80.00 + 5.00
        self.assertEqual(got, {"free_product": ("20.00", "0.00"), "experience": ("0.00", "0.00"),
                               "physical": ("0.00", "0.00"), "cashback": ("0.00", "4.25")})
        self.assertEqual((doc["total"], doc["cashback"]), ("85.00", "4.25"))
        s, dl = self.req("GET", "/v1/webhooks/%d/deliveries?limit=500" % hook["id"])
        payloads = [d["payload"] for d in dl["data"]]
        mugs = [p["data"] for p in payloads if p["type"] == "reward.redeemed"
                and p["data"]["name"] == "mug"]
        self.assertEqual([(x["benefit"], x["sku"], x["points"]) for x in mugs],
                         [("physical", "MUG-1", 10)])
        ship = [p["data"]["sku"] for p in payloads if p["type"] == "reward.fulfilment_requested"]
        self.assertEqual(ship, ["MUG-1"])
        redeemed = [p["data"] for p in payloads if p["type"] == "voucher.redeemed"]
        self.assertEqual(sorted(x["cashback"] for x in redeemed), ["0.00", "0.00", "0.00", "4.25"])
        self.assertEqual({x["order_id"] for x in redeemed}, {"bf-1"})


class Lifecycle(PromoTest):
    def test_validate_redeem_replay_rollback(self):
        m = self.member("l1")
        self.give(m, 500)
        r = self.reward(name="20 %", points=300, benefit={"type": "percent", "percent": 20})
        s, v = self.redeem_reward(m, r)
        code = v["code"]
        s, val = self.req("POST", "/v1/codes/%s/validate" % code.lower(), {"member_id": m["id"]})
        self.assertEqual((s, val["valid"]), (200, True), val)
        self.assertError(self.req("POST", "/v1/codes/%s/validate" % code, {}), 422,
                         "code_of_another_member", "code")
        self.assertError(self.req("POST", "/v1/codes/NO-SUCH-CODE/validate", {}), 404,
                         "code_not_found")
        ev = self.ok_cart([code], member=m)
        self.assertEqual((ev["discount"], ev["total"]), ("20.00", "85.00"))
        self.assertEqual(self.req("GET", "/v1/codes/" + code)[1]["uses"], 0)  # no side effect
        red = self.ok_cart([code], member=m, order_id="ord-1", redeem=True)
        self.assertEqual((red["applied"][0]["discount"], red["total"]), ("20.00", "85.00"))
        again = self.ok_cart([code], member=m, order_id="ord-1", redeem=True)
        self.assertEqual((again["applied"][0]["discount"], again["applied"][0].get("replayed")),
                         ("20.00", True))
        self.assertEqual(self.req("GET", "/v1/codes/" + code)[1]["uses"], 1)
        other = self.refused([code], member=m, order_id="ord-2")
        self.assertEqual(self.refusal(other, code)["code"], "code_used_up")
        self.assertEqual(self.balance(m), 200)
        s, rb = self.req("POST", "/v1/orders/ord-1/rollback", {})
        self.assertEqual(s, 200, rb)
        self.assertEqual([(x["code"], x["points_returned"]) for x in rb["rolled_back"]], [(code, 300)])
        self.assertEqual(self.balance(m), 500)
        s, rb = self.req("POST", "/v1/orders/ord-1/rollback", {})
        self.assertEqual((s, rb["rolled_back"]), (200, []))
        self.assertError(self.req("POST", "/v1/orders/nope/rollback", {}), 404, "no_redemptions")
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_rollback_after_the_lot_expired(self):
        self.req("PATCH", "/v1/program", {"expiry": {"mode": "days", "days": 30}})
        self.srv.set_clock("2042-03-01T00:00:00Z")
        m = self.member("x1")
        self.give(m, 100)
        r = self.reward(name="fixed", points=80, benefit={"type": "fixed", "amount": "8.00"})
        s, v = self.redeem_reward(m, r)
        self.ok_cart([v["code"]], member=m, order_id="late-1", redeem=True)
        self.srv.set_clock("2042-04-15T00:00:00Z")   # the lot expired on 31 March
        s, doc = self.req("POST", "/v1/jobs/expire", {})
        self.assertEqual(self.balance(m), 0)
        s, rb = self.req("POST", "/v1/orders/late-1/rollback", {})
        self.assertEqual(s, 200, rb)
        self.assertEqual(self.balance(m), 0)
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % m["id"])
        kinds = [(e["kind"], e["points"]) for e in ledger["data"]][:2]
        self.assertEqual(kinds, [("expire", -80), ("restore", 80)])
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_gift_card_balance_over_orders(self):
        c = self.campaign(name="Gift cards", category="gift_card",
                          benefit={"type": "gift_card", "amount": "150.00"})
        s, doc = self.req("POST", "/v1/campaigns/%d/codes" % c["id"], {"code": "GIFT-150"})
        a = self.ok_cart(["GIFT-150"], order_id="g1", redeem=True)
        self.assertEqual((a["gift_card"], a["total"]), ("105.00", "0.00"))
        self.assertEqual(self.req("GET", "/v1/codes/GIFT-150")[1]["balance"], "45.00")
        b = self.ok_cart(["GIFT-150"], order_id="g2", redeem=True)
        self.assertEqual((b["gift_card"], b["total"]), ("45.00", "60.00"))
        c2 = self.ok_cart(["GIFT-150"], order_id="g3")
        self.assertEqual(self.refusal(c2, "GIFT-150")["code"], "gift_card_empty")
        self.req("POST", "/v1/orders/g1/rollback", {})
        self.assertEqual(self.req("GET", "/v1/codes/GIFT-150")[1]["balance"], "105.00")


class Validation(PromoTest):
    def check(self, code, expect, member=None, lines=LINES):
        doc = self.ok_cart([code], member=member, lines=lines)
        if expect is None:
            self.assertEqual([a["code"] for a in doc["applied"]], [code], doc)
        else:
            self.assertEqual(self.refusal(doc, code)["code"], expect, doc)
        return doc

    def test_every_rule_kind_names_its_refusal(self):
        self.req("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "calendar_year"},
                                      "tiers": [{"name": "Bronze", "threshold": 0},
                                                {"name": "Gold", "threshold": 1000}]})
        s, seg = self.req("POST", "/v1/segments", {"name": "de", "condition": {
            "==": [{"var": "member.attributes.country"}, "DE"]}})
        self.assertEqual(s, 201, seg)
        fr = self.member("fr", attributes={"country": "FR", "birthday": "1990-02-11"})
        de = self.member("de", attributes={"country": "DE", "birthday": "1990-06-11"})
        self.srv.set_clock("2043-06-10T10:00:00Z")    # a Wednesday
        off = {"type": "fixed", "amount": "5.00"}
        cases = [
            ("MIN", {"min_amount": "150.00"}, "min_amount_not_met"),
            ("QTY", {"min_quantity": 4}, "min_quantity_not_met"),
            ("HAT", {"skus": ["HAT"]}, "required_product_missing"),
            ("GOLD", {"tiers": ["Gold"]}, "tier_not_eligible"),
            ("SEG", {"segments": ["de"]}, "segment_not_eligible"),
            ("BDAY", {"birthday_month": True}, "not_birthday_month"),
            ("RULE", {"rules": [{"name": "no_socks", "message": "not with socks",
                                 "condition": {"!": {"in": ["SOCK", {"var": "cart.skus"}]}}}]},
             "rule_failed"),
        ]
        for code, validation, refusal in cases:
            self.campaign(code, name=code, benefit=off, validation=validation)
            self.check(code, refusal, member=fr)
        self.assertEqual(self.refusal(self.ok_cart(["RULE"], member=fr), "RULE"),
                         {"code": "rule_failed", "rule": "no_socks", "message": "not with socks"})
        self.check("SEG", None, member=de)
        self.check("BDAY", None, member=de)
        self.check("GOLD", "member_required")
        self.check("HAT", None, lines=LINES + [{"sku": "HAT", "quantity": 1, "unit_price": "9.00"}])
        self.campaign("FIRST", name="first", benefit=off, validation={"first_order": True})
        self.check("FIRST", None, member=fr)
        self.buy("f1", "fr", "10.00")
        self.check("FIRST", "first_order_only", member=fr)
        self.campaign("LATER", name="later", benefit=off, schedule={"from": "2043-07-01T00:00:00Z"})
        self.check("LATER", "not_started")
        self.campaign("OVER", name="over", benefit=off, schedule={"to": "2043-06-01T00:00:00Z"})
        self.check("OVER", "ended")
        self.campaign("WKND", name="weekend", benefit=off, schedule={"days": ["sat", "sun"]})
        self.check("WKND", "wrong_day")
        self.campaign("NIGHT", name="night", benefit=off,
                      schedule={"hours": {"from": "22:00", "to": "06:00"}})
        self.check("NIGHT", "outside_hours")
        c = self.campaign(name="expiring", benefit=off)
        self.req("POST", "/v1/campaigns/%d/codes" % c["id"],
                 {"code": "EXP", "expires_at": "2043-06-09T00:00:00Z"})
        self.check("EXP", "code_expired")
        self.check("NOPE", "code_not_found")

    def test_limits_per_member_and_uses(self):
        a, b = self.member("a"), self.member("b")
        self.campaign("ONCE", name="once each", benefit={"type": "percent", "percent": 10},
                      limits={"uses_per_member": 1, "uses": 2})
        self.ok_cart(["ONCE"], member=a, order_id="p1", redeem=True)
        doc = self.refused(["ONCE"], member=a, order_id="p2")
        self.assertEqual(self.refusal(doc, "ONCE")["code"], "member_limit_reached")
        self.ok_cart(["ONCE"], member=b, order_id="p3", redeem=True)
        doc = self.refused(["ONCE"], member=self.member("c"), order_id="p4")
        self.assertEqual(self.refusal(doc, "ONCE")["code"], "campaign_exhausted")

    def test_budget_exhausted_mid_batch(self):
        c = self.campaign("TEN", name="ten off", benefit={"type": "fixed", "amount": "10.00"},
                          limits={"discount": "30.00"})
        results = [self.cart(["TEN"], order_id="b%d" % i, redeem=True) for i in range(5)]
        self.assertEqual([s for s, doc in results], [200, 200, 200, 422, 422])
        self.assertEqual(self.refusal(results[3][1], "TEN")["code"], "budget_exhausted")
        s, camp = self.req("GET", "/v1/campaigns/%d" % c["id"])
        self.assertEqual(camp["usage"]["discount"], {"limit": "30.00", "used": "30.00", "left": "0.00"})
        self.assertEqual(camp["usage"]["uses"]["used"], 3)
        self.req("POST", "/v1/orders/b1/rollback", {})
        s, camp = self.req("GET", "/v1/campaigns/%d" % c["id"])
        self.assertEqual(camp["usage"]["discount"]["used"], "20.00")
        self.assertEqual(len(self.ok_cart(["TEN"], order_id="b9", redeem=True)["applied"]), 1)


class Stacking(PromoTest):
    def test_exclusive_categories_best_for_customer(self):
        m = self.member("s1")
        self.give(m, 1000)
        self.campaign("PROMO15", name="promo", benefit={"type": "percent", "percent": 15})
        r = self.reward(name="loyal 20", points=100, benefit={"type": "percent", "percent": 20})
        s, v = self.redeem_reward(m, r)
        s, pol = self.req("PUT", "/v1/stacking-policy",
                          {"exclusive_groups": [["promotion", "loyalty"]], "max_codes": 3})
        self.assertEqual((s, pol["exclusive_groups"]), (200, [["promotion", "loyalty"]]), pol)
        doc = self.ok_cart(["PROMO15", v["code"]], member=m)
        self.assertEqual([a["code"] for a in doc["applied"]], [v["code"]])
        self.assertEqual(self.refusal(doc, "PROMO15")["code"], "not_combinable")
        self.assertEqual(doc["discount"], "20.00")
        self.req("PUT", "/v1/stacking-policy", {"exclusive_groups": [["promotion", "loyalty"]],
                                                "on_conflict": "first_submitted"})
        doc = self.ok_cart(["PROMO15", v["code"]], member=m)
        self.assertEqual([a["code"] for a in doc["applied"]], ["PROMO15"])

    def test_joint_order_max_codes_and_floor(self):
        self.campaign("SHOES50", name="shoes half", benefit={
            "type": "percent", "percent": 50, "applies_to": {"categories": ["shoes"]}})
        self.campaign("TENPC", name="ten percent", benefit={"type": "percent", "percent": 10})
        self.campaign("THIRTY", name="thirty off", benefit={"type": "fixed", "amount": "30.00"})
        self.campaign("SHIP", name="free shipping", benefit={"type": "free_shipping"})
        self.campaign("HUGE", name="huge", benefit={"type": "fixed", "amount": "500.00"})
        doc = self.ok_cart(["THIRTY", "TENPC", "SHOES50", "SHIP"])
        got = {a["code"]: (a["discount"], a["shipping_discount"]) for a in doc["applied"]}
        self.assertEqual(got, {"SHOES50": ("40.00", "0.00"), "TENPC": ("6.00", "0.00"),
                               "THIRTY": ("30.00", "0.00"), "SHIP": ("0.00", "5.00")})
        self.assertEqual(doc["total"], "24.00")
        doc = self.ok_cart(["HUGE", "THIRTY"])
        self.assertEqual((doc["discount"], doc["total"]), ("100.00", "5.00"))
        s, pol = self.req("PUT", "/v1/stacking-policy", {"application_order": ["order_fixed"]})
        self.assertEqual(pol["application_order"][:3], ["order_fixed", "free_product", "item_percent"])
        doc = self.ok_cart(["THIRTY", "TENPC"])   # 100 - 30 = 70, then 10 % = 7
        self.assertEqual((doc["discount"], doc["total"]), ("37.00", "68.00"))
        self.req("PUT", "/v1/stacking-policy", {"max_codes": 2})
        doc = self.ok_cart(["THIRTY", "TENPC", "SHOES50", "SHIP"])
        self.assertEqual(sorted(a["code"] for a in doc["applied"]), ["SHOES50", "THIRTY"])
        self.assertEqual({r["reason"]["code"] for r in doc["rejected"]}, {"too_many_codes"})
        doc = self.ok_cart(["THIRTY", "THIRTY"])
        self.assertEqual(self.refusal(doc, "THIRTY")["code"], "duplicate_code")


class KillSwitch(PromoTest):
    def test_disable_campaign_code_reward_and_rule(self):
        m = self.member("k1")
        c = self.campaign("XMAS", name="xmas", benefit={"type": "percent", "percent": 10})
        rule = self.rule(name="xmas points", trigger="purchase",
                         effect={"type": "per_amount", "rate": "1"})
        self.assertEqual(len(self.ok_cart(["XMAS"])["applied"]), 1)
        s, doc = self.req("PATCH", "/v1/campaigns/%d" % c["id"], {"active": False})
        self.assertEqual((s, doc["active"]), (200, False))
        doc = self.refused(["XMAS"], order_id="k-1")
        self.assertEqual(self.refusal(doc, "XMAS")["code"], "campaign_disabled")
        self.req("PATCH", "/v1/campaigns/%d" % c["id"], {"active": True})
        self.assertEqual(len(self.ok_cart(["XMAS"])["applied"]), 1)
        s, doc = self.req("PATCH", "/v1/codes/XMAS", {"active": False})
        self.assertEqual((s, doc["active"]), (200, False))
        self.assertEqual(self.refusal(self.ok_cart(["XMAS"]), "XMAS")["code"], "code_disabled")
        r = self.reward(name="r", points=10, benefit={"type": "free_shipping"})
        self.give(m, 100)
        self.req("PATCH", "/v1/rewards/%d" % r["id"], {"active": False})
        s, doc = self.redeem_reward(m, r)
        self.assertEqual((s, doc["error"]["code"]), (422, "reward_disabled"))
        s, doc = self.req("GET", "/v1/members/%d/rewards" % m["id"])
        self.assertEqual(doc["available"] + doc["unavailable"], [])
        self.req("PATCH", "/v1/rewards/%d" % r["id"], {"active": True})
        self.assertEqual(self.redeem_reward(m, r)[0], 201)
        self.req("PATCH", "/v1/earning-rules/%d" % rule["id"], {"active": False})
        self.assertEqual(self.buy("k-e1", "k1", "50.00")["points"], 0)


class CampaignRules(PromoTest):
    def test_rules_follow_their_campaign(self):
        s, seg = self.req("POST", "/v1/segments", {"name": "vip", "condition": {
            "==": [{"var": "member.attributes.vip"}, True]}})
        c = self.campaign(name="double december", validation={"segments": ["vip"]},
                          schedule={"from": "2044-12-01T00:00:00Z", "to": "2045-01-01T00:00:00Z"},
                          benefit={"type": "fixed", "amount": "1.00"})
        base = self.rule(name="base", trigger="purchase", effect={"type": "per_amount", "rate": "1"})
        bonus = self.rule(name="december bonus", trigger="purchase", campaign_id=c["id"],
                          effect={"type": "fixed", "points": 50})
        vip = self.member("vip", attributes={"vip": True})
        self.member("plain")
        self.srv.set_clock("2044-11-30T12:00:00Z")
        self.assertEqual(self.buy("n1", "vip", "10.00")["points"], 10)      # before its period
        self.srv.set_clock("2044-12-05T12:00:00Z")
        e = self.buy("d1", "vip", "10.00")
        self.assertEqual(e["points"], 60)
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % vip["id"])
        self.assertEqual((ledger["data"][0]["points"],
                          [(x["rule_id"], x["points"]) for x in ledger["data"][0]["rules"]]),
                         (60, [(base["id"], 10), (bonus["id"], 50)]))  # the entry names its rules
        self.assertEqual(self.buy("d2", "plain", "10.00")["points"], 10)    # not its audience
        self.req("PATCH", "/v1/campaigns/%d" % c["id"], {"active": False})  # the kill switch
        self.assertEqual(self.buy("d3", "vip", "10.00")["points"], 10)
        s, sim = self.req("POST", "/v1/simulate", {"type": "purchase", "external_id": "vip",
                                                   "order": {"id": "sim", "total": "10.00",
                                                             "currency": "EUR"}})
        why = [r["reason"] for r in sim["rules"] if r["name"] == "december bonus"]
        self.assertEqual(why, ["campaign_off"], sim)
        self.req("PATCH", "/v1/campaigns/%d" % c["id"], {"active": True})
        self.assertEqual(self.buy("d4", "vip", "10.00")["points"], 60)
        self.assertError(self.req("POST", "/v1/earning-rules", {
            "name": "x", "trigger": "purchase", "campaign_id": "one",
            "effect": {"type": "fixed", "points": 1}}), 422, field="campaign_id")


class Codes(PromoTest):
    def test_bulk_generation_and_bad_input(self):
        c = self.campaign(name="bulk", benefit={"type": "fixed", "amount": "1.00"})
        s, doc = self.req("POST", "/v1/campaigns/%d/codes" % c["id"],
                          {"pattern": "XMAS-####-????", "count": 100000})
        self.assertEqual((s, doc["created"]), (201, 100000), doc)
        s, page = self.req("GET", "/v1/campaigns/%d/codes?limit=500" % c["id"])
        codes = [x["code"] for x in page["data"]]
        self.assertEqual(len(codes), 500)
        self.assertTrue(all(re.match(r"^XMAS-[2-9]{4}-[A-HJKMNP-Z]{4}$", x) for x in codes))
        self.assertEqual(page["data"][0]["max_uses"], 1)
        self.assertError(self.req("POST", "/v1/campaigns/%d/codes" % c["id"],
                                  {"pattern": "AB-#", "count": 5}), 422, "pattern_too_small")
        self.assertError(self.req("POST", "/v1/campaigns/%d/codes" % c["id"],
                                  {"pattern": "ab-####", "count": 5}), 422, "invalid_pattern")
        self.assertError(self.req("POST", "/v1/campaigns/%d/codes" % c["id"],
                                  {"pattern": "Q-########", "count": 10 ** 9}), 422)
        self.assertError(self.req("POST", "/v1/campaigns/999999/codes", {"code": "X1"}), 404,
                         "campaign_not_found")
        self.req("POST", "/v1/campaigns/%d/codes" % c["id"], {"code": "SAME"})
        self.assertError(self.req("POST", "/v1/campaigns/%d/codes" % c["id"], {"code": "same"}),
                         409, "code_taken")

    def test_bad_carts_spend_nothing(self):
        m = self.member("b1")
        self.give(m, 100)
        r = self.reward(name="r", points=50, benefit={"type": "fixed", "amount": "5.00"})
        s, v = self.redeem_reward(m, r)
        bad_lines = [{"sku": "A", "quantity": -1, "unit_price": "1.00"}]
        self.assertError(self.cart([v["code"]], member=m, order_id="z", lines=bad_lines,
                                   redeem=True), 422, "invalid_field", "order.lines[0]")
        self.assertError(self.cart([v["code"]], member=m, lines=[{"sku": "A", "quantity": 1,
                                                                "unit_price": "-3.00"}]), 422)
        self.assertError(self.req("POST", "/v1/carts/redeem", {"order": {"lines": LINES},
                                                               "codes": [v["code"]]}), 422,
                         "invalid_field", "order.id")
        self.assertError(self.req("POST", "/v1/carts/evaluate", {"order": {"lines": LINES},
                                                                 "codes": "ABC"}), 422)
        self.assertError(self.req("POST", "/v1/carts/evaluate", {"order": {"lines": LINES},
                                                                 "codes": ["DROP TABLE"]}), 422)
        self.assertError(self.req("POST", "/v1/carts/evaluate", {"order": {"lines": []}}), 422)
        self.assertError(self.req("POST", "/v1/carts/evaluate", {"order": {
            "lines": LINES, "currency": "USD"}}), 422, "currency_mismatch")
        self.assertError(self.req("POST", "/v1/carts/evaluate", {"member_id": 999999, "order": {
            "lines": LINES}}), 404, "member_not_found")
        self.assertError(self.req("POST", "/v1/carts/evaluate", None), 400)
        self.assertError(self.req("POST", "/v1/rewards", {"name": "x", "points": 0,
                                                         "benefit": {"type": "percent"}}), 422,
                         "invalid_reward", "points")
        self.assertError(self.req("POST", "/v1/rewards", {"name": "x", "points": 5,
                                                         "benefit": {"type": "percent",
                                                                     "percent": 101}}), 422,
                         "invalid_reward", "benefit.percent")
        self.assertError(self.req("POST", "/v1/campaigns", {"name": "x", "benefit": {
            "type": "fixed", "amount": "1"}, "validation": {"rules": [{"name": "r", "condition": {
                "nope": []}}]}}), 422, "invalid_campaign")
        # a code of another program is unknown here
        rc, out, err = self.srv.cli("init", "--name", "other brand")
        other_key = out.split("admin key: ")[1].strip()
        s, oc = self.srv.req("POST", "/v1/campaigns", {"name": "o", "benefit": {
            "type": "fixed", "amount": "1"}}, key=other_key)
        self.srv.req("POST", "/v1/campaigns/%d/codes" % oc["id"], {"code": "THEIRS"}, key=other_key)
        doc = self.ok_cart(["THEIRS"])
        self.assertEqual(self.refusal(doc, "THEIRS")["code"], "code_not_found")
        self.assertEqual(self.srv.req("GET", "/v1/campaigns/%d" % oc["id"], key=other_key)[0], 200)
        self.assertEqual(self.req("GET", "/v1/campaigns/%d" % oc["id"])[0], 404)
        self.assertEqual(self.req("GET", "/v1/codes/THEIRS")[0], 404)
        self.assertEqual(self.balance(m), 50)
        self.assertEqual(self.req("GET", "/v1/codes/" + v["code"])[1]["uses"], 0)


class Fuzz(PromoTest):
    def test_random_mutations_never_crash(self):
        """Mutated carts, codes and definitions: an answer below 500, never a crash."""
        import random
        rng = random.Random(4321)
        m = self.member("fz")
        self.give(m, 1000)
        self.campaign("FUZZ", name="fuzz", benefit={"type": "percent", "percent": 10})
        bases = [
            ("/v1/carts/evaluate", {"member_id": m["id"], "order": {"id": "f1", "lines": LINES,
                                                                  "shipping": "5.00"},
                                    "codes": ["FUZZ", "GIFT"]}),
            ("/v1/carts/redeem", {"order": {"id": "f2", "lines": LINES}, "codes": ["FUZZ"]}),
            ("/v1/campaigns", {"name": "c", "benefit": {"type": "fixed", "amount": "1.00",
                                                        "applies_to": {"skus": ["A"]}},
                               "validation": {"min_amount": "5.00", "rules": [
                                   {"name": "r", "condition": {">": [{"var": "cart.subtotal"}, 1]}}]},
                               "limits": {"uses": 5}, "schedule": {"days": ["mon"]}}),
            ("/v1/rewards", {"name": "w", "points": 5, "tier_points": {"Gold": 3},
                             "benefit": {"type": "free_product", "sku": "A"}}),
            ("/v1/stacking-policy", {"max_codes": 2, "exclusive_groups": [["a", "b"]]}),
        ]
        for i in range(600):
            path, body = bases[i % len(bases)]
            b = bytearray(json.dumps(body).encode())
            for _ in range(rng.randint(1, 6)):
                pos = rng.randrange(len(b))
                op = rng.random()
                if op < 0.4:
                    b[pos] = rng.randrange(256)
                elif op < 0.7:
                    del b[pos]
                else:
                    b.insert(pos, rng.choice(b'{}[]",:0-9.e-\\'))
            method = "PUT" if path == "/v1/stacking-policy" else "POST"
            st, doc = self.req(method, path, bytes(b))
            self.assertTrue(st < 500, (st, path, bytes(b), doc))
            self.assertIsInstance(doc, dict, (path, bytes(b)))
        self.assertEqual(self.srv.req("GET", "/healthz", key=None)[0], 200)
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)


class Concurrency(PromoTest):
    def test_1000_concurrent_redemptions_500_uses(self):
        c = self.campaign("FIRST500", name="first 500", benefit={"type": "fixed", "amount": "1.00"},
                          limits={"uses": 500})
        ok, refused, errors = [], [], []
        lock = threading.Lock()

        def worker(start):
            conn = http.client.HTTPConnection("127.0.0.1", self.srv.port, timeout=60)
            for i in range(start, 1000, 32):
                body = json.dumps({"order": {"id": "cc-%d" % i, "lines": LINES},
                                   "codes": ["FIRST500"]})
                conn.request("POST", "/v1/carts/redeem", body, {
                    "Authorization": "Bearer " + self.key, "Content-Type": "application/json"})
                resp = conn.getresponse()
                doc = json.loads(resp.read())
                with lock:
                    if resp.status == 200 and doc["applied"]:
                        ok.append(i)
                    elif resp.status == 422 and doc["error"]["code"] == "codes_rejected":
                        refused.append(doc["rejected"][0]["reason"]["code"])
                    else:
                        errors.append((resp.status, doc))
            conn.close()

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual((len(ok), len(refused)), (500, 500))
        self.assertEqual(set(refused), {"campaign_exhausted"})
        s, camp = self.req("GET", "/v1/campaigns/%d" % c["id"])
        self.assertEqual((camp["usage"]["uses"]["used"], camp["usage"]["discount"]["used"]),
                         (500, "500.00"))


if __name__ == "__main__":
    harness.main()
