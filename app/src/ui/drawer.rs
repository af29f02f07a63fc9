//! The sessions drawer. An open drawer is a step in the browser's history, so Back (a phone's
//! back gesture) closes it instead of leaving the app; Escape, a tap beside it, the header's
//! button and choosing a session close it too. Opening it refreshes the session list, and so
//! does every few seconds while it shows and a listed session has a task queued or running. On
//! a wide screen it is a sidebar that is always there.

use super::address::{self, Step};
use super::browser;
use super::state::ChatState;
use leptos::prelude::*;
use std::time::Duration;

/// How often an open drawer lists the sessions again while one of them is busy.
const BUSY_REFRESH: Duration = Duration::from_secs(5);

/// From this width the sessions are a permanent sidebar (as in style/main.css).
const SIDEBAR_FROM: &str = "(min-width: 62.5rem)";

#[derive(Clone, Copy)]
pub struct Drawer {
    pub open: RwSignal<bool>,
    /// A wide screen (a desktop): the list is a sidebar, always there.
    pub wide: RwSignal<bool>,
    /// Whether opening it added a history step that closing must take back.
    stepped: StoredValue<bool>,
}

impl Drawer {
    pub fn new(state: ChatState) -> Self {
        let wide = RwSignal::new(false);
        wide.set(browser::watch_media(SIDEBAR_FROM, move |matches| wide.set(matches)));
        let drawer = Self { open: RwSignal::new(false), wide, stepped: StoredValue::new(false) };
        // Back (or the history step taken back by `close`).
        let back = window_event_listener(leptos::ev::popstate, move |_| {
            drawer.stepped.set_value(false);
            drawer.open.set(false);
        });
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            // A session row with a panel open (rename, delete) closes that instead: whichever
            // listener runs first, the row is marked or the event is marked handled.
            if ev.key() == "Escape" && !ev.default_prevented() && !browser::pressed_inside(&ev, "[data-takes-escape]") {
                drawer.close();
            }
        });
        on_cleanup(move || {
            back.remove();
            escape.remove();
        });
        // Opened: the list as it is now.
        Effect::new(move |was_open: Option<bool>| {
            let open = drawer.open.get();
            if open && was_open == Some(false) {
                state.refresh_sessions();
            }
            open
        });
        // Shown, with a session at work: list again after a while. Each listing (or its failure)
        // runs this again, so the refreshes stop once nothing is busy or the drawer closes.
        let pending = StoredValue::new(None::<TimeoutHandle>);
        let cancel = move || {
            if let Some(handle) = pending.try_update_value(Option::take).flatten() {
                handle.clear();
            }
        };
        Effect::new(move |_| {
            state.listed.track();
            cancel();
            let busy = |list: &Vec<crate::api::SessionSummary>| list.iter().any(|s| s.state.is_some_and(|st| st.is_active()));
            let busy = drawer.shown() && (state.sessions.with(busy) || (state.show_archived.get() && state.archived.with(busy)));
            if let Some(handle) = busy.then(|| set_timeout_with_handle(move || state.refresh_sessions(), BUSY_REFRESH).ok()).flatten() {
                pending.set_value(Some(handle));
            }
        });
        on_cleanup(cancel);
        drawer
    }

    /// Whether the list shows: opened, or always on a wide screen.
    pub fn shown(self) -> bool {
        self.open.get() || self.wide.get()
    }

    pub fn toggle(self) {
        if self.open.get_untracked() { self.close() } else { self.show() }
    }

    fn show(self) {
        self.stepped.set_value(browser::push_history_step());
        self.open.set(true);
    }

    /// A session chosen in the drawer: the drawer's history step becomes the session's (Back
    /// then returns to the session before), and the drawer closes.
    pub fn choose(self, state: ChatState, session: Option<uuid::Uuid>) {
        let step = if self.open.get_untracked() && self.stepped.get_value() { Step::Replace } else { Step::Push };
        self.stepped.set_value(false);
        self.open.set(false);
        address::show(session, step);
        state.show(session);
    }

    pub fn close(self) {
        if !self.open.get_untracked() {
            return;
        }
        self.open.set(false);
        if self.stepped.get_value() {
            self.stepped.set_value(false);
            browser::history_back();
        }
    }
}
