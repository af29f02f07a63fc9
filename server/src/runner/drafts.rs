//! The reply each running task is writing, word by word, from the CLI's `stream_event` lines:
//! kept in memory only (the complete `assistant` line is the record that is stored) and shown
//! to clients with each page of events.
//!
//! Deltas come dozens a second; they are coalesced per output step (see `output`), so clients
//! are woken at most once a step per task, whatever the API's pace.

use crate::claude::partial::Partial;
use app::api::PartialText;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use uuid::Uuid;

/// A draft longer than this stops growing: the stored reply has it all when the message ends.
const MAX_DRAFT_BYTES: usize = 512 * 1024;

#[derive(Default)]
pub struct Drafts {
    drafts: Mutex<HashMap<Uuid, PartialText>>,
    /// Versions grow across tasks and restarts of a draft, so a client's "newer than" is exact.
    versions: AtomicU64,
}

/// One change to a task's draft, from one `stream_event` line.
#[derive(Debug, PartialEq, Eq)]
pub enum DraftChange {
    /// A new message: the words so far are in its predecessor's `assistant` line.
    Restart,
    /// A new text block: after earlier words, a new paragraph.
    NewBlock,
    Append(String),
}

impl DraftChange {
    pub fn of(partial: Partial<'_>) -> Option<Self> {
        match partial {
            Partial::MessageStart => Some(Self::Restart),
            Partial::TextBlockStart => Some(Self::NewBlock),
            Partial::Text(text) if !text.is_empty() => Some(Self::Append(text.to_owned())),
            _ => None,
        }
    }
}

impl Drafts {
    /// Applies one step's changes at once; whether the draft changed.
    pub fn apply(&self, task: Uuid, changes: Vec<DraftChange>) -> bool {
        if changes.is_empty() {
            return false;
        }
        let Ok(mut drafts) = self.drafts.lock() else { return false };
        let draft = drafts.entry(task).or_default();
        for change in changes {
            match change {
                DraftChange::Restart => draft.text.clear(),
                DraftChange::NewBlock if !draft.text.is_empty() => draft.text.push_str("\n\n"),
                DraftChange::NewBlock => {}
                DraftChange::Append(text) => {
                    if draft.text.len() + text.len() <= MAX_DRAFT_BYTES {
                        draft.text.push_str(&text);
                    }
                }
            }
        }
        draft.version = self.versions.fetch_add(1, Ordering::Relaxed) + 1;
        true
    }

    pub fn get(&self, task: Uuid) -> Option<PartialText> {
        self.drafts.lock().ok().and_then(|d| d.get(&task).cloned())
    }

    pub fn remove(&self, task: Uuid) {
        if let Ok(mut drafts) = self.drafts.lock() {
            drafts.remove(&task);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_message_starts_a_new_draft_and_versions_only_grow() {
        let drafts = Drafts::default();
        let task = Uuid::new_v4();
        assert!(drafts.apply(task, vec![DraftChange::Append("Hello ".into()), DraftChange::Append("world".into())]));
        let first = drafts.get(task).expect("a draft");
        assert_eq!(first.text, "Hello world");
        drafts.apply(task, vec![DraftChange::Restart, DraftChange::NewBlock, DraftChange::Append("Next".into())]);
        let second = drafts.get(task).expect("a draft");
        assert_eq!(second.text, "Next");
        drafts.apply(task, vec![DraftChange::NewBlock, DraftChange::Append("More".into())]);
        assert_eq!(drafts.get(task).map(|d| d.text), Some("Next\n\nMore".to_owned()));
        assert!(second.version > first.version);
        assert!(!drafts.apply(task, Vec::new()), "no change, no wake-up");
        drafts.remove(task);
        assert_eq!(drafts.get(task), None);
    }

    #[test]
    fn a_runaway_draft_stops_growing() {
        let drafts = Drafts::default();
        let task = Uuid::new_v4();
        let chunk = "x".repeat(64 * 1024);
        for _ in 0..20 {
            drafts.apply(task, vec![DraftChange::Append(chunk.clone())]);
        }
        assert!(drafts.get(task).is_some_and(|d| d.text.len() <= MAX_DRAFT_BYTES));
    }
}
