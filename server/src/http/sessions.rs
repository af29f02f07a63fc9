//! Sessions of every project and their transcripts.

use super::error::{ApiError, ErrorBody};
use super::json::{ApiJson, ApiQuery};
use super::paths;
use crate::state::AppState;
use app::api::{Caller, SessionList, SessionPatch, SessionQuery, SessionSummary, Transcript};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// 1 to 100 (default 20).
    limit: Option<String>,
    /// `true` lists only the archived sessions (default: only the others).
    archived: Option<String>,
    /// The caller's offset from UTC in minutes (JavaScript's `-new Date().getTimezoneOffset()`),
    /// for `spend`'s today and this month (default 0: UTC).
    utc_offset_minutes: Option<String>,
    /// Only this project's sessions (an id from `GET /api/projects`); absent: every project's.
    project: Option<String>,
    /// Only sessions whose title, first or last prompt contains this (case-insensitive, at most
    /// 200 characters).
    q: Option<String>,
}

/// `GET /api/sessions?limit=N&archived=true&utc_offset_minutes=M&project=ID&q=TEXT` → newest
/// first, 20 by default, at most 100, each with its state, cost and project; and `spend` (today,
/// this month).
#[utoipa::path(get, path = "/api/sessions", tag = "sessions", params(ListQuery),
    responses((status = 200, body = SessionList), (status = 400, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn list(State(state): State<AppState>, ApiQuery(query): ApiQuery<ListQuery>) -> Result<Json<SessionList>, ApiError> {
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(ApiError::BadRequest(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    };
    let archived = flag(query.archived.as_deref(), "archived")?;
    let utc_offset_minutes = match query.utc_offset_minutes.as_deref() {
        None => 0,
        // Out of range is the runner's to refuse, for both doors alike.
        Some(raw) => raw.parse::<i32>().map_err(|_| ApiError::BadRequest(crate::runner::SessionError::UtcOffset.to_string()))?,
    };
    let query = SessionQuery { limit, archived, utc_offset_minutes, project: query.project, q: query.q };
    Ok(Json(state.runner.sessions(query).await?))
}

/// `GET /api/sessions/{session_id}/messages` → the transcript as ordered turns.
#[utoipa::path(get, path = "/api/sessions/{session_id}/messages", tag = "sessions",
    params(("session_id" = String, Path)),
    responses((status = 200, body = Transcript), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn messages(State(state): State<AppState>, Path(session_id): Path<String>) -> Result<Json<Transcript>, ApiError> {
    let id = paths::existing_session(&session_id)?;
    Ok(Json(state.runner.transcript(id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DeleteQuery {
    /// `true` also deletes the CLI's transcript file (refused with 409 while a task runs).
    transcript: Option<String>,
}

/// `PATCH /api/sessions/{session_id}` `{"title"?: "…" | null, "archived"?: bool}` → the session
/// as listed.
#[utoipa::path(patch, path = "/api/sessions/{session_id}", tag = "sessions",
    params(("session_id" = String, Path)), request_body = SessionPatch,
    responses((status = 200, body = SessionSummary), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn update(
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    ApiJson(patch): ApiJson<SessionPatch>,
) -> Result<Json<SessionSummary>, ApiError> {
    let id = paths::existing_session(&session_id)?;
    Ok(Json(state.runner.update_session(id, patch).await?))
}

/// `DELETE /api/sessions/{session_id}?transcript=true` → 204: its tasks stopped and forgotten, the
/// session hidden; the CLI's transcript kept unless `transcript=true`.
#[utoipa::path(delete, path = "/api/sessions/{session_id}", tag = "sessions",
    params(("session_id" = String, Path), DeleteQuery),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(session_id): Path<String>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<StatusCode, ApiError> {
    let id = paths::existing_session(&session_id)?;
    let transcript = flag(query.transcript.as_deref(), "transcript")?;
    state.runner.delete_session(&caller, id, transcript).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `true` or `false` (absent: false).
fn flag(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::BadRequest(format!("{name} must be true or false"))),
    }
}
