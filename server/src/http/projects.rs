//! The projects a session may run in (`GET`/`POST /api/projects`), and each one's git state and
//! files, read-only (`/api/projects/{id}/…`).

use super::error::{ApiError, ErrorBody};
use super::json::{ApiJson, ApiQuery};
use crate::changes::{files, git};
use crate::projects::ProjectError;
use crate::runner::RunnerError;
use crate::state::AppState;
use app::api::{DirListing, FileChange, FileText, FolderListing, GitState, NewProject, ProjectInfo};
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use std::path::PathBuf;

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

#[derive(Deserialize, utoipa::IntoParams)]
pub struct FolderQuery {
    /// An absolute path under an allowed root; absent for the roots themselves.
    path: Option<String>,
}

/// `GET /api/projects/folders?path=` → the allowed roots, or the folders in one folder under
/// them (by name, hidden ones left out): a project chosen by browsing; 400 outside the roots.
#[utoipa::path(get, path = "/api/projects/folders", tag = "projects", params(FolderQuery),
    responses((status = 200, body = FolderListing), (status = 400, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn folders(State(state): State<AppState>, ApiQuery(query): ApiQuery<FolderQuery>) -> Result<Json<FolderListing>, ApiError> {
    Ok(Json(state.runner.project_folders(query.path).await?))
}

/// The canonical directory of the project `id` (`default`, or an id `GET /api/projects` lists).
/// An id nothing lists is a 404 here (in a submit's body it is a bad request).
async fn project_dir(state: &AppState, id: &str) -> Result<PathBuf, ApiError> {
    state.runner.project_dir(id.to_owned()).await.map_err(|error| match error {
        RunnerError::Project(ProjectError::UnknownId(id)) => ApiError::NotFound(format!("no project {id:?}")),
        other => other.into(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PathQuery {
    /// Relative to the project (`..`, absolute paths and git's folder are refused); empty or
    /// absent for the project itself.
    path: Option<String>,
}

impl PathQuery {
    /// The file the query names, which a file's routes need; 400 without one.
    fn file(self) -> Result<String, ApiError> {
        self.path.filter(|p| !p.is_empty()).ok_or_else(|| ApiError::BadRequest("give the file's path: ?path=".into()))
    }
}

/// `GET /api/projects/{id}/git` → branch, upstream, ahead/behind and the changed files.
#[utoipa::path(get, path = "/api/projects/{id}/git", tag = "projects",
    params(("id" = String, Path, description = "A project's `id`, or `default`: the project `--project` names")),
    responses((status = 200, body = GitState), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn git_state(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<GitState>, ApiError> {
    let dir = project_dir(&state, &id).await?;
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
    let dir = project_dir(&state, &id).await?;
    let path = query.file()?;
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
    let dir = project_dir(&state, &id).await?;
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
    let dir = project_dir(&state, &id).await?;
    let path = query.file()?;
    Ok(Json(files::read(dir, path).await?))
}
