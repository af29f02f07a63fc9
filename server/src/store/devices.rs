//! Browsers that signed in before, by the hash of their device token.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

/// Known browsers kept at most; the least recently used are forgotten first.
const MAX_DEVICES: i64 = 50;

impl Store {
    pub fn insert_device(&self, token_hash: &[u8; 32], binding: &[u8; 32], now: i64) -> Result<(), StoreError> {
        let conn = self.writer()?;
        conn.execute(
            "INSERT OR REPLACE INTO known_devices (token_hash, binding, created_at, last_used_at) VALUES (?1, ?2, ?3, ?3)",
            params![token_hash.as_slice(), binding.as_slice(), now],
        )?;
        conn.execute(
            "DELETE FROM known_devices WHERE token_hash NOT IN
                (SELECT token_hash FROM known_devices ORDER BY last_used_at DESC LIMIT ?1)",
            [MAX_DEVICES],
        )?;
        Ok(())
    }

    /// Whether this token names a browser known to these credentials.
    pub fn device_known(&self, token_hash: &[u8; 32], binding: &[u8; 32]) -> Result<bool, StoreError> {
        let conn = self.reader()?;
        let mut statement = conn.prepare_cached("SELECT 1 FROM known_devices WHERE token_hash = ?1 AND binding = ?2")?;
        Ok(statement.query_row(params![token_hash.as_slice(), binding.as_slice()], |_| Ok(())).optional()?.is_some())
    }

    pub fn touch_device(&self, token_hash: &[u8; 32], now: i64) -> Result<(), StoreError> {
        self.writer()?.execute("UPDATE known_devices SET last_used_at = ?2 WHERE token_hash = ?1", params![token_hash.as_slice(), now])?;
        Ok(())
    }

    pub fn delete_all_devices(&self) -> Result<usize, StoreError> {
        Ok(self.writer()?.execute("DELETE FROM known_devices", [])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_known_by_token_and_credentials_and_bounded_in_number() -> Result<(), StoreError> {
        let store = Store::in_memory()?;
        let binding = [1u8; 32];
        for n in 0..(MAX_DEVICES + 5) {
            store.insert_device(&[n as u8; 32], &binding, n)?;
        }
        assert!(!store.device_known(&[0u8; 32], &binding)?, "the least recently used were forgotten");
        assert!(store.device_known(&[(MAX_DEVICES + 4) as u8; 32], &binding)?);
        assert!(!store.device_known(&[(MAX_DEVICES + 4) as u8; 32], &[2u8; 32])?, "other credentials");
        store.delete_all_devices()?;
        assert!(!store.device_known(&[(MAX_DEVICES + 4) as u8; 32], &binding)?);
        Ok(())
    }
}
