//! The conversation follows the action: while the user has not scrolled up, it stays pinned to
//! its newest content (their message, the live timeline and Stop, then the reply); once they
//! scroll up to read, it stays where they are and offers "Jump to latest". Opening a session and
//! sending a message pin it again.

use leptos::html::Main;
use leptos::prelude::*;

/// How close to the end (px) still counts as "at the latest": a line's worth of slack, so a
/// fraction of a pixel or a growing line does not unpin it.
#[cfg(feature = "csr")]
const AT_END_SLACK: i32 = 48;

/// Keeps `container` scrolled to its end whenever its content changes while `pinned`. Whether it
/// is pinned follows the user's own scrolling (see [`on_scroll`]).
pub fn follow(container: NodeRef<Main>, pinned: RwSignal<bool>) {
    #[cfg(feature = "csr")]
    container.on_load(move |main| {
        use wasm_bindgen::closure::Closure;
        use wasm_bindgen::JsCast;
        let element: web_sys::HtmlElement = main;
        let target = element.clone();
        // Any change below the container (a message, a step, a growing reply) while pinned.
        let changed = Closure::<dyn FnMut()>::new(move || {
            if pinned.get_untracked() {
                target.set_scroll_top(target.scroll_height());
            }
        });
        let Ok(observer) = web_sys::MutationObserver::new(changed.as_ref().unchecked_ref()) else { return };
        let options = web_sys::MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        options.set_character_data(true);
        let _ = observer.observe_with_options(&element, &options);
        // Lives as long as the page's one conversation.
        changed.forget();
        on_cleanup(move || observer.disconnect());
    });
    #[cfg(not(feature = "csr"))]
    let _ = (container, pinned);
}

/// The user scrolled: pinned exactly when they are at the end.
pub fn on_scroll(container: NodeRef<Main>, pinned: RwSignal<bool>) {
    #[cfg(feature = "csr")]
    if let Some(main) = container.get_untracked() {
        let at_end = main.scroll_height() - main.scroll_top() - main.client_height() <= AT_END_SLACK;
        if pinned.get_untracked() != at_end {
            pinned.set(at_end);
        }
    }
    #[cfg(not(feature = "csr"))]
    let _ = (container, pinned);
}

/// Scrolls to the end and pins there.
pub fn jump_to_latest(container: NodeRef<Main>, pinned: RwSignal<bool>) {
    pinned.set(true);
    #[cfg(feature = "csr")]
    if let Some(main) = container.get_untracked() {
        main.set_scroll_top(main.scroll_height());
    }
    #[cfg(not(feature = "csr"))]
    let _ = container;
}
