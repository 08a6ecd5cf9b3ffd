"""Black-box harness: starts a real `fidelis serve` on an ephemeral loopback
port with a fresh database and talks HTTP to it. Standard library only."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

BINARY = None  # set by main() from argv[1]


PG_PORT = os.environ.get("FIDELIS_TEST_PG_PORT")
PG_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "pg-test.sh")


def fresh_database(directory):
    """A new empty database: a SQLite file, or with FIDELIS_TEST_PG_PORT set, a
    new database in the throwaway PostgreSQL cluster the test run started."""
    if not PG_PORT:
        return os.path.join(directory, "fidelis.db")
    name = "fidelis_" + os.path.basename(directory).replace("-", "_").lower()
    subprocess.run(["sh", PG_SCRIPT, "createdb", PG_PORT, name], check=True)
    return "postgres://postgres@127.0.0.1:%s/%s" % (PG_PORT, name)


class Server:
    def __init__(self, db_dir=None, threads=4, db=None, extra_args=(), allow_private=True):
        self.dir = db_dir or tempfile.mkdtemp(prefix="fidelis-api-")
        self.db = db or fresh_database(self.dir)
        # the tests' webhook receivers listen on loopback, which production refuses by default
        self.extra_args = list(extra_args) + (["--webhook-allow-private"] if allow_private else [])
        self.threads = threads
        self.proc = None
        self.admin_key = None
        self.start()

    def start(self):
        with open(os.path.join(self.dir, "server.log"), "a") as log:
            self.proc = subprocess.Popen(
                [BINARY, "serve", "--db", self.db, "--listen", "127.0.0.1:0", "--demo",
                 "--threads", str(self.threads), "--job-interval", "3600", *self.extra_args],
                stdout=subprocess.PIPE, stderr=log, text=True)
        self.port = None
        for line in self.proc.stdout:
            if line.startswith("admin key: "):
                key = line.split(": ", 1)[1].strip()
                self.admin_key = self.admin_key or key
                self.last_key = key
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
        if not self.port:
            raise RuntimeError("server did not start; see %s/server.log" % self.dir)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def close(self):
        if self.proc:
            rc = self.stop()
            if rc not in (0, None):
                raise RuntimeError("server exited with %s; see %s/server.log" % (rc, self.dir))
        shutil.rmtree(self.dir, ignore_errors=True)

    def cli(self, *args):
        """Runs a `fidelis` command against this server's database."""
        r = subprocess.run([BINARY, *args, "--db", self.db], capture_output=True, text=True,
                           timeout=120)
        return r.returncode, r.stdout, r.stderr

    def sql(self, query):
        """The rows of a read-only query on this server's database, SQLite or
        PostgreSQL (through psql), with integers as int: for tests that check
        what is stored where the API does not show it."""
        if not PG_PORT:
            import sqlite3
            db = sqlite3.connect(self.db)
            try:
                return db.execute(query).fetchall()
            finally:
                db.close()
        out = subprocess.run(["psql", self.db, "-XAtq", "-F", "\t", "-c", query], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        return [tuple(int(v) if re.fullmatch(r"-?\d+", v) else v for v in line.split("\t"))
                for line in out.splitlines()]

    # A request that gets no answer within this many seconds fails its test. Generous: the
    # bulk requests (a 30,000-member import, batches of thousands of events) take seconds
    # alone and several times that beside the PostgreSQL tests on two cores; a hang is
    # still caught, and ctest bounds each test besides.
    REQUEST_TIMEOUT_S = 120

    def raw(self, method, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.REQUEST_TIMEOUT_S)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r.getheader("Content-Type")

    def post_kept_alive(self, conn, path, body):
        """POSTs body (JSON text) with the admin key on the kept-alive
        connection conn: the status, or None once the server is gone."""
        try:
            conn.request("POST", path, body, {"Authorization": "Bearer " + self.admin_key})
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            return None
        return r.status

    def req(self, method, path, body=None, key="admin"):
        headers = {}
        if key == "admin":
            key = self.admin_key
        if key:
            headers["Authorization"] = "Bearer " + key
        payload = b""
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        status, data, ctype = self.raw(method, path, payload, headers)
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = data.decode(errors="replace")
        return status, doc

    # conveniences
    def member(self, external_id, key="admin", **fields):
        s, m = self.req("POST", "/v1/members", dict(external_id=external_id, **fields), key=key)
        assert s in (200, 201), (s, m)
        return m

    def purchase(self, event_id, external_id, total, order_id=None, key="admin", **extra):
        body = {"id": event_id, "type": "purchase", "external_id": external_id,
                "order": {"id": order_id or "order-" + event_id, "total": total,
                          "currency": "EUR"}}
        body.update(extra)
        return self.req("POST", "/v1/events", body, key=key)

    def refund(self, event_id, order_id, amount=None):
        body = {"id": event_id, "type": "refund", "order_id": order_id}
        if amount is not None:
            body["amount"] = amount
        return self.req("POST", "/v1/events", body)

    def set_clock(self, iso):
        s, doc = self.req("POST", "/v1/_test/clock", {"now": iso})
        assert s == 200, (s, doc)

    def balance(self, member_id):
        s, m = self.req("GET", "/v1/members/%d" % member_id)
        assert s == 200, (s, m)
        return m["balance"], m["pending"]

    def key(self, role, **extra):
        s, doc = self.req("POST", "/v1/keys", dict(role=role, **extra))
        assert s == 201, (s, doc)
        return doc["key"]


class ServerTest(unittest.TestCase):
    """One fresh server and database per test class."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def assertError(self, result, status, code=None, field=None):
        s, doc = result
        self.assertEqual(s, status, doc)
        self.assertIsInstance(doc, dict, doc)
        self.assertIn("error", doc)
        self.assertIn("message", doc["error"])
        if code:
            self.assertEqual(doc["error"]["code"], code, doc)
        if field:
            self.assertEqual(doc["error"]["field"], field, doc)


def main():
    global BINARY
    if len(sys.argv) < 2:
        sys.exit("usage: test_x.py PATH_TO_FIDELIS")
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
