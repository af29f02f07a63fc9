//! Browser sign-in sessions: a random token in an HttpOnly, SameSite=Strict cookie (Secure over
//! HTTPS); the database keeps only its SHA-256.

use super::credentials::Credentials;
use crate::runner::now_ms;
use crate::store::Store;
use app::api::{Accounts, BackendError};
use axum::http::{header, request::Parts, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

pub const COOKIE: &str = "cr_session";

pub struct AuthService {
    pub credentials: Credentials,
    store: Arc<Store>,
    session_ttl: Duration,
}

impl AuthService {
    pub fn new(credentials: Credentials, store: Arc<Store>, session_ttl: Duration) -> Self {
        Self { credentials, store, session_ttl }
    }

    /// The user signed in by this request's cookie or Basic credentials.
    pub async fn user(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(user) = self.cookie_user(headers) {
            return Some(user);
        }
        let (user, password) = super::basic::basic_credentials(headers)?;
        self.credentials.verify(&user, &password).await.then_some(user)
    }

    fn cookie_user(&self, headers: &HeaderMap) -> Option<String> {
        let token = cookie_token(headers)?;
        self.store.auth_session_user(&token_hash(&token), now_ms()).ok().flatten()
    }

    fn start_session(&self, username: &str, secure: bool) -> Result<String, BackendError> {
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let now = now_ms();
        self.store
            .insert_auth_session(&token_hash(&token), username, now, now + self.session_ttl.as_millis() as i64)
            .map_err(|e| {
                tracing::error!(%e, "cannot store a sign-in session");
                BackendError::Internal("cannot start a session".into())
            })?;
        let _ = self.store.purge_expired_auth_sessions(now);
        Ok(cookie(&token, self.session_ttl.as_secs(), secure))
    }
}

#[async_trait::async_trait]
impl Accounts for AuthService {
    async fn sign_in(&self, username: &str, password: &str, request: &Parts) -> Result<String, BackendError> {
        if !self.credentials.verify(username, password).await {
            return Err(BackendError::Unauthorized("Wrong user name or password.".into()));
        }
        self.start_session(username, is_https(&request.headers))
    }

    async fn sign_out(&self, request: &Parts) -> String {
        if let Some(token) = cookie_token(&request.headers) {
            if let Err(error) = self.store.delete_auth_session(&token_hash(&token)) {
                tracing::warn!(%error, "cannot end a sign-in session");
            }
        }
        cookie("", 0, is_https(&request.headers))
    }

    async fn current_user(&self, request: &Parts) -> Option<String> {
        self.user(&request.headers).await
    }
}

fn cookie(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}

pub(super) fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie_token(headers).is_some()
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Served over HTTPS, directly or behind a tunnel or proxy that says so.
fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let plain = cookie("abc", 60, false);
        assert_eq!(plain, "cr_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
        assert!(cookie("abc", 60, true).ends_with("; Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; cr_session=tok; b=2"));
        assert_eq!(cookie_token(&headers), Some("tok".into()));
    }

    #[tokio::test]
    async fn a_signed_in_cookie_is_accepted_until_sign_out() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = AuthService::new(Credentials::plain("me", "pw"), store, Duration::from_secs(60));
        let request = axum::http::Request::builder().body(()).expect("request").into_parts().0;
        assert!(auth.sign_in("me", "nope", &request).await.is_err());
        let set = auth.sign_in("me", "pw", &request).await.expect("signed in");
        let token = set.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned()).expect("token");
        let mut signed = axum::http::Request::builder().header(header::COOKIE, format!("{COOKIE}={token}")).body(()).expect("request").into_parts().0;
        assert_eq!(auth.current_user(&signed).await, Some("me".into()));
        let cleared = auth.sign_out(&signed).await;
        assert!(cleared.contains("Max-Age=0"));
        assert_eq!(auth.current_user(&signed).await, None, "the session ended on the server");
        signed.headers.remove(header::COOKIE);
        assert_eq!(auth.current_user(&signed).await, None);
    }
}
