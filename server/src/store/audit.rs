//! The audit log: append-only rows, read newest first.

use super::{Store, StoreError};
use rusqlite::params;
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AuditEntry {
    pub at: i64,
    pub event: String,
    pub client: Option<String>,
    pub username: Option<String>,
    pub session_id: Option<String>,
    pub task_id: Option<String>,
    pub detail: Option<String>,
}

impl Store {
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.conn()?.execute(
            "INSERT INTO audit (at, event, client, username, session_id, task_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![entry.at, entry.event, entry.client, entry.username, entry.session_id, entry.task_id, entry.detail],
        )?;
        Ok(())
    }

    pub fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn()?;
        let mut statement = conn.prepare_cached(
            "SELECT at, event, client, username, session_id, task_id, detail FROM audit ORDER BY at DESC, id DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok(AuditEntry {
                at: row.get(0)?,
                event: row.get(1)?,
                client: row.get(2)?,
                username: row.get(3)?,
                session_id: row.get(4)?,
                task_id: row.get(5)?,
                detail: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn purge_audit_before(&self, before: i64) -> Result<usize, StoreError> {
        Ok(self.conn()?.execute("DELETE FROM audit WHERE at < ?1", [before])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_newest_first() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        for (at, event) in [(1, "sign_in"), (2, "task_submitted")] {
            store.append_audit(&AuditEntry { at, event: event.into(), client: Some("127.0.0.1".into()), ..Default::default() })?;
        }
        let entries = store.recent_audit(10)?;
        assert_eq!(entries.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["task_submitted", "sign_in"]);
        assert_eq!(store.purge_audit_before(2)?, 1);
        Ok(())
    }
}
