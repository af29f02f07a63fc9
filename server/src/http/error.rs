//! The one place where errors become HTTP responses: a status and a JSON body `{"error": ...}`.

use crate::runner::{ApprovalError, RunnerError};
use crate::claude::invocation::InvalidRequest;
use crate::store::StoreError;

/// What a client waits before retrying a write the busy store refused.
const STORE_RETRY_AFTER_SECS: u64 = 2;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The body of every error answer (404s also carry `"status": "not_found"`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required")]
    Unauthorized,
    /// Like `Unauthorized`, without the Basic challenge (for the app's own calls).
    #[error("sign in first")]
    SignInRequired,
    #[error("too many failed sign-ins; try again in {} s", .0.as_secs().max(1))]
    TooManyAttempts(std::time::Duration),
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
    /// The thing was settled already (an approval decided or withdrawn).
    #[error("{0}")]
    Conflict(String),
    /// The store cannot take a write now (another writer holds it): retry shortly.
    #[error("{0}")]
    Unavailable(String),
    /// The disk, or the database's size limit, is full.
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Busy => ApiError::Unavailable(error.to_string()),
            StoreError::Full => ApiError::InsufficientStorage(error.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RunnerError> for ApiError {
    fn from(error: RunnerError) -> Self {
        match error {
            RunnerError::Invalid(InvalidRequest::MessageTooLong(_)) => ApiError::PayloadTooLarge(error.to_string()),
            RunnerError::Invalid(invalid) => ApiError::BadRequest(invalid.to_string()),
            RunnerError::TaskNotFound(_) | RunnerError::SessionNotFound(_) => ApiError::NotFound(error.to_string()),
            RunnerError::QueueFull(full) => ApiError::QueueFull(full.to_string()),
            RunnerError::Approval(ApprovalError::NotFound(_)) => ApiError::NotFound(error.to_string()),
            RunnerError::Approval(ApprovalError::Settled { .. }) => ApiError::Conflict(error.to_string()),
            RunnerError::Approval(ApprovalError::Invalid(_)) => ApiError::BadRequest(error.to_string()),
            RunnerError::Store(store) => store.into(),
            RunnerError::Io { .. } => ApiError::Internal(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
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
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = match &self {
            // The original's poll answer for an unknown task is `{"status": "not_found"}`.
            ApiError::NotFound(message) => json!({ "status": "not_found", "error": message }),
            other => json!({ "error": other.to_string() }),
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
