#!/usr/bin/env bash
# Browser tests: Debian's chromium (installed if missing) driven by Playwright against the
# release server (scripts/e2e-server.sh). Expects scripts/build.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }
  else sudo apt-get install -y chromium; fi
fi
cd end2end
if [ ! -d node_modules/@playwright/test ]; then
  npm ci --no-audit --no-fund
fi
npx playwright test "$@"
