//! The session switcher: "New session", then the project's sessions with their titles and when
//! they were last active.

use super::format::relative_time;
use super::state::ChatState;
use leptos::prelude::*;

#[component]
pub fn SessionList(state: ChatState, now: RwSignal<i64>, #[prop(into)] on_chosen: Callback<Option<uuid::Uuid>>) -> impl IntoView {
    let choose = move |session| on_chosen.run(session);
    view! {
        <nav class="sessions" aria-label="Sessions">
            <button type="button" class="new-session" on:click=move |_| choose(None)>"+ New session"</button>
            <ul>
                {move || {
                    let current = state.session.get();
                    state
                        .sessions
                        .get()
                        .into_iter()
                        .map(|s| {
                            let id = s.session_id;
                            let when = s.timestamp;
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        class="session"
                                        aria-current=if current == Some(id) { Some("true") } else { None }
                                        on:click=move |_| choose(Some(id))
                                    >
                                        <span class="session-title">{s.title}</span>
                                        <span class="session-time">{move || relative_time(when, now.get())}</span>
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <Show when=move || state.sessions.with(Vec::is_empty)>
                <p class="empty">"No sessions yet in this project."</p>
            </Show>
        </nav>
    }
}
