#!/usr/bin/env python3
"""Converts the UCI "Online Retail" data set (../shared/data/online_retail/, CC BY 4.0) into
Fidelis import files, streaming:

    online_retail.py INPUT.csv.gz OUTDIR   ->  OUTDIR/members.ndjson, OUTDIR/orders.ndjson,
                                                OUTDIR/rejected.txt

- invoice lines are grouped into orders by InvoiceNo (one purchase event each, id retail:<invoice>);
- a customer id makes a member (external id c<id>, attribute country); lines without one are
  guest (non-member) purchases;
- invoices starting with C are refunds of the same customer's earlier orders, newest first, each
  up to what is left to refund on it;
- bad lines are reported with their line number and reason, not imported: zero or negative
  quantities or prices outside refunds, prices with more than 2 decimals, refunds of guests or
  beyond what the customer bought.
Amounts are exact (decimal), in GBP. Spaces in stock codes become dashes (BANK CHARGES ->
BANK-CHARGES): Fidelis identifiers have no spaces.
"""
import csv
import gzip
import json
import os
import sys
from decimal import Decimal, InvalidOperation


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    members, orders, rejected = {}, {}, []  # invoice -> order being built
    order_list, refunds = [], []
    stats = {"lines": 0, "bad_lines": 0}

    def bad(line, why):
        stats["bad_lines"] += 1
        rejected.append("line %d: %s" % (line, why))

    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rt", newline="", encoding="utf-8") as f:
        for n, row in enumerate(csv.DictReader(f), start=2):
            stats["lines"] += 1
            inv, sku, cust = row["InvoiceNo"], row["StockCode"].strip(), row["CustomerID"].strip()
            try:
                qty, price = int(row["Quantity"]), Decimal(row["UnitPrice"])
            except (ValueError, InvalidOperation):
                bad(n, "quantity or price is not a number")
                continue
            if cust.endswith(".0"):
                cust = cust[:-2]
            when = row["InvoiceDate"].replace(" ", "T") + ("Z" if len(row["InvoiceDate"]) > 16 else ":00Z")
            if price.as_tuple().exponent < -2 and price != price.quantize(Decimal("0.01")):
                bad(n, "unit price %s has more than 2 decimals" % row["UnitPrice"])
                continue
            if inv.startswith("C"):
                if not cust:
                    bad(n, "refund of a guest purchase: no customer to refund")
                    continue
                if qty >= 0 or price <= 0:
                    bad(n, "refund line with quantity %d and price %s" % (qty, price))
                    continue
                refunds.append((n, inv, cust, when, -qty * price))
                continue
            if qty <= 0 or price <= 0:
                bad(n, "quantity %d or price %s is not positive" % (qty, price))
                continue
            if cust and cust not in members:
                members[cust] = row["Country"]
            o = orders.get(inv)
            if o is None:
                o = orders[inv] = {"line": n, "customer": cust, "when": when, "total": Decimal(0), "lines": [],
                                   "refunded": Decimal(0)}
                order_list.append(inv)
            o["total"] += qty * price
            # SKUs are identifiers without spaces in Fidelis: "BANK CHARGES" becomes BANK-CHARGES
            o["lines"].append({"sku": "-".join(sku.split()) or "UNKNOWN", "quantity": qty, "unit_price": str(price.quantize(Decimal("0.01")))})

    # refunds: the customer's earlier orders, newest first
    by_customer = {}
    for inv in order_list:
        by_customer.setdefault(orders[inv]["customer"], []).append(inv)
    refund_events = []
    for n, inv, cust, when, amount in refunds:
        left = amount
        for oid in reversed(by_customer.get(cust, [])):
            o = orders[oid]
            if o["when"] > when or left <= 0:
                continue
            take = min(left, o["total"] - o["refunded"])
            if take <= 0:
                continue
            o["refunded"] += take
            left -= take
            refund_events.append((when, {"id": "retail:%s:%s:%d" % (inv, oid, n), "type": "refund", "order_id": oid,
                                         "amount": str(take), "occurred_at": when}))
        if left > 0:
            bad(n, "refund of %s beyond what customer %s bought before" % (left, cust))

    with open(os.path.join(outdir, "members.ndjson"), "w") as f:
        for cust, country in members.items():
            f.write(json.dumps({"external_id": "c" + cust, "attributes": {"country": country}}) + "\n")
    events = []
    for inv in order_list:
        o = orders[inv]
        e = {"id": "retail:" + inv, "type": "purchase", "occurred_at": o["when"], "channel": "web",
             "order": {"id": inv, "total": str(o["total"]), "currency": "GBP", "lines": o["lines"]}}
        if o["customer"]:
            e["external_id"] = "c" + o["customer"]
        events.append((o["when"], e))
    events += refund_events
    events.sort(key=lambda x: (x[0], x[1]["type"] == "refund"))  # time order, a refund after its purchase
    with open(os.path.join(outdir, "orders.ndjson"), "w") as f:
        for _, e in events:
            f.write(json.dumps(e) + "\n")
    with open(os.path.join(outdir, "rejected.txt"), "w") as f:
        f.write("\n".join(rejected) + ("\n" if rejected else ""))
    guests = sum(1 for inv in order_list if not orders[inv]["customer"])
    print("%d lines: %d members, %d orders (%d guest), %d refunds, %d bad lines" % (
        stats["lines"], len(members), len(order_list), guests, len(refund_events), stats["bad_lines"]))


if __name__ == "__main__":
    main()
