#!/usr/bin/env bash
# The server the browser tests run against: the release binary (its built-in web app), the fake claude, a fresh data
# directory and CLI home, and one older session (a real interactive transcript) to switch to.
# Projects: the default (project/), and repos/ as the projects root with repos/second (which has
# one older session, so the CLI knows it), repos/third (unknown until added from the app) and
# repos/fourth/api, a git work tree found by browsing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d -t claude-remote-e2e.XXXXXX)
mkdir -p "$root/project" "$root/claude-home" "$root/data" "$root/repos/second" "$root/repos/third" \
  "$root/repos/fourth/api/.git"
project=$(cd "$root/project" && pwd -P)
repos=$(cd "$root/repos" && pwd -P)
python3 - "$project" "$root/claude-home" "$repos/second" <<'PY'
import json, os, re, sys, time
project, home, second = sys.argv[1], sys.argv[2], sys.argv[3]
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
# The second project's older session: one exchange, two hours ago.
folder = os.path.join(home, "projects", re.sub(r"[^A-Za-z0-9]", "-", second))
os.makedirs(folder, exist_ok=True)
session = "5e7c0d1a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
target = os.path.join(folder, session + ".jsonl")
lines = [
    {"type": "user", "cwd": second, "sessionId": session, "uuid": "u1", "timestamp": "2026-01-01T10:00:00.000Z",
     "message": {"role": "user", "content": "tidy the second project"}},
    {"type": "assistant", "cwd": second, "sessionId": session, "uuid": "a1", "timestamp": "2026-01-01T10:00:05.000Z",
     "message": {"role": "assistant", "model": "claude", "content": [{"type": "text", "text": "Tidied the second project."}]}},
]
with open(target, "w") as out:
    out.write("".join(json.dumps(line) + "\n" for line in lines))
hours_ago = time.time() - 7200
os.utime(target, (hours_ago, hours_ago))
PY
bin=$(cd "$(dirname "${CARGO_TARGET_DIR:-target}/release/claude-remote")" && pwd -P)/claude-remote
fake_claude="$PWD/scripts/fake-claude/claude"
# Started from a folder with no dist/ and without --site-dir: the browser tests run the web app
# the release binary carries, as a copy of it anywhere else would.
cd "$root"
exec "$bin" \
  --host 127.0.0.1 --port "${E2E_PORT:-18765}" \
  --project "$project" --projects-root "$repos" --data-dir "$root/data" \
  --claude-bin "$fake_claude" --claude-config-dir "$root/claude-home" \
  --username e2e --password "${E2E_PASSWORD:-e2e-password}" \
  --stop-grace-secs 1
