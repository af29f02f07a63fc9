//! Task rows and their output lines.

use super::{Store, StoreError};
use crate::claude::sessions::{title_line, PendingSession};
use app::api::timeline::Progress;
use app::api::{ChatRequest, TaskStatus};
use rusqlite::{params, OptionalExtension, Row};
use serde_json::Value;
use uuid::Uuid;

pub struct NewTask<'a> {
    pub id: Uuid,
    pub session_id: Uuid,
    pub creates_session: bool,
    pub request: &'a ChatRequest,
    pub created_at: i64,
    /// The canonical folder the CLI is to run in.
    pub project: &'a str,
}

#[derive(Clone, Debug)]
pub struct TaskRecord {
    pub id: Uuid,
    pub session_id: Uuid,
    pub creates_session: bool,
    pub request: ChatRequest,
    pub status: TaskStatus,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub pid: Option<i32>,
    pub proc_start: Option<u64>,
    pub exit_code: Option<i32>,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub events: u64,
    /// What a finished task did, in counts (see [`Progress`]): its steps show as they did live.
    pub summary: Option<Progress>,
    /// The canonical folder the CLI runs in (`None`: the default project, for a task stored
    /// before there were several).
    pub project: Option<std::path::PathBuf>,
}

const SELECT_TASK: &str = "SELECT id, session_id, creates_session, request, status, created_at, started_at,
        finished_at, pid, proc_start, exit_code, result, error,
        (SELECT COUNT(*) FROM task_lines e WHERE e.task_id = tasks.id), summary, project
    FROM tasks";

/// Copies the cost of the tasks the condition that follows selects into `spent`, before they are
/// deleted: money spent stays spent.
pub(super) const KEEP_SPEND: &str = "INSERT INTO spent (finished_at, cost_usd) SELECT finished_at, cost_usd FROM tasks
     WHERE cost_usd IS NOT NULL AND finished_at IS NOT NULL AND";

/// How long the cost of a purged task is kept past its purge: longer than any month.
const SPENT_KEPT_MS: i64 = 62 * 86_400_000;

/// How much of a prompt the listing reads to find its first line.
const PROMPT_PREFIX_CHARS: i64 = 2_000;

fn parse<T: std::str::FromStr>(raw: String, what: &str) -> Result<T, StoreError> {
    raw.parse().map_err(|_| StoreError::Corrupt(format!("{what}: {raw:?}")))
}

fn read_task(row: &Row<'_>) -> rusqlite::Result<Result<TaskRecord, StoreError>> {
    let id: String = row.get(0)?;
    let session_id: String = row.get(1)?;
    let request: String = row.get(3)?;
    let status: String = row.get(4)?;
    let result: Option<String> = row.get(11)?;
    let summary: Option<String> = row.get(14)?;
    let project: Option<String> = row.get(15)?;
    let fields = (row.get(2)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?, row.get(10)?, row.get(12)?, row.get(13)?);
    Ok((|| {
        let (creates_session, created_at, started_at, finished_at, pid, proc_start, exit_code, error, events): (
            bool,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i32>,
            Option<i64>,
            Option<i32>,
            Option<String>,
            i64,
        ) = fields;
        Ok(TaskRecord {
            id: parse(id, "task id")?,
            session_id: parse(session_id, "session id")?,
            creates_session,
            request: serde_json::from_str(&request).map_err(|e| StoreError::Corrupt(format!("request: {e}")))?,
            status: status.parse().map_err(StoreError::Corrupt)?,
            created_at,
            started_at,
            finished_at,
            pid,
            proc_start: proc_start.map(|v| v as u64),
            exit_code,
            result: result.and_then(|r| serde_json::from_str(&r).ok()),
            summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
            project: project.map(std::path::PathBuf::from),
            error,
            events: events as u64,
        })
    })())
}

impl Store {
    /// Stores a new queued task, unless the request's `client_message_id` names a task stored
    /// already (a client sending again after a lost answer): then that task, and nothing stored.
    pub fn insert_task(&self, task: &NewTask<'_>) -> Result<Option<TaskRecord>, StoreError> {
        let request = serde_json::to_string(task.request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let client_message_id = task.request.client_message_id.map(|id| id.to_string());
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO tasks (id, session_id, creates_session, request, status, created_at, client_message_id, project)
             VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7) ON CONFLICT DO NOTHING",
            params![task.id.to_string(), task.session_id.to_string(), task.creates_session, request, task.created_at, client_message_id, task.project],
        )?;
        if inserted == 1 {
            // A deleted session the user resumes (its transcript was kept) is listed again.
            tx.execute("UPDATE session_meta SET deleted = 0 WHERE session_id = ?1 AND deleted = 1", [task.session_id.to_string()])?;
            tx.commit()?;
            return Ok(None);
        }
        let mut statement = tx.prepare_cached(&format!("{SELECT_TASK} WHERE client_message_id = ?1"))?;
        match statement.query_row([client_message_id], read_task).optional()? {
            Some(existing) => Ok(Some(existing?)),
            // Not a repeated message: the id itself was taken (a v4 UUID: never in practice).
            None => Err(StoreError::Corrupt(format!("task {} exists already", task.id))),
        }
    }

    pub fn get_task(&self, id: Uuid) -> Result<Option<TaskRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(&format!("{SELECT_TASK} WHERE id = ?1"))?;
        statement.query_row([id.to_string()], read_task).optional()?.transpose()
    }

    /// Tasks left queued or running, oldest first: what a restart must pick up.
    pub fn unfinished_tasks(&self) -> Result<Vec<TaskRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare(&format!("{SELECT_TASK} WHERE status IN ('queued', 'processing') ORDER BY created_at, rowid"))?;
        let rows = statement.query_map([], read_task)?;
        rows.map(|row| row?).collect()
    }

    pub fn mark_running(&self, id: Uuid, pid: i32, proc_start: Option<u64>, started_at: i64) -> Result<(), StoreError> {
        self.writer()?.execute(
            "UPDATE tasks SET status = 'processing', pid = ?2, proc_start = ?3, started_at = ?4 WHERE id = ?1",
            params![id.to_string(), pid, proc_start.map(|v| v as i64), started_at],
        )?;
        Ok(())
    }

    pub fn finish_task(
        &self,
        id: Uuid,
        status: TaskStatus,
        result: Option<&Value>,
        error: Option<&str>,
        exit_code: Option<i32>,
        finished_at: i64,
        summary: Option<&Progress>,
    ) -> Result<(), StoreError> {
        let cost = result.and_then(|r| r.get("total_cost_usd")).and_then(Value::as_f64);
        let summary = summary.and_then(|s| serde_json::to_string(s).ok());
        self.writer()?.execute(
            "UPDATE tasks SET status = ?2, result = ?3, error = ?4, exit_code = ?5, finished_at = ?6, summary = ?7, cost_usd = ?8
             WHERE id = ?1",
            params![id.to_string(), status.as_str(), result.map(Value::to_string), error, exit_code, finished_at, summary, cost],
        )?;
        Ok(())
    }

    /// The latest `limit` tasks of a session, oldest first.
    pub fn session_tasks(&self, session_id: uuid::Uuid, limit: usize) -> Result<Vec<TaskRecord>, StoreError> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached(&format!("{SELECT_TASK} WHERE session_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT ?2"))?;
        let rows = statement.query_map(params![session_id.to_string(), limit as i64], read_task)?;
        let mut tasks = rows.map(|row| row?).collect::<Result<Vec<_>, _>>()?;
        tasks.reverse();
        Ok(tasks)
    }

    /// Forgets the task; what it cost still counts in the spend.
    pub fn delete_task(&self, id: Uuid) -> Result<bool, StoreError> {
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        tx.execute(&format!("{KEEP_SPEND} id = ?1"), [id.to_string()])?;
        let deleted = tx.execute("DELETE FROM tasks WHERE id = ?1", [id.to_string()])? > 0;
        tx.commit()?;
        Ok(deleted)
    }

    /// Deletes finished tasks older than `before` (ms), keeping what they cost for the spend (as
    /// long as a month's spend needs it); returns how many.
    pub fn purge_finished_before(&self, before: i64) -> Result<usize, StoreError> {
        const FINISHED_BEFORE: &str = "status IN ('completed', 'failed', 'cancelled') AND finished_at < ?1";
        let mut conn = self.writer()?;
        let tx = conn.transaction()?;
        tx.execute(&format!("{KEEP_SPEND} {FINISHED_BEFORE}"), [before])?;
        let purged = tx.execute(&format!("DELETE FROM tasks WHERE {FINISHED_BEFORE}"), [before])?;
        tx.execute("DELETE FROM spent WHERE finished_at < ?1", [before.saturating_sub(SPENT_KEPT_MS)])?;
        tx.commit()?;
        Ok(purged)
    }

    /// Sessions this service created recently, with the first line of their first prompt: listed
    /// even before the CLI writes a transcript. Only the prompt's beginning leaves the database
    /// (a prompt may be 100 KiB; a listing shows a line of it).
    pub fn sessions_created(&self, limit: usize) -> Result<Vec<PendingSession>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            // A corrupt row lists without a title rather than failing the listing.
            "SELECT session_id, substr(CASE WHEN json_valid(request) THEN json_extract(request, '$.message') END, 1, ?2),
                    created_at, project
             FROM tasks WHERE creates_session = 1 ORDER BY created_at DESC LIMIT ?1",
        )?;
        let rows = statement.query_map(params![limit as i64, PROMPT_PREFIX_CHARS], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?, row.get(2)?, row.get::<_, Option<String>>(3)?))
        })?;
        let mut sessions = Vec::new();
        for row in rows {
            let (session_id, prompt, timestamp, project) = row?;
            let Ok(session_id) = session_id.parse() else { continue };
            sessions.push(PendingSession {
                session_id,
                first_prompt: title_line(prompt.as_deref().unwrap_or("")),
                timestamp,
                project: project.map(std::path::PathBuf::from),
            });
        }
        Ok(sessions)
    }

    /// The folder this service last ran a task of the session in, if it ran one.
    pub fn session_project(&self, session_id: Uuid) -> Result<Option<std::path::PathBuf>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached(
            "SELECT project FROM tasks WHERE session_id = ?1 AND project IS NOT NULL ORDER BY created_at DESC LIMIT 1",
        )?;
        let project: Option<String> = statement.query_row([session_id.to_string()], |row| row.get(0)).optional()?;
        Ok(project.map(std::path::PathBuf::from))
    }

    /// Folders added as projects from the app, oldest first.
    pub fn added_projects(&self) -> Result<Vec<std::path::PathBuf>, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached("SELECT path FROM projects_added ORDER BY added_at")?;
        let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
        rows.map(|row| Ok(std::path::PathBuf::from(row?))).collect()
    }

    pub fn add_project(&self, path: &str, added_at: i64) -> Result<(), StoreError> {
        self.writer()?.execute("INSERT OR IGNORE INTO projects_added (path, added_at) VALUES (?1, ?2)", params![path, added_at])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_keeps_its_lines_and_outcome() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let request = ChatRequest { message: "hello".into(), ..Default::default() };
        let id = Uuid::new_v4();
        let session_id = Uuid::new_v4();
        store.insert_task(&NewTask { id, session_id, creates_session: true, request: &request, created_at: 1, project: "/p" })?;
        assert_eq!(store.unfinished_tasks()?.len(), 1);
        store.mark_running(id, 4242, Some(99), 2)?;
        let state = crate::store::OutputState::default();
        store.save_output(id, &[(1, "{\"a\":1}".into()), (2, "{\"b\":2}".into())], &state)?;
        store.save_output(id, &[(2, "{\"b\":2}".into()), (3, "{\"c\":3}".into())], &state)?;
        let result = serde_json::json!({"type": "result", "result": "hi"});
        store.finish_task(id, TaskStatus::Completed, Some(&result), None, Some(0), 3, None)?;
        let task = store.get_task(id)?.expect("stored");
        assert_eq!(task.status, TaskStatus::Completed);
        assert_eq!(task.result, Some(result));
        assert_eq!(task.events, 3, "a re-sent line is not stored twice");
        assert_eq!(store.events_after(id, 1)?.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(store.sessions_created(10)?.first().map(|s| s.first_prompt.clone()), Some("hello".into()));
        assert!(store.unfinished_tasks()?.is_empty());
        assert_eq!(store.purge_finished_before(4)?, 1);
        assert!(store.get_task(id)?.is_none());
        assert!(store.events_after(id, 0)?.is_empty(), "lines go with their task");
        Ok(())
    }

    #[test]
    fn a_pending_session_is_listed_by_the_first_line_of_its_prompt() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let message = format!("\nRefactor the parser\n{}", "and more ".repeat(11_000));
        let request = ChatRequest { message, ..Default::default() };
        store.insert_task(&NewTask { id: Uuid::new_v4(), session_id: Uuid::new_v4(), creates_session: true, request: &request, created_at: 1, project: "/p" })?;
        let listed = store.sessions_created(10)?;
        assert_eq!(listed.iter().map(|s| s.first_prompt.as_str()).collect::<Vec<_>>(), ["Refactor the parser"]);
        Ok(())
    }
}
