//! The asynchronous chat API: submit, poll, clean up.

use super::error::ApiError;
use super::json::ApiJson;
use super::paths;
use crate::state::AppState;
use app::api::{Caller, ChatRequest, Submitted, TaskView};
use axum::extract::{Path, State};
use axum::Extension;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// `POST /api/sessions/{session_id}/chat` → `{task_id, status, session_id}` at once.
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(session_id): Path<String>,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let session = paths::session(&session_id)?;
    let submitted = state.runner.submit(&caller, session, request)?;
    Ok((StatusCode::OK, Json(submitted)))
}

/// `GET /api/sessions/{session_id}/tasks/{task_id}`.
pub async fn poll(State(state): State<AppState>, Path((session_id, task_id)): Path<(String, String)>) -> Result<Json<TaskView>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    Ok(Json(state.runner.task(session, task)?))
}

/// `DELETE /api/sessions/{session_id}/tasks/{task_id}` → `{"status": "cleaned"}`; a running task
/// is stopped first, its whole process group.
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((session_id, task_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    state.runner.delete(&caller, session, task).await?;
    Ok(Json(json!({ "status": "cleaned" })))
}

/// `POST /api/sessions/{session_id}/tasks/{task_id}/cancel` → the task as it ended (`cancelled`,
/// with what it had produced); a queued task never starts.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((session_id, task_id)): Path<(String, String)>,
) -> Result<Json<TaskView>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    Ok(Json(state.runner.cancel(&caller, session, task).await?))
}
