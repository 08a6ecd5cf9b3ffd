"""bench/history.py PORT KEY N: what one request costs against a member's history
(issue 11: an event's cost must grow gently with it), on one kept-alive connection,
each figure beside the same request for a member without the history:
- a single event in a program whose badge reads member.events, for a member with
  N earlier events and for one with none;
- a one-point debit for a member holding N open lots (a program without expiry, so
  they all expire alike) and for one holding ten;
- a purchase of a member who bought on each of the last 330 days, with tiers on the
  points of a rolling 12 months (each purchase sums the member's day buckets of the
  window), and of one who never bought.
Prints "name: value unit" lines."""
import datetime
import http.client
import json
import sys
import time

port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
HEADERS = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}


def req(method, path, body=None):
    conn.request(method, path, json.dumps(body), HEADERS)
    r = conn.getresponse()
    text = r.read()
    if r.status >= 300:
        sys.exit("%s %s: %d %s" % (method, path, r.status, text[:200]))
    return json.loads(text)


def batches(events):
    for at in range(0, len(events), 5000):
        results = req("POST", "/v1/events:batch", {"events": events[at:at + 5000]})["results"]
        if any(x["status"] not in (200, 201) for x in results):
            sys.exit("a history event failed")


def ms_per(count, send):
    t0 = time.perf_counter()
    for i in range(count):
        send(i)
    return (time.perf_counter() - t0) / count * 1000


req("POST", "/v1/badges", {"name": "Critic", "condition": {
    ">=": [{"var": "member.events.review_written"}, 1000000000]}})
req("PUT", "/v1/tiers", {"metric": "points", "window": {"type": "rolling", "months": 12}, "tiers": [
    {"name": "Bronze", "threshold": 0}, {"name": "Silver", "threshold": 10 ** 12}]})
ids = {ext: req("POST", "/v1/members", {"external_id": ext})["id"]
       for ext in ("long", "new", "saver", "small", "daily", "first")}
batches([{"id": "h%d" % i, "type": "app_open", "external_id": "long"} for i in range(n)])
batches([{"id": "%s-%d" % (ext, i), "type": "purchase", "external_id": ext,
          "order": {"id": "o-%s-%d" % (ext, i), "total": "100.00", "currency": "EUR"}}
         for ext, count in (("saver", n), ("small", 10)) for i in range(count)])
today = datetime.datetime.now(datetime.timezone.utc)
batches([{"id": "d-%d" % k, "type": "purchase", "external_id": "daily",
          "occurred_at": (today - datetime.timedelta(days=k)).strftime("%Y-%m-%dT%H:%M:%SZ"),
          "order": {"id": "o-d-%d" % k, "total": "10.00", "currency": "EUR"}} for k in range(1, 331)])
figures = []
for ext in ("long", "new"):
    figures.append(ms_per(200, lambda i: req("POST", "/v1/events", {
        "id": "r-%s-%d" % (ext, i), "type": "review_written", "external_id": ext})))
for ext in ("saver", "small"):
    figures.append(ms_per(300, lambda i: req("POST", "/v1/members/%d/adjustments" % ids[ext],
                                             {"points": -1, "reason": "bench"})))
for ext in ("daily", "first"):
    figures.append(ms_per(300, lambda i: req("POST", "/v1/events", {
        "id": "b-%s-%d" % (ext, i), "type": "purchase", "external_id": ext,
        "order": {"id": "o-b-%s-%d" % (ext, i), "total": "10.00", "currency": "EUR"}})))
print("event_with_%d_events_of_history: %.2f ms (no history: %.2f ms)" % (n, figures[0], figures[1]))
print("debit_with_%d_open_lots: %.2f ms (10 lots: %.2f ms)" % (n, figures[2], figures[3]))
print("purchase_with_330_days_of_purchases: %.2f ms (none before: %.2f ms)" % (figures[4], figures[5]))
