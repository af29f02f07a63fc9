//! Faults of the machine the server must ride out: another process holding the database, and a
//! database (or disk) that is full.

mod support;

use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::{stand_in_cli, Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);

/// Far above what an answer takes here (milliseconds), far below the hang a stalled store caused
/// (`/health` never answered; a submit took 5–15 s to fail).
const PROMPT: Duration = Duration::from_secs(4);

fn database(dirs: &Dirs) -> PathBuf {
    dirs.data().join("claude-remote.db")
}

/// A stand-in CLI that prints a valid run (shapes from the `stream_simple` fixture) whose
/// assistant lines add up to `bytes`, then waits `linger` seconds before its result: a task still
/// at work when its output stops fitting.
fn wordy_cli(dirs: &Dirs, bytes: usize, linger: u64) -> PathBuf {
    let body = format!(
        r#"out.write(json.dumps(init) + "\n")
written = 0
while written < {bytes}:
    # Random text: stored lines are compressed, and this output must really take room.
    assistant["message"]["content"] = [{{"type": "text", "text": base64.b64encode(os.urandom(3000)).decode()}}]
    line = json.dumps(assistant) + "\n"
    out.write(line)
    written += len(line)
out.flush()
time.sleep({linger})
out.write(json.dumps(result) + "\n")"#
    );
    stand_in_cli(dirs, "wordy-claude", &body)
}

/// How long `request` took to answer, with its status.
async fn timed(request: reqwest::RequestBuilder) -> (u16, Duration, reqwest::Response) {
    let started = Instant::now();
    let response = request.timeout(LONG).send().await.expect("an answer");
    (response.status().as_u16(), started.elapsed(), response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_held_by_another_process_leaves_reads_answering_and_fails_writes_with_503() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "before the stall").await;
    server.wait_finished(&session, &task, LONG).await;

    // Another process takes the write lock and keeps it, as a backup tool or a stray `sqlite3`
    // shell would.
    let holder = rusqlite::Connection::open(database(&dirs)).expect("open the database");
    holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO audit (at, event) VALUES (0, 'held');").expect("hold the write lock");

    let (code, took, _) = timed(server.http.get(server.url("/health"))).await;
    assert_eq!(code, 200);
    assert!(took < PROMPT, "/health took {took:?} while the database was held");
    let poll = server.http.get(server.url(&format!("/api/sessions/{session}/tasks/{task}"))).basic_auth(USER, Some(PASSWORD));
    let (code, took, _) = timed(poll).await;
    assert_eq!(code, 200, "a poll reads");
    assert!(took < PROMPT, "a poll took {took:?}");
    let lines = server.http.get(server.url(&format!("/api/sessions/{session}/tasks/{task}/events?after=0"))).basic_auth(USER, Some(PASSWORD));
    let (code, took, response) = timed(lines).await;
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(code, 200, "stored lines are read: {body}");
    assert!(!body["events"].as_array().is_none_or(Vec::is_empty), "{body}");
    assert!(took < PROMPT, "reading lines took {took:?}");

    let submit = server
        .http
        .post(server.url("/api/sessions/new/chat"))
        .basic_auth(USER, Some(PASSWORD))
        .json(&json!({ "message": "during the stall" }));
    let (code, took, response) = timed(submit).await;
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(code, 503, "a write the store cannot take: {body}");
    assert!(body["error"].as_str().unwrap_or("").contains("busy"), "{body}");
    assert!(retry_after.is_some(), "the client is told when to retry");
    assert!(took < PROMPT + Duration::from_secs(2), "the refusal took {took:?}");
    let (code, took, _) = timed(server.http.get(server.url("/health"))).await;
    assert!(code == 200 && took < PROMPT, "/health after the refused write: {code} in {took:?}");

    holder.execute_batch("ROLLBACK").expect("release the lock");
    let (task, session) = server.submit("new", "after the stall").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_that_no_longer_fits_ends_the_task_as_disk_full_and_space_made_lets_work_resume() {
    let dirs = Dirs::new();
    // 3 MB of lines against a 1 MB database; the CLI would then linger a minute.
    let server = Server::launch(&dirs, &wordy_cli(&dirs, 3_000_000, 60), &["--max-database-mb", "1"], &[]);
    let (task, session) = server.submit("new", "print a lot").await;
    let ended = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(ended["error"].as_str().unwrap_or("").starts_with("disk full"), "{ended}");

    // Signing in still works.
    let form = server.http.post(server.url("/api/fn/sign_in")).form(&[("username", USER), ("password", PASSWORD)]);
    let response = form.send().await.expect("sign in");
    assert!(response.status().is_success() || response.status().is_redirection(), "sign-in: {}", response.status());
    assert!(response.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap_or("").starts_with("cr_session=")), "a session cookie");

    // Deleting the task gives its room back; the next task completes.
    let (code, body) = server.delete(&format!("/api/sessions/{session}/tasks/{task}")).await;
    assert!(code < 300, "{body}");
    server.kill();
    let server = Server::start_with(&dirs, &["--max-database-mb", "1"]);
    let (task, session) = server.submit("new", "a small one").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
}
