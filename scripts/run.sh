#!/usr/bin/env bash
# Installs what is missing, builds for release and runs the server on 127.0.0.1. Arguments are
# passed to the server (see `scripts/run.sh --help`). The binary it builds,
# target/release/claude-remote, carries the web app inside: it can be copied anywhere and run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec "${CARGO_TARGET_DIR:-target}/release/claude-remote" "$@"
