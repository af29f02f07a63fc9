//! Projects in the app: the picker a new session starts with (recent first, each with its branch
//! and last activity, and a folder added by its path, typed or browsed to), and the session
//! list's project filter and search. The server refuses a folder outside its roots; its reason is
//! shown as it is.

use super::browser;
use super::folder_browser::FolderBrowser;
use super::format::relative_time;
use super::state::ChatState;
use crate::api::{add_project, ProjectInfo};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// How an option names a project: its folder, branch and last activity.
fn describe(project: &ProjectInfo, now: i64, offset: i32) -> String {
    let mut text = project.name.clone();
    if let Some(branch) = &project.git_branch {
        text.push_str(" · ");
        text.push_str(branch);
    }
    if let Some(at) = project.last_activity {
        text.push_str(" · ");
        text.push_str(&relative_time(at, now, offset));
    }
    text
}

/// Where a new session runs, chosen before its first message; a folder under the server's roots
/// can be added by its path.
#[component]
pub fn ProjectPicker(state: ChatState, now: RwSignal<i64>) -> impl IntoView {
    state.refresh_projects();
    let offset = browser::utc_offset_minutes();
    let path = RwSignal::new(String::new());
    let refusal = RwSignal::new(None::<String>);
    // Read untracked: the options are made again when the list changes, and a choice made in
    // the select itself needs no new options.
    let chosen = move |id: &str| state.new_project.with_untracked(|c| c.as_deref().map_or_else(|| is_default(state, id), |c| c == id));
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = path.get_untracked().trim().to_owned();
        spawn_local(async move {
            match add_project(typed).await {
                Ok(project) => {
                    refusal.set(None);
                    path.set(String::new());
                    state.new_project.set(Some(project.id.clone()));
                    state.projects.update(|all| {
                        all.retain(|p| p.id != project.id);
                        all.insert(0, project);
                    });
                }
                Err(e) => refusal.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <div class="project-picker">
            <label for="new-project">"Project"</label>
            <select id="new-project" on:change=move |ev| state.new_project.set(Some(event_target_value(&ev)))>
                {move || {
                    // Not every second: options made again close a picker the user has open.
                    let now = now.get_untracked();
                    state.projects.with(|all| {
                        all.iter()
                            .map(|p| view! { <option value=p.id.clone() selected=chosen(&p.id)>{describe(p, now, offset)}</option> })
                            .collect_view()
                    })
                }}
            </select>
            <form class="add-project" on:submit=add>
                <input
                    type="text"
                    aria-label="Folder to add"
                    placeholder="/path/to/a/folder"
                    autocomplete="off"
                    autocapitalize="off"
                    spellcheck="false"
                    prop:value=move || path.get()
                    on:input=move |ev| path.set(event_target_value(&ev))
                />
                <button type="submit" disabled=move || path.with(|p| !p.trim().starts_with('/'))>"Add folder"</button>
            </form>
            <FolderBrowser path refusal />
            {move || refusal.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        </div>
    }
}

fn is_default(state: ChatState, id: &str) -> bool {
    state.projects.with_untracked(|all| all.iter().any(|p| p.default && p.id == id))
}

/// The session list's search box and project filter: each change lists again.
#[component]
pub fn SessionFilter(state: ChatState) -> impl IntoView {
    let set_project = move |ev| {
        let id = event_target_value(&ev);
        state.filter.set((!id.is_empty()).then_some(id));
        state.refresh_sessions();
    };
    view! {
        <div class="session-filter">
            <input
                type="search"
                aria-label="Search sessions"
                placeholder="Search sessions"
                prop:value=move || state.query.get()
                on:input=move |ev| {
                    state.query.set(event_target_value(&ev));
                    state.refresh_sessions();
                }
            />
            <select aria-label="Filter by project" on:change=set_project>
                <option value="">"All projects"</option>
                {move || {
                    let filter = state.filter.get();
                    state.projects.with(|all| {
                        all.iter()
                            .map(|p| view! { <option value=p.id.clone() selected=filter.as_deref() == Some(p.id.as_str())>{p.name.clone()}</option> })
                            .collect_view()
                    })
                }}
            </select>
        </div>
    }
}
