#!/usr/bin/env bash
# Stamps the service worker of a Trunk build: run after `trunk build` with the dist folder.
#
#   scripts/stamp-sw.sh [DIST]        (default: dist)
#
# Lists every file of DIST except sw.js, source maps (*.map), README/markdown files, dotfiles and
# vendor/ (fetched only when needed, e.g. the syntax highlighter; the worker keeps it once used),
# as URL paths ("/" for index.html, "/<relative path>" otherwise), hashes their paths and
# contents in sorted order (VERSION = first 16 hex chars of the sha256) and rewrites DIST/sw.js in
# place, replacing the placeholder tokens `self.__SHELL_VERSION__` with the JSON string VERSION
# and `self.__SHELL_FILES__` with the JSON array of paths.
#
# Idempotent: a second run over the same build finds sw.js already stamped with the same values
# and leaves it as is; a sw.js stamped for different files is refused (rebuild with trunk).
set -euo pipefail

dist="${1:-dist}"

if [ ! -d "$dist" ]; then
  echo "stamp-sw: no such folder: $dist (run trunk build first)" >&2
  exit 1
fi
if [ ! -f "$dist/sw.js" ]; then
  echo "stamp-sw: $dist/sw.js is missing: is public/sw.js copied into the Trunk output?" >&2
  exit 1
fi

python3 - "$dist" <<'PY'
import hashlib
import json
import sys
from pathlib import Path
from urllib.parse import quote

dist = Path(sys.argv[1])
sw = dist / "sw.js"
VERSION_TOKEN = "self.__SHELL_VERSION__"
FILES_TOKEN = "self.__SHELL_FILES__"


def shell_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if rel == "sw.js" or rel.startswith("vendor/") or name.endswith(".map") or name.endswith(".md"):
        return False
    return not any(part.startswith(".") for part in rel.split("/"))


files = sorted(
    rel
    for rel in (p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    if shell_file(rel)
)
if "index.html" not in files:
    sys.exit(f"stamp-sw: {dist}/index.html is missing: not a Trunk build?")

digest = hashlib.sha256()
for rel in files:
    data = (dist / rel).read_bytes()
    digest.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
version = digest.hexdigest()[:16]
urls = ["/" if rel == "index.html" else "/" + quote(rel) for rel in files]
urls.sort(key=lambda u: (u != "/", u))  # the shell first

version_json = json.dumps(version)
files_json = json.dumps(urls)
source = sw.read_text(encoding="utf-8")

counts = (source.count(VERSION_TOKEN), source.count(FILES_TOKEN))
if counts == (0, 0):
    if version_json in source and files_json in source:
        print(f"stamp-sw: {sw} already stamped (version {version}, {len(urls)} files)", file=sys.stderr)
        sys.exit(0)
    sys.exit(f"stamp-sw: {sw} has no placeholders and was stamped for another build: run trunk build again")
if counts != (1, 1):
    sys.exit(f"stamp-sw: {sw} must hold {VERSION_TOKEN} and {FILES_TOKEN} exactly once each (found {counts[0]} and {counts[1]})")

source = source.replace(VERSION_TOKEN, version_json).replace(FILES_TOKEN, files_json)
tmp = sw.with_name(sw.name + ".tmp")
tmp.write_text(source, encoding="utf-8")
tmp.replace(sw)
print(f"stamp-sw: {sw} stamped: version {version}, {len(urls)} files", file=sys.stderr)
PY
