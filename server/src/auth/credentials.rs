//! The one account: a user name and a password, kept as configured, as an argon2id hash, or
//! generated on first start (then only its hash is kept, in the data directory).

use super::verifier::{Busy, Verifier};
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use subtle::ConstantTimeEq;

#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("AUTH_PASSWORD_HASH is not a valid argon2 PHC string: {0}")]
    BadHash(String),
    #[error("cannot read or write {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("AUTH_USERNAME / --username must be 1 to 256 characters, without ':' or control characters")]
    BadUsername,
    #[error("AUTH_PASSWORD / --password is longer than 1024 bytes")]
    PasswordTooLong,
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

pub(super) type Digest32 = [u8; 32];

/// Longer inputs are wrong without being hashed: no user name or password is this long, and
/// argon2 over a megabyte-long "password" is work an attacker should not get for free.
pub const MAX_USERNAME_BYTES: usize = 256;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The cost of a wrong password is one argon2 verification; a right one is verified once and then
/// recognised by a constant-time comparison of the SHA-256 of the user name and password together,
/// so signed-in clients do not pay argon2 on every request, and a wrong user name with the right
/// password costs the same argon2 as a wrong password (no timing tells which part was wrong).
pub struct Credentials {
    username: String,
    username_digest: Digest32,
    secret: Secret,
}

enum Secret {
    Plain(Digest32),
    Hash { phc: String, verifier: Verifier, verified: Mutex<Vec<Digest32>> },
}

/// argon2 verifications running at once. Each takes ~19 MiB and a core for ~20 ms: two keep the
/// memory bound fixed (~40 MiB) whatever the number of requests.
const CONCURRENT_VERIFICATIONS: usize = 2;
/// How long an attempt waits for a verification thread before it is told to come back (429).
const VERIFICATION_WAIT: Duration = Duration::from_secs(3);

const VERIFIED_CACHE: usize = 16;

/// What can be said of a user name and password without argon2.
#[derive(Debug, PartialEq, Eq)]
pub enum QuickCheck {
    Right,
    Wrong,
    /// Only argon2 can tell: call [`Credentials::verify_hash`].
    NeedsHash,
}

impl Credentials {
    pub fn plain(username: &str, password: &str) -> Self {
        Self::new(username, Secret::Plain(sha256(password.as_bytes())))
    }

    pub fn hashed(username: &str, phc: &str) -> Result<Self, CredentialsError> {
        check_phc(phc)?;
        let verifier = Verifier::new(phc, CONCURRENT_VERIFICATIONS, VERIFICATION_WAIT);
        Ok(Self::new(username, Secret::Hash { phc: phc.to_owned(), verifier, verified: Mutex::default() }))
    }

    /// From configuration, or else from `credentials.json` in the data directory, or else a new
    /// generated password whose hash is saved there. Blank values were dropped by the
    /// configuration already; an empty password is refused here all the same.
    pub fn resolve(
        username: &str,
        password: Option<&str>,
        password_hash: Option<&str>,
        data_dir: &Path,
    ) -> Result<(Self, PasswordSource), CredentialsError> {
        if username.is_empty() || username.len() > MAX_USERNAME_BYTES || username.contains(':') || username.chars().any(char::is_control) {
            return Err(CredentialsError::BadUsername);
        }
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            if password.len() > MAX_PASSWORD_BYTES {
                return Err(CredentialsError::PasswordTooLong);
            }
            return Ok((Self::plain(username, password), PasswordSource::Configured));
        }
        if let Some(phc) = password_hash.filter(|p| !p.is_empty()) {
            return Ok((Self::hashed(username, phc)?, PasswordSource::ConfiguredHash));
        }
        let path = data_dir.join("credentials.json");
        let io = |source| CredentialsError::Io { path: path.display().to_string(), source };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let corrupt = |reason: String| CredentialsError::Corrupt { path: path.display().to_string(), reason };
                let stored: StoredCredentials = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
                if stored.username.is_empty() {
                    return Err(corrupt("the user name is empty".into()));
                }
                let credentials = Self::hashed(&stored.username, &stored.password_hash).map_err(|e| corrupt(e.to_string()))?;
                Ok((credentials, PasswordSource::Stored))
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

    /// Names this user name and secret (never the password itself): sign-in sessions are bound to
    /// it, so changing either ends them all. Never stored as is, only keyed (see `binding`).
    pub fn identity(&self) -> Digest32 {
        let mut digest = Sha256::new();
        digest.update(b"claude-remote credentials v1\0");
        digest.update(self.username.as_bytes());
        digest.update(b"\0");
        match &self.secret {
            Secret::Plain(password) => {
                digest.update(b"plain\0");
                digest.update(password);
            }
            Secret::Hash { phc, .. } => {
                digest.update(b"argon2\0");
                digest.update(phc.as_bytes());
            }
        }
        digest.finalize().into()
    }

    /// Decides what it can without argon2: a plain password, an over-long input, or a pair
    /// verified before.
    pub fn quick_check(&self, username: &str, password: &str) -> QuickCheck {
        if username.len() > MAX_USERNAME_BYTES || password.len() > MAX_PASSWORD_BYTES {
            return QuickCheck::Wrong;
        }
        let user_ok: bool = sha256(username.as_bytes()).ct_eq(&self.username_digest).into();
        match &self.secret {
            Secret::Plain(expected) => {
                let password_ok: bool = sha256(password.as_bytes()).ct_eq(expected).into();
                if user_ok & password_ok { QuickCheck::Right } else { QuickCheck::Wrong }
            }
            Secret::Hash { verified, .. } => {
                let pair = pair_digest(username, password);
                let known = verified
                    .lock()
                    .map(|list| list.iter().fold(false, |found, d| found | bool::from(d.ct_eq(&pair))))
                    .unwrap_or(false);
                if known { QuickCheck::Right } else { QuickCheck::NeedsHash }
            }
        }
    }

    /// The argon2 verification, on the verifier's threads. Runs whatever the user name is, so a
    /// wrong user name costs what a wrong password costs.
    pub async fn verify_hash(&self, username: &str, password: &str) -> Result<bool, Busy> {
        let Secret::Hash { verifier, verified, .. } = &self.secret else {
            return Ok(self.quick_check(username, password) == QuickCheck::Right);
        };
        let user_ok: bool = sha256(username.as_bytes()).ct_eq(&self.username_digest).into();
        let password_ok = verifier.verify(password).await?;
        let ok = user_ok & password_ok;
        if ok
            && let Ok(mut list) = verified.lock() {
            if list.len() >= VERIFIED_CACHE {
                list.remove(0);
            }
            list.push(pair_digest(username, password));
        }
        Ok(ok)
    }

    /// Both steps: what a caller without a throttle uses.
    #[cfg(test)]
    pub async fn verify(&self, username: &str, password: &str) -> bool {
        match self.quick_check(username, password) {
            QuickCheck::Right => true,
            QuickCheck::Wrong => false,
            QuickCheck::NeedsHash => self.verify_hash(username, password).await.unwrap_or(false),
        }
    }
}

/// A user name and password together; the user name is length-prefixed so no two pairs collide.
fn pair_digest(username: &str, password: &str) -> Digest32 {
    let mut digest = Sha256::new();
    digest.update((username.len() as u64).to_be_bytes());
    digest.update(username.as_bytes());
    digest.update(password.as_bytes());
    digest.finalize().into()
}

/// Accepts only an argon2 PHC string whose parameters argon2 takes: anything else would start a
/// server nobody can sign in to.
fn check_phc(phc: &str) -> Result<(), CredentialsError> {
    let hash = PasswordHash::new(phc).map_err(|e| CredentialsError::BadHash(e.to_string()))?;
    if argon2::Algorithm::try_from(hash.algorithm).is_err() {
        return Err(CredentialsError::BadHash(format!("{} is not argon2", hash.algorithm)));
    }
    argon2::Params::try_from(&hash).map_err(|e| CredentialsError::BadHash(e.to_string()))?;
    if hash.hash.is_none() {
        return Err(CredentialsError::BadHash("it has no hash part".into()));
    }
    Ok(())
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &str) -> Result<String, CredentialsError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| CredentialsError::BadHash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| CredentialsError::BadHash(e.to_string()))
}

fn sha256(bytes: &[u8]) -> Digest32 {
    Sha256::digest(bytes).into()
}

pub(super) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

    #[tokio::test]
    async fn a_wrong_user_name_with_the_right_password_costs_an_argon2_like_a_wrong_password() -> Result<(), CredentialsError> {
        let creds = Credentials::hashed("me", &hash_password("right")?)?;
        assert_eq!(creds.quick_check("me", "right"), QuickCheck::NeedsHash);
        assert!(creds.verify("me", "right").await);
        assert_eq!(creds.quick_check("me", "right"), QuickCheck::Right, "a verified pair is recognised cheaply");
        assert_eq!(creds.quick_check("you", "right"), QuickCheck::NeedsHash, "the right password alone is not recognised");
        assert!(!creds.verify("you", "right").await);
        assert_eq!(creds.quick_check("me", "wrong"), QuickCheck::NeedsHash);
        assert_eq!(creds.quick_check("me", &"x".repeat(MAX_PASSWORD_BYTES + 1)), QuickCheck::Wrong, "absurd input is never hashed");
        Ok(())
    }

    #[test]
    fn a_hash_argon2_cannot_check_is_refused_at_start() {
        for bad in ["", "x", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ", "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA", "$argon2id$v=19$m=1,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"] {
            assert!(matches!(Credentials::hashed("me", bad), Err(CredentialsError::BadHash(_))), "{bad:?}");
        }
    }

    #[test]
    fn an_empty_or_odd_user_name_is_refused() {
        let dir = std::env::temp_dir();
        for bad in ["", "a:b", "tab\there"] {
            assert!(matches!(Credentials::resolve(bad, Some("pw"), None, &dir), Err(CredentialsError::BadUsername)), "{bad:?}");
        }
    }

    #[test]
    fn a_change_of_user_name_or_password_changes_the_identity() -> Result<(), CredentialsError> {
        let base = Credentials::plain("me", "pw").identity();
        assert_eq!(base, Credentials::plain("me", "pw").identity());
        assert_ne!(base, Credentials::plain("me", "pw2").identity());
        assert_ne!(base, Credentials::plain("me2", "pw").identity());
        let phc = hash_password("pw")?;
        assert_ne!(Credentials::hashed("me", &phc)?.identity(), Credentials::hashed("me", &hash_password("pw")?)?.identity(), "a new hash is a new secret");
        Ok(())
    }
}
