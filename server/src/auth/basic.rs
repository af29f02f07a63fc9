//! The authentication layer, and HTTP Basic credentials (parsed by `headers`).

use super::{AuthService, Authenticated};
use crate::http::error::ApiError;
use app::api::Caller;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::headers::authorization::{Authorization, Basic};
use axum_extra::headers::HeaderMapExt;
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

/// The user name and password of an `Authorization: Basic` header; anything else (another
/// scheme, bad base64, no colon) is no credentials at all.
pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let Authorization(basic) = headers.typed_get::<Authorization<Basic>>()?;
    Some((basic.username().to_owned(), basic.password().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};
    use base64::Engine;

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
