"""Durability: every acknowledged event survives kill -9, and the ledger
still balances after restart; also while the checkpointer starts the log
over under load (SQLite)."""
import threading
import time
import http.client
import json
import re
import unittest

import harness
from harness import ServerTest

WRITERS = 6
BULK_MEMBERS = 30000
BATCH = 5000
BATCHES_MAX = 40


def start_writers(srv, acked, stop):
    """WRITERS threads sending single purchases of 1.00 EUR for members
    crash-0.. until stop is set or the server is gone; acked[t] collects the
    ids the server acknowledged. Returns the threads."""
    def writer(t):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        i = 0
        while not stop.is_set():
            eid = "crash-%d-%d" % (t, i)
            body = json.dumps({"id": eid, "type": "purchase", "external_id": "crash-%d" % t,
                               "order": {"id": eid, "total": "1.00", "currency": "EUR"}})
            status = srv.post_kept_alive(conn, "/v1/events", body)
            if status is None:
                return  # the server is gone
            if status == 201:
                acked[t].append(eid)
            i += 1

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(WRITERS)]
    for th in threads:
        th.start()
    return threads


def log_pauses(srv):
    s, text, _ = srv.raw("GET", "/metrics", headers={"Authorization": "Bearer " + srv.admin_key})
    m = re.search(rb"^fidelis_log_pauses_total (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


class Crash(ServerTest):
    def assert_writers_intact(self, members, acked):
        """Every acknowledged single event is there, and each writer member's
        balance is exactly its ledger: nothing half-written."""
        srv = self.srv
        for t in range(WRITERS):
            for eid in acked[t]:
                s, doc = srv.req("GET", "/v1/events/" + eid)
                self.assertEqual(s, 200, "acknowledged event %s lost" % eid)
            s, m = srv.req("GET", "/v1/members/%d" % members[t])
            earned, cursor = 0, None
            while True:
                q = "/v1/members/%d/ledger?limit=500" % members[t] + ("&cursor=" + cursor if cursor else "")
                s, page = srv.req("GET", q)
                earned += sum(e["points"] for e in page["data"])
                cursor = page["next_cursor"]
                if not cursor:
                    break
            self.assertEqual(m["balance"], earned)
            self.assertGreaterEqual(m["balance"], len(acked[t]))
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_acknowledged_events_survive_kill_9(self):
        srv = self.srv
        members = [srv.member("crash-%d" % t)["id"] for t in range(WRITERS)]
        acked = [[] for _ in range(WRITERS)]
        stop = threading.Event()
        threads = start_writers(srv, acked, stop)
        time.sleep(1.5)
        srv.kill9()
        stop.set()
        for th in threads:
            th.join()
        total_acked = sum(len(a) for a in acked)
        self.assertGreater(total_acked, 50, "too few events before the kill to prove anything")

        srv.start()
        self.assert_writers_intact(members, acked)
        print("acknowledged before kill -9: %d events; all present after restart" % total_acked)

    @unittest.skipIf(harness.PG_PORT, "PostgreSQL checkpoints its own log")
    def test_log_starts_over_under_load_and_survives_kill_9(self):
        """An import of 30,000 members and batches of purchases for them write
        the log past the length at which the checkpointer starts it over
        (64 MiB) again and again, with single events going on beside them:
        the writer waits for the checkpointer's last passes
        (fidelis_log_pauses_total counts them), and a kill -9 right after
        loses nothing acknowledged."""
        srv = self.srv
        members = [srv.member("crash-%d" % t)["id"] for t in range(WRITERS)]
        ndjson = "\n".join(json.dumps({"external_id": "bulk-%d" % i}) for i in range(BULK_MEMBERS))
        s, body, _ = srv.raw("POST", "/v1/imports/members", ndjson.encode(),
                             {"Authorization": "Bearer " + srv.admin_key,
                              "Content-Type": "application/x-ndjson"})
        self.assertEqual(s, 200, body)
        self.assertEqual(json.loads(body)["applied"], BULK_MEMBERS)
        before = log_pauses(srv)  # the import alone writes the log past 64 MiB
        self.assertIsNotNone(before)

        acked = [[] for _ in range(WRITERS)]
        stop = threading.Event()
        threads = start_writers(srv, acked, stop)
        batch_acked = []
        for b in range(BATCHES_MAX):
            events = [{"id": "bulk-%d-%d" % (b, i), "type": "purchase",
                       "external_id": "bulk-%d" % ((b * BATCH + i) * 7919 % BULK_MEMBERS),
                       "order": {"id": "bulk-%d-%d" % (b, i), "total": "%d.00" % (i % 90 + 10),
                                 "currency": "EUR"}} for i in range(BATCH)]
            s, doc = srv.req("POST", "/v1/events:batch", {"events": events})
            self.assertEqual(s, 200, doc)
            self.assertTrue(all(r["status"] == 201 for r in doc["results"]))
            batch_acked += [e["id"] for e in events[::97]] + [events[-1]["id"]]
            if log_pauses(srv) > before:
                break
        pauses = log_pauses(srv) - before
        self.assertGreaterEqual(pauses, 1, "the checkpointer did not start the log over")
        srv.kill9()
        stop.set()
        for th in threads:
            th.join()

        srv.start()
        for eid in batch_acked:
            s, doc = srv.req("GET", "/v1/events/" + eid)
            self.assertEqual(s, 200, "acknowledged batch event %s lost" % eid)
        self.assert_writers_intact(members, acked)
        print("log started over %d times by the checkpointer in %d batches; %d single events"
              " acknowledged, all present after kill -9" % (pauses, b + 1, sum(map(len, acked))))


if __name__ == "__main__":
    harness.main()
