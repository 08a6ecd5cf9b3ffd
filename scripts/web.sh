#!/bin/sh
# Set-up of the web pages: the npm packages pinned in web/package-lock.json
# (chart.js for the dashboard, playwright-core for the browser tests) and the
# chart library copied where the server serves it (web/vendor/, not committed).
set -e
cd "$(dirname "$0")/../web"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p vendor
cp node_modules/chart.js/dist/chart.umd.js vendor/chart.umd.js
