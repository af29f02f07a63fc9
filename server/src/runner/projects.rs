//! Projects as the runner sees them: where a task runs, which project a session belongs to, and
//! the list the app picks from.

use super::{now_ms, off_runtime, Runner, RunnerError};
use crate::projects::{info, Project};
use crate::store::SessionMark;
use std::collections::HashMap;
use app::api::{FolderListing, ProjectInfo, SessionRef};
use uuid::Uuid;

impl Runner {
    /// The folder a task runs in: a resumed session's own project, whatever the request says;
    /// else the project the request names (an id or an allowed path), else the default.
    pub(super) async fn project_for(&self, session: SessionRef, named: Option<String>) -> Result<String, RunnerError> {
        let own = match session {
            SessionRef::Existing(id) => self.session_project(id).await?,
            SessionRef::New => None,
        };
        let projects = self.inner.projects.clone();
        let path = off_runtime(move || match (own, named) {
            (Some(project), _) => Ok(project.path),
            (None, Some(raw)) => projects.resolve(&raw).map(|p| p.path),
            (None, None) => Ok(projects.default_project().path),
        })
        .await??;
        // `Allowed::check` refuses a path that is not UTF-8.
        Ok(path.to_string_lossy().into_owned())
    }

    /// The project the session belongs to: where this service ran it, else the one whose CLI
    /// folder holds its transcript; `None` for a session nothing knows.
    pub(super) async fn session_project(&self, session_id: Uuid) -> Result<Option<Project>, RunnerError> {
        let hint = self.inner.store.run(move |store| store.session_project(session_id)).await?;
        let projects = self.inner.projects.clone();
        Ok(tokio::task::spawn_blocking(move || projects.locate(session_id, hint.as_deref())).await.ok().flatten())
    }

    /// The folder of the project `id` (an id from the list, or `default`), for the read-only
    /// project routes (git state, files).
    pub async fn project_dir(&self, id: String) -> Result<std::path::PathBuf, RunnerError> {
        let projects = self.inner.projects.clone();
        Ok(off_runtime(move || match id.as_str() {
            "default" => Ok(projects.default_project().path),
            // Only ids: a path is for starting a session, not for reading files.
            raw if raw.starts_with('/') => Err(crate::projects::ProjectError::UnknownId(raw.chars().take(64).collect())),
            raw => projects.resolve(raw).map(|p| p.path),
        })
        .await??)
    }

    /// Every project a session may run in, most recent first, each with its count of (listed)
    /// sessions.
    pub async fn projects(&self) -> Result<Vec<ProjectInfo>, RunnerError> {
        let marks = self.inner.store.run(move |store| store.session_marks()).await?;
        let projects = self.inner.projects.clone();
        let mut listed = off_runtime(move || {
            let shown = not_deleted(&marks);
            projects.known().iter().map(|project| info(project, &shown)).collect::<Vec<_>>()
        })
        .await?;
        listed.sort_by(|a, b| b.last_activity.cmp(&a.last_activity).then_with(|| b.default.cmp(&a.default)).then_with(|| a.name.cmp(&b.name)));
        Ok(listed)
    }

    /// The roots, or the folders inside one folder under them: where a project may be chosen.
    pub async fn project_folders(&self, path: Option<String>) -> Result<FolderListing, RunnerError> {
        let projects = self.inner.projects.clone();
        Ok(off_runtime(move || projects.folders(path.as_deref())).await??)
    }

    /// Offers a folder as a project (kept across restarts); refused unless it is under a root.
    pub async fn add_project(&self, raw: String) -> Result<ProjectInfo, RunnerError> {
        let projects = self.inner.projects.clone();
        let (project, new) = off_runtime(move || projects.add(&raw)).await??;
        if new {
            let path = project.path.to_string_lossy().into_owned();
            self.inner.store.run(move |store| store.add_project(&path, now_ms())).await?;
        }
        let marks = self.inner.store.run(move |store| store.session_marks()).await?;
        off_runtime(move || info(&project, &not_deleted(&marks))).await
    }
}

/// Whether a session counts in a project's list: not deleted here.
fn not_deleted(marks: &HashMap<Uuid, SessionMark>) -> impl Fn(Uuid) -> bool + '_ {
    |id| marks.get(&id).is_none_or(|mark| !mark.deleted)
}
