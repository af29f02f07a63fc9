//! What a running task is doing, read from the CLI's stream-json lines: the same reading for the
//! server (the poll's progress summary) and the app (the live timeline).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One step of a task's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineItem {
    Started { model: String },
    Text { text: String },
    Thinking,
    Tool { id: String, name: String, summary: String },
    ToolResult { tool_use_id: String, text: String, is_error: bool },
    Retry { attempt: u64, max_retries: u64, error: String },
    /// Something the CLI runs beside the conversation (a `task_*` notice): a subagent, or a
    /// command left running in the background. A notice of its end does not say which: the
    /// start with the same `task_id` does (see [`background_text`]).
    BackgroundTask { task_id: String, of: TaskKind, description: String, status: String },
    /// The server kept the head and the tail of an enormous output: this many lines between
    /// them were not kept.
    Truncated { lines: u64, bytes: u64 },
    /// The CLI asks the user before a tool use (a `can_use_tool` control request) and waits.
    /// `tool_use_id`: the tool call it is about (its step says the same: shown once).
    Asked { request_id: String, summary: String, tool_use_id: Option<String> },
    /// The server's record of the answer (its `approval_decided` line).
    Decided { request_id: String, tool_name: String, allowed: bool, remember: bool, message: Option<String> },
}

/// The steps in one output line (an assistant line can carry several blocks). Lines that say
/// nothing a person would follow (the result, unknown kinds) give none.
pub fn items(line: &Value) -> Vec<TimelineItem> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let kind = line.get("type").and_then(Value::as_str).unwrap_or("");
    let subtype = line.get("subtype").and_then(Value::as_str).unwrap_or("");
    // Subagents' own lines are summarized by their task_* notices.
    if kind != "system" && line.get("parent_tool_use_id").is_some_and(|p| !p.is_null()) {
        return Vec::new();
    }
    let blocks = || line.pointer("/message/content").and_then(Value::as_array).into_iter().flatten();
    match (kind, subtype) {
        ("system", "init") => vec![TimelineItem::Started { model: text(line, "model") }],
        ("system", "api_retry") => vec![TimelineItem::Retry {
            attempt: line.get("attempt").and_then(Value::as_u64).unwrap_or(0),
            max_retries: line.get("max_retries").and_then(Value::as_u64).unwrap_or(0),
            error: text(line, "error"),
        }],
        // Written by the server, not the CLI, where it cut an output over its bound.
        ("system", "output_truncated") => vec![TimelineItem::Truncated {
            lines: line.get("lines").and_then(Value::as_u64).unwrap_or(0),
            bytes: line.get("bytes").and_then(Value::as_u64).unwrap_or(0),
        }],
        ("control_request", _) => {
            let Some(request) = line.get("request").filter(|r| r.get("subtype").and_then(Value::as_str) == Some("can_use_tool")) else {
                return Vec::new();
            };
            let tool = text(request, "tool_name");
            vec![TimelineItem::Asked {
                request_id: text(line, "request_id"),
                summary: request_summary(&tool, request.get("input").unwrap_or(&Value::Null)),
                tool_use_id: request.get("tool_use_id").and_then(Value::as_str).map(str::to_owned),
            }]
        }
        // Written by the server when a request is answered (or times out).
        ("system", "approval_decided") => vec![TimelineItem::Decided {
            request_id: text(line, "request_id"),
            tool_name: text(line, "tool_name"),
            allowed: line.get("behavior").and_then(Value::as_str) == Some("allow"),
            remember: line.get("remember").and_then(Value::as_str) == Some("session"),
            message: line.get("message").and_then(Value::as_str).map(str::to_owned),
        }],
        ("system", "task_started") => vec![TimelineItem::BackgroundTask {
            task_id: text(line, "task_id"),
            of: TaskKind::of(line),
            description: text(line, "description"),
            status: "started".into(),
        }],
        ("system", "task_notification") => vec![TimelineItem::BackgroundTask {
            task_id: text(line, "task_id"),
            of: TaskKind::Unknown,
            description: text(line, "summary"),
            status: line.get("status").and_then(Value::as_str).unwrap_or("done").to_owned(),
        }],
        ("assistant", _) => blocks()
            .filter_map(|block| match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    let t = text(block, "text");
                    (!t.trim().is_empty()).then_some(TimelineItem::Text { text: t })
                }
                Some("thinking") | Some("redacted_thinking") => Some(TimelineItem::Thinking),
                Some("tool_use") => {
                    let name = text(block, "name");
                    let summary = summarize_tool(&name, block.get("input").unwrap_or(&Value::Null));
                    Some(TimelineItem::Tool { id: text(block, "id"), name, summary })
                }
                _ => None,
            })
            .collect(),
        ("user", _) => blocks()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_result"))
            .map(|block| TimelineItem::ToolResult {
                tool_use_id: text(block, "tool_use_id"),
                text: truncate_chars(&tool_result_text(block.get("content").unwrap_or(&Value::Null)), 2000),
                is_error: block.get("is_error").and_then(Value::as_bool).unwrap_or(false),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn tool_result_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// One line that says what a tool call does: `Bash: cargo test`, `Edit src/main.rs`.
pub fn summarize_tool(name: &str, input: &Value) -> String {
    let field = |key: &str| input.get(key).and_then(Value::as_str).map(str::trim);
    let detail = match name {
        "Bash" => field("command").map(|c| format!("Bash: {}", c.lines().next().unwrap_or(""))),
        "Read" | "Edit" | "Write" | "MultiEdit" | "NotebookEdit" => field("file_path")
            .or_else(|| field("notebook_path"))
            .map(|p| format!("{name} {p}")),
        "Grep" | "Glob" => field("pattern").map(|p| format!("{name}: {p}")),
        "WebFetch" => field("url").map(|u| format!("WebFetch {u}")),
        "WebSearch" => field("query").map(|q| format!("WebSearch: {q}")),
        "Task" | "Agent" => field("description").map(|d| format!("{name}: {d}")),
        _ => None,
    };
    truncate_chars(&detail.unwrap_or_else(|| name.to_owned()), 120)
}

/// What a permission request is about, in one line: a tool call's summary, or the question or
/// plan the CLI brings to the user.
pub fn request_summary(name: &str, input: &Value) -> String {
    match name {
        "AskUserQuestion" => {
            let question = input.pointer("/questions/0/question").and_then(Value::as_str).map(str::trim);
            truncate_chars(&question.map_or_else(|| "A question".to_owned(), |q| format!("Question: {q}")), 120)
        }
        "ExitPlanMode" => "A plan to review".to_owned(),
        _ => summarize_tool(name, input),
    }
}

/// How a request was answered, in a few words: "Allowed", "Denied: not now", "Plan approved".
pub fn decided_text(item: &TimelineItem) -> String {
    let TimelineItem::Decided { tool_name, allowed, remember, message, .. } = item else { return String::new() };
    let message = message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    match (tool_name.as_str(), allowed, message) {
        ("AskUserQuestion", true, _) => "Answered".to_owned(),
        ("ExitPlanMode", true, _) => "Plan approved".to_owned(),
        ("ExitPlanMode", false, Some(m)) => format!("Keep planning: {}", truncate_chars(m, 200)),
        ("ExitPlanMode", false, None) => "Keep planning".to_owned(),
        (_, true, _) if *remember => "Allowed for this session".to_owned(),
        (_, true, _) => "Allowed".to_owned(),
        // The server's own texts ("Denied from the phone.", "No answer within 24h: denied
        // automatically.") say it already.
        (_, false, Some(m)) if m.starts_with("Denied") || m.contains("denied automatically") => truncate_chars(m, 200),
        (_, false, Some(m)) => format!("Denied: {}", truncate_chars(m, 200)),
        (_, false, None) => "Denied".to_owned(),
    }
}

pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// What a [`TimelineItem::Truncated`] says: "1,234 lines (38.2 MB) of output not kept".
pub fn truncated_text(item: &TimelineItem) -> String {
    let TimelineItem::Truncated { lines, bytes } = item else { return String::new() };
    let size = if *bytes >= 1_000_000 { format!("{:.1} MB", *bytes as f64 / 1e6) } else { format!("{:.1} kB", *bytes as f64 / 1e3) };
    format!("{} line{} ({size}) of output not kept", group_thousands(*lines), if *lines == 1 { "" } else { "s" })
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A running task in a few words, for clients that only poll; kept when it ends, as what it did.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The latest step, in one line ("Bash: cargo test", "Writing…").
    pub last_activity: Option<String>,
    pub tool_calls: u32,
    /// Steps of its timeline so far (tool results go with their call: not counted).
    #[serde(default)]
    pub steps: u32,
    /// When the last step happened, ms since the Unix epoch.
    pub last_activity_at: Option<i64>,
    /// For a finished task: how many files it changed, and lines added and removed in them
    /// (`…/tasks/{task_id}/changes` has the diffs). Absent while it runs, or where it changed none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<super::ChangeCount>,
}

/// What a background task is, from its `task_started` notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A subagent (the Task/Agent tool).
    Agent,
    /// A shell command left running (Bash with `run_in_background`).
    Command,
    Unknown,
}

impl TaskKind {
    fn of(line: &Value) -> Self {
        match line.get("task_type").and_then(Value::as_str) {
            Some("local_agent" | "remote_agent") => Self::Agent,
            Some("local_bash") => Self::Command,
            _ if line.get("subagent_type").is_some() => Self::Agent,
            _ => Self::Unknown,
        }
    }
}

/// A background task's line, e.g. "Subagent started: Review the parser" or "Background command
/// completed: Run the dev server". A notice of its end takes its kind from the start among
/// `steps`.
pub fn background_text(step: &TimelineItem, steps: &[TimelineItem]) -> String {
    let TimelineItem::BackgroundTask { task_id, of, description, status } = step else { return String::new() };
    let kind = match of {
        TaskKind::Unknown => steps
            .iter()
            .find_map(|s| match s {
                TimelineItem::BackgroundTask { task_id: id, of, .. } if id == task_id && !task_id.is_empty() && *of != TaskKind::Unknown => Some(*of),
                _ => None,
            })
            .unwrap_or(TaskKind::Unknown),
        known => *known,
    };
    let what = match kind {
        TaskKind::Agent => "Subagent",
        TaskKind::Command => "Background command",
        TaskKind::Unknown => "Background task",
    };
    format!("{what} {status}: {description}")
}

/// A model as people name it: `claude-opus-4-8[1m]` is "Opus 4.8 (1M context)",
/// `claude-sonnet-4-5-20250929` "Sonnet 4.5", `claude-3-5-haiku-20241022` "Haiku 3.5". An id of
/// another shape is shown as it is.
pub fn model_name(id: &str) -> String {
    let (base, context) = match id.split_once('[') {
        Some((base, rest)) => (base, rest.strip_suffix(']').map(|c| c.to_uppercase())),
        None => (id, None),
    };
    let Some(rest) = base.strip_prefix("claude-") else { return id.to_owned() };
    let mut family = None;
    let mut version = Vec::new();
    for part in rest.split('-') {
        match part {
            "opus" | "sonnet" | "haiku" => family = Some(part),
            // A release date (20250929) ends the name.
            digits if digits.len() >= 8 && digits.bytes().all(|b| b.is_ascii_digit()) => break,
            digits if !digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()) => version.push(digits),
            _ => return id.to_owned(),
        }
    }
    let Some(family) = family else { return id.to_owned() };
    let mut name = format!("{}{}", family[..1].to_uppercase(), &family[1..]);
    if !version.is_empty() {
        name = format!("{name} {}", version.join("."));
    }
    match context {
        Some(context) => format!("{name} ({context} context)"),
        None => name,
    }
}

/// How many of `steps` a timeline shows: a tool's result is shown inside its call, not apart.
pub fn shown_steps(steps: &[TimelineItem]) -> usize {
    steps.iter().filter(|s| !matches!(s, TimelineItem::ToolResult { .. })).count()
}

/// `1 step`, `2 steps`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Progress {
    pub fn observe(&mut self, item: &TimelineItem, at_ms: i64) {
        if !matches!(item, TimelineItem::ToolResult { .. }) {
            self.steps += 1;
        }
        let activity = match item {
            TimelineItem::Started { .. } => "Started".to_owned(),
            TimelineItem::Text { text } => format!("Writing: {}", truncate_chars(text.lines().next().unwrap_or(""), 80)),
            TimelineItem::Thinking => "Thinking…".to_owned(),
            TimelineItem::Tool { summary, .. } => {
                self.tool_calls += 1;
                summary.clone()
            }
            TimelineItem::ToolResult { is_error: true, .. } => "A tool call failed".to_owned(),
            TimelineItem::ToolResult { .. } => "Tool finished".to_owned(),
            TimelineItem::Retry { attempt, max_retries, error } => format!("Retrying the API ({attempt}/{max_retries}): {error}"),
            TimelineItem::BackgroundTask { .. } => background_text(item, &[]),
            TimelineItem::Truncated { .. } => truncated_text(item),
            TimelineItem::Asked { summary, .. } => format!("Waiting for you: {summary}"),
            TimelineItem::Decided { .. } => decided_text(item),
        };
        self.last_activity = Some(activity);
        self.last_activity_at = Some(at_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_permission_request_names_the_tool_call_it_is_about() {
        // The recorded run: so that the call shows once, as the request.
        let run = include_str!("../../../server/tests/fixtures/claude-cli/stdio/allow_write.stdout.jsonl");
        let steps: Vec<TimelineItem> = run.lines().filter_map(|l| serde_json::from_str(l).ok()).flat_map(|l: Value| items(&l)).collect();
        let asked = steps.iter().find_map(|s| match s {
            TimelineItem::Asked { tool_use_id, .. } => tool_use_id.clone(),
            _ => None,
        });
        assert!(asked.is_some() && steps.iter().any(|s| matches!(s, TimelineItem::Tool { id, .. } if Some(id) == asked.as_ref())), "{steps:?}");
    }

    #[test]
    fn a_command_left_running_is_not_called_a_subagent() {
        let notice = |v: Value| items(&v).remove(0);
        let command = notice(json!({"type": "system", "subtype": "task_started", "task_id": "b7", "task_type": "local_bash", "description": "Run the dev server"}));
        let ended = notice(json!({"type": "system", "subtype": "task_notification", "task_id": "b7", "status": "completed", "summary": "Run the dev server"}));
        let steps = [command.clone(), ended.clone()];
        assert_eq!(background_text(&command, &steps), "Background command started: Run the dev server");
        assert_eq!(background_text(&ended, &steps), "Background command completed: Run the dev server", "its end takes the start's kind");
        assert_eq!(background_text(&ended, &[]), "Background task completed: Run the dev server", "alone, it does not guess");
        // The real subagent run in the fixtures: its start names the agent type.
        let fixture = include_str!("../../../server/tests/fixtures/claude-cli/stream_subagent.jsonl");
        let steps: Vec<TimelineItem> = fixture.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).flat_map(|l| items(&l)).collect();
        let texts: Vec<String> = steps.iter().filter(|s| matches!(s, TimelineItem::BackgroundTask { .. })).map(|s| background_text(s, &steps)).collect();
        assert_eq!(texts, ["Subagent started: Fake sub task", "Subagent completed: Fake sub task"]);
    }

    #[test]
    fn models_are_named_as_people_name_them() {
        assert_eq!(model_name("claude-opus-4-8[1m]"), "Opus 4.8 (1M context)");
        assert_eq!(model_name("claude-sonnet-4-5-20250929"), "Sonnet 4.5");
        assert_eq!(model_name("claude-3-5-haiku-20241022"), "Haiku 3.5");
        assert_eq!(model_name("claude-opus-4-1"), "Opus 4.1");
        assert_eq!(model_name("claude-fable-9"), "claude-fable-9", "an unknown shape is left as it is");
        assert_eq!(model_name("gpt-x"), "gpt-x");
        assert_eq!(model_name(""), "");
    }

    #[test]
    fn a_summary_counts_what_the_timeline_shows() {
        let steps = [
            TimelineItem::Text { text: "Let me look.".into() },
            TimelineItem::Tool { id: "t1".into(), name: "Bash".into(), summary: "Bash: ls".into() },
            TimelineItem::ToolResult { tool_use_id: "t1".into(), text: "a b".into(), is_error: false },
        ];
        assert_eq!(shown_steps(&steps), 2, "the result is shown inside its call");
        assert_eq!(plural(1, "step", "steps"), "1 step");
        assert_eq!(plural(2, "step", "steps"), "2 steps");
        assert_eq!(plural(0, "tool call", "tool calls"), "0 tool calls");
    }

    #[test]
    fn assistant_blocks_become_text_and_tool_steps() {
        let line = json!({"type": "assistant", "parent_tool_use_id": null, "message": {"content": [
            {"type": "text", "text": "Let me run something."},
            {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test\n--all"}}
        ]}});
        assert_eq!(
            items(&line),
            [
                TimelineItem::Text { text: "Let me run something.".into() },
                TimelineItem::Tool { id: "t1".into(), name: "Bash".into(), summary: "Bash: cargo test".into() },
            ]
        );
        let mut progress = Progress::default();
        for item in items(&line) {
            progress.observe(&item, 5);
        }
        assert_eq!(progress.tool_calls, 1);
        assert_eq!(progress.last_activity.as_deref(), Some("Bash: cargo test"));
    }

    #[test]
    fn subagent_lines_are_summarized_not_repeated() {
        let inner = json!({"type": "assistant", "parent_tool_use_id": "t9", "message": {"content": [{"type": "text", "text": "inner"}]}});
        assert!(items(&inner).is_empty());
        let started = json!({"type": "system", "subtype": "task_started", "task_id": "a1", "task_type": "local_agent", "description": "Fake sub task"});
        let started = items(&started);
        assert_eq!(
            started,
            [TimelineItem::BackgroundTask { task_id: "a1".into(), of: TaskKind::Agent, description: "Fake sub task".into(), status: "started".into() }]
        );
        assert_eq!(background_text(&started[0], &[]), "Subagent started: Fake sub task");
        assert!(items(&json!({"type": "result", "subtype": "success"})).is_empty());
        assert_eq!(summarize_tool("Edit", &json!({"file_path": "src/main.rs"})), "Edit src/main.rs");
        assert_eq!(truncate_chars("ééé", 2), "éé…");
    }

    #[test]
    fn the_servers_truncation_marker_is_one_readable_step() {
        let marker = json!({"type": "system", "subtype": "output_truncated", "lines": 31_250, "bytes": 38_200_000});
        let steps = items(&marker);
        assert_eq!(steps, [TimelineItem::Truncated { lines: 31_250, bytes: 38_200_000 }]);
        assert_eq!(truncated_text(&steps[0]), "31,250 lines (38.2 MB) of output not kept");
        assert_eq!(truncated_text(&TimelineItem::Truncated { lines: 1, bytes: 2_500 }), "1 line (2.5 kB) of output not kept");
    }

    #[test]
    fn a_permission_request_and_its_answer_are_two_readable_steps() {
        let asked = json!({"type": "control_request", "request_id": "r1", "request": {
            "subtype": "can_use_tool", "tool_name": "Write", "input": {"file_path": "/p/hello.txt", "content": "hi"}}});
        let steps = items(&asked);
        assert_eq!(steps, [TimelineItem::Asked { request_id: "r1".into(), summary: "Write /p/hello.txt".into(), tool_use_id: None }]);
        let mut progress = Progress::default();
        progress.observe(&steps[0], 1);
        assert_eq!(progress.last_activity.as_deref(), Some("Waiting for you: Write /p/hello.txt"));
        assert_eq!(progress.tool_calls, 0);

        let denied = json!({"type": "system", "subtype": "approval_decided", "request_id": "r2", "tool_name": "Bash",
            "behavior": "deny", "by": "e2e", "message": "not on a Friday"});
        assert_eq!(decided_text(&items(&denied)[0]), "Denied: not on a Friday");
        let allowed = json!({"type": "system", "subtype": "approval_decided", "request_id": "r1", "tool_name": "Write",
            "behavior": "allow", "by": "e2e", "remember": "session"});
        assert_eq!(decided_text(&items(&allowed)[0]), "Allowed for this session");
        let timed_out = json!({"type": "system", "subtype": "approval_decided", "request_id": "r3", "tool_name": "Bash",
            "behavior": "deny", "by": "approval timeout", "message": "No answer within 1m: denied automatically."});
        assert_eq!(decided_text(&items(&timed_out)[0]), "No answer within 1m: denied automatically.");
        let keep = json!({"type": "system", "subtype": "approval_decided", "request_id": "r4", "tool_name": "ExitPlanMode",
            "behavior": "deny", "by": "e2e", "message": "add tests"});
        assert_eq!(decided_text(&items(&keep)[0]), "Keep planning: add tests");

        // Other control lines say nothing a person follows.
        assert!(items(&json!({"type": "control_request", "request_id": "x", "request": {"subtype": "interrupt"}})).is_empty());
        assert!(items(&json!({"type": "control_cancel_request", "request_id": "r1"})).is_empty());
        assert!(items(&json!({"type": "control_response", "response": {"subtype": "success"}})).is_empty());
    }

    #[test]
    fn questions_and_plans_are_summarized_by_what_they_ask() {
        let question = json!({"questions": [{"question": "Which colour should the button be?", "header": "Colour", "options": []}]});
        assert_eq!(request_summary("AskUserQuestion", &question), "Question: Which colour should the button be?");
        assert_eq!(request_summary("AskUserQuestion", &json!({})), "A question");
        assert_eq!(request_summary("ExitPlanMode", &json!({"plan": "## Plan"})), "A plan to review");
        assert_eq!(request_summary("Bash", &json!({"command": "npm test"})), "Bash: npm test");
    }
}
