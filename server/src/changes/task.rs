//! A task's changes: the edits its lines record and, when the project is a git repository and
//! the task ran commands, what its working-tree snapshots (before and after it ran) say changed,
//! so that a file a Bash command changed shows too.
//!
//! Edits are precise (they are this task's own); a snapshot difference is the project's, and
//! another task running at the same time in the same project would show in it. So snapshots
//! count only for a task that ran commands, and for the paths they name they win over the edits
//! (a command may have changed a file again after an edit).

use super::diff::file_change;
use super::edits::ToolEdits;
use super::{git, ChangesError};
use app::api::TaskChanges;
use std::path::Path;

/// The most files one answer lists.
pub const MAX_FILES: usize = 500;

/// The working tree before and after a task ran (tree ids; see [`git::snapshot`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshots {
    pub before: Option<String>,
    pub after: Option<String>,
}

/// A file's path (relative to the project, or absolute outside it), its content before and
/// after (`None`: it did not exist).
type Sides = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// What the task changed under `project` (canonical).
pub async fn changes(project: &Path, edits: ToolEdits, snapshots: Snapshots) -> Result<TaskChanges, ChangesError> {
    let mut sides: Vec<Sides> = edits
        .files
        .into_iter()
        .map(|(path, edit)| (shown(project, &path), edit.before.map(String::into_bytes), Some(edit.after.into_bytes())))
        .collect();
    if let (true, Some(before), Some(after)) = (edits.ran_commands, &snapshots.before, &snapshots.after) {
        let changed: Vec<(char, String)> = git::tree_diff(project, before, after).await?.into_iter().take(MAX_FILES).collect();
        // Both sides of every file in one read: an added file has no "before", a deleted one no
        // "after" (asked for anyway, they answer as missing).
        let wanted: Vec<(&str, &str)> =
            changed.iter().flat_map(|(_, path)| [(before.as_str(), path.as_str()), (after.as_str(), path.as_str())]).collect();
        let mut contents = git::blobs(project, &wanted).await?.into_iter();
        for (status, path) in changed {
            let (old, new) = (contents.next().flatten(), contents.next().flatten());
            let (old, new) = (if status == 'A' { None } else { old }, if status == 'D' { None } else { new });
            match sides.iter_mut().find(|(p, _, _)| *p == path) {
                Some(side) => (side.1, side.2) = (old, new),
                None => sides.push((path, old, new)),
            }
        }
    }
    let files =
        sides.iter().filter_map(|(path, old, new)| file_change(path, old.as_deref(), new.as_deref())).take(MAX_FILES).collect();
    Ok(TaskChanges { files })
}

/// A tool's absolute path as the answer shows it: relative to the project when inside it.
fn shown(project: &Path, path: &str) -> String {
    Path::new(path).strip_prefix(project).map_or_else(|_| path.to_owned(), |p| p.to_string_lossy().into_owned())
}
