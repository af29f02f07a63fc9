//! Each session has its own address, `/s/<session id>` (`/` is a new session): reload, Back and
//! Forward, a shared link and a notification's tap all open the session they name.
//!
//! Opening a session is a step in the browser's history; the address of a new session becomes
//! its id once the first message created it (the same step, replaced).

use uuid::Uuid;

#[cfg_attr(not(feature = "csr"), allow(dead_code))]
const PREFIX: &str = "/s/";

/// The address of `session`.
#[cfg_attr(not(feature = "csr"), allow(dead_code))]
pub fn path_of(session: Option<Uuid>) -> String {
    session.map_or_else(|| "/".to_owned(), |id| format!("{PREFIX}{id}"))
}

/// The session a path names: `Some(None)` for `/` (a new session, or the last one: see
/// `browser::initial_session`), `None` for a path that names none.
#[cfg_attr(not(feature = "csr"), allow(dead_code))]
pub fn session_of(path: &str) -> Option<Option<Uuid>> {
    if path == "/" || path.is_empty() {
        return Some(None);
    }
    let id = path.strip_prefix(PREFIX)?.trim_end_matches('/');
    Uuid::try_parse(id).ok().map(Some)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A new step in the history (the user went somewhere).
    Push,
    /// The same step, renamed (a new session got its id; the first address of a visit).
    Replace,
}

/// The session the page's address names now.
pub fn current() -> Option<Option<Uuid>> {
    #[cfg(feature = "csr")]
    {
        let location = web_sys::window()?.location();
        // A notification's link from before addresses: `/?session=<id>`.
        let query = location
            .search()
            .ok()
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("session"))
            .and_then(|raw| Uuid::try_parse(&raw).ok());
        match query {
            Some(id) => Some(Some(id)),
            None => session_of(&location.pathname().ok()?),
        }
    }
    #[cfg(not(feature = "csr"))]
    {
        None
    }
}

/// Shows `session`'s address, unless the page is there already.
pub fn show(session: Option<Uuid>, step: Step) {
    #[cfg(feature = "csr")]
    {
        let Some(window) = web_sys::window() else { return };
        let path = path_of(session);
        let here = window.location().pathname().ok();
        let query = window.location().search().ok().unwrap_or_default();
        if here.as_deref() == Some(path.as_str()) && query.is_empty() {
            return;
        }
        let Ok(history) = window.history() else { return };
        let _ = match step {
            Step::Push => history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path)),
            Step::Replace => history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path)),
        };
    }
    #[cfg(not(feature = "csr"))]
    let _ = (session, step);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sessions_address_names_it_and_nothing_else_does() {
        let id = Uuid::new_v4();
        assert_eq!(session_of(&path_of(Some(id))), Some(Some(id)));
        assert_eq!(session_of(&path_of(None)), Some(None));
        assert_eq!(session_of(&format!("/s/{id}/")), Some(Some(id)));
        for other in ["/s/", "/s/not-an-id", "/settings", "/s/../api"] {
            assert_eq!(session_of(other), None, "{other}");
        }
    }
}
