#!/usr/bin/env bash
# The npm tools the API-document tests use (clients/package.json, pinned by clients/package-lock.json):
# openapi-typescript and tsc for the generated TypeScript client, @asyncapi/parser for docs/asyncapi.yaml.
# Node.js and npm come from Debian when missing (scripts/system-packages.sh's rules); `npm ci` runs only
# when the lock changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../clients"

if ! command -v npm >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "installing nodejs npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
  else
    echo "npm is not available: the generated TypeScript client and AsyncAPI tests will be skipped" >&2
    exit 0
  fi
fi
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json .installed-lock; then
  exit 0
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
cp package-lock.json .installed-lock
