//! Starts the real server binary on 127.0.0.1 with the fake `claude` (selected by `--claude-bin`,
//! as a user would select the real one) and talks to it over HTTP.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "tester";
pub const PASSWORD: &str = "correct horse battery staple";

pub fn fake_claude() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/fake-claude/claude")
}

/// Writes an executable stand-in CLI named `name` into the test's folder: a Python script that
/// answers `--version` like the pinned CLI and otherwise runs `body` with these ready: `sid` (the
/// session id from its arguments), `init`, `assistant` and `result` (rows of the `stream_simple`
/// fixture, so with the real CLI's shapes, carrying `sid`), `out` (its stdout), and the modules
/// `base64`, `json`, `os`, `sys` and `time`.
pub fn stand_in_cli(dirs: &Dirs, name: &str, body: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli/stream_simple.jsonl");
    let script = format!(
        r#"#!/usr/bin/env python3
import base64, json, os, sys, time
args = sys.argv[1:]
if "--version" in args:
    print("2.1.197 (Claude Code)")
    sys.exit(0)
sid = next((args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--session-id", "--resume")), None)
rows = [json.loads(l) for l in open({fixture:?}) if l.strip()]
init, result = rows[0], rows[-1]
assistant = next(r for r in rows if r["type"] == "assistant")
for row in (init, assistant, result):
    row["session_id"] = sid
out = sys.stdout
{body}
"#,
        fixture = fixture.display().to_string(),
    );
    let path = dirs.root.path().join(name);
    std::fs::write(&path, script).expect("write the stand-in CLI");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// Folders that outlive a server restart: project, CLI home, data directory.
pub struct Dirs {
    pub root: tempfile::TempDir,
}

impl Dirs {
    /// The server binary on 127.0.0.1:`port` with these folders and the test password, started
    /// in the test's own folder (nothing of the repository around it).
    pub fn server_command(&self, port: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_claude-remote"));
        command
            .current_dir(self.root.path())
            .args(["--host", "127.0.0.1", "--port", port])
            .arg("--data-dir")
            .arg(self.data())
            .arg("--project")
            .arg(self.project())
            .env("AUTH_PASSWORD", PASSWORD);
        command
    }

    pub fn new() -> Self {
        let root = tempfile::tempdir().expect("tempdir");
        for sub in ["project", "claude-home", "data"] {
            std::fs::create_dir_all(root.path().join(sub)).expect("mkdir");
        }
        Self { root }
    }
    pub fn project(&self) -> PathBuf {
        self.root.path().join("project")
    }
    pub fn claude_home(&self) -> PathBuf {
        self.root.path().join("claude-home")
    }
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }
    pub fn argv_log(&self) -> PathBuf {
        self.root.path().join("argv.jsonl")
    }
    /// Every message the fake CLI read on its stdin (`{"message", "pid"}`), in order.
    pub fn messages(&self) -> Vec<Value> {
        std::fs::read_to_string(self.argv_log())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &Value| v["message"].is_string())
            .collect()
    }

    /// Whether any CLI was given a message containing `text`.
    pub fn cli_read(&self, text: &str) -> bool {
        self.messages().iter().any(|m| m["message"].as_str().is_some_and(|t| t.contains(text)))
    }

    /// Every CLI invocation the fake recorded: its argv and pid.
    pub fn invocations(&self) -> Vec<Value> {
        std::fs::read_to_string(self.argv_log())
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &Value| v["argv"].as_array().is_some_and(|a| a.iter().any(|x| x == "-p")))
            .collect()
    }
}

/// A self-signed certificate for 127.0.0.1, made by openssl: `(cert.pem, key.pem)` in `dirs`.
pub fn self_signed_certificate(dirs: &Dirs) -> (PathBuf, PathBuf) {
    let (cert, key) = (dirs.root.path().join("cert.pem"), dirs.root.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    (cert, key)
}

/// A CLI waits on its stdin for ever once its server is gone (it is the restarted server that
/// ends it): a test's CLIs go with its folders.
impl Drop for Dirs {
    fn drop(&mut self) {
        for invocation in self.invocations() {
            if let Some(pid) = invocation["pid"].as_i64().map(|p| p as i32).filter(|p| *p > 1)
                && !processes_in_group(pid).is_empty() {
                let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

pub struct Server {
    pub child: Child,
    pub base: String,
    pub http: reqwest::Client,
    /// Everything the server printed.
    pub stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(dirs: &Dirs) -> Self {
        Self::start_with(dirs, &[])
    }

    pub fn start_with(dirs: &Dirs, extra_args: &[&str]) -> Self {
        Self::launch(dirs, &fake_claude(), extra_args, &[])
    }

    /// The server binary with `claude_bin` as its CLI, extra arguments and environment.
    pub fn launch(dirs: &Dirs, claude_bin: &Path, extra_args: &[&str], env: &[(&str, String)]) -> Self {
        Self::launch_with_file_limit(dirs, claude_bin, extra_args, env, None)
    }

    /// As [`Server::launch`], with the process's open-file limit (soft and hard) set to
    /// `nofile` before it starts, as a small container or a `ulimit -n` would.
    pub fn launch_with_file_limit(dirs: &Dirs, claude_bin: &Path, extra_args: &[&str], env: &[(&str, String)], nofile: Option<u64>) -> Self {
        let mut command = dirs.server_command("0");
        if let Some(limit) = nofile {
            use std::os::unix::process::CommandExt;
            let set = move || nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, limit, limit).map_err(std::io::Error::from);
            // SAFETY: between fork and exec the child only makes one system call (setrlimit),
            // which allocates nothing and takes no lock.
            unsafe { command.pre_exec(set) };
        }
        let mut child = command
            .args(["--stop-grace-secs", "1"])
            .arg("--claude-bin")
            .arg(claude_bin)
            .arg("--claude-config-dir")
            .arg(dirs.claude_home())
            .args(extra_args)
            .env("AUTH_USERNAME", USER)
            .env_remove("AUTH_PASSWORD_HASH")
            .env_remove("PORT")
            .env_remove("HOST")
            .env("FAKE_CLAUDE_ARGV_LOG", dirs.argv_log())
            .env("LOG", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let printed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let base = loop {
            let line = lines.next().expect("server exited before listening").expect("stdout line");
            printed.lock().expect("lock").push(line.clone());
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_owned();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        let sink = printed.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        Self { child, base, http: reqwest::Client::new(), stdout: printed }
    }

    /// Waits for a printed line starting with `prefix`.
    pub fn printed(&self, prefix: &str) -> String {
        for _ in 0..400 {
            if let Some(line) = self.stdout.lock().expect("lock").iter().find(|l| l.starts_with(prefix)) {
                return line.clone();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the server never printed {prefix:?}: {:?}", self.stdout.lock().expect("lock"));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).basic_auth(USER, Some(PASSWORD)).send().await.expect("GET");
        read(response).await
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let response = self.http.delete(self.url(path)).basic_auth(USER, Some(PASSWORD)).send().await.expect("DELETE");
        read(response).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self.http.post(self.url(path)).basic_auth(USER, Some(PASSWORD)).json(body).send().await.expect("POST");
        read(response).await
    }

    /// Submits `message` to `session` ("new" or an id): `(task_id, session_id)`.
    pub async fn submit(&self, session: &str, message: &str) -> (String, String) {
        let (status, body) = self.post_json(&format!("/api/sessions/{session}/chat"), &serde_json::json!({ "message": message })).await;
        assert_eq!(status, 200, "submit failed: {body}");
        (body["task_id"].as_str().expect("task_id").to_owned(), body["session_id"].as_str().expect("session_id").to_owned())
    }

    /// Polls until the task is finished (as a client would), or panics after `limit`.
    pub async fn wait_finished(&self, session: &str, task: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (code, body) = self.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
            assert_eq!(code, 200, "poll failed: {body}");
            if ["completed", "failed", "cancelled"].contains(&body["status"].as_str().unwrap_or("")) {
                return body;
            }
            assert!(Instant::now() < deadline, "task {task} still {} after {limit:?}", body["status"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls until the task waits on an approval (or panics after 30 s); the task as polled.
    pub async fn wait_for_approval(&self, session: &str, task: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (code, body) = self.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
            assert_eq!(code, 200, "{body}");
            if body["pending_approvals"].as_array().is_some_and(|a| !a.is_empty()) {
                return body;
            }
            assert!(body["status"] == "processing" || body["status"] == "queued", "the task ended without asking: {body}");
            assert!(Instant::now() < deadline, "no approval requested: {body}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Decides approval `id` of a task: the route's status and answer.
    pub async fn decide(&self, session: &str, task: &str, id: &str, body: Value) -> (u16, Value) {
        self.post_json(&format!("/api/sessions/{session}/tasks/{task}/approvals/{id}"), &body).await
    }

    /// Waits until no task of the server runs (its `/health` says so), at most 30 s.
    pub async fn wait_idle(&self) {
        for _ in 0..600 {
            let (_, health) = self.get("/health").await;
            if health["running_tasks"] == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("tasks still running after 30 s");
    }

    pub async fn wait_status(&self, session: &str, task: &str, wanted: &str, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (_, body) = self.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
            if body["status"] == wanted {
                return body;
            }
            assert!(Instant::now() < deadline, "task {task} is {} not {wanted} after {limit:?}", body["status"]);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// Processes whose process group is `pgid` (the CLI leads its own group).
pub fn processes_in_group(pgid: i32) -> Vec<i32> {
    proc_stats().into_iter().filter(|s| s.pgrp == pgid && s.state != 'Z').map(|s| s.pid).collect()
}

/// Zombie children of `parent`.
pub fn zombies_of(parent: i32) -> Vec<i32> {
    proc_stats().into_iter().filter(|s| s.ppid == parent && s.state == 'Z').map(|s| s.pid).collect()
}

pub struct ProcStat {
    pub pid: i32,
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

pub fn proc_stats() -> Vec<ProcStat> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 2..];
            let mut fields = rest.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some(ProcStat { pid, state, ppid, pgrp })
        })
        .collect()
}

pub fn is_alive(pid: i32) -> bool {
    proc_stats().iter().any(|s| s.pid == pid && s.state != 'Z')
}

/// The pid of the latest CLI the fake recorded (it leads its own process group).
pub async fn wait_for_pid(dirs: &Dirs) -> i32 {
    for _ in 0..200 {
        if let Some(pid) = dirs.invocations().last().and_then(|i| i["pid"].as_i64()) {
            return pid as i32;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the CLI never started");
}

/// The latest CLI's group once its tool child (`sleep`) runs in it too.
pub async fn wait_for_group_of_two(dirs: &Dirs) -> i32 {
    for _ in 0..400 {
        if let Some(pid) = dirs.invocations().last().and_then(|i| i["pid"].as_i64())
            && processes_in_group(pid as i32).len() >= 2 {
            return pid as i32;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the tool child never started");
}
