//! The authentication layer, and HTTP Basic parsing.

use super::AuthService;
use crate::http::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use std::sync::Arc;

/// Lets the request through with a session cookie or valid Basic credentials; else 401.
pub async fn require_auth(State(auth): State<Arc<AuthService>>, request: Request, next: Next) -> Result<Response, ApiError> {
    if auth.user(request.headers()).await.is_some() {
        return Ok(next.run(request).await);
    }
    // The app's own calls (server functions, its event stream with an expired cookie) get no
    // Basic challenge: it would pop up the browser's password dialog over the app's sign-in.
    if request.uri().path().starts_with("/api/fn/") || super::browser::has_session_cookie(request.headers()) {
        Err(ApiError::SignInRequired)
    } else {
        Err(ApiError::Unauthorized)
    }
}

pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn basic_headers_are_parsed_and_junk_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic dXNlcjpwYTpzcw=="));
        assert_eq!(basic_credentials(&headers), Some(("user".into(), "pa:ss".into())));
        for junk in ["Bearer abc", "Basic !!!", "Basic dXNlcg==", "Basic"] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(junk));
            assert_eq!(basic_credentials(&headers), None, "{junk}");
        }
    }
}
