#!/bin/sh
# make bench: every benchmark against real processes on loopback. Prints one
# "name: value unit" line per figure and writes them as JSON to build/bench/results.json.
# Needs a release build in build/ (make bench builds it) and wrk (installed if missing).
# bench/run.sh SECTION runs one section: micro, retail, http, scale, history, instructions or
# pgbench.
set -e
ONLY=${1:-all}
want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }
cd "$(dirname "$0")/.."
OUT=build/bench
mkdir -p "$OUT"
: > "$OUT/results.txt"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null; }

# The last server started is stopped however the script ends (a failed step exits at once).
trap '[ -z "${PID:-}" ] || kill $PID 2>/dev/null || true' EXIT

# wrk_ok FILE: stops the suite when wrk saw error answers: a rate that counts them is no figure.
wrk_ok() {
    if grep -q "Non-2xx" "$1"; then
        echo "$1: $(grep "Non-2xx" "$1" | tr -s ' ') (the server's errors are in $OUT)" >&2
        exit 1
    fi
}

# loadgen_ok FILE: the same for bench/loadgen's count of failed requests.
loadgen_ok() {
    awk '$5 == "errors" && $6 != 0 {exit 1}' "$1" || { echo "$1: $(cat "$1")" >&2; exit 1; }
}

# serve NAME [WRAPPER...]: a server on $OUT/NAME.db (under WRAPPER, if given); sets PID, KEY, PORT
# and START (ms from launch to listening). The background jobs (expiry, tier reviews, RFM,
# birthdays, reminders; every 60 s by default) are held off so the figures are the request path's.
serve() {
    NAME=$1; shift
    rm -f "$OUT/$NAME.out" # a server run before under this name left its line there
    T0=$(date +%s%N)
    "$@" ./build/fidelis serve --db "$OUT/$NAME.db" --listen 127.0.0.1:0 --demo --threads 32 \
        --job-interval 3600 > "$OUT/$NAME.out" 2> "$OUT/$NAME.err" &
    PID=$!
    until grep -q "listening on .* (db " "$OUT/$NAME.out" 2>/dev/null; do
        kill -0 $PID 2>/dev/null || { echo "server did not start: $OUT/$NAME.err" >&2; exit 1; }
        sleep 0.005
    done
    START=$(( ($(date +%s%N) - T0) / 1000000 ))
    KEY=$(sed -n 's/^admin key: //p' "$OUT/$NAME.out")
    PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$OUT/$NAME.out" | head -1)
}

# serve_seeded NAME MEMBERS: a fresh $OUT/NAME.db with MEMBERS members, each with ten earlier
# earn entries (seeded through the ledger by bench_scale), and a server on it (serve).
serve_seeded() {
    rm -f "$OUT/$1.db" "$OUT/$1.db-wal" "$OUT/$1.db-shm"
    ./build/fidelis init --db "$OUT/$1.db" --name "$1" --currency EUR > /dev/null 2>&1
    ./build/bench_scale "$OUT/$1.db" "$2" 10
    sync # the seeded file written out first, so its writeback does not run during the loads
    serve "$1"
}

if want micro; then
./build/bench_rules 200000 2>/dev/null | tee -a "$OUT/results.txt"
./build/bench_clv 100000 2>/dev/null | tee -a "$OUT/results.txt"
./build/bench_segments 1000000 "$OUT/segments.db" 2>/dev/null | tee -a "$OUT/results.txt"
rm -f "$OUT/log.db" "$OUT/log.db-wal" "$OUT/log.db-shm"
./build/bench_log "$OUT/log.db" 200000 | tee -a "$OUT/results.txt"

fi

if want retail; then
# The real data set end to end: 541,909 invoice lines of a UK online shop (UCI Online Retail).
RETAIL=../shared/data/online_retail/online_retail_2010_2011.csv.gz
if [ -f "$RETAIL" ]; then
    rm -rf "$OUT/retail" "$OUT/retail.db" "$OUT/retail.db-wal" "$OUT/retail.db-shm"
    T0=$(date +%s.%N)
    python3 scripts/online_retail.py "$RETAIL" "$OUT/retail" > "$OUT/retail.txt"
    ./build/fidelis init --db "$OUT/retail.db" --name "Online Retail" --currency GBP --timezone Europe/London > /dev/null 2>&1
    ./build/fidelis import members "$OUT/retail/members.ndjson" --db "$OUT/retail.db" >> "$OUT/retail.txt" 2>/dev/null
    ./build/fidelis import orders "$OUT/retail/orders.ndjson" --db "$OUT/retail.db" --report "$OUT/retail/import-rejects.txt" >> "$OUT/retail.txt" 2>/dev/null
    T1=$(date +%s.%N)
    echo "online_retail_import_541909_lines: $(echo "$T1 - $T0" | bc) s" | tee -a "$OUT/results.txt"
    ./build/fidelis check --db "$OUT/retail.db" 2>/dev/null | tail -1
fi

fi

# pgbench_run WHEN: the peer baseline, pgbench's TPC-B-like transaction (a balance update and a
# history insert, the shape of a points posting) on a throwaway local PostgreSQL with default
# durability, 32 clients, 15 s; prints pgbench_tpcb_32conn_WHEN and adds the figure to PGB. The
# suite runs it right before and right after the HTTP loads and compares them with the mean of the
# two: this machine's speed moves within minutes, and a baseline measured apart from the loads
# made the ratio say more about the minute than about the engine.
PGB=""
pgbench_run() {
    PGPORT=25439
    PGURL=$(sh scripts/pg-test.sh start $PGPORT)
    PGBENCH=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pgbench
    "$PGBENCH" -i -s 10 -q -h 127.0.0.1 -p $PGPORT -U postgres postgres > "$OUT/pgbench-init.txt" 2>&1
    "$PGBENCH" -c 32 -j 2 -T 15 -h 127.0.0.1 -p $PGPORT -U postgres postgres > "$OUT/pgbench-$1.txt" 2>&1
    sh scripts/pg-test.sh stop $PGPORT
    T=$(awk '/^tps/ {print $3; exit}' "$OUT/pgbench-$1.txt")
    echo "pgbench_tpcb_32conn_$1: $T transactions/s" | tee -a "$OUT/results.txt"
    PGB="$PGB $T"
}

if want pgbench; then
pgbench_run before
fi

if want http; then
# Earn events over HTTP: 32 keep-alive connections, 100,000 members (each with ten earlier
# earn entries, seeded through the ledger by bench_scale), durable (fsync per group commit).
MEMBERS=100000
DB="$OUT/bench.db"
serve_seeded bench $MEMBERS
wrk -t2 -c32 -d10s -s bench/earn.lua "http://127.0.0.1:$PORT" -- $MEMBERS "$KEY" > "$OUT/wrk.txt"
wrk_ok "$OUT/wrk.txt"
RPS=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk.txt")
LAT=$(awk '/Latency/ {print $2}' "$OUT/wrk.txt")
echo "earn_http_32conn: $RPS events/s" | tee -a "$OUT/results.txt"
echo "earn_http_32conn_latency_avg: $LAT" | tee -a "$OUT/results.txt"

# Codes: 100,000 unique codes from a pattern in one request, then cart redemptions over HTTP.
python3 - "$PORT" "$KEY" <<'PY' | tee -a "$OUT/results.txt"
import sys, http.client, json, time
port, key = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
def post(path, body):
    c.request("POST", path, json.dumps(body), {"Authorization": "Bearer " + key})
    r = c.getresponse()
    return r.status, json.loads(r.read())
s, camp = post("/v1/campaigns", {"name": "bench", "benefit": {"type": "percent", "percent": 10}})
post("/v1/campaigns/%d/codes" % camp["id"], {"code": "BENCH10"})
t0 = time.time()
s, doc = post("/v1/campaigns/%d/codes" % camp["id"], {"pattern": "BN-****-****", "count": 100000})
assert s == 201 and doc["created"] == 100000, doc
print("codes_generate_100000: %.2f s" % (time.time() - t0))
PY
wrk -t2 -c32 -d10s -s bench/cart.lua "http://127.0.0.1:$PORT" -- $MEMBERS "$KEY" > "$OUT/wrk-cart.txt"
wrk_ok "$OUT/wrk-cart.txt"
echo "cart_redeem_http_32conn: $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-cart.txt") carts/s" | tee -a "$OUT/results.txt"

# Realistic traffic (issue 11): 20 earning rules, orders of 1-10 lines, 5 % retries, 2 % refunds.
python3 bench/setup_rules.py "$PORT" "$KEY"
wrk -t2 -c32 -d15s --latency -s bench/mixed.lua "http://127.0.0.1:$PORT" -- $MEMBERS "$KEY" > "$OUT/wrk-mixed.txt"
wrk_ok "$OUT/wrk-mixed.txt"
MIXED=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-mixed.txt")
echo "earn_mixed_20rules_32conn: $MIXED events/s" | tee -a "$OUT/results.txt"
echo "earn_mixed_20rules_32conn_p99: $(awk '$1 == "99%" {print $2}' "$OUT/wrk-mixed.txt")" | tee -a "$OUT/results.txt"
# Latency at half that rate, as issue 11 asks: wrk has no rate control, so bench/loadgen sends
# the same traffic (bench/mixed_bodies.py) at a fixed rate over 32 kept-alive connections and
# counts each request from its hand-over at its scheduled time (15 s, the first second not counted).
HALF=$(awk -v r="$MIXED" 'BEGIN {printf "%d", r / 2}')
python3 bench/mixed_bodies.py $((HALF * 15)) $MEMBERS half > "$OUT/half.ndjson"
./build/loadgen "http://127.0.0.1:$PORT/v1/events" "$KEY" "$HALF" 15 32 "$OUT/half.ndjson" > "$OUT/loadgen-half.txt"
loadgen_ok "$OUT/loadgen-half.txt"
echo "earn_mixed_at_half_rate: $HALF events/s" | tee -a "$OUT/results.txt"
echo "earn_mixed_at_half_rate_p50: $(awk '{print $8}' "$OUT/loadgen-half.txt") ms" | tee -a "$OUT/results.txt"
echo "earn_mixed_at_half_rate_p99: $(awk '{print $11}' "$OUT/loadgen-half.txt") ms" | tee -a "$OUT/results.txt"
wrk -t2 -c16 -d10s --latency -s bench/balance.lua "http://127.0.0.1:$PORT" -- $MEMBERS "$KEY" > "$OUT/wrk-balance.txt"
wrk_ok "$OUT/wrk-balance.txt"
echo "get_balance_16conn: $(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-balance.txt") requests/s" | tee -a "$OUT/results.txt"
echo "get_balance_16conn_p99: $(awk '$1 == "99%" {print $2}' "$OUT/wrk-balance.txt")" | tee -a "$OUT/results.txt"
# GET latency at a stated load (wrk above saturates the 2 cores it shares with the server).
./build/loadgen "http://127.0.0.1:$PORT/v1/members" "$KEY" 5000 10 16 -$MEMBERS > "$OUT/loadgen-get.txt"
loadgen_ok "$OUT/loadgen-get.txt"
echo "get_balance_at_5000rps_p50: $(awk '{print $8}' "$OUT/loadgen-get.txt") ms" | tee -a "$OUT/results.txt"
echo "get_balance_at_5000rps_p99: $(awk '{print $11}' "$OUT/loadgen-get.txt") ms" | tee -a "$OUT/results.txt"

# Batch ingestion: 5 batches of 10,000 purchases, one client. The bodies are written before the
# clock starts (building them in Python was a tenth to a fifth of the time measured), and every
# event's answer must be 201.
python3 - "$PORT" "$KEY" <<'PY' | tee -a "$OUT/results.txt"
import sys, http.client, json, time
port, key = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
bodies = [json.dumps({"events": [
    {"id": "bt-%d-%d" % (b, i), "type": "purchase", "external_id": "m%d" % (i * 7 % 100000 + 1),
     "order": {"id": "bo-%d-%d" % (b, i), "total": "%d.00" % (i % 300 + 1), "currency": "EUR"}}
    for i in range(10000)]}) for b in range(5)]
t0, answers = time.time(), []
for body in bodies:
    c.request("POST", "/v1/events:batch", body, {"Authorization": "Bearer " + key})
    r = c.getresponse(); answers.append(r.read())
    assert r.status == 200, r.status
elapsed = time.time() - t0
for a in answers:
    assert all(x["status"] == 201 for x in json.loads(a)["results"]), "a batch event failed"
print("batch_10000_events: %.0f events/s" % (50000 / elapsed))
PY
kill $PID; wait $PID 2>/dev/null || true
./build/fidelis check --db "$DB" | tail -1

fi

if want pgbench; then
[ "$ONLY" = all ] && pgbench_run after
TPS=$(echo $PGB | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.0f", s / NF}')
echo "pgbench_tpcb_32conn: $TPS transactions/s (mean of$PGB)" | tee -a "$OUT/results.txt"
if [ -n "${RPS:-}" ]; then
    echo "earn_http_32conn_vs_pgbench: $(echo "scale=2; $RPS / $TPS" | bc) x" | tee -a "$OUT/results.txt"
    echo "earn_mixed_20rules_vs_pgbench: $(echo "scale=2; $MIXED / $TPS" | bc) x" | tee -a "$OUT/results.txt"
fi
fi

if want scale; then
# Scale (issue 11): the same plain earn load on 10,000 members (100,000 journal entries) and on
# 1,000,000 members (10,000,000 entries); start time and memory at 1M members; the expiry job over
# 10M lots (a tenth of them due). SCALE_MEMBERS=100000 makes a quicker run.
BIG=${SCALE_MEMBERS:-1000000}
scale_run() { # NAME MEMBERS: seeds, serves, loads; sets START, RSS, SRPS
    serve_seeded "$1" "$2"
    # 5 s of the same load first: the seeded file is read into the OS cache, as on a server that runs
    wrk -t2 -c32 -d5s -s bench/earn.lua "http://127.0.0.1:$PORT" -- "$2" "$KEY" > /dev/null
    wrk -t2 -c32 -d15s -s bench/earn.lua "http://127.0.0.1:$PORT" -- "$2" "$KEY" > "$OUT/wrk-$1.txt"
    wrk_ok "$OUT/wrk-$1.txt"
    SRPS=$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-$1.txt")
    wrk -t2 -c16 -d10s --latency -s bench/balance.lua "http://127.0.0.1:$PORT" -- "$2" "$KEY" > "$OUT/wrk-balance-$1.txt"
    wrk_ok "$OUT/wrk-balance-$1.txt"
    SP99=$(awk '$1 == "99%" {print $2}' "$OUT/wrk-balance-$1.txt")
    RSS=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' /proc/$PID/status)
    kill $PID; wait $PID 2>/dev/null || true
}
scale_run scale10k 10000
SMALL=$SRPS
echo "earn_http_10k_members: $SMALL events/s" | tee -a "$OUT/results.txt"
scale_run scale$BIG "$BIG"
echo "earn_http_${BIG}_members_10x_entries: $SRPS events/s" | tee -a "$OUT/results.txt"
echo "earn_http_scale_ratio: $(echo "scale=2; $SRPS / $SMALL" | bc) (target >= 0.70)" | tee -a "$OUT/results.txt"
echo "server_start_${BIG}_members: $START ms" | tee -a "$OUT/results.txt"
echo "get_balance_${BIG}_members_16conn_p99: $SP99" | tee -a "$OUT/results.txt"
echo "peak_rss_${BIG}_members: $RSS MB" | tee -a "$OUT/results.txt"
T0=$(date +%s%N)
./build/fidelis expire --db "$OUT/scale$BIG.db" > "$OUT/expire.txt" 2>&1
echo "expiry_job_$((BIG * 10))_lots: $(echo "scale=2; ($(date +%s%N) - $T0) / 1000000000" | bc) s ($(tail -1 "$OUT/expire.txt"))" | tee -a "$OUT/results.txt"
./build/fidelis check --db "$OUT/scale$BIG.db" 2>/dev/null | tail -1

fi

if want history; then
# One member's history (bench/history.py): an event with 20,000 earlier events when a badge
# counts them, a debit with 20,000 open lots, and a purchase after 330 days of purchases with
# tiers on a rolling year, each beside the same request without the history.
rm -f "$OUT/history.db" "$OUT/history.db-wal" "$OUT/history.db-shm"
./build/fidelis init --db "$OUT/history.db" --name history --currency EUR > /dev/null 2>&1
serve history
python3 bench/history.py "$PORT" "$KEY" 20000 | tee -a "$OUT/results.txt"
kill $PID; wait $PID 2>/dev/null || true
fi

if want instructions; then
# The writer's instructions per event, counted by callgrind: the same for the same binary and data
# whatever else the machine does, unlike the wall-clock figures (compare commits with these).
# 100,000 members and the program of the realistic load; one batch of 2,000 plain purchases (no
# lines) and one of 2,000 events of the mixed traffic, each on a fresh copy of the database;
# only the writer's work on the batch is counted (batch_job_run).
command -v valgrind >/dev/null || { apt-get install -y -qq valgrind >/dev/null 2>&1 || sudo apt-get install -y -qq valgrind >/dev/null; }
serve_seeded instr 100000
python3 bench/setup_rules.py "$PORT" "$KEY"
kill $PID; wait $PID 2>/dev/null || true
# The events happen at 10:00 UTC on the last weekday before today: the program's happy hour
# (17:00-19:00) and weekend rules fire alike whenever the suite runs (they did not: inside the
# happy hour one binary counted about 11,000 more instructions per event, docs/performance.md).
AT=$(python3 -c 'import datetime
d = datetime.date.today() - datetime.timedelta(days=1)
while d.weekday() >= 5:
    d -= datetime.timedelta(days=1)
print(d.isoformat() + "T10:00:00Z")')
python3 bench/mixed_bodies.py 2000 100000 instr "$AT" > "$OUT/instr-mixed.ndjson"
python3 -c 'import json, sys
for i in range(2000):
    print(json.dumps({"id": "ip-%d" % i, "type": "purchase", "external_id": "m%d" % (i * 7 % 100000 + 1),
                      "occurred_at": sys.argv[1],
                      "order": {"id": "ipo-%d" % i, "total": "%d.00" % (i % 300 + 1), "currency": "EUR"}}))' \
    "$AT" > "$OUT/instr-plain.ndjson"
# Then the same loads in a program that grew (bench/extras.py): the plain purchases with three
# webhooks, the mixed events with 200 rules.
for RUN in plain mixed plain_with_3_webhooks mixed_with_200_rules; do
    LOAD=${RUN%%_*}
    case $RUN in *webhooks) EXTRA=webhooks ;; *rules) EXTRA=rules ;; *) EXTRA= ;; esac
    rm -f "$OUT/instr-run.db-wal" "$OUT/instr-run.db-shm"
    cp "$OUT/instr.db" "$OUT/instr-run.db"
    if [ -n "$EXTRA" ]; then
        serve instr-run
        python3 bench/extras.py "$PORT" "$KEY" "$EXTRA"
        kill $PID; wait $PID 2>/dev/null || true
    fi
    serve instr-run valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$RUN" \
        --collect-atstart=no --toggle-collect=batch_job_run
    python3 - "$PORT" "$KEY" "$OUT/instr-$LOAD.ndjson" <<'PY'
import sys, http.client, json
port, key, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
events = [json.loads(line) for line in open(path)]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
c.request("POST", "/v1/events:batch", json.dumps({"events": events}), {"Authorization": "Bearer " + key})
r = c.getresponse(); r.read()
assert r.status == 200, r.status
PY
    kill $PID; wait $PID 2>/dev/null || true
    IR=$(callgrind_annotate "$OUT/callgrind.$RUN" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    echo "writer_instructions_per_${LOAD}_event${RUN#"$LOAD"}: $((IR / 2000)) instructions" | tee -a "$OUT/results.txt"
done
# The rule evaluation of bench_rules (20 rules, a 10-line order), counted the same way.
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.rules" --collect-atstart=no \
    --toggle-collect=fd_rules_evaluate ./build/bench_rules 20000 20 > /dev/null 2>&1
IR=$(callgrind_annotate "$OUT/callgrind.rules" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "rules_eval_instructions_per_event: $((IR / 20000)) instructions" | tee -a "$OUT/results.txt"
# The whole process per request over HTTP (libmicrohttpd, the request's validation, the writer with its
# commit), one request at a time on one kept-alive connection, so each event is a group commit of
# its own, as at a low rate: 500 events of the mixed traffic, then 500 balance reads, each after 50
# uncounted ones (statements prepared, caches filled). The checkpointer is left out: it runs on a
# timer, so what it copies depends on how fast the run went (+-30,000 per event between runs).
python3 bench/mixed_bodies.py 550 100000 http "$AT" > "$OUT/instr-http.ndjson"
for REQ in mixed balance; do
    rm -f "$OUT/instr-run.db-wal" "$OUT/instr-run.db-shm"
    cp "$OUT/instr.db" "$OUT/instr-run.db"
    serve instr-run valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.http-$REQ" \
        --instr-atstart=no
    for PART in warm counted; do
        [ $PART = warm ] || callgrind_control -i on $PID > /dev/null 2>&1
        python3 - "$PORT" "$KEY" "$OUT/instr-http.ndjson" $REQ $PART <<'PY'
import sys, http.client
port, key, path, req, part = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
lines = open(path).read().splitlines()
span = range(0, 50) if part == "warm" else range(50, 550)
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
auth = {"Authorization": "Bearer " + key}
for i in span:
    if req == "mixed":
        c.request("POST", "/v1/events", lines[i], dict(auth, **{"Content-Type": "application/json"}))
    else:
        c.request("GET", "/v1/members/%d" % (i * 7 % 100000 + 1), headers=auth)
    r = c.getresponse(); r.read()
    assert r.status in (200, 201), (r.status, i)
PY
    done
    callgrind_control -i off $PID > /dev/null 2>&1
    kill $PID; wait $PID 2>/dev/null || true
    IR=$(callgrind_annotate "$OUT/callgrind.http-$REQ" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    CK=$(callgrind_annotate --inclusive=yes "$OUT/callgrind.http-$REQ" 2>/dev/null |
        awk '/store.c:checkpointer_main/ {gsub(",", "", $1); print $1; exit}')
    echo "http_process_instructions_per_${REQ}_request: $(((IR - ${CK:-0}) / 500)) instructions" | tee -a "$OUT/results.txt"
done

fi

python3 - "$OUT/results.txt" "$OUT/results.json" "$(git rev-parse --short HEAD)" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    name, rest = line.split(":", 1)
    value, _, unit = rest.strip().partition(" ")
    rows[name] = {"value": value, "unit": unit}
json.dump({"commit": sys.argv[3], "results": rows}, open(sys.argv[2], "w"), indent=2)
PY
echo "results: $OUT/results.json"
