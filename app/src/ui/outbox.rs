//! Messages the machine has not accepted yet, kept in the browser's storage until it does: a send
//! that cannot reach the machine (offline, the tunnel down, signed out in another tab) is never
//! lost, survives a reload and a sign-in, and goes to the session it was written in.
//!
//! Each message carries its own key (`client_message_id`): the server answers a message sent
//! again with the task of the first send, so sending after an answer lost on the way, or from two
//! tabs at once, never runs it twice.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Unsent {
    /// Also the message's `client_message_id`.
    pub id: Uuid,
    /// Where it was written; `None`: it starts a new session.
    pub session: Option<Uuid>,
    pub text: String,
    #[serde(default)]
    pub permission_mode: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    /// For a new session: the project it starts in (an id; `None`: the default).
    #[serde(default)]
    pub project: Option<String>,
    /// Sent by itself once the machine answers again. Not after a refusal (the message or the
    /// machine's state must change first): then only "Resend" sends it.
    #[serde(default)]
    pub automatic: bool,
    /// Why the last try failed, when it did.
    #[serde(default)]
    pub reason: Option<String>,
}

#[cfg(feature = "csr")]
const KEY: &str = "claude-remote:outbox";

/// Every message waiting, oldest first.
pub fn load() -> Vec<Unsent> {
    #[cfg(feature = "csr")]
    {
        let stored = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).and_then(|s| s.get_item(KEY).ok().flatten());
        stored.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default()
    }
    #[cfg(not(feature = "csr"))]
    {
        Vec::new()
    }
}

fn save(list: &[Unsent]) {
    #[cfg(feature = "csr")]
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = if list.is_empty() {
            storage.remove_item(KEY)
        } else {
            serde_json::to_string(list).map_or(Ok(()), |json| storage.set_item(KEY, &json))
        };
    }
    #[cfg(not(feature = "csr"))]
    let _ = list;
}

/// Adds or updates a message (by id). Read, changed and written at once: another tab's changes
/// in between are kept.
pub fn put(message: &Unsent) {
    let mut list = load();
    match list.iter_mut().find(|m| m.id == message.id) {
        Some(stored) => *stored = message.clone(),
        None => list.push(message.clone()),
    }
    save(&list);
}

pub fn remove(id: Uuid) {
    let mut list = load();
    let before = list.len();
    list.retain(|m| m.id != id);
    if list.len() != before {
        save(&list);
    }
}

pub fn get(id: Uuid) -> Option<Unsent> {
    load().into_iter().find(|m| m.id == id)
}

/// The messages written in `session` (`None`: the new session's).
pub fn of_session(session: Option<Uuid>) -> Vec<Unsent> {
    load().into_iter().filter(|m| m.session == session).collect()
}
