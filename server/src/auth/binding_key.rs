//! The key that binds sign-in sessions to the credentials (see `AuthService`): 32 random bytes
//! made at first start, kept 0600 in the data directory beside the database. With the key apart
//! from the database, a copy of the database alone cannot be used to test password guesses.

use super::CredentialsError;
use std::path::Path;

const FILE: &str = "session-binding.key";

pub fn load_or_create(data_dir: &Path) -> Result<[u8; 32], CredentialsError> {
    let path = data_dir.join(FILE);
    let io = |source| CredentialsError::Io { path: path.display().to_string(), source };
    match std::fs::read(&path) {
        Ok(bytes) => bytes.try_into().map_err(|_| CredentialsError::Corrupt {
            path: path.display().to_string(),
            reason: "not 32 bytes (delete it: every browser will sign in again)".into(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            super::credentials::write_private(&path, &key).map_err(io)?;
            Ok(key)
        }
        Err(error) => Err(io(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_kept() -> Result<(), CredentialsError> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().map_err(|e| CredentialsError::Io { path: "tmp".into(), source: e })?;
        let first = load_or_create(dir.path())?;
        assert_eq!(first, load_or_create(dir.path())?);
        let mode = std::fs::metadata(dir.path().join(FILE)).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600);
        Ok(())
    }
}
