#!/usr/bin/env python3
"""What a program adds as it grows, over the API, for bench/run.sh instructions:
  extras.py PORT KEY webhooks: three webhooks (two subscribed to points.earned);
  extras.py PORT KEY rules: 180 earning rules that the bench's events earn nothing from
  (other event types, promotions of other products and categories, offers that ended),
  so that the program holds 200, its limit."""
import http.client
import json
import sys


def filler_rule(i):
    kind = i % 4
    if kind == 0:
        return {"name": "f%d" % i, "trigger": "custom_%d" % i,
                "effect": {"type": "fixed", "points": 5}}
    if kind == 1:
        return {"name": "f%d" % i, "trigger": "purchase", "lines": {"skus": ["P-%d" % i]},
                "effect": {"type": "per_amount", "rate": "2"}}
    if kind == 2:
        return {"name": "f%d" % i, "trigger": "purchase", "lines": {"categories": ["cat-%d" % i]},
                "effect": {"type": "per_amount", "rate": "2"}}
    return {"name": "f%d" % i, "trigger": "purchase",
            "schedule": {"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"},
            "effect": {"type": "fixed", "points": 10}}


def main():
    port, key, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = http.client.HTTPConnection("127.0.0.1", port)
    if kind == "webhooks":
        lists = [["points.earned"], ["tier.changed", "points.earned"],
                 ["badge.earned", "reward.redeemed", "points.expired"]]
        posts = [("/v1/webhooks", {"url": "http://127.0.0.1:9/h%d" % i, "events": events})
                 for i, events in enumerate(lists)]
    else:
        posts = [("/v1/earning-rules", filler_rule(i)) for i in range(180)]
    for path, body in posts:
        c.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + key})
        r = c.getresponse()
        text = r.read()
        assert r.status == 201, (path, r.status, text[:200])


if __name__ == "__main__":
    main()
