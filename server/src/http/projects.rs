//! The projects a session may run in.

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::state::AppState;
use app::api::{NewProject, ProjectInfo};
use axum::extract::State;
use axum::Json;

/// `GET /api/projects` → every project a session may run in, most recent first.
#[utoipa::path(get, path = "/api/projects", tag = "projects",
    responses((status = 200, body = Vec<ProjectInfo>)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<ProjectInfo>>, ApiError> {
    Ok(Json(state.runner.projects().await?))
}

/// `POST /api/projects` `{"path"}` → the project (listed from now on); 400 for a path that is not
/// a folder under an allowed root.
#[utoipa::path(post, path = "/api/projects", tag = "projects", request_body = NewProject,
    responses((status = 200, body = ProjectInfo), (status = 400, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn add(State(state): State<AppState>, ApiJson(body): ApiJson<NewProject>) -> Result<Json<ProjectInfo>, ApiError> {
    Ok(Json(state.runner.add_project(body.path).await?))
}
