//! Which sessions the app shows in a visible tab right now: no notification for what the user is
//! watching. The app says so (`POST /api/push/presence`) when a session comes into view and
//! again every [`RENEW_EVERY`] while it stays there; a word it cannot send (a tab closed, a phone
//! locked) runs out after [`PRESENCE_TTL`], so a silent app never mutes notifications for long.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const PRESENCE_TTL: Duration = Duration::from_secs(45);
/// How often the app should renew its word: well within the TTL.
pub const RENEW_EVERY: Duration = Duration::from_secs(20);
/// Sessions remembered as visible at most (tabs, devices); past it the stalest word is dropped.
const MAX_VISIBLE: usize = 256;

#[derive(Default)]
pub struct Presence {
    visible: Mutex<HashMap<Uuid, Instant>>,
}

impl Presence {
    pub fn set(&self, session_id: Uuid, visible: bool) {
        let now = Instant::now();
        let mut all = self.visible.lock();
        if !visible {
            all.remove(&session_id);
            return;
        }
        all.retain(|_, until| *until > now);
        if all.len() >= MAX_VISIBLE
            && !all.contains_key(&session_id)
            && let Some(stalest) = all.iter().min_by_key(|(_, until)| **until).map(|(id, _)| *id)
        {
            all.remove(&stalest);
        }
        all.insert(session_id, now + PRESENCE_TTL);
    }

    pub fn is_visible(&self, session_id: Uuid) -> bool {
        self.visible.lock().get(&session_id).is_some_and(|until| *until > Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_visible_until_the_app_says_otherwise() {
        let presence = Presence::default();
        let (shown, other) = (Uuid::new_v4(), Uuid::new_v4());
        presence.set(shown, true);
        assert!(presence.is_visible(shown) && !presence.is_visible(other));
        presence.set(shown, false);
        assert!(!presence.is_visible(shown));
    }

    #[test]
    fn the_word_of_many_tabs_stays_bounded() {
        let presence = Presence::default();
        for _ in 0..MAX_VISIBLE + 10 {
            presence.set(Uuid::new_v4(), true);
        }
        assert_eq!(presence.visible.lock().len(), MAX_VISIBLE);
    }
}
