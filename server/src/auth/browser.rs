//! The account's sign-ins: HTTP Basic on each request, or a browser session (a random token in an
//! HttpOnly, SameSite=Strict cookie, Secure over HTTPS; the database keeps only its SHA-256).
//! Sessions and known browsers are bound to the credentials: a changed user name or password
//! ends them all. Attempts are throttled before they are checked, argon2 runs a few at a time,
//! and failures are audited.

use super::credentials::{Credentials, Digest32, QuickCheck};
use super::throttle::{Attempter, Reservation, SignInThrottle};
use crate::runner::now_ms;
use crate::store::{AuditEntry, Store};
use app::api::{Accounts, BackendError, Caller};
use axum::http::{request::Parts, HeaderMap};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "cr_session";
/// Marks a browser that signed in before: it lets that browser try its password on a budget of
/// its own while strangers are throttled. It signs nothing in by itself, and is only ever sent
/// to the sign-in call.
pub const DEVICE_COOKIE: &str = "cr_device";
const DEVICE_COOKIE_PATH: &str = "/api/fn/sign_in";
/// Browsers cap a cookie's life at 400 days.
const DEVICE_LIFETIME: Duration = Duration::from_secs(400 * 86_400);

pub struct AuthService {
    credentials: Credentials,
    /// A keyed digest of the credentials' identity, stored with each session and known browser.
    binding: Digest32,
    store: Arc<Store>,
    session_ttl: Duration,
    throttle: SignInThrottle,
    /// This process serves TLS itself: cookies are always `Secure`.
    tls: bool,
}

/// What a request's credentials say.
pub enum Authenticated {
    User(String),
    Anonymous,
    /// Too many failures from this address: retry after this long.
    Throttled(Duration),
}

/// The settings of sign-in, fixed at start.
pub struct AuthSettings {
    pub session_ttl: Duration,
    /// Random, kept 0600 in the data directory: the binding stored in the database cannot be
    /// tested against guessed passwords without it.
    pub binding_key: [u8; 32],
    pub tls: bool,
}

impl AuthService {
    pub fn new(credentials: Credentials, store: Arc<Store>, settings: AuthSettings) -> Self {
        let binding = keyed_digest(&settings.binding_key, &credentials.identity());
        Self {
            credentials,
            binding,
            store,
            session_ttl: settings.session_ttl,
            throttle: SignInThrottle::default(),
            tls: settings.tls,
        }
    }

    /// Checks the request's session cookie, else its Basic credentials (throttled per address).
    pub async fn authenticate(&self, headers: &HeaderMap, address: Option<IpAddr>) -> Authenticated {
        if let Some(user) = self.cookie_user(headers).await {
            return Authenticated::User(user);
        }
        let Some((user, password)) = super::basic::basic_credentials(headers) else {
            return Authenticated::Anonymous;
        };
        match self.check_password(&user, &password, Attempter::Address(address_or_unknown(address)), address, "basic").await {
            Ok(()) => Authenticated::User(user),
            Err(BackendError::Throttled(_, seconds)) => Authenticated::Throttled(Duration::from_secs(seconds)),
            Err(_) => Authenticated::Anonymous,
        }
    }

    /// Reserve an attempt, then verify: argon2 only within the budget and a few at a time.
    async fn check_password(
        &self,
        username: &str,
        password: &str,
        attempter: Attempter,
        address: Option<IpAddr>,
        how: &str,
    ) -> Result<(), BackendError> {
        let reservation = self.throttle.reserve(attempter, Instant::now()).map_err(throttled)?;
        let right = match self.credentials.quick_check(username, password) {
            QuickCheck::Right => true,
            QuickCheck::Wrong => false,
            QuickCheck::NeedsHash => match self.credentials.verify_hash(username, password).await {
                Ok(right) => right,
                Err(_busy) => {
                    // Never checked, so it does not count against anyone's budget.
                    self.throttle.release(reservation);
                    return Err(BackendError::Throttled("The server is busy checking sign-ins. Try again in a few seconds.".into(), 2));
                }
            },
        };
        self.settle(reservation, right, username, address, how).await
    }

    async fn settle(&self, reservation: Reservation, right: bool, username: &str, address: Option<IpAddr>, how: &str) -> Result<(), BackendError> {
        if right {
            self.throttle.succeeded(reservation);
            return Ok(());
        }
        let by = Caller { address, username: Some(self.audit_name(username)) };
        let entry = AuditEntry::now("sign_in_failed", &by).detail(how);
        if let Err(error) = self.store.run(move |store| store.record_repeated_audit(&entry)).await {
            tracing::warn!(%error, "cannot write the audit log");
        }
        Err(BackendError::Unauthorized("Wrong user name or password.".into()))
    }

    /// The user name as the audit log keeps it: the account's own name, or only the length of
    /// anything else (people type passwords into the user field; attackers type megabytes).
    fn audit_name(&self, typed: &str) -> String {
        let same: bool = Sha256::digest(typed.as_bytes()).ct_eq(&Sha256::digest(self.username().as_bytes())).into();
        if same { typed.to_owned() } else { format!("(another name, {} characters)", typed.chars().count()) }
    }

    pub fn username(&self) -> &str {
        self.credentials.username()
    }

    async fn cookie_user(&self, headers: &HeaderMap) -> Option<String> {
        let hash = token_hash(&cookie_value(headers, COOKIE)?);
        let binding = self.binding;
        self.store.run(move |store| store.auth_session_user(&hash, &binding, now_ms())).await.ok().flatten()
    }

    async fn start_session(&self, username: &str, secure: bool) -> Result<String, BackendError> {
        let token = new_token();
        let (hash, username, binding) = (token_hash(&token), username.to_owned(), self.binding);
        let now = now_ms();
        let expires = now + self.session_ttl.as_millis() as i64;
        self.store
            .run(move |store| {
                store.insert_auth_session(&hash, &username, &binding, now, expires)?;
                // Expired sessions go when new ones come: a failure here costs nothing now.
                let _ = store.purge_expired_auth_sessions(now);
                Ok(())
            })
            .await?;
        Ok(cookie(COOKIE, &token, "/", self.session_ttl.as_secs(), secure))
    }

    /// The browser's device token, when it names a browser known to these credentials.
    async fn known_device(&self, headers: &HeaderMap) -> Option<Digest32> {
        let hash = token_hash(&cookie_value(headers, DEVICE_COOKIE)?);
        let binding = self.binding;
        self.store.run(move |store| store.device_known(&hash, &binding)).await.ok()?.then_some(hash)
    }

    async fn remember_device(&self, known: Option<Digest32>, secure: bool) -> Result<Option<String>, BackendError> {
        if let Some(hash) = known {
            let _ = self.store.run(move |store| store.touch_device(&hash, now_ms())).await;
            return Ok(None);
        }
        let token = new_token();
        let (hash, binding) = (token_hash(&token), self.binding);
        self.store.run(move |store| store.insert_device(&hash, &binding, now_ms())).await?;
        Ok(Some(cookie(DEVICE_COOKIE, &token, DEVICE_COOKIE_PATH, DEVICE_LIFETIME.as_secs(), secure)))
    }

    pub async fn audit(&self, event: &str, address: Option<IpAddr>, username: Option<&str>, detail: Option<&str>) {
        let mut entry = AuditEntry::now(event, &Caller { address, username: username.map(str::to_owned) });
        entry.detail = detail.map(str::to_owned);
        if let Err(error) = self.store.run(move |store| store.append_audit(&entry)).await {
            tracing::warn!(%error, event, "cannot write the audit log");
        }
    }

    fn secure(&self, headers: &HeaderMap) -> bool {
        self.tls || is_https(headers)
    }
}

fn throttled(wait: Duration) -> BackendError {
    let seconds = wait.as_secs().max(1);
    BackendError::Throttled(format!("Too many sign-in attempts. Try again in {seconds} s."), seconds)
}

/// Requests always carry an address in the server; one without (a test) shares a single budget.
fn address_or_unknown(address: Option<IpAddr>) -> IpAddr {
    address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn caller_address(request: &Parts) -> Option<IpAddr> {
    request.extensions.get::<Caller>().and_then(|c| c.address)
}

#[async_trait::async_trait]
impl Accounts for AuthService {
    async fn sign_in(&self, username: &str, password: &str, request: &Parts) -> Result<Vec<String>, BackendError> {
        let address = caller_address(request);
        let device = self.known_device(&request.headers).await;
        let attempter = match device {
            Some(hash) => Attempter::Device(hash),
            None => Attempter::Address(address_or_unknown(address)),
        };
        self.check_password(username, password, attempter, address, "form").await?;
        self.audit("sign_in", address, Some(username), device.map(|_| "known browser")).await;
        let secure = self.secure(&request.headers);
        let mut cookies = vec![self.start_session(username, secure).await?];
        cookies.extend(self.remember_device(device, secure).await?);
        Ok(cookies)
    }

    async fn sign_out(&self, request: &Parts) -> String {
        if let Some(token) = cookie_value(&request.headers, COOKIE) {
            let hash = token_hash(&token);
            if let Err(error) = self.store.run(move |store| store.delete_auth_session(&hash)).await {
                tracing::warn!(%error, "cannot end a sign-in session");
            }
            self.audit("signed_out", caller_address(request), Some(self.username()), None).await;
        }
        cookie(COOKIE, "", "/", 0, self.secure(&request.headers))
    }

    /// Ends every session and forgets every known browser (a lost phone must not keep its
    /// budget of attempts).
    async fn sign_out_everywhere(&self, request: &Parts) -> Result<Vec<String>, BackendError> {
        let ended = self
            .store
            .run(|store| {
                let ended = store.delete_all_auth_sessions()?;
                store.delete_all_devices()?;
                // A lost phone must not keep getting notifications either.
                store.delete_all_push_subscriptions()?;
                Ok(ended)
            })
            .await?;
        self.audit("signed_out_everywhere", caller_address(request), Some(self.username()), Some(&format!("{ended} sessions"))).await;
        let secure = self.secure(&request.headers);
        Ok(vec![cookie(COOKIE, "", "/", 0, secure), cookie(DEVICE_COOKIE, "", DEVICE_COOKIE_PATH, 0, secure)])
    }

    async fn current_user(&self, request: &Parts) -> Option<String> {
        match self.authenticate(&request.headers, caller_address(request)).await {
            Authenticated::User(user) => Some(user),
            _ => None,
        }
    }
}

/// A `Set-Cookie` value: HttpOnly (no script reads it), SameSite=Strict (no other site sends
/// it), Secure over HTTPS, limited to `path`; an empty token with no age clears the cookie.
fn cookie(name: &str, token: &str, path: &str, max_age_secs: u64, secure: bool) -> String {
    let max_age = ::cookie::time::Duration::seconds(i64::try_from(max_age_secs).unwrap_or(i64::MAX));
    let built = Cookie::build((name, token)).path(path).http_only(true).same_site(SameSite::Strict).max_age(max_age).secure(secure);
    built.build().to_string()
}

pub(super) fn has_session_cookie(headers: &HeaderMap) -> bool {
    cookie_value(headers, COOKIE).is_some()
}

fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers).get(name).map(|c| c.value().to_owned()).filter(|value| !value.is_empty())
}

/// Served over HTTPS behind a tunnel or proxy that says so (the server's own TLS is known
/// without asking).
pub fn is_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn new_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn token_hash(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
}

fn keyed_digest(key: &[u8; 32], message: &[u8]) -> Digest32 {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};

    fn service(credentials: Credentials, store: Arc<Store>, tls: bool) -> AuthService {
        AuthService::new(credentials, store, AuthSettings { session_ttl: Duration::from_secs(60), binding_key: [3; 32], tls })
    }

    fn attributes(set_cookie: &str) -> Vec<String> {
        let mut attributes: Vec<String> = set_cookie.split(';').map(|a| a.trim().to_owned()).collect();
        attributes.sort();
        attributes
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_over_https() {
        let plain = cookie(COOKIE, "abc", "/", 60, false);
        assert_eq!(attributes(&plain), ["HttpOnly", "Max-Age=60", "Path=/", "SameSite=Strict", "cr_session=abc"]);
        assert!(plain.starts_with("cr_session=abc;"), "{plain}");
        let secure = cookie(COOKIE, "abc", "/", 60, true);
        assert_eq!(attributes(&secure), ["HttpOnly", "Max-Age=60", "Path=/", "SameSite=Strict", "Secure", "cr_session=abc"]);
        let cleared = cookie(COOKIE, "", "/", 0, false);
        assert_eq!(attributes(&cleared), ["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Strict", "cr_session="]);
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; cr_session=tok; b=2"));
        assert_eq!(cookie_value(&headers, COOKIE), Some("tok".into()));
    }

    fn request_with_cookies(cookies: &[String]) -> Parts {
        let mut builder = axum::http::Request::builder();
        if !cookies.is_empty() {
            let pairs: Vec<&str> = cookies.iter().filter_map(|c| c.split(';').next()).collect();
            builder = builder.header(header::COOKIE, pairs.join("; "));
        }
        builder.body(()).expect("request").into_parts().0
    }

    fn session_cookie(cookies: &[String]) -> Vec<String> {
        cookies.iter().filter(|c| c.starts_with(COOKIE)).cloned().collect()
    }

    #[tokio::test]
    async fn a_signed_in_cookie_is_accepted_until_sign_out() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = service(Credentials::plain("me", "pw"), store.clone(), false);
        let anonymous = request_with_cookies(&[]);
        assert!(auth.sign_in("me", "nope", &anonymous).await.is_err());
        let cookies = auth.sign_in("me", "pw", &anonymous).await.expect("signed in");
        assert_eq!(cookies.len(), 2, "a session and a device cookie: {cookies:?}");
        let signed = request_with_cookies(&session_cookie(&cookies));
        assert_eq!(auth.current_user(&signed).await, Some("me".into()));
        assert!(auth.sign_out(&signed).await.contains("Max-Age=0"));
        assert_eq!(auth.current_user(&signed).await, None, "the session ended on the server");
        let events: Vec<String> = store.recent_audit(10).expect("audit").into_iter().map(|e| e.event).collect();
        assert_eq!(events, ["signed_out", "sign_in", "sign_in_failed"]);
    }

    #[tokio::test]
    async fn sign_out_everywhere_ends_every_session() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = service(Credentials::plain("me", "pw"), store, false);
        let anonymous = request_with_cookies(&[]);
        let phone = request_with_cookies(&auth.sign_in("me", "pw", &anonymous).await.expect("in"));
        let laptop = request_with_cookies(&auth.sign_in("me", "pw", &anonymous).await.expect("in"));
        auth.sign_out_everywhere(&laptop).await.expect("signed out");
        assert_eq!(auth.current_user(&phone).await, None);
        assert_eq!(auth.current_user(&laptop).await, None);
    }

    #[tokio::test]
    async fn a_credential_change_ends_sessions_and_forgets_browsers() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let before = service(Credentials::plain("me", "old"), store.clone(), false);
        let cookies = before.sign_in("me", "old", &request_with_cookies(&[])).await.expect("in");
        let browser = request_with_cookies(&cookies);
        assert_eq!(before.current_user(&browser).await, Some("me".into()));
        for changed in [Credentials::plain("me", "new"), Credentials::plain("me2", "old")] {
            let after = service(changed, store.clone(), false);
            assert_eq!(after.current_user(&browser).await, None, "the old cookie is dead");
            assert!(after.known_device(&browser.headers).await.is_none(), "the old device token is unknown");
        }
    }

    #[tokio::test]
    async fn a_known_browser_signs_in_while_its_address_is_throttled() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = service(Credentials::plain("me", "pw"), store, false);
        let cookies = auth.sign_in("me", "pw", &request_with_cookies(&[])).await.expect("in");
        let device: Vec<String> = cookies.iter().filter(|c| c.starts_with(DEVICE_COOKIE)).cloned().collect();
        assert!(device[0].contains("Path=/api/fn/sign_in") && device[0].contains("HttpOnly"), "{device:?}");
        let stranger = request_with_cookies(&[]);
        for _ in 0..6 {
            let _ = auth.sign_in("me", "guess", &stranger).await;
        }
        assert!(matches!(auth.sign_in("me", "pw", &stranger).await, Err(BackendError::Throttled(..))), "the address is throttled");
        let cookies = auth.sign_in("me", "pw", &request_with_cookies(&device)).await.expect("the known browser gets in");
        assert_eq!(cookies.len(), 1, "its device token is kept, only a session is added");
    }

    #[tokio::test]
    async fn cookies_are_secure_whenever_this_server_speaks_tls() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = service(Credentials::plain("me", "pw"), store, true);
        let cookies = auth.sign_in("me", "pw", &request_with_cookies(&[])).await.expect("in");
        assert!(cookies.iter().all(|c| attributes(c).contains(&"Secure".to_owned())), "{cookies:?}");
    }

    #[tokio::test]
    async fn a_wrong_user_name_is_audited_by_its_length_only() {
        let store = Arc::new(Store::in_memory().expect("store"));
        let auth = service(Credentials::plain("me", "pw"), store.clone(), false);
        let _ = auth.sign_in("hunter2\u{1b}[31m", "pw", &request_with_cookies(&[])).await;
        let _ = auth.sign_in("me", "nope", &request_with_cookies(&[])).await;
        let names: Vec<Option<String>> = store.recent_audit(10).expect("audit").into_iter().map(|e| e.username).collect();
        assert_eq!(names, [Some("me".to_owned()), Some("(another name, 12 characters)".to_owned())]);
    }
}
