//! What the user made of sessions (their own title, archived, deleted), and what the tasks run
//! in each add up to (state, cost, spend).
//!
//! `session_meta` holds a row only for a session the user changed, so reading all of it for a
//! listing stays small: it grows by one row per session renamed, archived or deleted.

use super::tasks::KEEP_SPEND;
use super::{Store, StoreError};
use app::api::SessionState;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;
use uuid::Uuid;

/// The user's marks on one session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionMark {
    pub title: Option<String>,
    pub archived: bool,
    pub deleted: bool,
}

/// What the tasks this service ran in one session add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SessionTasks {
    pub state: Option<SessionState>,
    pub cost_usd: Option<f64>,
    /// Tasks still queued or running.
    pub unfinished: bool,
}

impl Store {
    /// Every session the user changed.
    pub fn session_marks(&self) -> Result<HashMap<Uuid, SessionMark>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached("SELECT session_id, title, archived, deleted FROM session_meta")?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, SessionMark { title: row.get(1)?, archived: row.get(2)?, deleted: row.get(3)? }))
        })?;
        let mut marks = HashMap::new();
        for row in rows {
            let (id, mark) = row?;
            if let Ok(id) = id.parse() {
                marks.insert(id, mark);
            }
        }
        Ok(marks)
    }

    pub fn session_mark(&self, session_id: Uuid) -> Result<Option<SessionMark>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached("SELECT title, archived, deleted FROM session_meta WHERE session_id = ?1")?;
        Ok(statement
            .query_row([session_id.to_string()], |row| Ok(SessionMark { title: row.get(0)?, archived: row.get(1)?, deleted: row.get(2)? }))
            .optional()?)
    }

    /// Sets the title (`Some(None)` clears it) and/or archived; an absent one is left as it is.
    pub fn update_session_mark(&self, session_id: Uuid, title: Option<Option<&str>>, archived: Option<bool>, now: i64) -> Result<(), StoreError> {
        self.writer()?.execute(
            "INSERT INTO session_meta (session_id, title, archived, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (session_id) DO UPDATE SET
                title = CASE WHEN ?5 THEN excluded.title ELSE title END,
                archived = CASE WHEN ?6 THEN excluded.archived ELSE archived END,
                updated_at = excluded.updated_at",
            params![session_id.to_string(), title.flatten(), archived.unwrap_or(false), now, title.is_some(), archived.is_some()],
        )?;
        Ok(())
    }

    /// Forgets the session's tasks (their lines and approvals go with them; what they cost still
    /// counts in the spend) and hides it, in one transaction. Returns how many tasks were forgotten.
    pub fn delete_session(&self, session_id: Uuid, now: i64) -> Result<usize, StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        tx.execute(&format!("{KEEP_SPEND} session_id = ?1"), [session_id.to_string()])?;
        let forgotten = tx.execute("DELETE FROM tasks WHERE session_id = ?1", [session_id.to_string()])?;
        tx.execute(
            "INSERT INTO session_meta (session_id, title, archived, deleted, updated_at) VALUES (?1, NULL, 0, 1, ?2)
             ON CONFLICT (session_id) DO UPDATE SET title = NULL, archived = 0, deleted = 1, updated_at = excluded.updated_at",
            params![session_id.to_string(), now],
        )?;
        tx.commit()?;
        Ok(forgotten)
    }

    /// For each of `sessions` that ran tasks here: where they stand and what they cost.
    pub fn sessions_tasks(&self, sessions: &[Uuid]) -> Result<HashMap<Uuid, SessionTasks>, StoreError> {
        let ids = serde_json::to_string(&sessions.iter().map(Uuid::to_string).collect::<Vec<_>>()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT t.session_id,
                    SUM(t.cost_usd),
                    MAX(t.status = 'processing' AND EXISTS
                        (SELECT 1 FROM approvals a WHERE a.task_id = t.id AND a.status = 'pending')),
                    MAX(t.status = 'processing'),
                    MAX(t.status = 'queued'),
                    (SELECT l.status FROM tasks l WHERE l.session_id = t.session_id ORDER BY l.created_at DESC, l.rowid DESC LIMIT 1)
             FROM tasks t
             WHERE t.session_id IN (SELECT value FROM json_each(?1))
             GROUP BY t.session_id",
        )?;
        let rows = statement.query_map([ids], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<f64>>(1)?,
                (row.get::<_, bool>(2)?, row.get::<_, bool>(3)?, row.get::<_, bool>(4)?),
                row.get::<_, Option<String>>(5)?,
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (id, cost_usd, (waiting, running, queued), latest) = row?;
            let Ok(id) = id.parse() else { continue };
            let state = if waiting {
                Some(SessionState::Waiting)
            } else if running {
                Some(SessionState::Running)
            } else if queued {
                Some(SessionState::Queued)
            } else {
                match latest.as_deref() {
                    Some("completed") => Some(SessionState::Completed),
                    Some("failed") => Some(SessionState::Failed),
                    Some("cancelled") => Some(SessionState::Cancelled),
                    _ => None,
                }
            };
            out.insert(id, SessionTasks { state, cost_usd, unfinished: waiting || running || queued });
        }
        Ok(out)
    }

    /// What the tasks that ended since `day_start` and since `month_start` (ms) cost, deleted
    /// ones included: `(today, this month)`.
    pub fn spend_since(&self, day_start: i64, month_start: i64) -> Result<(f64, f64), StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT TOTAL(CASE WHEN finished_at >= ?1 THEN cost_usd END), TOTAL(cost_usd) FROM
                (SELECT finished_at, cost_usd FROM tasks WHERE finished_at >= ?2
                 UNION ALL SELECT finished_at, cost_usd FROM spent WHERE finished_at >= ?2)",
        )?;
        Ok(statement.query_row(params![day_start, month_start.min(day_start)], |row| Ok((row.get(0)?, row.get(1)?)))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewTask;
    use app::api::{ChatRequest, TaskStatus};

    fn task(store: &Store, session_id: Uuid, created_at: i64) -> Result<Uuid, StoreError> {
        let id = Uuid::new_v4();
        let request = ChatRequest { message: "hi".into(), ..Default::default() };
        store.insert_task(&NewTask { id, session_id, creates_session: false, request: &request, created_at, project: "/p" })?;
        Ok(id)
    }

    fn cost(usd: f64) -> serde_json::Value {
        serde_json::json!({"type": "result", "total_cost_usd": usd})
    }

    #[test]
    fn a_session_shows_its_unfinished_task_first_then_how_the_latest_ended() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let session = Uuid::new_v4();
        let first = task(&store, session, 1)?;
        store.finish_task(first, TaskStatus::Failed, Some(&cost(0.5)), Some("boom"), Some(1), 10, None)?;
        let state = |store: &Store| store.sessions_tasks(&[session]).map(|m| m.get(&session).copied().unwrap_or_default());
        assert_eq!(state(&store)?, SessionTasks { state: Some(SessionState::Failed), cost_usd: Some(0.5), unfinished: false });
        let second = task(&store, session, 2)?;
        let third = task(&store, session, 3)?;
        assert_eq!(state(&store)?.state, Some(SessionState::Queued));
        store.mark_running(second, 4242, None, 4)?;
        assert_eq!(state(&store)?.state, Some(SessionState::Running), "running wins over the queued one behind it");
        store.finish_task(second, TaskStatus::Completed, Some(&cost(0.25)), None, Some(0), 20, None)?;
        store.finish_task(third, TaskStatus::Cancelled, None, None, None, 21, None)?;
        assert_eq!(state(&store)?, SessionTasks { state: Some(SessionState::Cancelled), cost_usd: Some(0.75), unfinished: false });
        assert!(store.sessions_tasks(&[Uuid::new_v4()])?.is_empty(), "no task, no entry");
        Ok(())
    }

    #[test]
    fn spend_counts_tasks_by_when_they_ended() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let session = Uuid::new_v4();
        for (finished_at, usd) in [(50, 1.0), (150, 0.5), (250, 0.25)] {
            let id = task(&store, session, finished_at - 1)?;
            store.finish_task(id, TaskStatus::Completed, Some(&cost(usd)), None, Some(0), finished_at, None)?;
        }
        let unfinished = task(&store, session, 300)?;
        assert_eq!(store.spend_since(200, 100)?, (0.25, 0.75));
        assert_eq!(store.spend_since(1_000, 0)?, (0.0, 1.75));
        // Money spent stays spent: deleting or purging the tasks leaves the spend as it was.
        let other = Uuid::new_v4();
        let id = task(&store, other, 260)?;
        store.finish_task(id, TaskStatus::Completed, Some(&cost(2.0)), None, Some(0), 270, None)?;
        assert_eq!(store.spend_since(200, 100)?, (2.25, 2.75));
        store.delete_session(other, 400)?;
        store.delete_task(unfinished)?;
        assert_eq!(store.purge_finished_before(100)?, 1);
        assert_eq!(store.spend_since(200, 100)?, (2.25, 2.75));
        assert_eq!(store.spend_since(1_000, 0)?, (0.0, 3.75));
        Ok(())
    }

    #[test]
    fn an_older_databases_tasks_keep_their_cost() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Io { path: "tempdir".into(), source: e })?;
        let path = dir.path().join("old.db");
        let session = Uuid::new_v4();
        {
            // The tasks table before it had cost_usd, with a finished task that cost something.
            let conn = rusqlite::Connection::open(&path)?;
            conn.execute_batch(
                "CREATE TABLE tasks (id TEXT PRIMARY KEY, session_id TEXT NOT NULL, creates_session INTEGER NOT NULL,
                    request TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER,
                    finished_at INTEGER, pid INTEGER, proc_start INTEGER, exit_code INTEGER, result TEXT, error TEXT);",
            )?;
            conn.execute(
                "INSERT INTO tasks (id, session_id, creates_session, request, status, created_at, finished_at, result)
                 VALUES (?1, ?2, 1, '{\"message\":\"hi\"}', 'completed', 1, 10, '{\"type\":\"result\",\"total_cost_usd\":0.5}')",
                params![Uuid::new_v4().to_string(), session.to_string()],
            )?;
        }
        let store = Store::open(&path)?;
        assert_eq!(store.sessions_tasks(&[session])?.get(&session).and_then(|t| t.cost_usd), Some(0.5));
        assert_eq!(store.spend_since(5, 0)?, (0.5, 0.5));
        Ok(())
    }

    #[test]
    fn marks_are_set_cleared_and_a_deletion_forgets_the_tasks() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let session = Uuid::new_v4();
        store.update_session_mark(session, Some(Some("Mine")), None, 1)?;
        store.update_session_mark(session, None, Some(true), 2)?;
        assert_eq!(store.session_mark(session)?, Some(SessionMark { title: Some("Mine".into()), archived: true, deleted: false }));
        store.update_session_mark(session, Some(None), None, 3)?;
        assert_eq!(store.session_mark(session)?.and_then(|m| m.title), None);
        task(&store, session, 1)?;
        assert_eq!(store.delete_session(session, 4)?, 1);
        assert_eq!(store.session_mark(session)?, Some(SessionMark { title: None, archived: false, deleted: true }));
        assert!(store.sessions_tasks(&[session])?.is_empty());
        task(&store, session, 5)?;
        assert_eq!(store.session_marks()?.get(&session).map(|m| m.deleted), Some(false), "resumed, it is listed again");
        Ok(())
    }
}
