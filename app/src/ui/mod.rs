//! The components. For now a status page that proves the pipeline end to end: Trunk-built WASM,
//! served by the server, calling a server function through the shared runner.

use crate::api::list_sessions;
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    let sessions = LocalResource::new(|| list_sessions(20));
    view! {
        <main class="placeholder">
            <h1>"Claude Remote"</h1>
            <p>"The service is running. The phone app arrives with the next release; the REST API is ready."</p>
            <Suspense fallback=|| view! { <p>"Loading sessions…"</p> }>
                {move || {
                    sessions
                        .get()
                        .map(|result| match result {
                            Ok(list) => view! { <p data-testid="session-count">{format!("{} recent sessions", list.sessions.len())}</p> }.into_any(),
                            Err(error) => view! { <p role="alert">{format!("Could not load sessions: {error}")}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </main>
    }
}
