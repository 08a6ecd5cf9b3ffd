#!/usr/bin/env python3
"""Event bodies for bench/loadgen, one per line: the traffic of bench/mixed.lua.

Orders of 1-10 lines over 5 categories and 500 SKUs, half on the web and half
in store; 5 % retries of an earlier event (same id and body, answered from the
stored result) and 2 % refunds of 1.00 of an earlier order.

Usage: mixed_bodies.py COUNT MEMBERS TAG [AT] > bodies.ndjson
With AT (an ISO 8601 time) every event happened then, instead of when it is sent:
bench/run.sh instructions fixes the time of day so that the program's happy hour
and weekend rules fire alike whenever it runs.
"""
import json
import random
import sys

CATEGORIES = ["shoes", "socks", "hats", "bags", "coats"]


def purchase(n, members, tag, at):
    eid = "%s-%d" % (tag, n)
    lines, total = [], 0
    for _ in range(random.randint(1, 10)):
        price, qty = random.randint(100, 20000), random.randint(1, 3)
        total += price * qty
        lines.append({"sku": "SKU-%d" % random.randint(1, 500),
                      "category": random.choice(CATEGORIES), "quantity": qty,
                      "unit_price": "%d.%02d" % (price // 100, price % 100)})
    return eid, json.dumps(dict({
        "id": eid, "type": "purchase", "external_id": "m%d" % random.randint(1, members),
        "channel": random.choice(["web", "store"]),
        "order": {"id": eid, "total": "%d.%02d" % (total // 100, total % 100),
                  "currency": "EUR", "lines": lines}}, **at), separators=(",", ":"))


def main():
    count, members, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    at = {"occurred_at": sys.argv[4]} if len(sys.argv) > 4 else {}
    random.seed(tag)
    sent, orders = [], []
    out = sys.stdout
    for n in range(count):
        r = random.random()
        # Retries and refunds reach back at least 200 events, so the original
        # was answered by the time they are sent at the rates measured.
        old = len(sent) > 200
        if r < 0.05 and old:
            out.write(sent[random.randrange(len(sent) - 200)] + "\n")
        elif r < 0.07 and old:
            out.write(json.dumps(dict({"id": "%s-rf%d" % (tag, n), "type": "refund",
                                       "order_id": orders[random.randrange(len(orders) - 200)],
                                       "amount": "1.00"}, **at)) + "\n")
        else:
            eid, body = purchase(n, members, tag, at)
            sent.append(body)
            orders.append(eid)
            out.write(body + "\n")


if __name__ == "__main__":
    main()
