//! Watching and stopping tasks: the event stream (SSE and JSON), cancel, queue positions.

mod support;
#[path = "support/holding_proxy.rs"]
mod holding_proxy;

use serde_json::Value;
use std::time::Duration;
use support::{processes_in_group, wait_for_group_of_two, zombies_of, Dirs, Server, PASSWORD, USER};

const LONG: Duration = Duration::from_secs(30);

/// `(id, event name, data)` of each event in an SSE body.
fn parse_sse(body: &str) -> Vec<(Option<u64>, String, String)> {
    body.split("\n\n")
        .filter_map(|block| {
            let (mut id, mut event, mut data) = (None, "message".to_owned(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            (!data.is_empty()).then_some((id, event, data))
        })
        .collect()
}

async fn sse(server: &Server, path: &str, last_event_id: Option<u64>) -> Vec<(Option<u64>, String, String)> {
    let mut request = server.http.get(server.url(path)).basic_auth(USER, Some(PASSWORD)).header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let response = request.send().await.expect("GET events");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap_or("").starts_with("text/event-stream"));
    parse_sse(&response.text().await.expect("body"))
}

#[tokio::test]
async fn events_replay_from_any_id_without_gap_or_duplicate() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "use a tool #TOOL=0.5").await;
    let path = format!("/api/sessions/{session}/tasks/{task}/events");

    // Connected while it runs: the stream follows it to the end.
    let live = sse(&server, &path, None).await;
    let (last, _, end) = live.last().expect("events").clone();
    assert_eq!((last, end.contains("completed")), (None, true), "ends with the task's outcome: {live:?}");
    let ids: Vec<u64> = live.iter().filter_map(|e| e.0).collect();
    let total = ids.len() as u64;
    assert!(total >= 5, "init, text, tool use, tool result, reply, result: {ids:?}");
    assert_eq!(ids, (1..=total).collect::<Vec<_>>());
    assert!(live.iter().filter(|e| e.0.is_some()).all(|e| e.1 == "line" && serde_json::from_str::<Value>(&e.2).is_ok()));

    // After it ended, from every position.
    for from in 0..=total {
        let replay = sse(&server, &path, Some(from)).await;
        let ids: Vec<u64> = replay.iter().filter_map(|e| e.0).collect();
        assert_eq!(ids, (from + 1..=total).collect::<Vec<_>>(), "resuming after {from}");
        assert_eq!(replay.last().map(|e| e.1.as_str()), Some("end"));
        let (_, json) = server.get(&format!("{path}?after={from}")).await;
        let seqs: Vec<u64> = json["events"].as_array().expect("events").iter().filter_map(|e| e["seq"].as_u64()).collect();
        assert_eq!(seqs, ids, "JSON and SSE agree after {from}");
        assert_eq!(json["status"], "completed");
    }
    let (_, json) = server.get(&format!("{path}?after=0")).await;
    assert_eq!(json["events"][0]["event"]["type"], "system", "each event is the CLI's own line");
    assert_eq!(json["more"], false, "one page holds a short output");

    // Smaller pages say where to go on, and together are the whole output.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let (_, page) = server.get(&format!("{path}?after={after}&limit=2")).await;
        let seqs: Vec<u64> = page["events"].as_array().expect("events").iter().filter_map(|e| e["seq"].as_u64()).collect();
        assert!(!seqs.is_empty() && seqs.len() <= 2, "{page}");
        after = page["after"].as_u64().expect("after");
        assert_eq!(Some(&after), seqs.last());
        paged.extend(seqs);
        if page["more"] == false {
            break;
        }
    }
    assert_eq!(paged, (1..=total).collect::<Vec<_>>());
}

#[tokio::test]
async fn polling_shows_progress_while_a_task_runs() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "long tool #TOOL=3").await;
    let deadline = std::time::Instant::now() + LONG;
    let progress = loop {
        let (_, body) = server.get(&format!("/api/sessions/{session}/tasks/{task}")).await;
        if body["progress"]["tool_calls"].as_u64() == Some(1) {
            break body["progress"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "no progress: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(progress["last_activity"], "Bash: sleep 3");
    assert!(progress["last_activity_at"].as_i64().is_some());
    server.wait_finished(&session, &task, LONG).await;
}

#[tokio::test]
async fn cancel_during_a_long_tool_ends_the_whole_group_and_the_session_resumes() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "long tool #TOOL=60").await;
    let pgid = wait_for_group_of_two(&dirs).await;

    let (code, cancelled) = server.post_json(&format!("/api/sessions/{session}/tasks/{task}/cancel"), &Value::Null).await;
    assert_eq!(code, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["events"].as_u64().unwrap_or(0) >= 3, "what it produced is kept: {cancelled}");
    assert!(processes_in_group(pgid).is_empty(), "left behind: {:?}", processes_in_group(pgid));
    assert!(zombies_of(server.pid()).is_empty());

    let (next, _) = server.submit(&session, "are you still there?").await;
    let done = server.wait_finished(&session, &next, LONG).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["result"]["session_id"], session.as_str());
}

#[tokio::test]
async fn a_queued_task_shows_its_position_and_can_be_cancelled_before_it_starts() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (first, session) = server.submit("new", "first #SLOW=1.5").await;
    let (second, _) = server.submit(&session, "second").await;
    let (third, _) = server.submit(&session, "third, never").await;
    let (_, waiting) = server.get(&format!("/api/sessions/{session}/tasks/{third}")).await;
    assert_eq!((waiting["status"].as_str(), waiting["queue_position"].as_u64()), (Some("queued"), Some(2)), "{waiting}");

    let (code, cancelled) = server.post_json(&format!("/api/sessions/{session}/tasks/{third}/cancel"), &Value::Null).await;
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    assert_eq!(server.wait_finished(&session, &first, LONG).await["status"], "completed");
    assert_eq!(server.wait_finished(&session, &second, LONG).await["status"], "completed");
    assert!(dirs.cli_read("first") && !dirs.cli_read("third, never"));
}

#[tokio::test]
async fn a_task_waiting_for_a_cli_slot_is_cancelled_at_once() {
    let dirs = Dirs::new();
    let server = Server::start_with(&dirs, &["--max-concurrent", "1"]);
    let (busy, busy_session) = server.submit("new", "hold the only slot #SLOW=5").await;
    server.wait_status(&busy_session, &busy, "processing", LONG).await;
    let (waiting, session) = server.submit("new", "waiting for a slot").await;
    let (_, queued) = server.get(&format!("/api/sessions/{session}/tasks/{waiting}")).await;
    assert_eq!((queued["status"].as_str(), queued["queue_position"].as_u64()), (Some("queued"), Some(0)), "{queued}");

    let (code, cancelled) = server.post_json(&format!("/api/sessions/{session}/tasks/{waiting}/cancel"), &Value::Null).await;
    assert_eq!((code, cancelled["status"].as_str()), (200, Some("cancelled")), "{cancelled}");
    let (_, still) = server.get(&format!("/api/sessions/{busy_session}/tasks/{busy}")).await;
    assert_eq!(still["status"], "processing", "the cancel did not wait for the slot to free up");
    assert_eq!(server.wait_finished(&busy_session, &busy, LONG).await["status"], "completed");
    assert!(dirs.cli_read("hold the only slot") && !dirs.cli_read("waiting for a slot"));
}

#[tokio::test]
async fn through_a_proxy_that_holds_answers_back_a_long_poll_shows_each_step_as_it_happens() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let proxy = holding_proxy::start(server.base.clone()).await;
    let (task, session) = server.submit("new", "#TOOL=2 show each step").await;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut after = 0u64;
    // (when it arrived, the line, the task's status in the same answer)
    let mut seen: Vec<(Duration, Value, String)> = Vec::new();
    let mut seqs: Vec<u64> = Vec::new();
    for _ in 0..200 {
        let url = format!("{proxy}/api/sessions/{session}/tasks/{task}/events?after={after}&wait_ms=10000");
        let response = client.get(url).basic_auth(support::USER, Some(support::PASSWORD)).send().await.expect("GET through the proxy");
        let (code, body) = support::read(response).await;
        assert_eq!(code, 200, "{body}");
        let status = body["status"].as_str().unwrap_or("").to_owned();
        let events = body["events"].as_array().cloned().unwrap_or_default();
        for event in &events {
            seqs.push(event["seq"].as_u64().unwrap_or(0));
            seen.push((started.elapsed(), event["event"].clone(), status.clone()));
        }
        after = body["after"].as_u64().unwrap_or(after);
        if events.is_empty() && ["completed", "failed", "cancelled"].contains(&status.as_str()) {
            break;
        }
    }
    let tool_call = seen.iter().find(|(_, line, _)| line["type"] == "assistant" && line.to_string().contains("\"tool_use\"")).expect("the tool call");
    let result = seen.iter().find(|(_, line, _)| line["type"] == "result").expect("the result");
    println!("through a holding proxy: tool call seen at {:?}, result at {:?}", tool_call.0, result.0);
    assert_eq!(tool_call.2, "processing", "the tool call was shown while the task ran, not with its end");
    assert!(result.0 >= tool_call.0 + Duration::from_millis(1500), "the 2 s tool ran between the two: {:?} then {:?}", tool_call.0, result.0);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "every line once, in order: {seqs:?}");
}

/// `--include-partial-messages`: a long-poll with `partial_after` answers as the reply grows,
/// word by word, long before the task ends; the streamed lines themselves are never stored
/// (the complete `assistant` line is), and SSE carries the same words as `partial` events.
#[tokio::test]
async fn the_reply_grows_word_by_word_and_only_the_whole_message_is_kept() {
    let dirs = Dirs::new();
    let server = Server::start(&dirs);
    let (task, session) = server.submit("new", "stream slowly #SLOWSTREAM6").await;
    let path = format!("/api/sessions/{session}/tasks/{task}/events");

    let mut seen_version = 0;
    let mut drafts: Vec<String> = Vec::new();
    let started = std::time::Instant::now();
    while drafts.len() < 3 && started.elapsed() < LONG {
        let (status, page) = server.get(&format!("{path}?after=0&wait_ms=10000&partial_after={seen_version}")).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["status"], "processing", "words come while the task runs: {page}");
        if let Some(partial) = page.get("partial").filter(|p| p["version"].as_u64() > Some(seen_version)) {
            seen_version = partial["version"].as_u64().expect("version");
            let text = partial["text"].as_str().expect("text").to_owned();
            if !text.is_empty() && drafts.last() != Some(&text) {
                drafts.push(text);
            }
        }
    }
    assert!(drafts.len() >= 3, "the reply was seen growing: {drafts:?}");
    for pair in drafts.windows(2) {
        assert!(pair[1].starts_with(&pair[0]) && pair[1].len() > pair[0].len(), "each answer adds words: {drafts:?}");
    }
    assert!(drafts[0].starts_with("word0"), "{drafts:?}");

    // SSE connected meanwhile: the words as `partial` events, then the stored lines and the end.
    let live = sse(&server, &path, None).await;
    assert!(live.iter().any(|e| e.1 == "partial" && e.0.is_none()), "{live:?}");

    let done = server.wait_finished(&session, &task, LONG).await;
    assert_eq!(done["status"], "completed");
    let (_, page) = server.get(&format!("{path}?after=0")).await;
    let events = page["events"].as_array().expect("events");
    assert!(events.iter().all(|e| e["event"]["type"] != "stream_event"), "streamed words are not stored");
    let reply = "word0 word1 word2 word3 word4 word5 ";
    assert!(
        events.iter().any(|e| e["event"]["type"] == "assistant" && e["event"]["message"]["content"][0]["text"] == reply),
        "the whole message is: {page}"
    );
    assert!(page.get("partial").is_none(), "a finished task has no reply being written");
    assert!(
        dirs.invocations().iter().all(|i| i["argv"].as_array().is_some_and(|a| a.iter().any(|x| x == "--include-partial-messages"))),
        "the CLI is asked for the words"
    );
}
