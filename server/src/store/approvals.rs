//! Permission requests of running tasks and their decisions.

use super::{Store, StoreError};
use crate::claude::control::PermissionRequest;
use app::api::{ApprovalStatus, DecidedApproval, PendingApproval, Remember};
use rusqlite::{params, OptionalExtension, Row};
use serde_json::Value;
use uuid::Uuid;

/// A stored approval, as it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalRecord {
    pub task_id: Uuid,
    pub request: PendingApproval,
    pub status: ApprovalStatus,
    pub decided_at: Option<i64>,
    pub message: Option<String>,
    pub remember: Option<Remember>,
}

impl ApprovalRecord {
    pub fn decided(&self) -> DecidedApproval {
        DecidedApproval {
            id: self.request.id.clone(),
            task_id: self.task_id,
            tool_name: self.request.tool_name.clone(),
            status: self.status,
            message: self.message.clone(),
            remember: self.remember,
            requested_at: self.request.requested_at,
            decided_at: self.decided_at,
        }
    }
}

fn parse_status(name: &str) -> ApprovalStatus {
    match name {
        "allowed" => ApprovalStatus::Allowed,
        "denied" => ApprovalStatus::Denied,
        "withdrawn" => ApprovalStatus::Withdrawn,
        _ => ApprovalStatus::Pending,
    }
}

const SELECT: &str = "SELECT task_id, request_id, tool_name, input, description, suggestions, requested_at, status, decided_at, message, remember FROM approvals";

fn read(row: &Row<'_>) -> rusqlite::Result<ApprovalRecord> {
    let task_id: String = row.get(0)?;
    let input: String = row.get(3)?;
    let suggestions: String = row.get(5)?;
    let status: String = row.get(7)?;
    let remember: Option<String> = row.get(10)?;
    Ok(ApprovalRecord {
        task_id: task_id.parse().unwrap_or_default(),
        request: PendingApproval {
            id: row.get(1)?,
            tool_name: row.get(2)?,
            input: serde_json::from_str(&input).unwrap_or(Value::Null),
            description: row.get(4)?,
            suggestions: serde_json::from_str(&suggestions).unwrap_or_default(),
            requested_at: row.get(6)?,
        },
        status: parse_status(&status),
        decided_at: row.get(8)?,
        message: row.get(9)?,
        remember: remember.map(|_| Remember::Session),
    })
}

impl Store {
    /// Records a request read from the output (again after a restart: once). Whether it is new.
    pub fn insert_approval(&self, task_id: Uuid, request: &PermissionRequest, requested_at: i64) -> Result<bool, StoreError> {
        let input = request.input.to_string();
        let suggestions = Value::Array(request.permission_suggestions.clone()).to_string();
        Ok(self.writer()?.execute(
            "INSERT OR IGNORE INTO approvals (task_id, request_id, tool_name, input, description, suggestions, requested_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending')",
            params![task_id.to_string(), request.request_id, request.tool_name, input, request.description, suggestions, requested_at],
        )? > 0)
    }

    pub fn approval(&self, task_id: Uuid, request_id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!("{SELECT} WHERE task_id = ?1 AND request_id = ?2"))?;
        Ok(statement.query_row(params![task_id.to_string(), request_id], read).optional()?)
    }

    /// What the task waits on, oldest first.
    pub fn pending_approvals(&self, task_id: Uuid) -> Result<Vec<PendingApproval>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!("{SELECT} WHERE task_id = ?1 AND status = 'pending' ORDER BY requested_at, request_id"))?;
        let rows = statement.query_map([task_id.to_string()], read)?;
        Ok(rows.map(|r| r.map(|a| a.request)).collect::<Result<_, _>>()?)
    }

    /// Requests that have waited since before `before` (ms), oldest first.
    pub fn approvals_waiting_since(&self, before: i64) -> Result<Vec<ApprovalRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!("{SELECT} WHERE status = 'pending' AND requested_at < ?1 ORDER BY requested_at"))?;
        let rows = statement.query_map([before], read)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Settles a pending approval. `false` when it was not pending any more (decided, withdrawn):
    /// exactly one decision wins.
    pub fn settle_approval(
        &self,
        task_id: Uuid,
        request_id: &str,
        status: ApprovalStatus,
        message: Option<&str>,
        remember: Option<Remember>,
        at: i64,
    ) -> Result<bool, StoreError> {
        let changed = self.writer()?.execute(
            "UPDATE approvals SET status = ?3, message = ?4, remember = ?5, decided_at = ?6
             WHERE task_id = ?1 AND request_id = ?2 AND status = 'pending'",
            params![task_id.to_string(), request_id, status.as_str(), message, remember.map(|_| "session"), at],
        )?;
        Ok(changed == 1)
    }

    /// An answer that never reached the CLI: the approval is withdrawn, whatever it was.
    pub fn withdraw_approval(&self, task_id: Uuid, request_id: &str, at: i64) -> Result<(), StoreError> {
        self.writer()?.execute(
            "UPDATE approvals SET status = 'withdrawn', decided_at = ?3 WHERE task_id = ?1 AND request_id = ?2",
            params![task_id.to_string(), request_id, at],
        )?;
        Ok(())
    }

    /// A task that ended leaves nothing waiting.
    pub fn withdraw_pending_approvals(&self, task_id: Uuid, at: i64) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute(
            "UPDATE approvals SET status = 'withdrawn', decided_at = ?2 WHERE task_id = ?1 AND status = 'pending'",
            params![task_id.to_string(), at],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewTask;
    use app::api::ChatRequest;

    #[test]
    fn a_request_is_recorded_once_and_settled_once() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let task = Uuid::new_v4();
        let chat = ChatRequest { message: "hi".into(), ..Default::default() };
        store.insert_task(&NewTask { id: task, session_id: Uuid::new_v4(), creates_session: true, request: &chat, created_at: 1, project: "/p" })?;
        let request = PermissionRequest {
            request_id: "r1".into(),
            tool_name: "Write".into(),
            input: serde_json::json!({"file_path": "/x"}),
            description: Some("x".into()),
            permission_suggestions: vec![serde_json::json!({"type": "setMode"})],
            tool_use_id: None,
        };
        store.insert_approval(task, &request, 10)?;
        store.insert_approval(task, &request, 99)?;
        let pending = store.pending_approvals(task)?;
        assert_eq!((pending.len(), pending[0].requested_at), (1, 10), "read again after a restart: still one, first time kept");
        let waiting = store.approvals_waiting_since(11)?;
        assert_eq!(waiting.iter().map(|a| (a.task_id, a.request.id.as_str())).collect::<Vec<_>>(), [(task, "r1")]);
        assert!(store.settle_approval(task, "r1", ApprovalStatus::Denied, Some("no"), None, 20)?);
        assert!(!store.settle_approval(task, "r1", ApprovalStatus::Allowed, None, None, 21)?, "the second decision loses");
        let settled = store.approval(task, "r1")?.expect("kept");
        assert_eq!((settled.status, settled.message.as_deref(), settled.decided_at), (ApprovalStatus::Denied, Some("no"), Some(20)));
        assert!(store.pending_approvals(task)?.is_empty());
        store.withdraw_approval(task, "r1", 30)?;
        assert_eq!(store.approval(task, "r1")?.map(|a| a.status), Some(ApprovalStatus::Withdrawn), "an answer that never arrived");
        Ok(())
    }
}
