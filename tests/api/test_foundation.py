"""The foundation end to end, as a shop and a marketer would use it."""
import http.client
import json
import re
import signal
import socket
import threading
import time
import unittest

import harness
from harness import ServerTest


class Walkthrough(ServerTest):
    def test_readme_walkthrough(self):
        """The README's five minutes: earn, replay, refund half, expire."""
        srv = self.srv
        m = srv.member("cust-42", email="Ana.Lopez@example.com")
        self.assertEqual(m["balance"], 0)
        s, e = srv.purchase("evt-1", "cust-42", "105.00", order_id="A-1001")
        self.assertEqual(s, 201, e)
        self.assertEqual(e["points"], 105)
        self.assertEqual(e["balance"], 105)
        self.assertFalse(e["duplicate"])
        # the same event again: nothing more, the first result back
        s, again = srv.purchase("evt-1", "cust-42", "105.00", order_id="A-1001")
        self.assertEqual(s, 200)
        self.assertTrue(again["duplicate"])
        self.assertEqual(again["points"], 105)
        self.assertEqual(srv.balance(m["id"]), (105, 0))
        # refund half: keeps floor(105 * 0.5) = 52
        s, r = srv.refund("evt-2", "A-1001", "52.50")
        self.assertEqual(s, 201, r)
        self.assertEqual(r["points_reversed"], 53)
        self.assertEqual(r["balance"], 52)
        self.assertFalse(r["fully_refunded"])
        # expiry: 30 days after earning
        s, p = srv.req("PATCH", "/v1/program", {"expiry": {"mode": "days", "days": 30}})
        self.assertEqual(s, 200, p)
        srv.set_clock("2030-01-01T00:00:00Z")
        s, e = srv.purchase("evt-3", "cust-42", "20.00")
        self.assertEqual(e["points"], 20)
        s, lots = srv.req("GET", "/v1/members/%d/lots" % m["id"])
        dated = [l for l in lots["data"] if l["expires_at"]]
        self.assertEqual(dated[0]["expires_at"], "2030-01-31T00:00:00Z")
        srv.set_clock("2030-01-30T23:59:59Z")
        s, j = srv.req("POST", "/v1/jobs/expire")
        self.assertEqual(j["expired_lots"], 0)
        srv.set_clock("2030-01-31T00:00:00Z")
        s, j = srv.req("POST", "/v1/jobs/expire")
        self.assertEqual(j["expired_lots"], 1)
        self.assertEqual(srv.balance(m["id"]), (52, 0))  # the older lot never expires
        s, ledger = srv.req("GET", "/v1/members/%d/ledger" % m["id"])
        kinds = [e["kind"] for e in ledger["data"]]
        self.assertEqual(kinds, ["expire", "earn", "reverse", "earn"])
        self.assertEqual(ledger["data"][0]["points"], -20)
        srv.set_clock(None) if False else srv.req("POST", "/v1/_test/clock", {})
        srv.req("PATCH", "/v1/program", {"expiry": {"mode": "none"}})
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("0 violations", out)


class Events(ServerTest):
    def test_idempotency_conflict_changes_nothing(self):
        srv = self.srv
        m = srv.member("idem-1")
        s, e = srv.purchase("idem-evt", "idem-1", "10.00")
        self.assertEqual(s, 201)
        self.assertError(srv.purchase("idem-evt", "idem-1", "99.00"), 409, "idempotency_conflict", "id")
        self.assertEqual(srv.balance(m["id"]), (10, 0))
        s, stored = srv.req("GET", "/v1/events/idem-evt")
        self.assertEqual(s, 200)
        self.assertEqual(stored["points"], 10)

    def test_large_event_answered_like_a_small_one(self):
        """An event whose body is over 64 KiB is written by a request worker
        rather than handed over by the network thread: the same answers."""
        srv = self.srv
        m = srv.member("large-1")
        lines = [{"sku": "SKU-%04d" % i, "category": "padding-category-%04d" % i, "quantity": 1,
                  "unit_price": "0.10"} for i in range(1000)]
        order = {"id": "LARGE-1", "total": "100.00", "currency": "EUR", "lines": lines}
        body = {"id": "large-evt", "type": "purchase", "external_id": "large-1", "order": order}
        self.assertGreater(len(json.dumps(body)), 64 * 1024)
        s, e = srv.req("POST", "/v1/events", body)
        self.assertEqual(s, 201, e)
        self.assertEqual((e["points"], e["balance"], e["duplicate"]), (100, 100, False))
        s, again = srv.req("POST", "/v1/events", body)
        self.assertEqual((s, again["points"], again["duplicate"]), (200, 100, True))
        body["order"]["total"] = "99.00"
        self.assertError(srv.req("POST", "/v1/events", body), 409, "idempotency_conflict", "id")
        self.assertEqual(srv.balance(m["id"]), (100, 0))

    def test_same_order_twice_refused(self):
        srv = self.srv
        srv.member("order-twice")
        srv.purchase("ot-1", "order-twice", "10.00", order_id="OT")
        self.assertError(srv.purchase("ot-2", "order-twice", "10.00", order_id="OT"), 409,
                         "order_exists")

    def test_partial_refunds_add_up_and_stop(self):
        srv = self.srv
        m = srv.member("refunds")
        srv.purchase("rf-0", "refunds", "99.99", order_id="RF")
        self.assertEqual(srv.balance(m["id"]), (99, 0))
        total = 0
        for i, amount in enumerate(["10.00", "0.01", "33.33", "40.00"]):
            s, r = srv.refund("rf-%d" % (i + 1), "RF", amount)
            self.assertEqual(s, 201, r)
            total += r["points_reversed"]
        self.assertError(srv.refund("rf-x", "RF", "16.66"), 422, "refund_exceeds_order", "amount")
        s, r = srv.refund("rf-5", "RF")  # the rest: 16.65
        self.assertEqual(r["refunded"], "16.65")
        self.assertTrue(r["fully_refunded"])
        total += r["points_reversed"]
        self.assertEqual(total, 99)
        self.assertEqual(srv.balance(m["id"]), (0, 0))
        self.assertError(srv.refund("rf-6", "RF"), 409, "already_refunded")
        self.assertError(srv.refund("rf-7", "NOPE", "1.00"), 404, "order_not_found")
        s, o = srv.req("GET", "/v1/orders/RF")
        self.assertEqual((o["total"], o["refunded"], o["points"], o["points_reversed"]),
                         ("99.99", "99.99", 99, 99))

    def test_json_numbers_are_exact_or_refused(self):
        srv = self.srv
        m = srv.member("numbers")
        s, e = srv.purchase("num-1", "numbers", 105.99)
        self.assertEqual((s, e["points"]), (201, 105))
        s, e = srv.purchase("num-2", "numbers", 7)  # an integer is whole currency units
        self.assertEqual((s, e["points"]), (201, 7))
        self.assertError(srv.purchase("num-3", "numbers", 1.005), 422, "invalid_field", "order.total")
        self.assertEqual(srv.balance(m["id"]), (112, 0))

    def test_guest_purchase_is_recorded_without_points(self):
        srv = self.srv
        body = {"id": "guest-1", "type": "purchase",
                "order": {"id": "G-1", "total": "25.00", "currency": "EUR"}}
        s, e = srv.req("POST", "/v1/events", body)
        self.assertEqual((s, e["guest"], e["points"], e["member_id"]), (201, True, 0, 0))
        self.assertEqual(srv.req("POST", "/v1/events", body)[1]["duplicate"], True)
        s, r = srv.req("POST", "/v1/events", {"id": "guest-1-r", "type": "refund", "order_id": "G-1",
                                               "amount": "5.00"})
        self.assertEqual((s, r["refunded"], r["points_reversed"]), (201, "5.00", 0))
        self.assertError(srv.req("POST", "/v1/events", {"id": "guest-1-r2", "type": "refund", "order_id": "G-1",
                                                        "amount": "20.01"}), 422, "refund_exceeds_order")

    def test_batch_of_events(self):
        srv = self.srv
        srv.member("batch-1")
        events = [{"id": "bt-%d" % i, "type": "purchase", "external_id": "batch-1",
                   "order": {"id": "BT-%d" % i, "total": "%d.00" % (i + 1), "currency": "EUR"}} for i in range(5)]
        events.append({"id": "bt-bad", "type": "purchase", "external_id": "batch-1",
                       "order": {"id": "BT-bad", "total": "-1", "currency": "EUR"}})
        events.append({"id": "bt-0", "type": "purchase", "external_id": "batch-1",
                       "order": {"id": "BT-0", "total": "1.00", "currency": "EUR"}})  # a retry inside the batch
        events.append("not an object")
        s, doc = srv.req("POST", "/v1/events:batch", {"events": events})
        self.assertEqual(s, 200, doc)
        statuses = [r["status"] for r in doc["results"]]
        self.assertEqual(statuses, [201] * 5 + [422, 200, 400])
        self.assertEqual(doc["results"][5]["error"]["field"], "order.total")
        self.assertTrue(doc["results"][6]["result"]["duplicate"])
        # each result is the event's stored result with "duplicate", as POST /v1/events answers
        stored = srv.req("GET", "/v1/events/bt-0")[1]
        self.assertEqual(doc["results"][0]["result"], dict(stored, duplicate=False))
        self.assertEqual(doc["results"][6]["result"], dict(stored, duplicate=True))
        self.assertEqual(srv.purchase("bt-0", "batch-1", "1.00", order_id="BT-0"), (200, dict(stored, duplicate=True)))
        self.assertEqual(srv.balance(srv.req("GET", "/v1/members/lookup?external_id=batch-1")[1]["id"]), (15, 0))
        s, again = srv.req("POST", "/v1/events:batch", {"events": events[:5]})
        self.assertEqual([r["status"] for r in again["results"]], [200] * 5)
        self.assertError(srv.req("POST", "/v1/events:batch", {"events": []}), 422)
        self.assertError(srv.req("POST", "/v1/events:batch", {"events": [{}] * 10001}), 413, "batch_too_large")

    def test_batch_over_several_commits_keeps_its_order(self):
        """A batch is committed 1,000 events at a time, the next chunk queued before
        the previous one is durable: the events still apply once each, in order,
        and a retry in a later chunk finds the event of an earlier one."""
        srv = self.srv
        m = srv.member("batch-long")
        events = [{"id": "bl-%d" % i, "type": "purchase", "external_id": "batch-long",
                   "order": {"id": "BL-%d" % i, "total": "%d.00" % (i % 7 + 1), "currency": "EUR"}}
                  for i in range(2500)]
        events[2400] = dict(events[5])  # a retry of the first chunk's sixth event, in the third
        # refused when checked, which happens while the writer applies the chunk before
        events[1500] = dict(events[1500], order={"id": "BL-bad", "total": "-1", "currency": "EUR"})
        s, doc = srv.req("POST", "/v1/events:batch", {"events": events})
        self.assertEqual(s, 200, doc)
        results = doc["results"]
        self.assertEqual([r["status"] for r in results],
                         [201] * 1500 + [422] + [201] * 899 + [200] + [201] * 99)
        self.assertEqual(results[1500]["error"]["field"], "order.total")
        self.assertEqual(results[2400]["result"], dict(results[5]["result"], duplicate=True))
        self.assertEqual([r["result"]["order_id"] for r in results[:1500]], ["BL-%d" % i for i in range(1500)])
        earned = [i % 7 + 1 for i in range(2500) if i not in (1500, 2400)]
        balances = [r["result"]["balance"] for i, r in enumerate(results) if i not in (1500, 2400)]
        self.assertEqual(balances, [sum(earned[:k + 1]) for k in range(len(earned))])
        self.assertEqual(srv.balance(m["id"]), (sum(earned), 0))
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out)

    def test_event_failing_after_writing_undoes_only_itself(self):
        """Events of one commit share their savepoint (fd_db_steps): one that fails
        after it has written (here: its lot is stored, then the balance would pass
        10^15) makes the commit run again with a savepoint per event."""
        srv = self.srv
        ok, full = srv.member("steps-ok"), srv.member("steps-full")
        s, r = srv.req("POST", "/v1/members/%d/adjustments" % full["id"],
                       {"points": 10 ** 15 - 5, "reason": "near the limit"})
        self.assertEqual(s, 201, r)
        lots_before = srv.req("GET", "/v1/members/%d/lots" % full["id"])[1]["data"]

        def buy(eid, ext, total):
            return {"id": eid, "type": "purchase", "external_id": ext,
                    "order": {"id": "O-" + eid, "total": total, "currency": "EUR"}}
        s, doc = srv.req("POST", "/v1/events:batch", {"events": [
            buy("st-1", "steps-ok", "10.00"), buy("st-2", "steps-full", "10.00"),
            buy("st-3", "steps-ok", "20.00")]})
        self.assertEqual(s, 200, doc)
        self.assertEqual([r["status"] for r in doc["results"]], [201, 422, 201])
        self.assertEqual(doc["results"][1]["error"]["code"], "out_of_range")
        s, e = srv.req("POST", "/v1/events", buy("st-4", "steps-full", "10.00"))
        self.assertEqual((s, e["error"]["code"]), (422, "out_of_range"))
        self.assertEqual(srv.balance(ok["id"]), (30, 0))
        self.assertEqual(srv.balance(full["id"]), (10 ** 15 - 5, 0))
        self.assertEqual(srv.req("GET", "/v1/members/%d/lots" % full["id"])[1]["data"], lots_before)
        self.assertError(srv.req("GET", "/v1/orders/O-st-2"), 404)
        status, text, _ = srv.raw("GET", "/metrics", headers={"Authorization": "Bearer " + srv.admin_key})
        replays = int(re.search(r"^fidelis_commit_replays_total (\d+)$", text.decode(), re.M).group(1))
        self.assertGreaterEqual(replays, 2)  # the batch's commit and the single event's
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out)

    def test_custom_event_is_recorded_once(self):
        srv = self.srv
        srv.member("custom-1")
        body = {"id": "cu-1", "type": "review_written", "external_id": "custom-1",
                "channel": "app", "attributes": {"stars": 5}}
        s, e = srv.req("POST", "/v1/events", body)
        self.assertEqual(s, 201, e)
        self.assertEqual(e["points"], 0)
        s, e = srv.req("POST", "/v1/events", body)
        self.assertEqual(s, 200)
        self.assertTrue(e["duplicate"])

    def test_suspended_member_does_not_earn(self):
        srv = self.srv
        m = srv.member("susp")
        s, _ = srv.req("PATCH", "/v1/members/%d" % m["id"], {"state": "suspended"})
        self.assertEqual(s, 200)
        self.assertError(srv.purchase("susp-1", "susp", "10.00"), 409, "member_not_active")
        srv.req("PATCH", "/v1/members/%d" % m["id"], {"state": "active"})
        self.assertEqual(srv.purchase("susp-1", "susp", "10.00")[0], 201)


class Policies(ServerTest):
    def tearDown(self):
        self.srv.req("POST", "/v1/_test/clock", {})
        self.srv.req("PATCH", "/v1/program", {"pending_days": 0, "refund_policy": "allow_negative"})

    def test_pending_points_refund_and_maturity(self):
        srv = self.srv
        self.assertEqual(srv.req("PATCH", "/v1/program", {"pending_days": 14})[0], 200)
        m = srv.member("pend")
        srv.set_clock("2031-03-01T12:00:00Z")
        s, e = srv.purchase("pd-1", "pend", "80.00", order_id="PD")
        self.assertEqual(e["points_status"], "pending")
        self.assertEqual(e["matures_at"], "2031-03-15T12:00:00Z")
        self.assertEqual(srv.balance(m["id"]), (0, 80))
        # a return inside the window takes pending points only (SPEC 15.1)
        s, r = srv.refund("pd-2", "PD", "30.00")
        self.assertEqual((r["from_pending"], r["from_balance"]), (30, 0))
        self.assertEqual(srv.balance(m["id"]), (0, 50))
        srv.set_clock("2031-03-15T11:59:59Z")
        self.assertEqual(srv.req("POST", "/v1/jobs/expire")[1]["matured_lots"], 0)
        srv.set_clock("2031-03-15T12:00:00Z")
        self.assertEqual(srv.req("POST", "/v1/jobs/expire")[1]["matured_lots"], 1)
        self.assertEqual(srv.balance(m["id"]), (50, 0))
        # the job run twice changes nothing more
        self.assertEqual(srv.req("POST", "/v1/jobs/expire")[1]["matured_lots"], 0)
        self.assertEqual(srv.balance(m["id"]), (50, 0))

    def test_refund_of_spent_points_cap_at_zero(self):
        srv = self.srv
        srv.req("PATCH", "/v1/program", {"refund_policy": "cap_at_zero"})
        m = srv.member("cap")
        srv.purchase("cap-1", "cap", "100.00", order_id="CAP")
        s, a = srv.req("POST", "/v1/members/%d/adjustments" % m["id"],
                       {"points": -90, "reason": "redeemed in store"})
        self.assertEqual(s, 201, a)
        s, r = srv.refund("cap-2", "CAP")
        self.assertEqual((r["points_reversed"], r["from_balance"], r["waived"]), (100, 10, 90))
        self.assertEqual(srv.balance(m["id"]), (0, 0))

    def test_refund_of_spent_points_goes_negative_then_repaid(self):
        srv = self.srv
        m = srv.member("neg")
        srv.purchase("neg-1", "neg", "100.00", order_id="NEG")
        srv.req("POST", "/v1/members/%d/adjustments" % m["id"], {"points": -90, "reason": "spent"})
        s, r = srv.refund("neg-2", "NEG")
        self.assertEqual(r["balance"], -90)
        s, e = srv.purchase("neg-3", "neg", "120.00")
        self.assertEqual(e["balance"], 30)
        s, lots = srv.req("GET", "/v1/members/%d/lots" % m["id"])
        self.assertEqual([l["remaining"] for l in lots["data"]], [30])
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out)

    def test_adjustments(self):
        srv = self.srv
        m = srv.member("adj")
        self.assertError(srv.req("POST", "/v1/members/%d/adjustments" % m["id"],
                                 {"points": -1, "reason": "x"}), 422, "insufficient_points")
        s, a = srv.req("POST", "/v1/members/%d/adjustments" % m["id"],
                       {"points": 500, "reason": "goodwill"})
        self.assertEqual(a["balance"], 500)
        s, ledger = srv.req("GET", "/v1/members/%d/ledger" % m["id"])
        entry = ledger["data"][0]
        self.assertEqual((entry["kind"], entry["points"], entry["reason"]), ("adjust", 500, "goodwill"))
        self.assertTrue(entry["actor"].startswith("key:"))


class Members(ServerTest):
    def test_upsert_and_email_normalisation(self):
        srv = self.srv
        s, m = srv.req("POST", "/v1/members", {"external_id": "u-1", "email": "Jo.Doe+shop@Gmail.com",
                                              "attributes": {"country": "DE", "vip": True}})
        self.assertEqual(s, 201)
        s, m2 = srv.req("POST", "/v1/members", {"external_id": "u-1", "attributes": {"vip": None,
                                                                                     "city": "Bonn"}})
        self.assertEqual(s, 200)
        self.assertEqual(m2["id"], m["id"])
        self.assertEqual(m2["attributes"], {"country": "DE", "city": "Bonn"})
        self.assertError(srv.req("POST", "/v1/members", {"external_id": "u-2", "email": "jodoe@gmail.com"}),
                         409, "identifier_taken", "email")
        s, found = srv.req("GET", "/v1/members/lookup?email=J.O.DOE%2Bother@googlemail.com")
        self.assertEqual((s, found["id"]), (200, m["id"]))

    def test_lookup_by_every_identifier(self):
        srv = self.srv
        m = srv.member("pos-1", phone="+49 30 1234567", card_number="CARD-0001")
        for q in ["external_id=pos-1", "phone=%2B49301234567", "card_number=CARD-0001",
                  "qr_token=" + m["qr_token"]]:
            s, f = srv.req("GET", "/v1/members/lookup?" + q)
            self.assertEqual((s, f["id"]), (200, m["id"]), q)
        self.assertError(srv.req("GET", "/v1/members/lookup?card_number=NOPE"), 404)
        self.assertError(srv.req("GET", "/v1/members/lookup?card_number=A&phone=1"), 422)

    def test_double_opt_in(self):
        srv = self.srv
        m = srv.member("consent-1")
        s, c = srv.req("POST", "/v1/members/%d/consent" % m["id"], {"marketing": "opt_in"})
        self.assertEqual(c["consent"]["marketing"], "pending")
        token = c["confirmation_token"]
        self.assertError(srv.req("POST", "/v1/consent/confirm", {"token": "wrong"}), 404, "invalid_token")
        s, c = srv.req("POST", "/v1/consent/confirm", {"token": token})
        self.assertEqual((s, c["consent"]["marketing"]), (200, "opted_in"))
        self.assertError(srv.req("POST", "/v1/consent/confirm", {"token": token}), 404)
        s, c = srv.req("POST", "/v1/members/%d/consent" % m["id"], {"marketing": "opt_out"})
        self.assertEqual(c["consent"]["marketing"], "opted_out")

    def test_erase_keeps_ledger_totals(self):
        srv = self.srv
        m = srv.member("gdpr-1", email="erase.me@example.com", phone="0123456789",
                       attributes={"birthday": "1990-01-01"})
        srv.purchase("gd-1", "gdpr-1", "42.00")
        s, e = srv.req("POST", "/v1/members/%d/erase" % m["id"])
        self.assertEqual(s, 200, e)
        self.assertEqual((e["email"], e["phone"], e["external_id"], e["attributes"], e["state"]),
                         (None, None, None, {}, "closed"))
        self.assertEqual(e["balance"], 42)
        self.assertError(srv.req("GET", "/v1/members/lookup?email=erase.me@example.com"), 404)
        s, ledger = srv.req("GET", "/v1/members/%d/ledger" % m["id"])
        self.assertEqual(ledger["data"][0]["points"], 42)
        # the audit log of the erase holds no personal data
        s, audit = srv.req("GET", "/v1/audit?limit=1")
        self.assertEqual(audit["data"][0]["action"], "member.erase")
        self.assertNotIn("erase.me", str(audit["data"][0]))

    def test_merge_keeps_both_histories(self):
        srv = self.srv
        a = srv.member("merge-a", email="a@example.com")
        b = srv.member("merge-b", card_number="POS-CARD-9")
        srv.purchase("mg-1", "merge-a", "30.00")
        srv.purchase("mg-2", "merge-b", "12.00", order_id="MG-B")
        s, merged = srv.req("POST", "/v1/members/%d/merge" % a["id"], {"from_member_id": b["id"]})
        self.assertEqual(s, 200, merged)
        self.assertEqual(merged["balance"], 42)
        s, gone = srv.req("GET", "/v1/members/%d" % b["id"])
        self.assertEqual((gone["state"], gone["merged_into"], gone["balance"]), ("closed", a["id"], 0))
        s, lb = srv.req("GET", "/v1/members/%d/ledger" % b["id"])
        self.assertEqual([e["kind"] for e in lb["data"]], ["merge_out", "earn"])
        # events sent with the merged member's id reach the survivor
        s, e = srv.purchase("mg-3", "merge-b", "8.00")
        self.assertEqual((e["member_id"], e["balance"]), (a["id"], 50))
        # and a refund of b's old order reverses from the survivor
        s, r = srv.refund("mg-4", "MG-B")
        self.assertEqual((r["member_id"], r["balance"]), (a["id"], 38))
        self.assertError(srv.req("POST", "/v1/members/%d/merge" % a["id"], {"from_member_id": b["id"]}),
                         409, "member_closed")
        self.assertError(srv.req("POST", "/v1/members/%d/merge" % a["id"], {"from_member_id": a["id"]}),
                         422)
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out)

    def test_pagination(self):
        srv = self.srv
        for i in range(7):
            srv.member("page-%d" % i)
        seen, cursor, pages = [], None, 0
        while True:
            q = "/v1/members?limit=3" + ("&cursor=" + cursor if cursor else "")
            s, page = srv.req("GET", q)
            self.assertEqual(s, 200)
            seen += [m["id"] for m in page["data"]]
            pages += 1
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(seen, sorted(seen))
        self.assertGreaterEqual(len([i for i in seen]), 7)


class Security(ServerTest):
    def test_keys_and_roles(self):
        srv = self.srv
        m = srv.member("sec-1")
        other = srv.member("sec-2")
        analyst, pos = srv.key("analyst"), srv.key("pos")
        member_key = srv.key("member", member_id=m["id"])
        self.assertError(srv.req("GET", "/v1/members", key=None), 401, "unauthenticated")
        self.assertError(srv.req("GET", "/v1/members", key="fk_0000000000000000_" + "A" * 43), 401)
        self.assertError(srv.req("GET", "/v1/members", key="garbage"), 401)
        # analyst reads, never writes
        self.assertEqual(srv.req("GET", "/v1/members", key=analyst)[0], 200)
        self.assertError(srv.purchase("sec-e1", "sec-1", "1.00", key=analyst), 403, "forbidden")
        self.assertError(srv.req("GET", "/v1/audit", key=analyst), 403)
        # pos: lookup, enroll, earn; no audit, no keys, no adjustments
        self.assertEqual(srv.purchase("sec-e2", "sec-1", "5.00", key=pos)[0], 201)
        self.assertEqual(srv.req("POST", "/v1/members", {"external_id": "pos-enrolled"}, key=pos)[0], 201)
        self.assertError(srv.req("POST", "/v1/keys", {"role": "admin"}, key=pos), 403)
        self.assertError(srv.req("POST", "/v1/members/%d/adjustments" % m["id"],
                                 {"points": 5, "reason": "x"}, key=pos), 403)
        # a member key sees its own member only
        self.assertEqual(srv.req("GET", "/v1/members/%d" % m["id"], key=member_key)[0], 200)
        self.assertEqual(srv.req("GET", "/v1/members/%d/ledger" % m["id"], key=member_key)[0], 200)
        self.assertError(srv.req("GET", "/v1/members/%d" % other["id"], key=member_key), 403)
        self.assertError(srv.req("GET", "/v1/members", key=member_key), 403)
        self.assertError(srv.purchase("sec-e3", "sec-1", "5.00", key=member_key), 403)
        # revocation is immediate
        s, keys = srv.req("GET", "/v1/keys?limit=500")
        pos_id = pos.split("_")[1]
        self.assertIn(pos_id, [k["key_id"] for k in keys["data"]])
        self.assertNotIn("secret_hash", str(keys))
        self.assertEqual(srv.req("DELETE", "/v1/keys/" + pos_id)[0], 200)
        self.assertError(srv.req("GET", "/v1/members/%d" % m["id"], key=pos), 401)
        self.assertError(srv.req("DELETE", "/v1/keys/" + pos_id), 404)

    def test_member_token_route(self):
        srv = self.srv
        m = srv.member("tok-1")
        s, k = srv.req("POST", "/v1/members/%d/token" % m["id"], {"label": "member page"})
        self.assertEqual((s, k["role"], k["member_id"]), (201, "member", m["id"]))
        self.assertEqual(srv.req("GET", "/v1/members/%d" % m["id"], key=k["key"])[0], 200)

    def test_programs_are_isolated(self):
        srv = self.srv
        srv.member("iso-1", email="iso@example.com")
        rc, out, err = srv.cli("init", "--name", "Brand B", "--currency", "USD")
        self.assertEqual(rc, 0, err)
        key_b = out.split("admin key: ")[1].strip()
        s, prog = srv.req("GET", "/v1/program", key=key_b)
        self.assertEqual((prog["name"], prog["currency"]), ("Brand B", "USD"))
        self.assertError(srv.req("GET", "/v1/members/lookup?external_id=iso-1", key=key_b), 404)
        self.assertError(srv.req("GET", "/v1/members/1", key=key_b), 404)
        s, page = srv.req("GET", "/v1/members", key=key_b)
        self.assertEqual(page["data"], [])
        body = {"id": "iso-e", "type": "purchase", "external_id": "iso-1",
                "order": {"id": "ISO", "total": "10.00", "currency": "USD"}}
        self.assertError(srv.req("POST", "/v1/events", body, key=key_b), 404, "member_not_found")
        # the same external id and email may exist in both programs
        s, m = srv.req("POST", "/v1/members", {"external_id": "iso-1", "email": "iso@example.com"},
                       key=key_b)
        self.assertEqual(s, 201, m)
        self.assertEqual(srv.req("POST", "/v1/events", body, key=key_b)[0], 201)
        s, audit = srv.req("GET", "/v1/audit?limit=500")
        self.assertNotIn("Brand B", str(audit))


class Operations(ServerTest):
    def test_health_metrics_audit(self):
        srv = self.srv
        self.assertEqual(srv.req("GET", "/healthz", key=None), (200, {"status": "ok"}))
        self.assertEqual(srv.req("GET", "/readyz", key=None), (200, {"status": "ready"}))
        self.assertError(srv.req("GET", "/metrics", key=None), 401)
        srv.member("ops-1")
        srv.purchase("ops-e", "ops-1", "3.00")
        status, text, ctype = srv.raw("GET", "/metrics", headers={"Authorization": "Bearer " + srv.admin_key})
        text = text.decode()
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain"))
        self.assertIn('fidelis_http_requests_total{route="POST /v1/events",status="201"} 1', text)
        self.assertIn('fidelis_events_total{type="purchase"} 1', text)
        self.assertIn("fidelis_commit_batch_size_bucket", text)
        self.assertIn("fidelis_http_request_duration_seconds_count", text)
        counter = {k: int(v) for k, v in re.findall(r"^(fidelis_(?:commits|log_syncs)_total) (\d+)$", text, re.M)}
        if harness.PG_PORT:  # each commit syncs itself
            self.assertEqual(counter["fidelis_log_syncs_total"], 0)
        else:  # every write waited for a sync of the log; groups may share one
            self.assertGreaterEqual(counter["fidelis_log_syncs_total"], 1)
            self.assertLessEqual(counter["fidelis_log_syncs_total"], counter["fidelis_commits_total"])
        s, p = srv.req("PATCH", "/v1/program", {"name": "Renamed", "point_value": "0.005"})
        self.assertEqual((p["name"], p["point_value"]), ("Renamed", "0.005000"))
        s, audit = srv.req("GET", "/v1/audit?limit=2")
        a = audit["data"][0]
        self.assertEqual(a["action"], "program.update")
        self.assertEqual((a["before"]["name"], a["after"]["name"]), ("Demo", "Renamed"))
        self.assertIsNotNone(audit["next_cursor"])

    def test_cli(self):
        srv = self.srv
        for cmd in (["serve"], ["init"], ["migrate"], ["key", "create"], ["check"], ["expire"], ["import"],
                    ["export"], ["clv"]):
            rc, out, err = srv.cli(*cmd, "--help")
            self.assertEqual(rc, 0, cmd)
            self.assertIn("usage: fidelis", out)
        rc, out, err = srv.cli("migrate")
        self.assertEqual(rc, 0)
        self.assertRegex(out.strip(), r"^schema version [0-9]+$")
        rc, out, err = srv.cli("key", "create", "--role", "marketer")
        self.assertEqual(rc, 0, err)
        self.assertEqual(srv.req("GET", "/v1/members", key=out.strip())[0], 200)
        rc, out, err = srv.cli("key", "create", "--role", "wizard")
        self.assertEqual(rc, 2)
        rc, out, err = srv.cli("expire")
        self.assertEqual(rc, 0, err)

    def test_configuration_file_and_environment(self):
        import os, subprocess
        conf = os.path.join(self.srv.dir, "fidelis.conf")
        with open(conf, "w") as f:
            f.write("# settings\nrole = analyst\nlabel = from the file\n")
        env = dict(os.environ, FIDELIS_LABEL="from the environment")
        r = subprocess.run([harness.BINARY, "key", "create", "--config", conf, "--db", self.srv.db],
                           capture_output=True, text=True, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        s, keys = self.srv.req("GET", "/v1/keys?limit=500")
        mine = [k for k in keys["data"] if k["key_id"] == r.stdout.strip().split("_")[1]][0]
        self.assertEqual((mine["role"], mine["label"]), ("analyst", "from the environment"))
        with open(conf, "w") as f:
            f.write("no-such-setting = 1\n")
        r = subprocess.run([harness.BINARY, "check", "--config", conf, "--db", self.srv.db],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown setting", r.stderr)


class Threads(unittest.TestCase):
    """A request that waits (a write waits for its commit) runs on a request
    worker, so it holds up no other connection: with one worker busy on a
    long batch, reads on other connections are answered meanwhile, and a
    second write queues behind the first and completes after it."""

    def test_reads_are_answered_while_a_long_write_runs(self):
        srv = harness.Server(threads=1)
        try:
            srv.member("thr-1")
            n = 1000 if harness.PG_PORT else 10000
            batch = {"statuses": [], "results": []}

            def send_batch():  # batches one after the other for at least a second
                batch["start"] = time.monotonic()
                for b in range(10):
                    events = [{"id": "thr-%d-%d" % (b, i), "type": "purchase", "external_id": "thr-1",
                               "order": {"id": "THR-%d-%d" % (b, i), "total": "1.00",
                                         "currency": "EUR"}} for i in range(n)]
                    s, doc = srv.req("POST", "/v1/events:batch", {"events": events})
                    batch["statuses"].append(s)
                    batch["results"] += [r["status"] for r in doc["results"]] if s == 200 else [doc]
                    if time.monotonic() - batch["start"] > 1.0:
                        break
                batch["end"] = time.monotonic()

            th = threading.Thread(target=send_batch)
            th.start()
            time.sleep(0.3)  # the batch is with the only worker by now
            waits = []
            while th.is_alive() and len(waits) < 20:
                t0 = time.monotonic()
                s, m = srv.req("GET", "/v1/members/lookup?external_id=thr-1")
                self.assertEqual(s, 200, m)
                waits.append(time.monotonic() - t0)
            th.join()
            sent = n * len(batch["statuses"])
            self.assertEqual(batch["statuses"], [200] * len(batch["statuses"]))
            self.assertEqual(batch["results"], [201] * sent)
            took = batch["end"] - batch["start"]
            # Proves something only if the batch outlasted the reads' start.
            self.assertGreater(took, 0.5, "the batch was too quick to overlap the reads")
            self.assertGreater(len(waits), 0)
            # A read held up by the batch would wait most of its duration.
            self.assertLess(max(waits), took / 4, (waits, took))
            self.assertEqual(srv.balance(m["id"]), (sent, 0))
        finally:
            srv.close()

    def test_stop_under_load_is_prompt(self):
        """SIGTERM while clients keep writing batches on kept-alive connections:
        the server finishes what it has and exits, without waiting for them to stop."""
        srv = harness.Server(threads=1)  # fewer workers than clients: never an empty queue
        self._stop_under_load(srv, 4, 200)  # batches: long requests on the workers

    def test_stop_under_load_of_single_events_is_prompt(self):
        """The same with single events, whose replies come from the store's
        thread once their write is durable (no worker waits for them): the
        writes in flight at SIGTERM are answered, and each acknowledged one
        is there after a restart."""
        self._stop_under_load(harness.Server(), 16, 0)

    def test_event_written_when_its_client_is_gone(self):
        """Clients that send an event and hang up before the reply (the store
        holds the write, no thread waits for it): every event is written
        once, and the server stays whole (under the sanitizers, nothing the
        handler handed over leaks)."""
        srv = harness.Server()
        try:
            m = srv.member("gone-1")
            for i in range(40):
                body = json.dumps({"id": "gone-%d" % i, "type": "purchase", "external_id": "gone-1",
                                   "order": {"id": "gone-%d" % i, "total": "2.00",
                                             "currency": "EUR"}}).encode()
                with socket.create_connection(("127.0.0.1", srv.port)) as sock:
                    sock.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                 + srv.admin_key.encode() + b"\r\nContent-Type: application/json"
                                 b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            deadline = time.monotonic() + 20
            while srv.balance(m["id"]) != (80, 0) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(srv.balance(m["id"]), (80, 0))
            for i in (0, 39):
                self.assertEqual(srv.req("GET", "/v1/events/gone-%d" % i)[0], 200)
        finally:
            srv.close()

    def _stop_under_load(self, srv, nclients, batch):
        srv.member("stop-1")
        stop = threading.Event()
        acked = []

        def event(eid):
            return {"id": eid, "type": "purchase", "external_id": "stop-1",
                    "order": {"id": eid, "total": "1.00", "currency": "EUR"}}

        def client(t):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            i = 0
            while not stop.is_set():
                if batch:
                    ids = ["stop-%d-%d-%d" % (t, i, k) for k in range(batch)]
                    path, body = "/v1/events:batch", {"events": [event(e) for e in ids]}
                else:
                    ids = ["stop-%d-%d" % (t, i)]
                    path, body = "/v1/events", event(ids[0])
                status = srv.post_kept_alive(conn, path, json.dumps(body))
                if status is None:
                    return  # the server closed the connection
                if status in (200, 201):
                    acked.extend(ids)
                i += 1

        clients = [threading.Thread(target=client, args=(t,)) for t in range(nclients)]
        for th in clients:
            th.start()
        time.sleep(1.0)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            # A server that waited for its clients would never exit: they write until stop is
            # set, after this wait. The bound only has to tell that from a slow machine: under
            # the sanitizers on PostgreSQL, in a slow minute, the batches in flight took 10 s.
            rc = srv.proc.wait(timeout=45)
        finally:
            took = time.monotonic() - t0
            stop.set()
            for th in clients:
                th.join()
        self.assertEqual(rc, 0)
        self.assertLess(took, 30, "the server waited for its clients")
        self.assertGreater(len(acked), 10)
        srv.proc.stdout.close()
        srv.proc = None
        srv.start()  # every acknowledged event is there
        for eid in acked[-5:]:
            self.assertEqual(srv.req("GET", "/v1/events/" + eid)[0], 200)
        srv.close()


if __name__ == "__main__":
    harness.main()
