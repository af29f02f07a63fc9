//! The asynchronous chat API: submit, poll, clean up.

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::paths;
use crate::state::AppState;
use app::api::{Caller, ChatRequest, Submitted, TaskChanges, TaskView};
use axum::extract::{Path, State};
use axum::Extension;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// `POST /api/sessions/{session_id}/chat` → `{task_id, status, session_id}` at once.
#[utoipa::path(post, path = "/api/sessions/{session_id}/chat", tag = "tasks",
    params(("session_id" = String, Path, description = "`new`, or the UUID of a session to resume")),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "Queued or started", body = Submitted),
        (status = 400, description = "Bad session id, JSON or option", body = ErrorBody),
        (status = 413, description = "Body or message too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 429, description = "Too many unfinished tasks in the session or in all", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(session_id): Path<String>,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let session = paths::session(&session_id)?;
    let submitted = state.runner.submit(&caller, session, request).await?;
    Ok((StatusCode::OK, Json(submitted)))
}

/// `GET /api/sessions/{session_id}/tasks/{task_id}`.
#[utoipa::path(get, path = "/api/sessions/{session_id}/tasks/{task_id}", tag = "tasks",
    params(("session_id" = String, Path, description = "`new` or the task's session"), ("task_id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 404, description = "`{\"status\": \"not_found\"}`", body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn poll(State(state): State<AppState>, Path((session_id, task_id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    Ok(Json(state.runner.task(session, task).await?.as_ref()).into_response())
}

/// `DELETE /api/sessions/{session_id}/tasks/{task_id}` → `{"status": "cleaned"}`; a running task
/// is stopped first, its whole process group.
#[utoipa::path(delete, path = "/api/sessions/{session_id}/tasks/{task_id}", tag = "tasks",
    params(("session_id" = String, Path), ("task_id" = String, Path)),
    responses((status = 200, description = "`{\"status\": \"cleaned\"}`"), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
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
#[utoipa::path(post, path = "/api/sessions/{session_id}/tasks/{task_id}/cancel", tag = "tasks",
    params(("session_id" = String, Path), ("task_id" = String, Path)),
    responses((status = 200, body = TaskView), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((session_id, task_id)): Path<(String, String)>,
) -> Result<Json<TaskView>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    Ok(Json(state.runner.cancel(&caller, session, task).await?))
}

/// `GET /api/sessions/{session_id}/tasks/{task_id}/changes` → the files the task changed, each
/// with a unified diff and its lines added and removed.
#[utoipa::path(get, path = "/api/sessions/{session_id}/tasks/{task_id}/changes", tag = "tasks",
    params(("session_id" = String, Path), ("task_id" = String, Path)),
    responses((status = 200, body = TaskChanges), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn changes(State(state): State<AppState>, Path((session_id, task_id)): Path<(String, String)>) -> Result<Json<TaskChanges>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    let (project, edits, snapshots) = state.runner.edits(session, task).await?;
    Ok(Json(crate::changes::task::changes(&project, edits, snapshots).await?))
}
