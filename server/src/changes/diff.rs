//! A file's change as a unified diff with its line counts (the `similar` crate), or a one-line
//! note where the text is not shown.

use super::guard::is_secret;
use app::api::{ChangeStatus, FileChange};
use similar::{ChangeTag, TextDiff};
use std::time::Duration;

/// Sides larger than this are not diffed (counted as one changed file, with a note).
pub const MAX_DIFFED_BYTES: usize = 1024 * 1024;

/// A diff longer than this is cut, with a note: what a phone can show, and a bound on an answer.
pub const MAX_DIFF_CHARS: usize = 256 * 1024;

/// How long one file's diff may take to compute; past it the diff is coarser but still correct.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// How `path` changed from `before` to `after` (`None`: the file did not exist). `None` when it
/// did not change.
pub fn file_change(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> Option<FileChange> {
    let status = match (before, after) {
        (None, None) => return None,
        (Some(old), Some(new)) if old == new => return None,
        (None, Some(_)) => ChangeStatus::Added,
        (Some(_), None) => ChangeStatus::Deleted,
        (Some(_), Some(_)) => ChangeStatus::Modified,
    };
    let note = |diff: &str| Some(FileChange { path: path.to_owned(), status, added: 0, removed: 0, diff: diff.to_owned() });
    let (old, new) = match (as_text(before), as_text(after)) {
        (Some(old), Some(new)) => (old, new),
        _ => return note("Binary file: no diff shown"),
    };
    if old.len() > MAX_DIFFED_BYTES || new.len() > MAX_DIFFED_BYTES {
        return note(&format!("Larger than {} KiB: no diff shown", MAX_DIFFED_BYTES / 1024));
    }
    let diff = TextDiff::configure().timeout(DIFF_DEADLINE).diff_lines(old, new);
    let (mut added, mut removed) = (0u32, 0u32);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let text = if is_secret(path) {
        "May hold secrets (an .env-like file): no diff shown".to_owned()
    } else {
        let (from, to) = (
            if before.is_some() { format!("a/{path}") } else { "/dev/null".into() },
            if after.is_some() { format!("b/{path}") } else { "/dev/null".into() },
        );
        let mut text = diff.unified_diff().context_radius(3).header(&from, &to).to_string();
        if text.len() > MAX_DIFF_CHARS {
            let mut cut = MAX_DIFF_CHARS;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(text[..cut].rfind('\n').map_or(cut, |n| n + 1));
            text.push_str("\\ The diff is longer than this; the rest is not shown\n");
        }
        text
    };
    Some(FileChange { path: path.to_owned(), status, added, removed, diff: text })
}

/// The text of a side (an absent side is empty), `None` when it is binary.
fn as_text(side: Option<&[u8]>) -> Option<&str> {
    let bytes = side.unwrap_or_default();
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_a_unified_diff_with_its_counts() {
        let change = file_change("src/a.rs", Some(b"one\ntwo\nthree\n"), Some(b"one\n2\nthree\nfour\n")).expect("a change");
        assert_eq!(change.status, ChangeStatus::Modified);
        assert_eq!((change.added, change.removed), (2, 1));
        assert!(change.diff.starts_with("--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,3 +1,4 @@\n"), "{}", change.diff);
        assert!(change.diff.contains("-two\n+2\n"), "{}", change.diff);
    }

    #[test]
    fn a_new_file_is_added_from_dev_null_and_an_unchanged_one_is_no_change() {
        let change = file_change("b.txt", None, Some(b"hi\n")).expect("a change");
        assert_eq!((change.status, change.added, change.removed), (ChangeStatus::Added, 1, 0));
        assert!(change.diff.starts_with("--- /dev/null\n+++ b/b.txt\n"));
        assert_eq!(file_change("b.txt", Some(b"x"), Some(b"x")), None);
        let gone = file_change("c.txt", Some(b"a\nb\n"), None).expect("a change");
        assert_eq!((gone.status, gone.added, gone.removed), (ChangeStatus::Deleted, 0, 2));
    }

    #[test]
    fn binary_files_and_secrets_are_counted_but_not_shown() {
        let binary = file_change("logo.png", Some(b"\x89PNG\0\x01"), Some(b"\x89PNG\0\x02")).expect("a change");
        assert!(binary.diff.starts_with("Binary file"));
        let secret = file_change(".env", Some(b"KEY=old\n"), Some(b"KEY=new\n")).expect("a change");
        assert_eq!((secret.added, secret.removed), (1, 1));
        assert!(!secret.diff.contains("KEY"), "{}", secret.diff);
    }
}
