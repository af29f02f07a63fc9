#!/usr/bin/env python3
"""Reads what scripts/bench.sh measured (a folder of JSON and wrk outputs), prints every figure
with its target and its ratio to the target, and with --record writes the same table into
BENCHMARKS.md between its `<!-- bench:results:begin -->` and `<!-- bench:results:end -->` lines.

    report.py RESULTS_DIR [--record BENCHMARKS.md] [--partial [--mode only-approvals|only-projects]]

With --partial (scripts/bench.sh --only-approvals) only the figures measured are printed, and
--record replaces only their rows in the block, with a line saying when they were measured.
"""

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"


def load(folder: str, name: str):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    return json.loads(text) if name.endswith(".json") else text


def wrk(text: str | None) -> dict | None:
    """Requests/sec and the latency percentiles (ms) of a wrk report."""
    if not text:
        return None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    out: dict = {}
    match = re.search(r"Requests/sec:\s*([\d.]+)", text)
    out["rps"] = float(match.group(1)) if match else None
    for pct, value, unit in re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M):
        out[f"p{pct}"] = float(value) * scale[unit]
    match = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    out["non2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors:.*", text)
    out["socket_errors"] = match.group(0) if match else ""
    match = re.search(r"(\d+) requests in", text)
    out["requests"] = int(match.group(1)) if match else 0
    return out


class Row:
    def __init__(self, figure: str, measured, unit: str, target, direction: str, note: str = ""):
        self.figure, self.measured, self.unit, self.target, self.direction, self.note = figure, measured, unit, target, direction, note

    def verdict(self) -> tuple[str, str]:
        """(ratio, outcome) as printed."""
        if self.measured is None:
            return "-", "not measured"
        if self.direction == "==":
            met = self.measured == self.target
            return "-", "met" if met else f"missed ({self.measured} vs {self.target})"
        ratio = self.measured / self.target if self.target else float("inf")
        if self.direction == "<=":
            met = self.measured <= self.target
            over = self.measured - self.target
            miss = f"missed by {over:,.0f} {self.unit} (+{(ratio - 1) * 100:.0f}%)" if over >= 100 else f"missed by {over:,.3g} {self.unit} (+{(ratio - 1) * 100:.0f}%)"
        else:
            met = self.measured >= self.target
            miss = f"missed by {self.target - self.measured:,.0f} {self.unit} (-{(1 - ratio) * 100:.0f}%)"
        return f"{ratio:.2f}", "met" if met else miss

    def cells(self) -> list[str]:
        ratio, outcome = self.verdict()
        measured = "-" if self.measured is None else fmt(self.measured, self.unit)
        target = f"{'≤' if self.direction == '<=' else '≥' if self.direction == '>=' else '='} {fmt(self.target, self.unit)}"
        return [self.figure, measured, target, ratio, outcome, self.note]


def fmt(value, unit: str) -> str:
    if isinstance(value, float) and unit in ("req/s",):
        return f"{value:,.0f} {unit}"
    if isinstance(value, float):
        return f"{value:.3g} {unit}".strip() if value < 100 else f"{value:,.0f} {unit}".strip()
    return f"{value:,} {unit}".strip() if isinstance(value, int) else f"{value} {unit}".strip()


def cpu_note(cpu: dict | None, report: dict | None) -> str:
    """The server's CPU time per request during a wrk run, and what 2 cores would give it alone."""
    if not cpu or not report or not report.get("requests"):
        return ""
    seconds = cpu["server_ticks"] / cpu["hz"]
    per_request_us = seconds / report["requests"] * 1e6
    duration = report["requests"] / report["rps"] if report.get("rps") else 0
    share = f"server {seconds / duration * 100:.0f}% CPU, wrk {cpu['wrk_ticks'] / cpu['hz'] / duration * 100:.0f}% (of 200%)" if duration else ""
    return f"{share}; server CPU {per_request_us:.0f} µs/request, so ≈{2e6 / per_request_us:,.0f} req/s if it had both cores to itself"


def rows(folder: str) -> list[Row]:
    out = []
    rss = load(folder, "rss.json")
    out.append(Row("idle RSS", rss and rss["idle_kb"] / 1024, "MB", 10, "<=",
                   rss and f"VmRSS after start and a few requests: {rss['idle_anon_kb'] / 1024:.1f} MB anonymous + {rss['idle_file_kb'] / 1024:.1f} MB "
                   f"file-backed (the executable's and libraries' pages); PSS {rss.get('idle_pss_kb', 0) / 1024:.1f} MB; {rss['after_kb'] / 1024:.1f} MB after the whole run"))

    submit = load(folder, "submit.json")
    out.append(Row("submit, server time p50", submit and submit["p50"], "ms", 0.5, "<=",
                   submit and f"client-observed on loopback, so an upper bound of the server time: keep-alive Python client, n={submit['n']}, "
                   f"p95 {submit['p95']:.2f} ms; the same client's GET /health takes p50 {submit['floor']['p50']:.3f} ms (client + loopback floor)"))

    start = load(folder, "submit_start.json")
    out.append(Row("submit p50 with a free CLI slot", start and start["p50"], "ms", 0.5, "<=",
                   start and f"same client; the CLI (a Python process here) starts right after the answer, n={start['n']}, one at a time; p95 {start['p95']:.2f} ms"))

    poll = wrk(load(folder, "wrk_poll.txt"))
    out.append(Row("poll of a completed task, 2 threads, 32 connections", poll and poll["rps"], "req/s", 40_000, ">=",
                   poll and f"wrk -t2 -c32 -d10s, Basic auth; p50 {poll.get('p50', 0):.2f} ms, p99 {poll.get('p99', 0):.2f} ms; non-2xx {poll['non2xx']}; "
                   + cpu_note(load(folder, "cpu_poll.json"), poll)))

    health = wrk(load(folder, "wrk_health.txt"))
    out.append(Row("/health, same load", health and health["rps"], "req/s", 60_000, ">=",
                   health and f"wrk -t2 -c32 -d10s; p50 {health.get('p50', 0):.2f} ms, p99 {health.get('p99', 0):.2f} ms; "
                   + cpu_note(load(folder, "cpu_health.json"), health)))

    conc = load(folder, "concurrent.json")
    queued = load(folder, "burst_queued.json")
    out.append(Row("50 concurrent tasks: most CLI processes at once", conc and conc["max_cli_processes"], "", conc["cap"] if conc else 8, "<=",
                   conc and f"--max-concurrent {conc['cap']}, sampled every 50 ms ({conc['samples']} samples); statuses {conc['statuses']}; drained in {conc['drain_s']} s"))
    out.append(Row("50 concurrent tasks: zombies after", conc and conc["zombies"], "", 0, "==", conc and f"CLI processes left: {conc['cli_left']}"))
    out.append(Row("50 concurrent tasks: submit p50", conc and conc["submit"]["p50"], "ms", 5, "<=",
                   conc and f"50 at once, one connection each, from idle: 8 CLIs (~0.15 s of CPU each here) boot meanwhile; p95 {conc['submit']['p95']:.2f} ms, "
                   f"max {conc['submit']['max']:.2f} ms" + (f"; with every slot already taken (no CLI boots): p50 {queued['p50']:.2f} ms, p95 {queued['p95']:.2f} ms" if queued else "")))

    listing = load(folder, "listing.json")
    alone_listing = load(folder, "listing_alone.json")
    dataset = load(folder, "dataset.json")
    described = dataset and f"{dataset['sessions']:,} sessions / {dataset['lines']:,} lines ({dataset['bytes'] / 1e6:.0f} MB)"
    out.append(Row("session listing (limit 20), warm p50", listing and listing["warm"]["p50"], "ms", 10, "<=",
                   listing and f"{described}; over HTTP, n={listing['warm']['n']}, p95 {listing['warm']['p95']:.2f} ms, while wrk loads /health; "
                   f"alone: p50 {alone_listing['warm']['p50']:.2f} ms; first (cold) call {alone_listing['cold_ms']:.1f} ms" if alone_listing else ""))
    out += projects_rows(folder)
    during = wrk(load(folder, "wrk_health_during_listing.txt"))
    alone = wrk(load(folder, "wrk_health_alone.txt"))
    out.append(Row("/health p99 while listing", during and during.get("p99"), "ms", 5, "<=",
                   during and alone and f"wrk -t1 -c8 -d5s --latency; {during['rps']:,.0f} req/s; alone (same wrk, no listing): p99 {alone.get('p99', 0):.2f} ms"))

    wait = load(folder, "wait_task.json")
    out.append(Row("CLI result → the app shows it, p95", wait and wait["p95"], "ms", 500, "<=",
                   wait and f"wait_task answer received − task finished_at, n={wait['n']}; p50 {wait['p50']:.1f} ms, p95 {wait['p95']:.1f} ms"))

    approvals = load(folder, "approvals.json")
    seen, stream, by_wait = (approvals or {}).get("seen_poll"), (approvals or {}).get("seen_stream"), (approvals or {}).get("seen_wait_task")
    out.append(Row("permission request → the app sees it, p95", seen and seen["p95"], "ms", 100, "<=",
                   seen and f"the fake CLI's stamp once its control_request line is flushed to its stdout (the server's spool file) → the first "
                   f"GET …/tasks/{{t}} answer carrying pending_approvals, polled every {approvals['poll_ms']} ms; one Write at a time on an idle server, "
                   f"n={seen['n']}; p50 {seen['p50']:.1f} ms, max {seen['max']:.1f} ms; the same line on the event stream (SSE): p50 {stream['p50']:.1f} ms, "
                   f"p95 {stream['p95']:.1f} ms"))
    out.append(Row("permission request → the app's wait_task shows it, p95", by_wait and by_wait["p95"], "ms", 100, "<=",
                   by_wait and f"wait_task from the submit on, on the app's schedule (0.5 s, ×1.5, ≤ 5 s), n={by_wait['n']}: it answers when the task "
                   f"ends, asks for a new decision, or the wait runs out; p50 {by_wait['p50']:.0f} ms, max {by_wait['max']:.0f} ms; "
                   f"wait_task calls per task: {by_wait['calls']}"))
    answered = (approvals or {}).get("answered")
    rtt = (approvals or {}).get("post_rtt")
    out.append(Row("decision → the CLI reads it, p95", answered and answered["p95"], "ms", 10, "<=",
                   answered and f"POST …/approvals/{{id}} sent (client clock) → the fake CLI has read and parsed the control_response from its stdin "
                   f"(a FIFO), n={answered['n']}; p50 {answered['p50']:.2f} ms, max {answered['max']:.2f} ms; the POST's round trip: p50 "
                   f"{rtt['p50']:.2f} ms, p95 {rtt['p95']:.2f} ms"))

    transfer = load(folder, "transfer.json")
    if transfer is None:
        out.append(Row("first-load transfer, compressed", None, "KB", 300, "<=", "skipped: no dist/ (scripts/build.sh builds it)"))
    else:
        parts = ", ".join(f"{f['path'].rsplit('/', 1)[-1] or 'index.html'} {f['body'] / 1024:.1f} KB ({f['encoding']})" for f in transfer["files"])
        out.append(Row("first-load transfer, compressed", transfer["total_bytes"] / 1024, "KB", 300, "<=", f"bodies + headers; {parts}; not counted: {', '.join(p.rsplit('/', 1)[-1] for p in transfer.get('extra_paths', []))} "
                       f"({transfer.get('extra_body_bytes', 0) / 1024:.1f} KB)"))
    return out


def projects_rows(folder: str) -> list[Row]:
    """Listing and search over 10,000 sessions in 50 projects (scripts/bench.sh projects_bench)."""
    many = load(folder, "projects.json")
    cold = load(folder, "projects_cold.json") or many
    def part(name: str):
        return many and many[name]
    def note(name: str, what: str) -> str:
        p = part(name)
        return p and (f"{what}; {many['session_count']:,} sessions in {many['project_count']} projects; over HTTP, n={p['warm']['n']}, "
                      f"p95 {p['warm']['p95']:.2f} ms, while wrk loads /health; first (cold) call {cold[name]['cold_ms']:.1f} ms, before wrk")
    out = [
        Row("many projects: listing of all, warm p50", part("all") and part("all")["warm"]["p50"], "ms", 20, "<=",
            note("all", "`GET /api/sessions?limit=20` across every project")),
        Row("many projects: one project's listing, warm p50", part("project") and part("project")["warm"]["p50"], "ms", 20, "<=",
            note("project", "`?project=ID`, 200 sessions")),
        Row("many projects: search matching nothing, warm p50", part("search_none") and part("search_none")["warm"]["p50"], "ms", 20, "<=",
            note("search_none", "`?q=no session says this`: every session's title, first and last prompt looked at")),
        Row("many projects: search, warm p50", part("search") and part("search")["warm"]["p50"], "ms", 20, "<=",
            note("search", "`?q=refactor module`, 20 found among the newest")),
        Row("many projects: GET /api/projects, warm p50", part("projects") and part("projects")["warm"]["p50"], "ms", 20, "<=",
            note("projects", "each project's sessions counted, last activity, git branch")),
    ]
    during = wrk(load(folder, "wrk_health_during_projects.txt"))
    alone = wrk(load(folder, "wrk_health_alone_projects.txt"))
    out.append(Row("/health p99 while listing many projects", during and during.get("p99"), "ms", 5, "<=",
                   during and alone and f"wrk -t1 -c8 -d12s --latency; {during['rps']:,.0f} req/s; alone (same wrk, before): p99 {alone.get('p99', 0):.2f} ms"))
    return out


def criterion_rows(folder: str) -> list[list[str]]:
    medians = load(folder, "criterion.json") or []
    return [[m["id"], m["median"]] for m in medians]


def table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        mem = 0
    return f"{os.cpu_count()} cores ({model or platform.processor()}), {mem:.0f} GB RAM, Linux {platform.release()}"


PARTIAL = "Measured apart:"


def record_partial(path: str, measured: list[Row], note: str, mode: str) -> None:
    """Replaces the rows of `measured` in the block's results table (appends those it lacks) and
    the line saying when they were measured (by `--mode`); the rest of the block stays as it was."""
    text = open(path, encoding="utf-8").read()
    if BEGIN not in text or END not in text:
        sys.exit(f"report: {path} has no {BEGIN} ... {END} block to update")
    head, rest = text.split(BEGIN, 1)
    block, tail = rest.split(END, 1)
    lines = [line for line in block.split("\n") if not (line.startswith(PARTIAL) and f"--{mode} " in line)]
    header = next(i for i, line in enumerate(lines) if line.startswith("| figure |"))
    end = header
    while end + 1 < len(lines) and lines[end + 1].startswith("|"):
        end += 1
    for row in measured:
        line = "| " + " | ".join(cell.replace("|", "\\|") for cell in row.cells()) + " |"
        at = next((i for i in range(header + 2, end + 1) if lines[i].startswith(f"| {row.figure} |")), None)
        if at is None:
            end += 1
            lines.insert(end, line)
        else:
            lines[at] = line
    lines.insert(end + 1, "")
    lines.insert(end + 2, note)
    block = "\n".join(lines)
    block = re.sub(r"\n{3,}", "\n\n", block)
    with open(path, "w", encoding="utf-8") as out:
        out.write(head + BEGIN + block + END + tail)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--record", metavar="BENCHMARKS_MD")
    parser.add_argument("--partial", action="store_true")
    parser.add_argument("--mode", default="only-approvals", help="the bench.sh option that measured a partial run")
    args = parser.parse_args()

    all_rows = rows(args.results)
    if args.partial:
        all_rows = [row for row in all_rows if row.measured is not None]
    header = ["figure", "measured", "target", "ratio", "outcome", "how / notes"]
    body = [row.cells() for row in all_rows]
    # The terminal table: the notes on lines of their own.
    widths = [max(len(r[i]) for r in [header[:5]] + [b[:5] for b in body]) for i in range(5)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(header[:5], widths)))
    for cells in body:
        print("  ".join(c.ljust(w) for c, w in zip(cells[:5], widths)))
        if cells[5]:
            print("    " + cells[5])
    crit = criterion_rows(args.results)
    if crit:
        print("\ncriterion medians")
        for name, median in crit:
            print(f"  {name:<70} {median}")
    loads = [(load(args.results, f"loadavg_{when}.txt") or "").split()[:3] for when in ("start", "end")]
    load_note = f"load average (1, 5, 15 min) when the server started: {' '.join(loads[0])}; at the end: {' '.join(loads[1])}"
    print(f"\n{load_note}")
    missed = [row.figure for row in all_rows if row.measured is not None and row.verdict()[1] != "met"]
    print(f"\n{len(all_rows) - len(missed)} of {len(all_rows)} figures meet their target" + (f"; missed: {', '.join(missed)}" if missed else ""))

    if args.record:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
        if args.partial:
            note = (f"{PARTIAL} {'; '.join(row.figure for row in all_rows)}: measured {datetime.date.today().isoformat()}, commit "
                    f"{commit}{' (with uncommitted changes)' if dirty else ''}, with `scripts/bench.sh --{args.mode} --record`; {load_note}.")
            record_partial(args.record, all_rows, note, args.mode)
            print(f"recorded {len(all_rows)} rows in {args.record}")
            return
        block = [
            BEGIN,
            f"Measured {datetime.date.today().isoformat()} on {machine()}, commit {commit}{' (with uncommitted changes)' if dirty else ''},",
            f"with `scripts/bench.sh --record`; {load_note}.",
            "",
            table(header, body),
        ]
        if crit:
            block += ["", "Criterion medians (`cargo bench -p server --bench parsers --bench session_listing -- --warm-up-time 1 --measurement-time 3`):", "",
                      table(["benchmark", "median"], crit)]
        block.append(END)
        text = open(args.record, encoding="utf-8").read() if os.path.exists(args.record) else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
        if BEGIN not in text or END not in text:
            sys.exit(f"report: {args.record} has no {BEGIN} ... {END} block to replace")
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        with open(args.record, "w", encoding="utf-8") as out:
            out.write(head + "\n".join(block) + tail)
        print(f"recorded in {args.record}")


if __name__ == "__main__":
    main()
