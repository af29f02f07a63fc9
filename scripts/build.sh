#!/usr/bin/env bash
# Release build of the frontend (Trunk, wasm-opt 132) and the server, which embeds the built
# frontend (dist/, with its .br and .gz files): the binary is
# ${CARGO_TARGET_DIR:-target}/release/claude-remote.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/binaryen/node_modules/.bin:$PATH"
trunk build --release --offline
scripts/stamp-sw.sh dist
node scripts/precompress.mjs dist
cargo build --release -p server
