#!/usr/bin/env python3
"""Client side of scripts/bench.sh: HTTP measurements against a running server (standard library
only). Each subcommand prints one JSON object on stdout; progress goes to stderr.

    load.py submit     BASE --count 200 --cap 8 --server-pid PID
                                                  sequential keep-alive submits, slots full: p50/p95
    load.py submit-start BASE --count 20          submits that start a CLI at once: p50/p95
    load.py completed  BASE                       submits one task, waits for it: its poll path
    load.py burst-queued BASE --count 50 --cap 8 --server-pid PID
                                                  the same 50 submits with every CLI slot taken
    load.py concurrent BASE --count 50 --cap 8 --server-pid PID
                                                  50 submits at once: CLI processes, zombies
    load.py listing    BASE --seconds 4.5         GET /api/sessions?limit=20 over and over
    load.py projects   BASE --seconds 10          listing, one project, search, /api/projects (many projects)
    load.py wait-task  BASE --count 20            CLI result -> the app's wait_task answer
    load.py approvals  BASE --count 30 --project DIR --timing-log FILE
                                                  permission request written by the CLI -> the
                                                  app sees it; decision posted -> the CLI reads it
    load.py transfer   BASE --dist dist           first-load bytes with Accept-Encoding: br, gzip
    load.py cancel-all BASE --server-pid PID      stops every unfinished task this script made

Credentials come from BENCH_USER and BENCH_PASSWORD.
"""

import argparse
import base64
import http.client
import json
import math
import os
import re
import statistics
import sys
import threading
import time
import urllib.parse

USER = os.environ.get("BENCH_USER", "bench")
PASSWORD = os.environ.get("BENCH_PASSWORD", "bench-password")
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
FAKE_CLI = "scripts/fake-claude/claude"
FINISHED = {"completed", "failed", "cancelled"}
# Every task this script submits, so that cancel-all can stop what is left of them.
SUBMITTED = os.environ.get("BENCH_TASKS_FILE")


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


class Client:
    """One keep-alive connection."""

    def __init__(self, base: str, timeout: float = 30):
        url = urllib.parse.urlsplit(base)
        self.host, self.port = url.hostname, url.port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, auth: bool = True):
        all_headers = {"Authorization": AUTH} if auth else {}
        all_headers.update(headers or {})
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                return response.status, response.getheaders(), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise

    def json(self, method: str, path: str, payload=None, form: dict | None = None):
        if form is not None:
            body, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        elif payload is not None:
            body, headers = json.dumps(payload).encode(), {"Content-Type": "application/json"}
        else:
            body, headers = None, {}
        status, _, data = self.request(method, path, body, headers)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data.decode(errors="replace")}

    def submit(self, message: str, session: str = "new") -> tuple[float, dict]:
        start = time.perf_counter()
        status, body = self.json("POST", f"/api/sessions/{session}/chat", {"message": message})
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise SystemExit(f"submit failed: {status} {body}")
        if SUBMITTED:
            with open(SUBMITTED, "a") as out:
                out.write(f"{body['session_id']} {body['task_id']}\n")
        return elapsed, body

    def task(self, session: str, task: str) -> dict:
        status, body = self.json("GET", f"/api/sessions/{session}/tasks/{task}")
        if status != 200:
            raise SystemExit(f"poll failed: {status} {body}")
        return body

    def wait_finished(self, session: str, task: str, limit: float = 120) -> dict:
        deadline = time.monotonic() + limit
        while True:
            body = self.task(session, task)
            if body["status"] in FINISHED:
                return body
            if time.monotonic() > deadline:
                raise SystemExit(f"task {task} still {body['status']} after {limit} s")
            time.sleep(0.05)


def percentile(values: list, p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(values: list) -> dict:
    return {
        "n": len(values),
        "p50": round(statistics.median(values), 3),
        "p95": round(percentile(values, 95), 3),
        "max": round(max(values), 3),
    }


def cli_processes(parent: int = 0) -> list[int]:
    """Pids of running fake CLIs started by `parent` (any parent if 0). Other servers (tests
    running beside the benchmark) start fake CLIs too: only the benchmarked server's count.
    Zombies have no command line and are counted apart."""
    if parent:
        pids = [pid for pid, state in children(parent) if state != "Z"]
    else:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if FAKE_CLI.encode() in cmdline and b"-p" in cmdline.split(b"\0"):
            found.append(pid)
    return found


def children(parent: int) -> list[tuple[int, str]]:
    """(pid, state) of every process whose parent is `parent`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == parent:
            found.append((int(entry), fields[0]))
    return found


def cmd_submit(args) -> dict:
    """Sequential submits on one keep-alive connection, with every CLI slot already taken by a
    sleeping task: each measured submit is queued, so no CLI boots (a Python process, ~0.1 s of
    CPU) on the same 2 cores while it is timed."""
    client = Client(args.base)
    # The floor: this client and loopback alone, on the cheapest route.
    floor = []
    for _ in range(args.count):
        start = time.perf_counter()
        client.request("GET", "/health", auth=False)
        floor.append((time.perf_counter() - start) * 1000)
    for i in range(args.cap):
        client.submit(f"slot filler {i} #SLOW=60")
    deadline = time.monotonic() + 20
    while len(cli_processes(args.server_pid)) < args.cap and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # the fillers' start-up is over: they sleep "on the API"
    times = [client.submit(f"bench submit {i} #SLOW=60")[0] for i in range(args.count)]
    return {**summary(times), "floor": summary(floor)}


def cmd_submit_start(args) -> dict:
    """Submits that find a free slot: the CLI starts right after the answer. One at a time, each
    task run to its end before the next."""
    client = Client(args.base)
    times = []
    for i in range(args.count):
        elapsed, body = client.submit(f"start {i}")
        times.append(elapsed)
        client.wait_finished(body["session_id"], body["task_id"])
        time.sleep(0.1)
    return summary(times)


def cmd_completed(args) -> dict:
    client = Client(args.base)
    _, body = client.submit("hello")
    done = client.wait_finished(body["session_id"], body["task_id"])
    if done["status"] != "completed":
        raise SystemExit(f"the task ended {done['status']}: {done}")
    return {"path": f"/api/sessions/{body['session_id']}/tasks/{body['task_id']}", "bytes": len(json.dumps(done))}


def http_burst(base: str, requests: list[bytes]) -> list[tuple[float, int, bytes]]:
    """Sends every request at once, each on its own connection (opened beforehand), from one
    thread, and reads the answers as they come: (latency ms, status, body) in request order.
    One thread and no GIL hand-offs: the latency is the server's, not the client's queue."""
    import selectors
    import socket

    url = urllib.parse.urlsplit(base)
    socks = [socket.create_connection((url.hostname, url.port)) for _ in requests]
    for sock in socks:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    selector = selectors.DefaultSelector()
    buffers = [b""] * len(socks)
    done: list = [None] * len(socks)
    sent = [0.0] * len(socks)
    for i, (sock, request) in enumerate(zip(socks, requests)):
        sent[i] = time.perf_counter()
        sock.sendall(request)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ, i)
    remaining = len(socks)
    deadline = time.monotonic() + 30
    while remaining and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            i = key.data
            chunk = key.fileobj.recv(65536)
            buffers[i] += chunk
            head, sep, body = buffers[i].partition(b"\r\n\r\n")
            if not sep:
                continue
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if (length and len(body) >= int(length.group(1))) or not chunk:
                done[i] = ((time.perf_counter() - sent[i]) * 1000, int(head.split()[1]), body)
                selector.unregister(key.fileobj)
                remaining -= 1
    for sock in socks:
        sock.close()
    if remaining:
        raise SystemExit(f"{remaining} of {len(socks)} requests got no full answer")
    return done


def submit_requests(base: str, count: int, message: str) -> list[bytes]:
    url = urllib.parse.urlsplit(base)
    requests = []
    for i in range(count):
        body = json.dumps({"message": message.format(i=i)}).encode()
        requests.append(
            f"POST /api/sessions/new/chat HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: {AUTH}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
        )
    return requests


def record_submitted(answers: list) -> list[dict]:
    bad = [(status, body[:200]) for _, status, body in answers if status != 200]
    if bad:
        raise SystemExit(f"submits failed: {bad[:3]}")
    submitted = [json.loads(body) for _, _, body in answers]
    if SUBMITTED:
        with open(SUBMITTED, "a") as out:
            out.writelines(f"{b['session_id']} {b['task_id']}\n" for b in submitted)
    return submitted


def cmd_burst_queued(args) -> dict:
    """The same burst of submits with every CLI slot already taken: all of them queue, no CLI
    boots meanwhile. The server's own share of the concurrent figure."""
    client = Client(args.base)
    for i in range(args.cap):
        client.submit(f"slot filler {i} #SLOW=60")
    deadline = time.monotonic() + 20
    while len(cli_processes(args.server_pid)) < args.cap and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    answers = http_burst(args.base, submit_requests(args.base, args.count, "queued {i} #SLOW=60"))
    record_submitted(answers)
    return summary([elapsed for elapsed, _, _ in answers])


def cmd_concurrent(args) -> dict:
    start = time.monotonic()
    answers = http_burst(args.base, submit_requests(args.base, args.count, "concurrent {i} #SLOW=1"))
    submitted = record_submitted(answers)
    log(f"  {args.count} submitted in {time.monotonic() - start:.2f} s; sampling CLI processes every 50 ms")

    # Sample the server's CLI children until every task is finished.
    client = Client(args.base)
    pending = {body["task_id"]: body["session_id"] for body in submitted}
    max_seen = samples = 0
    next_check = 0.0
    deadline = time.monotonic() + 120
    while pending and time.monotonic() < deadline:
        max_seen = max(max_seen, len(cli_processes(args.server_pid)))
        samples += 1
        if time.monotonic() >= next_check:
            for task, session in list(pending.items()):
                if client.task(session, task)["status"] in FINISHED:
                    del pending[task]
            next_check = time.monotonic() + 0.5
        time.sleep(0.05)
    drained = time.monotonic() - start
    statuses: dict = {}
    for body in submitted:
        status = client.task(body["session_id"], body["task_id"])["status"]
        statuses[status] = statuses.get(status, 0) + 1
    time.sleep(0.5)  # let the server reap the last exits
    zombies = [pid for pid, state in children(args.server_pid) if state == "Z"]
    return {
        "submit": summary([elapsed for elapsed, _, _ in answers]),
        "max_cli_processes": max_seen,
        "cap": args.cap,
        "samples": samples,
        "zombies": len(zombies),
        "cli_left": len(cli_processes(args.server_pid)),
        "statuses": statuses,
        "unfinished": len(pending),
        "drain_s": round(drained, 2),
    }


def cmd_listing(args) -> dict:
    client = Client(args.base)
    path = "/api/sessions?limit=20"

    def get() -> float:
        start = time.perf_counter()
        status, body = client.json("GET", path)
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200 or len(body.get("sessions", body) if isinstance(body, dict) else body) == 0:
            raise SystemExit(f"listing failed: {status} {str(body)[:200]}")
        return elapsed

    first = get()  # cold: the 20 newest transcripts are read and parsed
    times = []
    deadline = time.monotonic() + args.seconds
    while len(times) < args.min_count or time.monotonic() < deadline:
        times.append(get())
    return {"cold_ms": round(first, 3), "warm": summary(times)}


def cmd_projects(args) -> dict:
    """Listing and search across every project: each path alone for its share of the time, after
    one cold call (the first search reads every transcript once)."""
    client = Client(args.base)
    status, projects = client.json("GET", "/api/projects")
    if status != 200 or not projects:
        raise SystemExit(f"projects failed: {status} {str(projects)[:200]}")
    one = next(p for p in projects if not p["default"])
    paths = {
        "all": "/api/sessions?limit=20",
        "project": f"/api/sessions?limit=20&project={one['id']}",
        "search": "/api/sessions?limit=20&q=refactor%20module",
        "search_none": "/api/sessions?limit=20&q=no%20session%20says%20this",
        "projects": "/api/projects",
    }
    out = {"project_count": len(projects), "session_count": sum(p["sessions"] for p in projects)}
    share = args.seconds / len(paths)
    for name, path in paths.items():
        def get() -> tuple[float, int]:
            start = time.perf_counter()
            status, body = client.json("GET", path)
            elapsed = (time.perf_counter() - start) * 1000
            if status != 200:
                raise SystemExit(f"{path} failed: {status} {str(body)[:200]}")
            return elapsed, len(body["sessions"] if isinstance(body, dict) else body)

        cold, listed = get()
        times = []
        deadline = time.monotonic() + share
        while len(times) < args.min_count or time.monotonic() < deadline:
            times.append(get()[0])
        out[name] = {"path": path, "listed": listed, "cold_ms": round(cold, 3), "warm": summary(times)}
    return out


def cmd_wait_task(args) -> dict:
    client = Client(args.base)
    lags = []
    calls = 0
    for i in range(args.count):
        _, body = client.submit(f"wait bench {i} #SLOW=0.5")
        form = {"session": body["session_id"], "task_id": body["task_id"], "wait_ms": "5000"}
        while True:
            status, view = client.json("POST", "/api/fn/wait_task", form=form)
            received = time.time() * 1000
            calls += 1
            if status != 200:
                raise SystemExit(f"wait_task failed: {status} {view}")
            if view["status"] in FINISHED:
                break
        if view.get("finished_at") is None:
            raise SystemExit(f"a finished task without finished_at: {view}")
        lags.append(received - view["finished_at"])
    return {**summary(lags), "calls": calls}


def timing_stamp(path: str, event: str, request_id: str, limit: float = 10) -> float:
    """The fake CLI's wall-clock stamp (ms) of `event` for `request_id`, from its
    FAKE_CLAUDE_TIMING_LOG file."""
    deadline = time.monotonic() + limit
    while True:
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    entry = json.loads(line)
                    if entry["event"] == event and entry["request_id"] == request_id:
                        return entry["at_ms"]
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the fake CLI never stamped {event} for {request_id}")
        time.sleep(0.005)


class EventStream(threading.Thread):
    """Follows a task's event stream (SSE) and notes when its first control_request line
    arrives (wall-clock ms)."""

    def __init__(self, base: str, session: str, task: str):
        super().__init__(daemon=True)
        self.base, self.path = base, f"/api/sessions/{session}/tasks/{task}/events"
        self.request_seen_ms = None
        self.ready = threading.Event()

    def run(self) -> None:
        url = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        conn.request("GET", self.path, headers={"Authorization": AUTH, "Accept": "text/event-stream"})
        response = conn.getresponse()
        self.ready.set()
        try:
            while True:
                line = response.readline()
                if not line:
                    return
                if line.startswith(b"data: ") and b'"control_request"' in line:
                    if json.loads(line[6:]).get("type") == "control_request":
                        self.request_seen_ms = time.time() * 1000
                        return
        except (OSError, ValueError):
            return
        finally:
            conn.close()


def cmd_approvals(args) -> dict:
    """One task at a time, each a Write that asks permission (`#WRITE:`), on an otherwise idle
    server. Per task: the fake CLI stamps the moment its control_request line is flushed to its
    stdout (the server's spool file); the client polls the task every POLL_MS and notes the
    first answer carrying pending_approvals, while an event-stream reader notes the
    control_request line's arrival. Then the client posts `allow` and the fake stamps the moment
    it has read and parsed the control_response from its stdin (the FIFO)."""
    poll_ms = 5
    client = Client(args.base)
    seen_poll, seen_stream, answered, post_rtt = [], [], [], []
    for i in range(args.count):
        _, body = client.submit(f"#WRITE:{os.path.join(args.project, f'approval-bench-{i}.txt')}")
        session, task = body["session_id"], body["task_id"]
        stream = EventStream(args.base, session, task)
        stream.start()
        stream.ready.wait(5)
        deadline = time.monotonic() + 30
        while True:
            view = client.task(session, task)
            received = time.time() * 1000
            if view.get("pending_approvals"):
                break
            if view["status"] in FINISHED or time.monotonic() > deadline:
                raise SystemExit(f"task {task} never asked: {view}")
            time.sleep(poll_ms / 1000)
        approval = view["pending_approvals"][0]
        written = timing_stamp(args.timing_log, "request_written", approval["id"])
        seen_poll.append(received - written)
        stream.join(5)
        if stream.request_seen_ms is None:
            raise SystemExit(f"the event stream of {task} never carried the request")
        seen_stream.append(stream.request_seen_ms - written)
        time.sleep(0.05)  # the request's own processing is over before the decision is timed
        posted = time.time() * 1000
        status, decided = client.json("POST", f"/api/sessions/{session}/tasks/{task}/approvals/{approval['id']}", {"decision": "allow"})
        post_rtt.append(time.time() * 1000 - posted)
        if status != 200:
            raise SystemExit(f"decision failed: {status} {decided}")
        answered.append(timing_stamp(args.timing_log, "response_read", approval["id"]) - posted)
        done = client.wait_finished(session, task)
        if done["status"] != "completed":
            raise SystemExit(f"the task ended {done['status']}: {done}")
    # The app follows a task with wait_task on its schedule (app/src/ui/backoff.rs: 0.5 s, then
    # x1.5 up to 5 s); wait_task answers when the task finishes or its wait runs out, and then
    # with the task as read when the wait began (or at the last wake-up: any task's end), so a
    # request shows at the end of the first wait that began after it.
    seen_wait, schedule = [], []
    for i in range(args.wait_samples):
        _, body = client.submit(f"#WRITE:{os.path.join(args.project, f'approval-wait-{i}.txt')}")
        session, task = body["session_id"], body["task_id"]
        wait_ms, calls = 500, 0
        while True:
            form = {"session": session, "task_id": task, "wait_ms": str(wait_ms)}
            status, view = client.json("POST", "/api/fn/wait_task", form=form)
            received = time.time() * 1000
            calls += 1
            if status != 200 or view["status"] in FINISHED:
                raise SystemExit(f"wait_task answered {status} without the request: {view}")
            if view.get("pending_approvals"):
                break
            wait_ms = min(wait_ms * 3 // 2, 5000)
        schedule.append(calls)
        approval = view["pending_approvals"][0]
        seen_wait.append(received - timing_stamp(args.timing_log, "request_written", approval["id"]))
        client.json("POST", f"/api/sessions/{session}/tasks/{task}/approvals/{approval['id']}", {"decision": "allow"})
        client.wait_finished(session, task)
    return {
        "seen_wait_task": {**summary(seen_wait), "calls": schedule} if seen_wait else None,
        "seen_poll": summary(seen_poll),
        "seen_stream": summary(seen_stream),
        "answered": summary(answered),
        "post_rtt": summary(post_rtt),
        "poll_ms": poll_ms,
    }


def cmd_transfer(args) -> dict:
    index = open(os.path.join(args.dist, "index.html"), encoding="utf-8").read()
    paths = ["/"]
    for pattern in (
        r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"',
        r"import init[^'\"]+from\s+['\"]([^'\"]+\.js)['\"]",
        r"module_or_path:\s*['\"]([^'\"]+\.wasm)['\"]",
    ):
        for found in re.findall(pattern, index):
            if found not in paths:
                paths.append(found)
    client = Client(args.base)
    files = []
    for path in paths:
        status, headers, body = client.request("GET", path, headers={"Accept-Encoding": "br, gzip"}, auth=False)
        if status != 200:
            raise SystemExit(f"GET {path}: {status}")
        header_bytes = sum(len(k) + len(v) + 4 for k, v in headers) + 17
        encoding = dict((k.lower(), v) for k, v in headers).get("content-encoding", "identity")
        files.append({"path": path, "body": len(body), "headers": header_bytes, "encoding": encoding})
    # Not counted (as in end2end/tests/transfer.spec.ts): what the page fetches besides its
    # HTML, JS, WASM and CSS — the manifest, icons and the service worker.
    extra_paths = ["/sw.js", "/manifest.webmanifest"] + re.findall(r'<link[^>]+rel="(?:icon|apple-touch-icon)"[^>]+href="([^"]+)"', index)
    extra = 0
    for path in extra_paths:
        status, headers, body = client.request("GET", path, headers={"Accept-Encoding": "br, gzip"}, auth=False)
        if status == 200:
            extra += len(body)
    return {
        "files": files,
        "body_bytes": sum(f["body"] for f in files),
        "total_bytes": sum(f["body"] + f["headers"] for f in files),
        "extra_paths": extra_paths,
        "extra_body_bytes": extra,
    }


def cmd_cancel_all(args) -> dict:
    """Deletes every task this script submitted. A queued task's DELETE waits until the task gets
    a CLI slot (where it notices the stop), so the queued ones are all asked first, at once, and
    only then the running ones: each freed slot then goes to a task that is already cancelled,
    and no CLI starts only to be stopped."""
    if not SUBMITTED or not os.path.exists(SUBMITTED):
        return {"cancelled": 0}
    tasks = [line.split() for line in open(SUBMITTED).read().splitlines() if line.strip()]
    client = Client(args.base)
    live = [(s, t, client.task(s, t)["status"]) for s, t in tasks]
    queued = [(s, t) for s, t, status in live if status == "queued"]
    running = [(s, t) for s, t, status in live if status == "processing"]
    codes: list = []

    def delete(session: str, task: str) -> None:
        status, _ = Client(args.base, timeout=60).json("DELETE", f"/api/sessions/{session}/tasks/{task}")
        codes.append(status)

    threads = [threading.Thread(target=delete, args=pair) for pair in queued]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every queued task is marked cancelled before a slot frees
    for pair in running:
        delete(*pair)
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 30
    while cli_processes(args.server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    open(SUBMITTED, "w").close()
    return {"queued": len(queued), "running": len(running), "deleted": codes.count(200), "cli_left": len(cli_processes(args.server_pid))}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("submit", "submit-start", "completed", "burst-queued", "concurrent", "listing", "projects", "wait-task", "approvals", "transfer", "cancel-all"):
        p = sub.add_parser(name)
        p.add_argument("base")
        p.add_argument("--count", type=int, default=20)
        p.add_argument("--cap", type=int, default=8)
        p.add_argument("--server-pid", type=int, default=0)
        p.add_argument("--seconds", type=float, default=4.5)
        p.add_argument("--min-count", type=int, default=100)
        p.add_argument("--dist", default="dist")
        p.add_argument("--project", default="")
        p.add_argument("--timing-log", default="")
        p.add_argument("--wait-samples", type=int, default=5)
    args = parser.parse_args()
    handler = globals()["cmd_" + args.command.replace("-", "_")]
    print(json.dumps(handler(args)))


if __name__ == "__main__":
    main()
