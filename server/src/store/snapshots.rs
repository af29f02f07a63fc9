//! The working-tree snapshots taken around each task (git tree ids), for its changes.

use super::{Store, StoreError};
use crate::changes::task::Snapshots;
use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

impl Store {
    /// Keeps the snapshot taken before the task's CLI started.
    pub fn save_snapshot_before(&self, task_id: Uuid, tree: &str) -> Result<(), StoreError> {
        self.writer()?.execute(
            "INSERT INTO task_snapshots (task_id, before) VALUES (?1, ?2) ON CONFLICT (task_id) DO UPDATE SET before = ?2",
            params![task_id.to_string(), tree],
        )?;
        Ok(())
    }

    /// Keeps the snapshot taken after the task's CLI ended.
    pub fn save_snapshot_after(&self, task_id: Uuid, tree: &str) -> Result<(), StoreError> {
        self.writer()?.execute("UPDATE task_snapshots SET after = ?2 WHERE task_id = ?1", params![task_id.to_string(), tree])?;
        Ok(())
    }

    pub fn snapshots(&self, task_id: Uuid) -> Result<Snapshots, StoreError> {
        let found = self
            .reader()?
            .query_row("SELECT before, after FROM task_snapshots WHERE task_id = ?1", params![task_id.to_string()], |row| {
                Ok(Snapshots { before: row.get(0)?, after: row.get(1)? })
            })
            .optional()?;
        Ok(found.unwrap_or_default())
    }
}
