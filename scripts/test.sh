#!/usr/bin/env bash
# Installs what the tests need (skipping what is present) and runs every test: unit and fixture
# tests, HTTP integration tests against the real server binary with the fake claude, the release
# frontend build, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
# A whole run writes about 5 GB (debug and release builds, the WASM, browser profiles): say so
# up front when the disk has less, rather than failing later with "No space left on device".
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt $((6 * 1024 * 1024)) ]; then
  echo "warning: $((free_kb / 1024)) MB free on this disk; the tests need about 5 GB (target/ and temporary files)" >&2
fi
# A clean clone gains nothing from incremental caches, which would add gigabytes to its target.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
# The real-CLI tier (server/tests/real_cli.rs) runs the pinned claude against a stand-in API.
REAL_CLAUDE_BIN=$(scripts/real-cli.sh)
export REAL_CLAUDE_BIN

echo "== unit, fixture, integration and real-CLI tests"
# Per package: a workspace-wide build would unify the app's csr and ssr features.
cargo test -p app
cargo test -p markdown
cargo test -p server

echo "== release build (frontend through Trunk and wasm-opt, server)"
scripts/build.sh
# Again, now that dist/ is built (the first run found none): the app the binary serves against the
# real build, its brotli and gzip files, revalidation and caching rules.
cargo test -p server --test site

if [ -d end2end ] && [ -f end2end/package.json ]; then
  echo "== browser tests"
  scripts/e2e.sh
fi
