-- One row per task; its raw output lines in task_lines. Both survive restarts: the outcome of a
-- task that was running when the server died is decided from them at the next start.
CREATE TABLE IF NOT EXISTS tasks (
    id              TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL,
    creates_session INTEGER NOT NULL,
    request         TEXT NOT NULL,      -- the validated ChatRequest, as JSON
    status          TEXT NOT NULL,      -- queued | processing | completed | failed | cancelled
    created_at      INTEGER NOT NULL,   -- ms since the Unix epoch
    started_at      INTEGER,
    finished_at     INTEGER,
    pid             INTEGER,            -- the CLI's pid, also its process group id
    proc_start      INTEGER,            -- /proc/<pid>/stat start time: tells pid reuse apart
    exit_code       INTEGER,
    result          TEXT,               -- the CLI's result object, as JSON
    error           TEXT,
    cost_usd        REAL,               -- the result's total_cost_usd, when it gave one
    project         TEXT                -- the canonical folder the CLI runs in (NULL: the default)
);
CREATE INDEX IF NOT EXISTS tasks_by_session ON tasks (session_id, created_at);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, created_at);

-- A rowid table, not WITHOUT ROWID: the rows are large (lines of 1-20 KB are common), and a WITHOUT
-- ROWID table keeps at most ~1 KB of a row on its page, sending the rest to an overflow page of
-- its own. `line` is the line as printed (TEXT), or deflate-compressed (BLOB) where that saves
-- (see store::lines). 20 MB of stream-json took 34 MB as it was, 13.4 MB now (BENCHMARKS.md).
-- Replaces task_events (same columns, WITHOUT ROWID, always TEXT), moved over at start.
CREATE TABLE IF NOT EXISTS task_lines (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,           -- 1, 2, 3... per task
    line    NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- How far a task's output file has been read and what of it was kept, written in the same
-- transaction as the lines it stored: a restarted server reads on from read_offset, neither
-- re-reading the file nor storing a line twice. Numbering is by position in the file, so seq may
-- skip the lines that were cut (one output_truncated line stands for them).
CREATE TABLE IF NOT EXISTS task_output (
    task_id       TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    read_offset   INTEGER NOT NULL,  -- bytes of the file consumed, always at a line start
    next_seq      INTEGER NOT NULL,  -- the position of the next line
    stored_bytes  INTEGER NOT NULL,  -- bytes of lines stored so far (the head's budget)
    cut_seq       INTEGER,           -- the first line not kept once the head was full
    cut_offset    INTEGER,           -- its byte offset in the file
    cut_lines     INTEGER,           -- lines (and bytes) read since, not stored
    cut_bytes     INTEGER,
    result_seq    INTEGER,           -- the latest result line: re-read from the file at a restart
    result_offset INTEGER,
    result_len    INTEGER
) WITHOUT ROWID;

-- Browser sign-ins. Only the SHA-256 of the cookie's token is stored: a copy of the database
-- cannot be replayed as a cookie. `binding` is a keyed digest of the credentials the session was
-- started with: after a change of user name or password no old session matches.
CREATE TABLE IF NOT EXISTS auth_sessions (
    token_hash  BLOB PRIMARY KEY,
    username    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    binding     BLOB
) WITHOUT ROWID;

-- Browsers that signed in before (their device token's SHA-256): they may try a password on a
-- budget of their own while strangers are throttled. Bound to the credentials like sessions.
CREATE TABLE IF NOT EXISTS known_devices (
    token_hash   BLOB PRIMARY KEY,
    binding      BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Who did what, from where: sign-ins and task submits, cancels and deletes. Repeated failures
-- from one client are one row with a count (`at` the first, `last_at` the latest).
CREATE TABLE IF NOT EXISTS audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,      -- ms since the Unix epoch
    event       TEXT NOT NULL,
    client      TEXT,
    username    TEXT,
    session_id  TEXT,
    task_id     TEXT,
    detail      TEXT,
    count       INTEGER NOT NULL DEFAULT 1,
    last_at     INTEGER
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);

-- Tool uses the CLI asked permission for (`can_use_tool` requests read from a task's output), and
-- how each was settled. A decision claims its row (pending → allowed/denied) before it is sent,
-- so two decisions on one request cannot both reach the CLI.
CREATE TABLE IF NOT EXISTS approvals (
    task_id      TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    request_id   TEXT NOT NULL,
    tool_name    TEXT NOT NULL,
    input        TEXT NOT NULL,        -- JSON
    description  TEXT,
    suggestions  TEXT NOT NULL,        -- JSON array: the CLI's permission_suggestions
    requested_at INTEGER NOT NULL,
    status       TEXT NOT NULL,        -- pending | allowed | denied | withdrawn
    decided_at   INTEGER,
    message      TEXT,
    remember     TEXT,
    PRIMARY KEY (task_id, request_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS approvals_pending ON approvals (status, requested_at);

-- What the user made of a session: their own title, archived (hidden from the list), deleted
-- (hidden for good, its tasks forgotten; the CLI's transcript is another matter). One row per
-- session the user changed, nothing for the others.
CREATE TABLE IF NOT EXISTS session_meta (
    session_id  TEXT PRIMARY KEY,
    title       TEXT,
    archived    INTEGER NOT NULL DEFAULT 0,
    deleted     INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL        -- ms since the Unix epoch
) WITHOUT ROWID;

-- Spend today / this month sums task costs by when they ended: those of the tasks still here,
-- and of those deleted or purged since (kept in `spent`, which is pruned two months on).
CREATE INDEX IF NOT EXISTS tasks_by_finish ON tasks (finished_at);
CREATE TABLE IF NOT EXISTS spent (
    finished_at INTEGER NOT NULL,       -- ms since the Unix epoch
    cost_usd    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS spent_by_finish ON spent (finished_at);

-- Browsers that asked for Web Push notifications (the PushSubscription they gave). At most
-- store::push::MAX_SUBSCRIPTIONS are kept, the newest; a push service's 404/410 deletes one, and
-- "Sign out everywhere" deletes them all.
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id              TEXT PRIMARY KEY,      -- a UUID
    endpoint        TEXT NOT NULL UNIQUE,  -- the push resource (https, or http to loopback)
    p256dh          TEXT NOT NULL,         -- the browser's ECDH public key, base64url
    auth            TEXT NOT NULL,         -- its authentication secret, base64url
    name            TEXT,
    created_at      INTEGER NOT NULL,      -- ms since the Unix epoch
    last_success_at INTEGER
) WITHOUT ROWID;

-- The project's working tree before and after each task ran, as git tree ids (see
-- changes::git::snapshot): what a task changed, Bash commands included. Only for a project in a
-- git repository.
CREATE TABLE IF NOT EXISTS task_snapshots (
    task_id TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    before  TEXT,
    after   TEXT
) WITHOUT ROWID;

-- Folders added as projects from the app (canonical paths under an allowed root): listed even
-- before a session runs there.
CREATE TABLE IF NOT EXISTS projects_added (
    path     TEXT PRIMARY KEY,
    added_at INTEGER NOT NULL           -- ms since the Unix epoch
) WITHOUT ROWID;
