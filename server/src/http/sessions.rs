//! Sessions of the configured project and their transcripts.

use super::error::{ApiError, ErrorBody};
use super::paths;
use crate::state::AppState;
use app::api::{SessionList, Transcript};
use super::json::ApiQuery;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// 1 to 100 (default 20).
    limit: Option<String>,
}

/// `GET /api/sessions?limit=N` → newest first, 20 by default, at most 100.
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
    Ok(Json(state.runner.sessions(limit).await?))
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
