#!/usr/bin/env bash
# Installs what is missing, builds for release and runs the server on 127.0.0.1. Arguments are
# passed to the server (see `target/release/server --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec target/release/server "$@"
