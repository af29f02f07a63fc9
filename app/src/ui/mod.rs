//! The components: a sign-in screen, then the chat with its session switcher.

mod address;
mod approvals;
mod backoff;
mod browser;
mod chat;
pub mod conversation;
mod drawer;
mod folder_browser;
mod follow;
mod format;
mod highlight;
mod lazy;
mod live;
mod markdown;
mod nudge;
mod outbox;
mod push;
mod projects;
mod request;
mod sessions;
mod sign_in;
mod state;
mod steps;

use crate::api::{whoami, Me};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// While the machine cannot be reached, asks again on the polling schedule (0.5 s, backing off
/// to 5 s) until it answers: the notice clears by itself, without a tap on Retry.
fn watch_reachability(offline: RwSignal<bool>, me: RwSignal<Option<Option<Me>>>) {
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        if !offline.get() {
            return;
        }
        // One watcher at a time: a newer one replaces any still sleeping.
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            let mut wait = backoff::FIRST;
            while offline.get_untracked() && generation.get_value() == mine {
                browser::sleep(wait).await;
                if !offline.get_untracked() || generation.get_value() != mine {
                    return;
                }
                if let Ok(user) = whoami().await {
                    offline.set(false);
                    if me.get_untracked().is_none() {
                        me.set(Some(user));
                    }
                    return;
                }
                wait = backoff::next(wait);
            }
        });
    });
}

#[component]
pub fn App() -> impl IntoView {
    // None while asking the server; Some(None) means "show the sign-in screen".
    let me: RwSignal<Option<Option<Me>>> = RwSignal::new(None);
    let offline = RwSignal::new(false);
    let check = move || {
        spawn_local(async move {
            match whoami().await {
                Ok(user) => {
                    offline.set(false);
                    me.set(Some(user));
                }
                Err(_) => offline.set(true),
            }
        })
    };
    check();
    watch_reachability(offline, me);
    browser::register_service_worker();
    view! {
        <Show when=move || offline.get()>
            <div class="offline" role="status">
                "Can't reach your machine. Is the server (and its tunnel) running?"
                <button type="button" on:click=move |_| check()>"Retry"</button>
            </div>
        </Show>
        {move || match me.get() {
            None => view! { <main class="splash" aria-busy="true"><h1>"Claude Remote"</h1></main> }.into_any(),
            Some(None) => view! { <sign_in::SignIn on_signed_in=move |user| me.set(Some(Some(user))) /> }.into_any(),
            Some(Some(user)) => {
                view! { <chat::Chat user=user offline=offline on_signed_out=move |()| me.set(Some(None)) /> }.into_any()
            }
        }}
    }
}
