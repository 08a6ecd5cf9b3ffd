#!/bin/sh
# Installs the Debian packages Fidelis needs to build, run and test, if any is missing.
# Safe to run repeatedly: it only calls apt-get when something is absent.
set -e
PKGS="build-essential cmake pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev \
libsodium-dev libcmocka-dev libqrencode-dev libzint-dev libpng-dev libicu-dev libpq-dev libcurl4-openssl-dev libgsl-dev postgresql tzdata curl python3 python3-yaml sqlite3"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing >/dev/null
