//! A stand-in Anthropic Messages API for the real `claude` CLI, on 127.0.0.1.
//!
//! `POST /v1/messages` answers like the real API: server-sent events when the request asks to
//! stream (message_start, content_block_start/delta/stop, message_delta, message_stop), a plain
//! JSON message otherwise. What it answers is scripted by markers in the user's prompt:
//! - `#BASH:<command>`: a Bash tool call (the command runs to the next marker or the prompt's end);
//! - `#WRITE:<absolute path>`: a Write tool call;
//! - `#ASK`: an `AskUserQuestion` call ("Which colour should the button be?", Red or Blue);
//! - `#PLAN`: an `ExitPlanMode` call with a three-step Markdown plan;
//! - these four may be combined: one tool call per API call, in prompt order, then (after the
//!   last tool result) "Tool said: [is_error=<bool>] <the result's first 300 characters>", as the
//!   stand-in that recorded `fixtures/claude-cli/stdio/` answered (input shapes from there too);
//! - `#ERR<status>`: an API error with that HTTP status;
//! - `#SLOW=<seconds>`: wait before answering;
//! - anything else: "Stand-in reply to: <prompt>".
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct StandInApi {
    pub url: String,
    /// Every request body received.
    pub requests: Arc<Mutex<Vec<Value>>>,
}

pub async fn start() -> StandInApi {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/v1/messages", post(messages))
        .route("/v1/messages/count_tokens", post(|| async { Json(json!({ "input_tokens": 10 })) }))
        .fallback(any(|| async { StatusCode::OK }))
        .with_state(requests.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the stand-in API");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    StandInApi { url, requests }
}

enum Reply {
    Text(String),
    Tool { name: &'static str, input: Value },
}

async fn messages(State(requests): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>) -> Response {
    if let Ok(mut all) = requests.lock() {
        all.push(body.clone());
    }
    let prompt = latest_prompt(&body).unwrap_or_default();
    if let Some(seconds) = marker(&prompt, "#SLOW=").and_then(|v| v.parse::<f64>().ok()) {
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    }
    if let Some(status) = marker(&prompt, "#ERR").and_then(|v| v.parse::<u16>().ok()) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let kind = if status.as_u16() == 529 { "overloaded_error" } else { "api_error" };
        let error = json!({ "type": "error", "error": { "type": kind, "message": format!("Stand-in {} error", status.as_u16()) } });
        return (status, Json(error)).into_response();
    }
    let steps = tool_steps(&prompt);
    let reply = match (steps.get(tools_called_since_prompt(&body)), last_tool_result(&body)) {
        (Some((name, input)), _) => Reply::Tool { name, input: input.clone() },
        (None, Some((text, is_error))) => {
            let quoted: String = text.chars().take(TOOL_SAID_LIMIT).collect();
            Reply::Text(format!("Tool said: [is_error={is_error}] {quoted}"))
        }
        (None, None) => Reply::Text(format!("Stand-in reply to: {prompt}")),
    };
    let model = body["model"].as_str().unwrap_or("claude-stand-in").to_owned();
    if body["stream"].as_bool() == Some(true) {
        streamed(&model, reply)
    } else {
        Json(message(&model, &reply)).into_response()
    }
}

/// How much of a tool result the final reply quotes (as the recording stand-in did).
const TOOL_SAID_LIMIT: usize = 300;
pub const ASK_QUESTION: &str = "Which colour should the button be?";
pub const PLAN: &str = "## Plan\n1. Read the code\n2. Change the button colour\n3. Run the tests";
/// Every marker a `#BASH:` command stops at.
const MARKERS: [&str; 14] = ["#WRITE:", "#READ:", "#EDIT:", "#NOTEBOOK:", "#BASH:", "#ASK", "#PLAN", "#SLOW", "#TOOL", "#DENY", "#ERR", "#CRASH", "#PLAINERR", "#MAXTURNS"];

/// The tool calls a prompt scripts, in prompt order.
fn tool_steps(prompt: &str) -> Vec<(&'static str, Value)> {
    let starts: Vec<(usize, &str)> =
        prompt.match_indices('#').filter_map(|(at, _)| MARKERS.iter().find(|m| prompt[at..].starts_with(*m)).map(|m| (at, *m))).collect();
    let mut steps = Vec::new();
    for (i, &(at, name)) in starts.iter().enumerate() {
        let rest = &prompt[at + name.len()..];
        let until_next = starts.get(i + 1).map_or(rest, |&(next, _)| &prompt[at + name.len()..next]);
        match name {
            "#WRITE:" => {
                let path = rest.split_whitespace().next().unwrap_or("");
                if !path.is_empty() {
                    steps.push(("Write", json!({ "file_path": path, "content": "written by the stand-in\n" })));
                }
            }
            // The real CLI edits only a file it has read in the session.
            "#READ:" => {
                if let Some(path) = rest.split_whitespace().next() {
                    steps.push(("Read", json!({ "file_path": path })));
                }
            }
            // `#EDIT:path|old|new`: one replacement (the words up to the line's end).
            "#EDIT:" => {
                if let [path, old, new] = fields(rest)[..] {
                    steps.push(("Edit", json!({ "file_path": path, "old_string": old, "new_string": new })));
                }
            }
            // `#NOTEBOOK:path|cell id|new source`: replaces one cell of a notebook.
            "#NOTEBOOK:" => {
                if let [path, cell, source] = fields(rest)[..] {
                    steps.push(("NotebookEdit", json!({ "notebook_path": path, "cell_id": cell, "new_source": source, "edit_mode": "replace" })));
                }
            }
            "#BASH:" if !until_next.trim().is_empty() => {
                steps.push(("Bash", json!({ "command": until_next.trim(), "description": "Run stand-in command" })));
            }
            "#ASK" => steps.push((
                "AskUserQuestion",
                json!({ "questions": [{
                    "question": ASK_QUESTION,
                    "header": "Colour",
                    "multiSelect": false,
                    "options": [{ "label": "Red", "description": "A warm red" }, { "label": "Blue", "description": "A calm blue" }],
                }] }),
            )),
            "#PLAN" => steps.push(("ExitPlanMode", json!({ "plan": PLAN }))),
            _ => {}
        }
    }
    steps
}

/// A marker's `|`-separated fields, up to the end of its line.
fn fields(rest: &str) -> Vec<&str> {
    rest.lines().next().unwrap_or("").trim().split('|').collect()
}

/// Tool calls the assistant made since the user's latest prompt: the next scripted step.
fn tools_called_since_prompt(body: &Value) -> usize {
    let Some(messages) = body["messages"].as_array() else { return 0 };
    let prompt_at = messages.iter().rposition(|m| m["role"] == "user" && !has_tool_result(m) && user_text(m).is_some()).unwrap_or(0);
    messages[prompt_at..]
        .iter()
        .filter(|m| m["role"] == "assistant")
        .filter_map(|m| m["content"].as_array())
        .map(|blocks| blocks.iter().filter(|b| b["type"] == "tool_use").count())
        .sum()
}

fn has_tool_result(message: &Value) -> bool {
    message["content"].as_array().is_some_and(|blocks| blocks.iter().any(|b| b["type"] == "tool_result"))
}

/// The latest prompt the user typed (tool results are not prompts); markers live there.
fn latest_prompt(body: &Value) -> Option<String> {
    body["messages"].as_array()?.iter().rev().filter(|m| m["role"] == "user").find_map(user_text)
}

fn user_text(message: &Value) -> Option<String> {
    match &message["content"] {
        Value::String(text) => Some(text.clone()),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .rfind(|t| !t.starts_with("<system-reminder>"))
            .map(str::to_owned),
        _ => None,
    }
}

/// The tool result the conversation ends with, if it does.
fn last_tool_result(body: &Value) -> Option<(String, bool)> {
    let last_user = body["messages"].as_array()?.iter().rev().find(|m| m["role"] == "user")?;
    let block = last_user["content"].as_array()?.iter().find(|b| b["type"] == "tool_result")?;
    let text = match &block["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(" "),
        _ => String::new(),
    };
    Some((text.trim().to_owned(), block["is_error"].as_bool().unwrap_or(false)))
}

/// The word right after `name` (`#SLOW=2.5`, `#ERR529`).
fn marker(prompt: &str, name: &str) -> Option<String> {
    let start = prompt.find(name)? + name.len();
    prompt[start..].lines().next()?.split_whitespace().next().map(str::to_owned)
}

fn content(reply: &Reply) -> Value {
    match reply {
        Reply::Text(text) => json!([{ "type": "text", "text": text }]),
        Reply::Tool { name, input } => json!([{ "type": "tool_use", "id": tool_id(), "name": name, "input": input }]),
    }
}

fn stop_reason(reply: &Reply) -> &'static str {
    match reply {
        Reply::Text(_) => "end_turn",
        Reply::Tool { .. } => "tool_use",
    }
}

fn tool_id() -> String {
    format!("toolu_{}", uuid::Uuid::new_v4().simple())
}

fn message(model: &str, reply: &Reply) -> Value {
    json!({
        "id": format!("msg_{}", uuid::Uuid::new_v4().simple()),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content(reply),
        "stop_reason": stop_reason(reply),
        "stop_sequence": null,
        "usage": { "input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0 },
    })
}

fn streamed(model: &str, reply: Reply) -> Response {
    let mut start = message(model, &reply);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"]["output_tokens"] = json!(1);
    let mut events = vec![("message_start", json!({ "type": "message_start", "message": start }))];
    match &reply {
        Reply::Text(text) => {
            events.push(("content_block_start", json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "text", "text": "" } })));
            // Two deltas, as a real stream would split it.
            let cut = text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(i, _)| i);
            for part in [&text[..cut], &text[cut..]] {
                events.push(("content_block_delta", json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "text_delta", "text": part } })));
            }
        }
        Reply::Tool { name, input } => {
            events.push((
                "content_block_start",
                json!({ "type": "content_block_start", "index": 0, "content_block": { "type": "tool_use", "id": tool_id(), "name": name, "input": {} } }),
            ));
            events.push((
                "content_block_delta",
                json!({ "type": "content_block_delta", "index": 0, "delta": { "type": "input_json_delta", "partial_json": input.to_string() } }),
            ));
        }
    }
    events.push(("content_block_stop", json!({ "type": "content_block_stop", "index": 0 })));
    events.push((
        "message_delta",
        json!({ "type": "message_delta", "delta": { "stop_reason": stop_reason(&reply), "stop_sequence": null }, "usage": { "output_tokens": 5 } }),
    ));
    events.push(("message_stop", json!({ "type": "message_stop" })));
    let body: String = events.into_iter().map(|(name, data)| format!("event: {name}\ndata: {data}\n\n")).collect();
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header("request-id", format!("req_{}", uuid::Uuid::new_v4().simple()))
        .body(Body::from(body))
        .unwrap_or_default()
}
