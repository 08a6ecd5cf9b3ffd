"""Webhooks (issue 6): a real receiver on loopback that refuses connections,
answers 500, times out, then recovers. Every message arrives, signed, in
order per member; duplicates only where a timeout hid a success."""
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time

import harness
from harness import Server, ServerTest

SECRET = "whsec_test_secret_0123456789"
FAST = ["--webhook-backoff-ms", "100", "--webhook-timeout-ms", "1000", "--webhook-interval-ms", "50"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """Fails the first `fail` requests with 500, lets the next `hang` time out, then accepts."""

    def __init__(self, port, fail=0, hang=0, always_fail=False):
        self.received = []  # (delivery id, event type, body, signature ok)
        self.fail, self.hang, self.always_fail = fail, hang, always_fail
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                sig = dict(p.split("=", 1) for p in self.headers["Fidelis-Signature"].split(","))
                expected = hmac.new(SECRET.encode(), (sig["t"] + ".").encode() + body, hashlib.sha256).hexdigest()
                with outer.lock:
                    outer.received.append((self.headers["Fidelis-Delivery"], self.headers["Fidelis-Event"],
                                           json.loads(body), hmac.compare_digest(expected, sig["v1"])))
                    if outer.always_fail or outer.fail > 0:
                        outer.fail -= 1
                        code = 500
                    elif outer.hang > 0:
                        outer.hang -= 1
                        code = None
                    else:
                        code = 200
                if code is None:
                    time.sleep(2.0)  # beyond the sender's timeout: it will send again
                    code = 200
                self.send_response(code)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Webhooks(ServerTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=FAST)

    def setUp(self):
        rc, out, err = self.srv.cli("init", "--name", self._testMethodName)
        self.key = out.split("admin key: ")[1].strip()

    def req(self, method, path, body=None):
        return self.srv.req(method, path, body, key=self.key)

    def deliveries(self, hook, status=None):
        out, cursor = [], None
        while True:
            q = "/v1/webhooks/%d/deliveries?limit=500" % hook + ("&status=" + status if status else "")
            s, page = self.req("GET", q + ("&cursor=" + cursor if cursor else ""))
            self.assertEqual(s, 200, page)
            out += page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def wait_settled(self, hook, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.deliveries(hook, "pending"):
                return
            time.sleep(0.1)
        self.fail("deliveries still pending after %d s" % timeout)

    def test_receiver_down_then_recovers(self):
        port = free_port()
        s, hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/hook" % port,
                                                     "events": ["*"], "secret": SECRET})
        self.assertEqual(s, 201, hook)
        self.assertEqual(hook["secret"], SECRET)
        members = [self.req("POST", "/v1/members", {"external_id": "w%d" % i})[1]["id"] for i in range(4)]
        for i in range(16):
            body = {"id": "wh-%d" % i, "type": "purchase", "external_id": "w%d" % (i % 4),
                    "order": {"id": "WH-%d" % i, "total": "%d.00" % (i + 1), "currency": "EUR"}}
            self.assertEqual(self.req("POST", "/v1/events", body)[0], 201)
        time.sleep(1.0)  # connection refused meanwhile: retries pile up
        refused = [d for d in self.deliveries(hook["id"]) if d["attempts"] > 0]
        self.assertTrue(refused and refused[0]["last_error"], refused[:1])
        rcv = Receiver(port, fail=3, hang=2)
        try:
            self.wait_settled(hook["id"])
        finally:
            rcv.close()
        sent = self.deliveries(hook["id"])
        self.assertEqual(len(sent), 4 + 16)  # member.enrolled x4, points.earned x16
        ids = [d["delivery_id"] for d in sent]
        self.assertEqual(len(set(ids)), len(ids))
        for d in ids:  # dlv_, the second it was made (8 hex digits), 24 random hex digits
            self.assertRegex(d, r"^dlv_[0-9a-f]{32}$")
            self.assertLess(abs(int(d[4:12], 16) - time.time()), 600, d)
        self.assertTrue(all(d["status"] == "delivered" for d in sent))
        got = {}
        for delivery, event, body, sig_ok in rcv.received:
            self.assertTrue(sig_ok, "bad signature on " + delivery)
            got.setdefault(delivery, []).append((event, body))
        self.assertEqual(set(got), {d["delivery_id"] for d in sent})  # every message arrived
        dupes = [k for k, v in got.items() if len(v) > 1]
        self.assertGreaterEqual(len(dupes), 1)  # the 500s and timeouts were sent again
        # at least once, never more than attempted: every receipt is a recorded attempt
        self.assertLessEqual(len(rcv.received), sum(d["attempts"] for d in sent))
        for k in dupes:  # a repeat is the same message
            self.assertTrue(all(b == got[k][0] for b in got[k]))
        # order per member: first arrivals follow the order the changes happened
        first_seen = []
        for delivery, event, body, sig_ok in rcv.received:
            if delivery not in first_seen:
                first_seen.append(delivery)
        for m in members:
            mine = [d["delivery_id"] for d in sent if d["member_id"] == m]
            self.assertEqual([x for x in first_seen if x in mine], mine)
        earned = [b for k, v in got.items() for e, b in v[:1] if e == "points.earned"]
        self.assertEqual(sorted(b["data"]["points"] for b in earned), list(range(1, 17)))

    def test_dead_letter_and_replay(self):
        port = free_port()
        rcv = Receiver(port, always_fail=True)
        try:
            s, hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/" % port,
                                                         "events": ["member.enrolled"], "secret": SECRET})
            # 15 attempts at 100 ms doubling would take an hour: make the first one fail for good
            self.req("POST", "/v1/members", {"external_id": "dead-1"})
            # the receiver sees the request before the worker records the attempt: wait for the record
            deadline = time.time() + 10
            d = self.deliveries(hook["id"])[0]
            while d["attempts"] < 1 and time.time() < deadline:
                time.sleep(0.05)
                d = self.deliveries(hook["id"])[0]
            self.assertEqual(d["type"], "member.enrolled")
            self.assertGreaterEqual(d["attempts"], 1)
            rcv.always_fail = False
            s, r = self.req("POST", "/v1/deliveries/%s/replay" % d["delivery_id"])
            self.assertIn(s, (200, 404))  # 404 when it is still pending (a retry is due anyway)
            self.wait_settled(hook["id"])
            self.assertEqual(self.deliveries(hook["id"])[0]["status"], "delivered")
            s, r = self.req("POST", "/v1/deliveries/%s/replay" % d["delivery_id"])
            self.assertEqual(s, 200)  # replaying a delivered message sends it again
            self.wait_settled(hook["id"])
            self.assertGreaterEqual(len([x for x in rcv.received if x[0] == d["delivery_id"]]), 2)
        finally:
            rcv.close()

    def test_tier_and_earning_messages_for_their_subscribers_only(self):
        """An earning and the tier it reaches each write their message only for the
        webhooks that want it (the messages are built only then)."""
        s, tiers = self.req("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "calendar_year"},
                                                 "tiers": [{"name": "Bronze", "threshold": 0},
                                                           {"name": "Silver", "threshold": 50}]})
        self.assertEqual(s, 200, tiers)
        tier_hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/t", "events": ["tier.changed"]})[1]
        earn_hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/p", "events": ["points.earned"]})[1]
        m = self.req("POST", "/v1/members", {"external_id": "tw"})[1]
        body = {"id": "tw-1", "type": "purchase", "external_id": "tw",
                "order": {"id": "TW-1", "total": "60.00", "currency": "EUR"}}
        s, e = self.req("POST", "/v1/events", body)
        self.assertEqual((s, e["points"], e["tier"]), (201, 60, "Silver"), e)
        tier_msgs = [(d["type"], d["payload"]["data"]) for d in self.deliveries(tier_hook["id"])]
        self.assertEqual(tier_msgs, [("tier.changed", {"from": None, "to": "Silver",
                                                        "reason": "qualified", "metric": 60})])
        earn_msgs = self.deliveries(earn_hook["id"])
        self.assertEqual([d["type"] for d in earn_msgs], ["points.earned"])
        data = earn_msgs[0]["payload"]["data"]
        self.assertEqual((data["event_id"], data["order_id"], data["points"], data["status"],
                          data["balance"], data["pending"]), ("tw-1", "TW-1", 60, "credited", 60, 0))
        self.assertEqual(data["rules"], e["rules"])  # the same rules as the result
        self.assertEqual([x["points"] for x in data["rules"]], [60])
        for name, points in (("seven", 7), ("é \"quoted\"", 3)):
            s, rule = self.req("POST", "/v1/earning-rules", {"name": name, "trigger": "purchase",
                                                            "effect": {"type": "fixed", "points": points}})
            self.assertEqual(s, 201, rule)
        s, e = self.req("POST", "/v1/events", dict(body, id="tw-2", order={"id": "TW-2", "total": "1.00", "currency": "EUR"}))
        self.assertEqual((s, e["points"]), (201, 10), e)
        self.assertEqual([(x["name"], x["version"], x["points"]) for x in e["rules"]],
                         [("seven", 1, 7), ("é \"quoted\"", 1, 3)])
        second = [d["payload"]["data"] for d in self.deliveries(earn_hook["id"])
                  if d["payload"]["data"]["event_id"] == "tw-2"]
        self.assertEqual([x["rules"] for x in second], [e["rules"]])
        self.assertEqual(earn_msgs[0]["payload"]["member_id"], m["id"])

    def test_lot_messages_of_the_jobs(self):
        """The maturation and expiry jobs announce each lot to the webhooks that want
        its message, with the member's balances after it; one that wants only the
        expiries gets only those."""
        self.req("PATCH", "/v1/program", {"pending_days": 14, "expiry": {"mode": "days", "days": 30}})
        both = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/b",
                                                  "events": ["points.pending_matured", "points.expired"]})[1]
        expired_only = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/e",
                                                          "events": ["points.expired"]})[1]
        # another program's lot falls between them in the jobs' order: the lookup of who
        # wants a message is per program
        rc, out, err = self.srv.cli("init", "--name", self._testMethodName + "-other")
        other = out.split("admin key: ")[1].strip()
        self.srv.req("PATCH", "/v1/program", {"pending_days": 14, "expiry": {"mode": "days", "days": 30}},
                     key=other)
        other_hook = self.srv.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/o",
                                                           "events": ["points.expired"]}, key=other)[1]
        try:
            members = {}
            for i, (ext, total) in enumerate((("lot-a", "30.00"), ("lot-c", "70.00"), ("lot-b", "45.00"))):
                self.srv.set_clock("2032-01-10T12:00:0%dZ" % i)
                key = other if ext == "lot-c" else self.key
                m = self.srv.req("POST", "/v1/members", {"external_id": ext}, key=key)[1]
                if key == self.key:
                    members[m["id"]] = int(total[:2])
                body = {"id": "lm-" + ext, "type": "purchase", "external_id": ext,
                        "order": {"id": "LM-" + ext, "total": total, "currency": "EUR"}}
                self.assertEqual(self.srv.req("POST", "/v1/events", body, key=key)[0], 201)
            self.srv.set_clock("2032-01-24T12:01:00Z")
            # the jobs run over every program of the server: other tests' lots may be due too
            self.assertGreaterEqual(self.req("POST", "/v1/jobs/expire")[1]["matured_lots"], 3)
            self.srv.set_clock("2032-06-01T12:00:00Z")
            self.assertGreaterEqual(self.req("POST", "/v1/jobs/expire")[1]["expired_lots"], 3)
            got = [(d["type"], d["payload"]["member_id"], d["payload"]["data"]["points"],
                    d["payload"]["data"]["balance"], d["payload"]["data"]["pending"])
                   for d in self.deliveries(both["id"])]
            matured = sorted(g for g in got if g[0] == "points.pending_matured")
            expired = sorted(g for g in got if g[0] == "points.expired")
            self.assertEqual(matured, sorted(("points.pending_matured", m, p, p, 0) for m, p in members.items()))
            self.assertEqual(expired, sorted(("points.expired", m, p, 0, 0) for m, p in members.items()))
            self.assertEqual(len(got), 4)
            self.assertTrue(all(d["payload"]["data"]["lot_id"] > 0 for d in self.deliveries(both["id"])))
            self.assertEqual(sorted(d["type"] for d in self.deliveries(expired_only["id"])),
                             ["points.expired", "points.expired"])
            s, theirs = self.srv.req("GET", "/v1/webhooks/%d/deliveries" % other_hook["id"], key=other)
            self.assertEqual([(d["type"], d["payload"]["data"]["points"]) for d in theirs["data"]],
                             [("points.expired", 70)])
        finally:
            self.srv.req("POST", "/v1/_test/clock", {})

    def test_subscription_filter_and_bad_input(self):
        s, hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:9/x", "events": ["tier.changed"]})
        self.assertEqual(s, 201)
        self.assertTrue(hook["secret"].startswith("whsec_"))
        self.req("POST", "/v1/members", {"external_id": "filt"})
        self.assertEqual(self.deliveries(hook["id"]), [])
        self.assertError(self.req("POST", "/v1/webhooks", {"url": "ftp://x"}), 422, "invalid_field", "url")
        self.assertError(self.req("POST", "/v1/webhooks", {"url": "http://x", "events": ["nope"]}), 422,
                         "invalid_field", "events")
        self.assertError(self.req("POST", "/v1/webhooks", {"url": "http://x", "secret": "short"}), 422)
        s, lst = self.req("GET", "/v1/webhooks")
        self.assertNotIn("secret", lst["data"][0])
        s, off = self.req("PATCH", "/v1/webhooks/%d" % hook["id"], {"active": False})
        self.assertEqual(off["active"], False)
        self.assertEqual(self.req("DELETE", "/v1/webhooks/%d" % hook["id"])[0], 200)
        self.assertError(self.req("GET", "/v1/webhooks/%d" % hook["id"]), 404)


class Reminders(Webhooks):
    def test_points_expiring_once_per_occurrence_and_opt_out(self):
        port = free_port()
        rcv = Receiver(port)
        try:
            s, hook = self.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/" % port,
                                                         "events": ["reminder", "points.expiring_soon"],
                                                         "secret": SECRET})
            self.req("PATCH", "/v1/program", {"expiry": {"mode": "days", "days": 2}})
            s, rem = self.req("POST", "/v1/reminders", {
                "name": "expiring soon", "trigger": {"type": "points_expiring", "days": 3},
                "channel": "email",
                "template": "Hi {{member.attributes.first_name}}, {{points}} points expire on {{expires_on}}."})
            self.assertEqual(s, 201, rem)
            for ext, consent in (("ana", None), ("bob", "opt_out")):
                m = self.req("POST", "/v1/members", {"external_id": ext, "attributes": {"first_name": ext.title()}})[1]
                if consent:
                    self.req("POST", "/v1/members/%d/consent" % m["id"], {"marketing": consent})
                body = {"id": "rem-" + ext, "type": "purchase", "external_id": ext,
                        "order": {"id": "REM-" + ext, "total": "42.00", "currency": "EUR"}}
                self.assertEqual(self.req("POST", "/v1/events", body)[0], 201)
            s, r1 = self.req("POST", "/v1/jobs/reminders")
            s, r2 = self.req("POST", "/v1/jobs/reminders")  # the scheduler runs twice
            self.assertEqual((r1["reminders_sent"], r2["reminders_sent"]), (1, 0))
            self.wait_settled(hook["id"])
            msgs = [b for d, e, b, ok in rcv.received if e == "reminder"]
            self.assertEqual(len(msgs), 1)
            data = msgs[0]["data"]
            self.assertEqual((data["channel"], data["member"]["external_id"]), ("email", "ana"))
            self.assertRegex(data["message"], r"^Hi Ana, 42 points expire on \d{4}-\d\d-\d\d\.$")
            soon = [b for d, e, b, ok in rcv.received if e == "points.expiring_soon"]
            self.assertEqual(sorted(b["data"]["points"] for b in soon), [42, 42])  # both members, once
        finally:
            rcv.close()

    def test_bad_reminders(self):
        for body, field in [({"name": "x", "trigger": {"type": "sometime"}, "channel": "sms", "template": "t"}, "trigger.type"),
                            ({"name": "x", "trigger": {"type": "inactive"}, "channel": "sms", "template": "t"}, "trigger.days"),
                            ({"name": "x", "trigger": {"type": "birthday_month"}, "template": "t"}, "channel"),
                            ({"name": "x", "trigger": {"type": "birthday_month"}, "channel": "sms",
                              "template": "Hi {{ }}"}, "template")]:
            self.assertError(self.req("POST", "/v1/reminders", body), 422, "invalid_reminder", field)


class PrivateAddresses(ServerTest):
    """Without --webhook-allow-private, deliveries to loopback and private
    networks are refused at connection time (whatever name the URL uses)."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=FAST, allow_private=False)

    def test_loopback_receiver_is_refused(self):
        port = free_port()
        rcv = Receiver(port)
        try:
            for url in ("http://127.0.0.1:%d/hook" % port, "http://localhost:%d/hook" % port):
                s, hook = self.srv.req("POST", "/v1/webhooks", {"url": url, "events": ["*"]})
                self.assertEqual(s, 201, hook)
            self.srv.member("pa-1")
            deadline = time.time() + 20
            errors = []
            while time.time() < deadline and len(errors) < 2:
                errors = []
                for hook_id in (1, 2):
                    s, page = self.srv.req("GET", "/v1/webhooks/%d/deliveries" % hook_id)
                    errors += [d["last_error"] for d in page["data"] if d["attempts"] > 0]
                time.sleep(0.1)
            self.assertEqual(len(errors), 2, errors)
            self.assertTrue(all("loopback or private" in e for e in errors), errors)
            self.assertEqual(rcv.received, [])
        finally:
            rcv.close()


class DeadLetter(ServerTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(extra_args=FAST + ["--webhook-max-attempts", "3"])

    def test_after_max_attempts_the_delivery_is_dead(self):
        port = free_port()
        s, hook = self.srv.req("POST", "/v1/webhooks", {"url": "http://127.0.0.1:%d/" % port,
                                                         "events": ["member.enrolled"], "secret": SECRET})
        self.srv.member("gone")
        deadline = time.time() + 20
        while time.time() < deadline:
            s, page = self.srv.req("GET", "/v1/webhooks/%d/deliveries?status=dead" % hook["id"])
            if page["data"]:
                break
            time.sleep(0.1)
        self.assertEqual(len(page["data"]), 1)
        self.assertEqual(page["data"][0]["attempts"], 3)
        rcv = Receiver(port)
        try:
            s, r = self.srv.req("POST", "/v1/deliveries/%s/replay" % page["data"][0]["delivery_id"])
            self.assertEqual(s, 200)
            deadline = time.time() + 10
            while not rcv.received and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(rcv.received[0][1], "member.enrolled")
        finally:
            rcv.close()


if __name__ == "__main__":
    harness.main()
