//! The one account: a user name and a password, kept as configured, as an argon2id hash, or
//! generated on first start (then only its hash is kept, in the data directory).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("AUTH_PASSWORD_HASH is not a valid argon2 PHC string: {0}")]
    BadHash(String),
    #[error("cannot read or write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is corrupt: {reason}")]
    Corrupt { path: String, reason: String },
}

/// How the password was given, for the start-up banner.
pub enum PasswordSource {
    Configured,
    ConfiguredHash,
    /// Generated now: the only time it is shown.
    Generated(String),
    Stored,
}

#[derive(Serialize, Deserialize)]
struct StoredCredentials {
    username: String,
    password_hash: String,
}

type Digest32 = [u8; 32];

/// The cost of a wrong password is one argon2 verification; a right one is verified once and then
/// recognised by a constant-time comparison of its SHA-256, so signed-in clients do not pay
/// argon2 on every request.
pub struct Credentials {
    username: String,
    username_digest: Digest32,
    secret: Secret,
}

enum Secret {
    Plain(Digest32),
    Hash { phc: String, verified: Mutex<Vec<Digest32>> },
}

const VERIFIED_CACHE: usize = 16;

impl Credentials {
    pub fn plain(username: &str, password: &str) -> Self {
        Self::new(username, Secret::Plain(sha256(password.as_bytes())))
    }

    pub fn hashed(username: &str, phc: &str) -> Result<Self, CredentialsError> {
        PasswordHash::new(phc).map_err(|e| CredentialsError::BadHash(e.to_string()))?;
        Ok(Self::new(username, Secret::Hash { phc: phc.to_owned(), verified: Mutex::default() }))
    }

    /// From configuration, or else from `credentials.json` in the data directory, or else a new
    /// generated password whose hash is saved there.
    pub fn resolve(
        username: &str,
        password: Option<&str>,
        password_hash: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, PasswordSource), CredentialsError> {
        if let Some(password) = password {
            return Ok((Self::plain(username, password), PasswordSource::Configured));
        }
        if let Some(phc) = password_hash {
            return Ok((Self::hashed(username, phc)?, PasswordSource::ConfiguredHash));
        }
        let path = data_dir.join("credentials.json");
        let io = |source| CredentialsError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let stored: StoredCredentials = serde_json::from_str(&text)
                    .map_err(|e| CredentialsError::Corrupt { path: path.display().to_string(), reason: e.to_string() })?;
                Ok((Self::hashed(&stored.username, &stored.password_hash)?, PasswordSource::Stored))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let password = Alphanumeric.sample_string(&mut rand::rng(), 24);
                let stored = StoredCredentials { username: username.to_owned(), password_hash: hash_password(&password)? };
                let text = serde_json::to_string_pretty(&stored).map_err(|e| io(std::io::Error::other(e)))?;
                write_private(&path, text.as_bytes()).map_err(io)?;
                Ok((Self::hashed(username, &stored.password_hash)?, PasswordSource::Generated(password)))
            }
            Err(error) => Err(io(error)),
        }
    }

    fn new(username: &str, secret: Secret) -> Self {
        Self { username: username.to_owned(), username_digest: sha256(username.as_bytes()), secret }
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub async fn verify(&self, username: &str, password: &str) -> bool {
        let user_ok: bool = sha256(username.as_bytes()).ct_eq(&self.username_digest).into();
        let password_ok = match &self.secret {
            Secret::Plain(expected) => sha256(password.as_bytes()).ct_eq(expected).into(),
            Secret::Hash { phc, verified } => {
                let digest = sha256(password.as_bytes());
                let known = verified
                    .lock()
                    .map(|list| list.iter().fold(false, |found, d| found | bool::from(d.ct_eq(&digest))))
                    .unwrap_or(false);
                if known {
                    true
                } else {
                    let (phc, password) = (phc.clone(), password.to_owned());
                    let ok = tokio::task::spawn_blocking(move || check_hash(&phc, &password)).await.unwrap_or(false);
                    if ok {
                        if let Ok(mut list) = verified.lock() {
                            if list.len() >= VERIFIED_CACHE {
                                list.remove(0);
                            }
                            list.push(digest);
                        }
                    }
                    ok
                }
            }
        };
        user_ok & password_ok
    }
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, CredentialsError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| CredentialsError::BadHash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CredentialsError::BadHash(e.to_string()))
}

fn check_hash(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

fn sha256(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
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

    #[tokio::test]
    async fn a_plain_password_matches_exactly() {
        let creds = Credentials::plain("me", "s3cret");
        assert!(creds.verify("me", "s3cret").await);
        assert!(!creds.verify("me", "s3cret ").await);
        assert!(!creds.verify("you", "s3cret").await);
    }

    #[tokio::test]
    async fn a_generated_password_is_kept_only_as_a_hash_and_works_after_restart() -> Result<(), CredentialsError> {
        let dir = tempfile::tempdir().map_err(|e| CredentialsError::Io { path: "tmp".into(), source: e })?;
        let (creds, source) = Credentials::resolve("admin", None, None, dir.path())?;
        let PasswordSource::Generated(password) = source else { panic!("not generated") };
        assert_eq!(password.len(), 24);
        let stored = std::fs::read_to_string(dir.path().join("credentials.json")).unwrap_or_default();
        assert!(!stored.contains(&password) && stored.contains("$argon2id$"));
        assert!(creds.verify("admin", &password).await);
        assert!(creds.verify("admin", &password).await, "second time from the cache");
        assert!(!creds.verify("admin", "wrong").await);
        let (again, source) = Credentials::resolve("admin", None, None, dir.path())?;
        assert!(matches!(source, PasswordSource::Stored));
        assert!(again.verify("admin", &password).await);
        Ok(())
    }
}
