#!/usr/bin/env python3
"""Writes a CLI home with many session transcripts, for the session-listing benchmarks.

    make_sessions.py --home DIR --project REALPATH [--sessions 2000] [--lines 100000] [--seed 1]

Creates DIR/projects/<encoded REALPATH>/<uuid>.jsonl: SESSIONS transcripts holding LINES lines
in all (10 to 90 a session), modelled line by line on the real CLI transcripts in
server/tests/fixtures/claude-cli/ (same line kinds and field sets): queue-operation
enqueue/dequeue, the user prompt, an attachment on the first exchange, assistant text, an
assistant Bash tool_use, the user tool_result, the assistant's answer, sometimes an ai-title or
custom-title, and a last-prompt line at the end. Modification times are one minute apart, newest
first in creation order. Output is deterministic for a seed. Prints one summary line (JSON).

Both benches use it: server/benches/session_listing.rs (criterion) and scripts/bench.sh (HTTP).
"""

import argparse
import json
import os
import random
import re
import sys
import time
import uuid

WORDS = (
    "the a fix add test build server session task list parser stream read write file error "
    "when then with from into over under this that every route handler cache index line json "
    "please check why does run make sure it works and refactor module function struct field"
).split()


def encode_project_dir(real_path: str) -> str:
    """The CLI's project folder name (paths under 200 chars, as here)."""
    return re.sub(r"[^A-Za-z0-9]", "-", real_path)


def words(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def usage() -> dict:
    return {
        "input_tokens": 10,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 5,
        "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
        "service_tier": "standard",
        "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0},
        "inference_geo": "",
        "iterations": [],
        "speed": "standard",
    }


class Session:
    def __init__(self, rng: random.Random, session_id: str, cwd: str, start: float):
        self.rng = rng
        self.id = session_id
        self.cwd = cwd
        self.clock = start
        self.parent = None
        self.last_prompt = None

    def tick(self) -> str:
        self.clock += self.rng.uniform(0.01, 2.0)
        return iso(self.clock)

    def common(self) -> dict:
        return {
            "userType": "external",
            "entrypoint": "sdk-cli",
            "cwd": self.cwd,
            "sessionId": self.id,
            "version": "2.1.197",
            "gitBranch": "main",
        }

    def chained(self, body: dict) -> dict:
        line_uuid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        line = {"parentUuid": self.parent, "isSidechain": False, **body, "uuid": line_uuid, "timestamp": self.tick(), **self.common()}
        self.parent = line_uuid
        return line

    def assistant(self, content: list, stop_reason: str) -> dict:
        message = {
            "id": "msg_" + uuid.UUID(int=self.rng.getrandbits(128)).hex[:24],
            "type": "message",
            "role": "assistant",
            "model": "claude-opus-4-8",
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage(),
            "stop_details": None,
        }
        return self.chained({"message": message, "requestId": "req_" + uuid.UUID(int=self.rng.getrandbits(128)).hex[:24], "type": "assistant"})

    def exchange(self, first: bool) -> list:
        """One prompt and its answer, with one tool call in between."""
        rng = self.rng
        prompt = words(rng, 4, 40)
        self.last_prompt = prompt
        prompt_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        tool_id = "toolu_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
        command = f"grep -rn {rng.choice(WORDS)} src/ | head -{rng.randint(5, 50)}"
        output = "\n".join(f"src/{rng.choice(WORDS)}.rs:{rng.randint(1, 900)}: {words(rng, 3, 12)}" for _ in range(rng.randint(1, 25)))
        lines = [
            {"type": "queue-operation", "operation": "enqueue", "timestamp": self.tick(), "sessionId": self.id, "content": prompt},
            {"type": "queue-operation", "operation": "dequeue", "timestamp": self.tick(), "sessionId": self.id},
            self.chained({
                "promptId": prompt_id,
                "type": "user",
                "message": {"role": "user", "content": prompt},
                "permissionMode": "default",
                "promptSource": "sdk",
            }),
        ]
        if first:
            lines.append(self.chained({
                "attachment": {
                    "type": "agent_listing_delta",
                    "addedTypes": ["claude", "Explore", "general-purpose", "Plan", "statusline-setup"],
                    "addedLines": [f"- {name}: {words(rng, 30, 60)}" for name in ["claude", "Explore", "general-purpose", "Plan"]],
                    "removedTypes": [],
                    "isInitial": True,
                    "showConcurrencyNote": True,
                },
                "type": "attachment",
            }))
        lines += [
            self.assistant([{"type": "text", "text": "Let me look. " + words(rng, 5, 30)}], "tool_use"),
            self.assistant([{"type": "tool_use", "id": tool_id, "name": "Bash", "input": {"command": command, "description": words(rng, 2, 6)}}], "tool_use"),
            self.chained({
                "promptId": prompt_id,
                "type": "user",
                "message": {"role": "user", "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": output, "is_error": False}]},
                "toolUseResult": {"stdout": output, "stderr": "", "interrupted": False, "isImage": False, "noOutputExpected": False},
                "sourceToolAssistantUUID": self.parent,
            }),
            self.assistant([{"type": "text", "text": words(rng, 20, 150)}], "end_turn"),
        ]
        return lines

    def lines(self, count: int, title: str | None) -> list:
        body = []
        first = True
        while len(body) < count - 1:
            body += self.exchange(first)
            first = False
        body = body[: count - 1]
        if title == "ai":
            body.insert(min(3, len(body)), {"type": "ai-title", "aiTitle": words(self.rng, 2, 6), "sessionId": self.id})
            body = body[: count - 1]
        elif title == "custom":
            body.append({"type": "custom-title", "customTitle": words(self.rng, 1, 4), "sessionId": self.id})
            body = body[-(count - 1):]
        body.append({"type": "last-prompt", "lastPrompt": self.last_prompt or "", "leafUuid": self.parent, "sessionId": self.id})
        return body


def line_counts(rng: random.Random, sessions: int, total: int) -> list:
    counts = [rng.randint(10, 90) for _ in range(sessions)]
    diff = total - sum(counts)
    i = 0
    while diff != 0:
        step = 1 if diff > 0 else -1
        if counts[i % sessions] + step >= 3:
            counts[i % sessions] += step
            diff -= step
        i += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, help="the CLI's config dir (CLAUDE_CONFIG_DIR)")
    parser.add_argument("--project", required=True, help="the project's real path (as the CLI records cwd)")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.lines < 3 * args.sessions:
        sys.exit("make_sessions: at least 3 lines a session")

    rng = random.Random(args.seed)
    folder = os.path.join(args.home, "projects", encode_project_dir(args.project))
    os.makedirs(folder, exist_ok=True)
    now = time.time()
    written_lines = written_bytes = 0
    for i, count in enumerate(line_counts(rng, args.sessions, args.lines)):
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        mtime = now - 60 * (i + 1)
        title = "custom" if i % 10 == 3 else "ai" if i % 10 == 7 else None
        lines = Session(rng, session_id, args.project, mtime - 600).lines(count, title)
        data = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
        path = os.path.join(folder, f"{session_id}.jsonl")
        with open(path, "w") as out:
            out.write(data)
        os.utime(path, (mtime, mtime))
        written_lines += len(lines)
        written_bytes += len(data.encode())
    print(json.dumps({"folder": folder, "sessions": args.sessions, "lines": written_lines, "bytes": written_bytes}))


if __name__ == "__main__":
    main()
