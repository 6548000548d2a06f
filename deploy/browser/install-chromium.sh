#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it by executable_path; we never run
# `playwright install`). Idempotent: does nothing when /usr/bin/chromium exists.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium))"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium: /usr/bin/chromium is missing and we are not root; install it with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y chromium" >&2
    echo "chromium: the browser tests (services/console/tests/browser) will be skipped until then" >&2
    exit 0
fi
echo "chromium: installing Debian's chromium package with apt-get ..."
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
