//! Every project on the machine: sessions chosen per project, listed per project and together,
//! found by search, each run in its own folder; nothing outside the roots is run in. Against the
//! real server binary and the fake CLI (which records the folder it ran in).

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{Dirs, Server};

const LONG: Duration = Duration::from_secs(30);

/// `repos/alpha` and `repos/beta` under the test's folder, with `repos` as the projects root;
/// the default project (`project/`) lies outside it.
struct Setup {
    dirs: Dirs,
    server: Server,
    alpha: PathBuf,
    beta: PathBuf,
}

fn setup() -> Setup {
    let dirs = Dirs::new();
    let repos = dirs.root.path().join("repos");
    for name in ["alpha", "beta"] {
        std::fs::create_dir_all(repos.join(name)).expect("mkdir");
    }
    let repos = std::fs::canonicalize(repos).expect("canonical");
    let server = Server::start_with(&dirs, &["--projects-root", repos.to_str().expect("utf-8")]);
    Setup { alpha: repos.join("alpha"), beta: repos.join("beta"), dirs, server }
}

fn text(path: &Path) -> String {
    path.to_str().expect("utf-8").to_owned()
}

async fn submit_in(server: &Server, session: &str, message: &str, project: Option<&str>) -> (u16, Value) {
    let mut body = json!({ "message": message });
    if let Some(project) = project {
        body["project"] = json!(project);
    }
    server.post_json(&format!("/api/sessions/{session}/chat"), &body).await
}

/// Submits and waits for the task to complete: its session id.
async fn run_in(server: &Server, session: &str, message: &str, project: Option<&str>) -> String {
    let (code, body) = submit_in(server, session, message, project).await;
    assert_eq!(code, 200, "{body}");
    let (task, session) = (body["task_id"].as_str().expect("task"), body["session_id"].as_str().expect("session"));
    assert_eq!(server.wait_finished(session, task, LONG).await["status"], "completed");
    session.to_owned()
}

/// The folder the CLI ran in when it was given `message`.
fn cwd_of(dirs: &Dirs, message: &str) -> PathBuf {
    let pid = dirs
        .messages()
        .into_iter()
        .find(|m| m["message"].as_str().is_some_and(|t| t.contains(message)))
        .and_then(|m| m["pid"].as_i64())
        .unwrap_or_else(|| panic!("no CLI read {message:?}"));
    let invocation = dirs.invocations().into_iter().find(|i| i["pid"].as_i64() == Some(pid)).expect("its invocation");
    PathBuf::from(invocation["cwd"].as_str().expect("cwd"))
}

async fn projects(server: &Server) -> Vec<Value> {
    let (code, body) = server.get("/api/projects").await;
    assert_eq!(code, 200, "{body}");
    body.as_array().expect("a list").clone()
}

async fn project_at(server: &Server, path: &Path) -> Value {
    projects(server).await.into_iter().find(|p| p["path"] == text(path)).unwrap_or_else(|| panic!("{} is not listed", path.display()))
}

async fn listed(server: &Server, query: &str) -> Vec<Value> {
    let (code, body) = server.get(&format!("/api/sessions{query}")).await;
    assert_eq!(code, 200, "{body}");
    body["sessions"].as_array().expect("sessions").clone()
}

fn ids(sessions: &[Value]) -> Vec<&str> {
    sessions.iter().filter_map(|s| s["session_id"].as_str()).collect()
}

#[tokio::test]
async fn sessions_run_in_their_own_project_and_are_listed_per_project_and_together() {
    let Setup { dirs, server, alpha, beta } = setup();
    let listed_first = projects(&server).await;
    assert_eq!(listed_first.len(), 1, "only the default project until another is known: {listed_first:?}");
    let default = &listed_first[0];
    assert_eq!((default["default"].as_bool(), default["name"].as_str()), (Some(true), Some("project")), "{default}");

    // By path, by id (a folder added first), and the default.
    let in_alpha = run_in(&server, "new", "work on alpha", Some(&text(&alpha))).await;
    let (code, added) = server.post_json("/api/projects", &json!({ "path": text(&beta) })).await;
    assert_eq!(code, 200, "{added}");
    assert_eq!((added["name"].as_str(), added["default"].as_bool(), added["sessions"].as_u64()), (Some("beta"), Some(false), Some(0)), "{added}");
    let beta_id = added["id"].as_str().expect("id").to_owned();
    let in_beta = run_in(&server, "new", "work on beta", Some(&beta_id)).await;
    let in_default = run_in(&server, "new", "work on the default", None).await;

    assert_eq!(cwd_of(&dirs, "work on alpha"), alpha);
    assert_eq!(cwd_of(&dirs, "work on beta"), beta);
    assert_eq!(cwd_of(&dirs, "work on the default"), std::fs::canonicalize(dirs.project()).expect("canonical"));

    let all = projects(&server).await;
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.windows(2).all(|w| w[0]["last_activity"].as_i64() >= w[1]["last_activity"].as_i64()), "most recent first: {all:?}");
    let alpha_listed = project_at(&server, &alpha).await;
    assert_eq!(alpha_listed["sessions"], 1, "{alpha_listed}");
    assert!(alpha_listed["last_activity"].as_i64().is_some(), "{alpha_listed}");
    assert_eq!(project_at(&server, &beta).await["id"], beta_id, "an id stays the same");

    let alpha_id = alpha_listed["id"].as_str().expect("id");
    let only_alpha = listed(&server, &format!("?project={alpha_id}")).await;
    assert_eq!(ids(&only_alpha), [in_alpha.as_str()]);
    let entry = &only_alpha[0];
    assert_eq!((entry["project_id"].as_str(), entry["project_name"].as_str()), (Some(alpha_id), Some("alpha")), "{entry}");
    assert_eq!(entry["project"], text(&alpha), "the original's field keeps the folder's path: {entry}");
    assert_eq!(ids(&listed(&server, &format!("?project={beta_id}")).await), [in_beta.as_str()]);

    let together = listed(&server, "").await;
    for session in [&in_alpha, &in_beta, &in_default] {
        assert!(ids(&together).contains(&session.as_str()), "{session} is listed with the others: {together:?}");
    }
    // A session's transcript is found in whichever project it is.
    let (code, transcript) = server.get(&format!("/api/sessions/{in_beta}/messages")).await;
    assert_eq!(code, 200, "{transcript}");
    assert!(transcript["turns"].to_string().contains("work on beta"), "{transcript}");
}

#[tokio::test]
async fn paths_outside_the_roots_are_refused_and_nothing_runs_there() {
    let Setup { dirs, server, alpha, .. } = setup();
    let outside = dirs.root.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, alpha.join("escape")).expect("symlink");
    let refused = [
        format!("{}/../../outside", text(&alpha)),
        text(&alpha.join("escape")),
        text(&outside),
        "/".to_owned(),
        "repos/alpha".to_owned(),
        "no-such-id".to_owned(),
        format!("{}/missing", text(&alpha)),
    ];
    for project in &refused {
        let (code, body) = submit_in(&server, "new", "must not run", Some(project)).await;
        assert_eq!(code, 400, "{project}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
        let (code, body) = server.post_json("/api/projects", &json!({ "path": project })).await;
        assert_eq!(code, 400, "adding {project}: {body}");
    }
    for path in [text(&outside), text(&alpha.join("escape")), format!("{}/../../outside", text(&alpha)), "relative".to_owned()] {
        let (code, body) = server.get(&format!("/api/projects/folders?path={path}")).await;
        assert_eq!(code, 400, "browsing {path}: {body}");
    }
    let (code, body) = server.get("/api/sessions?project=no-such-id").await;
    assert_eq!(code, 400, "{body}");
    assert!(projects(&server).await.iter().all(|p| !p["path"].as_str().unwrap_or("").contains("outside")));
    assert!(!dirs.cli_read("must not run"), "no CLI was started");

    // A folder that leads out of the roots once its task is about to start is refused then.
    let movable = alpha.join("movable");
    std::fs::create_dir_all(&movable).expect("mkdir");
    let (code, first) = submit_in(&server, "new", "hold the line #SLOW=2", Some(&text(&movable))).await;
    assert_eq!(code, 200, "{first}");
    let session = first["session_id"].as_str().expect("session");
    let (code, second) = submit_in(&server, session, "after the swap", None).await;
    assert_eq!((code, second["status"].as_str()), (200, Some("queued")), "{second}");
    std::fs::rename(&movable, alpha.join("moved")).expect("rename");
    std::os::unix::fs::symlink(&outside, &movable).expect("symlink");
    let ended = server.wait_finished(session, second["task_id"].as_str().expect("task"), LONG).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(ended["error"].as_str().is_some_and(|e| e.contains("project")), "{ended}");
    assert!(!dirs.cli_read("after the swap"));
}

/// A session waiting for a free CLI in a folder named by its path (no transcript yet, and the
/// folder not yet a known project) is listed at once, with its project.
#[tokio::test]
async fn a_queued_session_in_a_folder_named_by_path_is_listed_before_its_cli_starts() {
    let dirs = Dirs::new();
    let repos = dirs.root.path().join("repos");
    std::fs::create_dir_all(repos.join("gamma")).expect("mkdir");
    let repos = std::fs::canonicalize(repos).expect("canonical");
    let server = Server::start_with(&dirs, &["--projects-root", repos.to_str().expect("utf-8"), "--max-concurrent", "1"]);
    let (code, busy) = submit_in(&server, "new", "keep the only slot #SLOW=20", None).await;
    assert_eq!(code, 200, "{busy}");

    let gamma = repos.join("gamma");
    let (code, queued) = submit_in(&server, "new", "first words in gamma", Some(&text(&gamma))).await;
    assert_eq!((code, queued["status"].as_str()), (200, Some("queued")), "{queued}");
    let session = queued["session_id"].as_str().expect("session");
    let everything = listed(&server, "").await;
    let entry = everything.iter().find(|s| s["session_id"] == session).unwrap_or_else(|| panic!("the queued session is listed: {everything:?}"));
    assert_eq!((entry["project_name"].as_str(), entry["title"].as_str()), (Some("gamma"), Some("first words in gamma")), "{entry}");
    assert_eq!(ids(&listed(&server, "?q=first%20words").await), [session]);
    let _ = server.post_json(&format!("/api/sessions/{}/tasks/{}/cancel", busy["session_id"].as_str().unwrap_or(""), busy["task_id"].as_str().unwrap_or("")), &json!({})).await;
}

/// From a phone a folder is found by browsing, not by typing its path: the roots, then one level
/// at a time, git work trees marked.
#[tokio::test]
async fn a_folder_is_found_by_browsing_from_the_roots_and_added() {
    // `dirs` kept: dropped, it would delete the folders.
    let Setup { dirs: _dirs, server, alpha, beta } = setup();
    let repos = alpha.parent().expect("the root").to_path_buf();
    std::fs::create_dir_all(beta.join("service/.git")).expect("a git work tree");
    std::fs::create_dir_all(beta.join(".cache")).expect("a hidden folder");

    let folders = |listing: &Value| -> Vec<(String, String, bool)> {
        let entries = listing["folders"].as_array().cloned().unwrap_or_default();
        entries.iter().map(|f| (f["name"].as_str().unwrap_or("").to_owned(), f["path"].as_str().unwrap_or("").to_owned(), f["git"] == true)).collect()
    };
    let (code, roots) = server.get("/api/projects/folders").await;
    assert_eq!(code, 200, "{roots}");
    assert_eq!((roots["path"].clone(), folders(&roots)), (Value::Null, vec![(text(&repos), text(&repos), false)]));

    let (_, root) = server.get(&format!("/api/projects/folders?path={}", text(&repos))).await;
    assert_eq!((root["path"].as_str(), &root["parent"]), (Some(text(&repos).as_str()), &Value::Null), "{root}");
    assert_eq!(folders(&root), [("alpha".to_owned(), text(&alpha), false), ("beta".to_owned(), text(&beta), false)]);

    let (_, inside) = server.get(&format!("/api/projects/folders?path={}", text(&beta))).await;
    assert_eq!(inside["parent"].as_str(), Some(text(&repos).as_str()), "{inside}");
    let service = beta.join("service");
    assert_eq!(folders(&inside), [("service".to_owned(), text(&service), true)], "hidden folders are left out");

    let (code, added) = server.post_json("/api/projects", &json!({ "path": text(&service) })).await;
    assert_eq!((code, added["name"].as_str()), (200, Some("service")), "{added}");
    assert_eq!(project_at(&server, &service).await["id"], added["id"]);
}

#[tokio::test]
async fn a_resumed_session_keeps_its_project_whatever_the_request_says() {
    let Setup { dirs, server, alpha, beta } = setup();
    let session = run_in(&server, "new", "begin in alpha", Some(&text(&alpha))).await;
    run_in(&server, &session, "go on elsewhere?", Some(&text(&beta))).await;
    assert_eq!(cwd_of(&dirs, "go on elsewhere?"), alpha);
    let alpha_id = project_at(&server, &alpha).await["id"].as_str().expect("id").to_owned();
    assert_eq!(ids(&listed(&server, &format!("?project={alpha_id}")).await), [session.as_str()]);
    let (code, transcript) = server.get(&format!("/api/sessions/{session}/messages")).await;
    assert_eq!(code, 200, "{transcript}");
    assert!(transcript["turns"].to_string().contains("go on elsewhere?"), "{transcript}");
}

#[tokio::test]
async fn search_finds_sessions_by_title_and_by_prompt_in_every_project() {
    let Setup { dirs: _dirs, server, alpha, beta } = setup();
    let renamed = run_in(&server, "new", "tidy the imports", Some(&text(&alpha))).await;
    let prompted = run_in(&server, "new", "Migrate the Parser to nom", Some(&text(&beta))).await;
    let resumed = run_in(&server, "new", "first words", Some(&text(&beta))).await;
    run_in(&server, &resumed, "then the Zebra crossing", None).await;
    let (code, body) = server
        .http
        .patch(server.url(&format!("/api/sessions/{renamed}")))
        .basic_auth(support::USER, Some(support::PASSWORD))
        .json(&json!({ "title": "Quarterly Report" }))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .expect("PATCH");
    assert_eq!(code, 200, "{:?}", body.text().await);

    assert_eq!(ids(&listed(&server, "?q=quarterly").await), [renamed.as_str()], "by the user's title");
    assert_eq!(ids(&listed(&server, "?q=parser%20TO").await), [prompted.as_str()], "by the first prompt, any case");
    assert_eq!(ids(&listed(&server, "?q=zebra").await), [resumed.as_str()], "by the last prompt");
    assert!(listed(&server, "?q=nothing%20says%20this").await.is_empty());
    let beta_id = project_at(&server, &beta).await["id"].as_str().expect("id").to_owned();
    assert!(listed(&server, &format!("?q=quarterly&project={beta_id}")).await.is_empty(), "within one project only");
    assert_eq!(listed(&server, "?q=first&limit=1").await.len(), 1);
    let (code, _) = server.get(&format!("/api/sessions?q={}", "x".repeat(201))).await;
    assert_eq!(code, 400);
}
