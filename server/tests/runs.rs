//! How runs end and how they share the machine: failures, queues, the process cap, stopping.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::{processes_in_group, wait_for_group_of_two, wait_for_pid, zombies_of, Dirs, Server};

const LONG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_crash_fails_with_the_cli_error_line_and_keeps_the_partial_output() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "please #CRASH").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "failed");
    let error = done["error"].as_str().unwrap_or("");
    assert!(error.contains("Error: fake crash") && error.contains("exit status 3"), "{error}");
    assert!(done["events"].as_u64().unwrap_or(0) >= 2, "init and the assistant line were kept: {done}");
}

#[tokio::test]
async fn a_plain_text_cli_error_is_the_failure_reason() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "please #PLAINERR").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], "Error: fake plain-text failure (exit status 1)");
}

#[tokio::test]
async fn an_api_error_fails_with_the_api_message_and_the_result_object() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "please #ERR529").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().is_some_and(|e| e.starts_with("API Error: 529")), "{done}");
    assert_eq!(done["result"]["api_error_status"], 529);
}

#[tokio::test]
async fn denied_tools_complete_and_show_the_denials() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "write a file #DENY").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["result"]["permission_denials"][0]["tool_name"], "Write");
}

#[tokio::test]
async fn two_submits_to_one_session_run_one_after_the_other_in_order() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, session) = server.submit("new", "first #SLOW=1").await;
    let (second, _) = server.submit(&session, "second").await;
    let (third, _) = server.submit(&session, "third").await;
    let (_, queued) = server.get(&format!("/api/sessions/{session}/tasks/{third}")).await;
    assert_eq!(queued["status"], "queued", "it waits behind the running task");
    let a = server.wait_finished(&session, &first, LONG).await;
    let b = server.wait_finished(&session, &second, LONG).await;
    let c = server.wait_finished(&session, &third, LONG).await;
    for done in [&a, &b, &c] {
        assert_eq!(done["status"], "completed", "{done}");
    }
    let (ends, starts) = (|v: &Value| v["finished_at"].as_i64().unwrap_or(i64::MAX), |v: &Value| v["started_at"].as_i64().unwrap_or(0));
    assert!(starts(&b) >= ends(&a) && starts(&c) >= ends(&b), "never two at once, in submit order");
    let (_, transcript) = server.get(&format!("/api/sessions/{session}/messages")).await;
    let prompts: Vec<&str> = transcript["turns"]
        .as_array()
        .expect("turns")
        .iter()
        .filter(|t| t["role"] == "user")
        .filter_map(|t| t["text"].as_str())
        .collect();
    assert_eq!(prompts, ["first #SLOW=1", "second", "third"]);
}

#[tokio::test]
async fn twenty_sessions_at_once_stay_under_the_process_cap_and_leave_no_zombie() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--max-concurrent", "4"]);
    let mut tasks = Vec::new();
    for n in 0..20 {
        tasks.push(server.submit("new", &format!("job {n} #SLOW=0.4")).await);
    }
    let mut spans = Vec::new();
    for (task, session) in &tasks {
        let done = server.wait_finished(session, task, Duration::from_secs(60)).await;
        assert_eq!(done["status"], "completed", "{done}");
        spans.push((done["started_at"].as_i64().unwrap_or(0), done["finished_at"].as_i64().unwrap_or(0)));
    }
    let most_at_once = spans.iter().map(|(start, _)| spans.iter().filter(|(s, e)| s <= start && start < e).count()).max();
    assert!(most_at_once.is_some_and(|n| (2..=4).contains(&n)), "at most 4 CLIs at once, yet in parallel: {most_at_once:?}");
    assert_eq!(dirs.invocations().len(), 20);
    assert!(zombies_of(server.pid()).is_empty(), "every CLI was reaped");
}

#[tokio::test]
async fn deleting_a_running_task_ends_its_whole_process_group() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "run a long tool #TOOL=60").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    // Wait for the tool's child (`sleep 60`) to exist in the CLI's group.
    let pgid = wait_for_group_of_two(&dirs).await;
    let (code, body) = server.delete(&format!("/api/sessions/{session}/tasks/{task}")).await;
    assert_eq!((code, body["status"].as_str()), (200, Some("cleaned")));
    assert!(processes_in_group(pgid).is_empty(), "left behind: {:?}", processes_in_group(pgid));
    assert!(zombies_of(server.pid()).is_empty());
    let (code, _) = server.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
    assert_eq!(code, 404);

    // The session can be used again.
    let (next, _) = server.submit(&session, "still there?").await;
    assert_eq!(server.wait_finished(&session, &next, LONG).await["status"], "completed");
}

#[tokio::test]
async fn deleting_a_queued_task_means_it_never_runs() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, session) = server.submit("new", "hold the line #SLOW=1").await;
    let (second, _) = server.submit(&session, "never run me").await;
    let (code, _) = server.delete(&format!("/api/sessions/{session}/tasks/{second}")).await;
    assert_eq!(code, 200);
    assert_eq!(server.wait_finished(&session, &first, LONG).await["status"], "completed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(dirs.cli_read("hold the line"), "the first task's message was read");
    assert!(!dirs.cli_read("never run me"), "the deleted task started: {:?}", dirs.messages());
}

#[tokio::test]
async fn a_server_killed_mid_task_serves_the_result_after_restart() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "survive a restart #SLOW=2").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    server.kill(); // SIGKILL

    let server = Server::start(&dirs);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "Fake reply to: survive a restart #SLOW=2");
}

#[tokio::test]
async fn a_task_whose_cli_died_with_the_server_ends_as_interrupted_not_processing() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "doomed #SLOW=30").await;
    server.wait_status(&session, &task, "processing", LONG).await;
    let pid = wait_for_pid(&dirs).await;
    // Once it printed something (on a busy machine the CLI may not have yet).
    let deadline = std::time::Instant::now() + LONG;
    while server.get(&format!("/api/sessions/{session}/tasks/{task}")).await.1["events"].as_u64().unwrap_or(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "the CLI printed nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    // The machine loses the CLI too (as after a reboot).
    let _ = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
    while support::is_alive(pid) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let server = Server::start(&dirs);
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "failed");
    assert!(done["error"].as_str().is_some_and(|e| e.starts_with("interrupted")), "{done}");
    assert!(done["events"].as_u64().unwrap_or(0) >= 1, "what it produced is kept: {done}");
}

#[tokio::test]
async fn queued_tasks_survive_a_restart_and_run_in_order() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, session) = server.submit("new", "first #SLOW=1.5").await;
    let (second, _) = server.submit(&session, "second").await;
    server.wait_status(&session, &first, "processing", LONG).await;
    server.kill();
    let server = Server::start(&dirs);
    assert_eq!(server.wait_finished(&session, &first, LONG).await["status"], "completed");
    let done = server.wait_finished(&session, &second, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["session_id"], session.as_str());
}

#[tokio::test]
async fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let dirs = Dirs::new();
    let first = Server::start(&dirs);
    let mut second = dirs
        .server_command("0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start a second server");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = second.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = second.kill();
            panic!("a second server runs on the same data directory");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stderr = String::new();
    use std::io::Read;
    let _ = second.stderr.take().expect("stderr").read_to_string(&mut stderr);
    assert!(!status.success());
    assert!(stderr.contains("another server already runs") && stderr.trim().lines().count() == 1, "{stderr}");
    assert_eq!(first.get("/health").await.0, 200, "the first one serves on");
    first.kill();
    let again = Server::start(&dirs);
    assert_eq!(again.get("/health").await.0, 200, "once it is gone, a server starts");
}

#[tokio::test]
async fn a_server_whose_stdout_is_gone_serves_and_stops_cleanly() {
    let dirs = Dirs::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
    let mut server = dirs
        .server_command(&port.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the server");
    // Nobody reads what it prints: every line it writes meets a broken pipe.
    drop(server.stdout.take());
    let health = format!("http://127.0.0.1:{port}/health");
    let mut answered = false;
    for _ in 0..200 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered && server.try_wait().expect("wait").is_none(), "it serves, alive");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.id() as i32), nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait().expect("wait") {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "SIGTERM did not stop it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean stop, not a panic: {status:?}");
}

#[tokio::test]
async fn a_cli_left_running_past_a_lowered_cap_is_followed_at_once_after_a_restart() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--max-concurrent", "2"]);
    let (long, long_session) = server.submit("new", "a long one #SLOW=6").await;
    let target = dirs.project().join("asked-after-restart.txt");
    let (asking, asking_session) = server.submit("new", &format!("#SLOW=1 #WRITE:{}", target.display())).await;
    server.wait_status(&long_session, &long, "processing", LONG).await;
    server.wait_status(&asking_session, &asking, "processing", LONG).await;
    server.kill();

    // Restarted with room for one CLI: both still run, and both are followed, the second too,
    // so what it asks after the restart shows while the first one still runs.
    let server = Server::start_with(&dirs, &["--max-concurrent", "1"]);
    let waiting = server.wait_for_approval(&asking_session, &asking).await;
    let (_, first) = server.get(&format!("/api/sessions/{long_session}/tasks/{long}")).await;
    assert_eq!(first["status"], "processing", "the request showed while the other CLI still ran");
    let id = waiting["pending_approvals"][0]["id"].as_str().expect("id");
    assert_eq!(server.decide(&asking_session, &asking, id, serde_json::json!({"decision": "allow"})).await.0, 200);
    assert_eq!(server.wait_finished(&asking_session, &asking, LONG).await["status"], "completed");
    assert_eq!(server.wait_finished(&long_session, &long, LONG).await["status"], "completed");
    assert!(target.exists());
}

/// Field 19 of `/proc/<pid>/stat`: the nice value.
fn niceness(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].split_whitespace().nth(16)?.parse().ok()
}

#[tokio::test]
async fn the_cli_and_its_tools_run_below_the_server() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "#TOOL=2 busy").await;
    let pgid = support::wait_for_group_of_two(&dirs).await;
    let server_nice = niceness(server.pid()).expect("the server's nice value");
    let members = support::processes_in_group(pgid);
    assert!(members.len() >= 2, "the CLI and its tool: {members:?}");
    for pid in members {
        assert_eq!(niceness(pid), Some((server_nice + 10).min(19)), "process {pid} of the CLI's group");
    }
    assert_eq!(server.wait_finished(&session, &task, LONG).await["status"], "completed");
}

/// A phone that lost the answer to its submit sends the message again with the same
/// `client_message_id`: it gets the first task back, and the CLI runs the message once.
#[tokio::test]
async fn a_message_sent_twice_with_its_key_runs_once() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let key = "7d0f3c1e-6a53-4a8e-9a43-2f1f1c0b5e11";
    let body = serde_json::json!({ "message": "only once please #SLOW=1", "client_message_id": key });
    let (status, first) = server.post_json("/api/sessions/new/chat", &body).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = server.post_json("/api/sessions/new/chat", &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((&again["task_id"], &again["session_id"]), (&first["task_id"], &first["session_id"]), "the same task");
    let (session, task) = (first["session_id"].as_str().expect("session"), first["task_id"].as_str().expect("task"));
    server.wait_finished(session, task, LONG).await;
    // After it ended too: the same task, now as it ended.
    let (_, late) = server.post_json(&format!("/api/sessions/{session}/chat"), &body).await;
    assert_eq!((&late["task_id"], &late["status"]), (&first["task_id"], &Value::from("completed")));
    let runs = dirs.messages().iter().filter(|m| m["message"].as_str().is_some_and(|t| t.contains("only once please"))).count();
    assert_eq!(runs, 1, "the CLI got the message once");

    // Without a key, or with another one, a message runs again.
    let other = serde_json::json!({ "message": "only once please", "client_message_id": "0b7a9b8e-2a8c-4d5e-8f7a-1c2d3e4f5a6b" });
    let (_, second) = server.post_json(&format!("/api/sessions/{session}/chat"), &other).await;
    assert_ne!(second["task_id"], first["task_id"]);
}

/// What a task did is kept with its outcome: a reload shows "n steps · m tool calls" as the live
/// view did, from the poll of the finished task.
#[tokio::test]
async fn a_finished_task_keeps_the_counts_of_its_steps() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "use a tool #TOOL=0.2").await;
    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    let progress = &done["progress"];
    assert_eq!(progress["tool_calls"], 1, "{done}");
    // Started, "Let me run something.", the Bash call, the reply.
    assert!(progress["steps"].as_u64().is_some_and(|n| n >= 4), "{done}");
    // The same after a restart: it is stored, not remembered.
    drop(server);
    let server = Server::start(&dirs);
    let (_, again) = server.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
    assert_eq!(again["progress"], done["progress"]);
}
