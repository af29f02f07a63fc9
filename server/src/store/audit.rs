//! The audit log: append-only rows, read newest first.

use super::{Store, StoreError};
use app::api::Caller;
use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AuditEntry {
    pub at: i64,
    pub event: String,
    pub client: Option<String>,
    pub username: Option<String>,
    pub session_id: Option<String>,
    pub task_id: Option<String>,
    pub detail: Option<String>,
    /// How many times it happened (repeated sign-in failures share one entry).
    pub count: u32,
    /// The latest time, when it happened more than once.
    pub last_at: Option<i64>,
}

impl Default for AuditEntry {
    fn default() -> Self {
        Self { at: 0, event: String::new(), client: None, username: None, session_id: None, task_id: None, detail: None, count: 1, last_at: None }
    }
}

impl AuditEntry {
    /// What `caller` (its address and user name) did just now: the one way entries are made.
    pub fn now(event: impl Into<String>, caller: &Caller) -> Self {
        Self {
            at: crate::runner::now_ms(),
            event: event.into(),
            client: caller.address.map(|a| a.to_string()),
            username: caller.username.clone(),
            ..Default::default()
        }
    }

    pub fn session(mut self, session_id: Uuid) -> Self {
        self.session_id = Some(session_id.to_string());
        self
    }

    pub fn task(mut self, task_id: Uuid) -> Self {
        self.task_id = Some(task_id.to_string());
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Every text field is cut to this many characters before it is stored: nothing a client sends
/// can make an entry large.
pub const MAX_FIELD_CHARS: usize = 200;
/// Repeats of one failure from one client within this window add to one entry.
const REPEAT_WINDOW_MS: i64 = 3_600_000;

/// A field as stored: control characters (escape sequences that would rewrite a terminal showing
/// the log) written out as `\u{..}`, and at most `MAX_FIELD_CHARS` characters.
fn clean(field: &Option<String>) -> Option<String> {
    let field = field.as_ref()?;
    let mut out = String::with_capacity(field.len().min(MAX_FIELD_CHARS * 4));
    let mut length = 0;
    for c in field.chars() {
        let piece: String = if c.is_control() { c.escape_unicode().collect() } else { c.to_string() };
        length += piece.chars().count();
        if length > MAX_FIELD_CHARS {
            out.push('…');
            break;
        }
        out.push_str(&piece);
    }
    Some(out)
}

impl Store {
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.writer()?.execute(
            "INSERT INTO audit (at, event, client, username, session_id, task_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                entry.at,
                clean(&Some(entry.event.clone())),
                clean(&entry.client),
                clean(&entry.username),
                clean(&entry.session_id),
                clean(&entry.task_id),
                clean(&entry.detail)
            ],
        )?;
        Ok(())
    }

    /// Like `append_audit`, but a repeat of the same event by the same client, user name and
    /// detail within the hour adds to the existing entry's count instead of a new row.
    pub fn record_repeated_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let (event, client, username, detail) = (clean(&Some(entry.event.clone())), clean(&entry.client), clean(&entry.username), clean(&entry.detail));
        let updated = self.writer()?.execute(
            "UPDATE audit SET count = count + 1, last_at = ?1 WHERE id = (
                SELECT id FROM audit WHERE event = ?2 AND client IS ?3 AND username IS ?4 AND detail IS ?5 AND at > ?6
                ORDER BY id DESC LIMIT 1)",
            params![entry.at, event, client, username, detail, entry.at - REPEAT_WINDOW_MS],
        )?;
        if updated == 0 {
            self.append_audit(entry)?;
        }
        Ok(())
    }

    pub fn recent_audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT at, event, client, username, session_id, task_id, detail, count, last_at FROM audit
             ORDER BY COALESCE(last_at, at) DESC, id DESC LIMIT ?1",
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
                count: row.get(7)?,
                last_at: row.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn purge_audit_before(&self, before: i64) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM audit WHERE COALESCE(last_at, at) < ?1", [before])?)
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

    #[test]
    fn repeated_failures_share_one_entry_and_fields_are_cut_and_escaped() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let failure = |at, client: &str| AuditEntry {
            at,
            event: "sign_in_failed".into(),
            client: Some(client.into()),
            username: Some("x\u{1b}[2J".repeat(100_000)),
            detail: Some("form".into()),
            ..Default::default()
        };
        for at in 0..1000 {
            store.record_repeated_audit(&failure(at, "203.0.113.1"))?;
        }
        store.record_repeated_audit(&failure(1000, "203.0.113.2"))?;
        let entries = store.recent_audit(10)?;
        assert_eq!(entries.len(), 2);
        assert_eq!((entries[1].count, entries[1].last_at), (1000, Some(999)));
        let name = entries[0].username.clone().unwrap_or_default();
        assert!(name.chars().count() <= MAX_FIELD_CHARS + 1 && name.starts_with("x\\u{1b}[2J"), "{name}");
        assert!(!name.contains('\u{1b}'));
        Ok(())
    }
}
