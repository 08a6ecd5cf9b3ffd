"""Durability: every acknowledged event survives kill -9, and the ledger
still balances after restart."""
import threading
import time
import http.client
import json

import harness
from harness import ServerTest

WRITERS = 6


class Crash(ServerTest):
    def test_acknowledged_events_survive_kill_9(self):
        srv = self.srv
        members = [srv.member("crash-%d" % t)["id"] for t in range(WRITERS)]
        acked = [[] for _ in range(WRITERS)]
        stop = threading.Event()

        def writer(t):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            i = 0
            while not stop.is_set():
                eid = "crash-%d-%d" % (t, i)
                body = json.dumps({"id": eid, "type": "purchase", "external_id": "crash-%d" % t,
                                   "order": {"id": eid, "total": "1.00", "currency": "EUR"}})
                try:
                    conn.request("POST", "/v1/events", body,
                                 {"Authorization": "Bearer " + srv.admin_key})
                    r = conn.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    return  # the server is gone
                if r.status == 201:
                    acked[t].append(eid)
                i += 1

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(WRITERS)]
        for th in threads:
            th.start()
        time.sleep(1.5)
        srv.kill9()
        stop.set()
        for th in threads:
            th.join()
        total_acked = sum(len(a) for a in acked)
        self.assertGreater(total_acked, 50, "too few events before the kill to prove anything")

        srv.start()
        for t in range(WRITERS):
            for eid in acked[t]:
                s, doc = srv.req("GET", "/v1/events/" + eid)
                self.assertEqual(s, 200, "acknowledged event %s lost" % eid)
            # the balance is exactly the stored events: nothing half-written
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
        print("acknowledged before kill -9: %d events; all present after restart" % total_acked)


if __name__ == "__main__":
    harness.main()
