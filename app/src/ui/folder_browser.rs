//! Choosing a folder to add as a project by browsing, for a phone where typing a path is a chore:
//! the server's roots, then one level at a time (git work trees marked). Each folder opened
//! becomes the path "Add folder" adds.

use crate::api::{project_folders, FolderListing};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Opens `at` (`None`: the roots) and puts the folder opened in `path`; a refusal goes to
/// `refusal`, as the server words it.
fn open(at: Option<String>, listing: RwSignal<Option<FolderListing>>, path: RwSignal<String>, refusal: RwSignal<Option<String>>) {
    spawn_local(async move {
        match project_folders(at).await {
            Ok(opened) => {
                refusal.set(None);
                path.set(opened.path.clone().unwrap_or_default());
                listing.set(Some(opened));
            }
            Err(e) => refusal.set(Some(e.to_string())),
        }
    });
}

/// A "Browse" button and, once pressed, the folders of where the browsing is. Drawn again whole
/// at each step: one view, which keeps the app's first load small.
#[component]
pub fn FolderBrowser(path: RwSignal<String>, refusal: RwSignal<Option<String>>) -> impl IntoView {
    let listing = RwSignal::new(None::<FolderListing>);
    let browse = move |at: Option<String>| open(at, listing, path, refusal);
    view! {
        <div class="folder-browser">
            {move || match listing.get() {
                None => view! { <button type="button" class="browse" on:click=move |_| browse(None)>"Browse folders"</button> }.into_any(),
                Some(here) => {
                    let empty = here.folders.is_empty().then(|| view! { <li class="empty">"No folders here"</li> });
                    let more = here.truncated.then(|| view! { <li class="empty">"More folders than shown: type the path"</li> });
                    let folders = here.folders.into_iter().map(|folder| {
                        let target = folder.path;
                        let git = folder.git.then(|| view! { <span class="git-mark">"git"</span> });
                        view! { <li><button type="button" class="folder" on:click=move |_| browse(Some(target.clone()))>{folder.name}{git}</button></li> }
                    }).collect_view();
                    // Above a root are the roots themselves.
                    let above = here.parent;
                    view! {
                        <div class="folder-bar">
                            <button type="button" aria-label="Up one folder" disabled=here.path.is_none() on:click=move |_| browse(above.clone())>"↑"</button>
                            <span class="folder-here">{here.path.unwrap_or_else(|| "Project roots".into())}</span>
                            <button type="button" aria-label="Close the folders" on:click=move |_| listing.set(None)>"×"</button>
                        </div>
                        <ul class="folders" aria-label="Folders">{folders}{empty}{more}</ul>
                    }.into_any()
                }
            }}
        </div>
    }
}
