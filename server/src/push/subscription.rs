//! A browser's `PushSubscription` as it arrives (`subscription.toJSON()` plus a name), checked
//! once here: an endpoint we may post to, and keys a message can be encrypted for.

use super::PushError;
use crate::store::{NewSubscription, SubscriptionRecord};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest endpoint accepted (real ones are 200-500 characters).
const MAX_ENDPOINT_CHARS: usize = 2048;
/// Longest name accepted ("Pixel 7", "work laptop").
const MAX_NAME_CHARS: usize = 100;

/// `POST /api/push/subscriptions`: what `PushSubscription.toJSON()` gives (its
/// `expirationTime` is ignored), plus an optional name to tell browsers apart.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionRequest {
    /// The push resource: `https`, or `http` to a loopback address.
    pub endpoint: String,
    pub keys: SubscriptionKeys,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url (65 bytes, uncompressed).
    pub p256dh: String,
    /// Its 16-byte authentication secret, base64url.
    pub auth: String,
}

/// A subscription as listed: never its keys.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub endpoint: String,
    pub name: Option<String>,
    /// ms since the Unix epoch.
    pub created_at: i64,
    /// When a push service last took a message for it (ms), if ever.
    pub last_success_at: Option<i64>,
}

impl From<SubscriptionRecord> for SubscriptionView {
    fn from(record: SubscriptionRecord) -> Self {
        Self { id: record.id, endpoint: record.endpoint, name: record.name, created_at: record.created_at, last_success_at: record.last_success_at }
    }
}

/// base64url as browsers write it (no padding), also tolerating padding.
pub fn decode_key(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

impl SubscriptionRequest {
    pub fn validate(self) -> Result<NewSubscription, PushError> {
        let invalid = |why: &str| Err(PushError::Invalid(why.to_owned()));
        if self.endpoint.chars().count() > MAX_ENDPOINT_CHARS {
            return invalid("endpoint is too long");
        }
        let Ok(url) = Url::parse(&self.endpoint) else { return invalid("endpoint must be an https URL; this is not a URL") };
        if !endpoint_allowed(&url) {
            return invalid("endpoint must be an https URL (http only to a loopback address)");
        }
        let point = decode_key(&self.keys.p256dh).filter(|bytes| bytes.len() == 65);
        if point.is_none_or(|bytes| p256::PublicKey::from_sec1_bytes(&bytes).is_err()) {
            return invalid("keys.p256dh must be an uncompressed P-256 public key, base64url");
        }
        if decode_key(&self.keys.auth).is_none_or(|bytes| bytes.len() != 16) {
            return invalid("keys.auth must be 16 bytes, base64url");
        }
        let name = self.name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control)) {
            return invalid("name must be at most 100 characters, without control characters");
        }
        Ok(NewSubscription { endpoint: url.to_string(), p256dh: self.keys.p256dh, auth: self.keys.auth, name })
    }
}

/// Pushes leave the machine only encrypted in transit: `https`, or `http` to this machine (a
/// stand-in push service in tests).
fn endpoint_allowed(url: &Url) -> bool {
    if url.username() != "" || url.password().is_some() {
        return false;
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(url::Host::Ipv4(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Ipv6(ip))) => ip.is_loopback(),
        ("http", Some(url::Host::Domain(name))) => name.eq_ignore_ascii_case("localhost"),
        _ => false,
    }
}

/// The push resource's origin, the VAPID JWT's audience: `scheme://host[:port]`.
pub fn audience(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str = "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    fn request(endpoint: &str) -> SubscriptionRequest {
        SubscriptionRequest { endpoint: endpoint.into(), keys: SubscriptionKeys { p256dh: P256DH.into(), auth: AUTH.into() }, name: None }
    }

    #[test]
    fn only_https_or_loopback_http_endpoints_are_taken() {
        for good in ["https://fcm.googleapis.com/fcm/send/abc", "http://127.0.0.1:9000/push/1", "http://[::1]:9000/x", "http://localhost/x"] {
            assert!(request(good).validate().is_ok(), "{good}");
        }
        for bad in ["http://push.example/x", "http://10.0.0.1/x", "ftp://127.0.0.1/x", "not a url", "https://user:pw@push.example/x", "file:///etc/passwd"] {
            assert!(matches!(request(bad).validate(), Err(PushError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn keys_must_be_a_curve_point_and_a_16_byte_secret() {
        let mut bad_point = request("https://push.example/x");
        bad_point.keys.p256dh = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert!(bad_point.validate().is_err());
        let mut bad_auth = request("https://push.example/x");
        bad_auth.keys.auth = URL_SAFE_NO_PAD.encode([1u8; 8]);
        assert!(bad_auth.validate().is_err());
        let mut padded = request("https://push.example/x");
        padded.keys.auth = format!("{AUTH}==");
        assert!(padded.validate().is_ok(), "padding is tolerated");
    }

    #[test]
    fn the_audience_is_the_origin_with_its_port() {
        let url = Url::parse("http://127.0.0.1:4567/push/abc?x=1").expect("url");
        assert_eq!(audience(&url), "http://127.0.0.1:4567");
        let url = Url::parse("https://push.example:443/a").expect("url");
        assert_eq!(audience(&url), "https://push.example");
    }
}
