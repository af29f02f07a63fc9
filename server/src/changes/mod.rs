//! What a task changed, and the project's git state and files, for the user to read before
//! trusting the work.
//!
//! - [`edits`]: the file edits a task's own output lines record (Write, Edit, MultiEdit,
//!   NotebookEdit inputs and the CLI's `tool_use_result`, which carries the file before).
//! - [`git`]: the `git` command, run as a child process (never blocking a runtime thread):
//!   working-tree snapshots taken around each task, so what Bash changed shows too, and status.
//! - [`diff`]: unified diffs and line counts (the `similar` crate).
//! - [`task`]: a task's changes, from both.
//! - [`files`]: the read-only file browser, behind [`guard`]'s path rules.

pub mod diff;
pub mod edits;
pub mod files;
pub mod git;
pub mod guard;
pub mod task;

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    /// A malformed path: absolute, with `..`, or naming git's own folder.
    #[error("{0}")]
    BadPath(String),
    /// Outside the project, through a symlink.
    #[error("{0} is outside the project")]
    Outside(String),
    #[error("{0} may hold secrets (an .env-like file); it is not shown")]
    Secret(String),
    #[error("no such file or directory: {0}")]
    NotFound(String),
    #[error("{0} is not a directory")]
    NotADirectory(String),
    #[error("{0} is not a regular file")]
    NotAFile(String),
    #[error("{path} is {size} bytes; files above {limit} bytes are not shown")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{0} is a binary file; only text files are shown")]
    Binary(String),
    #[error("the project is not in a git repository")]
    NotARepository,
    #[error("git failed: {0}")]
    Git(String),
    #[error("git's output is larger than {0} bytes")]
    OutputTooLarge(usize),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
}
