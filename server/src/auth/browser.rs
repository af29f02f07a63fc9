//! The account's sign-ins: HTTP Basic on each request, or a browser session (a random token in an
//! HttpOnly, SameSite=Strict cookie, Secure over HTTPS; the database keeps only its SHA-256).
//! Failed passwords are throttled and audited.

use super::credentials::Credentials;
use super::throttle::SignInThrottle;
use crate::runner::now_ms;
use crate::store::{AuditEntry, Store};
use app::api::{Accounts, BackendError, Caller};
use axum::http::{header, request::Parts, HeaderMap};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const COOKIE: &str = "cr_session";

pub struct AuthService {
    credentials: Credentials,
    store: Arc<Store>,
    session_ttl: Duration,
    throttle: SignInThrottle,
}

/// What a request's credentials say.
pub enum Authenticated {
    User(String),
    Anonymous,
    /// Too many failures from this address: retry after this long.
    Throttled(Duration),
}

impl AuthService {
    pub fn new(credentials: Credentials, store: Arc<Store>, session_ttl: Duration) -> Self {
        Self { credentials, store, session_ttl, throttle: SignInThrottle::default() }
    }

    /// Checks the request's session cookie, else its Basic credentials (throttled per address).
    pub async fn authenticate(&self, headers: &HeaderMap, address: Option<IpAddr>) -> Authenticated {
        if let Some(user) = self.cookie_user(headers) {
            return Authenticated::User(user);
        }
        let Some((user, password)) = super::basic::basic_credentials(headers) else {
            return Authenticated::Anonymous;
        };
        match self.check_password(&user, &password, address, "basic").await {
            Ok(()) => Authenticated::User(user),
            Err(BackendError::Throttled(_, seconds)) => Authenticated::Throttled(Duration::from_secs(seconds)),
            Err(_) => Authenticated::Anonymous,
        }
    }

    async fn check_password(&self, username: &str, password: &str, address: Option<IpAddr>, how: &str) -> Result<(), BackendError> {
        if let Some(address) = address {
            if let Err(wait) = self.throttle.check(address, Instant::now()) {
                let seconds = wait.as_secs().max(1);
                return Err(BackendError::Throttled(format!("Too many failed sign-ins. Try again in {seconds} s."), seconds));
            }
        }
        if self.credentials.verify(username, password).await {
            if let Some(address) = address {
                self.throttle.succeeded(address);
            }
            return Ok(());
        }
        if let Some(address) = address {
            self.throttle.failed(address, Instant::now());
        }
        self.audit("sign_in_failed", address, Some(username), Some(how));
        Err(BackendError::Unauthorized("Wrong user name or password.".into()))
    }

    pub fn username(&self) -> &str {
        self.credentials.username()
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

    pub fn audit(&self, event: &str, address: Option<IpAddr>, username: Option<&str>, detail: Option<&str>) {
        let entry = AuditEntry {
            at: now_ms(),
            event: event.to_owned(),
            client: address.map(|a| a.to_string()),
            username: username.map(str::to_owned),
            detail: detail.map(str::to_owned),
            ..Default::default()
        };
        if let Err(error) = self.store.append_audit(&entry) {
            tracing::warn!(%error, event, "cannot write the audit log");
        }
    }
}

fn caller_address(request: &Parts) -> Option<IpAddr> {
    request.extensions.get::<Caller>().and_then(|c| c.address)
}

#[async_trait::async_trait]
impl Accounts for AuthService {
    async fn sign_in(&self, username: &str, password: &str, request: &Parts) -> Result<String, BackendError> {
        let address = caller_address(request);
        self.check_password(username, password, address, "form").await?;
        self.audit("sign_in", address, Some(username), None);
        self.start_session(username, is_https(&request.headers))
    }

    async fn sign_out(&self, request: &Parts) -> String {
        if let Some(token) = cookie_token(&request.headers) {
            if let Err(error) = self.store.delete_auth_session(&token_hash(&token)) {
                tracing::warn!(%error, "cannot end a sign-in session");
            }
            self.audit("signed_out", caller_address(request), Some(self.username()), None);
        }
        cookie("", 0, is_https(&request.headers))
    }

    async fn sign_out_everywhere(&self, request: &Parts) -> Result<String, BackendError> {
        let ended = self.store.delete_all_auth_sessions().map_err(|e| BackendError::Internal(e.to_string()))?;
        self.audit("signed_out_everywhere", caller_address(request), Some(self.username()), Some(&format!("{ended} sessions")));
        Ok(cookie("", 0, is_https(&request.headers)))
    }

    async fn current_user(&self, request: &Parts) -> Option<String> {
        match self.authenticate(&request.headers, caller_address(request)).await {
            Authenticated::User(user) => Some(user),
            _ => None,
        }
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
pub fn is_https(headers: &HeaderMap) -> bool {
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

    fn request_with_cookie(token: Option<&str>) -> Parts {
        let mut builder = axum::http::Request::builder();
        if let Some(token) = token {
            builder = builder.header(header::COOKIE, format!("{COOKIE}={token}"));
        }
        builder.body(()).expect("request").into_parts().0
    }

    fn token_of(set_cookie: &str) -> String {
        set_cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned()).expect("token")
    }

    #[tokio::test]
    async fn a_signed_in_cookie_is_accepted_until_sign_out() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = AuthService::new(Credentials::plain("me", "pw"), store.clone(), Duration::from_secs(60));
        let anonymous = request_with_cookie(None);
        assert!(auth.sign_in("me", "nope", &anonymous).await.is_err());
        let token = token_of(&auth.sign_in("me", "pw", &anonymous).await.expect("signed in"));
        let signed = request_with_cookie(Some(&token));
        assert_eq!(auth.current_user(&signed).await, Some("me".into()));
        assert!(auth.sign_out(&signed).await.contains("Max-Age=0"));
        assert_eq!(auth.current_user(&signed).await, None, "the session ended on the server");
        let events: Vec<String> = store.recent_audit(10).expect("audit").into_iter().map(|e| e.event).collect();
        assert_eq!(events, ["signed_out", "sign_in", "sign_in_failed"]);
    }

    #[tokio::test]
    async fn sign_out_everywhere_ends_every_session() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = AuthService::new(Credentials::plain("me", "pw"), store, Duration::from_secs(60));
        let anonymous = request_with_cookie(None);
        let phone = request_with_cookie(Some(&token_of(&auth.sign_in("me", "pw", &anonymous).await.expect("in"))));
        let laptop = request_with_cookie(Some(&token_of(&auth.sign_in("me", "pw", &anonymous).await.expect("in"))));
        auth.sign_out_everywhere(&laptop).await.expect("signed out");
        assert_eq!(auth.current_user(&phone).await, None);
        assert_eq!(auth.current_user(&laptop).await, None);
    }
}
