//! Server functions: the app's door to the runner. Each has a fixed endpoint so that its URL
//! does not depend on the crate's path.

use super::types::{ChatRequest, SessionList, SessionRef, Submitted, TaskView, Transcript};
use leptos::prelude::*;
use uuid::Uuid;

#[cfg(feature = "ssr")]
mod backend_call {
    use crate::api::{BackendError, SharedBackend};
    use leptos::prelude::*;

    pub fn backend() -> Result<SharedBackend, ServerFnError> {
        use_context::<SharedBackend>()
            .ok_or_else(|| ServerFnError::new("the task runner is not available"))
    }

    /// Sets the HTTP status of the server function's response, so the client sees a 400/404/413
    /// rather than a bare 500.
    pub fn fail(error: BackendError) -> ServerFnError {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(status) = http::StatusCode::from_u16(error.status()) {
                response.set_status(status);
            }
        }
        ServerFnError::new(error.to_string())
    }
}

#[server(prefix = "/api/fn", endpoint = "submit")]
pub async fn submit_chat(session: SessionRef, request: ChatRequest) -> Result<Submitted, ServerFnError> {
    use backend_call::*;
    backend()?.submit(session, request).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "task")]
pub async fn poll_task(session: SessionRef, task_id: Uuid) -> Result<TaskView, ServerFnError> {
    use backend_call::*;
    backend()?.task(session, task_id).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "delete_task")]
pub async fn delete_task(session: SessionRef, task_id: Uuid) -> Result<(), ServerFnError> {
    use backend_call::*;
    backend()?.delete_task(session, task_id).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "sessions")]
pub async fn list_sessions(limit: usize) -> Result<SessionList, ServerFnError> {
    use backend_call::*;
    backend()?.sessions(limit).await.map_err(fail)
}

#[server(prefix = "/api/fn", endpoint = "transcript")]
pub async fn session_transcript(session_id: Uuid) -> Result<Transcript, ServerFnError> {
    use backend_call::*;
    backend()?.transcript(session_id).await.map_err(fail)
}
