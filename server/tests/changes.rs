//! What a task changed, and the project's git state and files, against a git repository fixture
//! and the fake CLI, which really edits, writes and runs commands.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use support::{Dirs, Server};

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").current_dir(dir).args(args).status().expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A repository with two committed files, an ignored one and an `.env`.
fn repository(dirs: &Dirs) -> std::path::PathBuf {
    let project = std::fs::canonicalize(dirs.project()).expect("the project");
    git(&project, &["init", "-q", "-b", "main"]);
    git(&project, &["config", "user.email", "test@example.invalid"]);
    git(&project, &["config", "user.name", "Test"]);
    std::fs::write(project.join("a.txt"), "alpha\nbeta\ngamma\n").expect("write");
    std::fs::write(project.join("c.txt"), "one\ntwo\n").expect("write");
    std::fs::write(project.join(".gitignore"), "*.log\n").expect("write");
    git(&project, &["add", "."]);
    git(&project, &["commit", "-q", "-m", "start"]);
    std::fs::write(project.join(".env"), "API_KEY=hunter2\n").expect("write");
    std::fs::write(project.join("debug.log"), "noise\n").expect("write");
    project
}

/// Runs `message` to its end in a new session, with edits and commands allowed: its changes, and
/// where they are asked for.
async fn changes_of(server: &Server, message: &str) -> (Value, String) {
    let (status, body) =
        server.post_json("/api/sessions/new/chat", &json!({"message": message, "permission_mode": "acceptEdits", "allowed_tools": ["Bash"]})).await;
    assert_eq!(status, 200, "{body}");
    let (task, session) = (body["task_id"].as_str().expect("task"), body["session_id"].as_str().expect("session"));
    let ended = server.wait_finished(session, task, Duration::from_secs(30)).await;
    assert_eq!(ended["status"], "completed", "{ended}");
    let route = format!("/api/sessions/{session}/tasks/{task}/changes");
    let (status, changes) = server.get(&route).await;
    assert_eq!(status, 200, "{changes}");
    // The poll of the finished task says as much in numbers, for the row under its reply.
    let files = changes["files"].as_array().expect("files");
    let sum = |key: &str| files.iter().filter_map(|f| f[key].as_u64()).sum::<u64>();
    assert_eq!(ended["progress"]["changes"], json!({"files": files.len(), "added": sum("added"), "removed": sum("removed")}), "{ended}");
    (changes, route)
}

fn summary(changes: &Value) -> Vec<(String, String, u64, u64)> {
    changes["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (text("path"), text("status"), f["added"].as_u64().unwrap_or(99), f["removed"].as_u64().unwrap_or(99))
        })
        .collect()
}

#[tokio::test]
async fn each_task_shows_exactly_the_files_it_changed_by_edit_write_or_command() {
    let dirs = Dirs::new();
    let project = repository(&dirs);
    let server = Server::start(&dirs);
    let p = project.display();

    let (edited, edited_route) = changes_of(&server, &format!("#EDIT:{p}/a.txt|beta|BETA")).await;
    assert_eq!(summary(&edited), [("a.txt".into(), "modified".into(), 1, 1)]);
    let diff = edited["files"][0]["diff"].as_str().expect("diff");
    assert!(diff.starts_with("--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n"), "{diff}");

    let (written, _) = changes_of(&server, &format!("#WRITE:{p}/src/new.txt")).await;
    assert_eq!(summary(&written), [("src/new.txt".into(), "added".into(), 1, 0)]);
    assert!(written["files"][0]["diff"].as_str().expect("diff").contains("--- /dev/null\n+++ b/src/new.txt\n"));

    // A large new file is left out of the snapshots (and so of the repository's objects).
    let (commanded, _) =
        changes_of(&server, "#BASH:printf 'three\\n' >> c.txt && printf 'made\\n' > 'made [1].txt' && head -c 2000000 /dev/zero > big.bin").await;
    assert_eq!(summary(&commanded), [("c.txt".into(), "modified".into(), 1, 0), ("made [1].txt".into(), "added".into(), 1, 0)]);
    assert!(commanded["files"][0]["diff"].as_str().expect("diff").contains(" two\n+three\n"));

    // Asked again later, each answer is the same: it is the task's, not the tree's as it is now.
    assert_eq!(server.get(&edited_route).await, (200, edited));
    let (status, _) = server.get("/api/sessions/new/tasks/00000000-0000-0000-0000-000000000000/changes").await;
    assert_eq!(status, 404);

    let (status, state) = server.get("/api/projects/default/git").await;
    assert_eq!(status, 200, "{state}");
    assert_eq!((state["repository"].as_bool(), state["branch"].as_str()), (Some(true), Some("main")));
    let mut files: Vec<(String, String)> = state["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| (f["path"].as_str().unwrap_or_default().into(), f["status"].as_str().unwrap_or_default().into()))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            (".env".into(), "untracked".into()),
            ("a.txt".into(), "modified".into()),
            ("big.bin".into(), "untracked".into()),
            ("c.txt".into(), "modified".into()),
            ("made [1].txt".into(), "untracked".into()),
            ("src/new.txt".into(), "untracked".into())
        ]
    );

    // No snapshot copied the untracked .env into the repository's objects.
    let found = Command::new("sh")
        .current_dir(&project)
        .args(["-c", "for o in $(find .git/objects -type f | sed 's|.git/objects/||; s|/||'); do git cat-file -p $o 2>/dev/null; done | grep -c hunter2"])
        .output()
        .expect("search the objects");
    assert_eq!(String::from_utf8_lossy(&found.stdout).trim(), "0");

    let (status, diff) = server.get("/api/projects/default/git/diff?path=a.txt").await;
    assert_eq!(status, 200, "{diff}");
    assert_eq!((diff["added"].as_u64(), diff["removed"].as_u64()), (Some(1), Some(1)));
    for (path, wanted) in [(".env", 403), ("../a.txt", 400), ("never.txt", 404)] {
        let (status, body) = server.get(&format!("/api/projects/default/git/diff?path={path}")).await;
        assert_eq!(status, wanted, "{path}: {body}");
        assert!(!body.to_string().contains("hunter2"), "{body}");
    }
}

#[tokio::test]
async fn the_file_browser_shows_the_project_and_refuses_secrets_and_escapes() {
    let dirs = Dirs::new();
    let project = repository(&dirs);
    let outside = dirs.root.path().join("outside.txt");
    std::fs::write(&outside, "not yours\n").expect("write");
    std::os::unix::fs::symlink(&outside, project.join("link.txt")).expect("symlink");
    std::fs::create_dir_all(project.join("src")).expect("mkdir");
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").expect("write");
    let server = Server::start(&dirs);

    let (status, listing) = server.get("/api/projects/default/files").await;
    assert_eq!(status, 200, "{listing}");
    let names: Vec<&str> = listing["entries"].as_array().expect("entries").iter().filter_map(|e| e["name"].as_str()).collect();
    assert_eq!(names, ["src", ".env", ".gitignore", "a.txt", "c.txt", "link.txt"], "no .git, no ignored debug.log");

    let (status, file) = server.get("/api/projects/default/file?path=src/main.rs").await;
    assert_eq!(status, 200, "{file}");
    assert_eq!((file["content"].as_str(), file["language"].as_str()), (Some("fn main() {}\n"), Some("rust")));

    for (path, wanted) in [
        ("../outside.txt", 400),
        ("src/../../outside.txt", 400),
        ("/etc/passwd", 400),
        (".git/config", 400),
        (".env", 403),
        ("link.txt", 403),
        ("missing.rs", 404),
    ] {
        let (status, body) = server.get(&format!("/api/projects/default/file?path={path}")).await;
        assert_eq!(status, wanted, "{path}: {body}");
        assert!(!body.to_string().contains("hunter2") && !body.to_string().contains("not yours"), "{body}");
    }
    let (status, _) = server.get("/api/projects/default/files?path=..").await;
    assert_eq!(status, 400);
    let (status, _) = server.get("/api/projects/elsewhere/files").await;
    assert_eq!(status, 404);
    let anonymous = server.http.get(server.url("/api/projects/default/file?path=a.txt")).send().await.expect("GET");
    assert_eq!(anonymous.status(), 401, "only for signed-in callers");
}
