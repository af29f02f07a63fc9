//! `POST /api/chat`: the original's synchronous call, kept for old clients. It submits through
//! the same runner and waits (without holding anything else up) until the task ends or the
//! timeout passes; then it answers with the task id so the client can poll.

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::state::AppState;
use app::api::{Caller, ChatRequest, SessionRef, TaskStatus};
use axum::extract::State;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LegacyChat {
    message: String,
    #[serde(default)]
    session_id: Option<String>,
}

#[utoipa::path(post, path = "/api/chat", tag = "legacy", request_body = LegacyChat,
    responses((status = 200, description = "`{response, session_id, cost, turns, success, error, task_id, status}`"), (status = 400, body = ErrorBody),
        (status = 429, description = "Too many unfinished tasks", body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn chat(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<LegacyChat>,
) -> Result<Json<Value>, ApiError> {
    let session = match body.session_id.as_deref() {
        None | Some("") => SessionRef::New,
        Some(raw) => super::paths::session(raw)?,
    };
    let submitted = state.runner.submit(&caller, session, ChatRequest { message: body.message, ..Default::default() }).await?;
    let task = state.runner.wait(submitted.task_id, state.sync_timeout).await?;
    let result = task.result.as_ref();
    let field = |key: &str| result.and_then(|r| r.get(key)).cloned().unwrap_or(Value::Null);
    let error = match task.status {
        TaskStatus::Completed => Value::Null,
        status if status.is_finished() => json!(task.error),
        // The wait ends early when the CLI asks for a decision: this door cannot answer it.
        _ if !task.pending_approvals.is_empty() => json!(format!(
            "waiting for your decision on {}; answer at POST /api/sessions/{}/tasks/{}/approvals/{{id}}",
            task.pending_approvals[0].tool_name, submitted.session_id, submitted.task_id
        )),
        _ => json!(format!(
            "still running after {} s; poll /api/sessions/{}/tasks/{}",
            state.sync_timeout.as_secs(),
            submitted.session_id,
            submitted.task_id
        )),
    };
    Ok(Json(json!({
        "response": field("result"),
        "session_id": submitted.session_id,
        "cost": field("total_cost_usd"),
        "turns": field("num_turns"),
        "success": task.status == TaskStatus::Completed,
        "error": error,
        "task_id": submitted.task_id,
        "status": task.status,
        "pending_approvals": task.pending_approvals,
    })))
}
