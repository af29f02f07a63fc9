//! JSON shapes of what changed: a task's file diffs, a project's git state and its files.

use serde::{Deserialize, Serialize};

/// How a file changed.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    Added,
    Modified,
    Deleted,
}

/// One file's change: a unified diff (`--- a/…`, `+++ b/…`, `@@` hunks) and its line counts.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    /// Relative to the project (absolute for a file outside it).
    pub path: String,
    pub status: ChangeStatus,
    pub added: u32,
    pub removed: u32,
    /// Empty for a binary file; a one-line note where the text is withheld (secrets, size).
    pub diff: String,
}

/// `GET /api/sessions/{session_id}/tasks/{task_id}/changes`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskChanges {
    pub files: Vec<FileChange>,
}

/// A task's changes in numbers: what the row under its reply says.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCount {
    pub files: u32,
    pub added: u32,
    pub removed: u32,
}

impl TaskChanges {
    /// The files, and the lines added and removed in all of them.
    pub fn count(&self) -> ChangeCount {
        self.files.iter().fold(ChangeCount { files: self.files.len() as u32, ..ChangeCount::default() }, |mut count, file| {
            count.added += file.added;
            count.removed += file.removed;
            count
        })
    }
}

/// A working-tree file that differs from `HEAD`, as `git status` sees it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitFile {
    pub path: String,
    /// `added`, `modified`, `deleted`, `renamed`, `untracked` or `conflicted`.
    pub status: String,
}

/// `GET /api/projects/{id}/git`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitState {
    /// False when the project is not in a git repository (then nothing else is set).
    pub repository: bool,
    /// `None` on a detached `HEAD`.
    pub branch: Option<String>,
    pub upstream: Option<String>,
    pub ahead: u32,
    pub behind: u32,
    pub files: Vec<GitFile>,
}

/// An entry of a directory listing.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    pub name: String,
    /// Relative to the project: what `?path=` takes.
    pub path: String,
    /// `dir`, `file` or `symlink`.
    pub kind: String,
    pub size: u64,
}

/// `GET /api/projects/{id}/files?path=`: a directory, without what `.gitignore` leaves out.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirListing {
    pub path: String,
    /// Directories first, then files, each by name.
    pub entries: Vec<DirEntry>,
    /// More entries than one listing holds: the rest were left out.
    pub truncated: bool,
}

/// `GET /api/projects/{id}/file?path=`: a text file.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileText {
    pub path: String,
    /// highlight.js's name for its language, when it is one it knows.
    pub language: Option<String>,
    pub size: u64,
    pub content: String,
}
