//! The seam between the server functions (compiled into `app`) and the task runner (in `server`).
//!
//! `server` implements [`Backend`] on its runner and provides it as Leptos context, so the server
//! functions and the REST routes reach one code path.

use super::types::{
    ApprovalDecision, ChatRequest, DecidedApproval, EarlierEvents, EventsPage, FolderListing, ProjectInfo, SessionList, SessionPatch, SessionQuery, SessionRef, SessionSummary, Submitted,
    TaskView, Transcript,
};
use std::net::IpAddr;
use std::sync::Arc;
use uuid::Uuid;

/// Who is calling, from where: set by the server's edge on every request (in its extensions), and
/// recorded in the audit log with what they did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caller {
    pub address: Option<IpAddr>,
    pub username: Option<String>,
}

/// Why a backend call failed, with the HTTP status it deserves.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    /// Too many failed sign-ins: try again after this many seconds.
    #[error("{0}")]
    Throttled(String, u64),
    /// Too many tasks wait already (per session or in all): try again once some have finished.
    #[error("{0}")]
    Busy(String),
    /// Settled already (an approval decided or withdrawn), or busy (a session whose task runs).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot take a write now: retry in a moment.
    #[error("{0}")]
    Unavailable(String),
    /// The disk, or the database's size limit, is full.
    #[error("{0}")]
    StorageFull(String),
    #[error("{0}")]
    Internal(String),
}

/// What a client waits before retrying a write the busy database refused.
pub const STORE_RETRY_AFTER_SECS: u64 = 2;

impl BackendError {
    /// When to try again (`Retry-After`, in seconds), where that is known.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            BackendError::Throttled(_, seconds) => Some(*seconds),
            BackendError::Unavailable(_) => Some(STORE_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            BackendError::InvalidInput(_) => 400,
            BackendError::Unauthorized(_) => 401,
            BackendError::Throttled(..) | BackendError::Busy(_) => 429,
            BackendError::Conflict(_) => 409,
            BackendError::NotFound(_) => 404,
            BackendError::TooLarge(_) => 413,
            BackendError::Unavailable(_) => 503,
            BackendError::StorageFull(_) => 507,
            BackendError::Internal(_) => 500,
        }
    }
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn submit(&self, caller: &Caller, session: SessionRef, request: ChatRequest) -> Result<Submitted, BackendError>;
    async fn task(&self, session: SessionRef, task_id: Uuid) -> Result<TaskView, BackendError>;
    /// The task once it ends, or as it stands after `wait_ms`.
    async fn wait_task(&self, session: SessionRef, task_id: Uuid, wait_ms: u32) -> Result<TaskView, BackendError>;
    async fn cancel_task(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<TaskView, BackendError>;
    async fn delete_task(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<(), BackendError>;
    async fn sessions(&self, query: SessionQuery) -> Result<SessionList, BackendError>;
    /// Sets the user's title of a session and/or archives it (or brings it back).
    async fn update_session(&self, session_id: Uuid, patch: SessionPatch) -> Result<SessionSummary, BackendError>;
    /// Stops and forgets the session's tasks and hides it; deletes the CLI's transcript too only
    /// when `transcript`.
    async fn delete_session(&self, caller: &Caller, session_id: Uuid, transcript: bool) -> Result<(), BackendError>;
    /// The default project's folder name.
    fn project_name(&self) -> Option<String>;
    /// Every project a session may run in, most recent first.
    async fn projects(&self) -> Result<Vec<ProjectInfo>, BackendError>;
    /// Offers a folder under an allowed root as a project (refused for anything else).
    async fn add_project(&self, path: String) -> Result<ProjectInfo, BackendError>;
    /// The allowed roots (`path` absent), or the folders in a folder under one.
    async fn project_folders(&self, path: Option<String>) -> Result<FolderListing, BackendError>;
    async fn transcript(&self, session_id: Uuid) -> Result<Transcript, BackendError>;
    /// The task's output lines after `after`, as soon as there is one (or the task ends, or the
    /// reply being written has words newer than version `partial_after`), waiting at most
    /// `wait_ms`.
    async fn task_events(&self, session: SessionRef, task_id: Uuid, after: u64, wait_ms: u32, partial_after: Option<u64>) -> Result<EventsPage, BackendError>;
    /// The page of the task's output lines just before `before`.
    async fn task_events_before(&self, session: SessionRef, task_id: Uuid, before: u64) -> Result<EarlierEvents, BackendError>;
    /// Allows or denies what a running task waits on.
    async fn decide_approval(
        &self,
        caller: &Caller,
        session: SessionRef,
        task_id: Uuid,
        approval_id: &str,
        decision: ApprovalDecision,
    ) -> Result<DecidedApproval, BackendError>;
}

pub type SharedBackend = Arc<dyn Backend>;

/// Browser sign-in: the server decides the cookie (name, lifetime, flags); the server functions
/// only carry it.
#[async_trait::async_trait]
pub trait Accounts: Send + Sync + 'static {
    /// On success, the `Set-Cookie` values that start the session (and remember the browser).
    async fn sign_in(&self, username: &str, password: &str, request: &http::request::Parts) -> Result<Vec<String>, BackendError>;
    /// Ends the request's session on the server; returns the `Set-Cookie` value that clears it.
    async fn sign_out(&self, request: &http::request::Parts) -> String;
    /// Ends every browser session of the account (a lost phone).
    async fn sign_out_everywhere(&self, request: &http::request::Parts) -> Result<Vec<String>, BackendError>;
    /// The signed-in user of the request, by cookie or Basic credentials.
    async fn current_user(&self, request: &http::request::Parts) -> Option<String>;
}

pub type SharedAccounts = Arc<dyn Accounts>;
