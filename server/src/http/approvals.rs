//! `POST /api/sessions/{session_id}/tasks/{task_id}/approvals/{approval_id}`: allow or deny what
//! a running task's CLI waits on. What waits is in the task's poll (`pending_approvals`).

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use super::paths;
use crate::state::AppState;
use app::api::{ApprovalDecision, Caller, DecidedApproval};
use axum::extract::{Path, State};
use axum::{Extension, Json};

#[utoipa::path(post, path = "/api/sessions/{session_id}/tasks/{task_id}/approvals/{approval_id}", tag = "tasks",
    params(
        ("session_id" = String, Path, description = "`new` or the task's session"),
        ("task_id" = String, Path),
        ("approval_id" = String, Path, description = "An `id` of the task's `pending_approvals`"),
    ),
    request_body = ApprovalDecision,
    responses(
        (status = 200, description = "Decided and sent to the CLI", body = DecidedApproval),
        (status = 400, description = "Bad ids or body", body = ErrorBody),
        (status = 404, description = "No such task or approval", body = ErrorBody),
        (status = 409, description = "Already decided or withdrawn", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((session_id, task_id, approval_id)): Path<(String, String, String)>,
    ApiJson(decision): ApiJson<ApprovalDecision>,
) -> Result<Json<DecidedApproval>, ApiError> {
    let (session, task) = (paths::session(&session_id)?, paths::task(&task_id)?);
    Ok(Json(state.runner.decide(&caller, session, task, &approval_id, decision).await?))
}
