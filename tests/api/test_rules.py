"""Earning rules (issue 3): the examples marketers rely on, end to end."""
import csv
import io
import json
import threading

import harness
from harness import ServerTest


class RuleTest(ServerTest):
    """Each test runs in a program of its own, so rules never meet."""

    def setUp(self):
        rc, out, err = self.srv.cli("init", "--name", self._testMethodName)
        self.assertEqual(rc, 0, err)
        self.key = out.split("admin key: ")[1].strip()

    def req(self, method, path, body=None):
        return self.srv.req(method, path, body, key=self.key)

    def rule(self, **definition):
        s, r = self.req("POST", "/v1/earning-rules", definition)
        self.assertEqual(s, 201, r)
        return r

    def member(self, ext, **fields):
        s, m = self.req("POST", "/v1/members", dict(external_id=ext, **fields))
        self.assertEqual(s, 201, m)
        return m

    def buy(self, eid, ext, total, lines=None, at=None, **order):
        o = {"id": "o-" + eid, "total": total, "currency": "EUR"}
        if lines:
            o["lines"] = lines
        o.update(order)
        body = {"id": eid, "type": "purchase", "external_id": ext, "order": o}
        if at:
            body["occurred_at"] = at
        s, e = self.req("POST", "/v1/events", body)
        self.assertIn(s, (200, 201), e)
        return e

    def event(self, eid, ext, type_, **extra):
        body = dict(id=eid, type=type_, external_id=ext, **extra)
        return self.req("POST", "/v1/events", body)

    def balance(self, m):
        return self.req("GET", "/v1/members/%d" % m["id"])[1]["balance"]


PER_EURO = {"type": "per_amount", "rate": "1", "rounding": "floor"}

# The journal's rule shares back in their table of migration 22 (undoes 26).
UNDO_MIGRATION_26 = (
    "CREATE TABLE journal_rules(program_id BIGINT NOT NULL, entry_id BIGINT NOT NULL,"
    " rule_id BIGINT NOT NULL, rule_version BIGINT NOT NULL, points BIGINT NOT NULL,"
    " PRIMARY KEY (entry_id, rule_id)) WITHOUT ROWID;"
    "INSERT INTO journal_rules SELECT j.program_id, j.id, s.value ->> 0, s.value ->> 1,"
    " s.value ->> 2 FROM journal j, json_each(j.rules) s WHERE j.rules IS NOT NULL;"
    "ALTER TABLE journal DROP COLUMN rules;")

# Undoes migrations 26 to 19 on a SQLite file (the tests that rewind to an earlier schema run it
# first; migration 20 can run again as it is): the day buckets' program index back, each journal
# entry naming its first rule again (the tests that use it earn with one rule per event, or do not
# read the shares), the tier placement's column dropped, and the rules' column as migration 2 made
# it, holding the same totals.
UNDO_MIGRATIONS_19_26 = UNDO_MIGRATION_26 + (
    "DROP INDEX lots_member; CREATE INDEX lots_member ON lots(member_id, status, expires_at);"
    "DROP TABLE member_event_counts;"
    "CREATE INDEX member_days_program ON member_days(program_id, day);"
    "UPDATE journal SET rule_id = (SELECT MIN(rule_id) FROM journal_rules p"
    " WHERE p.entry_id = journal.id), rule_version = (SELECT MIN(rule_version)"
    " FROM journal_rules p WHERE p.entry_id = journal.id);"
    "DROP TABLE journal_rules;"
    "ALTER TABLE programs DROP COLUMN tiers_placed_through;"
    "ALTER TABLE earning_rules ADD COLUMN points_awarded BIGINT NOT NULL DEFAULT 0;"
    "UPDATE earning_rules SET points_awarded = (SELECT points_awarded FROM rule_totals"
    " WHERE rule_id = earning_rules.id);"
    "DROP TABLE rule_totals;")
DE = {"==": [{"var": "member.attributes.country"}, "DE"]}


class Earning(RuleTest):
    def test_one_point_per_euro_floor(self):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.member("c1")
        e = self.buy("e1", "c1", "105.99")
        self.assertEqual(e["points"], 105)
        self.assertEqual(e["rules"][0]["name"], "base")

    def test_german_members_double_on_mondays_in_berlin_time(self):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.rule(name="DE Monday", trigger="purchase", condition=DE,
                  schedule={"days": ["mon"]}, effect={"type": "multiplier", "factor": "2"})
        self.member("de", attributes={"country": "DE"})
        self.member("fr", attributes={"country": "FR"})
        # winter (CET, UTC+1): Monday 00:30 Berlin is Sunday 23:30 UTC
        self.assertEqual(self.buy("w1", "de", "10.00", at="2026-11-22T23:30:00Z")["points"], 20)
        self.assertEqual(self.buy("w2", "de", "10.00", at="2026-11-22T22:30:00Z")["points"], 10)
        self.assertEqual(self.buy("w3", "fr", "10.00", at="2026-11-22T23:30:00Z")["points"], 10)
        # summer (CEST, UTC+2): Monday 00:30 Berlin is Sunday 22:30 UTC
        self.assertEqual(self.buy("s1", "de", "10.00", at="2026-07-05T22:30:00Z")["points"], 20)
        self.assertEqual(self.buy("s2", "de", "10.00", at="2026-07-05T21:30:00Z")["points"], 10)

    def test_category_rates_sum_by_line(self):
        self.rule(name="shoes x3", trigger="purchase", lines={"categories": ["shoes"]},
                  effect={"type": "per_amount", "rate": "3"})
        self.rule(name="others x1", trigger="purchase", exclude={"categories": ["shoes"]},
                  effect=PER_EURO)
        self.member("c2")
        e = self.buy("e2", "c2", "70.00", lines=[
            {"sku": "RUN-1", "category": "shoes", "quantity": 1, "unit_price": "50.00"},
            {"sku": "TEE-1", "category": "shirts", "quantity": 2, "unit_price": "10.00"}])
        self.assertEqual(e["points"], 170)
        by_rule = {r["name"]: r["points"] for r in e["rules"]}
        self.assertEqual(by_rule, {"shoes x3": 150, "others x1": 20})

    def happy_hour_and_monday(self, stacking):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.rule(name="DE Monday", trigger="purchase", condition=DE, schedule={"days": ["mon"]},
                  effect={"type": "multiplier", "factor": "2", "stacking": stacking})
        self.rule(name="happy hour", trigger="purchase",
                  schedule={"hours": {"from": "18:00", "to": "20:00"}},
                  effect={"type": "multiplier", "factor": "1.5", "stacking": stacking})
        self.member("hh", attributes={"country": "DE"})
        # Monday 2026-11-23 18:30 Berlin = 17:30 UTC
        return self.buy("hh1", "hh", "100.00", at="2026-11-23T17:30:00Z")["points"]

    def test_multipliers_stack(self):
        self.assertEqual(self.happy_hour_and_monday("stack"), 300)

    def test_multipliers_best_wins(self):
        self.assertEqual(self.happy_hour_and_monday("best"), 200)

    def test_happy_hour_boundaries(self):
        self.rule(name="happy hour", trigger="purchase",
                  schedule={"hours": {"from": "18:00", "to": "20:00"}}, effect=PER_EURO)
        self.member("hb")
        self.assertEqual(self.buy("b1", "hb", "10.00", at="2026-11-23T16:59:59Z")["points"], 0)
        self.assertEqual(self.buy("b2", "hb", "10.00", at="2026-11-23T17:00:00Z")["points"], 10)
        self.assertEqual(self.buy("b3", "hb", "10.00", at="2026-11-23T18:59:59Z")["points"], 10)
        self.assertEqual(self.buy("b4", "hb", "10.00", at="2026-11-23T19:00:00Z")["points"], 0)

    def test_social_like_cap_is_exact_under_concurrency(self):
        self.rule(name="social like", trigger="social_like", effect={"type": "fixed", "points": 7},
                  limits={"member_points": {"max": 100, "period": "lifetime"}})
        m = self.member("social")
        results = []

        def like(i):
            results.append(self.event("like-%d" % i, "social", "social_like")[0])

        threads = [threading.Thread(target=like, args=(i,)) for i in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results.count(201), 50)
        self.assertEqual(self.balance(m), 100)  # 14 x 7 = 98, then the last 2
        s, sim = self.req("POST", "/v1/simulate", {"type": "social_like", "external_id": "social"})
        self.assertEqual(sim["points"], 0)
        self.assertEqual(sim["rules"][0]["reason"], "member_cap")

    def test_newsletter_once_and_reviews_per_month(self):
        self.rule(name="newsletter", trigger="newsletter_signup", effect={"type": "fixed", "points": 50},
                  limits={"member_triggers": {"max": 1, "period": "lifetime"}})
        self.rule(name="review", trigger="review_written", effect={"type": "fixed", "points": 20},
                  limits={"member_triggers": {"max": 5, "period": "month"}})
        m = self.member("news")
        self.assertEqual(self.event("n1", "news", "newsletter_signup")[1]["points"], 50)
        self.assertEqual(self.event("n2", "news", "newsletter_signup")[1]["points"], 0)
        got = [self.event("r%d" % i, "news", "review_written", occurred_at="2026-10-0%dT12:00:00Z" % (i + 1))[1]["points"]
               for i in range(7)]
        self.assertEqual(got, [20] * 5 + [0, 0])
        e = self.event("r-nov", "news", "review_written", occurred_at="2026-11-02T12:00:00Z")[1]
        self.assertEqual(e["points"], 20)
        self.assertEqual(self.balance(m), 50 + 6 * 20)

    def test_budget_refuse_and_partial(self):
        refuse = self.rule(name="launch", trigger="app_install", effect={"type": "fixed", "points": 10},
                           limits={"budget_points": 25})
        for ext in ("a", "b", "c"):
            self.member(ext)
        self.assertEqual(self.event("i1", "a", "app_install")[1]["points"], 10)
        self.assertEqual(self.event("i2", "b", "app_install")[1]["points"], 10)
        self.assertEqual(self.event("i3", "c", "app_install")[1]["points"], 0)
        d = {k: refuse[k] for k in ("name", "trigger", "effect")}
        d["limits"] = {"budget_points": 25, "budget_mode": "partial"}
        s, r = self.req("PUT", "/v1/earning-rules/%d" % refuse["id"], d)
        self.assertEqual((s, r["version"], r["points_awarded"]), (200, 2, 20))
        self.assertEqual(self.event("i4", "c", "app_install")[1]["points"], 5)
        s, r = self.req("GET", "/v1/earning-rules/%d" % refuse["id"])
        self.assertEqual(r["points_awarded"], 25)

    def test_points_awarded_per_rule_when_many_fire(self):
        """Each rule counts what it awarded; an event that fires 18 rules adds
        to each of them, and its one journal entry names every rule's share
        (written 16 per statement) and all their names."""
        rules = [self.rule(name="fixed %d" % i, trigger="purchase",
                           effect={"type": "fixed", "points": i + 1}) for i in range(18)]
        m = self.member("many")
        self.assertEqual([self.buy("mf%d" % k, "many", "1.00")["points"] for k in range(2)],
                         [171, 171])
        awarded = [self.req("GET", "/v1/earning-rules/%d" % r["id"])[1]["points_awarded"]
                   for r in rules]
        self.assertEqual(awarded, [2 * (i + 1) for i in range(18)])
        entries = self.req("GET", "/v1/members/%d/ledger?limit=100" % m["id"])[1]["data"][::-1]
        self.assertEqual([(e["event_id"], e["kind"], e["points"], e["balance_after"]) for e in entries],
                         [("mf0", "earn", 171, 171), ("mf1", "earn", 171, 342)])
        for e in entries:
            self.assertEqual(e["rules"], [{"rule_id": r["id"], "version": 1, "points": i + 1}
                                          for i, r in enumerate(rules)])
            self.assertEqual(e["reason"], ", ".join("fixed %d" % i for i in range(18)))
        self.assertEqual(self.balance(m), 342)
        # a page counts entries, not their shares' rows
        pages, cursor = [], ""
        while True:
            page = self.req("GET", "/v1/members/%d/ledger?limit=1%s" % (m["id"], cursor))[1]
            pages.append([(e["event_id"], len(e["rules"])) for e in page["data"]])
            if not page["next_cursor"]:
                break
            cursor = "&cursor=" + page["next_cursor"]
        self.assertEqual(pages, [[("mf1", 18)], [("mf0", 18)], []])
        auth = {"Authorization": "Bearer " + self.key}
        status, data, ctype = self.srv.raw("GET", "/v1/exports/ledger?format=ndjson", headers=auth)
        exported = [json.loads(line) for line in data.decode().splitlines()]
        self.assertEqual([(x["event_id"], x["rules"]) for x in exported],
                         [(e["event_id"], e["rules"]) for e in entries])
        status, data, ctype = self.srv.raw("GET", "/v1/exports/ledger?format=csv", headers=auth)
        table = list(csv.reader(io.StringIO(data.decode())))
        self.assertEqual(table[0][8], "rules")
        self.assertEqual([r[8] for r in table[1:]],
                         [" ".join("%d:%d" % (r["id"], i + 1) for i, r in enumerate(rules))] * 2)
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)

    def test_entry_reason_counts_the_rules_whose_names_do_not_fit(self):
        """An entry's reason names its rules while they fit in 255 bytes and
        counts the others; its rules list every share all the same."""
        rules = [self.rule(name=("%d" % i) * 120, trigger="purchase",
                           effect={"type": "fixed", "points": 10 ** i}) for i in range(1, 4)]
        m = self.member("long")
        self.assertEqual(self.buy("ln", "long", "1.00")["points"], 1110)
        e = self.req("GET", "/v1/members/%d/ledger" % m["id"])[1]["data"][0]
        self.assertEqual(e["reason"], "1" * 120 + " and 2 more")
        self.assertEqual([(x["rule_id"], x["points"]) for x in e["rules"]],
                         [(r["id"], 10 ** (i + 1)) for i, r in enumerate(rules)])
        self.req("POST", "/v1/members/%d/adjustments" % m["id"], {"points": -10, "reason": "fix"})
        e = self.req("GET", "/v1/members/%d/ledger" % m["id"])[1]["data"][0]
        self.assertEqual((e["kind"], e["reason"], e["rules"]), ("adjust", "fix", []))

    def test_nth_order_bonus(self):
        self.rule(name="third order", trigger="purchase",
                  effect={"type": "nth_order", "n": 3, "points": 100})
        self.member("nth")
        got = [self.buy("n%d" % i, "nth", "1.00")["points"] for i in range(4)]
        self.assertEqual(got, [0, 0, 100, 0])
        # a refunded order was still placed: it keeps its place in the count
        self.member("nth-r")
        self.assertEqual(self.buy("r0", "nth-r", "1.00")["points"], 0)
        self.assertEqual(self.req("POST", "/v1/events", {"id": "r0-back", "type": "refund",
                                                          "order_id": "o-r0"})[0], 201)
        got = [self.buy("r%d" % i, "nth-r", "1.00")["points"] for i in (1, 2)]
        self.assertEqual(got, [0, 100])

    def test_nth_order_count_carried_over_by_migration_17(self):
        """Migration 17 counts each member's earlier orders (refunded ones
        included) into member_stats.orders_placed."""
        if harness.PG_PORT:
            self.skipTest("rewinds a SQLite file to schema 16")
        import sqlite3
        self.rule(name="third order", trigger="purchase",
                  effect={"type": "nth_order", "n": 3, "points": 100})
        self.member("mig")
        self.buy("m0", "mig", "1.00")
        self.assertEqual(self.req("POST", "/v1/events", {"id": "m0-back", "type": "refund",
                                                          "order_id": "o-m0"})[0], 201)
        self.buy("m1", "mig", "1.00")
        self.member("mig-new")
        self.srv.stop()
        db = sqlite3.connect(self.srv.db)
        db.executescript(UNDO_MIGRATIONS_19_26 +
                         "ALTER TABLE member_stats DROP COLUMN orders_placed;"
                         "CREATE INDEX orders_member ON orders(member_id, occurred_at);"
                         "DELETE FROM schema_migrations WHERE version >= 17;")
        db.close()
        self.srv.start()
        self.assertEqual(self.buy("m2", "mig", "1.00")["points"], 100)
        self.assertEqual([self.buy("n%d" % i, "mig-new", "1.00")["points"] for i in range(3)],
                         [0, 0, 100])

    def test_usage_and_day_buckets_carried_over_by_migration_18(self):
        """Migration 18 rebuilds rule usage and the day buckets in the order of
        their keys: a cap already half used and the spend of the last 30 days
        read the same after it."""
        if harness.PG_PORT:
            self.skipTest("rewinds a SQLite file to schema 17")
        import sqlite3
        self.rule(name="capped", trigger="purchase", effect=PER_EURO,
                  limits={"member_points": {"max": 100, "period": "lifetime"}})
        self.rule(name="regular", trigger="purchase",
                  condition={">=": [{"var": "member.stats.spend_30d"}, 90]},
                  effect={"type": "fixed", "points": 7})
        self.member("mig18")
        self.assertEqual(self.buy("g0", "mig18", "60.00")["points"], 60)
        self.srv.stop()
        db = sqlite3.connect(self.srv.db)
        db.executescript(  # the tables as migrations 2 and 3 made them, holding the same rows
            UNDO_MIGRATIONS_19_26 +
            "CREATE TABLE md(id INTEGER PRIMARY KEY, program_id BIGINT NOT NULL,"
            " member_id BIGINT NOT NULL, day BIGINT NOT NULL, spend BIGINT NOT NULL,"
            " orders BIGINT NOT NULL, points BIGINT NOT NULL);"
            "INSERT INTO md(program_id, member_id, day, spend, orders, points)"
            " SELECT program_id, member_id, day, spend, orders, points FROM member_days;"
            "DROP TABLE member_days; ALTER TABLE md RENAME TO member_days;"
            "CREATE UNIQUE INDEX member_days_key ON member_days(member_id, day);"
            "CREATE INDEX member_days_program ON member_days(program_id, day);"
            "CREATE TABLE ru(id INTEGER PRIMARY KEY, program_id BIGINT NOT NULL,"
            " rule_id BIGINT NOT NULL, member_id BIGINT NOT NULL, period TEXT NOT NULL,"
            " points BIGINT NOT NULL, triggers BIGINT NOT NULL);"
            "INSERT INTO ru(program_id, rule_id, member_id, period, points, triggers)"
            " SELECT program_id, rule_id, member_id, period, points, triggers FROM rule_usage;"
            "DROP TABLE rule_usage; ALTER TABLE ru RENAME TO rule_usage;"
            "CREATE UNIQUE INDEX rule_usage_key ON rule_usage(rule_id, member_id, period);"
            "DELETE FROM schema_migrations WHERE version >= 18;")
        db.close()
        self.srv.start()
        e = self.buy("g1", "mig18", "60.00")  # 40 left under the cap; 60.00 spent before it
        self.assertEqual({r["name"]: r["points"] for r in e["rules"]}, {"capped": 40})
        e = self.buy("g2", "mig18", "60.00")  # the cap reached; 120.00 spent in 30 days before it
        self.assertEqual((e["points"], [r["name"] for r in e["rules"] if r["points"]]), (7, ["regular"]))
        db = sqlite3.connect(self.srv.db)
        tables = dict(db.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'table'"
                                 " AND name IN ('member_days', 'rule_usage')").fetchall())
        db.close()
        self.assertTrue(all("WITHOUT ROWID" in sql for sql in tables.values()), tables)

    def test_conditions_see_every_part_of_the_context_they_read(self):
        """An event builds only the parts of the context some condition may
        read (attributes, time, order lines, the stats windows, segments and
        what their own conditions read): each way of reading one still finds it, and awards
        what the simulation (which builds everything) says. One program per
        case, so that no other rule's reads build the part."""
        century = {">=": [{"var": "time.year"}, 2000]}
        shoes = {"some": [{"var": "order.lines"}, {"==": [{"var": "category"}, "shoes"]}]}
        cases = [  # (segment condition, rule condition, points for DE with shoes, FR with bags)
            (None, century, 5, 5),
            (None, shoes, 5, 0),
            (None, DE, 5, 0),
            (century, {"in_segment": "s"}, 5, 5),
            (DE, {"in_segment": "s"}, 5, 0),
            (century, {"in": ["s", {"var": "member.segments"}]}, 5, 5),
            (None, {"!=": [{"var": "member.stats.orders_30d"}, None]}, 5, 5),  # 0 when built
            ({"!=": [{"var": "member.stats.points_365d"}, None]}, {"in_segment": "s"}, 5, 5),
        ]
        for k, (segment, condition, de, fr) in enumerate(cases):
            rc, out, err = self.srv.cli("init", "--name", "parts %d" % k)
            self.assertEqual(rc, 0, err)
            self.key = out.split("admin key: ")[1].strip()
            if segment:
                self.assertEqual(self.req("POST", "/v1/segments",
                                          {"name": "s", "condition": segment})[0], 201)
            self.rule(name="r", trigger="purchase", condition=condition,
                      effect={"type": "fixed", "points": 5})
            for ext, country, category, want in (("de", "DE", "shoes", de), ("fr", "FR", "bags", fr)):
                self.member(ext, attributes={"country": country})
                body = {"id": ext, "type": "purchase", "external_id": ext, "order": {
                    "id": "o-" + ext, "total": "10.00", "currency": "EUR", "lines": [
                        {"sku": "X", "category": category, "quantity": 1, "unit_price": "10.00"}]}}
                s, sim = self.req("POST", "/v1/simulate", body)
                self.assertEqual((s, sim["points"]), (200, want), (k, ext, sim))
                s, e = self.req("POST", "/v1/events", body)
                self.assertEqual((s, e["points"]), (201, want), (k, ext, e))

    def test_rule_totals_carried_over_by_migration_19(self):
        """Migration 19 moves each rule's awarded points out of earning_rules
        into rule_totals: the totals and a budget half used read the same after
        it, a rule created afterwards starts at 0, and each award adds to it."""
        if harness.PG_PORT:
            self.skipTest("rewinds a SQLite file to schema 18")
        import sqlite3
        budgeted = self.rule(name="budgeted", trigger="purchase", effect=PER_EURO,
                             limits={"budget_points": 100, "budget_mode": "partial"})
        fixed = self.rule(name="fixed", trigger="purchase", effect={"type": "fixed", "points": 3})
        self.member("mig19")
        self.assertEqual(self.buy("t0", "mig19", "60.00")["points"], 63)
        self.srv.stop()
        db = sqlite3.connect(self.srv.db)
        db.executescript(UNDO_MIGRATIONS_19_26 + "DELETE FROM schema_migrations WHERE version >= 19;")
        db.close()
        self.srv.start()
        awarded = lambda r: self.req("GET", "/v1/earning-rules/%d" % r["id"])[1]["points_awarded"]
        self.assertEqual((awarded(budgeted), awarded(fixed)), (60, 3))
        late = self.rule(name="late", trigger="purchase", effect={"type": "fixed", "points": 5})
        self.assertEqual(awarded(late), 0)
        e = self.buy("t1", "mig19", "60.00")  # 40 left in the budget
        self.assertEqual({r["name"]: r["points"] for r in e["rules"]},
                         {"budgeted": 40, "fixed": 3, "late": 5})
        self.assertEqual([awarded(r) for r in (budgeted, fixed, late)], [100, 6, 5])
        db = sqlite3.connect(self.srv.db)
        columns = [row[1] for row in db.execute("PRAGMA table_info(earning_rules)")]
        db.close()
        self.assertNotIn("points_awarded", columns)

    def test_rule_shares_carried_over_by_migration_22(self):
        """Before migration 22 an earning wrote one journal entry per awarding
        rule, naming it in journal.rule_id; after it, those entries list that
        rule as their one share, the ledger still reconciles, and a new
        earning writes one entry with both shares."""
        if harness.PG_PORT:
            self.skipTest("rewinds a SQLite file to schema 21")
        import sqlite3
        base = self.rule(name="base", trigger="purchase", effect=PER_EURO)
        fixed = self.rule(name="fixed", trigger="purchase", effect={"type": "fixed", "points": 3})
        m = self.member("mig22")
        self.assertEqual(self.buy("s0", "mig22", "60.00")["points"], 63)
        self.srv.stop()
        db = sqlite3.connect(self.srv.db)
        (entry, lot), = db.execute("SELECT id, lot_id FROM journal WHERE event_id = 's0'").fetchall()
        db.executescript(  # the entries as the ledger wrote them before: one per rule
            "DELETE FROM journal WHERE id = %d;"
            "INSERT INTO journal(id, program_id, member_id, kind, points, pending, balance_after,"
            " lot_id, event_id, order_id, reason, actor, created_at, rule_id, rule_version)"
            " SELECT %d + k, program_id, id, 'earn', pts, 0, after, %d, 's0', 'o-s0', name,"
            " 'test', 1, rule, 1 FROM members, (SELECT 0 AS k, 60 AS pts, 60 AS after,"
            " 'base' AS name, %d AS rule UNION ALL SELECT 1, 3, 63, 'fixed', %d)"
            " WHERE external_id = 'mig22';"
            % (entry, entry, lot, base["id"], fixed["id"]) +
            "ALTER TABLE journal DROP COLUMN rules;"  # undoes 26 (and 22: the shares were there)
            "DELETE FROM schema_migrations WHERE version >= 22;"
            "CREATE INDEX member_days_program ON member_days(program_id, day);"  # undoes 23
            "DROP TABLE member_event_counts;"  # and 24
            "DROP INDEX lots_member; CREATE INDEX lots_member ON lots(member_id, status, expires_at);")
        db.close()
        self.srv.start()
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.buy("s1", "mig22", "10.00")["points"], 13)
        entries = self.req("GET", "/v1/members/%d/ledger" % m["id"])[1]["data"][::-1]
        self.assertEqual([(e["points"], e["balance_after"], e["reason"],
                           [(x["rule_id"], x["points"]) for x in e["rules"]]) for e in entries],
                         [(60, 60, "base", [(base["id"], 60)]), (3, 63, "fixed", [(fixed["id"], 3)]),
                          (13, 76, "base, fixed", [(base["id"], 10), (fixed["id"], 3)])])
        rc, out, err = self.srv.cli("check")
        self.assertEqual(rc, 0, out + err)
        db = sqlite3.connect(self.srv.db)  # migration 23: the unread index is gone
        self.assertEqual(db.execute("SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index'"
                                    " AND tbl_name = 'member_days'").fetchone()[0], 0)
        db.close()

    def test_earning_base_and_exclusions(self):
        lines = [{"sku": "GIFT-50", "category": "gift_cards", "quantity": 1, "unit_price": "50.00"},
                 {"sku": "BAG-1", "category": "bags", "quantity": 1, "unit_price": "50.00"}]
        self.rule(name="paid", trigger="purchase", exclude={"skus": ["GIFT-50"]}, effect=PER_EURO)
        self.rule(name="gross", trigger="purchase", base="gross", exclude={"categories": ["gift_cards"]},
                  effect={"type": "per_amount", "rate": "10"})
        self.rule(name="shipping", trigger="purchase", base="paid_with_shipping",
                  effect={"type": "per_amount", "rate": "100"})
        self.member("base")
        # 100.00 of goods with a 20 % discount: paid 80.00, prorated 40.00 per line; shipping 5.00
        e = self.buy("b1", "base", "80.00", lines=lines, shipping="5.00")
        by_rule = {r["name"]: r["points"] for r in e["rules"]}
        self.assertEqual(by_rule, {"paid": 40, "gross": 500, "shipping": 8500})

    def test_rounding_per_line_or_per_order(self):
        lines = [{"sku": "A", "quantity": 1, "unit_price": "0.60"},
                 {"sku": "B", "quantity": 1, "unit_price": "0.60"}]
        self.rule(name="per order", trigger="purchase", effect=PER_EURO)
        self.rule(name="per line", trigger="purchase", effect={"type": "per_amount", "rate": "1", "per": "line"})
        self.rule(name="per line ceil", trigger="purchase",
                  effect={"type": "per_amount", "rate": "1", "per": "line", "rounding": "ceil"})
        self.member("round")
        e = self.buy("r1", "round", "1.20", lines=lines)
        by_rule = {r["name"]: r["points"] for r in e["rules"]}
        self.assertEqual(by_rule, {"per order": 1, "per line ceil": 2})

    def test_exclusive_rule_stops_lower_priorities(self):
        self.rule(name="vip only", trigger="purchase", priority=10, exclusive=True,
                  condition={"==": [{"var": "member.attributes.vip"}, True]},
                  effect={"type": "per_amount", "rate": "5"})
        self.rule(name="base", trigger="purchase", priority=1, effect=PER_EURO)
        self.member("vip", attributes={"vip": True})
        self.member("normal")
        self.assertEqual(self.buy("v1", "vip", "10.00")["points"], 50)
        self.assertEqual(self.buy("v2", "normal", "10.00")["points"], 10)

    def test_explanation_cut_at_its_limit_stays_text(self):
        """A simulation's detail that passes its 127 bytes is cut before a whole
        character: a name of two-byte letters cut inside one still shows."""
        name = "a" + "\u00e9" * 62  # 125 bytes: the detail's cut at 127 falls inside a letter
        self.rule(name=name, trigger="purchase", priority=10, exclusive=True, effect=PER_EURO)
        self.rule(name="base", trigger="purchase", priority=1, effect=PER_EURO)
        self.member("cut")
        s, sim = self.req("POST", "/v1/simulate", {"type": "purchase", "external_id": "cut",
                                                   "order": {"id": "S", "total": "10.00",
                                                             "currency": "EUR"}})
        self.assertEqual(s, 200, sim)
        base = [r for r in sim["rules"] if r["name"] == "base"][0]
        self.assertEqual(base["reason"], "excluded")
        detail = base["detail"]
        self.assertTrue(detail.startswith('skipped: exclusive rule "a\u00e9\u00e9'), detail)
        self.assertLessEqual(len(detail.encode()), 127)
        self.assertGreaterEqual(len(detail.encode()), 126)  # at most one character dropped

    def test_refund_reverses_points_of_every_rule(self):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.rule(name="bonus", trigger="purchase", effect={"type": "fixed", "points": 10})
        m = self.member("ref")
        e = self.buy("p1", "ref", "40.00")
        self.assertEqual(e["points"], 50)
        s, r = self.req("POST", "/v1/events", {"id": "p1-r", "type": "refund", "order_id": "o-p1"})
        self.assertEqual((s, r["points_reversed"]), (201, 50))
        self.assertEqual(self.balance(m), 0)


class CountersInContext(RuleTest):
    """The earn path builds the per-category and per-SKU counters only when a
    condition reads them (docs/performance.md): rules, segments and campaign
    audiences that do must still see them."""

    SHOES = [{"sku": "S1", "category": "shoes", "quantity": 2, "unit_price": "10.00"}]

    def test_rule_reading_favourite_category(self):
        self.rule(name="shoe lovers", trigger="purchase", effect={"type": "fixed", "points": 7},
                  condition={"==": [{"var": "member.stats.favourite_category"}, "shoes"]})
        self.member("c1")
        self.assertEqual(self.buy("e1", "c1", "20.00", self.SHOES)["points"], 0)  # counted after
        self.assertEqual(self.buy("e2", "c1", "20.00", self.SHOES)["points"], 7)

    def test_segment_reading_sku_counts_feeds_a_rule(self):
        s, seg = self.req("POST", "/v1/segments", {"name": "s1 fans", "condition": {
            ">=": [{"var": "member.stats.sku_counts.S1"}, 4]}})
        self.assertEqual(s, 201, seg)
        self.rule(name="fans", trigger="purchase", effect={"type": "fixed", "points": 9},
                  condition={"in": ["s1 fans", {"var": "member.segments"}]})
        self.member("c1")
        self.assertEqual(self.buy("e1", "c1", "20.00", self.SHOES)["points"], 0)
        self.assertEqual(self.buy("e2", "c1", "20.00", self.SHOES)["points"], 0)  # 2 so far
        self.assertEqual(self.buy("e3", "c1", "20.00", self.SHOES)["points"], 9)  # 4

    def test_rules_reading_channels_and_category_counts(self):
        self.rule(name="web again", trigger="purchase", effect={"type": "fixed", "points": 3},
                  condition={"in": ["web", {"var": "member.stats.channels"}]})
        self.rule(name="object", trigger="purchase", effect={"type": "fixed", "points": 5},
                  condition={"!!": {"var": "member.stats.category_counts.shoes"}})
        self.member("c1")
        for eid, points in (("e1", 0), ("e2", 8)):
            s, e = self.req("POST", "/v1/events", {
                "id": eid, "type": "purchase", "external_id": "c1", "channel": "web",
                "order": {"id": "o-" + eid, "total": "20.00", "currency": "EUR",
                          "lines": self.SHOES}})
            self.assertEqual(s, 201, e)
            self.assertEqual(e["points"], points)


class Management(RuleTest):
    def test_versions_journal_and_kill_switch(self):
        r = self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.assertEqual((r["version"], r["active"]), (1, True))
        m = self.member("v")
        self.buy("k1", "v", "10.00")
        d = {"name": "base x2", "trigger": "purchase", "effect": {"type": "per_amount", "rate": "2"}}
        s, r2 = self.req("PUT", "/v1/earning-rules/%d" % r["id"], d)
        self.assertEqual((s, r2["version"], r2["name"]), (200, 2, "base x2"))
        self.assertEqual(self.buy("k2", "v", "10.00")["points"], 20)  # next event, no restart
        s, ledger = self.req("GET", "/v1/members/%d/ledger" % m["id"])
        self.assertEqual([(e["reason"], e["points"]) for e in ledger["data"]],
                         [("base x2", 20), ("base", 10)])
        s, off = self.req("PATCH", "/v1/earning-rules/%d" % r["id"], {"active": False})
        self.assertEqual((s, off["active"], off["version"]), (200, False, 3))
        self.assertEqual(self.buy("k3", "v", "10.00")["points"], 0)
        s, versions = self.req("GET", "/v1/earning-rules/%d/versions" % r["id"])
        self.assertEqual([v["version"] for v in versions["data"]], [1, 2, 3])
        self.assertTrue(versions["data"][1]["changed_by"].startswith("key:"))
        self.assertEqual(versions["data"][0]["definition"]["name"], "base")
        s, audit = self.req("GET", "/v1/audit?limit=1")
        self.assertEqual(audit["data"][0]["action"], "rule.switch")
        s, gone = self.req("DELETE", "/v1/earning-rules/%d" % r["id"])
        self.assertEqual(s, 200)
        self.assertError(self.req("GET", "/v1/earning-rules/%d" % r["id"]), 404, "rule_not_found")

    def test_invalid_rules_name_the_bad_node(self):
        cases = [
            ({"trigger": "purchase", "effect": PER_EURO}, "name"),
            ({"name": "x", "trigger": "refund", "effect": PER_EURO}, "trigger"),
            ({"name": "x", "trigger": "purchase"}, "effect"),
            ({"name": "x", "trigger": "purchase", "effect": {"type": "per_amount", "rate": "-1"}}, "effect.rate"),
            ({"name": "x", "trigger": "purchase", "effect": {"type": "multiplier", "factor": "0.5"}}, "effect.factor"),
            ({"name": "x", "trigger": "purchase", "effect": PER_EURO,
              "condition": {"and": [True, {"frobnicate": [1]}]}}, "condition/and/1/frobnicate"),
            ({"name": "x", "trigger": "purchase", "effect": PER_EURO,
              "condition": {"==": [1]}}, "condition/=="),
            ({"name": "x", "trigger": "purchase", "effect": PER_EURO,
              "schedule": {"hours": {"from": "25:00", "to": "26:00"}}}, "schedule.hours"),
            ({"name": "x", "trigger": "purchase", "effect": PER_EURO,
              "schedule": {"days": ["someday"]}}, "schedule.days"),
            ({"name": "x", "trigger": "purchase", "effect": PER_EURO,
              "limits": {"member_points": {"max": 0}}}, "limits.member_points"),
        ]
        for body, field in cases:
            self.assertError(self.req("POST", "/v1/earning-rules", body), 422, "invalid_rule", field)
        deep = True
        for _ in range(100):
            deep = {"!": [deep]}
        self.assertError(self.req("POST", "/v1/earning-rules",
                                  {"name": "deep", "trigger": "purchase", "effect": PER_EURO,
                                   "condition": deep}), 422, "invalid_rule")
        s, page = self.req("GET", "/v1/earning-rules")
        self.assertEqual(page["data"], [])

    def test_simulation_explains_and_writes_nothing(self):
        self.rule(name="base", trigger="purchase", effect=PER_EURO)
        self.rule(name="shoes", trigger="purchase", lines={"categories": ["shoes"]},
                  effect={"type": "per_amount", "rate": "2"})
        self.rule(name="DE only", trigger="purchase", condition=DE, effect={"type": "fixed", "points": 5})
        self.rule(name="reviews", trigger="review_written", effect={"type": "fixed", "points": 5})
        m = self.member("sim", attributes={"country": "FR"})
        body = {"type": "purchase", "external_id": "sim",
                "order": {"id": "S1", "total": "30.00", "currency": "EUR",
                          "lines": [{"sku": "X", "category": "shoes", "quantity": 1, "unit_price": "30.00"}]}}
        s, sim = self.req("POST", "/v1/simulate", body)
        self.assertEqual((s, sim["points"]), (200, 90))
        reasons = {r["name"]: r["reason"] for r in sim["rules"]}
        self.assertEqual(reasons, {"base": "awarded", "shoes": "awarded", "DE only": "condition_false",
                                   "reviews": "other_trigger"})
        details = {r["name"]: r["detail"] for r in sim["rules"]}  # the human text of each reason
        self.assertEqual(details["reviews"], "fires on review_written events")
        self.assertEqual(details["DE only"], "the condition is false for this event")
        self.assertEqual(details["base"], "")
        self.assertEqual(self.balance(m), 0)
        self.assertError(self.req("GET", "/v1/orders/S1"), 404)
        s, anon = self.req("POST", "/v1/simulate", {"type": "purchase", "order": body["order"]})
        self.assertEqual((s, anon["points"], anon["member_id"]), (200, 90, None))
        # a draft: the shoes rule at rate 3 instead of 2 (replacing it), and a new one
        shoes = [r for r in self.req("GET", "/v1/earning-rules")[1]["data"] if r["name"] == "shoes"][0]
        draft = dict(shoes, effect={"type": "per_amount", "rate": "3"})
        s, sim = self.req("POST", "/v1/simulate", dict(body, draft_rule=draft))
        self.assertEqual((s, sim["points"]), (200, 120), sim)
        s, sim = self.req("POST", "/v1/simulate", dict(body, draft_rule={
            "name": "new", "trigger": "purchase", "effect": {"type": "fixed", "points": 7}}))
        self.assertEqual((s, sim["points"]), (200, 97))
        self.assertError(self.req("POST", "/v1/simulate", dict(body, draft_rule={
            "name": "bad", "trigger": "purchase", "effect": {"type": "nope"}})), 422, "invalid_rule",
            "draft_rule.effect.type")
        s, saved = self.req("GET", "/v1/earning-rules/%d" % shoes["id"])
        self.assertEqual(saved["effect"]["rate"], "2")   # nothing saved

    def test_without_rules_the_program_base_rate_applies(self):
        self.member("plain")
        e = self.buy("p1", "plain", "12.34")
        self.assertEqual(e["points"], 12)
        self.assertEqual(e["rules"], [{"rule_id": None, "name": "program base rate", "points": 12,
                                       "fired": True, "reason": "awarded"}])
        self.assertEqual(self.buy("p0", "plain", "0.50")["rules"], [])  # nothing earned, nothing shown


if __name__ == "__main__":
    harness.main()
