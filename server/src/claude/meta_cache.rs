//! The session listing's cache of transcript metadata, bounded in entries and in bytes.
//!
//! A project gathers sessions without end, and a transcript's title or last prompt can be long
//! (a prompt may be 100 KiB), so the cache keeps at most [`MAX_ENTRIES`] transcripts and
//! [`MAX_BYTES`] of their text, forgetting the least recently listed first. A listing shows at
//! most 100 sessions, so the sessions being listed always fit.

use super::transcript::SessionMeta;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
use uuid::Uuid;

/// Transcripts cached at most: ten listings of the longest kind (100).
pub const MAX_ENTRIES: usize = 1_000;
/// Bytes of cached metadata at most (their strings and a fixed cost per entry).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// What identifies a version of a file: a changed transcript is read again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub modified: SystemTime,
    pub len: u64,
}

struct Entry {
    stamp: FileStamp,
    meta: Arc<SessionMeta>,
    bytes: usize,
    /// When it was last listed, by the cache's own clock.
    used: u64,
}

pub struct MetaCache {
    entries: HashMap<Uuid, Entry>,
    bytes: usize,
    clock: u64,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for MetaCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES, MAX_BYTES)
    }
}

fn size_of(meta: &SessionMeta) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<Entry>() + std::mem::size_of::<SessionMeta>() + 16
        + text(&meta.cwd)
        + text(&meta.title)
        + text(&meta.first_prompt)
        + text(&meta.last_prompt)
}

impl MetaCache {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self { entries: HashMap::new(), bytes: 0, clock: 0, max_entries: max_entries.max(1), max_bytes }
    }

    /// The metadata cached for this version of the transcript, if any.
    pub fn get(&mut self, id: Uuid, stamp: FileStamp) -> Option<Arc<SessionMeta>> {
        self.clock += 1;
        let entry = self.entries.get_mut(&id).filter(|e| e.stamp == stamp)?;
        entry.used = self.clock;
        Some(entry.meta.clone())
    }

    /// Caches `meta`, then forgets the least recently listed entries until both bounds hold
    /// (never the one just added).
    pub fn insert(&mut self, id: Uuid, stamp: FileStamp, meta: Arc<SessionMeta>) {
        self.clock += 1;
        let bytes = size_of(&meta);
        if let Some(old) = self.entries.insert(id, Entry { stamp, meta, bytes, used: self.clock }) {
            self.bytes -= old.bytes;
        }
        self.bytes += bytes;
        while self.entries.len() > self.max_entries || (self.bytes > self.max_bytes && self.entries.len() > 1) {
            let oldest = self.entries.iter().filter(|(key, _)| **key != id).min_by_key(|(_, e)| e.used).map(|(key, _)| *key);
            let Some(oldest) = oldest else { break };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(n: u64) -> FileStamp {
        FileStamp { modified: SystemTime::UNIX_EPOCH, len: n }
    }

    fn meta(prompt_bytes: usize) -> Arc<SessionMeta> {
        Arc::new(SessionMeta { last_prompt: Some("p".repeat(prompt_bytes)), ..Default::default() })
    }

    #[test]
    fn listing_ever_more_sessions_keeps_the_cache_within_its_entries() {
        let mut cache = MetaCache::default();
        let ids: Vec<Uuid> = (0..3 * MAX_ENTRIES).map(|_| Uuid::new_v4()).collect();
        for id in &ids {
            cache.insert(*id, stamp(1), meta(10));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        assert!(cache.get(ids[0], stamp(1)).is_none(), "the oldest went first");
        assert!(cache.get(ids[3 * MAX_ENTRIES - 1], stamp(1)).is_some(), "the latest stays");
    }

    #[test]
    fn long_prompts_keep_the_cache_within_its_bytes_and_recently_listed_ones_stay() {
        let mut cache = MetaCache::default();
        let kept = Uuid::new_v4();
        cache.insert(kept, stamp(1), meta(100));
        for _ in 0..200 {
            // A listing touches what it shows: `kept` is listed each time.
            assert!(cache.get(kept, stamp(1)).is_some());
            cache.insert(Uuid::new_v4(), stamp(1), meta(100 * 1024));
        }
        assert!(cache.bytes() <= MAX_BYTES, "{} bytes cached", cache.bytes());
        assert!(cache.len() < 100, "{} entries", cache.len());
        assert!(cache.get(kept, stamp(1)).is_some(), "a session listed every time is never forgotten");
        assert!(cache.get(kept, stamp(2)).is_none(), "a changed transcript is read again");
    }
}
