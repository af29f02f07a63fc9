//! Sessions of the configured project and their transcripts.

use super::error::ApiError;
use super::paths;
use crate::state::AppState;
use app::api::{SessionList, Transcript};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
}

/// `GET /api/sessions?limit=N` → newest first, 20 by default, at most 100.
pub async fn list(State(state): State<AppState>, Query(query): Query<ListQuery>) -> Result<Json<SessionList>, ApiError> {
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
pub async fn messages(State(state): State<AppState>, Path(session_id): Path<String>) -> Result<Json<Transcript>, ApiError> {
    let id = paths::existing_session(&session_id)?;
    Ok(Json(state.runner.transcript(id).await?))
}
