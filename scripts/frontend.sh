#!/usr/bin/env bash
# The pages' browser-side packages (package.json, pinned with their hashes in package-lock.json) from
# the npm registry, copied into pages/static/pages/vendor/, which the app serves itself (whitenoise):
# never a CDN, which many rural networks cannot reach. axe-core (the browser tests' accessibility
# checker) is a dev dependency, copied when it is installed. Skipped, with a word, without npm.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=pages/static/pages/vendor
if ! command -v npm >/dev/null 2>&1; then
  if [ ! -f "$vendor/htmx.min.js" ]; then
    echo "npm is not available: the pages will have no htmx or hls.js (install nodejs + npm)" >&2
  fi
  exit 0
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
fi
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/hls.js/dist/hls.min.js "$vendor/hls.min.js"
if [ -f node_modules/axe-core/axe.min.js ]; then
  cp node_modules/axe-core/axe.min.js "$vendor/axe.min.js"
fi
