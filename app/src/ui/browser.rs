//! The few browser facilities the app uses, with inert stand-ins outside the browser (unit tests,
//! the server build).

#[cfg(feature = "csr")]
const LAST_SESSION: &str = "claude-remote:last-session";

pub fn now_ms() -> i64 {
    #[cfg(feature = "csr")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "csr"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }
}

/// How far the user's clock is ahead of UTC now, in minutes (UTC+2 is 120): what "today" and
/// "yesterday" mean to them.
pub fn utc_offset_minutes() -> i32 {
    #[cfg(feature = "csr")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "csr"))]
    {
        0
    }
}

/// Whether a key was pressed inside an element matching `selector`: one that handles the key
/// itself (a row's open panel takes Escape before the drawer does).
pub fn pressed_inside(ev: &leptos::ev::KeyboardEvent, selector: &str) -> bool {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|element| element.closest(selector).ok().flatten())
            .is_some()
    }
    #[cfg(not(feature = "csr"))]
    {
        let _ = (ev, selector);
        false
    }
}

/// The session to reopen: the one the address names (`/s/<id>`, or a notification's
/// `?session=`), else at `/` the last one used.
pub fn initial_session() -> Option<uuid::Uuid> {
    match super::address::current() {
        Some(Some(id)) => Some(id),
        _ => last_session(),
    }
}

fn last_session() -> Option<uuid::Uuid> {
    #[cfg(feature = "csr")]
    {
        let stored = web_sys::window()?.local_storage().ok().flatten()?.get_item(LAST_SESSION).ok().flatten()?;
        uuid::Uuid::try_parse(&stored).ok()
    }
    #[cfg(not(feature = "csr"))]
    {
        None
    }
}

/// Remembers the open session (an id, never a secret) for the next visit.
pub fn remember_session(session: Option<uuid::Uuid>) {
    #[cfg(feature = "csr")]
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = match session {
            Some(id) => storage.set_item(LAST_SESSION, &id.to_string()),
            None => storage.remove_item(LAST_SESSION),
        };
    }
    #[cfg(not(feature = "csr"))]
    let _ = session;
}

/// Phones and tablets: Enter adds a line, the Send button sends.
pub fn coarse_pointer() -> bool {
    #[cfg(feature = "csr")]
    {
        web_sys::window()
            .and_then(|w| w.match_media("(pointer: coarse)").ok().flatten())
            .is_some_and(|query| query.matches())
    }
    #[cfg(not(feature = "csr"))]
    {
        false
    }
}

#[cfg(feature = "csr")]
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Adds `<script src>` (a module when `module`) to the page, then calls `done` once: `true` when
/// it has run, `false` when it could not be fetched (offline before it was ever cached; the tag
/// is removed, so a later call tries again) or added. What the app loads only when first needed
/// goes through here: the diff viewer, the highlighter, the Markdown module.
#[cfg(feature = "csr")]
pub fn add_script(src: &str, module: bool, done: Box<dyn FnOnce(bool)>) {
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let done = Rc::new(Cell::new(Some(done)));
    let finish = {
        let done = done.clone();
        move |ran: bool| {
            if let Some(done) = done.take() {
                done(ran);
            }
        }
    };
    let script = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|document| Some((document.create_element("script").ok()?.dyn_into::<web_sys::HtmlElement>().ok()?, document)));
    let Some((script, document)) = script else { return finish(false) };
    let _ = script.set_attribute("src", src);
    if module {
        let _ = script.set_attribute("type", "module");
    }
    let on_load = finish.clone();
    let loaded = Closure::once_into_js(move || on_load(true));
    let failed_script = script.clone();
    let on_error = finish.clone();
    let failed = Closure::once_into_js(move || {
        failed_script.remove();
        on_error(false);
    });
    script.set_onload(Some(loaded.unchecked_ref()));
    script.set_onerror(Some(failed.unchecked_ref()));
    if !matches!(document.body().map(|body| body.append_child(&script)), Some(Ok(_))) {
        finish(false);
    }
}

/// Adds a step to the browser's history at the same address (for something Back should close).
/// Whether it was added.
pub fn push_history_step() -> bool {
    #[cfg(feature = "csr")]
    {
        web_sys::window()
            .and_then(|w| w.history().ok())
            .is_some_and(|history| history.push_state(&wasm_bindgen::JsValue::NULL, "").is_ok())
    }
    #[cfg(not(feature = "csr"))]
    {
        false
    }
}

/// Takes back the step [`push_history_step`] added.
pub fn history_back() {
    #[cfg(feature = "csr")]
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.back();
    }
}

pub async fn sleep(duration: std::time::Duration) {
    #[cfg(feature = "csr")]
    gloo_timers::future::sleep(duration).await;
    #[cfg(not(feature = "csr"))]
    let _ = duration;
}

/// Installs the service worker that keeps the app shell for offline starts.
pub fn register_service_worker() {
    #[cfg(feature = "csr")]
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        let _ = container.register("/sw.js");
    }
}

#[cfg(feature = "csr")]
const NOTIFY: &str = "claude-remote:notify";

/// Whether the user asked to be told when a task ends (and the browser still allows it).
pub fn notifications_enabled() -> bool {
    #[cfg(feature = "csr")]
    {
        let wanted = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(NOTIFY).ok().flatten())
            .is_some_and(|v| v == "on");
        wanted && web_sys::Notification::permission() == web_sys::NotificationPermission::Granted
    }
    #[cfg(not(feature = "csr"))]
    {
        false
    }
}

/// Turns task-end notifications on (asking the browser's permission) or off; resolves to the
/// resulting state.
pub async fn set_notifications(on: bool) -> bool {
    #[cfg(feature = "csr")]
    {
        let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else { return false };
        if !on {
            let _ = storage.remove_item(NOTIFY);
            return false;
        }
        if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted
            && let Ok(promise) = web_sys::Notification::request_permission() {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        let granted = web_sys::Notification::permission() == web_sys::NotificationPermission::Granted;
        if granted {
            let _ = storage.set_item(NOTIFY, "on");
        }
        granted
    }
    // Outside a browser (the server's build, the unit tests) there is nothing to turn on.
    #[cfg(not(feature = "csr"))]
    {
        let _ = on;
        false
    }
}

/// Whether the browser refuses this site's notifications (the user said no, or a setting does):
/// asking again does nothing, only the browser's site settings can change it.
pub fn notifications_refused() -> bool {
    #[cfg(feature = "csr")]
    {
        web_sys::Notification::permission() == web_sys::NotificationPermission::Denied
    }
    #[cfg(not(feature = "csr"))]
    {
        false
    }
}

/// Follows a media query (`(min-width: 62.5rem)`): its answer now, and each change.
pub fn watch_media(query: &str, changed: impl Fn(bool) + 'static) -> bool {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;
        let Some(list) = web_sys::window().and_then(|w| w.match_media(query).ok().flatten()) else { return false };
        let listener = Closure::<dyn FnMut(web_sys::MediaQueryListEvent)>::new(move |event: web_sys::MediaQueryListEvent| changed(event.matches()));
        let _ = list.add_event_listener_with_callback("change", listener.as_ref().unchecked_ref());
        // Lives as long as the page.
        listener.forget();
        list.matches()
    }
    #[cfg(not(feature = "csr"))]
    {
        let _ = (query, changed);
        false
    }
}

/// Whether the page is out of sight (another tab or app in front, the screen off).
pub fn page_hidden() -> bool {
    #[cfg(feature = "csr")]
    {
        web_sys::window().and_then(|w| w.document()).is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
    }
    #[cfg(not(feature = "csr"))]
    {
        false
    }
}

/// Shows a system notification through the service worker, only while the app is in the
/// background (in front, the user sees the reply or the card anyway) and when the user opted in.
/// Tapping it opens the session. A later notification with the same `tag` replaces this one.
pub async fn notify(title: &str, body: &str, session: uuid::Uuid, tag: &str) {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else { return };
        let hidden = page_hidden();
        // A device subscribed to Web Push gets the server's notification instead.
        if !hidden || !notifications_enabled() || super::push::device::endpoint_here().is_some() {
            return;
        }
        let Ok(ready) = window.navigator().service_worker().ready() else { return };
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(ready).await else { return };
        let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        options.set_tag(tag);
        options.set_icon("/icons/icon-192.png");
        let data = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&data, &"session_id".into(), &session.to_string().into());
        options.set_data(&data);
        let _ = registration.show_notification_with_options(title, &options);
    }
    #[cfg(not(feature = "csr"))]
    let _ = (title, body, session, tag);
}

/// Calls `open` with the session id when a notification is tapped while the app is open.
pub fn on_notification_open(open: impl Fn(uuid::Uuid) + 'static) {
    #[cfg(feature = "csr")]
    {
        use wasm_bindgen::prelude::*;
        use wasm_bindgen::JsCast;
        let Some(window) = web_sys::window() else { return };
        let listener = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let data = event.data();
            let kind = js_sys::Reflect::get(&data, &"type".into()).ok().and_then(|v| v.as_string());
            let id = js_sys::Reflect::get(&data, &"session_id".into()).ok().and_then(|v| v.as_string());
            if let (Some("open-session"), Some(id)) = (kind.as_deref(), id)
                && let Ok(id) = uuid::Uuid::try_parse(&id) {
                open(id);
            }
        });
        let _ = window.navigator().service_worker().add_event_listener_with_callback("message", listener.as_ref().unchecked_ref());
        // Lives as long as the page.
        listener.forget();
    }
    #[cfg(not(feature = "csr"))]
    let _ = open;
}
