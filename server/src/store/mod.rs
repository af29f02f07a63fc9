//! The embedded database (SQLite, in the data directory): tasks, their raw output lines (bounded:
//! see `runner::cap`), where the reading of each output file stands, and the outcomes.
//!
//! Every method is blocking: async code reaches the store through [`Store::run`], which runs the
//! work on tokio's blocking pool, so a slow disk or another process holding the database's write
//! lock never stalls the threads that answer requests. Writes go through one connection; reads
//! take one of a small pool of others, which in WAL mode never wait for a writer. A write that
//! cannot get the lock within [`WRITE_WAIT`] fails as [`StoreError::Busy`] (a 503), rather than
//! holding its request open.

mod approvals;
mod audit;
mod auth_sessions;
mod devices;
mod lines;
mod output;
mod session_meta;
mod snapshots;
mod push;
mod tasks;

pub use approvals::ApprovalRecord;
pub use audit::AuditEntry;
pub use lines::{LinesPage, PageLimit};
pub use output::{Cut, LineAt, OutputState};
pub use push::{NewSubscription, SubscriptionRecord};
pub use session_meta::{SessionMark, SessionTasks};
pub use tasks::{NewTask, TaskRecord};


use parking_lot::{Mutex, MutexGuard};
use rusqlite::{Connection, ErrorCode};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a write waits for the database's write lock (ours, then SQLite's) before failing.
pub const WRITE_WAIT: Duration = Duration::from_secs(2);

/// Idle read connections kept open; more are opened when more reads run at once.
const IDLE_READERS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    /// Another writer (another process, or a long write of ours) holds the database.
    #[error("the database is busy; try again in a moment")]
    Busy,
    /// The disk, or the database's configured size limit, is full.
    #[error("disk full: the database cannot grow")]
    Full,
    #[error("the database work stopped unexpectedly")]
    Interrupted,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot prepare the database file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Busy,
            Some(ErrorCode::DiskFull) => Self::Full,
            _ => Self::Sqlite(error),
        }
    }
}

pub struct Store {
    writer: Mutex<Connection>,
    /// `None` for an in-memory database (tests), whose reads use the writer.
    readers: Option<Readers>,
}

struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// Limits a store opened with [`Store::open_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreLimits {
    /// The most the database file may grow to, in bytes (`None`: the disk's size). Past it,
    /// writes that need more room fail as [`StoreError::Full`], as on a full disk.
    pub max_bytes: Option<u64>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, StoreLimits::default())
    }

    pub fn open_with(path: &Path, limits: StoreLimits) -> Result<Self, StoreError> {
        // Made 0600 before SQLite opens it (its -wal and -shm files copy the database's mode).
        create_private(path)?;
        let conn = Connection::open(path)?;
        restrict_to_owner(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;",
        )?;
        conn.busy_timeout(WRITE_WAIT)?;
        prepare_schema(&conn)?;
        if let Some(max_bytes) = limits.max_bytes {
            let page_size: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
            let pages = (max_bytes / page_size.max(512) as u64).max(1);
            conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))?;
        }
        Ok(Self { writer: Mutex::new(conn), readers: Some(Readers { path: path.to_path_buf(), idle: Mutex::default() }) })
    }

    #[cfg(test)]
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        prepare_schema(&conn)?;
        Ok(Self { writer: Mutex::new(conn), readers: None })
    }

    /// Runs blocking store work on tokio's blocking pool: the way async code uses the store.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || work(&store)).await.map_err(|_| StoreError::Interrupted)?
    }

    /// The write connection, once no other write holds it (at most [`WRITE_WAIT`]).
    fn writer(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.writer.try_lock_for(WRITE_WAIT).ok_or(StoreError::Busy)
    }

    /// A read connection: it sees every committed write and never waits for a writer.
    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let Some(readers) = &self.readers else { return Ok(Reader::Writer(self.writer()?)) };
        if let Some(conn) = readers.idle.lock().pop() {
            return Ok(Reader::Pooled(Some(conn), readers));
        }
        let conn = Connection::open_with_flags(
            &readers.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(WRITE_WAIT)?;
        Ok(Reader::Pooled(Some(conn), readers))
    }
}

/// A read connection on loan; back to the pool when dropped.
enum Reader<'a> {
    Pooled(Option<Connection>, &'a Readers),
    Writer(MutexGuard<'a, Connection>),
}

impl Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Self::Pooled(conn, _) => conn.as_ref().expect("a pooled connection is present until dropped"),
            Self::Writer(guard) => guard,
        }
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Self::Pooled(conn, readers) = self {
            let mut idle = readers.idle.lock();
            if idle.len() < IDLE_READERS {
                idle.extend(conn.take());
            }
        }
    }
}

/// Creates the tables, then adds the columns that later versions brought to a database made by an
/// earlier one (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it was).
fn prepare_schema(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(include_str!("schema.sql"))?;
    for (table, column, declaration, backfill) in ADDED_COLUMNS {
        if !has_column(conn, table, column)? {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
            if let Some(backfill) = backfill {
                conn.execute_batch(backfill)?;
            }
        }
    }
    // On an added column: after it exists. One task per message a client sent (see insert_task).
    conn.execute_batch(
        "CREATE UNIQUE INDEX IF NOT EXISTS tasks_by_client_message ON tasks (client_message_id) WHERE client_message_id IS NOT NULL;",
    )?;
    move_task_events(conn)
}

/// Output lines were kept in `task_events` (WITHOUT ROWID) until `task_lines` replaced it: an
/// older database's lines move over as they are (TEXT, read back like any line) in one
/// transaction, then the old table goes. Its freed pages hold the next lines.
fn move_task_events(conn: &Connection) -> Result<(), StoreError> {
    let exists: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'task_events')", [], |row| row.get(0))?;
    if exists {
        conn.execute_batch(
            "BEGIN IMMEDIATE;
             INSERT OR IGNORE INTO task_lines (task_id, seq, line) SELECT task_id, seq, line FROM task_events;
             DROP TABLE task_events;
             COMMIT;",
        )?;
    }
    Ok(())
}

/// Columns added since the first schema, each also declared in `schema.sql` for new databases,
/// with what fills the column in for the rows already there.
const ADDED_COLUMNS: &[(&str, &str, &str, Option<&str>)] = &[
    ("auth_sessions", "binding", "BLOB", None),
    ("audit", "count", "INTEGER NOT NULL DEFAULT 1", None),
    ("audit", "last_at", "INTEGER", None),
    ("tasks", "client_message_id", "TEXT", None),
    ("tasks", "summary", "TEXT", None),
    ("tasks", "project", "TEXT", None),
    (
        "tasks",
        "cost_usd",
        "REAL",
        Some("UPDATE tasks SET cost_usd = json_extract(result, '$.total_cost_usd') WHERE json_valid(result)"),
    ),
];

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, StoreError> {
    let mut statement = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = statement.query_map([], |row| row.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|source| StoreError::Io { path: path.display().to_string(), source })
}

fn restrict_to_owner(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| StoreError::Io { path: path.display().to_string(), source })
}
