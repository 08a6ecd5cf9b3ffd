#!/bin/sh
# A throwaway PostgreSQL cluster for the tests, on a loopback port, in /tmp.
#   pg-test.sh start PORT   -> prints its URL, postgres://postgres@127.0.0.1:PORT/
#   pg-test.sh stop PORT
#   pg-test.sh createdb PORT NAME
# initdb refuses to run as root: as root, the cluster runs as Debian's postgres user.
set -e
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] || { echo "pg-test: PostgreSQL server binaries not found" >&2; exit 1; }
PORT=$2
DIR=/tmp/fidelis-pg-$PORT
AS=""
[ "$(id -u)" = 0 ] && AS="runuser -u postgres --"
case "$1" in
start)
    if [ -f "$DIR/data/postmaster.pid" ]; then $AS "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$DIR"
    mkdir -p "$DIR"
    [ -n "$AS" ] && chown postgres "$DIR"
    $AS "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1
    # Retries: a cluster stopped moments ago on the same port can still hold it.
    for try in 1 2 3 4 5; do
        if $AS "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
            -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=64MB" \
            start >/dev/null; then
            break
        fi
        tail -20 "$DIR/server.log" >&2
        [ "$try" = 5 ] && exit 1
        sleep 3
    done
    echo "postgres://postgres@127.0.0.1:$PORT/"
    ;;
stop)
    [ -d "$DIR/data" ] && $AS "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
createdb)
    "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$3"
    ;;
*)
    echo "usage: pg-test.sh start|stop PORT | createdb PORT NAME" >&2
    exit 2
    ;;
esac
