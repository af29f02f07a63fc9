//! JSON shapes of the public REST contract (the original design's, plus additive fields).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The `{session_id}` path segment: `new`, or the UUID of a session to resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum SessionRef {
    New,
    Existing(Uuid),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("session_id must be \"new\" or a UUID, got {0:?}")]
pub struct InvalidSessionRef(pub String);

impl FromStr for SessionRef {
    type Err = InvalidSessionRef;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw == "new" {
            return Ok(SessionRef::New);
        }
        // Only the canonical hyphenated form: it is what the CLI prints and what names the
        // transcript file, so nothing else can name a real session.
        let canonical = raw.len() == 36 && raw.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        match Uuid::try_parse(raw) {
            Ok(id) if canonical => Ok(SessionRef::Existing(id)),
            _ => Err(InvalidSessionRef(raw.chars().take(64).collect())),
        }
    }
}

impl TryFrom<String> for SessionRef {
    type Error = InvalidSessionRef;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        raw.parse()
    }
}

impl From<SessionRef> for String {
    fn from(session: SessionRef) -> String {
        session.to_string()
    }
}

impl fmt::Display for SessionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionRef::New => f.write_str("new"),
            SessionRef::Existing(id) => write!(f, "{id}"),
        }
    }
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// Body of `POST /api/sessions/{session_id}/chat`. Only `message` is required; the other fields
/// become CLI flags after validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_budget_usd: Option<f64>,
    /// A key the client picks for this message: sent again with the same key (after an answer
    /// lost on the way), it is answered with the first task instead of running twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<Uuid>,
    /// Where a new session runs: a project id from `GET /api/projects`, or an absolute path
    /// under an allowed root (absent: the default project). A resumed session runs in its own
    /// project, whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// Where a task is in its life. `NotFound` is only ever a poll answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Processing,
    Completed,
    Failed,
    Cancelled,
    NotFound,
}

impl TaskStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Processing => "processing",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::NotFound => "not_found",
        }
    }
}

impl FromStr for TaskStatus {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        Ok(match raw {
            "queued" => TaskStatus::Queued,
            "processing" => TaskStatus::Processing,
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            "cancelled" => TaskStatus::Cancelled,
            "not_found" => TaskStatus::NotFound,
            other => return Err(format!("unknown task status {other:?}")),
        })
    }
}

/// A page of a task's output lines, for clients that long-poll them (`task_events`): at most
/// 500 lines or about 1 MiB (one line always comes, whatever its size).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    /// The task's status when the lines were read.
    pub status: TaskStatus,
    /// `(seq, line)`: the raw stream-json lines, numbered by the server.
    pub events: Vec<(u64, String)>,
    /// Ask for lines after this one next.
    pub after: u64,
    /// More lines are stored after this page already: ask again at once.
    #[serde(default)]
    pub more: bool,
    /// The reply being written while the task runs (see [`PartialText`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<PartialText>,
}

/// The words of the message the CLI is writing, as the API streams them: shown as they come, never
/// stored (the complete message is, as an output line). An empty `text` means a new message began.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialText {
    pub text: String,
    /// Grows with every change: ask for changes after the one shown (`partial_after`).
    pub version: u64,
}

/// The page of a task's output lines just before a given one (`task_events_before`), for a
/// timeline that shows its latest steps and loads earlier ones on demand.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EarlierEvents {
    /// `(seq, line)` in order, ending just before the line asked about.
    pub events: Vec<(u64, String)>,
    /// There are earlier lines still.
    pub more: bool,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// Answer to a submit: the original's `{task_id, status}` plus the session the task runs in
/// (known at once, even for `new`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submitted {
    pub task_id: Uuid,
    pub status: TaskStatus,
    pub session_id: Uuid,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// Answer to a poll. `result` is the CLI's own result object, passed through untouched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub status: TaskStatus,
    pub task_id: Uuid,
    pub session_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub result: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub message: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// Raw output lines captured so far (stream-json events).
    pub events: u64,
    /// For a queued task: how many tasks of its session are ahead of it (0: it starts as soon as
    /// a CLI slot is free).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_position: Option<u32>,
    /// For a running task: what it is doing, for clients that only poll. For a finished one: what
    /// it did (its counts of steps and tool calls), when it ran on this version of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<crate::api::timeline::Progress>,
    /// Tool uses the CLI waits on a decision for, oldest first (absent when none waits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_approvals: Vec<PendingApproval>,
}

/// A tool use the CLI asked permission for and waits on: its `can_use_tool` request.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The CLI's request id: what a decision names.
    pub id: String,
    pub tool_name: String,
    /// What the tool would run with (a Bash command, a Write's path and content, questions…).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub input: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rules the CLI offers to remember (`permission_suggestions`): what "allow for this
    /// session" applies.
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<Object>))]
    pub suggestions: Vec<serde_json::Value>,
    /// Milliseconds since the Unix epoch.
    pub requested_at: i64,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Deny,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Remember {
    /// Apply the CLI's own suggestions for the rest of this session.
    Session,
}

/// The body of `POST …/approvals/{id}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    pub decision: Decision,
    /// For a deny: what the model is told (the user's reason, or feedback on a plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// For an allow: the input to run with instead (e.g. a question's input plus `answers`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Object>))]
    pub updated_input: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember: Option<Remember>,
}

/// How an approval was settled.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Allowed,
    Denied,
    /// The CLI withdrew the request, or its task ended first.
    Withdrawn,
}

impl ApprovalStatus {
    /// The name it has in JSON, in the store and in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Allowed => "allowed",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Withdrawn => "withdrawn",
        }
    }
}

/// An approval once decided: the answer of `POST …/approvals/{id}`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecidedApproval {
    pub id: String,
    pub task_id: Uuid,
    pub tool_name: String,
    pub status: ApprovalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remember: Option<Remember>,
    pub requested_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<i64>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// One entry of `GET /api/sessions`: the original's four fields plus title and last prompt, then
/// what this service knows of it (its tasks' state and cost, the user's title, archived).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub session_id: Uuid,
    /// First prompt of the session (the original showed this).
    pub display: String,
    pub project: String,
    /// Last activity, milliseconds since the Unix epoch (as `history.jsonl` records it).
    pub timestamp: i64,
    /// The user's own title when they gave one, else the CLI's title or the first prompt.
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_prompt: Option<String>,
    /// Where the tasks this service ran in it stand; absent when it ran none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<SessionState>,
    /// What the tasks this service ran in it cost, in all; absent when none reported a cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Hidden from the list (shown with `?archived=true`).
    #[serde(default)]
    pub archived: bool,
    /// The title the user gave it (also in `title`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_title: Option<String>,
    /// The id of the project it runs in (see `GET /api/projects`; `project` keeps the original's
    /// meaning, the folder's path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// That project's folder name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
}

/// One entry of `GET /api/projects`: a folder the CLI may work in.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectInfo {
    /// Stable: a short hash of its canonical path.
    pub id: String,
    /// The folder's name.
    pub name: String,
    /// The canonical path.
    pub path: String,
    /// The configured project (`--project`), where a new session runs when none is named.
    pub default: bool,
    /// Sessions the CLI keeps for it.
    pub sessions: u64,
    /// Its latest session's last activity, ms since the Unix epoch; `null` when it has none.
    pub last_activity: Option<i64>,
    /// The branch checked out, when it is a git work tree on a branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_branch: Option<String>,
}

/// The body of `POST /api/projects`: a folder under an allowed root to offer as a project.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProject {
    /// An absolute path.
    pub path: String,
}

/// Folders to choose a project from (`GET /api/projects/folders`): the allowed roots, or the
/// folders inside one folder under them.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderListing {
    /// The folder listed (canonical); `null` when the listing is the roots.
    pub path: Option<String>,
    /// The folder above it while that is still under a root; `null` at a root (the roots are
    /// above it) and for the roots.
    pub parent: Option<String>,
    /// By name, hidden folders left out.
    pub folders: Vec<Folder>,
    /// More folders are there than listed.
    pub truncated: bool,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    pub name: String,
    /// Canonical.
    pub path: String,
    /// A git work tree (it has `.git`): most likely a project.
    pub git: bool,
}

/// A session as its tasks leave it: an unfinished task first (waiting on the user, then running,
/// then queued), else how its latest task ended.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    Running,
    Queued,
    /// A running task waits on an approval or a question.
    Waiting,
    Failed,
    Cancelled,
    Completed,
}

impl SessionState {
    /// Whether a task of the session is still queued or running (the list keeps refreshing).
    pub fn is_active(self) -> bool {
        matches!(self, SessionState::Running | SessionState::Queued | SessionState::Waiting)
    }
}

/// What the tasks run here cost in the caller's today and this calendar month.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub today_usd: f64,
    pub month_usd: f64,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionList {
    pub sessions: Vec<SessionSummary>,
    #[serde(default)]
    pub spend: Spend,
}

/// What `GET /api/sessions` lists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionQuery {
    /// At most this many (1 to 100).
    pub limit: usize,
    /// Only the archived sessions (else only the others).
    #[serde(default)]
    pub archived: bool,
    /// The caller's offset from UTC (`-new Date().getTimezoneOffset()`), for "today" and "this
    /// month" in `spend`.
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// Only this project's sessions (an id from `GET /api/projects`); absent: every project's.
    #[serde(default)]
    pub project: Option<String>,
    /// Only sessions whose title, first or last prompt contains this (case-insensitive).
    #[serde(default)]
    pub q: Option<String>,
}

/// The body of `PATCH /api/sessions/{session_id}`: what to change; an absent field is left as it is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionPatch {
    /// The user's title (trimmed, at most 200 characters); `null` or empty clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>))]
    pub title: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// A field that is present, `null` included (`Some(None)`), as opposed to absent (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// A tool the assistant called, in one line (`Bash: cargo test`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub name: String,
    pub summary: String,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// One turn of a transcript, for the history view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub role: Role,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// Written by the CLI, not the model: an API error, or "No response requested." after an
    /// interrupt. Where this service ran the task, its outcome says it already.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// A session's transcript (from the CLI's own file) and the tasks this service ran in it (for
/// costs, failures, and a task still running).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub session_id: Option<Uuid>,
    pub turns: Vec<Turn>,
    #[serde(default)]
    pub tasks: Vec<TaskView>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
/// Who is signed in, for the app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub username: String,
    /// The project's folder name, shown in the chat's header.
    #[serde(default)]
    pub project: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ref_accepts_new_and_canonical_uuids_only() {
        assert_eq!("new".parse::<SessionRef>(), Ok(SessionRef::New));
        let id = "c8672706-d3ae-4704-b798-f8e6faba515c";
        assert_eq!(id.parse::<SessionRef>().map(|s| s.to_string()).as_deref(), Ok(id));
        for bad in [
            "",
            "NEW",
            "--help",
            "../etc/passwd",
            "c8672706d3ae4704b798f8e6faba515c",
            "{c8672706-d3ae-4704-b798-f8e6faba515c}",
            "urn:uuid:c8672706-d3ae-4704-b798-f8e6faba515c",
        ] {
            assert!(bad.parse::<SessionRef>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_patch_tells_a_cleared_title_from_an_untouched_one() {
        let parse = |raw: &str| serde_json::from_str::<SessionPatch>(raw).expect(raw);
        assert_eq!(parse("{}"), SessionPatch::default());
        assert_eq!(parse(r#"{"title": null}"#).title, Some(None));
        assert_eq!(parse(r#"{"title": "Mine", "archived": true}"#), SessionPatch { title: Some(Some("Mine".into())), archived: Some(true) });
        assert!(serde_json::from_str::<SessionPatch>(r#"{"name": "x"}"#).is_err());
        let old_client: SessionSummary = serde_json::from_str(
            r#"{"session_id":"c8672706-d3ae-4704-b798-f8e6faba515c","display":"d","project":"/p","timestamp":1,"title":"t"}"#,
        )
        .expect("the original fields alone");
        assert_eq!((old_client.state, old_client.archived), (None, false));
    }
}
