"""Bulk import and export (issue 6): good rows in, bad rows reported with
their line, nothing half-applied, re-import changes nothing."""
import csv
import io
import json
import os
import sys

import harness
from harness import ServerTest

MEMBERS_CSV = """external_id,email,attributes.country,attributes.first_name
imp-1,one@example.com,DE,Ana
imp-2,two@example.com,FR,"Bob, Jr."
imp-3,not-an-email,DE,Cy
imp-4,,ES,Dee
"""

ORDERS_CSV = """type,order_id,external_id,occurred_at,total,currency,sku,category,quantity,unit_price,amount,refund_id
purchase,IO-1,imp-1,2026-01-10T10:00:00Z,30.00,EUR,A,shoes,1,20.00,,
purchase,IO-1,imp-1,2026-01-10T10:00:00Z,30.00,EUR,B,socks,2,5.00,,
purchase,IO-2,imp-2,2026-01-11T10:00:00Z,-5.00,EUR,A,shoes,1,5.00,,
purchase,IO-3,nobody,2026-01-12T10:00:00Z,10.00,EUR,A,shoes,1,10.00,,
purchase,IO-4,,2026-01-13T10:00:00Z,12.00,EUR,A,shoes,1,12.00,,
refund,IO-1,imp-1,2026-01-20T10:00:00Z,,EUR,,,,,10.00,R-1
purchase,IO-6,imp-2,2026-02-01T10:00:00Z,8.00,EUR,C,bags,1,8.00,,
"broken,IO-5,imp-1
"""


class Import(ServerTest):
    def write(self, name, text):
        path = os.path.join(self.srv.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_members_orders_ledger_and_reimport(self):
        srv = self.srv
        rc, out, err = srv.cli("import", "members", self.write("m.csv", MEMBERS_CSV))
        self.assertEqual(rc, 0, err)
        self.assertIn("4 rows: 3 applied, 0 updated, 0 already there, 1 rejected", out)
        self.assertIn("line 4: email: email is not a valid address", err)
        rc, out, err = srv.cli("import", "members", self.write("m.csv", MEMBERS_CSV))
        self.assertIn("4 rows: 0 applied, 3 updated, 0 already there, 1 rejected", out)  # again
        s, m = srv.req("GET", "/v1/members/lookup?external_id=imp-2")
        self.assertEqual(m["attributes"], {"country": "FR", "first_name": "Bob, Jr."})

        path = self.write("o.csv", ORDERS_CSV)
        rc, out, err = srv.cli("import", "orders", path)
        self.assertEqual(rc, 0, err)
        # records: IO-1 (2 lines), IO-2 bad total, IO-3 unknown member, IO-4 guest, refund, broken, IO-6
        self.assertIn("7 rows: 4 applied, 0 updated, 0 already there, 3 rejected", out)
        self.assertIn("line 4: order.total", err)
        self.assertIn("line 5: external_id: no such member", err)
        self.assertIn("line 9: unterminated quote", err)
        s, o = srv.req("GET", "/v1/orders/IO-1")
        self.assertEqual((o["total"], o["refunded"], o["points"], o["points_reversed"]), ("30.00", "10.00", 30, 10))
        s, m1 = srv.req("GET", "/v1/members/lookup?external_id=imp-1")
        self.assertEqual(m1["balance"], 20)
        self.assertError(srv.req("GET", "/v1/orders/IO-2"), 404)  # nothing half-applied

        rc, out, err = srv.cli("import", "orders", path)  # again: nothing more
        self.assertIn("7 rows: 0 applied, 0 updated, 4 already there, 3 rejected", out)
        self.assertEqual(srv.req("GET", "/v1/members/lookup?external_id=imp-1")[1]["balance"], 20)

        # one group commit for the file: rows after refused ones still apply, and a reference
        # repeated inside the file is applied once
        ledger = ("external_id,points,reason,reference\nimp-2,500,migration from old program,L-1\n"
                  "imp-2,-5000,too much,L-2\nnobody,5,x,L-3\nimp-2,7,late,L-4\nimp-2,9,again,L-4\n")
        lp = self.write("l.csv", ledger)
        rc, out, err = srv.cli("import", "ledger", lp)
        self.assertIn("5 rows: 2 applied, 0 updated, 1 already there, 2 rejected", out)
        rc, out, err = srv.cli("import", "ledger", lp)
        self.assertIn("5 rows: 0 applied, 0 updated, 3 already there, 2 rejected", out)
        s, m2 = srv.req("GET", "/v1/members/lookup?external_id=imp-2")
        self.assertEqual(m2["balance"], 8 + 500 + 7)
        rc, out, err = srv.cli("check")
        self.assertEqual(rc, 0, out)

        rc, out, err = srv.cli("export", "members", "--format", "ndjson")
        rows = [json.loads(line) for line in out.splitlines()]
        self.assertEqual({r["external_id"] for r in rows} >= {"imp-1", "imp-2", "imp-4"}, True)
        s, seg = srv.req("POST", "/v1/segments", {"name": "imported DE",
                                                   "condition": {"==": [{"var": "member.attributes.country"}, "DE"]}})
        rc, out, err = srv.cli("export", "segment", str(seg["id"]))
        self.assertEqual(rc, 0, err)
        self.assertEqual([r[1] for r in csv.reader(io.StringIO(out))][1:], ["imp-1"])
        status, data, ctype = srv.raw("GET", "/v1/exports/ledger?format=csv",
                                      headers={"Authorization": "Bearer " + srv.admin_key})
        table = list(csv.reader(io.StringIO(data.decode())))
        self.assertEqual(table[0], ["id", "member_id", "kind", "points", "pending", "balance_after",
                                    "order_id", "event_id", "rules", "reason", "actor", "created_at"])
        self.assertTrue(any(r[2] == "reverse" and r[3] == "-10" for r in table[1:]))
        self.assertTrue(all(r[8] == "" for r in table[1:] if r[2] != "earn"), table)

    def test_online_retail_sample_end_to_end(self):
        """The first 5,000 lines of the real data set (make bench imports all 541,909)."""
        import gzip, subprocess
        src = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data", "online_retail",
                           "online_retail_2010_2011.csv.gz")
        if not os.path.exists(src):
            self.skipTest("data set not present")
        sample = os.path.join(self.srv.dir, "retail.csv")
        with gzip.open(src, "rt") as f, open(sample, "w") as out:
            for i, line in enumerate(f):
                if i > 5000:
                    break
                out.write(line)
        outdir = os.path.join(self.srv.dir, "retail")
        conv = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                                                            "online_retail.py"), sample, outdir],
                              capture_output=True, text=True, check=True)
        counts = conv.stdout.split()
        rc, out, err = self.srv.cli("init", "--name", "retail", "--currency", "GBP", "--timezone", "Europe/London")
        program = out.split("program ")[1].split()[0]
        rc, out, err = self.srv.cli("import", "members", os.path.join(outdir, "members.ndjson"), "--program", program)
        self.assertIn(" 0 rejected", out)
        rc, out, err = self.srv.cli("import", "orders", os.path.join(outdir, "orders.ndjson"), "--program", program)
        self.assertEqual(rc, 0, err)
        self.assertIn(" 0 rejected", out, err)
        events = sum(1 for _ in open(os.path.join(outdir, "orders.ndjson")))
        self.assertIn("%d rows: %d applied" % (events, events), out)
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out)

    def test_api_import_ndjson(self):
        srv = self.srv
        srv.member("nd-1")
        lines = [{"id": "nd-e1", "type": "purchase", "external_id": "nd-1",
                  "order": {"id": "ND-1", "total": "15.00", "currency": "EUR"}},
                 {"id": "nd-e2", "type": "purchase", "external_id": "nd-1",
                  "order": {"id": "ND-2", "total": "oops", "currency": "EUR"}}]
        body = ("\n".join(json.dumps(x) for x in lines) + "\nnot json\n").encode()
        status, data, ctype = srv.raw("POST", "/v1/imports/orders", body,
                                      {"Authorization": "Bearer " + srv.admin_key,
                                       "Content-Type": "application/x-ndjson"})
        rep = json.loads(data)
        self.assertEqual((status, rep["rows"], rep["applied"], rep["rejected"]), (200, 3, 1, 2))
        self.assertEqual([e["line"] for e in rep["errors"]], [2, 3])
        self.assertEqual(rep["errors"][0]["error"]["field"], "order.total")


if __name__ == "__main__":
    harness.main()
