#!/usr/bin/env python3
"""The program of issue 11's realistic load: three tiers, a behaviour segment
and the 20 earning rules of bench/rules.json, created over the API. Then the
tier job places the seeded members in the tiers their history gives them, as
the members of a running program hold theirs, so that the load's events are
not also each member's first tier.

Usage: setup_rules.py PORT KEY
"""
import http.client
import json
import os
import sys


def main():
    port, key = int(sys.argv[1]), sys.argv[2]
    c = http.client.HTTPConnection("127.0.0.1", port)

    def send(method, path, body):
        c.request(method, path, None if body is None else json.dumps(body),
                  {"Authorization": "Bearer " + key})
        r = c.getresponse()
        r.read()
        assert r.status in (200, 201), (path, r.status)

    send("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "calendar_year"}, "tiers": [
        {"name": "Bronze", "threshold": 0}, {"name": "Silver", "threshold": 1000},
        {"name": "Gold", "threshold": 5000}]})
    send("POST", "/v1/segments", {"name": "loyal",
                                  "condition": {">=": [{"var": "member.stats.orders_total"}, 5]}})
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules.json")) as f:
        for rule in json.load(f):
            send("POST", "/v1/earning-rules", rule)
    send("POST", "/v1/jobs/tiers", None)


if __name__ == "__main__":
    main()
