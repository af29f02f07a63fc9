//! Body and query-string extractors whose failures are JSON errors (400, 413, 415), never a 500
//! or a plain-text rejection.
//!
//! Besides `application/json` it accepts `text/plain` and no content type: the original design's
//! JavaScript example posts `JSON.stringify(...)` without a content type, which browsers send as
//! `text/plain`. A form or any other declared type is refused with 415.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if let Some(content_type) = content_type {
            let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            let json_like = essence == "application/json" || essence.ends_with("+json") || essence == "text/plain";
            if !json_like {
                return Err(ApiError::UnsupportedMediaType(format!("expected a JSON body (application/json), got {essence}")));
            }
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("request body is too large".into())
            } else {
                ApiError::BadRequest(format!("cannot read the request body: {rejection}"))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")))
    }
}

/// `Query<T>` whose rejection is a JSON 400 like every other error here.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}
