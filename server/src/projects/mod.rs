//! Every project a session may run in: the configured default, folders added from the app, and
//! the projects the CLI already knows, as long as they lie under an allowed root
//! (`--projects-root`). Nothing outside the roots is listed, read or run in; the default project
//! is allowed wherever it is, as before there were roots.
//!
//! Each project has a [`SessionIndex`] over its CLI folder; they share the metadata and search
//! caches. The list is scanned again when the CLI's `projects/` folder or `.claude.json` changes,
//! and at least every [`RESCAN`] (a folder under a root may have gone).

mod allowed;
mod discover;
mod folders;
pub mod git;
mod listing;

pub use allowed::{Allowed, ProjectError};
pub use listing::{info, Listing};

use crate::claude::meta_cache::FileStamp;
use crate::claude::paths::ClaudeHome;
use crate::claude::sessions::{SessionIndex, SharedCaches};
use discover::Discovery;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How old a scan may be before the next look at the projects scans again.
const RESCAN: Duration = Duration::from_secs(10);

/// Projects listed at most (a machine with more lists those found first).
pub const MAX_PROJECTS: usize = 1_000;

/// A project's stable id: the first 12 hex digits of the SHA-256 of its canonical path.
pub fn project_id(path: &Path) -> String {
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// A project's name: its folder's.
pub fn project_name(path: &Path) -> String {
    path.file_name().map_or_else(|| path.to_string_lossy().into_owned(), |n| n.to_string_lossy().into_owned())
}

#[derive(Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    /// Canonical.
    pub path: PathBuf,
    pub default: bool,
    pub index: Arc<SessionIndex>,
}

pub struct Projects {
    home: ClaudeHome,
    allowed: Allowed,
    caches: SharedCaches,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every project met so far, by canonical path (bounded: see [`Projects::project_at`]).
    by_path: HashMap<PathBuf, Project>,
    /// Folders added from the app, canonical.
    added: Vec<PathBuf>,
    discovery: Discovery,
    /// What the last scan found, and what it was made from.
    known: Arc<Vec<Project>>,
    scanned: Option<(ScanStamp, Instant)>,
}

/// What tells a scan is stale: the CLI's projects folder and its config file.
type ScanStamp = (Option<FileStamp>, Option<FileStamp>, usize);

impl Projects {
    /// `default` is the canonical configured project; `added`, folders added from the app
    /// earlier (those no longer allowed are dropped).
    pub fn new(home: ClaudeHome, default: PathBuf, roots: &[PathBuf], added: Vec<PathBuf>) -> Result<Self, ProjectError> {
        let allowed = Allowed::new(roots, default)?;
        let added = added.into_iter().filter_map(|path| allowed.check(&path).ok()).collect();
        Ok(Self { home, allowed, caches: SharedCaches::default(), state: Mutex::new(State { added, ..State::default() }) })
    }

    pub fn roots(&self) -> &[PathBuf] {
        self.allowed.roots()
    }

    pub fn default_project(&self) -> Project {
        let path = self.allowed.default_project().to_path_buf();
        self.project_at(&path)
    }

    /// Every project, the default first (blocking: may scan).
    pub fn known(&self) -> Arc<Vec<Project>> {
        let stamp: ScanStamp = {
            let added = self.lock().added.len();
            (discover::stamp(&self.home.projects_dir()), discover::stamp(self.home.config_file()), added)
        };
        {
            let state = self.lock();
            if let Some((scanned, at)) = &state.scanned
                && *scanned == stamp && at.elapsed() < RESCAN {
                return state.known.clone();
            }
        }
        let mut state = self.lock();
        let found = state.discovery.scan(&self.home, &self.allowed);
        let mut paths: Vec<PathBuf> = vec![self.allowed.default_project().to_path_buf()];
        let added: Vec<PathBuf> = state.added.iter().filter(|p| p.is_dir()).cloned().collect();
        for path in added.into_iter().chain(found) {
            if paths.len() >= MAX_PROJECTS {
                break;
            }
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        let known: Vec<Project> = paths.iter().map(|path| Self::project_in(&mut state, &self.home, &self.allowed, &self.caches, path)).collect();
        state.known = Arc::new(known);
        state.scanned = Some((stamp, Instant::now()));
        state.known.clone()
    }

    /// The project `raw` names: an id from the list, or an absolute path that may be a project
    /// (blocking).
    pub fn resolve(&self, raw: &str) -> Result<Project, ProjectError> {
        if raw.starts_with('/') {
            let real = self.allowed.check(Path::new(raw))?;
            return Ok(self.project_at(&real));
        }
        if let Some(project) = self.known().iter().find(|p| p.id == raw) {
            return Ok(project.clone());
        }
        // Named by path earlier (its transcript may not be written yet): known by id too.
        let state = self.lock();
        state.by_path.values().find(|p| p.id == raw).cloned().ok_or_else(|| ProjectError::UnknownId(raw.chars().take(64).collect()))
    }

    /// Adds a folder from the app: it is listed from now on. Answers the project and whether it
    /// was new (blocking).
    pub fn add(&self, raw: &str) -> Result<(Project, bool), ProjectError> {
        if !raw.starts_with('/') {
            return Err(ProjectError::NotAbsolute(raw.chars().take(200).collect()));
        }
        let real = self.allowed.check(Path::new(raw))?;
        let project = self.project_at(&real);
        let mut state = self.lock();
        let new = !state.added.contains(&real) && !state.known.iter().any(|p| p.path == real);
        if !state.added.contains(&real) {
            state.added.push(real);
        }
        Ok((project, new))
    }

    /// The roots, or the folders in `raw` (under a root), to choose a project from (blocking).
    pub fn folders(&self, raw: Option<&str>) -> Result<app::api::FolderListing, ProjectError> {
        folders::list(&self.allowed, raw)
    }

    /// Whether the folder may still be a project: checked again when a task starts (a symlink on
    /// the way may have changed since the submit). The canonical folder, or why not.
    pub fn recheck(&self, path: &Path) -> Result<PathBuf, ProjectError> {
        let real = self.allowed.check(path)?;
        if real != path {
            // It resolves elsewhere now: not the folder that was checked at submit.
            return Err(ProjectError::OutsideRoots(path.display().to_string(), "it now leads elsewhere".into()));
        }
        Ok(real)
    }

    /// The project a session belongs to: `hint` (where this service ran its tasks), else the one
    /// whose CLI folder holds its transcript (blocking).
    pub fn locate(&self, session_id: Uuid, hint: Option<&Path>) -> Option<Project> {
        if let Some(path) = hint.filter(|path| self.allowed.contains(path)) {
            return Some(self.project_at(path));
        }
        self.known().iter().find(|p| p.index.transcript_path(session_id).is_file()).cloned()
    }

    /// Whether a canonical folder may be a project (no disk access).
    pub fn allows(&self, path: &Path) -> bool {
        self.allowed.contains(path)
    }

    /// The project of a canonical, allowed folder, made on first use.
    pub fn project_at(&self, path: &Path) -> Project {
        let mut state = self.lock();
        Self::project_in(&mut state, &self.home, &self.allowed, &self.caches, path)
    }

    fn project_in(state: &mut State, home: &ClaudeHome, allowed: &Allowed, caches: &SharedCaches, path: &Path) -> Project {
        if let Some(project) = state.by_path.get(path) {
            return project.clone();
        }
        // A bound on what is remembered: past it, start over (indexes hold only caches' handles).
        if state.by_path.len() >= 2 * MAX_PROJECTS {
            state.by_path.clear();
        }
        let (id, name) = (project_id(path), project_name(path));
        let index = Arc::new(SessionIndex::with_caches(home.clone(), path.to_path_buf(), id.clone(), name.clone(), caches));
        let project = Project { id, name, path: path.to_path_buf(), default: path == allowed.default_project(), index };
        state.by_path.insert(path.to_path_buf(), project.clone());
        project
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Caches and lists only: a panic cannot leave them inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Projects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Projects").field("default", &self.allowed.default_project()).field("roots", &self.allowed.roots()).finish()
    }
}
