//! Browser sign-in sessions, by the hash of their token.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

impl Store {
    pub fn insert_auth_session(&self, token_hash: &[u8; 32], username: &str, binding: &[u8; 32], created_at: i64, expires_at: i64) -> Result<(), StoreError> {
        self.writer()?.execute(
            "INSERT INTO auth_sessions (token_hash, username, binding, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash.as_slice(), username, binding.as_slice(), created_at, expires_at],
        )?;
        Ok(())
    }

    /// The user of a live session started with these credentials; expired sessions, and those
    /// of other (earlier) credentials, are not found.
    pub fn auth_session_user(&self, token_hash: &[u8; 32], binding: &[u8; 32], now: i64) -> Result<Option<String>, StoreError> {
        let conn = self.reader()?;
        let mut statement =
            conn.prepare_cached("SELECT username FROM auth_sessions WHERE token_hash = ?1 AND binding = ?2 AND expires_at > ?3")?;
        Ok(statement.query_row(params![token_hash.as_slice(), binding.as_slice(), now], |row| row.get(0)).optional()?)
    }

    pub fn delete_auth_session(&self, token_hash: &[u8; 32]) -> Result<(), StoreError> {
        self.writer()?.execute("DELETE FROM auth_sessions WHERE token_hash = ?1", [token_hash.as_slice()])?;
        Ok(())
    }

    pub fn delete_all_auth_sessions(&self) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM auth_sessions", [])?)
    }

    pub fn purge_expired_auth_sessions(&self, now: i64) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM auth_sessions WHERE expires_at <= ?1", [now])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_until_it_expires_or_is_deleted() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let token = [7u8; 32];
        let binding = [1u8; 32];
        store.insert_auth_session(&token, "me", &binding, 0, 100)?;
        assert_eq!(store.auth_session_user(&token, &binding, 50)?, Some("me".into()));
        assert_eq!(store.auth_session_user(&token, &[2u8; 32], 50)?, None, "other credentials");
        assert_eq!(store.auth_session_user(&token, &binding, 100)?, None, "expired");
        assert_eq!(store.auth_session_user(&[8u8; 32], &binding, 50)?, None);
        store.delete_auth_session(&token)?;
        assert_eq!(store.auth_session_user(&token, &binding, 50)?, None);
        Ok(())
    }
}
