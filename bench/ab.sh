#!/bin/sh
# bench/ab.sh OLD_BUILD NEW_BUILD [ROUNDS] [LOAD]: wall-clock A/B of two builds (folders holding
# fidelis, bench_scale and loadgen, e.g. a worktree's build/ at an older commit), alternating,
# ROUNDS times (3). Each run starts from a fresh copy of one database that OLD_BUILD seeds once:
# 100,000 members with ten earlier entries each and the realistic program (bench/setup_rules.py);
# NEW_BUILD migrates its copy before the clock starts. Per run, LOAD:
#   batch (default): three batches of 10,000 plain purchases (events/s) and `fidelis expire` (a
#         tenth of the 1,000,000 lots is due);
#   http: the mixed traffic of bench/mixed.lua from wrk, 32 connections, 10 s (events/s, and the
#         server's CPU time and thread switches per event), then the same traffic from loadgen at
#         AB_RATE events/s (1,200) for 15 s (p50, p99).
# On this shared machine single runs move by 15 % and more: compare the means of several rounds.
set -e
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=${3:-3}
LOAD=${4:-batch}
HTTP_RATE=${AB_RATE:-1200}
BENCH=$(cd "$(dirname "$0")" && pwd)
D=${AB_DIR:-build/ab}
mkdir -p "$D"
cd "$D"
trap '[ -z "${P:-}" ] || kill $P 2>/dev/null || true' EXIT

# start BUILD DB: a server on DB; sets P, KEY, PORT
start() {
    rm -f run.out
    "$1/fidelis" serve --db "$2" --listen 127.0.0.1:0 --demo --threads 32 --job-interval 3600 \
        > run.out 2> run.err &
    P=$!
    until grep -q "listening on .* (db " run.out 2>/dev/null; do
        kill -0 $P 2>/dev/null || { echo "server did not start: $D/run.err" >&2; exit 1; }
        sleep 0.05
    done
    KEY=$(sed -n 's/^admin key: //p' run.out)
    PORT=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' run.out | head -1)
}

# fresh BUILD: run.db, a copy of seed.db, migrated by BUILD and written out. Copied in 4 KiB
# writes: Linux (6.16 on) caches a file written in large pieces, as cp writes, in large folios,
# and a page SQLite writes later then dirties its whole folio; such a copy wrote 2.8 times the
# bytes per event of the database the bench seeds through SQLite (docs/performance.md).
fresh() {
    rm -f run.db run.db-wal run.db-shm
    dd if=seed.db of=run.db bs=4k status=none
    "$1/fidelis" migrate --db run.db > /dev/null 2>&1
    sync
}

if [ ! -f seed.db ]; then
    "$OLD/fidelis" init --db seed.db --name ab --currency EUR > /dev/null 2>&1
    "$OLD/bench_scale" seed.db 100000 10 > /dev/null 2>&1
    start "$OLD" seed.db
    python3 "$BENCH/setup_rules.py" "$PORT" "$KEY"
    kill $P; wait $P 2>/dev/null || true; P=
fi
# The server's CPU time (clock ticks) and thread switches so far, summed over its threads.
usage() {
    awk '{t += $14 + $15} END {print t}' /proc/$P/task/*/stat
    cat /proc/$P/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'
}

# http_run BUILD: the http load on a fresh copy
http_run() {
    fresh "$1"
    start "$1" run.db
    LOADGEN="$1/loadgen"
    set -- $(usage)
    wrk -t2 -c32 -d10s -s "$BENCH/mixed.lua" "http://127.0.0.1:$PORT" -- 100000 "$KEY" > wrk.txt
    set -- "$@" $(usage)
    if grep -q Non-2xx wrk.txt; then
        curl -s -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT/metrics" |
            grep 'http_requests_total.*status="[^2]' >&2
        echo "error answers: $D/wrk.txt, $D/run.err" >&2
        exit 1
    fi
    N=$(awk '/requests in/ {print $1}' wrk.txt)
    RPS=$(awk '/Requests\/sec/ {printf "%d", $2}' wrk.txt)
    CPU=$(awk -v a="$1" -v b="$3" -v n="$N" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%d", (b - a) / hz * 1e6 / n}')
    SW=$(awk -v a="$2" -v b="$4" -v n="$N" 'BEGIN {printf "%.1f", (b - a) / n}')
    [ -f rate-$HTTP_RATE.ndjson ] || python3 "$BENCH/mixed_bodies.py" $((HTTP_RATE * 15)) 100000 ab > rate-$HTTP_RATE.ndjson
    "$LOADGEN" "http://127.0.0.1:$PORT/v1/events" "$KEY" "$HTTP_RATE" 15 32 rate-$HTTP_RATE.ndjson > loadgen.txt
    awk '$5 == "errors" && $6 != 0 {exit 1}' loadgen.txt || { echo "errors: $(cat loadgen.txt)" >&2; exit 1; }
    kill $P; wait $P 2>/dev/null || true; P=
    echo "round $round $V: mixed $RPS events/s, $CPU us CPU and $SW switches per event;" \
        "at $HTTP_RATE/s p50 $(awk '{print $8}' loadgen.txt) ms p99 $(awk '{print $11}' loadgen.txt) ms"
}

for round in $(seq "$ROUNDS"); do
    for V in old new; do
        B=$([ $V = old ] && echo "$OLD" || echo "$NEW")
        if [ "$LOAD" = http ]; then http_run "$B"; continue; fi
        fresh "$B"
        start "$B" run.db
        RATE=$(python3 - "$PORT" "$KEY" "$round" <<'PY'
import sys, http.client, json, time
port, key, rnd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
t0, n = time.time(), 0
for b in range(3):
    events = [{"id": "ab-%s-%d-%d" % (rnd, b, i), "type": "purchase",
               "external_id": "m%d" % (i * 7 % 100000 + 1),
               "order": {"id": "abo-%s-%d-%d" % (rnd, b, i), "total": "%d.00" % (i % 300 + 1),
                         "currency": "EUR"}} for i in range(10000)]
    c.request("POST", "/v1/events:batch", json.dumps({"events": events}),
              {"Authorization": "Bearer " + key})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
    n += len(events)
print("%.0f" % (n / (time.time() - t0)))
PY
)
        kill $P; wait $P 2>/dev/null || true; P=
        fresh "$B"
        T0=$(date +%s%N)
        "$B/fidelis" expire --db run.db > /dev/null 2>&1
        T1=$(date +%s%N)
        echo "round $round $V: batches $RATE events/s, expiry $(( (T1 - T0) / 1000000 )) ms"
    done
done
