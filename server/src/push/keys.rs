//! The server's VAPID key (RFC 8292): a P-256 key pair made at first start and kept, as its 32
//! secret bytes, 0600 in the data directory (`vapid.key`). Browsers subscribe with its public
//! half (`applicationServerKey`); a new key would orphan every subscription, so it is never
//! replaced behind the owner's back: a file that is not a key stops the start.
//!
//! Each push carries `Authorization: vapid t=<JWT>, k=<public key>`, the JWT signed ES256 with
//! p256's ECDSA (the crate does the curve and the hash; only the JWS framing is written here).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

pub const FILE: &str = "vapid.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write the Web Push key {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a Web Push key (32 bytes); delete it to make a new one (every browser will have to enable notifications again)")]
    Corrupt { path: PathBuf },
}

pub struct VapidKey {
    secret: p256::SecretKey,
    /// The signing key and its public point (base64url, uncompressed: what the browser takes),
    /// derived at first use: a server no browser subscribed to never does the curve arithmetic.
    derived: OnceLock<(SigningKey, String)>,
}

impl VapidKey {
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyError> {
        let path = data_dir.join(FILE);
        let io = |source| KeyError::Io { path: path.clone(), source };
        let secret = match std::fs::read(&path) {
            Ok(bytes) => p256::SecretKey::from_slice(&bytes).map_err(|_| KeyError::Corrupt { path: path.clone() })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let secret = generate();
                write_private(&path, &secret.to_bytes()).map_err(io)?;
                secret
            }
            Err(error) => return Err(io(error)),
        };
        Ok(Self::from_secret(secret))
    }

    fn from_secret(secret: p256::SecretKey) -> Self {
        Self { secret, derived: OnceLock::new() }
    }

    fn derived(&self) -> &(SigningKey, String) {
        self.derived.get_or_init(|| {
            let signing = SigningKey::from(&self.secret);
            let point = signing.verifying_key().to_encoded_point(false);
            let public = URL_SAFE_NO_PAD.encode(point.as_bytes());
            (signing, public)
        })
    }

    /// The public key, base64url: the `applicationServerKey` and the header's `k=`.
    pub fn public_key(&self) -> &str {
        &self.derived().1
    }

    /// The `Authorization` header for a push to `audience` (the push resource's origin,
    /// `scheme://host[:port]`), valid for `lifetime` from `now_secs` (RFC 8292 allows 24 h).
    pub fn authorization(&self, audience: &str, contact: &str, now_secs: u64, lifetime: Duration) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": audience, "exp": now_secs + lifetime.as_secs(), "sub": contact });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        // ES256 over SHA-256, as the fixed 64-byte r||s that JWS wants.
        let (signing, public) = self.derived();
        let signature: Signature = signing.sign(signing_input.as_bytes());
        format!("vapid t={signing_input}.{}, k={public}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }
}

fn generate() -> p256::SecretKey {
    loop {
        // Any 32 bytes below the curve's order (and not zero) are a key; the loop almost never turns.
        if let Ok(key) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
            return key;
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn the_key_is_made_once_kept_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let first = VapidKey::load_or_create(dir.path()).expect("made");
        let again = VapidKey::load_or_create(dir.path()).expect("read");
        assert_eq!(first.public_key(), again.public_key());
        let mode = std::fs::metadata(dir.path().join(FILE)).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600);
        let point = URL_SAFE_NO_PAD.decode(first.public_key()).expect("base64url");
        assert_eq!((point.len(), point[0]), (65, 4), "an uncompressed P-256 point");
    }

    #[test]
    fn a_file_that_is_not_a_key_stops_the_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), b"short").expect("write");
        assert!(matches!(VapidKey::load_or_create(dir.path()), Err(KeyError::Corrupt { .. })));
    }

    #[test]
    fn the_jwt_names_the_audience_and_verifies_with_the_public_key() {
        let key = VapidKey::from_secret(generate());
        let header = key.authorization("https://push.example:8443", "mailto:me@example.com", 1_000, Duration::from_secs(3600));
        let (token, k) = header.strip_prefix("vapid t=").and_then(|rest| rest.split_once(", k=")).expect("vapid t=…, k=…");
        assert_eq!(k, key.public_key());
        let parts: Vec<&str> = token.split('.').collect();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims, serde_json::json!({"aud": "https://push.example:8443", "exp": 4600, "sub": "mailto:me@example.com"}));
        let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).expect("b64")).expect("point");
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("b64")).expect("r||s");
        assert!(verifying.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).is_ok());
    }
}
