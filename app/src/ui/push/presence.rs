//! Tells the server which session is on screen, so that it sends no push for what the user is
//! watching: on each change of session or of the page's visibility, and again before the word
//! lapses (the server forgets it after `expires_in_secs`, 45 s, so a closed tab stops counting).

use super::device;
use crate::ui::browser;
use crate::ui::state::ChatState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use uuid::Uuid;

/// Within the server's 45 s, with room for a slow request.
const RENEW: Duration = Duration::from_secs(20);

pub fn report_presence(state: ChatState) {
    let visible = RwSignal::new(!browser::page_hidden());
    let shown = StoredValue::new(None::<Uuid>);
    let listener = window_event_listener(leptos::ev::visibilitychange, move |_| visible.set(!browser::page_hidden()));
    on_cleanup(move || listener.remove());
    Effect::new(move |_| {
        let now = state.session.get().filter(|_| visible.get());
        let before = shown.get_value();
        if before == now {
            return;
        }
        shown.set_value(now);
        spawn_local(async move {
            if let Some(before) = before {
                device::presence(before, false).await;
            }
            if let Some(now) = now {
                device::presence(now, true).await;
            }
        });
    });
    if let Ok(renew) = set_interval_with_handle(
        move || {
            if let Some(session) = shown.get_value() {
                spawn_local(async move { device::presence(session, true).await });
            }
        },
        RENEW,
    ) {
        on_cleanup(move || renew.clear());
    }
}
