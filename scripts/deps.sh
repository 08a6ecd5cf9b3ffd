#!/bin/sh
# Installs the Debian packages Fidelis needs, if any is missing: `deps.sh run` what building
# and serving need, `deps.sh test` (the default) also what the tests use (a PostgreSQL server,
# Chromium for the page tests, Python). Safe to run repeatedly: apt-get only runs when
# something is absent.
set -e
PKGS="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
libsodium-dev libcmocka-dev libqrencode-dev libzint-dev libpng-dev libicu-dev libpq-dev libcurl4-openssl-dev libgsl-dev libgoogle-perftools-dev tzdata python3"
[ "${1:-test}" = run ] || PKGS="$PKGS postgresql curl python3-yaml sqlite3 chromium"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# Node.js and npm (the web pages' packages): the machine's own when it has them, else Debian's.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null
