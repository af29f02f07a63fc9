//! The embedded database (SQLite, in the data directory): tasks, their raw output lines (bounded:
//! see `runner::cap`), where the reading of each output file stands, and the outcomes.
//!
//! Statements are short (a few microseconds in WAL mode), so one connection behind a mutex serves
//! every request without a thread hop; nothing holds the lock across an await.

mod approvals;
mod audit;
mod auth_sessions;
mod devices;
mod lines;
mod output;
mod tasks;

pub use approvals::ApprovalRecord;
pub use audit::AuditEntry;
pub use lines::{LinesPage, PageLimit};
pub use output::{Cut, LineAt, OutputState};
pub use tasks::{NewTask, TaskRecord};

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the database lock was poisoned by a panic")]
    Poisoned,
    #[error("cannot prepare the database file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // Made 0600 before SQLite opens it (its -wal and -shm files copy the database's mode).
        create_private(path)?;
        let conn = Connection::open(path)?;
        restrict_to_owner(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 5000;",
        )?;
        prepare_schema(&conn)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    #[cfg(test)]
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        prepare_schema(&conn)?;
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Poisoned)
    }
}

/// Creates the tables, then adds the columns that later versions brought to a database made by an
/// earlier one (`CREATE TABLE IF NOT EXISTS` leaves an existing table as it was).
fn prepare_schema(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(include_str!("schema.sql"))?;
    for (table, column, declaration) in ADDED_COLUMNS {
        if !has_column(conn, table, column)? {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
        }
    }
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

/// Columns added since the first schema, each also declared in `schema.sql` for new databases.
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("auth_sessions", "binding", "BLOB"),
    ("audit", "count", "INTEGER NOT NULL DEFAULT 1"),
    ("audit", "last_at", "INTEGER"),
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
