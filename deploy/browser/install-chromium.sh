#!/usr/bin/env bash
# Debian's Chromium and a CJK font for the browser tests (Playwright drives /usr/bin/chromium by
# executable_path; we never run `playwright install`). Idempotent: installs only what is missing.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# Without a CJK font the Chinese UI renders as boxes in screenshots.
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -eq 0 ]; then
    echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)), CJK font present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "chromium: missing ${need[*]} and we are not root; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
    echo "chromium: the browser tests (services/console/tests/browser) fail until then" >&2
    exit 0
fi
echo "chromium: installing ${need[*]} with apt-get ..."
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}"
echo "chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium) and ${need[*]}"
