//! Sessions that tell their state: the list's state, cost and spend, a title of the user's own,
//! archive and delete, against the real server binary and the fake CLI.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use support::{Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);
/// What the fake CLI's reply costs.
const FAKE_COST: f64 = 0.000175;

async fn listed(server: &Server, query: &str) -> Value {
    let (code, body) = server.get(&format!("/api/sessions{query}")).await;
    assert_eq!(code, 200, "{body}");
    body
}

async fn entry(server: &Server, query: &str, session: &str) -> Option<Value> {
    listed(server, query).await["sessions"].as_array().expect("sessions").iter().find(|s| s["session_id"] == session).cloned()
}

async fn patch(server: &Server, session: &str, body: &str) -> (u16, Value) {
    let response = server
        .http
        .patch(server.url(&format!("/api/sessions/{session}")))
        .basic_auth(USER, Some(PASSWORD))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("PATCH");
    support::read(response).await
}

/// The CLI's transcript of `session`, wherever the CLI put the project's folder, once it has
/// written it (when its run starts).
async fn transcript_file(dirs: &Dirs, session: &str) -> PathBuf {
    let projects = dirs.claude_home().join("projects");
    for _ in 0..400 {
        let folders = std::fs::read_dir(&projects).into_iter().flatten().filter_map(Result::ok);
        if let Some(path) = folders.map(|folder| folder.path().join(format!("{session}.jsonl"))).find(|path| path.exists()) {
            return path;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no transcript of {session} under {}", projects.display());
}

async fn finished_session(server: &Server, message: &str) -> String {
    let (task, session) = server.submit("new", message).await;
    assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed");
    session
}

#[tokio::test]
async fn a_finished_task_gives_its_session_a_state_and_a_cost_and_the_list_the_spend() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let session = finished_session(&server, "count the lines").await;
    let (failed_task, failed) = server.submit("new", "break #CRASH").await;
    server.wait_finished(&failed, &failed_task, LONG).await;

    let done = entry(&server, "", &session).await.expect("listed");
    assert_eq!((done["state"].as_str(), done["title"].as_str(), done["archived"].as_bool()), (Some("completed"), Some("count the lines"), Some(false)), "{done}");
    assert!((done["cost_usd"].as_f64().unwrap_or(0.0) - FAKE_COST).abs() < 1e-9, "{done}");
    for original in ["display", "project", "timestamp", "last_prompt"] {
        assert!(done.get(original).is_some(), "the original field {original} stays: {done}");
    }
    assert!(done.get("custom_title").is_none(), "{done}");
    assert_eq!(entry(&server, "", &failed).await.expect("listed")["state"], "failed");

    // Both ended just now: in any time zone that is today and this month.
    for offset in ["", "?utc_offset_minutes=0", "?utc_offset_minutes=840", "?utc_offset_minutes=-720"] {
        let spend = listed(&server, offset).await["spend"].clone();
        assert!((spend["today_usd"].as_f64().unwrap_or(0.0) - FAKE_COST).abs() < 1e-9, "{offset}: {spend}");
        assert_eq!(spend["today_usd"], spend["month_usd"], "{offset}: {spend}");
    }
    for bad in ["?utc_offset_minutes=abc", "?utc_offset_minutes=100000", "?utc_offset_minutes=1.5", "?archived=yes"] {
        let (code, body) = server.get(&format!("/api/sessions{bad}")).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn a_running_task_shows_running_and_one_waiting_on_a_question_shows_waiting() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (slow, session) = server.submit("new", "think hard #SLOW=20").await;
    server.wait_status(&session, &slow, "processing", LONG).await;
    server.submit(&session, "and then this").await;
    let running = entry(&server, "", &session).await.expect("listed while it runs");
    assert_eq!(running["state"], "running", "the running task, not the one queued behind it: {running}");
    assert!(running.get("cost_usd").is_none(), "nothing has cost anything yet: {running}");

    let (asking, asked) = server.submit("new", "pick one #ASK").await;
    server.wait_for_approval(&asked, &asking).await;
    assert_eq!(entry(&server, "", &asked).await.expect("listed")["state"], "waiting");

    let (code, _) = server.post_json(&format!("/api/sessions/{session}/tasks/{slow}/cancel"), &Value::Null).await;
    assert_eq!(code, 200);
    let (code, _) = server.post_json(&format!("/api/sessions/{asked}/tasks/{asking}/cancel"), &Value::Null).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn a_title_of_the_users_own_is_set_listed_and_cleared() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let session = finished_session(&server, "refactor the parser").await;

    let (code, renamed) = patch(&server, &session, r#"{"title": "  Parser work  "}"#).await;
    assert_eq!(code, 200, "{renamed}");
    assert_eq!((renamed["title"].as_str(), renamed["custom_title"].as_str()), (Some("Parser work"), Some("Parser work")), "{renamed}");
    assert_eq!(renamed["display"], "refactor the parser", "the first prompt is still there");
    assert_eq!(renamed["state"], "completed");
    assert_eq!(entry(&server, "", &session).await.expect("listed")["title"], "Parser work");

    for clear in [r#"{"title": null}"#, r#"{"title": "   "}"#] {
        patch(&server, &session, r#"{"title": "again"}"#).await;
        let (code, cleared) = patch(&server, &session, clear).await;
        assert_eq!((code, cleared["title"].as_str()), (200, Some("refactor the parser")), "{clear}: {cleared}");
        assert!(cleared.get("custom_title").is_none(), "{cleared}");
    }

    let long = format!(r#"{{"title": "{}"}}"#, "x".repeat(201));
    for bad in [long.as_str(), r#"{"title": "two\nlines"}"#, r#"{"name": "x"}"#, r#"{"archived": "yes"}"#, "not json"] {
        let (code, body) = patch(&server, &session, bad).await;
        assert_eq!(code, 400, "{bad}: {body}");
    }
    assert_eq!(patch(&server, &uuid::Uuid::new_v4().to_string(), r#"{"title": "x"}"#).await.0, 404);
    assert_eq!(patch(&server, "not-a-session", r#"{"title": "x"}"#).await.0, 400);
    assert_eq!(entry(&server, "", &session).await.expect("listed")["title"], "refactor the parser", "refused edits changed nothing");
}

#[tokio::test]
async fn an_archived_session_leaves_the_list_and_is_listed_with_archived_true() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let kept = finished_session(&server, "keep me").await;
    let shelved = finished_session(&server, "shelve me").await;

    let (code, archived) = patch(&server, &shelved, r#"{"archived": true}"#).await;
    assert_eq!((code, archived["archived"].as_bool()), (200, Some(true)), "{archived}");
    assert!(entry(&server, "", &shelved).await.is_none(), "hidden from the list");
    assert!(entry(&server, "", &kept).await.is_some());
    let only_archived = listed(&server, "?archived=true").await;
    let ids: Vec<&str> = only_archived["sessions"].as_array().expect("sessions").iter().filter_map(|s| s["session_id"].as_str()).collect();
    assert_eq!(ids, [shelved.as_str()]);

    let (code, back) = patch(&server, &shelved, r#"{"archived": false}"#).await;
    assert_eq!((code, back["archived"].as_bool()), (200, Some(false)));
    assert!(entry(&server, "", &shelved).await.is_some(), "back in the list");
    assert!(listed(&server, "?archived=true").await["sessions"].as_array().is_some_and(Vec::is_empty));
}

#[tokio::test]
async fn deleting_a_session_keeps_the_clis_transcript_unless_asked() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "forget me").await;
    server.wait_finished(&session, &task, LONG).await;
    let transcript = transcript_file(&dirs, &session).await;
    let spent = listed(&server, "").await["spend"].clone();

    let (code, body) = server.delete(&format!("/api/sessions/{session}")).await;
    assert_eq!(code, 204, "{body}");
    assert_eq!(listed(&server, "").await["spend"], spent, "money spent stays spent");
    assert!(transcript.exists(), "the CLI's transcript is left alone");
    assert!(entry(&server, "", &session).await.is_none() && entry(&server, "?archived=true", &session).await.is_none(), "hidden");
    assert_eq!(server.get(&format!("/api/sessions/{session}/tasks/{task}")).await.0, 404, "its tasks are forgotten");
    assert_eq!(patch(&server, &session, r#"{"title": "x"}"#).await.0, 404, "a deleted session is gone");
    let (_, audit) = server.get("/api/audit").await;
    let deleted = audit["entries"].as_array().expect("entries").iter().find(|e| e["event"] == "session_deleted").cloned().expect("audited");
    assert_eq!(deleted["session_id"], session.as_str());
    assert!(deleted["detail"].as_str().is_some_and(|d| d.contains("transcript kept")), "{deleted}");

    // Resumed (its transcript was kept), it is listed again.
    let (next, _) = server.submit(&session, "remember me after all").await;
    server.wait_finished(&session, &next, LONG).await;
    assert!(entry(&server, "", &session).await.is_some());

    let (code, _) = server.delete(&format!("/api/sessions/{session}?transcript=true")).await;
    assert_eq!(code, 204);
    assert!(!transcript.exists(), "asked for, the transcript goes too");
    assert!(entry(&server, "", &session).await.is_none());

    assert_eq!(server.delete(&format!("/api/sessions/{}", uuid::Uuid::new_v4())).await.0, 404);
    assert_eq!(server.delete("/api/sessions/new").await.0, 400);
    let other = finished_session(&server, "another").await;
    assert_eq!(server.delete(&format!("/api/sessions/{other}?transcript=maybe")).await.0, 400);
}

#[tokio::test]
async fn the_transcript_of_a_running_session_is_not_deleted_but_the_session_can_be() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "long job #SLOW=30").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    let transcript = transcript_file(&dirs, &session).await;

    let (code, body) = server.delete(&format!("/api/sessions/{session}?transcript=true")).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(entry(&server, "", &session).await.expect("still listed")["state"], "running");

    let (code, _) = server.delete(&format!("/api/sessions/{session}")).await;
    assert_eq!(code, 204);
    assert_eq!(server.get(&format!("/api/sessions/{session}/tasks/{task}")).await.0, 404);
    server.wait_idle().await;
    assert!(transcript.exists());
    assert!(entry(&server, "", &session).await.is_none());
}

#[tokio::test]
async fn the_openapi_document_names_the_new_routes() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (_, document) = server.get("/api/openapi.json").await;
    let path = &document["paths"]["/api/sessions/{session_id}"];
    assert!(path.get("patch").is_some() && path.get("delete").is_some(), "{path}");
}
