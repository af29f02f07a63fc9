#!/usr/bin/env python3
"""Writes ~20 MB of typical stream-json output (the CLI's lines as the fixtures have them, every
third line a tool result of 0.3-12 KB of prose) to the file named by argv[1]: the corpus that
`store::lines::tests::storage_size` stores to measure what a task's output costs on disk."""
import glob, json, os, random, sys, uuid

random.seed(7)
root = os.path.join(os.path.dirname(__file__), "..", "..")
fixtures = os.path.join(root, "server/tests/fixtures/claude-cli")
base = []
for path in sorted(glob.glob(fixtures + "/stream_*.jsonl") + glob.glob(fixtures + "/stdio/*.stdout.jsonl")):
    base += [line.rstrip("\n") for line in open(path) if line.strip()]
words = open(os.path.join(root, "README.md")).read().split()


def tool_result(n):
    size = random.choice([300, 800, 1500, 3000, 6000, 12000])
    text = " ".join(random.choice(words) for _ in range(size // 6))[:size]
    block = {"tool_use_id": "toolu_%024d" % n, "type": "tool_result", "content": text, "is_error": False}
    return json.dumps({"type": "user", "message": {"role": "user", "content": [block]}, "parent_tool_use_id": None,
                       "session_id": str(uuid.uuid4()), "uuid": str(uuid.uuid4())})


total, n = 0, 0
with open(sys.argv[1], "w") as out:
    while total < 20_000_000:
        line = base[n % len(base)] if n % 3 else tool_result(n)
        out.write(line + "\n")
        total += len(line) + 1
        n += 1
print(f"{n} lines, {total} bytes")
