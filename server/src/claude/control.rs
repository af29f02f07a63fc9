//! The CLI's control protocol over stdin and stdout (`--input-format stream-json
//! --permission-prompt-tool stdio`, CONTRACT.md "Steering over stdin"): the lines it writes when
//! a tool needs permission or a request is withdrawn, and the lines we write to it (the user's
//! message, a decision, an interrupt).
//!
//! A decision is also recorded in the task's output as a `system` line of our own
//! (`approval_decided`), so the output file holds the whole exchange in order: a restarted
//! server, the event stream and the app all read it from there.

use app::api::{ApprovalStatus, Decision, Remember};
use serde::Deserialize;
use serde_json::{json, Value};

/// A `can_use_tool` request: the CLI waits until it is answered.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PermissionRequest {
    pub request_id: String,
    pub tool_name: String,
    #[serde(default)]
    pub input: Value,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permission_suggestions: Vec<Value>,
    #[serde(default)]
    pub tool_use_id: Option<String>,
}

/// A control line of the output that changes what waits on a decision.
#[derive(Clone, Debug, PartialEq)]
pub enum ControlLine {
    Request(PermissionRequest),
    /// `control_cancel_request`: the CLI no longer waits on this request.
    Withdrawn { request_id: String },
    /// Our own record of a decision (see [`decision_record`]).
    Decided { request_id: String, status: ApprovalStatus },
}

/// Reads a control line out of a parsed output line; `None` for every other line.
pub fn classify(line: &Value) -> Option<ControlLine> {
    match line.get("type")?.as_str()? {
        "control_request" => {
            let request = line.get("request")?;
            if request.get("subtype")?.as_str()? != "can_use_tool" {
                return None;
            }
            let mut fields = request.clone();
            fields.as_object_mut()?.insert("request_id".into(), line.get("request_id")?.clone());
            serde_json::from_value(fields).ok().map(ControlLine::Request)
        }
        "control_cancel_request" => Some(ControlLine::Withdrawn { request_id: line.get("request_id")?.as_str()?.to_owned() }),
        "system" if line.get("subtype")?.as_str()? == DECIDED_SUBTYPE => {
            let status = match line.get("behavior")?.as_str()? {
                "allow" => ApprovalStatus::Allowed,
                "deny" => ApprovalStatus::Denied,
                _ => return None,
            };
            Some(ControlLine::Decided { request_id: line.get("request_id")?.as_str()?.to_owned(), status })
        }
        _ => None,
    }
}

const DECIDED_SUBTYPE: &str = "approval_decided";

/// The user's message as the CLI's stdin takes it.
pub fn user_message(text: &str) -> String {
    json!({ "type": "user", "message": { "role": "user", "content": text } }).to_string()
}

/// Asks the CLI to stop its turn gracefully (it answers with a `result`).
pub fn interrupt(request_id: &str) -> String {
    json!({ "type": "control_request", "request_id": request_id, "request": { "subtype": "interrupt" } }).to_string()
}

/// A decision, settled: what the CLI is sent and what the output records.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub request_id: String,
    pub decision: Decision,
    /// For a deny: what the model is told.
    pub message: Option<String>,
    /// For an allow: the input to run with.
    pub input: Value,
    /// For an allow remembered for the session: the rules to apply.
    pub remember: Option<(Remember, Vec<Value>)>,
}

/// The `control_response` line that answers a `can_use_tool` request.
pub fn response(answer: &Answer) -> String {
    let inner = match answer.decision {
        Decision::Allow => {
            let mut allow = json!({ "behavior": "allow", "updatedInput": answer.input });
            if let Some((Remember::Session, rules)) = &answer.remember {
                allow["updatedPermissions"] = Value::Array(rules.iter().map(for_this_session).collect());
            }
            allow
        }
        Decision::Deny => json!({ "behavior": "deny", "message": answer.message.clone().unwrap_or_default() }),
    };
    json!({ "type": "control_response", "response": { "subtype": "success", "request_id": answer.request_id, "response": inner } }).to_string()
}

/// The CLI suggests rules for other places too (`localSettings` writes the project's settings
/// file): "for this session" means this session only.
fn for_this_session(rule: &Value) -> Value {
    let mut rule = rule.clone();
    if let Some(fields) = rule.as_object_mut() {
        fields.insert("destination".into(), Value::from("session"));
    }
    rule
}

/// Our record of a decision, appended to the task's output (never sent to the CLI).
pub fn decision_record(answer: &Answer, tool_name: &str, by: &str) -> String {
    let behavior = match answer.decision {
        Decision::Allow => "allow",
        Decision::Deny => "deny",
    };
    let mut record = json!({
        "type": "system",
        "subtype": DECIDED_SUBTYPE,
        "request_id": answer.request_id,
        "tool_name": tool_name,
        "behavior": behavior,
        "by": by,
    });
    if let Some(message) = &answer.message {
        record["message"] = Value::from(message.clone());
    }
    if answer.remember.is_some() {
        record["remember"] = Value::from("session");
    }
    record.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn stdio_fixture(name: &str) -> Vec<Value> {
        let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli/stdio").join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn requests(name: &str) -> Vec<PermissionRequest> {
        stdio_fixture(name)
            .iter()
            .filter_map(classify)
            .filter_map(|c| match c {
                ControlLine::Request(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_recorded_permission_request_is_read_with_its_tool_input_and_suggestions() {
        let write = requests("allow_write.stdout.jsonl");
        assert_eq!(write.len(), 1);
        assert_eq!((write[0].tool_name.as_str(), write[0].description.as_deref()), ("Write", Some("hello.txt")));
        assert_eq!(write[0].input["file_path"], "/home/dev/project/hello.txt");
        assert_eq!(write[0].permission_suggestions[0]["mode"], "acceptEdits");
        let bash = requests("deny_bash.stdout.jsonl");
        assert_eq!(bash[0].input["command"], "rm -rf build");
        assert_eq!(bash[0].permission_suggestions.len(), 3);
        let ask = requests("ask_user_question.stdout.jsonl");
        assert_eq!(ask[0].tool_name, "AskUserQuestion");
        assert!(ask[0].permission_suggestions.is_empty() && ask[0].description.is_none());
        assert_eq!(requests("exit_plan_mode_approve.stdout.jsonl")[0].input["plan"].as_str().map(|p| p.starts_with("## Plan")), Some(true));
        for quiet in ["interrupt_during_slow_reply.stdout.jsonl", "partial_messages.stdout.jsonl"] {
            assert!(requests(quiet).is_empty(), "{quiet}");
        }
    }

    /// What we write must be what the real CLI was given in the recorded runs.
    #[test]
    fn our_answers_are_the_lines_the_recorded_runs_sent() {
        for (name, answer) in [
            ("allow_write", Answer { request_id: String::new(), decision: Decision::Allow, message: None, input: Value::Null, remember: None }),
            ("deny_bash", Answer { request_id: String::new(), decision: Decision::Deny, message: Some("Not now: ask me after lunch.".into()), input: Value::Null, remember: None }),
        ] {
            let request = requests(&format!("{name}.stdout.jsonl")).remove(0);
            let sent: Vec<Value> = stdio_fixture(&format!("{name}.stdin.jsonl"));
            let answer = Answer { request_id: request.request_id.clone(), input: request.input.clone(), ..answer };
            let ours: Value = serde_json::from_str(&response(&answer)).expect("JSON");
            assert_eq!(ours, sent[1], "{name}");
        }
        let first: Value = serde_json::from_str(&user_message("#WRITE:/home/dev/project/hello.txt")).expect("JSON");
        assert_eq!(first, stdio_fixture("allow_write.stdin.jsonl")[0]);
        let stop: Value = serde_json::from_str(&interrupt("stop-1")).expect("JSON");
        assert_eq!(stop, stdio_fixture("interrupt_during_slow_reply.stdin.jsonl")[1]);
    }

    #[test]
    fn remembering_for_the_session_keeps_the_rules_to_this_session() {
        let request = requests("deny_bash.stdout.jsonl").remove(0);
        let answer = Answer {
            request_id: request.request_id,
            decision: Decision::Allow,
            message: None,
            input: request.input,
            remember: Some((Remember::Session, request.permission_suggestions)),
        };
        let line: Value = serde_json::from_str(&response(&answer)).expect("JSON");
        let rules = line["response"]["response"]["updatedPermissions"].as_array().expect("rules");
        assert_eq!(rules.len(), 3);
        assert!(rules.iter().all(|r| r["destination"] == "session"), "{rules:?}");
        let record: Value = serde_json::from_str(&decision_record(&answer, "Bash", "tester")).expect("JSON");
        assert_eq!(classify(&record), Some(ControlLine::Decided { request_id: answer.request_id.clone(), status: ApprovalStatus::Allowed }));
        assert_eq!(record["remember"], "session");
    }
}
