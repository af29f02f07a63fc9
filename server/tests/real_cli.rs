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
