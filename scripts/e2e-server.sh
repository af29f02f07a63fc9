#!/usr/bin/env bash
# The server the browser tests run against: the release binary (its built-in web app), the fake claude, a fresh data
# directory and CLI home, and one older session (a real interactive transcript) to switch to.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d -t claude-remote-e2e.XXXXXX)
mkdir -p "$root/project" "$root/claude-home" "$root/data"
project=$(cd "$root/project" && pwd -P)
python3 - "$project" "$root/claude-home" <<'PY'
import json, os, re, sys, time
project, home = sys.argv[1], sys.argv[2]
folder = os.path.join(home, "projects", re.sub(r"[^A-Za-z0-9]", "-", project))
os.makedirs(folder, exist_ok=True)
source = "server/tests/fixtures/claude-cli/session_tui_interactive.jsonl"
target = os.path.join(folder, "dff03279-0492-4a52-baa4-f4289e7ad6f5.jsonl")
with open(source) as src, open(target, "w") as out:
    for line in src:
        entry = json.loads(line)
        if "cwd" in entry:
            entry["cwd"] = project
        out.write(json.dumps(entry) + "\n")
day_ago = time.time() - 86400
os.utime(target, (day_ago, day_ago))
PY
bin=$(cd "$(dirname "${CARGO_TARGET_DIR:-target}/release/claude-remote")" && pwd -P)/claude-remote
fake_claude="$PWD/scripts/fake-claude/claude"
# Started from a folder with no dist/ and without --site-dir: the browser tests run the web app
# the release binary carries, as a copy of it anywhere else would.
cd "$root"
exec "$bin" \
  --host 127.0.0.1 --port "${E2E_PORT:-18765}" \
  --project "$project" --data-dir "$root/data" \
  --claude-bin "$fake_claude" --claude-config-dir "$root/claude-home" \
  --username e2e --password "${E2E_PASSWORD:-e2e-password}" \
  --stop-grace-secs 1
