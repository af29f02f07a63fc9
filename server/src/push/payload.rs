//! What a notification says: the JSON the service worker receives, decrypted. Push services take
//! at most 4 KiB, so every text in it is cut short (`title` 80 characters, `body` 160).

use crate::store::TaskRecord;
use app::api::timeline::{request_summary, truncate_chars};
use app::api::TaskStatus;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

const TITLE_CHARS: usize = 80;
const BODY_CHARS: usize = 160;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A task completed or failed.
    Ended,
    /// A tool waits for the user's decision.
    Approval,
    /// The model asks the user a question (`AskUserQuestion`).
    Question,
    /// The settings sheet's "Send a test".
    Test,
}

impl Kind {
    /// Push urgency (RFC 8030 §5.3): what waits on the user may wake a phone at once.
    pub fn urgency(self) -> &'static str {
        match self {
            Kind::Ended => "normal",
            Kind::Approval | Kind::Question | Kind::Test => "high",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Payload {
    pub kind: Kind,
    pub session_id: Uuid,
    pub task_id: Uuid,
    /// The session's title.
    pub title: String,
    /// What happened, in a line.
    pub body: String,
    /// `completed` or `failed`, for an ending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// The tool waiting for a decision, and the approval's id (for Allow/Deny from the
    /// notification: `POST …/tasks/{task_id}/approvals/{approval_id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// What the task cost, once it is known (at its end).
    pub cost_usd: Option<f64>,
    /// Where the app shows the session.
    pub url: String,
    /// Endings of this session folded into this one (see `sender`): 1 when alone.
    pub endings: u32,
}

/// The session's title, or the task's own first line when the session has none yet.
fn title_of(task: &TaskRecord, session_title: Option<String>) -> String {
    let title = session_title
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| crate::claude::sessions::title_line(&task.request.message));
    truncate_chars(if title.is_empty() { "Claude" } else { &title }, TITLE_CHARS)
}

fn first_line(text: &str) -> Option<&str> {
    text.lines().map(str::trim).find(|line| !line.is_empty())
}

/// A finished task's notification; `None` for one that needs none (a cancel is the user's own
/// doing: every cancel today comes from the cancel and delete routes).
pub fn ended(task: &TaskRecord, session_title: Option<String>) -> Option<Payload> {
    let (status, body) = match task.status {
        TaskStatus::Completed => {
            let reply = task.result.as_ref().and_then(|r| r.get("result")).and_then(Value::as_str).and_then(first_line);
            ("completed", reply.unwrap_or("Done").to_owned())
        }
        TaskStatus::Failed => ("failed", format!("Failed: {}", task.error.as_deref().and_then(first_line).unwrap_or("no reason given"))),
        _ => return None,
    };
    Some(Payload {
        kind: Kind::Ended,
        session_id: task.session_id,
        task_id: task.id,
        title: title_of(task, session_title),
        body: truncate_chars(&body, BODY_CHARS),
        status: Some(status),
        tool_name: None,
        approval_id: None,
        cost_usd: task.result.as_ref().and_then(|r| r.get("total_cost_usd")).and_then(Value::as_f64),
        url: format!("/s/{}", task.session_id),
        endings: 1,
    })
}

impl Payload {
    /// A test names no session or task (nil ids); tapping it opens the app.
    pub fn test() -> Self {
        Payload {
            kind: Kind::Test,
            session_id: Uuid::nil(),
            task_id: Uuid::nil(),
            title: "Claude Remote".into(),
            body: "Notifications work on this device.".into(),
            status: None,
            tool_name: None,
            approval_id: None,
            cost_usd: None,
            url: "/".into(),
            endings: 1,
        }
    }
}

/// A request for the user's decision: a tool's approval, or a question.
pub fn waiting(task: &TaskRecord, session_title: Option<String>, approval_id: &str, tool_name: &str, input: &Value) -> Payload {
    let kind = if tool_name == "AskUserQuestion" { Kind::Question } else { Kind::Approval };
    let summary = request_summary(tool_name, input);
    let body = match kind {
        Kind::Question => summary,
        _ if summary == tool_name => format!("Wants to use {tool_name}"),
        _ => format!("Wants to run {summary}"),
    };
    Payload {
        kind,
        session_id: task.session_id,
        task_id: task.id,
        title: title_of(task, session_title),
        body: truncate_chars(&body, BODY_CHARS),
        status: None,
        tool_name: Some(tool_name.to_owned()),
        approval_id: Some(approval_id.to_owned()),
        cost_usd: None,
        url: format!("/s/{}", task.session_id),
        endings: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::api::ChatRequest;
    use serde_json::json;

    fn task(status: TaskStatus, result: Option<Value>, error: Option<&str>) -> TaskRecord {
        TaskRecord {
            id: Uuid::new_v4(),
            session_id: Uuid::new_v4(),
            creates_session: true,
            request: ChatRequest { message: "\n fix the build\nand the tests".into(), ..Default::default() },
            status,
            created_at: 0,
            started_at: None,
            finished_at: None,
            pid: None,
            proc_start: None,
            exit_code: None,
            result,
            error: error.map(str::to_owned),
            events: 0,
            summary: None,
            project: None,
        }
    }

    #[test]
    fn a_completed_task_says_its_reply_first_line_and_cost() {
        let task = task(TaskStatus::Completed, Some(json!({"result": "All green now.\nDetails…", "total_cost_usd": 0.25})), None);
        let payload = ended(&task, None).expect("a payload");
        let json = serde_json::to_value(&payload).expect("json");
        assert_eq!(json["kind"], "ended");
        assert_eq!(json["title"], "fix the build", "the task's first line stands in for a new session's title");
        assert_eq!(json["body"], "All green now.");
        assert_eq!(json["cost_usd"], 0.25);
        assert_eq!(json["url"], format!("/s/{}", task.session_id));
        assert!(json.get("tool_name").is_none());
    }

    #[test]
    fn a_failure_says_why_and_a_cancel_says_nothing() {
        let failed = task(TaskStatus::Failed, None, Some("API Error: 529 overloaded"));
        assert_eq!(ended(&failed, Some("Session".into())).expect("payload").body, "Failed: API Error: 529 overloaded");
        assert!(ended(&task(TaskStatus::Cancelled, None, Some("cancelled")), None).is_none());
    }

    #[test]
    fn an_approval_names_the_tool_and_a_question_asks_it() {
        let running = task(TaskStatus::Processing, None, None);
        let bash = waiting(&running, Some("Deploy".into()), "r1", "Bash", &json!({"command": "rm -rf build\nls"}));
        assert_eq!((bash.kind, bash.body.as_str(), bash.tool_name.as_deref()), (Kind::Approval, "Wants to run Bash: rm -rf build", Some("Bash")));
        assert_eq!(bash.kind.urgency(), "high");
        let question = waiting(&running, None, "r2", "AskUserQuestion", &json!({"questions": [{"question": "Which DB?"}]}));
        assert_eq!((question.kind, question.body.as_str()), (Kind::Question, "Question: Which DB?"));
        let long = waiting(&running, Some("x".repeat(300)), "r3", "Write", &json!({"file_path": "/a"}));
        assert_eq!(long.title.chars().count(), TITLE_CHARS + 1, "cut, with an ellipsis");
    }
}
