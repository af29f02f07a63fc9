//! A task's output lines as they happen: Server-Sent Events with an `id:` per line (resuming after
//! `Last-Event-ID`), or JSON after `?after=N` for clients that poll.
//!
//! A stream ends by itself before a tunnel's ~100 s cut; the browser's EventSource reconnects with
//! `Last-Event-ID` and continues where it was, so nothing is missed and nothing comes twice.

use super::error::{ApiError, ErrorBody};
use super::paths;
use crate::runner::Runner;
use crate::store::PageLimit;
use crate::state::AppState;
use app::api::{SessionRef, TaskStatus};
use super::json::ApiQuery;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;
use uuid::Uuid;

/// Well under Cloudflare's ~100 s limit per request.
const STREAM_LIFETIME: Duration = Duration::from_secs(85);
const HEARTBEAT: Duration = Duration::from_secs(15);
/// How often a waiting stream looks at the store even without a wake-up.
const RECHECK: Duration = Duration::from_secs(2);
/// The largest line number a client may resume after.
const MAX_SEQ: u64 = i64::MAX as u64;

/// The longest a long-poll waits: well under a tunnel's ~100 s cut.
const MAX_WAIT_MS: u64 = 60_000;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Serve lines after this sequence number (`Last-Event-ID` wins when both are given).
    after: Option<u64>,
    /// JSON only: wait up to this many ms (at most 60,000) for a first line after `after`, or the
    /// task's end, before answering. The long-poll form, for proxies that hold back a stream.
    wait_ms: Option<u64>,
    /// JSON only: at most this many lines (1 to 500, the default); a page also stops at about
    /// 1 MiB of lines, and `more` says whether lines remain after it.
    limit: Option<usize>,
    /// JSON only: with `wait_ms`, also answer as soon as the reply being written (`partial`) is
    /// newer than this version (0: any words at all).
    partial_after: Option<u64>,
}

/// The task's output lines: `text/event-stream` (one `line` event per line with its `id`, a
/// `partial` event `{text, version}` as the reply being written grows, then `end`) when asked for, else a page of JSON `{status, events: [{seq, event}], after, more,
/// partial?: {text, version}}` (`partial`: the reply being written, never stored)
/// (at most `limit` lines, 500 and about 1 MiB by default and at most; ask again from `after`
/// while `more`), at once or, with `wait_ms`, as soon as there is a line after `after`
/// (long-poll). The stream reads the store a page at a time too.
#[utoipa::path(get, path = "/api/sessions/{session_id}/tasks/{task_id}/events", tag = "tasks",
    params(("session_id" = String, Path), ("task_id" = String, Path), EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this line")),
    responses((status = 200, description = "Server-Sent Events or JSON"), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Path((session_id, task_id)): Path<(String, String)>,
    ApiQuery(query): ApiQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    let resume_from = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let after = resume_from.or(query.after).unwrap_or(0);
    // Sequence numbers are stored as SQLite integers: a larger one would wrap to a negative number
    // and replay everything.
    if after > MAX_SEQ {
        return Err(ApiError::BadRequest(format!("after / Last-Event-ID must be at most {MAX_SEQ}")));
    }
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if !wants_stream {
        let wait = Duration::from_millis(query.wait_ms.unwrap_or(0).min(MAX_WAIT_MS));
        let limit = query.limit.map_or(PageLimit::MAX, PageLimit::lines);
        let page = state.runner.events_wait(session, task, after, limit, wait, query.partial_after).await?;
        let events: Vec<Value> = page.events.into_iter().map(|(seq, line)| json!({ "seq": seq, "event": as_json(&line) })).collect();
        let mut body = json!({ "status": page.status, "events": events, "after": page.after, "more": page.more });
        if let Some(partial) = page.partial {
            body["partial"] = json!(partial);
        }
        return Ok(Json(body).into_response());
    }
    // Fails with 404 before any stream starts when the task is not this session's.
    state.runner.events_page(session, task, after, PageLimit::lines(1)).await?;
    let stream = EventStream {
        runner: state.runner.clone(),
        session,
        task,
        after,
        wake: state.runner.activity(),
        deadline: Instant::now() + STREAM_LIFETIME,
        pending: VecDeque::new(),
        partial_seen: 0,
        done: false,
    };
    let stream = futures_util::stream::unfold(stream, |mut s| async move { s.next().await.map(|event| (Ok::<_, Infallible>(event), s)) });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(HEARTBEAT)).into_response())
}

fn as_json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|_| Value::String(line.to_owned()))
}

struct EventStream {
    runner: Runner,
    session: SessionRef,
    task: Uuid,
    after: u64,
    wake: tokio::sync::broadcast::Receiver<Uuid>,
    deadline: Instant,
    pending: VecDeque<Event>,
    /// The version of the reply being written last sent (`partial` events carry no `id`: they
    /// are superseded, not resumed).
    partial_seen: u64,
    done: bool,
}

impl EventStream {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            if self.done || Instant::now() >= self.deadline {
                return None;
            }
            // One page at a time: the next is read once this one is sent.
            let (page, status) = match self.runner.events_page(self.session, self.task, self.after, PageLimit::MAX).await {
                Ok(found) => found,
                Err(_) => {
                    // Deleted meanwhile.
                    self.done = true;
                    return Some(Event::default().event("end").data(json!({ "status": TaskStatus::NotFound }).to_string()));
                }
            };
            for (seq, line) in page.lines {
                self.after = seq;
                self.pending.push_back(Event::default().id(seq.to_string()).event("line").data(line));
            }
            if let Some(partial) = self.runner.partial(self.task).filter(|p| p.version > self.partial_seen) {
                self.partial_seen = partial.version;
                self.pending.push_back(Event::default().event("partial").data(json!(partial).to_string()));
            }
            if self.pending.is_empty() {
                if status.is_finished() {
                    self.done = true;
                    return Some(Event::default().event("end").data(json!({ "status": status }).to_string()));
                }
                let wait_until = self.deadline.min(Instant::now() + RECHECK);
                loop {
                    match tokio::time::timeout_at(wait_until, self.wake.recv()).await {
                        Ok(Ok(id)) if id != self.task => continue,
                        _ => break,
                    }
                }
            }
        }
    }
}
