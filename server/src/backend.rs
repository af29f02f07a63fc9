//! The runner behind the app's server functions: the same calls the REST routes make, with
//! errors classified as they are for REST (`http::error`).

use crate::runner::Runner;
use crate::store::PageLimit;
use crate::http::sessions::MAX_LIMIT;
use app::api::{
    ApprovalDecision, Backend, BackendError, Caller, ChatRequest, DecidedApproval, EarlierEvents, EventsPage, FolderListing, ProjectInfo, SessionList, SessionPatch, SessionQuery, SessionRef,
    SessionSummary, Submitted, TaskView, Transcript,
};
use uuid::Uuid;

#[async_trait::async_trait]
impl Backend for Runner {
    async fn submit(&self, caller: &Caller, session: SessionRef, request: ChatRequest) -> Result<Submitted, BackendError> {
        Ok(Runner::submit(self, caller, session, request).await?)
    }

    async fn task(&self, session: SessionRef, task_id: Uuid) -> Result<TaskView, BackendError> {
        Ok(Runner::task(self, session, task_id).await?.as_ref().clone())
    }

    async fn wait_task(&self, session: SessionRef, task_id: Uuid, wait_ms: u32) -> Result<TaskView, BackendError> {
        let timeout = std::time::Duration::from_millis(u64::from(wait_ms));
        Ok(Runner::wait_in_session(self, session, task_id, timeout).await?)
    }

    async fn cancel_task(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<TaskView, BackendError> {
        Ok(Runner::cancel(self, caller, session, task_id).await?)
    }

    async fn delete_task(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<(), BackendError> {
        Ok(Runner::delete(self, caller, session, task_id).await?)
    }

    async fn sessions(&self, query: SessionQuery) -> Result<SessionList, BackendError> {
        let query = SessionQuery { limit: query.limit.clamp(1, MAX_LIMIT), ..query };
        Ok(Runner::sessions(self, query).await?)
    }

    async fn update_session(&self, session_id: Uuid, patch: SessionPatch) -> Result<SessionSummary, BackendError> {
        Ok(Runner::update_session(self, session_id, patch).await?)
    }

    async fn delete_session(&self, caller: &Caller, session_id: Uuid, transcript: bool) -> Result<(), BackendError> {
        Ok(Runner::delete_session(self, caller, session_id, transcript).await?)
    }

    fn project_name(&self) -> Option<String> {
        self.project().file_name().map(|name| name.to_string_lossy().into_owned())
    }

    async fn projects(&self) -> Result<Vec<ProjectInfo>, BackendError> {
        Ok(Runner::projects(self).await?)
    }

    async fn add_project(&self, path: String) -> Result<ProjectInfo, BackendError> {
        Ok(Runner::add_project(self, path).await?)
    }

    async fn project_folders(&self, path: Option<String>) -> Result<FolderListing, BackendError> {
        Ok(Runner::project_folders(self, path).await?)
    }

    async fn transcript(&self, session_id: Uuid) -> Result<Transcript, BackendError> {
        Ok(Runner::transcript(self, session_id).await?)
    }

    async fn task_events(&self, session: SessionRef, task_id: Uuid, after: u64, wait_ms: u32, partial_after: Option<u64>) -> Result<EventsPage, BackendError> {
        let wait = std::time::Duration::from_millis(u64::from(wait_ms));
        Ok(Runner::events_wait(self, session, task_id, after, PageLimit::MAX, wait, partial_after).await?)
    }

    async fn task_events_before(&self, session: SessionRef, task_id: Uuid, before: u64) -> Result<EarlierEvents, BackendError> {
        let page = Runner::events_before(self, session, task_id, before, PageLimit::MAX).await?;
        Ok(EarlierEvents { events: page.lines, more: page.more })
    }

    async fn decide_approval(
        &self,
        caller: &Caller,
        session: SessionRef,
        task_id: Uuid,
        approval_id: &str,
        decision: ApprovalDecision,
    ) -> Result<DecidedApproval, BackendError> {
        Ok(Runner::decide(self, caller, session, task_id, approval_id, decision).await?)
    }
}
