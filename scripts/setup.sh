#!/usr/bin/env bash
# Installs what building the product needs, skipping whatever is already there:
# the wasm32 target, trunk, wasm-bindgen-cli (the exact version Cargo.lock pins) and binaryen's
# wasm-opt 132 from npm (Debian's binaryen 108 builds a broken app).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=132
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  cargo install --locked "trunk@$TRUNK_VERSION"
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  # No --locked: the CLI's own lock file names a crate the registry no longer has.
  cargo install "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
fi

if [ ! -x .tools/binaryen/node_modules/.bin/wasm-opt ]; then
  mkdir -p .tools/binaryen
  npm install --prefix .tools/binaryen --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null
fi
