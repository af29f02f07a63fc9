//! The session switcher: "New session", a search box and a project filter, what was spent today
//! and this month, then the sessions, each with its state, project, cost and when it was last
//! active, and a "⋯" button
//! for rename, archive and delete. At the bottom, the "Archived" toggle: the archived sessions
//! instead, and back.
//!
//! Rows are keyed by session and read their summary through a memo, so a refresh changes only
//! what changed: a title being edited keeps its text and focus while the list refreshes.

use super::browser;
use super::format::{folder_name, relative_time, usd};
use super::projects::SessionFilter;
use super::state::ChatState;
use crate::api::{delete_session, update_session, SessionState, SessionSummary};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

/// What a row shows under its "⋯" button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Panel {
    Actions,
    Rename,
    Delete,
}

#[component]
pub fn SessionList(state: ChatState, now: RwSignal<i64>, #[prop(into)] on_chosen: Callback<Option<Uuid>>) -> impl IntoView {
    let open: RwSignal<Option<(Uuid, Panel)>> = RwSignal::new(None);
    let offset = browser::utc_offset_minutes();
    let shown = move || if state.show_archived.get() { state.archived } else { state.sessions };
    let choose = move |session| on_chosen.run(session);
    let toggle_archived = move |_| {
        open.set(None);
        state.show_archived.update(|shown| *shown = !*shown);
        state.refresh_sessions();
    };
    view! {
        <nav class="sessions" aria-label="Sessions">
            {move || {
                if state.show_archived.get() {
                    Either::Left(view! { <h2 class="sessions-heading">"Archived sessions"</h2> })
                } else {
                    Either::Right(view! { <button type="button" class="new-session" on:click=move |_| choose(None)>"+ New session"</button> })
                }
            }}
            <SessionFilter state=state />
            <p class="spend" data-testid="spend">
                {move || {
                    let spend = state.spend.get();
                    format!("Today {} · This month {}", usd(spend.today_usd), usd(spend.month_usd))
                }}
            </p>
            <ul>
                <For each=move || shown().with(|list| list.iter().map(|s| s.session_id).collect::<Vec<_>>()) key=|id| *id let:id>
                    <SessionRow state=state id=id now=now offset=offset open=open on_chosen=on_chosen />
                </For>
            </ul>
            {move || {
                shown().with(Vec::is_empty).then(|| {
                    let empty = if !state.query.with_untracked(|q| q.trim().is_empty()) {
                        "No session matches."
                    } else if state.show_archived.get_untracked() {
                        "No archived sessions."
                    } else {
                        "No sessions yet."
                    };
                    view! { <p class="empty">{empty}</p> }
                })
            }}
            // A toggle keeps its name; pressed, it shows the archived sessions.
            <button type="button" class="archived-toggle" aria-pressed=move || state.show_archived.get().to_string() on:click=toggle_archived>
                "Archived"
            </button>
        </nav>
    }
}

#[component]
fn SessionRow(
    state: ChatState,
    id: Uuid,
    now: RwSignal<i64>,
    offset: i32,
    open: RwSignal<Option<(Uuid, Panel)>>,
    on_chosen: Callback<Option<Uuid>>,
) -> impl IntoView {
    let row = Memo::new(move |_| state.listed_session(id, SessionSummary::clone));
    let read = move |f: fn(&SessionSummary) -> String| row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let title = move || read(|s| s.title.clone());
    let panel = move || open.get().filter(|(session, _)| *session == id).map(|(_, panel)| panel);
    let show = move |panel: Option<Panel>| shows(open, id, panel);
    let error = RwSignal::new(None::<String>);
    let panel_id = format!("session-panel-{id}");
    // Escape closes what the row shows, not the drawer: the drawer leaves an event marked
    // handled, or one from a row marked as taking it, alone.
    let escape = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && panel().is_some() {
            ev.prevent_default();
            ev.stop_propagation();
            show(None);
        }
    };
    let badge = move || row.with(|r| r.as_ref().and_then(|s| s.state).and_then(badge)).map(|(label, kind)| {
        view! { <span class=format!("badge {kind}")>{label}</span> }
    });
    // A failure before the API was reached costs nothing: no "$0.00".
    let cost = move || {
        row.with(|r| r.as_ref().and_then(|s| s.cost_usd)).filter(|cost| *cost > 0.0).map(|cost| view! { <span class="session-cost">{usd(cost)}</span> })
    };
    // A session's project does not change.
    let project = row
        .with_untracked(|r| r.as_ref().map(|s| s.project_name.clone().unwrap_or_else(|| folder_name(&s.project).to_owned())))
        .unwrap_or_default();
    let when = move || row.with(|r| r.as_ref().map(|s| s.timestamp)).map(|at| relative_time(at, now.get(), offset)).unwrap_or_default();

    view! {
        <li class="session-row" data-takes-escape=move || panel().is_some().then_some("") on:keydown=escape>
            <div class="session-line">
                <button
                    type="button"
                    class="session"
                    aria-current=move || (state.session.get() == Some(id)).then_some("true")
                    on:click=move |_| on_chosen.run(Some(id))
                >
                    <span class="session-title">{title}</span>
                    <span class="session-meta">
                        {badge}
                        <span class="session-project">{project}</span>
                        {cost}
                        <span class="session-time">{when}</span>
                    </span>
                </button>
                <button
                    type="button"
                    class="icon session-more"
                    aria-label=move || format!("Session actions for {}", title())
                    aria-expanded=move || panel().is_some().to_string()
                    aria-controls=panel_id.clone()
                    on:click=move |_| {
                        error.set(None);
                        show(if panel().is_some() { None } else { Some(Panel::Actions) });
                    }
                >
                    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                        <circle cx="5" cy="12" r="2" fill="currentColor" />
                        <circle cx="12" cy="12" r="2" fill="currentColor" />
                        <circle cx="19" cy="12" r="2" fill="currentColor" />
                    </svg>
                </button>
            </div>
            <div id=panel_id class="session-panel">
                {move || match panel() {
                    None => ().into_any(),
                    Some(Panel::Actions) => view! { <Actions state=state id=id row=row open=open error=error /> }.into_any(),
                    Some(Panel::Rename) => view! { <Rename state=state id=id row=row open=open error=error /> }.into_any(),
                    Some(Panel::Delete) => view! { <Delete state=state id=id open=open error=error /> }.into_any(),
                }}
                {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            </div>
        </li>
    }
}

/// Shows `panel` under the row of `id` (`None`: nothing), closing any other row's.
fn shows(open: RwSignal<Option<(Uuid, Panel)>>, id: Uuid, panel: Option<Panel>) {
    open.set(panel.map(|p| (id, p)));
}

/// Renames (an empty title clears the user's) or archives the session, then shows it as the
/// server has it and closes the row's panel; a refusal shows in the row.
fn update(state: ChatState, id: Uuid, open: RwSignal<Option<(Uuid, Panel)>>, error: RwSignal<Option<String>>, title: Option<String>, archived: Option<bool>) {
    spawn_local(async move {
        match update_session(id, title, archived).await {
            Ok(summary) => {
                shows(open, id, None);
                state.replace_session(summary);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    });
}

/// The badge of a session's state; none for one whose latest task completed.
fn badge(state: SessionState) -> Option<(&'static str, &'static str)> {
    match state {
        SessionState::Running => Some(("Running", "running")),
        SessionState::Queued => Some(("Queued", "queued")),
        SessionState::Waiting => Some(("Waiting for you", "waiting")),
        SessionState::Failed => Some(("Failed", "failed")),
        SessionState::Cancelled => Some(("Stopped", "stopped")),
        SessionState::Completed => None,
    }
}

#[component]
fn Actions(state: ChatState, id: Uuid, row: Memo<Option<SessionSummary>>, open: RwSignal<Option<(Uuid, Panel)>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let show = move |panel: Option<Panel>| shows(open, id, panel);
    let archived = row.with_untracked(|r| r.as_ref().is_some_and(|s| s.archived));
    let archive = move |_| update(state, id, open, error, None, Some(!archived));
    view! {
        <div class="session-actions" role="group" aria-label="Session actions">
            <button type="button" on:click=move |_| show(Some(Panel::Rename))>"Rename"</button>
            <button type="button" on:click=archive>{if archived { "Unarchive" } else { "Archive" }}</button>
            <button type="button" class="danger" on:click=move |_| show(Some(Panel::Delete))>"Delete…"</button>
        </div>
    }
}

#[component]
fn Rename(state: ChatState, id: Uuid, row: Memo<Option<SessionSummary>>, open: RwSignal<Option<(Uuid, Panel)>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let show = move |panel: Option<Panel>| shows(open, id, panel);
    let draft = RwSignal::new(row.with_untracked(|r| r.as_ref().map(|s| s.title.clone()).unwrap_or_default()));
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
            input.select();
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // Blank clears the title. Sent as a space, not as "": a form encoding may read an empty
        // value as none (leave it), and the server trims a title anyway.
        let title = draft.get_untracked();
        update(state, id, open, error, Some(if title.trim().is_empty() { " ".to_owned() } else { title }), None);
    };
    view! {
        <form class="session-rename" on:submit=save>
            <input
                type="text"
                aria-label="Session title"
                maxlength="200"
                node_ref=input
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
            />
            <button type="submit" class="primary">"Save"</button>
            <button type="button" on:click=move |_| show(None)>"Cancel"</button>
        </form>
    }
}

#[component]
fn Delete(state: ChatState, id: Uuid, open: RwSignal<Option<(Uuid, Panel)>>, error: RwSignal<Option<String>>) -> impl IntoView {
    let show = move |panel: Option<Panel>| shows(open, id, panel);
    let transcript = RwSignal::new(false);
    let confirm = move |_| {
        let transcript = transcript.get_untracked();
        spawn_local(async move {
            match delete_session(id, transcript).await {
                Ok(()) => {
                    show(None);
                    state.forget_session(id);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="session-delete" role="group" aria-label="Delete this session">
            <p>"Delete this session from the list? Its tasks here are stopped and forgotten. The CLI's transcript file is kept."</p>
            <label>
                <input type="checkbox" prop:checked=move || transcript.get() on:change=move |ev| transcript.set(event_target_checked(&ev)) />
                "Also delete the transcript file"
            </label>
            <div class="session-delete-buttons">
                <button type="button" class="danger" on:click=confirm>"Delete session"</button>
                <button type="button" on:click=move |_| show(None)>"Cancel"</button>
            </div>
        </div>
    }
}
