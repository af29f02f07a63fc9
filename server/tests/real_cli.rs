//! The real `claude` CLI (the pinned npm package that scripts/test.sh installs) driven through the
//! server, against a stand-in Anthropic API on 127.0.0.1. These catch changes in the CLI's
//! flags, output and files before users do.
//!
//! `REAL_CLAUDE_BIN` names the CLI; scripts/test.sh sets it. Outside CI, without it, these tests
//! say so and do nothing, so a plain `cargo test` works without the 245 MB download; in CI
//! (`CI` set) its absence is a failure.

mod support;
#[path = "support/anthropic.rs"]
mod anthropic;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use support::{processes_in_group, Dirs, Server};

const LONG: Duration = Duration::from_secs(60);

fn real_claude() -> Option<PathBuf> {
    let bin = std::env::var_os("REAL_CLAUDE_BIN").map(PathBuf::from);
    assert!(bin.is_some() || std::env::var_os("CI").is_none(), "CI runs the real-CLI tier: run scripts/test.sh");
    if bin.is_none() {
        eprintln!("REAL_CLAUDE_BIN is not set: real-CLI tests not run (scripts/test.sh installs and sets it)");
    }
    bin
}

/// The server with the real CLI, pointed at the stand-in API.
fn start(dirs: &Dirs, claude: &std::path::Path, api: &anthropic::StandInApi) -> Server {
    let home = dirs.root.path().join("home");
    let _ = std::fs::create_dir_all(&home);
    Server::launch(
        dirs,
        claude,
        &[],
        &[
            ("ANTHROPIC_BASE_URL", api.url.clone()),
            ("ANTHROPIC_API_KEY", "sk-stand-in".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("CLAUDE_CODE_MAX_RETRIES", "1".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            ("HOME", home.display().to_string()),
        ],
    )
}

#[tokio::test]
async fn a_new_session_resumes_is_listed_and_keeps_both_turns() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let (code, health) = server.get("/health").await;
    assert_eq!(code, 200);
    assert_eq!(health["cli"]["tested"], true, "{health}");

    let (first, session) = server.submit("new", "first real question").await;
    let done = server.wait_finished(&session, &first, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Stand-in reply to: first real question");
    assert_eq!(done["result"]["session_id"], session.as_str(), "--session-id was honoured");

    let (second, _) = server.submit(&session, "second real question").await;
    let done = server.wait_finished(&session, &second, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["session_id"], session.as_str(), "--resume kept the session");

    let (_, listed) = server.get("/api/sessions").await;
    let entry = listed["sessions"].as_array().expect("sessions").iter().find(|s| s["session_id"] == session.as_str()).cloned();
    let entry = entry.expect("the session is listed");
    assert_eq!(entry["display"], "first real question");
    let (_, transcript) = server.get(&format!("/api/sessions/{session}/messages")).await;
    let texts: Vec<&str> = transcript["turns"].as_array().expect("turns").iter().filter_map(|t| t["text"].as_str()).collect();
    assert_eq!(
        texts,
        ["first real question", "Stand-in reply to: first real question", "second real question", "Stand-in reply to: second real question"]
    );
}

#[tokio::test]
async fn an_allowed_tool_runs_and_a_denied_one_is_reported() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);

    let (code, submitted) = server
        .post_json("/api/sessions/new/chat", &json!({"message": "#BASH:echo from-the-tool", "allowed_tools": ["Bash(echo:*)"]}))
        .await;
    assert_eq!(code, 200, "{submitted}");
    let (task, session) = (submitted["task_id"].as_str().expect("id"), submitted["session_id"].as_str().expect("session"));
    let done = server.wait_finished(session, task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Tool said: [is_error=false] from-the-tool");
    let (_, events) = server.get(&format!("/api/sessions/{session}/tasks/{task}/events?after=0")).await;
    let kinds: Vec<String> = events["events"].as_array().expect("events").iter().map(|e| e["event"]["type"].as_str().unwrap_or("?").to_owned()).collect();
    assert_eq!(kinds.first().map(String::as_str), Some("system"));
    assert_eq!(kinds.last().map(String::as_str), Some("result"));
    assert!(kinds.iter().any(|k| k == "user"), "the tool result was streamed: {kinds:?}");

    // Not allowed up front: the CLI asks, and the phone denies with a reason the model reads.
    let target = dirs.project().join("not-allowed.txt");
    let (task, session) = server.submit("new", &format!("#WRITE:{}", target.display())).await;
    let waiting = server.wait_for_approval(&session, &task).await;
    let approval = &waiting["pending_approvals"][0];
    assert_eq!((approval["tool_name"].as_str(), approval["input"]["file_path"].as_str()), (Some("Write"), target.to_str()), "{approval}");
    let id = approval["id"].as_str().expect("id");
    let (code, _) = server.decide(&session, &task, id, json!({"decision": "deny", "message": "Not in this folder."})).await;
    assert_eq!(code, 200);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "a denied tool still completes: {done}");
    assert!(done["result"]["result"].as_str().is_some_and(|r| r.contains("Not in this folder.")), "the model read the reason: {done}");
    assert!(!target.exists(), "the denied write did not happen");

    // In dontAsk mode nothing is asked: the denial is listed, as before approvals existed.
    let (code, submitted) = server
        .post_json("/api/sessions/new/chat", &json!({"message": format!("#WRITE:{}", target.display()), "permission_mode": "dontAsk"}))
        .await;
    assert_eq!(code, 200, "{submitted}");
    let (task, session) = (submitted["task_id"].as_str().expect("id"), submitted["session_id"].as_str().expect("session"));
    let done = server.wait_finished(session, task, LONG).await;
    let denials = done["result"]["permission_denials"].as_array().cloned().unwrap_or_default();
    assert_eq!(denials.first().map(|d| d["tool_name"].clone()), Some(json!("Write")), "{done}");
    assert!(!target.exists());
}

#[tokio::test]
async fn a_write_waiting_across_a_server_kill_is_allowed_after_the_restart() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let target = dirs.project().join("allowed.txt");
    let (task, session) = server.submit("new", &format!("#WRITE:{}", target.display())).await;
    server.wait_for_approval(&session, &task).await;
    let pid = cli_pid(&session).await;
    server.kill();
    assert!(support::is_alive(pid), "the real CLI keeps waiting without the server");

    let server = start(&dirs, &claude, &api);
    let waiting = server.wait_for_approval(&session, &task).await;
    let id = waiting["pending_approvals"][0]["id"].as_str().expect("id");
    let (code, decided) = server.decide(&session, &task, id, json!({"decision": "allow"})).await;
    assert_eq!(code, 200, "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(target.exists(), "the allowed write happened");
    assert!(processes_in_group(pid).is_empty(), "the CLI was ended after its result");
}

#[tokio::test]
async fn a_question_is_answered_from_the_phone_and_the_model_reads_the_answer() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let (task, session) = server.submit("new", "#ASK").await;
    let (id, approval) = first_approval(&server, &session, &task).await;
    assert_eq!(approval["tool_name"], "AskUserQuestion", "{approval}");
    let question = &approval["input"]["questions"][0];
    assert_eq!(question["question"], anthropic::ASK_QUESTION, "{approval}");
    let labels: Vec<&str> = question["options"].as_array().expect("options").iter().filter_map(|o| o["label"].as_str()).collect();
    assert_eq!(labels, ["Red", "Blue"]);

    // Answering is allowing with the answers added to the input.
    let mut answered = approval["input"].clone();
    answered["answers"] = json!({ anthropic::ASK_QUESTION: "Blue" });
    let (code, decided) = server.decide(&session, &task, &id, json!({"decision": "allow", "updated_input": answered})).await;
    assert_eq!((code, decided["status"].as_str()), (200, Some("allowed")), "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    let reply = done["result"]["result"].as_str().unwrap_or("");
    assert!(reply.starts_with("Tool said: [is_error=false] Your questions have been answered"), "{reply}");
    assert!(reply.contains(r#""Which colour should the button be?"="Blue""#), "the model read the answer: {reply}");
}

#[tokio::test]
async fn a_plan_is_approved_or_sent_back_with_feedback() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);

    let (task, session) = submit_with(&server, json!({"message": "#PLAN", "permission_mode": "plan"})).await;
    let (id, approval) = first_approval(&server, &session, &task).await;
    assert_eq!((approval["tool_name"].as_str(), approval["input"]["plan"].as_str()), (Some("ExitPlanMode"), Some(anthropic::PLAN)), "{approval}");
    let (code, decided) = server.decide(&session, &task, &id, json!({"decision": "allow"})).await;
    assert_eq!(code, 200, "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    let reply = done["result"]["result"].as_str().unwrap_or("");
    assert!(reply.starts_with("Tool said: [is_error=false] User has approved your plan."), "{reply}");

    // Keep planning: a deny with feedback, which the model reads.
    let (task, session) = submit_with(&server, json!({"message": "#PLAN", "permission_mode": "plan"})).await;
    let (id, _) = first_approval(&server, &session, &task).await;
    let feedback = "Keep planning: also update the docs.";
    let (code, decided) = server.decide(&session, &task, &id, json!({"decision": "deny", "message": feedback})).await;
    assert_eq!((code, decided["status"].as_str()), (200, Some("denied")), "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], format!("Tool said: [is_error=true] {feedback}"), "{done}");
}

#[tokio::test]
async fn a_denied_command_is_shown_before_it_runs_and_the_model_reads_why() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let build = dirs.project().join("build");
    std::fs::create_dir_all(&build).expect("mkdir build");

    let (task, session) = server.submit("new", "#BASH:rm -rf build").await;
    let (id, approval) = first_approval(&server, &session, &task).await;
    assert_eq!((approval["tool_name"].as_str(), approval["input"]["command"].as_str()), (Some("Bash"), Some("rm -rf build")), "{approval}");
    let reason = "Not now: ask me after lunch.";
    let (code, _) = server.decide(&session, &task, &id, json!({"decision": "deny", "message": reason})).await;
    assert_eq!(code, 200);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], format!("Tool said: [is_error=true] {reason}"), "{done}");
    let denials = done["result"]["permission_denials"].as_array().cloned().unwrap_or_default();
    assert_eq!(denials.first().map(|d| d["tool_input"]["command"].clone()), Some(json!("rm -rf build")), "{done}");
    assert!(build.is_dir(), "the denied command did not run");
}

#[tokio::test]
async fn a_write_allowed_for_the_session_lets_the_next_write_through_unasked() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let (first, second) = (dirs.project().join("first.txt"), dirs.project().join("second.txt"));

    let (task, session) = server.submit("new", &format!("#WRITE:{}\n#WRITE:{}", first.display(), second.display())).await;
    let (id, approval) = first_approval(&server, &session, &task).await;
    assert_eq!(approval["input"]["file_path"].as_str(), first.to_str(), "{approval}");
    let (code, decided) = server.decide(&session, &task, &id, json!({"decision": "allow", "remember": "session"})).await;
    assert_eq!((code, decided["remember"].as_str()), (200, Some("session")), "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(first.exists() && second.exists(), "both writes happened: {done}");
    let reply = done["result"]["result"].as_str().unwrap_or("");
    assert!(reply.contains(&format!("File created successfully at: {}", second.display())), "{reply}");

    let (_, events) = server.get(&format!("/api/sessions/{session}/tasks/{task}/events?after=0")).await;
    let events = events["events"].as_array().cloned().unwrap_or_default();
    let asked = events.iter().filter(|e| e["event"]["type"] == "control_request").count();
    let writes = events.iter().filter(|e| e["event"]["type"] == "assistant" && e["event"]["message"]["content"][0]["name"] == "Write").count();
    assert_eq!((writes, asked), (2, 1), "two writes, one question");
}

/// What the phone shows as a task's changes comes from the real CLI's own records of its edits
/// (no git here to fall back on): an Edit, a NotebookEdit and a Write, each with its diff.
#[tokio::test]
async fn a_tasks_edits_by_the_real_cli_are_its_changes() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let (notes, book, new) = (dirs.project().join("notes.txt"), dirs.project().join("book.ipynb"), dirs.project().join("new.txt"));
    std::fs::write(&notes, "alpha\nbeta\ngamma\n").expect("notes");
    let notebook = json!({
        "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "source": ["print(1)"], "outputs": [], "execution_count": null}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5,
    });
    std::fs::write(&book, serde_json::to_string_pretty(&notebook).expect("json")).expect("notebook");
    let server = start(&dirs, &claude, &api);

    let (notes_path, book_path) = (notes.display(), book.display());
    let message = format!(
        "#READ:{notes_path}\n#EDIT:{notes_path}|beta|BETA\n#READ:{book_path}\n#NOTEBOOK:{book_path}|c1|print(2)\n#WRITE:{}",
        new.display()
    );
    let (code, submitted) =
        server.post_json("/api/sessions/new/chat", &json!({"message": message, "allowed_tools": ["Read", "Edit", "NotebookEdit", "Write"]})).await;
    assert_eq!(code, 200, "{submitted}");
    let (task, session) = (submitted["task_id"].as_str().expect("id"), submitted["session_id"].as_str().expect("session"));
    let done = server.wait_finished(session, task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(std::fs::read_to_string(&notes).ok().as_deref(), Some("alpha\nBETA\ngamma\n"), "the real CLI made the edit: {done}");

    let (code, changes) = server.get(&format!("/api/sessions/{session}/tasks/{task}/changes")).await;
    assert_eq!(code, 200, "{changes}");
    let files = changes["files"].as_array().cloned().unwrap_or_default();
    let file = |name: &str| files.iter().find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name))).cloned();
    let edited = file("notes.txt").unwrap_or_else(|| panic!("the Edit is a change: {changes}"));
    assert_eq!((edited["status"].as_str(), edited["added"].as_u64(), edited["removed"].as_u64()), (Some("modified"), Some(1), Some(1)), "{edited}");
    let diff = edited["diff"].as_str().unwrap_or("");
    assert!(diff.contains("-beta") && diff.contains("+BETA"), "{diff}");
    let written = file("new.txt").unwrap_or_else(|| panic!("the Write is a change: {changes}"));
    assert_eq!((written["status"].as_str(), written["added"].as_u64()), (Some("added"), Some(1)), "{written}");
    let notebook = file("book.ipynb").unwrap_or_else(|| panic!("the NotebookEdit is a change: {changes}"));
    assert_eq!(notebook["status"].as_str(), Some("modified"), "{notebook}");
    let diff = notebook["diff"].as_str().unwrap_or("");
    assert!(diff.contains("print(1)") && diff.contains("print(2)"), "the cell's old and new source: {diff}");
}

#[tokio::test]
async fn an_api_error_fails_with_its_message_and_option_like_messages_stay_text() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);
    let (task, session) = server.submit("new", "#ERR529 please").await;
    let done = server.wait_finished(&session, &task, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "failed", "{done}");
    let error = done["error"].as_str().unwrap_or("");
    assert!(error.contains("529"), "{error}");

    let (task, session) = server.submit("new", "--dangerously-skip-permissions --help").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Stand-in reply to: --dangerously-skip-permissions --help");
}

#[tokio::test]
async fn stopping_mid_run_leaves_no_process_and_a_killed_server_loses_nothing() {
    let Some(claude) = real_claude() else { return };
    let (dirs, api) = (Dirs::new(), anthropic::start().await);
    let server = start(&dirs, &claude, &api);

    let (task, session) = server.submit("new", "wait for me #SLOW=30").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    wait_for_request(&api, 1).await;
    let pgid = cli_pid(&session).await;
    assert!(!processes_in_group(pgid).is_empty());
    let (code, cancelled) = server.post_json(&format!("/api/sessions/{session}/tasks/{task}/cancel"), &Value::Null).await;
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert!(processes_in_group(pgid).is_empty(), "left behind: {:?}", processes_in_group(pgid));

    let (task, session) = server.submit("new", "outlive the server #SLOW=4").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    wait_for_request(&api, 2).await;
    server.kill();
    let server = start(&dirs, &claude, &api);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Stand-in reply to: outlive the server #SLOW=4");
}

/// Submits a chat body to a new session: `(task_id, session_id)`.
async fn submit_with(server: &Server, body: Value) -> (String, String) {
    let (code, submitted) = server.post_json("/api/sessions/new/chat", &body).await;
    assert_eq!(code, 200, "{submitted}");
    (submitted["task_id"].as_str().expect("id").to_owned(), submitted["session_id"].as_str().expect("session").to_owned())
}

/// Waits until the task asks, and checks it asks one thing: `(approval id, the approval)`.
async fn first_approval(server: &Server, session: &str, task: &str) -> (String, Value) {
    let waiting = server.wait_for_approval(session, task).await;
    let pending = waiting["pending_approvals"].as_array().cloned().unwrap_or_default();
    assert_eq!(pending.len(), 1, "{waiting}");
    (pending[0]["id"].as_str().expect("id").to_owned(), pending[0].clone())
}

async fn wait_for_request(api: &anthropic::StandInApi, count: usize) {
    for _ in 0..600 {
        if api.requests.lock().map(|r| r.len()).unwrap_or(0) >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the CLI never called the API");
}

/// The pid (and process group) of the CLI running `session`, found in `/proc` by its argv.
async fn cli_pid(session: &str) -> i32 {
    for _ in 0..200 {
        let found = support::proc_stats().into_iter().find(|s| {
            s.pid == s.pgrp
                && std::fs::read(format!("/proc/{}/cmdline", s.pid))
                    .map(|c| String::from_utf8_lossy(&c).contains(session))
                    .unwrap_or(false)
        });
        if let Some(process) = found {
            return process.pid;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no CLI process for session {session}");
}
