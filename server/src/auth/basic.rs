//! The authentication layer, and HTTP Basic parsing.

use super::{AuthService, Authenticated};
use crate::http::error::ApiError;
use app::api::Caller;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use std::sync::Arc;

/// Lets the request through with a session cookie or valid Basic credentials (recording the user
/// in its `Caller`); else 401, or 429 when its address failed too often.
pub async fn require_auth(State(auth): State<Arc<AuthService>>, mut request: Request, next: Next) -> Result<Response, ApiError> {
    let address = request.extensions().get::<Caller>().and_then(|c| c.address);
    match auth.authenticate(request.headers(), address).await {
        Authenticated::User(user) => {
            request.extensions_mut().insert(Caller { address, username: Some(user) });
            Ok(next.run(request).await)
        }
        Authenticated::Throttled(wait) => Err(ApiError::TooManyAttempts(wait)),
        // The app's own calls (server functions, its event stream with an expired cookie) get no
        // Basic challenge: it would pop up the browser's password dialog over the app's sign-in.
        Authenticated::Anonymous
            if request.uri().path().starts_with("/api/fn/") || super::browser::has_session_cookie(request.headers()) =>
        {
            Err(ApiError::SignInRequired)
        }
        Authenticated::Anonymous => Err(ApiError::Unauthorized),
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

    proptest::proptest! {
        #[test]
        fn any_basic_header_parses_or_is_refused_without_panic(value in "\\PC{0,200}") {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(header::AUTHORIZATION, v);
            }
            let _ = basic_credentials(&headers);
        }

        #[test]
        fn encoded_credentials_round_trip(user in "[^:\\x00]{0,40}", password in "\\PC{0,80}") {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {encoded}")).expect("ascii"));
            proptest::prop_assert_eq!(basic_credentials(&headers), Some((user, password)));
        }
    }
}
