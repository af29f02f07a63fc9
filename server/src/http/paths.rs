//! Path segments, validated before they reach the runner, a file or a process.

use super::error::ApiError;
use app::api::SessionRef;
use uuid::Uuid;

pub fn session(raw: &str) -> Result<SessionRef, ApiError> {
    raw.parse().map_err(|e: app::api::InvalidSessionRef| ApiError::BadRequest(e.to_string()))
}

pub fn existing_session(raw: &str) -> Result<Uuid, ApiError> {
    match session(raw)? {
        SessionRef::Existing(id) => Ok(id),
        SessionRef::New => Err(ApiError::BadRequest("a new session has no messages yet; give a session UUID".into())),
    }
}

pub fn task(raw: &str) -> Result<Uuid, ApiError> {
    match Uuid::try_parse(raw) {
        Ok(id) if raw.len() == 36 => Ok(id),
        _ => Err(ApiError::BadRequest("task_id must be a UUID".into())),
    }
}
