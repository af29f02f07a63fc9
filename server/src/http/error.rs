//! The one place where errors become HTTP responses: a status and a JSON body
//! `{"error": ..., "code": <status>}` ([`ErrorBody`]).
//!
//! Runner and store errors are classified once, into the app's [`BackendError`] (which names
//! the status): the server functions answer with it, and the REST routes turn it into an
//! [`ApiError`] of the same status.

use crate::changes::ChangesError;
use crate::claude::invocation::InvalidRequest;
use crate::push::PushError;
use crate::runner::{ApprovalError, RunnerError, SessionError};
use crate::store::StoreError;
pub use app::api::ErrorBody;
use app::api::{BackendError, STORE_RETRY_AFTER_SECS};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized,
    /// Like `Unauthorized`, without the Basic challenge (for the app's own calls).
    #[error("sign in first")]
    SignInRequired,
    #[error("too many failed sign-ins; try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(Duration),
    /// Too many tasks wait already: no retry time can be promised, so no `Retry-After`.
    #[error("{0}")]
    QueueFull(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    NotFound(String),
    /// The thing was settled already (an approval decided or withdrawn), or is busy (a session
    /// whose task still runs).
    #[error("{0}")]
    Conflict(String),
    /// The store cannot take a write now (another writer holds it): retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// The disk, or the database's size limit, is full.
    #[error("{0}")]
    InsufficientStorage(String),
    /// A service this server calls (a browser's push service) failed.
    #[error("{0}")]
    BadGateway(String),
    /// Logged where it was classified; the client only learns that it happened.
    #[error("internal error")]
    Internal,
}

/// The classification of runner errors, shared by both doors.
impl From<RunnerError> for BackendError {
    fn from(error: RunnerError) -> Self {
        match error {
            RunnerError::Invalid(InvalidRequest::MessageTooLong(_)) => BackendError::TooLarge(error.to_string()),
            RunnerError::Invalid(_)
            | RunnerError::Approval(ApprovalError::Invalid(_))
            | RunnerError::Project(_)
            | RunnerError::Session(SessionError::TitleTooLong | SessionError::TitleNotOneLine | SessionError::UtcOffset | SessionError::QueryTooLong) => {
                BackendError::InvalidInput(error.to_string())
            }
            RunnerError::TaskNotFound(_) | RunnerError::SessionNotFound(_) | RunnerError::Approval(ApprovalError::NotFound(_)) => {
                BackendError::NotFound(error.to_string())
            }
            RunnerError::QueueFull(_) => BackendError::Busy(error.to_string()),
            RunnerError::Approval(ApprovalError::Settled { .. }) | RunnerError::Session(SessionError::Busy(_)) => {
                BackendError::Conflict(error.to_string())
            }
            RunnerError::Store(StoreError::Busy) => BackendError::Unavailable(error.to_string()),
            RunnerError::Store(StoreError::Full) => BackendError::StorageFull(error.to_string()),
            RunnerError::Store(_) | RunnerError::Io { .. } => {
                tracing::error!(%error, "request failed");
                BackendError::Internal("internal error".into())
            }
        }
    }
}

impl From<StoreError> for BackendError {
    fn from(error: StoreError) -> Self {
        RunnerError::Store(error).into()
    }
}

impl From<BackendError> for ApiError {
    fn from(error: BackendError) -> Self {
        match error {
            BackendError::InvalidInput(message) => ApiError::BadRequest(message),
            BackendError::TooLarge(message) => ApiError::PayloadTooLarge(message),
            BackendError::NotFound(message) => ApiError::NotFound(message),
            BackendError::Unauthorized(_) => ApiError::SignInRequired,
            BackendError::Throttled(_, seconds) => ApiError::TooManyAttempts(Duration::from_secs(seconds)),
            BackendError::Busy(message) => ApiError::QueueFull(message),
            BackendError::Conflict(message) => ApiError::Conflict(message),
            BackendError::Unavailable(message) => ApiError::Unavailable(message),
            BackendError::StorageFull(message) => ApiError::InsufficientStorage(message),
            BackendError::Internal(_) => ApiError::Internal,
        }
    }
}

impl From<RunnerError> for ApiError {
    fn from(error: RunnerError) -> Self {
        BackendError::from(error).into()
    }
}

impl From<PushError> for ApiError {
    fn from(error: PushError) -> Self {
        match error {
            PushError::Invalid(message) => ApiError::BadRequest(message),
            PushError::NotFound(_) | PushError::Gone => ApiError::NotFound(error.to_string()),
            PushError::Undelivered(_) => ApiError::BadGateway(error.to_string()),
            PushError::Store(error) => error.into(),
            PushError::Key(_) => {
                tracing::error!(%error, "push request failed");
                ApiError::Internal
            }
        }
    }
}

impl From<ChangesError> for ApiError {
    fn from(error: ChangesError) -> Self {
        match error {
            ChangesError::BadPath(_) | ChangesError::NotADirectory(_) | ChangesError::NotAFile(_) => ApiError::BadRequest(error.to_string()),
            ChangesError::Outside(_) | ChangesError::Secret(_) => ApiError::Forbidden(error.to_string()),
            ChangesError::NotFound(_) | ChangesError::NotARepository => ApiError::NotFound(error.to_string()),
            ChangesError::TooLarge { .. } => ApiError::PayloadTooLarge(error.to_string()),
            ChangesError::Binary(_) => ApiError::UnsupportedMediaType(error.to_string()),
            ChangesError::Git(_) | ChangesError::OutputTooLarge(_) | ChangesError::Io { .. } => {
                tracing::error!(%error, "reading the project failed");
                ApiError::Internal
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        BackendError::from(error).into()
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::SignInRequired => StatusCode::UNAUTHORIZED,
            ApiError::TooManyAttempts(_) | ApiError::QueueFull(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody { error: self.to_string(), code: status.as_u16() };
        let body = match &self {
            // The original's poll answer for an unknown task is `{"status": "not_found"}`.
            ApiError::NotFound(_) => json!({ "status": "not_found", "error": body.error, "code": body.code }),
            _ => json!(body),
        };
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts(wait) = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        if let ApiError::Unavailable(_) = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(STORE_RETRY_AFTER_SECS));
        }
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"claude-remote\", charset=\"UTF-8\""));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runner error answers with one status whichever door it came through.
    #[test]
    fn both_doors_give_a_backend_error_the_same_status() {
        let errors = [
            BackendError::InvalidInput("bad".into()),
            BackendError::TooLarge("big".into()),
            BackendError::NotFound("gone".into()),
            BackendError::Unauthorized("who".into()),
            BackendError::Throttled("slow down".into(), 3),
            BackendError::Busy("full".into()),
            BackendError::Conflict("settled".into()),
            BackendError::Unavailable("busy".into()),
            BackendError::StorageFull("full".into()),
            BackendError::Internal("internal error".into()),
        ];
        for error in errors {
            let rest = ApiError::from(error.clone()).into_response();
            assert_eq!(rest.status().as_u16(), error.status(), "{error:?}");
        }
    }

    #[test]
    fn runner_errors_are_classified_by_what_the_user_did() {
        let status = |error: RunnerError| BackendError::from(error).status();
        assert_eq!(status(RunnerError::TaskNotFound(uuid::Uuid::nil())), 404);
        assert_eq!(status(ApprovalError::Settled { id: "a".into(), status: "allowed" }.into()), 409);
        assert_eq!(status(ApprovalError::Invalid("no".into()).into()), 400);
        assert_eq!(status(crate::runner::QueueFull::Total(200).into()), 429);
        assert_eq!(status(StoreError::Busy.into()), 503);
        assert_eq!(status(SessionError::TitleTooLong.into()), 400);
        assert_eq!(status(SessionError::UtcOffset.into()), 400);
        assert_eq!(status(SessionError::Busy(uuid::Uuid::nil()).into()), 409);
        assert_eq!(status(RunnerError::SessionNotFound(uuid::Uuid::nil())), 404);
        assert_eq!(status(StoreError::Full.into()), 507);
        assert_eq!(status(StoreError::Corrupt("x".into()).into()), 500);
    }

    #[test]
    fn push_errors_say_what_was_wrong() {
        let status = |error: PushError| ApiError::from(error).into_response().status().as_u16();
        assert_eq!(status(PushError::Invalid("endpoint must be https".into())), 400);
        assert_eq!(status(PushError::NotFound(uuid::Uuid::nil())), 404);
        assert_eq!(status(PushError::Gone), 404);
        assert_eq!(status(PushError::Undelivered("the push service answered 500".into())), 502);
        assert_eq!(status(StoreError::Busy.into()), 503);
    }

    #[tokio::test]
    async fn an_error_body_carries_its_status() {
        let response = ApiError::SignInRequired.into_response();
        let bytes = axum::body::to_bytes(response.into_body(), 1024).await.expect("body");
        let body: ErrorBody = serde_json::from_slice(&bytes).expect("an error body");
        assert_eq!(body, ErrorBody { error: "sign in first".into(), code: 401 });
    }
}
