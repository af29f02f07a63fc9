//! Steering from the phone: a tool the CLI asks permission for waits in the task's poll, and a
//! decision through the REST route reaches the waiting CLI, against the real server binary and the
//! fake CLI speaking the control protocol over its stdin.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};

use support::{processes_in_group, Dirs, Server};

const LONG: Duration = Duration::from_secs(30);

async fn wait_for_approval(server: &Server, session: &str, task: &str) -> Value {
    server.wait_for_approval(session, task).await
}

async fn decide(server: &Server, session: &str, task: &str, id: &str, body: Value) -> (u16, Value) {
    server.decide(session, task, id, body).await
}

fn project_file(dirs: &Dirs, name: &str) -> String {
    dirs.project().join(name).to_string_lossy().into_owned()
}

async fn event_lines(server: &Server, session: &str, task: &str) -> Vec<Value> {
    let (_, events) = server.get(&format!("/api/sessions/{session}/tasks/{task}/events?after=0")).await;
    events["events"].as_array().cloned().unwrap_or_default().into_iter().map(|e| e["event"].clone()).collect()
}

#[tokio::test]
async fn an_allowed_write_runs_and_the_event_stream_carries_request_and_decision() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let path = project_file(&dirs, "hello.txt");
    let (task, session) = server.submit("new", &format!("#WRITE:{path}")).await;
    let waiting = wait_for_approval(&server, &session, &task).await;
    assert_eq!(waiting["status"], "processing");
    let approval = &waiting["pending_approvals"][0];
    assert_eq!((approval["tool_name"].as_str(), approval["input"]["file_path"].as_str()), (Some("Write"), Some(path.as_str())), "{approval}");
    assert!(approval["suggestions"].as_array().is_some_and(|s| !s.is_empty()) && approval["requested_at"].is_i64(), "{approval}");
    assert!(!std::path::Path::new(&path).exists(), "nothing is written before the decision");

    let id = approval["id"].as_str().expect("id");
    let (code, decided) = decide(&server, &session, &task, id, json!({"decision": "allow"})).await;
    assert_eq!((code, decided["status"].as_str(), decided["tool_name"].as_str()), (200, Some("allowed"), Some("Write")), "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "written by fake\n");
    assert!(done.get("pending_approvals").is_none(), "nothing waits once it ended: {done}");

    let lines = event_lines(&server, &session, &task).await;
    let request = lines.iter().position(|l| l["type"] == "control_request").expect("the request is in the stream");
    let decision = lines.iter().position(|l| l["subtype"] == "approval_decided").expect("the decision is in the stream");
    let result = lines.iter().position(|l| l["type"] == "result").expect("the result");
    assert!(request < decision && decision < result, "in order: {request} {decision} {result}");
    assert_eq!((lines[decision]["behavior"].as_str(), lines[decision]["by"].as_str()), (Some("allow"), Some(support::USER)));

    let (_, audit) = server.get("/api/audit").await;
    let entry = audit["entries"].as_array().expect("entries").iter().find(|e| e["event"] == "approval_allowed").cloned().expect("audited");
    assert_eq!(entry["task_id"], task.as_str());
    assert!(entry["detail"].as_str().is_some_and(|d| d.contains("hello.txt")), "{entry}");
    let submitted = audit["entries"].as_array().expect("entries").iter().filter(|e| e["event"] == "task_submitted" && e["task_id"] == task.as_str()).count();
    assert_eq!(submitted, 1, "the submit is audited, once: {audit}");
}

#[tokio::test]
async fn a_denied_command_tells_the_model_why_and_a_second_decision_gets_409() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "#BASH:touch ran.txt").await;
    let waiting = wait_for_approval(&server, &session, &task).await;
    let id = waiting["pending_approvals"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(waiting["pending_approvals"][0]["input"]["command"], "touch ran.txt");

    for (body, code) in [(json!({"decision": "maybe"}), 400), (json!({"decision": "deny", "extra": 1}), 400), (json!({"decision": "deny", "updated_input": {}}), 400)] {
        assert_eq!(decide(&server, &session, &task, &id, body.clone()).await.0, code, "{body}");
    }
    assert_eq!(decide(&server, &session, &task, "no-such-request", json!({"decision": "allow"})).await.0, 404);
    assert_eq!(decide(&server, &session, &task, "..%2Fx", json!({"decision": "allow"})).await.0, 404);
    let other = uuid::Uuid::new_v4();
    assert_eq!(decide(&server, &other.to_string(), &task, &id, json!({"decision": "allow"})).await.0, 404, "another session's task");

    let (code, decided) = decide(&server, &session, &task, &id, json!({"decision": "deny", "message": "Not now: ask me after lunch."})).await;
    assert_eq!((code, decided["status"].as_str()), (200, Some("denied")), "{decided}");
    let (code, again) = decide(&server, &session, &task, &id, json!({"decision": "allow"})).await;
    assert_eq!(code, 409, "{again}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["result"]["result"].as_str().is_some_and(|r| r.contains("Not now: ask me after lunch.")), "{done}");
    assert!(!dirs.project().join("ran.txt").exists(), "the denied command never ran");
    assert_eq!(decide(&server, &session, &task, &id, json!({"decision": "allow"})).await.0, 409, "its task has ended");
}

#[tokio::test]
async fn allow_for_this_session_applies_the_clis_suggestion_and_it_stops_asking() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, second) = (project_file(&dirs, "one.txt"), project_file(&dirs, "two.txt"));
    let (task, session) = server.submit("new", &format!("#WRITE:{first} #WRITE:{second}")).await;
    let waiting = wait_for_approval(&server, &session, &task).await;
    let id = waiting["pending_approvals"][0]["id"].as_str().expect("id").to_owned();
    let (code, decided) = decide(&server, &session, &task, &id, json!({"decision": "allow", "remember": "session"})).await;
    assert_eq!((code, decided["remember"].as_str()), (200, Some("session")), "{decided}");
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(std::path::Path::new(&first).exists() && std::path::Path::new(&second).exists());
    let asked = event_lines(&server, &session, &task).await.iter().filter(|l| l["type"] == "control_request").count();
    assert_eq!(asked, 1, "the second Write was allowed by the remembered rule");
}

#[tokio::test]
async fn an_unanswered_approval_is_denied_after_the_timeout_with_a_message_saying_so() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--approval-timeout", "2s"]);
    let (task, session) = server.submit("new", "#BASH:touch late.txt").await;
    wait_for_approval(&server, &session, &task).await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    let reply = done["result"]["result"].as_str().unwrap_or_default();
    assert!(reply.contains("No answer within 2s"), "{reply}");
    assert!(!dirs.project().join("late.txt").exists());
    let (_, audit) = server.get("/api/audit").await;
    assert!(audit["entries"].as_array().expect("entries").iter().any(|e| e["event"] == "approval_denied" && e["username"] == "approval timeout"), "{audit}");
}

#[tokio::test]
async fn cancelling_a_task_that_waits_on_an_approval_stops_it_at_once_leaving_no_process() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "#BASH:touch never.txt").await;
    wait_for_approval(&server, &session, &task).await;
    let pid = support::wait_for_pid(&dirs).await;
    let started = Instant::now();
    let (code, cancelled) = server.post_json(&format!("/api/sessions/{session}/tasks/{task}/cancel"), &Value::Null).await;
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    println!("cancel of a waiting task answered in {:?}", started.elapsed());
    assert!(processes_in_group(pid).is_empty(), "the CLI's group is gone");
    assert!(cancelled.get("pending_approvals").is_none(), "{cancelled}");
    assert!(!dirs.project().join("never.txt").exists());
}

#[tokio::test]
async fn a_question_waiting_across_a_server_kill_is_answered_after_the_restart() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let path = project_file(&dirs, "after-restart.txt");
    let (task, session) = server.submit("new", &format!("#WRITE:{path}")).await;
    let before = wait_for_approval(&server, &session, &task).await;
    let pid = support::wait_for_pid(&dirs).await;
    server.kill();
    assert!(support::is_alive(pid), "the CLI keeps waiting without the server");

    let server = Server::start(&dirs);
    let after = wait_for_approval(&server, &session, &task).await;
    assert_eq!(after["pending_approvals"], before["pending_approvals"], "the same request still waits");
    let id = after["pending_approvals"][0]["id"].as_str().expect("id");
    let (code, _) = decide(&server, &session, &task, id, json!({"decision": "allow"})).await;
    assert_eq!(code, 200);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "written by fake\n");
    assert!(processes_in_group(pid).is_empty(), "no CLI lingers after its result");
}

#[tokio::test]
async fn dont_ask_keeps_the_non_interactive_behaviour() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let path = project_file(&dirs, "quiet.txt");
    let (code, submitted) = server.post_json("/api/sessions/new/chat", &json!({"message": format!("#WRITE:{path}"), "permission_mode": "dontAsk"})).await;
    assert_eq!(code, 200, "{submitted}");
    let (task, session) = (submitted["task_id"].as_str().expect("task"), submitted["session_id"].as_str().expect("session"));
    let done = server.wait_finished(session, task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["result"]["permission_denials"].as_array().is_some_and(|d| !d.is_empty()), "{done}");
    assert!(!std::path::Path::new(&path).exists());
    assert!(!event_lines(&server, session, task).await.iter().any(|l| l["type"] == "control_request"));
}

#[tokio::test]
async fn a_finished_task_leaves_no_cli_waiting_for_more_input() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "just answer").await;
    assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed");
    let pid = support::wait_for_pid(&dirs).await;
    assert!(processes_in_group(pid).is_empty(), "the CLI was ended after its result");
    let leftovers: Vec<_> = std::fs::read_dir(dirs.data().join("spool")).map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(leftovers.is_empty(), "no output or input file is left: {leftovers:?}");
}

#[tokio::test]
async fn a_waiting_client_hears_of_a_new_request_at_once_not_at_the_end_of_its_wait() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    // The legacy synchronous call waits up to 90 s for the task's end; a request ends the wait.
    let started = Instant::now();
    let (code, answer) = server.post_json("/api/chat", &json!({"message": format!("#WRITE:{}", project_file(&dirs, "legacy.txt"))})).await;
    let waited = started.elapsed();
    assert_eq!(code, 200, "{answer}");
    println!("a request reached a waiting client after {waited:?}");
    assert!(waited < Duration::from_secs(20), "answered at the request, not after the 90 s wait: {waited:?}");
    assert_eq!((answer["status"].as_str(), answer["success"].as_bool()), (Some("processing"), Some(false)), "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("waiting for your decision on Write")), "{answer}");
    let id = answer["pending_approvals"][0]["id"].as_str().expect("the request");
    let (session, task) = (answer["session_id"].as_str().expect("session"), answer["task_id"].as_str().expect("task"));
    assert_eq!(decide(&server, session, task, id, json!({"decision": "deny"})).await.0, 200);
    assert_eq!(server.wait_finished(session, task, LONG).await["status"], "completed");
}
