//! The chat screen: a header with the session and its cost, the conversation, the composer.

use super::browser;
use super::conversation::{total_cost, Entry};
use super::format::{elapsed, usd};
use super::markdown;
use super::sessions::SessionList;
use super::state::ChatState;
use crate::api::{sign_out, Me};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Chat(user: Me, offline: RwSignal<bool>, #[prop(into)] on_signed_out: Callback<()>) -> impl IntoView {
    let state = ChatState::new(offline);
    let now = RwSignal::new(browser::now_ms());
    let drawer_open = RwSignal::new(false);
    state.refresh_sessions();
    state.open(browser::initial_session());
    if let Ok(tick) = set_interval_with_handle(move || now.set(browser::now_ms()), std::time::Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
    Effect::new(move |_| {
        if state.signed_out.get() {
            on_signed_out.run(());
        }
    });

    let title = move || {
        let current = state.session.get();
        match current {
            None => "New session".to_owned(),
            Some(id) => state
                .sessions
                .with(|list| list.iter().find(|s| s.session_id == id).map(|s| s.title.clone()))
                .unwrap_or_else(|| "Session".to_owned()),
        }
    };
    let cost = move || {
        let total = state.tasks.with(|tasks| total_cost(tasks));
        (total > 0.0).then(|| format!("{} spent here", usd(total)))
    };
    let leave = move |_| {
        spawn_local(async move {
            let _ = sign_out().await;
            browser::remember_session(None);
            on_signed_out.run(());
        });
    };

    view! {
        <div class="app">
            <header class="bar">
                <button
                    type="button"
                    class="icon"
                    aria-label="Sessions"
                    aria-expanded=move || drawer_open.get().to_string()
                    on:click=move |_| drawer_open.update(|open| *open = !*open)
                >
                    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                        <path d="M4 7h16M4 12h16M4 17h16" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </button>
                <div class="heading">
                    <h1 class="session-name">{title}</h1>
                    <span class="cost" data-testid="session-cost">{cost}</span>
                </div>
                <button type="button" class="icon" aria-label="New session" on:click=move |_| state.open(None)>
                    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                        <path d="M12 5v14M5 12h14" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </button>
            </header>
            <Show when=move || drawer_open.get()>
                <div class="drawer">
                    <SessionList state=state now=now on_chosen=move |()| drawer_open.set(false) />
                    <div class="account">
                        <span>{format!("Signed in as {}", user.username)}</span>
                        <button type="button" on:click=leave>"Sign out"</button>
                    </div>
                </div>
            </Show>
            <main class="conversation" aria-live="polite" on:click=copy_code>
                <Show when=move || state.loading.get()>
                    <p class="loading">"Loading…"</p>
                </Show>
                <Show when=move || !state.loading.get() && state.entries.with(Vec::is_empty)>
                    <p class="empty">"Ask Claude to do something in this project."</p>
                </Show>
                {move || state.entries.get().into_iter().map(|entry| render_entry(entry, now)).collect_view()}
                <Show when=move || state.notice.get().is_some()>
                    <p class="notice" role="alert">{move || state.notice.get()}</p>
                </Show>
            </main>
            <Composer state=state />
        </div>
    }
}

fn render_entry(entry: Entry, now: RwSignal<i64>) -> AnyView {
    match entry {
        Entry::User { text } => view! { <article class="msg user"><p>{text}</p></article> }.into_any(),
        Entry::Assistant { text, tools, cost_usd, turns } => {
            let html = markdown::to_html(&text);
            let meta = match (cost_usd, turns) {
                (Some(cost), Some(turns)) => Some(format!("{} · {turns} turn{}", usd(cost), if turns == 1 { "" } else { "s" })),
                (Some(cost), None) => Some(usd(cost)),
                _ => None,
            };
            view! {
                <article class="msg assistant">
                    {(!tools.is_empty()).then(|| view! {
                        <ul class="tools">
                            {tools.into_iter().map(|t| view! { <li>{t.summary}</li> }).collect_view()}
                        </ul>
                    })}
                    <div class="markdown" inner_html=html></div>
                    {meta.map(|m| view! { <p class="meta">{m}</p> })}
                </article>
            }
            .into_any()
        }
        Entry::Failure { reason } => view! {
            <article class="msg failure" role="alert">
                <p><strong>"Failed: "</strong>{reason}</p>
            </article>
        }
        .into_any(),
        Entry::Working { since_ms, queued, .. } => view! {
            <article class="msg working" aria-busy="true">
                <span class="spinner" aria-hidden="true"></span>
                <span>{if queued { "Queued" } else { "Working" }}</span>
                <span class="elapsed">{move || elapsed((now.get() - since_ms) as f64)}</span>
            </article>
        }
        .into_any(),
    }
}

/// One listener for every code block's copy button (the Markdown is rendered as HTML).
fn copy_code(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::JsCast;
        let Some(button) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        if !button.class_list().contains("copy") {
            return;
        }
        if let Some(code) = button.next_element_sibling().and_then(|pre| pre.text_content()) {
            browser::copy_text(&code);
            button.set_text_content(Some("Copied"));
        }
    }
    #[cfg(not(feature = "csr"))]
    let _ = ev;
}

#[component]
fn Composer(state: ChatState) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let send = move || {
        let message = text.get_untracked();
        if message.trim().is_empty() {
            return;
        }
        text.set(String::new());
        state.send(message);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Desktop: Enter sends, Shift+Enter is a new line. Phones: Enter is a new line; the
        // button sends.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && !browser::coarse_pointer() {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send();
        }>
            <label for="message" class="visually-hidden">"Message"</label>
            <textarea
                id="message"
                name="message"
                rows="1"
                placeholder="Message Claude…"
                enterkeyhint="send"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=on_key
            ></textarea>
            <button type="submit" class="primary send" disabled=move || text.with(|t| t.trim().is_empty())>
                "Send"
            </button>
        </form>
    }
}
