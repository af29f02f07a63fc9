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

/// The session to reopen: `?session=` (a notification's link), else the last one used.
pub fn initial_session() -> Option<uuid::Uuid> {
    #[cfg(feature = "csr")]
    {
        let window = web_sys::window()?;
        let from_url = window
            .location()
            .search()
            .ok()
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("session"));
        let stored = || window.local_storage().ok().flatten()?.get_item(LAST_SESSION).ok().flatten();
        from_url.or_else(stored).and_then(|raw| uuid::Uuid::try_parse(&raw).ok())
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
