//! The original design's REST contract, driven over HTTP against the real server binary.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(20);

#[tokio::test]
async fn the_original_curl_flow_submits_polls_and_cleans_up() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);

    let (code, health) = read_plain(server.http.get(server.url("/health"))).await;
    assert_eq!(code, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["cli"]["found"], true);
    let (_, health) = server.get("/health").await;
    assert_eq!(health["cli"]["version"], "2.1.197", "signed in, the details: {health}");

    let (code, submitted) = server.post_json("/api/sessions/new/chat", &json!({"message": "Hello Claude"})).await;
    assert_eq!(code, 200);
    assert!(["processing", "queued"].contains(&submitted["status"].as_str().unwrap_or("")), "{submitted}");
    let task = submitted["task_id"].as_str().expect("task_id");
    let session = submitted["session_id"].as_str().expect("session_id is known at submit");

    let done = server.wait_finished("new", task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Fake reply to: Hello Claude");
    assert_eq!(done["result"]["session_id"], session, "the CLI ran in the session announced at submit");
    assert!(done["result"]["total_cost_usd"].as_f64().is_some());

    let (code, cleaned) = server.delete(&format!("/api/sessions/new/tasks/{task}")).await;
    assert_eq!((code, cleaned), (200, json!({"status": "cleaned"})));
    let (code, gone) = server.get(&format!("/api/sessions/new/tasks/{task}")).await;
    assert_eq!(code, 404);
    assert_eq!(gone["status"], "not_found");
}

#[tokio::test]
async fn the_original_javascript_example_works_without_a_content_type() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    // fetch(url, {method: 'POST', headers: {Authorization}, body: JSON.stringify({...})}) sends
    // text/plain.
    let response = server
        .http
        .post(server.url("/api/sessions/new/chat"))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", "text/plain;charset=UTF-8")
        .body(r#"{"message":"Debug this code"}"#)
        .send()
        .await
        .expect("POST");
    let (code, submitted) = support::read(response).await;
    assert_eq!(code, 200, "{submitted}");
    let task = submitted["task_id"].as_str().expect("task_id");
    let done = server.wait_finished("new", task, LONG).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["result"]["result"], "Fake reply to: Debug this code");
    let (code, _) = server.delete(&format!("/api/sessions/new/tasks/{task}")).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn resume_keeps_the_session_and_its_transcript_holds_both_turns() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, session) = server.submit("new", "first question").await;
    assert_eq!(server.wait_finished(&session, &first, LONG).await["status"], "completed");

    let (second, same_session) = server.submit(&session, "second question").await;
    assert_eq!(same_session, session);
    let done = server.wait_finished(&session, &second, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["session_id"], session.as_str());

    let resumed = dirs.invocations().into_iter().any(|inv| {
        let argv: Vec<&str> = inv["argv"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        argv.windows(2).any(|w| w == ["--resume", session.as_str()])
    });
    assert!(resumed, "the second task resumed the session");

    let (code, transcript) = server.get(&format!("/api/sessions/{session}/messages")).await;
    assert_eq!(code, 200);
    let texts: Vec<&str> = transcript["turns"].as_array().expect("turns").iter().filter_map(|t| t["text"].as_str()).collect();
    assert_eq!(texts, ["first question", "Fake reply to: first question", "second question", "Fake reply to: second question"]);

    let (code, listed) = server.get("/api/sessions").await;
    assert_eq!(code, 200);
    let first = &listed["sessions"][0];
    assert_eq!(first["session_id"], session.as_str());
    assert_eq!(first["display"], "first question");
    assert_eq!(first["last_prompt"], "second question");
    assert_eq!(first["project"], dirs.project().canonicalize().expect("canonical").to_string_lossy().as_ref());
    assert!(first["timestamp"].as_i64().is_some());
}

#[tokio::test]
async fn a_task_is_only_visible_under_new_or_its_own_session() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "whose task").await;
    server.wait_finished(&session, &task, LONG).await;
    let other = uuid::Uuid::new_v4();
    let (code, body) = server.get(&format!("/api/sessions/{other}/tasks/{task}")).await;
    assert_eq!((code, body["status"].as_str()), (404, Some("not_found")));
    let (code, _) = server.delete(&format!("/api/sessions/{other}/tasks/{task}")).await;
    assert_eq!(code, 404, "another session cannot delete it");
    let (code, _) = server.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn an_unknown_session_fails_with_the_cli_message() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let unknown = uuid::Uuid::new_v4().to_string();
    let (task, _) = server.submit(&unknown, "hello?").await;
    let done = server.wait_finished(&unknown, &task, LONG).await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap_or("");
    assert!(error.contains(&format!("No conversation found with session ID: {unknown}")), "{error}");
    // The CLI has no such session, but this service remembers the failed attempt.
    let (code, transcript) = server.get(&format!("/api/sessions/{unknown}/messages")).await;
    assert_eq!(code, 200);
    assert_eq!(transcript["turns"], serde_json::json!([]));
    assert_eq!(transcript["tasks"][0]["status"], "failed");
    let never_seen = uuid::Uuid::new_v4();
    let (code, body) = server.get(&format!("/api/sessions/{never_seen}/messages")).await;
    assert_eq!((code, body["status"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn bad_session_ids_and_bodies_get_clear_json_errors() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    for bad in ["--help", "..%2F..%2Fetc", "NEW", "c8672706d3ae4704b798f8e6faba515c", "%00"] {
        let (code, body) = server.post_json(&format!("/api/sessions/{bad}/chat"), &json!({"message": "hi"})).await;
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| e.contains("session_id")), "{bad}: {body}");
    }
    let (code, body) = server.get("/api/sessions/new/tasks/not-a-uuid").await;
    assert_eq!(code, 400, "{body}");

    let send = |content_type: &'static str, body: &'static str| {
        server
            .http
            .post(server.url("/api/sessions/new/chat"))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (code, body) = support::read(send("application/json", "{\"message\": ").await.expect("POST")).await;
    assert_eq!(code, 400, "malformed JSON: {body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("invalid JSON")));
    let (code, body) = support::read(send("application/json", "{\"text\": \"hi\"}").await.expect("POST")).await;
    assert_eq!(code, 400, "missing message: {body}");
    let (code, body) = support::read(send("application/x-www-form-urlencoded", "message=hi").await.expect("POST")).await;
    assert_eq!(code, 415, "form body: {body}");
    assert!(body["error"].is_string());

    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({"message": "bad\u{0}byte"})).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("NUL")));
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({"message": "hi", "max_turns": 0})).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({"message": "hi", "model": "--evil"})).await;
    assert_eq!(code, 400, "{body}");
    assert!(dirs.invocations().is_empty(), "nothing invalid reached the CLI");
}

#[tokio::test]
async fn oversized_messages_and_bodies_are_refused_with_413() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let message = "x".repeat(200 * 1024);
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({ "message": message })).await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("limit")), "{body}");

    let huge = format!("{{\"message\": \"{}\"}}", "y".repeat(3 * 1024 * 1024));
    // Its own connection: the server answers 413 and closes without reading the rest.
    let response = reqwest::Client::new()
        .post(server.url("/api/sessions/new/chat"))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("POST");
    let (code, body) = support::read(response).await;
    assert_eq!(code, 413, "{body}");
    assert!(body["error"].is_string());
    assert!(dirs.invocations().is_empty());

    // Just under the cap still runs.
    let fits = "z".repeat(100 * 1024 - 10);
    let (task, session) = server.submit("new", &fits).await;
    assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed");
}

#[tokio::test]
async fn messages_that_look_like_options_or_commands_reach_the_cli_as_text() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let tricky = ["-p", "--help", "--dangerously-skip-permissions", "--version", "/cost", "-", "-- --resume x"];
    for message in tricky {
        let (task, session) = server.submit("new", message).await;
        let done = server.wait_finished(&session, &task, LONG).await;
        assert_eq!(done["status"], "completed", "{message}: {done}");
        assert_eq!(done["result"]["result"], format!("Fake reply to: {message}"));
    }
    let invocations = dirs.invocations();
    assert_eq!(invocations.len(), tricky.len());
    let read: Vec<String> = dirs.messages().iter().filter_map(|m| m["message"].as_str().map(str::to_owned)).collect();
    assert_eq!(read, tricky, "each message reached the CLI's stdin as text, unchanged");
    let argv_of = |i: &Value| -> Vec<String> { i["argv"].as_array().expect("argv").iter().filter_map(Value::as_str).map(str::to_owned).collect() };
    for invocation in &invocations {
        let argv = argv_of(invocation);
        assert!(!argv.iter().any(|a| a == "--help" || a == "--version" || a.contains("dangerously") || a == "-"), "no message became an argument: {argv:?}");
    }
}

#[tokio::test]
async fn everything_but_health_and_config_needs_credentials() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    for path in ["/api/sessions", "/api/sessions/new/tasks/00000000-0000-4000-8000-000000000000"] {
        let response = server.http.get(server.url(path)).send().await.expect("GET");
        assert_eq!(response.status(), 401, "{path}");
        let challenge = response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert!(challenge.starts_with("Basic"), "{path}: {challenge}");
    }
    let response = server.http.get(server.url("/api/sessions")).basic_auth(USER, Some("wrong")).send().await.expect("GET");
    assert_eq!(response.status(), 401);
    let response = server.http.post(server.url("/api/sessions/new/chat")).json(&json!({"message": "hi"})).send().await.expect("POST");
    assert_eq!(response.status(), 401);

    let (code, config) = read_plain(server.http.get(server.url("/api/config"))).await;
    assert_eq!(code, 200);
    assert!(config["project_path"].is_null(), "no absolute path to strangers: {config}");
    assert_eq!(config["project_name"], "project");
    let (code, config) = server.get("/api/config").await;
    assert_eq!(code, 200);
    let canonical = dirs.project().canonicalize().expect("canonical");
    assert_eq!(config["project_path"], canonical.to_string_lossy().as_ref());
    assert!(dirs.invocations().is_empty());
}

#[tokio::test]
async fn the_legacy_sync_chat_answers_while_other_requests_stay_fast() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let body = json!({"message": "take your time #SLOW=2"});
    let slow = server.post_json("/api/chat", &body);
    let quick = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let (code, _) = server.get("/api/sessions").await;
        (code, started.elapsed())
    };
    let ((code, answer), (quick_code, quick_time)) = tokio::join!(slow, quick);
    assert_eq!(quick_code, 200);
    assert!(quick_time < Duration::from_millis(1500), "a listing waited {quick_time:?} behind the sync chat");
    assert_eq!(code, 200, "{answer}");
    assert_eq!(answer["success"], true);
    assert_eq!(answer["response"], "Fake reply to: take your time #SLOW=2");
    assert_eq!(answer["turns"], 1);
    assert!(answer["cost"].as_f64().is_some());
    let session = answer["session_id"].as_str().expect("session_id");

    let (code, again) = server.post_json("/api/chat", &json!({"message": "and again", "session_id": session})).await;
    assert_eq!(code, 200);
    assert_eq!(again["session_id"], session);
    assert_eq!(again["success"], true);
}

#[tokio::test]
async fn the_legacy_sync_chat_gives_up_waiting_but_not_the_task() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--sync-chat-timeout-secs", "1"]);
    let (code, answer) = server.post_json("/api/chat", &json!({"message": "long one #SLOW=3"})).await;
    assert_eq!(code, 200);
    assert_eq!(answer["success"], false);
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("still running")), "{answer}");
    let task = answer["task_id"].as_str().expect("task_id");
    let done = server.wait_finished("new", task, LONG).await;
    assert_eq!(done["status"], "completed");
}

async fn read_plain(request: reqwest::RequestBuilder) -> (u16, Value) {
    support::read(request.send().await.expect("request")).await
}
