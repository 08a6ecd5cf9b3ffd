#!/bin/sh
# bench/ab.sh OLD_BUILD NEW_BUILD [ROUNDS]: wall-clock A/B of two builds (folders holding fidelis
# and bench_scale, e.g. a worktree's build/ at an older commit), alternating, ROUNDS times (3).
# Each run starts from a fresh copy of one database that OLD_BUILD seeds once: 100,000 members
# with ten earlier entries each and the realistic program (bench/setup_rules.py); NEW_BUILD
# migrates its copy before the clock starts. Per run: three batches of 10,000 plain purchases
# (events/s) and `fidelis expire` (a tenth of the 1,000,000 lots is due). On this shared machine
# single runs move by 15 % and more: compare the means of several rounds.
set -e
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
ROUNDS=${3:-3}
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

# fresh BUILD: run.db, a copy of seed.db, migrated by BUILD and written out
fresh() {
    rm -f run.db run.db-wal run.db-shm
    cp seed.db run.db
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
for round in $(seq "$ROUNDS"); do
    for V in old new; do
        B=$([ $V = old ] && echo "$OLD" || echo "$NEW")
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
