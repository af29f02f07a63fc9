#!/usr/bin/env bash
# Installs the pinned real claude CLI (npm package with its native binary, ~245 MB) into
# .tools/claude-code, unless that version is already there, and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.1.197   # keep in step with TESTED_RANGE / PINNED_FOR_TESTS in server/src/claude/version.rs
bin=.tools/claude-code/node_modules/.bin/claude
if [ "$("$bin" --version 2>/dev/null | awk '{print $1}')" != "$VERSION" ]; then
  mkdir -p .tools/claude-code
  npm install --prefix .tools/claude-code --no-audit --no-fund "@anthropic-ai/claude-code@$VERSION" >&2
fi
echo "$PWD/$bin"
