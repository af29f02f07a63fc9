//! What a session search matches against, per transcript: its title, first and last prompt,
//! lowercased and cut short, cached by (modification time, size) like the listing's metadata.
//!
//! A search looks at every session of every project, so this cache must hold them all to stay
//! fast (10,000 sessions take a few MB); it is bounded all the same, in entries and bytes, and
//! when either bound would be passed it starts over (the next search reads the transcripts
//! again; no eviction order to keep up on every hit).

use super::meta_cache::FileStamp;
use super::transcript::SessionMeta;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// Sessions cached at most.
pub const MAX_ENTRIES: usize = 50_000;
/// Bytes of cached text at most (and a fixed cost per entry).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Characters of each field kept: enough to find a session by what its prompts say first.
pub const FIELD_CHARS: usize = 500;

const ENTRY_COST: usize = 64;

#[derive(Default)]
pub struct SearchCache {
    entries: HashMap<Uuid, (FileStamp, Arc<str>)>,
    bytes: usize,
}

/// The searchable text of a session: its fields lowercased, each cut to [`FIELD_CHARS`].
pub fn searchable(meta: &SessionMeta) -> Arc<str> {
    let mut text = String::new();
    for field in [&meta.title, &meta.first_prompt, &meta.last_prompt].into_iter().flatten() {
        text.extend(field.chars().take(FIELD_CHARS).flat_map(char::to_lowercase));
        text.push('\n');
    }
    text.into()
}

impl SearchCache {
    pub fn get(&self, id: Uuid, stamp: FileStamp) -> Option<Arc<str>> {
        self.entries.get(&id).filter(|(cached, _)| *cached == stamp).map(|(_, text)| text.clone())
    }

    pub fn insert(&mut self, id: Uuid, stamp: FileStamp, text: Arc<str>) {
        let bytes = text.len() + ENTRY_COST;
        if self.entries.len() >= MAX_ENTRIES || self.bytes + bytes > MAX_BYTES {
            self.entries.clear();
            self.bytes = 0;
        }
        if let Some((_, old)) = self.entries.insert(id, (stamp, text)) {
            self.bytes -= old.len() + ENTRY_COST;
        }
        self.bytes += bytes;
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    #[test]
    fn text_is_lowercased_and_each_field_cut() {
        let meta = SessionMeta {
            title: Some("Fix The BUILD".into()),
            first_prompt: Some("x".repeat(2 * FIELD_CHARS)),
            last_prompt: Some("Ünïcode".into()),
            cwd: None,
        };
        let text = searchable(&meta);
        assert!(text.contains("fix the build") && text.contains("ünïcode"));
        assert_eq!(text.len(), "fix the build\n".len() + FIELD_CHARS + 1 + "ünïcode\n".len());
    }

    #[test]
    fn a_full_cache_starts_over_and_stays_within_its_bounds() {
        let mut cache = SearchCache::default();
        let stamp = FileStamp { modified: SystemTime::UNIX_EPOCH, len: 1 };
        let big: Arc<str> = "y".repeat(1024 * 1024).into();
        for _ in 0..100 {
            cache.insert(Uuid::new_v4(), stamp, big.clone());
            assert!(cache.bytes <= MAX_BYTES);
        }
        let id = Uuid::new_v4();
        cache.insert(id, stamp, "z".into());
        assert!(cache.get(id, stamp).is_some());
        assert!(cache.get(id, FileStamp { len: 2, ..stamp }).is_none(), "a changed transcript is read again");
        assert!(cache.len() <= MAX_ENTRIES);
    }
}
