//! What changed, shown by a script the app fetches only when it is first needed
//! (`public/lazy/changes.js`: the diff viewer and the file browser), so the first load pays
//! nothing for them. The service worker keeps it with the app's other files, for offline use.
//!
//! Here: a row under a finished reply ("2 files changed, +10 −3") that opens the task's diffs,
//! and the project's Files view.

// Outside the browser (the server's build) the views render, and nothing loads.
#![cfg_attr(not(feature = "csr"), allow(dead_code, unused_variables))]

use crate::api::timeline::plural;
use crate::api::ChangeCount;
use leptos::html::Div;
use leptos::prelude::*;
use uuid::Uuid;

pub const SCRIPT: &str = "/lazy/changes.js";

/// What to show in an element once the script is here.
#[derive(Clone)]
enum Show {
    /// The diffs at this URL.
    Changes(String),
    /// The Files view of this project.
    Files(String),
}

/// "2 files changed, +10 −3": opens the task's diffs (read when first opened).
#[component]
pub fn ChangesRow(session: Uuid, task: Uuid, count: ChangeCount) -> impl IntoView {
    let host = NodeRef::<Div>::new();
    let asked = StoredValue::new(false);
    let open = move |_| {
        if asked.get_value() {
            return;
        }
        asked.set_value(true);
        #[cfg(feature = "csr")]
        if let Some(host) = host.get_untracked() {
            dom::show(host.into(), Show::Changes(format!("/api/sessions/{session}/tasks/{task}/changes")));
        }
    };
    let label = format!("{} changed, +{} \u{2212}{}", plural(count.files as usize, "file", "files"), count.added, count.removed);
    view! {
        <details class="changes" on:toggle=open>
            <summary>{label}</summary>
            <div class="changes-body" node_ref=host>
                <p class="loading">"Loading…"</p>
            </div>
        </details>
    }
}

/// The project's files and git state, over the conversation until closed.
#[component]
pub fn FilesView(project: String, name: String, on_close: Callback<()>) -> impl IntoView {
    let host = NodeRef::<Div>::new();
    #[cfg(feature = "csr")]
    host.on_load(move |host| dom::show(host.into(), Show::Files(project.clone())));
    view! {
        <section class="files-view" role="dialog" aria-label="Files">
            <header class="bar">
                <h2>{format!("Files · {name}")}</h2>
                <button type="button" on:click=move |_| on_close.run(())>"Close"</button>
            </header>
            <div class="files-host" node_ref=host>
                <p class="loading">"Loading…"</p>
            </div>
        </section>
    }
}

#[cfg(feature = "csr")]
mod dom {
    use super::{Show, SCRIPT};
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = claudeRemoteChanges, js_name = showChanges, catch)]
        fn show_changes(host: &web_sys::Element, url: &str) -> Result<(), JsValue>;
        #[wasm_bindgen(js_namespace = claudeRemoteChanges, js_name = showFiles, catch)]
        fn show_files(host: &web_sys::Element, project: &str) -> Result<(), JsValue>;
    }

    enum Script {
        Absent,
        /// Loading; what to show once it has run.
        Loading(Vec<(web_sys::Element, Show)>),
        Ready,
    }

    thread_local! {
        static SCRIPT_STATE: RefCell<Script> = const { RefCell::new(Script::Absent) };
    }

    pub fn show(host: web_sys::Element, what: Show) {
        let (ready, first) = SCRIPT_STATE.with_borrow_mut(|state| match state {
            Script::Ready => (true, false),
            Script::Loading(waiting) => {
                waiting.push((host.clone(), what.clone()));
                (false, false)
            }
            Script::Absent => {
                *state = Script::Loading(vec![(host.clone(), what.clone())]);
                (false, true)
            }
        });
        // Outside the borrow: a load that fails at once updates the state itself.
        if first {
            load();
        }
        if ready {
            call(&host, &what);
        }
    }

    fn call(host: &web_sys::Element, what: &Show) {
        let _ = match what {
            Show::Changes(url) => show_changes(host, url),
            Show::Files(project) => show_files(host, project),
        };
    }

    /// Adds the script once; when it has run, shows what waits for it. Failing (offline before
    /// it was ever fetched), each waiting view says so, and the next one opened tries again.
    fn load() {
        let finish = |loaded: bool| {
            let waiting = SCRIPT_STATE.with_borrow_mut(|state| {
                let previous = std::mem::replace(state, if loaded { Script::Ready } else { Script::Absent });
                match previous {
                    Script::Loading(waiting) => waiting,
                    _ => Vec::new(),
                }
            });
            for (host, what) in waiting {
                if loaded {
                    call(&host, &what);
                } else {
                    host.set_text_content(Some("Could not load the viewer: is the machine reachable? Close and open again to retry."));
                }
            }
        };
        crate::ui::browser::add_script(SCRIPT, false, Box::new(finish));
    }
}
