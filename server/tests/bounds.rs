//! What one client cannot do to the server: make it store an endless output, stall it while a CLI
//! prints tens of megabytes, or queue tasks without end.

mod support;

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{stand_in_cli, Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);
/// Far more than the new code needs (seconds), far less than the old one took (47 s for 40 MB).
const BIG_TASK_LIMIT: Duration = Duration::from_secs(40);
/// What one task stores at most (see `runner::cap`): 8 MiB of lines, plus the marker.
const STORED_BOUND: u64 = 8 * 1024 * 1024 + 200;

/// A stand-in CLI that prints a valid stream-json run (shapes from the `stream_simple` fixture):
/// init, `lines` assistant lines of about `pad` bytes (`line <n> xxx…`, so line n is seq n + 1),
/// then the result. It touches `written` once the assistant lines are out; with `gate`, it then
/// waits (at most 60 s) for that file to exist before printing the result.
fn chatty_cli(dirs: &Dirs, lines: usize, pad: usize, gate: Option<&Path>) -> PathBuf {
    let body = format!(
        r#"out.write(json.dumps(init) + "\n")
pad = "x" * {pad}
for n in range(1, {lines} + 1):
    assistant["message"]["content"] = [{{"type": "text", "text": "line %d %s" % (n, pad)}}]
    out.write(json.dumps(assistant) + "\n")
out.flush()
open({written:?}, "w").close()
gate = {gate:?}
deadline = time.time() + 60
while gate and not os.path.exists(gate) and time.time() < deadline:
    time.sleep(0.05)
result["result"] = "done after a big output"
out.write(json.dumps(result) + "\n")
out.flush()"#,
        written = written_flag(dirs).display().to_string(),
        gate = gate.map(|g| g.display().to_string()).unwrap_or_default(),
    );
    stand_in_cli(dirs, "chatty-claude", &body)
}

fn written_flag(dirs: &Dirs) -> PathBuf {
    dirs.root.path().join("written")
}

async fn wait_for_file(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Asks `/health` every 20 ms until `stop`; the slowest answer, and how many were asked.
async fn watch_health(base: String, stop: Arc<AtomicBool>) -> (Duration, usize) {
    let client = reqwest::Client::new();
    let (mut worst, mut asked) = (Duration::ZERO, 0);
    let deadline = Instant::now() + BIG_TASK_LIMIT + LONG;
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        let started = Instant::now();
        let answer = client.get(format!("{base}/health")).timeout(LONG).send().await;
        // An unanswered call counts as its whole wait (the assertion on `worst` reports it).
        let waited = if answer.is_ok_and(|a| a.status() == 200) { started.elapsed() } else { LONG.max(started.elapsed()) };
        worst = worst.max(waited);
        asked += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (worst, asked)
}

/// The task's stored lines: `(seq, line)`, read a page at a time.
async fn events(server: &Server, session: &str, task: &str) -> Vec<(u64, Value)> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let (code, body) = server.get(&format!("/api/sessions/{session}/tasks/{task}/events?after={after}")).await;
        assert_eq!(code, 200, "{body}");
        all.extend(body["events"].as_array().expect("events").iter().map(|e| (e["seq"].as_u64().unwrap_or(0), e["event"].clone())));
        after = body["after"].as_u64().unwrap_or(after);
        if body["more"] != true {
            return all;
        }
    }
}

/// Checks a capped output: init, the head, one marker counting exactly the lines it stands for,
/// the tail, the result last; every assistant line at its own number (no line twice, none lost
/// out of what was kept). Returns the bytes stored.
fn assert_capped(events: &[(u64, Value)], lines: usize) -> u64 {
    let markers: Vec<usize> = events.iter().enumerate().filter(|(_, (_, e))| e["subtype"] == "output_truncated").map(|(i, _)| i).collect();
    assert_eq!(markers.len(), 1, "one marker");
    let marker = markers[0];
    assert_eq!(events[0], (1, events[0].1.clone()));
    assert_eq!(events[0].1["subtype"], "init");
    for (i, (seq, event)) in events.iter().enumerate().filter(|(i, _)| *i != marker) {
        if i > 0 && i < events.len() - 1 {
            let text = event["message"]["content"][0]["text"].as_str().unwrap_or("");
            assert!(text.starts_with(&format!("line {} ", seq - 1)), "line at {seq} is {:?}", &text[..text.len().min(40)]);
        }
    }
    let head = &events[..marker];
    let tail = &events[marker + 1..];
    assert!(head.windows(2).all(|w| w[1].0 == w[0].0 + 1), "the head has no gap");
    assert!(tail.windows(2).all(|w| w[1].0 == w[0].0 + 1), "the tail has no gap");
    let (marker_seq, marker_event) = &events[marker];
    assert_eq!(*marker_seq, head.last().map_or(0, |h| h.0) + 1, "the marker takes the first cut line's number");
    assert_eq!(marker_event["lines"].as_u64(), Some(tail[0].0 - marker_seq), "it counts the lines it stands for");
    let (last_seq, last) = events.last().expect("events");
    assert_eq!((*last_seq, last["type"].as_str()), (lines as u64 + 2, Some("result")), "the result line is kept, last");
    events.iter().map(|(_, e)| e.to_string().len() as u64).sum()
}

/// Bytes of the files in `dir` (the database, its WAL, credentials; spool files while a task runs).
fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut total = 0;
    for entry in entries.filter_map(Result::ok) {
        if let Some(meta) = entry.metadata().ok().filter(|m| m.is_file()) {
            println!("  {}: {} bytes", entry.file_name().to_string_lossy(), meta.len());
            total += meta.len();
        }
    }
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_forty_megabyte_outputs_are_capped_while_the_server_keeps_answering() {
    let dirs = Dirs::new();
    let (lines, pad) = (20_000, 2_000); // ~40 MB each
    let cli = chatty_cli(&dirs, lines, pad, None);
    let server = Server::launch(&dirs, &cli, &[], &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_health(server.base.clone(), stop.clone()));

    // Two at once: as many as the server has async worker threads on this 2-core machine.
    let started = Instant::now();
    let first = server.submit("new", "print a lot").await;
    let second = server.submit("new", "print a lot too").await;
    let mut done = Vec::new();
    for (task, session) in [&first, &second] {
        done.push(server.wait_finished(session, task, BIG_TASK_LIMIT).await);
    }
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let (worst, asked) = watcher.await.expect("health watcher");
    let database = disk_usage(&dirs.data());
    println!("two 40 MB outputs: read in {took:?}; data directory {database} bytes; /health worst {worst:?} over {asked} calls");
    assert!(worst < Duration::from_secs(2), "/health took {worst:?} while the output was read");

    for ((task, session), done) in [&first, &second].into_iter().zip(&done) {
        assert_eq!(done["status"], "completed", "{done}");
        assert_eq!(done["result"]["result"], "done after a big output", "the outcome comes from the result line");
        let events = events(&server, session, task).await;
        let stored = assert_capped(&events, lines);
        assert!(stored <= STORED_BOUND, "stored {stored} bytes");
        assert_eq!(done["events"].as_u64(), Some(events.len() as u64));
    }
    // SQLite fits one of these 2 KB lines per 4 KiB page (about twice their bytes), plus the
    // WAL: ~37 MB here for two tasks, 260 MB before the cap.
    assert!(database < 6 * STORED_BOUND, "the data directory holds {database} bytes for two tasks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_output_ends_the_server_promptly_and_the_next_one_reads_on() {
    let dirs = Dirs::new();
    let gate = dirs.root.path().join("gate");
    let (lines, pad) = (15_000, 2_000); // ~30 MB, then the CLI waits for the gate
    let cli = chatty_cli(&dirs, lines, pad, Some(&gate));
    let server = Server::launch(&dirs, &cli, &[], &[]);
    let (task, session) = server.submit("new", "print a lot, then wait").await;
    wait_for_file(&written_flag(&dirs), LONG).await;
    // The server is reading the 30 MB now.
    let mut server = server;
    let signalled = Instant::now();
    let _ = std::process::Command::new("kill").args(["-TERM", &server.pid().to_string()]).status();
    let mut exited = None;
    while signalled.elapsed() < LONG {
        if let Ok(Some(status)) = server.child.try_wait() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = signalled.elapsed();
    println!("SIGTERM while reading 30 MB: the server exited in {took:?} ({exited:?})");
    assert!(exited.is_some_and(|s| s.success()), "the server did not exit cleanly within {LONG:?}");
    assert!(took < Duration::from_secs(3), "exiting took {took:?}");
    drop(server);

    // The CLI is still running; the next server follows it from where the last one stopped.
    let server = Server::launch(&dirs, &cli, &[], &[]);
    let restarted = Instant::now();
    std::fs::write(&gate, "").expect("open the gate");
    let done = server.wait_finished(&session, &task, BIG_TASK_LIMIT).await;
    let after_restart = restarted.elapsed();
    println!("after the restart the task ended in {after_restart:?}");
    // Reading the whole file again took 14.6 s here; reading on from the stored offset, ~1.5 s.
    assert!(after_restart < Duration::from_secs(10), "the restarted server took {after_restart:?}");
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["result"], "done after a big output");
    let events = events(&server, &session, &task).await;
    let stored = assert_capped(&events, lines);
    assert!(stored <= STORED_BOUND, "stored {stored} bytes");
}

#[tokio::test]
async fn a_session_with_twenty_unfinished_tasks_refuses_more_with_429() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (_, session) = server.submit("new", "hold the line #SLOW=5").await;
    let mut codes = Vec::new();
    let mut refusal = Value::Null;
    for n in 1..25 {
        let (code, body) = server.post_json(&format!("/api/sessions/{session}/chat"), &json!({ "message": format!("queued {n}") })).await;
        if code == 429 {
            refusal = body;
        }
        codes.push(code);
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 19, "20 unfinished tasks in all: {codes:?}");
    assert_eq!(&codes[19..], [429; 5], "every submit past the bound is refused: {codes:?}");
    let message = refusal["error"].as_str().unwrap_or("");
    assert!(message.contains("20 unfinished tasks") && message.contains("wait for one to finish"), "{refusal}");

    // The other doors meet the same bound: the legacy call and the app's server function.
    let (code, body) = server.post_json("/api/chat", &json!({ "message": "legacy", "session_id": session })).await;
    assert_eq!(code, 429, "{body}");
    let response = server
        .http
        .post(server.url("/api/fn/submit"))
        .basic_auth(USER, Some(PASSWORD))
        .form(&[("session", session.as_str()), ("request[message]", "from the app")])
        .send()
        .await
        .expect("POST /api/fn/submit");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(status, 429, "{text}");
    assert!(text.contains("20 unfinished tasks"), "{text}");

    // Another session is not held up by this one.
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({ "message": "elsewhere" })).await;
    assert_eq!(code, 200, "{body}");
}

#[tokio::test]
async fn the_server_refuses_tasks_past_its_total_bound_until_one_finishes() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--max-queued-total", "3"]);
    let mut tasks = Vec::new();
    for n in 0..3 {
        tasks.push(server.submit("new", &format!("job {n} #SLOW=1")).await);
    }
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({ "message": "one too many" })).await;
    assert_eq!(code, 429, "{body}");
    assert!(body["error"].as_str().is_some_and(|e| e.contains("3 unfinished tasks") && e.contains("try again")), "{body}");

    let (task, session) = &tasks[0];
    assert_eq!(server.wait_finished(session, task, LONG).await["status"], "completed");
    let (code, body) = server.post_json("/api/sessions/new/chat", &json!({ "message": "room again" })).await;
    assert_eq!(code, 200, "a finished task frees its place: {body}");
}

#[tokio::test]
async fn a_pending_session_is_listed_by_one_line_of_its_prompt() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let message = format!("Fix the flaky test #SLOW=2\n{}", "context line\n".repeat(7_000));
    let (_, session) = server.submit("new", &message).await;
    let (code, listing) = server.get("/api/sessions").await;
    assert_eq!(code, 200);
    let listed = listing["sessions"].as_array().expect("sessions").iter().find(|s| s["session_id"] == session.as_str()).cloned();
    let listed = listed.expect("the new session is listed");
    assert_eq!(listed["title"], "Fix the flaky test #SLOW=2");
    assert_eq!(listed["display"], "Fix the flaky test #SLOW=2");
}

/// A stand-in CLI that prints init, one line of 10 MB, then `lines` short assistant lines
/// (`line <n> …`, about 120 bytes each) and the result.
fn many_lines_cli(dirs: &Dirs, lines: usize) -> PathBuf {
    // Short rows of its own (not the fixture's, whose assistant row is ten times longer), so
    // the 7 MiB head holds tens of thousands of lines.
    let body = format!(
        r#"out.write(json.dumps({{"type": "system", "subtype": "init", "session_id": sid, "model": "fake"}}) + "\n")
out.write(json.dumps({{"type": "user", "message": {{"content": [{{"type": "tool_result", "tool_use_id": "t0", "content": "y" * 10_000_000}}]}}}}) + "\n")
for n in range(1, {lines} + 1):
    out.write(json.dumps({{"type": "assistant", "session_id": sid, "message": {{"content": [{{"type": "text", "text": "line %d of many" % n}}]}}}}) + "\n")
out.write(json.dumps({{"type": "result", "subtype": "success", "is_error": False, "result": "printed many lines", "session_id": sid,
    "num_turns": 1, "total_cost_usd": 0.0, "duration_ms": 1}}) + "\n")
out.flush()"#
    );
    stand_in_cli(dirs, "many-lines-claude", &body)
}

fn memory_kib(pid: i32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

/// What the server's peak memory may grow by while one client reads everything a task stored,
/// however much that is, through the JSON route and the event stream. A page is at most 500
/// lines or 1 MiB: reading adds about 6.5 MiB here (peaks of 36.9 MiB over 31 MiB when first
/// measured, 47-50 MiB over 40-44 MiB since: the base is mostly the debug binary's code pages,
/// which grow with every crate linked in, so the growth is what is bounded). Served whole, as
/// before pages, the same 56,000 stored lines (8 MiB) made the server peak at 384 MiB (debug
/// build): the lines, their JSON values and the answer at once, and as many SSE events.
const READ_GROWTH_BOUND_KIB: u64 = 16 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_lines_and_one_of_ten_megabytes_are_read_a_page_at_a_time_in_bounded_memory() {
    let dirs = Dirs::new();
    let lines = 100_000;
    let cli = many_lines_cli(&dirs, lines);
    let server = Server::launch(&dirs, &cli, &[], &[]);
    let (task, session) = server.submit("new", "print many lines").await;
    let done = server.wait_finished(&session, &task, BIG_TASK_LIMIT).await;
    assert_eq!(done["status"], "completed", "{done}");
    let before = memory_kib(server.pid(), "VmHWM:");

    // JSON pages, each continuing from the last one's `after` while `more`.
    let path = format!("/api/sessions/{session}/tasks/{task}/events");
    let (mut after, mut pages, mut seen) = (0u64, 0, Vec::new());
    loop {
        let (code, page) = server.get(&format!("{path}?after={after}")).await;
        assert_eq!(code, 200, "{page}");
        let events = page["events"].as_array().cloned().unwrap_or_default();
        assert!(events.len() <= 500, "{} lines in one page", events.len());
        assert!(page.to_string().len() < 2 * 1024 * 1024, "a page of {} bytes", page.to_string().len());
        seen.extend(events.iter().map(|e| (e["seq"].as_u64().unwrap_or(0), e["event"].clone())));
        after = page["after"].as_u64().unwrap_or(after);
        pages += 1;
        if page["more"] != true {
            assert_eq!(page["status"], "completed");
            break;
        }
    }
    assert_eq!(seen.len() as u64, done["events"].as_u64().unwrap_or(0), "every stored line, once");
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    assert_eq!(seen[1].1["subtype"], "output_truncated", "the 10 MB line is its marker: {}", seen[1].1);
    assert!(seen[1].1["bytes"].as_u64().is_some_and(|b| b > 10_000_000), "{}", seen[1].1);
    assert_eq!(seen.last().map(|(seq, e)| (*seq, e["result"].clone())), Some((lines as u64 + 3, "printed many lines".into())));
    let (marker, _) = seen.iter().find(|(seq, e)| *seq > 2 && e["subtype"] == "output_truncated").expect("the cut in the middle");
    assert!(*marker > 40_000, "the head kept its 7 MiB of short lines: cut at {marker}");

    // The event stream sends the same lines, reading them a page at a time too.
    let response = server
        .http
        .get(server.url(&path))
        .basic_auth(USER, Some(PASSWORD))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("GET the stream");
    let body = response.text().await.expect("the stream");
    let streamed = body.matches("event: line\n").count();
    assert_eq!(streamed, seen.len(), "the stream carries every line");
    assert!(body.trim_end().ends_with("{\"status\":\"completed\"}"), "and ends: {}", &body[body.len().saturating_sub(200)..]);

    let peak = memory_kib(server.pid(), "VmHWM:");
    let rss = memory_kib(server.pid(), "VmRSS:");
    println!(
        "{} lines stored of {} printed (15 MB + one of 10 MB): read in {pages} pages; server peak {before} KiB before reading, {peak} KiB after, RSS now {rss} KiB",
        seen.len(),
        lines + 3
    );
    assert!(peak.saturating_sub(before) < READ_GROWTH_BOUND_KIB, "the server peaked at {peak} KiB, {} KiB more, while a client read everything", peak.saturating_sub(before));
}
