//! A project's git state and files, read-only: `/api/projects/{id}/…`.
//!
//! Today the server has one project, `default`; [`project_dir`] is the one place a project id
//! becomes a directory, so more projects plug in there.

use super::error::{ApiError, ErrorBody};
use super::json::ApiQuery;
use crate::changes::{files, git};
use crate::state::AppState;
use app::api::{DirListing, FileChange, FileText, GitState};
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use std::path::PathBuf;

/// The id of the project `--project` names.
pub const DEFAULT_PROJECT: &str = "default";

/// The canonical directory of the project `id`.
pub fn project_dir(state: &AppState, id: &str) -> Result<PathBuf, ApiError> {
    match id {
        DEFAULT_PROJECT => Ok(state.project.clone()),
        _ => Err(ApiError::NotFound(format!("no project {:?}", id.chars().take(64).collect::<String>()))),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PathQuery {
    /// Relative to the project (`..`, absolute paths and git's folder are refused); empty or
    /// absent for the project itself.
    path: Option<String>,
}

/// `GET /api/projects/{id}/git` → branch, upstream, ahead/behind and the changed files.
#[utoipa::path(get, path = "/api/projects/{id}/git", tag = "projects",
    params(("id" = String, Path, description = "`default`: the project `--project` names")),
    responses((status = 200, body = GitState), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn git_state(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<GitState>, ApiError> {
    let dir = project_dir(&state, &id)?;
    Ok(Json(git::state(&dir).await?))
}

/// `GET /api/projects/{id}/git/diff?path=` → a file's working-tree diff against `HEAD` (`null`
/// when it has none).
#[utoipa::path(get, path = "/api/projects/{id}/git/diff", tag = "projects",
    params(("id" = String, Path), PathQuery),
    responses((status = 200, body = Option<FileChange>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn git_diff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<Json<Option<FileChange>>, ApiError> {
    let dir = project_dir(&state, &id)?;
    let path = query.path.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::BadRequest("give the file's path: ?path=".into()))?;
    Ok(Json(files::git_diff(dir, path).await?))
}

/// `GET /api/projects/{id}/files?path=` → a directory's entries, without what `.gitignore`
/// leaves out.
#[utoipa::path(get, path = "/api/projects/{id}/files", tag = "projects",
    params(("id" = String, Path), PathQuery),
    responses((status = 200, body = DirListing), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn list_files(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<Json<DirListing>, ApiError> {
    let dir = project_dir(&state, &id)?;
    Ok(Json(files::list(dir, query.path.unwrap_or_default()).await?))
}

/// `GET /api/projects/{id}/file?path=` → a text file (at most 1 MiB) and its language; 413 for a
/// larger one, 415 for a binary one, 403 for an `.env`-like one or a symlink out of the project.
#[utoipa::path(get, path = "/api/projects/{id}/file", tag = "projects",
    params(("id" = String, Path), PathQuery),
    responses(
        (status = 200, body = FileText),
        (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn read_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<PathQuery>,
) -> Result<Json<FileText>, ApiError> {
    let dir = project_dir(&state, &id)?;
    let path = query.path.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::BadRequest("give the file's path: ?path=".into()))?;
    Ok(Json(files::read(dir, path).await?))
}
