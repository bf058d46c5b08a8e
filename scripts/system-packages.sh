#!/usr/bin/env bash
# Debian packages the integration tests use for real: the nginx-rtmp media server,
# ffmpeg to push a test stream, gettext for translations, chromium + chromium-driver (the pages'
# browser tests, headless, with a Chinese font for their screenshots), redis-server (the suite's Redis,
# and the fault tests start one of their own to pause). Installed only when missing.
set -euo pipefail

packages=(nginx-light libnginx-mod-rtmp ffmpeg gettext redis-server chromium chromium-driver fonts-wqy-microhei)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get is not available: the tests that need ${missing[*]} will be skipped" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "not root: cannot install ${missing[*]}; the tests that need them will be skipped" >&2
  exit 0
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
