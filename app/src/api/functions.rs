//! Server functions: the app's door to the runner. Each has a fixed endpoint so that its URL
//! does not depend on the crate's path.

use super::error::CallError;
use super::types::{
    ApprovalDecision, ChatRequest, DecidedApproval, EarlierEvents, EventsPage, FolderListing, Me, ProjectInfo, SessionList, SessionRef, SessionSummary, Submitted,
    TaskView, Transcript,
};
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
mod backend_call {
    use crate::api::{BackendError, CallError, Caller, SharedAccounts, SharedBackend};
    use leptos::prelude::*;

    /// What the server provides as context is missing: a bug in how it mounts the app.
    fn missing(what: &str) -> CallError {
        CallError::refused(500, format!("{what} is not available"))
    }

    pub fn accounts() -> Result<SharedAccounts, CallError> {
        use_context::<SharedAccounts>().ok_or_else(|| missing("sign-in"))
    }

    pub fn request_parts() -> Result<http::request::Parts, CallError> {
        use_context::<http::request::Parts>().ok_or_else(|| missing("the request"))
    }

    /// Who is calling, as the server's edge recorded it.
    pub fn caller() -> Caller {
        use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Caller>().cloned()).unwrap_or_default()
    }

    pub fn set_cookie(cookie: &str) {
        if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), http::HeaderValue::from_str(cookie)) {
            response.append_header(http::header::SET_COOKIE, value);
        }
    }

    pub fn backend() -> Result<SharedBackend, CallError> {
        use_context::<SharedBackend>().ok_or_else(|| missing("the task runner"))
    }

    /// Sets the HTTP status of the server function's response (a 400/404/413 rather than a bare
    /// 500), and gives the same status to the app in the error's body.
    pub fn fail(error: BackendError) -> CallError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status()) {
                response.set_status(status);
            }
            if let Some(seconds) = error.retry_after() {
                response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
        }
        CallError::refused(error.status(), error.to_string())
    }
}

#[server(prefix = "/api/fn", endpoint = "submit")]
pub async fn submit_chat(session: SessionRef, request: ChatRequest) -> Result<Submitted, CallError> {
    use backend_call::*;
    backend()?.submit(&caller(), session, request).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "task")]
pub async fn poll_task(session: SessionRef, task_id: Uuid) -> Result<TaskView, CallError> {
    use backend_call::*;
    backend()?.task(session, task_id).await.map_err(fail)
}

/// Stops a queued or running task (the Stop button).
#[server(prefix = "/api/fn", endpoint = "cancel_task")]
pub async fn cancel_task(session: SessionRef, task_id: Uuid) -> Result<TaskView, CallError> {
    use backend_call::*;
    backend()?.cancel_task(&caller(), session, task_id).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "delete_task")]
pub async fn delete_task(session: SessionRef, task_id: Uuid) -> Result<(), CallError> {
    use backend_call::*;
    backend()?.delete_task(&caller(), session, task_id).await.map_err(fail)
}

/// The archived sessions, or the others, with the spend of the caller's today and month (their
/// clock `utc_offset_minutes` ahead of UTC); of one project or all, matching `q` or all.
#[server(prefix = "/api/fn", endpoint = "sessions")]
pub async fn list_sessions(
    limit: usize,
    archived: bool,
    utc_offset_minutes: i32,
    project: Option<String>,
    q: Option<String>,
) -> Result<SessionList, CallError> {
    use backend_call::*;
    backend()?.sessions(crate::api::SessionQuery { limit, archived, utc_offset_minutes, project, q }).await.map_err(fail)
}

/// Every project a session may run in, most recent first.
#[server(prefix = "/api/fn", endpoint = "projects")]
pub async fn list_projects() -> Result<Vec<ProjectInfo>, CallError> {
    use backend_call::*;
    backend()?.projects().await.map_err(fail)
}

/// Offers a folder under an allowed root as a project; anything else is refused (400).
#[server(prefix = "/api/fn", endpoint = "add_project")]
pub async fn add_project(path: String) -> Result<ProjectInfo, CallError> {
    use backend_call::*;
    backend()?.add_project(path).await.map_err(fail)
}

/// The allowed roots (`path` absent), or the folders in a folder under one: a project chosen by
/// browsing.
#[server(prefix = "/api/fn", endpoint = "project_folders")]
pub async fn project_folders(path: Option<String>) -> Result<FolderListing, CallError> {
    use backend_call::*;
    backend()?.project_folders(path).await.map_err(fail)
}

/// Sets the user's title (`Some` blank clears it; `None` leaves it) and/or archives the session.
#[server(prefix = "/api/fn", endpoint = "update_session")]
pub async fn update_session(session_id: Uuid, title: Option<String>, archived: Option<bool>) -> Result<SessionSummary, CallError> {
    use backend_call::*;
    backend()?.update_session(session_id, crate::api::SessionPatch { title: title.map(Some), archived }).await.map_err(fail)
}

/// Stops and forgets the session's tasks and hides it; the CLI's transcript file goes too only
/// when `transcript`.
#[server(prefix = "/api/fn", endpoint = "delete_session")]
pub async fn delete_session(session_id: Uuid, transcript: bool) -> Result<(), CallError> {
    use backend_call::*;
    backend()?.delete_session(&caller(), session_id, transcript).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "transcript")]
pub async fn session_transcript(session_id: Uuid) -> Result<Transcript, CallError> {
    use backend_call::*;
    backend()?.transcript(session_id).await.map_err(fail)
}

/// A page of the task's output lines after `after` (500 lines or 1 MiB at most; `more` says to
/// ask again at once): at once when there are some, else as soon as one is
/// written or the task ends, waiting at most `wait_ms` (25 s at most, well under a tunnel's
/// cut). The app follows a task's timeline with this long-poll rather than Server-Sent Events,
/// which a Cloudflare quick tunnel holds back until the stream ends. With `partial_after` the
/// wait also ends when the reply being written has words newer than that version.
#[server(prefix = "/api/fn", endpoint = "task_events")]
pub async fn task_events(session: SessionRef, task_id: Uuid, after: u64, wait_ms: u32, partial_after: Option<u64>) -> Result<EventsPage, CallError> {
    use backend_call::*;
    backend()?.task_events(session, task_id, after, wait_ms.min(25_000), partial_after).await.map_err(fail)
}

/// The page of the task's output lines just before line `before` (the "show earlier" control of
/// a timeline that keeps only its latest steps).
#[server(prefix = "/api/fn", endpoint = "task_events_before")]
pub async fn task_events_before(session: SessionRef, task_id: Uuid, before: u64) -> Result<EarlierEvents, CallError> {
    use backend_call::*;
    backend()?.task_events_before(session, task_id, before).await.map_err(fail)
}

/// Allows or denies what a running task waits on (a tool use, a question, a plan).
#[server(prefix = "/api/fn", endpoint = "decide_approval")]
pub async fn decide_approval(session: SessionRef, task_id: Uuid, approval_id: String, decision: ApprovalDecision) -> Result<DecidedApproval, CallError> {
    use backend_call::*;
    backend()?.decide_approval(&caller(), session, task_id, &approval_id, decision).await.map_err(fail)
}

/// Waits up to `wait_ms` (at most 25 s, well under the tunnel's cut) for the task to end, then
/// answers with the task as it stands: a reply shows the moment its task ends, without polling
/// in a tight loop.
#[server(prefix = "/api/fn", endpoint = "wait_task")]
pub async fn wait_task(session: SessionRef, task_id: Uuid, wait_ms: u32) -> Result<TaskView, CallError> {
    use backend_call::*;
    backend()?.wait_task(session, task_id, wait_ms.min(25_000)).await.map_err(fail)
}

/// Who is signed in (`None` shows the sign-in screen). Reachable without signing in.
#[server(prefix = "/api/fn", endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, CallError> {
    use backend_call::*;
    let request = request_parts()?;
    let project = backend()?.project_name();
    Ok(accounts()?.current_user(&request).await.map(|username| Me { username, project }))
}

/// Signs in with the account's user name and password; the server sets an HttpOnly cookie. The
/// password is never kept by the app. Reachable without signing in.
#[server(prefix = "/api/fn", endpoint = "sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<Me, CallError> {
    use backend_call::*;
    let request = request_parts()?;
    let cookies = accounts()?.sign_in(&username, &password, &request).await.map_err(fail)?;
    cookies.iter().for_each(|cookie| set_cookie(cookie));
    Ok(Me { username, project: backend()?.project_name() })
}

/// Ends this browser's session on the server.
#[server(prefix = "/api/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), CallError> {
    use backend_call::*;
    let request = request_parts()?;
    let cookie = accounts()?.sign_out(&request).await;
    set_cookie(&cookie);
    Ok(())
}

/// Ends every browser session of the account, this one included.
#[server(prefix = "/api/fn", endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), CallError> {
    use backend_call::*;
    let request = request_parts()?;
    let cookies = accounts()?.sign_out_everywhere(&request).await.map_err(fail)?;
    cookies.iter().for_each(|cookie| set_cookie(cookie));
    Ok(())
}
