//! The chat screen: a header with the session and its cost, the conversation, the composer.

use super::address::{self, Step};
use super::approvals::Approvals;
use super::browser;
use super::conversation::{total_cost, Entry};
use super::drawer::Drawer;
use super::follow;
use super::format::{elapsed, usd};
use super::markdown;
use super::projects::ProjectPicker;
use super::push::{report_presence, Notifications};
use super::sessions::SessionList;
use super::state::ChatState;
use super::lazy::{ChangesRow, FilesView};
use super::steps::{self, LazySteps, Steps};
use crate::api::timeline::{plural, shown_steps, TimelineItem};
use crate::api::{sign_out, sign_out_everywhere, Me};
use uuid::Uuid;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Chat(user: Me, offline: RwSignal<bool>, #[prop(into)] on_signed_out: Callback<()>) -> impl IntoView {
    let state = ChatState::new(offline);
    let now = RwSignal::new(browser::now_ms());
    let drawer = Drawer::new(state);
    state.refresh_sessions();
    let first = browser::initial_session();
    address::show(first, Step::Replace);
    state.show(first);
    // Back and Forward: the session the address names.
    let history = window_event_listener(leptos::ev::popstate, move |_| {
        if let Some(session) = address::current()
            && session != state.session.get_untracked() {
            state.show(session);
        }
    });
    on_cleanup(move || history.remove());
    // Messages written while the machine could not be reached, or before a sign-in: sent now,
    // and again each time the machine answers after a silence.
    state.send_waiting();
    Effect::new(move |was_offline: Option<bool>| {
        let offline = offline.get();
        if was_offline == Some(true) && !offline {
            state.send_waiting();
        }
        offline
    });
    if let Ok(tick) = set_interval_with_handle(move || now.set(browser::now_ms()), std::time::Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
    browser::on_notification_open(move |id| state.open(Some(id)));
    report_presence(state);
    Effect::new(move |_| {
        if state.signed_out.get() {
            on_signed_out.run(());
        }
    });

    let files_open = RwSignal::new(false);
    state.refresh_projects();
    // The open session's project, or the one a new session starts in; the default's until known.
    let default_name = StoredValue::new(user.project.clone());
    let project = move || state.project_name(state.session.get()).or_else(|| default_name.get_value());
    let title = move || {
        let current = state.session.get();
        match current {
            None => "New session".to_owned(),
            Some(id) => state.listed_session(id, |s| s.title.clone()).unwrap_or_else(|| "Session".to_owned()),
        }
    };
    let cost = move || {
        let total = state.tasks.with(|tasks| total_cost(tasks));
        (total > 0.0).then(|| format!("{} spent here", usd(total)))
    };
    // The cards of what the followed task waits on go right after it, before any message
    // queued behind it; they are rendered apart so that a changed entry list keeps their input.
    let split = Memo::new(move |_| {
        let task = state.timeline.task.get();
        state.entries.with(|entries| {
            task.and_then(|task| entries.iter().position(|e| matches!(e, Entry::Working { task_id, .. } if *task_id == task)))
                .map_or(entries.len(), |i| i + 1)
        })
    });
    let conversation = NodeRef::<leptos::html::Main>::new();
    follow::follow(conversation, state.pinned);
    super::highlight::watch(conversation);
    let leave = move |everywhere: bool| {
        spawn_local(async move {
            let _ = if everywhere { sign_out_everywhere().await } else { sign_out().await };
            browser::remember_session(None);
            on_signed_out.run(());
        });
    };

    view! {
        <div class="app">
            <header class="bar">
                <button
                    type="button"
                    class="icon menu"
                    aria-label="Sessions"
                    aria-expanded=move || drawer.open.get().to_string()
                    on:click=move |_| drawer.toggle()
                >
                    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                        <path d="M4 7h16M4 12h16M4 17h16" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </button>
                <div class="heading">
                    <h1 class="session-name">{title}</h1>
                    <span class="cost">
                        {move || project().map(|name| view! { <span class="project" title="Project">{name}</span> })}
                        <span data-testid="session-cost">{cost}</span>
                    </span>
                </div>
                <button type="button" class="icon" aria-label="New session" on:click=move |_| state.open(None)>
                    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
                        <path d="M12 5v14M5 12h14" stroke="currentColor" stroke-width="2" stroke-linecap="round" />
                    </svg>
                </button>
            </header>
            <Show when=move || drawer.open.get() && !drawer.wide.get()>
                // A tap beside the drawer closes it.
                <div class="backdrop" aria-hidden="true" on:click=move |_| drawer.close()></div>
            </Show>
            <Show when=move || drawer.shown()>
                <div class="drawer">
                    <SessionList state=state now=now on_chosen=move |session| drawer.choose(state, session) />
                    <Notifications now=now />
                    <button type="button" class="files-open" on:click=move |_| files_open.set(true)>"Files"</button>
                    <div class="account">
                        <span>{format!("Signed in as {}", user.username)}</span>
                        <button type="button" on:click=move |_| leave(false)>"Sign out"</button>
                        <button type="button" on:click=move |_| leave(true)>"Sign out everywhere"</button>
                    </div>
                </div>
            </Show>
            <main
                class="conversation"
                aria-live="polite"
                node_ref=conversation
                on:click=copy_code
                on:scroll=move |_| follow::on_scroll(conversation, state.pinned)
            >
                <Show when=move || state.loading.get()>
                    <p class="loading">"Loading…"</p>
                </Show>
                <Show when=move || !state.loading.get() && state.entries.with(Vec::is_empty)>
                    <p class="empty">"Ask Claude to do something in this project."</p>
                </Show>
                {move || (state.session.get().is_none() && state.entries.with(Vec::is_empty)).then(|| view! { <ProjectPicker state=state now=now /> })}
                {move || {
                    let at = split.get();
                    state.entries.with(|e| e[..at.min(e.len())].to_vec()).into_iter().map(|entry| render_entry(entry, now, state)).collect_view()
                }}
                <Approvals state=state />
                {move || {
                    let at = split.get();
                    state.entries.with(|e| e[at.min(e.len())..].to_vec()).into_iter().map(|entry| render_entry(entry, now, state)).collect_view()
                }}
                <Show when=move || state.notice.get().is_some()>
                    <p class="notice" role="alert">{move || state.notice.get()}</p>
                </Show>
            </main>
            <Show when=move || !state.pinned.get()>
                <button type="button" class="jump-latest" on:click=move |_| follow::jump_to_latest(conversation, state.pinned)>
                    "Jump to latest"
                </button>
            </Show>
            <Composer state=state />
            <Show when=move || files_open.get()>
                {move || {
                    // The project of what is on screen, as the header names it.
                    let session = state.session.get_untracked();
                    let name = untrack(project).unwrap_or_else(|| "project".to_owned());
                    view! { <FilesView project=state.project_id(session) name=name on_close=Callback::new(move |()| files_open.set(false)) /> }
                }}
            </Show>
        </div>
    }
}

fn render_entry(entry: Entry, now: RwSignal<i64>, state: ChatState) -> AnyView {
    // A finished task's steps, folded above its reply: those seen live, or (after a reload, or
    // seen on another device) read when opened. The counts are the server's either way, so the
    // summary reads the same after a reload as it did live.
    let folded = move |task: Option<Uuid>| {
        let task = task?;
        let (session, kept) = state.tasks.with(|tasks| {
            let found = tasks.iter().find(|t| t.task_id == task);
            (found.map(|t| t.session_id), found.and_then(|t| t.progress.as_ref()).and_then(steps::summary_of))
        });
        match state.folded.with(|f| f.get(&task).cloned()) {
            Some(seen) => {
                let tools = seen.iter().filter(|s| matches!(s, TimelineItem::Tool { .. })).count();
                let summary = kept.unwrap_or_else(|| steps::summary(shown_steps(&seen), tools));
                Some(view! {
                    <details class="steps">
                        <summary>{summary}</summary>
                        <Steps steps=seen />
                    </details>
                }
                .into_any())
            }
            None => {
                let (session, summary) = (session?, kept?);
                Some(view! { <LazySteps session=session task=task summary=summary /> }.into_any())
            }
        }
    };
    // What a finished task changed, in numbers kept with it: a row that opens the diffs.
    let changed = move |task: Option<Uuid>| {
        let task = task?;
        let (session, count) = state.tasks.with(|tasks| {
            let found = tasks.iter().find(|t| t.task_id == task)?;
            Some((found.session_id, found.progress.as_ref()?.changes?))
        })?;
        Some(view! { <ChangesRow session=session task=task count=count /> })
    };
    match entry {
        // The user's own words read like the replies: Markdown, rendered as safely.
        Entry::User { text } => {
            let html = markdown::typed_to_html(&text);
            view! { <article class="msg user"><div class="markdown" inner_html=html></div></article> }.into_any()
        }
        Entry::Assistant { text, tools, cost_usd, turns, task_id } => {
            let html = markdown::to_html(&text);
            let meta = match (cost_usd, turns) {
                (Some(cost), Some(turns)) => Some(format!("{} · {}", usd(cost), plural(turns as usize, "turn", "turns"))),
                (Some(cost), None) => Some(usd(cost)),
                _ => None,
            };
            let steps = folded(task_id);
            let tools = (steps.is_none() && !tools.is_empty()).then(|| view! {
                <ul class="tools">
                    {tools.into_iter().map(|t| view! { <li>{t.summary}</li> }).collect_view()}
                </ul>
            });
            view! {
                <article class="msg assistant">
                    {steps}
                    {tools}
                    <div class="markdown" inner_html=html></div>
                    {changed(task_id)}
                    {meta.map(|m| view! { <p class="meta">{m}</p> })}
                </article>
            }
            .into_any()
        }
        Entry::Failure { reason, cancelled, task_id } => {
            let steps = folded(task_id);
            let label = if cancelled { "Stopped. " } else { "Failed: " };
            let reason = if cancelled { "What it had done so far is kept; you can continue this session.".to_owned() } else { reason };
            // A task of ours that failed can be sent again as it was.
            let retry = (!cancelled && task_id.is_some()).then(|| view! {
                <button type="button" class="retry" on:click=move |_| state.retry(task_id)>"Retry"</button>
            });
            view! {
                <article class="msg failure" class:cancelled=cancelled role="alert">
                    {steps}
                    <p><strong>{label}</strong>{reason}</p>
                    {changed(task_id)}
                    {retry}
                </article>
            }
            .into_any()
        }
        Entry::Unsent { id, reason, automatic } => {
            let why = reason.map(|r| format!("Not sent: {r}")).unwrap_or_else(|| "Not sent.".to_owned());
            let next = if automatic { " It will be sent by itself when your machine can be reached." } else { "" };
            view! {
                <article class="msg unsent" role="alert" data-testid="unsent">
                    <p><strong>{why}</strong>{next}</p>
                    <div class="unsent-actions">
                        <button type="button" class="primary" on:click=move |_| state.resend(id)>"Resend"</button>
                        <button type="button" on:click=move |_| state.discard(id)>"Discard"</button>
                    </div>
                </article>
            }
            .into_any()
        }
        Entry::Working { task_id, since_ms, queued, ahead } => {
            let live = move || state.timeline.task.get() == Some(task_id);
            let status = match (queued, ahead) {
                (true, Some(0)) => "Queued · starts when a slot is free".to_owned(),
                (true, Some(n)) => format!("Queued · {n} ahead"),
                (true, None) => "Queued · runs after the current task".to_owned(),
                (false, _) => "Working".to_owned(),
            };
            let status = move || {
                let waiting = live() && state.approvals.with(|a| !a.is_empty());
                if waiting { "Waiting for you".to_owned() } else { status.clone() }
            };
            let stop_label = if queued { "Cancel" } else { "Stop" };
            view! {
                <article class="msg working" aria-busy="true">
                    <div class="working-head">
                        <span class="spinner" aria-hidden="true"></span>
                        <span class="status">{status}</span>
                        <span class="elapsed">{move || if queued { String::new() } else { elapsed((now.get() - since_ms) as f64) }}</span>
                        <button type="button" class="stop" disabled=state.is_unsent(task_id) on:click=move |_| state.cancel(task_id)>
                            {stop_label}
                        </button>
                    </div>
                    <Show when=live>
                        <Show when=move || state.timeline.earlier.get()>
                            <button type="button" class="earlier" on:click=move |_| state.timeline.show_earlier()>
                                "Show earlier steps"
                            </button>
                        </Show>
                        <Steps steps=Signal::derive(move || state.timeline.steps.get()) />
                        {move || {
                            // The words being written, until their message is complete: then its
                            // text step says them.
                            let written = state.timeline.steps.with(|steps| match steps.last() {
                                Some(TimelineItem::Text { text }) => Some(text.trim().to_owned()),
                                _ => None,
                            });
                            state.timeline.draft.with(|draft| {
                                let draft = draft.as_deref().filter(|d| written.as_deref().is_none_or(|w| !d.trim_end().ends_with(w)))?;
                                let html = markdown::to_html(draft);
                                Some(view! { <div class="markdown draft" data-testid="draft" inner_html=html></div> })
                            })
                        }}
                    </Show>
                </article>
            }
            .into_any()
        }
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
        let pre = button.closest(".code").ok().flatten().and_then(|block| block.query_selector("pre").ok().flatten());
        if let Some(code) = pre.and_then(|pre| pre.text_content()) {
            browser::copy_text(&code);
            button.set_text_content(Some("Copied"));
        }
    }
    #[cfg(not(feature = "csr"))]
    let _ = ev;
}

/// The permission modes a message can be sent in: the CLI's `--permission-mode` values and what
/// the picker calls them. "default" is sent as no mode at all (the CLI's own setting: ask).
const MODES: [(&str, &str); 4] = [("default", "Ask"), ("acceptEdits", "Accept edits"), ("plan", "Plan"), ("bypassPermissions", "Bypass")];

fn mode_note(mode: &str) -> Option<&'static str> {
    match mode {
        "acceptEdits" => Some("Accept edits: file edits run without asking; commands still ask."),
        "plan" => Some("Plan: Claude only reads and plans, then asks you to approve the plan."),
        "bypassPermissions" => Some("Bypass: every tool runs without asking you, commands included. (The CLI refuses this mode when the server runs as root.)"),
        _ => None,
    }
}

/// The models a message can be sent to: the CLI's `--model` aliases (its newest of each family)
/// and what the picker calls them. "" is sent as no model at all (the CLI's own setting).
const MODELS: [(&str, &str); 4] = [("", "Default model"), ("opus", "Opus"), ("sonnet", "Sonnet"), ("haiku", "Haiku")];

#[component]
fn Composer(state: ChatState) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let mode = RwSignal::new("default".to_owned());
    let model = RwSignal::new(String::new());
    let send = move || {
        let message = text.get_untracked();
        if message.trim().is_empty() {
            return;
        }
        text.set(String::new());
        let mode = mode.get_untracked();
        let model = model.get_untracked();
        state.send(message, (mode != "default").then_some(mode), (!model.is_empty()).then_some(model));
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
        {move || {
            mode.with(|m| mode_note(m)).map(|note| {
                let bypass = mode.with(|m| m == "bypassPermissions");
                view! { <p class="mode-note" class:warning=bypass role="status">{note}</p> }
            })
        }}
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            send();
        }>
            <div class="composer-options">
                <label for="mode" class="visually-hidden">"Permission mode"</label>
                <select id="mode" name="mode" class="mode" class:bypass=move || mode.with(|m| m == "bypassPermissions") on:change=move |ev| mode.set(event_target_value(&ev))>
                    {MODES
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value prop:selected=move || mode.with(|m| m == value)>{label}</option> })
                        .collect_view()}
                </select>
                <label for="model" class="visually-hidden">"Model"</label>
                <select id="model" name="model" class="mode model" on:change=move |ev| model.set(event_target_value(&ev))>
                    {MODELS
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value prop:selected=move || model.with(|m| m == value)>{label}</option> })
                        .collect_view()}
                </select>
            </div>
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
