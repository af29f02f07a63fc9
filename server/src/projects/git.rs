//! The branch a project has checked out, read from `.git/HEAD` (no git process: this runs for
//! every project of every listing).

use std::path::Path;

/// The longest HEAD file read: a ref line is short.
const MAX_HEAD_BYTES: u64 = 1024;

/// `Some("main")` for a work tree on branch `main` (a linked work tree too: `.git` is then a file
/// naming its git folder); `None` when detached, not a git work tree, or unreadable.
pub fn branch(project: &Path) -> Option<String> {
    let dot_git = project.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        let pointer = read_small(&dot_git)?;
        let target = pointer.trim().strip_prefix("gitdir:")?.trim();
        project.join(target)
    };
    let head = read_small(&git_dir.join("HEAD"))?;
    let branch = head.trim().strip_prefix("ref:")?.trim().strip_prefix("refs/heads/")?;
    (!branch.is_empty()).then(|| branch.to_owned())
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path).ok()?.take(MAX_HEAD_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_is_read_from_head_and_a_detached_head_has_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(branch(dir.path()), None, "not a git work tree");
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/feature/x\n").expect("write");
        assert_eq!(branch(dir.path()).as_deref(), Some("feature/x"));
        std::fs::write(dir.path().join(".git/HEAD"), "0123456789abcdef0123456789abcdef01234567\n").expect("write");
        assert_eq!(branch(dir.path()), None);
        let linked = dir.path().join("linked");
        std::fs::create_dir_all(&linked).expect("mkdir");
        std::fs::create_dir_all(dir.path().join(".git/worktrees/linked")).expect("mkdir");
        std::fs::write(dir.path().join(".git/worktrees/linked/HEAD"), "ref: refs/heads/topic\n").expect("write");
        std::fs::write(linked.join(".git"), "gitdir: ../.git/worktrees/linked\n").expect("write");
        assert_eq!(branch(&linked).as_deref(), Some("topic"));
    }
}
