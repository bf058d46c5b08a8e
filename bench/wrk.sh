#!/usr/bin/env bash
# wrk, the HTTP load generator of bench/http.py, from Debian's package (C: the client is not the ceiling).
set -euo pipefail
if command -v wrk >/dev/null; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q wrk || { $SUDO apt-get update -q && $SUDO apt-get install -y -q wrk; }
