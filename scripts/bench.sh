#!/usr/bin/env bash
# Benchmarks: criterion for the parsers and the session listing, then load against the release
# server on 127.0.0.1 (fake claude, temporary data dir, CLI home and project) with wrk and a
# Python client. Prints each figure with its target and its ratio to the target.
#
#   scripts/bench.sh [--record] [--no-criterion] [--only-approvals] [--only-projects]
#
#   --record          also write the figures into BENCHMARKS.md (its bench:results block)
#   --no-criterion    skip the criterion benches (the load figures only)
#   --only-approvals  only the permission-request figures (about 30 s); with --record, only
#                     their rows of the block are replaced, with a line saying when
#   --only-projects   only the many-projects figures (10,000 sessions in 50 projects, about a
#                     minute); with --record, likewise
#
# Installs wrk (Debian's package) if it is missing. Takes about 3 minutes on 2 cores once built.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

record=0
criterion=1
only_approvals=0
only_projects=0
for arg in "$@"; do
  case "$arg" in
    --record) record=1 ;;
    --no-criterion) criterion=0 ;;
    --only-approvals) only_approvals=1; criterion=0 ;;
    --only-projects) only_projects=1; criterion=0 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench: unknown option $arg" >&2; exit 2 ;;
  esac
done

# ---- what it needs
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
  else sudo apt-get install -y wrk || { sudo apt-get update && sudo apt-get install -y wrk; }; fi
fi
command -v python3 >/dev/null || { echo "bench: python3 is needed (the fake claude is Python too)" >&2; exit 1; }

root=$(mktemp -d -t claude-remote-bench.XXXXXX)
results="$root/results"
mkdir -p "$root/project" "$root/claude-home" "$root/data" "$results"
project=$(cd "$root/project" && pwd -P)
server_pid=""
bg_pids=()

cleanup() {
  local status=$?
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  # CLIs outlive the server by design (the next start follows them): stop the ones this run
  # started, found by their working directory, the temporary project. (The many-projects server
  # runs none.)
  for dir in /proc/[0-9]*; do
    if [ "$(readlink "$dir/cwd" 2>/dev/null)" = "$project" ]; then
      kill -KILL "${dir#/proc/}" 2>/dev/null || true
    fi
  done
  rm -rf "$root"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export BENCH_USER=bench
export BENCH_PASSWORD="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_TASKS_FILE="$root/tasks.txt"
basic="Basic $(printf '%s:%s' "$BENCH_USER" "$BENCH_PASSWORD" | base64 -w0)"
load() { python3 scripts/bench/load.py "$@"; }

# ---- criterion (before the server runs: it needs both cores)
if [ "$criterion" = 1 ]; then
  echo "== criterion: parsers and session listing (cargo bench)"
  rm -rf "$target"/criterion/stream* "$target"/criterion/transcript* "$target"/criterion/session_listing*
  echo "(about a minute; the full report is printed at the end)"
  cargo bench -p server --bench parsers --bench session_listing -- --warm-up-time 1 --measurement-time 3 >"$root/criterion.txt"
  grep -E -A1 '^(stream|transcript|session_listing)[^ ]*/[^ ]*$' "$root/criterion.txt" | grep -v '^--' || true
  python3 - "$results/criterion.json" "$target" <<'PY'
import glob, json, os, sys
def human(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"
out = []
for path in sorted(glob.glob(sys.argv[2] + "/criterion/**/new/estimates.json", recursive=True)):
    bench = json.load(open(os.path.join(os.path.dirname(path), "benchmark.json")))
    if not bench["full_id"].startswith(("stream/", "transcript/", "session_listing")):
        continue
    median = json.load(open(path))["median"]["point_estimate"]
    out.append({"id": bench["full_id"], "median": human(median), "median_ns": median})
json.dump(out, open(sys.argv[1], "w"))
PY
fi

# ---- the release server
echo "== release build"
cargo build --release -p server

# start_server LOG ARGS...: starts the release server with the bench's credentials, waits until
# it says where it listens; sets $started_pid and $started_base.
start_server() {
  local log=$1; shift
  AUTH_USERNAME="$BENCH_USER" AUTH_PASSWORD="$BENCH_PASSWORD" LOG=warn \
    "$target/release/claude-remote" --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  started_pid=$!
  started_base=""
  for _ in $(seq 1 200); do
    started_base=$(sed -n 's/^listening on //p' "$log" | head -1)
    [ -n "$started_base" ] && return 0
    kill -0 "$started_pid" 2>/dev/null || { cat "$log" >&2; echo "bench: the server did not start" >&2; exit 1; }
    sleep 0.05
  done
  cat "$log" >&2; echo "bench: the server never said where it listens" >&2; exit 1
}

# Listing and search over 10,000 sessions in 50 projects, on a server of its own (its own CLI
# home, data and projects root), while wrk loads /health.
projects_bench() {
  echo "== data set: 10,000 sessions in 50 projects (200 each, 4,000 transcript lines a project)"
  local home="$root/projects-home" repos="$root/repos" i
  mkdir -p "$home" "$repos" "$root/projects-data"
  for i in $(seq 0 49); do
    mkdir -p "$repos/p$i"
    python3 scripts/bench/make_sessions.py --home "$home" --project "$(cd "$repos/p$i" && pwd -P)" \
      --sessions 200 --lines 4000 --seed "$((i + 1))" >/dev/null
  done
  du -sh "$home/projects" | sed 's/^/CLI folders: /'
  start_server "$root/projects-server.log" --project "$project" --projects-root "$repos" \
    --data-dir "$root/projects-data" --claude-bin scripts/fake-claude/claude --claude-config-dir "$home"
  local pid=$started_pid base=$started_base
  bg_pids+=("$pid")
  echo "many-projects server: pid $pid at $base"
  # The first calls (a search reads every transcript once) before wrk starts: /health is
  # measured beside warm listings and searches, as the figures are.
  load projects "$base" --seconds 0 --min-count 1 >"$results/projects_cold.json"
  wrk -t1 -c8 -d3s --latency "$base/health" >"$results/wrk_health_alone_projects.txt"
  wrk -t1 -c8 -d12s --latency "$base/health" >"$results/wrk_health_during_projects.txt" &
  local wrk_pid=$!
  sleep 0.3
  load projects "$base" --seconds 10 --min-count 50 | tee "$results/projects.json"
  wait "$wrk_pid"
  grep -E '^\s+99%' "$results/wrk_health_during_projects.txt" | sed 's/^/\/health during many-projects listing: /'
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# The figures of a partial run (--only-projects, --only-approvals), recorded with --record.
report_partial() {
  if [ "$record" = 1 ]; then
    python3 scripts/bench/report.py "$results" --partial --mode "$1" --record BENCHMARKS.md
  else
    python3 scripts/bench/report.py "$results" --partial --mode "$1"
  fi
}

if [ "$only_projects" = 1 ]; then
  cp /proc/loadavg "$results/loadavg_start.txt"
  projects_bench
  cp /proc/loadavg "$results/loadavg_end.txt"
  report_partial only-projects
  exit 0
fi

if [ "$only_approvals" = 0 ]; then
  echo "== data set: 2,000 sessions / 100,000 transcript lines in the CLI home"
  python3 scripts/bench/make_sessions.py --home "$root/claude-home" --project "$project" --sessions 2000 --lines 100000 | tee "$results/dataset.json"
fi

echo "== server"
AUTH_USERNAME="$BENCH_USER" AUTH_PASSWORD="$BENCH_PASSWORD" LOG=warn \
  FAKE_CLAUDE_TIMING_LOG="$root/timing.jsonl" \
  "$target/release/claude-remote" --host 127.0.0.1 --port 0 \
  --project "$project" --data-dir "$root/data" \
  --claude-bin scripts/fake-claude/claude --claude-config-dir "$root/claude-home" \
  --max-concurrent 8 --max-queued-total 1000 --stop-grace-secs 1 >"$root/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 200); do
  base=$(sed -n 's/^listening on //p' "$root/server.log" | head -1)
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$root/server.log" >&2; echo "bench: the server did not start" >&2; exit 1; }
  sleep 0.05
done
[ -n "$base" ] || { cat "$root/server.log" >&2; echo "bench: the server never said where it listens" >&2; exit 1; }
echo "pid $server_pid at $base"
cp /proc/loadavg "$results/loadavg_start.txt"

approvals() {
  echo "== permission requests: CLI writes the request -> the app sees it; decision -> the CLI reads it (30 Writes)"
  load approvals "$base" --count 30 --project "$project" --timing-log "$root/timing.jsonl" | tee "$results/approvals.json"
}
if [ "$only_approvals" = 1 ]; then
  approvals
  cp /proc/loadavg "$results/loadavg_end.txt"
  report_partial only-approvals
  exit 0
fi

rss_kb() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$server_pid/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# wrk NAME ARGS...: runs wrk, keeps its report in $results/wrk_NAME.txt and the CPU time the
# server and wrk used meanwhile in $results/cpu_NAME.json (both share the machine's cores).
run_wrk() {
  local name=$1; shift
  local s0 s1 w0=0 w1=0 pid
  s0=$(cpu_ticks "$server_pid")
  wrk "$@" >"$results/wrk_$name.txt" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do w1=$(cpu_ticks "$pid" 2>/dev/null || echo "$w1"); sleep 0.2; done
  wait "$pid"
  s1=$(cpu_ticks "$server_pid")
  printf '{"server_ticks": %s, "wrk_ticks": %s, "hz": %s}\n' "$((s1 - s0))" "$w1" "$(getconf CLK_TCK)" >"$results/cpu_$name.json"
}

echo "== idle RSS"
for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "$base/health"; done
curl -fsS -o /dev/null "$base/api/config"
curl -sS -o /dev/null -H "Authorization: $basic" "$base/api/sessions/new/tasks/00000000-0000-4000-8000-000000000000"
sleep 1
idle_kb=$(rss_kb VmRSS) idle_anon_kb=$(rss_kb RssAnon) idle_file_kb=$(rss_kb RssFile)
idle_pss_kb=$(awk '$1 == "Pss:" { print $2 }' "/proc/$server_pid/smaps_rollup")
echo "VmRSS ${idle_kb} kB (anonymous ${idle_anon_kb} kB, file-backed ${idle_file_kb} kB; PSS ${idle_pss_kb} kB)"

echo "== /health: wrk -t2 -c32 -d10s"
run_wrk health -t2 -c32 -d10s --latency "$base/health"
grep -E 'Requests/sec|^\s+99%' "$results/wrk_health.txt"

echo "== session listing (2,000 sessions) while wrk -t1 -c8 -d5s --latency loads /health"
load listing "$base" --seconds 1 --min-count 50 >"$results/listing_alone.json"
wrk -t1 -c8 -d3s --latency "$base/health" >"$results/wrk_health_alone.txt"
wrk -t1 -c8 -d5s --latency "$base/health" >"$results/wrk_health_during_listing.txt" &
bg_pids+=($!)
sleep 0.3
load listing "$base" --seconds 4.4 --min-count 100 | tee "$results/listing.json"
wait "${bg_pids[-1]}"
grep -E '^\s+99%' "$results/wrk_health_during_listing.txt" | sed 's/^/\/health during listing: /'

echo "== submit latency: 200 sequential submits on one keep-alive connection, the 8 CLI slots taken"
load submit "$base" --count 200 --cap 8 --server-pid "$server_pid" | tee "$results/submit.json"
echo "stopping the 208 tasks"
load cancel-all "$base" --server-pid "$server_pid"
echo "== submit latency with a free slot (the CLI starts at once): 20 submits, one at a time"
load submit-start "$base" --count 20 | tee "$results/submit_start.json"

echo "== poll of a completed task: wrk -t2 -c32 -d10s"
poll_path=$(load completed "$base" | python3 -c 'import json, sys; print(json.load(sys.stdin)["path"])')
run_wrk poll -t2 -c32 -d10s --latency -H "Authorization: $basic" "$base$poll_path"
grep -E 'Requests/sec|^\s+99%|Non-2xx' "$results/wrk_poll.txt" || true

echo "== 50 submits at once with the 8 CLI slots already taken (the server's share)"
load burst-queued "$base" --count 50 --cap 8 --server-pid "$server_pid" | tee "$results/burst_queued.json"
load cancel-all "$base" --server-pid "$server_pid"
echo "== 50 concurrent tasks (#SLOW=1) under --max-concurrent 8"
load concurrent "$base" --count 50 --cap 8 --server-pid "$server_pid" | tee "$results/concurrent.json"

echo "== CLI result -> the app shows it: 20 tasks (#SLOW=0.5) followed with wait_task"
load wait-task "$base" --count 20 | tee "$results/wait_task.json"

approvals

projects_bench

if [ -f dist/index.html ]; then
  echo "== first-load transfer (Accept-Encoding: br, gzip)"
  load transfer "$base" --dist dist | tee "$results/transfer.json"
else
  echo "== first-load transfer: skipped, no dist/ (scripts/build.sh builds it)"
fi

printf '{"idle_kb": %s, "idle_anon_kb": %s, "idle_file_kb": %s, "idle_pss_kb": %s, "after_kb": %s}\n' \
  "$idle_kb" "$idle_anon_kb" "$idle_file_kb" "$idle_pss_kb" "$(rss_kb VmRSS)" >"$results/rss.json"

cp /proc/loadavg "$results/loadavg_end.txt"

if [ "$record" = 1 ]; then
  python3 scripts/bench/report.py "$results" --record BENCHMARKS.md
else
  python3 scripts/bench/report.py "$results"
fi
