//! The `git` command, run as a child process with a time and output bound (tokio's process
//! support: nothing here blocks a runtime thread).
//!
//! A task's changes come from two working-tree snapshots, one taken before the CLI starts and
//! one after it ends: `git add` into a scratch index (a copy of the real one, so unchanged files
//! are not hashed again) of the tracked files and the untracked ones up to
//! [`MAX_UNTRACKED_BYTES`], then `git write-tree`. Each snapshot is a tree object in the
//! repository's object store and nothing more: the user's index, branches and stash are never
//! touched, and the objects, unreachable, go with git's next `gc` once old enough. What
//! `.gitignore` leaves out is not in a snapshot.

use super::ChangesError;
use app::api::{GitFile, GitState};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// One git command may take this long; then it is killed.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The most of a command's output that is read (a blob, a status): past it the command fails.
pub const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// Runs `git args…` in `dir`; its stdout, or why it failed.
async fn git(dir: &Path, args: &[&str], index: Option<&Path>) -> Result<Vec<u8>, ChangesError> {
    run_git(dir, args, index, None, MAX_OUTPUT).await
}

/// Runs `git args…` in `dir` with `input` on its stdin (none: empty); its stdout up to `limit`
/// bytes, or why it failed.
async fn run_git(dir: &Path, args: &[&str], index: Option<&Path>, input: Option<Vec<u8>>, limit: usize) -> Result<Vec<u8>, ChangesError> {
    let mut command = Command::new("git");
    command
        .current_dir(dir)
        .args(args)
        // Never wait for a lock another git holds for an optional refresh, never ask for a password.
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(index) = index {
        command.env("GIT_INDEX_FILE", index.as_os_str());
    }
    let mut child = command.spawn().map_err(|e| ChangesError::Git(format!("cannot run git: {e}")))?;
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ChangesError::Git("git's output could not be read".into()));
    };
    let stdin = child.stdin.take();
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (mut stdout, mut stderr) = (stdout.take(limit as u64 + 1), stderr.take(64 * 1024));
        // Written while the output is read: git answers as it reads, and a full pipe either way
        // would stop both.
        let write = async move {
            if let (Some(mut stdin), Some(input)) = (stdin, input) {
                // A git that stopped early says why on stderr; the write's own error adds nothing.
                let _ = stdin.write_all(&input).await;
            }
        };
        let (read_out, _, ()) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err), write);
        read_out.map_err(|e| ChangesError::Git(format!("reading git's output: {e}")))?;
        if out.len() > limit {
            return Err(ChangesError::OutputTooLarge(limit));
        }
        let status = child.wait().await.map_err(|e| ChangesError::Git(e.to_string()))?;
        if status.success() {
            Ok(out)
        } else {
            let message = String::from_utf8_lossy(&err);
            Err(ChangesError::Git(message.lines().next().unwrap_or("git failed").to_owned()))
        }
    };
    match tokio::time::timeout(GIT_TIMEOUT, run).await {
        Ok(result) => result,
        // Dropping the child kills it (kill_on_drop).
        Err(_) => Err(ChangesError::Git(format!("git took longer than {} s", GIT_TIMEOUT.as_secs()))),
    }
}

/// Gives `copy` the modification time of `original`; whether it could.
async fn keep_mtime(original: &Path, copy: &Path) -> bool {
    let (original, copy) = (original.to_path_buf(), copy.to_path_buf());
    tokio::task::spawn_blocking(move || {
        let modified = std::fs::metadata(&original)?.modified()?;
        std::fs::File::options().write(true).open(&copy)?.set_modified(modified)
    })
    .await
    .is_ok_and(|done: std::io::Result<()>| done.is_ok())
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\r']).to_owned()
}

/// Whether `dir` is in a git repository (a missing `git` counts as no).
pub async fn is_repository(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-inside-work-tree"], None).await.is_ok_and(|out| text(out) == "true")
}

/// A snapshot of the working tree under `dir` (a tree id), or `None` when `dir` is not in a
/// repository or git fails (logged: a task runs the same without it). `scratch` is a file
/// path the scratch index may use; it is removed after.
pub async fn snapshot(dir: &Path, scratch: &Path) -> Option<String> {
    if !is_repository(dir).await {
        return None;
    }
    let paths = scratch.with_extension("paths");
    let taken = async {
        let index = text(git(dir, &["rev-parse", "--git-path", "index"], None).await?);
        // Starting from the real index, `add` hashes only files whose stat data changed. The copy
        // keeps the index's modification time: git trusts an entry's stat data only when the file
        // is older than the index, so a file changed in the same tick as the index was written
        // (same size, same second) is hashed again rather than taken as unchanged.
        let real = dir.join(&index);
        if tokio::fs::copy(&real, scratch).await.is_err() || !keep_mtime(&real, scratch).await {
            let _ = tokio::fs::remove_file(scratch).await;
        }
        // Tracked files as they are; of the untracked ones, the small ones only.
        git(dir, &["add", "--update", "--", "."], Some(scratch)).await?;
        let untracked = git(dir, &["ls-files", "-z", "--others", "--exclude-standard", "--", "."], None).await?;
        let root = dir.to_path_buf();
        let small = tokio::task::spawn_blocking(move || small_files(&root, &untracked))
            .await
            .map_err(|e| ChangesError::Git(format!("listing untracked files stopped: {e}")))?;
        if !small.is_empty() {
            tokio::fs::write(&paths, small).await.map_err(|source| ChangesError::Io { path: paths.display().to_string(), source })?;
            let from = format!("--pathspec-from-file={}", paths.display());
            git(dir, &["--literal-pathspecs", "add", "--pathspec-file-nul", &from], Some(scratch)).await?;
        }
        Ok::<_, ChangesError>(text(git(dir, &["write-tree"], Some(scratch)).await?))
    }
    .await;
    let _ = tokio::fs::remove_file(scratch).await;
    let _ = tokio::fs::remove_file(&paths).await;
    match taken {
        Ok(tree) if !tree.is_empty() => Some(tree),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%error, dir = %dir.display(), "cannot take a snapshot of the working tree");
            None
        }
    }
}

/// An untracked file larger than this is left out of a snapshot: no task's changes show it, and
/// no copy of it goes into the repository's objects (a data set, a build output not ignored).
/// So is an untracked `.env`-like file, whatever its size.
pub const MAX_UNTRACKED_BYTES: u64 = 1024 * 1024;

/// At most this many untracked files go into a snapshot.
pub const MAX_UNTRACKED_FILES: usize = 10_000;

/// Of the NUL-separated `listed` paths (relative to `dir`), the regular files small enough for a
/// snapshot, NUL-separated again. Blocking: it reads each file's size.
fn small_files(dir: &Path, listed: &[u8]) -> Vec<u8> {
    let mut kept = Vec::new();
    let paths = listed.split(|b| *b == 0).filter(|p| !p.is_empty()).take(MAX_UNTRACKED_FILES);
    for path in paths {
        let Ok(name) = std::str::from_utf8(path) else { continue };
        // Never copied into the object store: an `.env`'s text stays where it is.
        if super::guard::is_secret(name) {
            continue;
        }
        let small = std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| !m.is_file() || m.len() <= MAX_UNTRACKED_BYTES);
        if small {
            kept.extend_from_slice(path);
            kept.push(0);
        }
    }
    kept
}

/// How a path differs between two snapshots: `A`, `M`, `D` or `T` (type change), paths relative
/// to `dir`, only those under it.
pub async fn tree_diff(dir: &Path, before: &str, after: &str) -> Result<Vec<(char, String)>, ChangesError> {
    let out = git(dir, &["diff-tree", "-r", "-z", "--no-renames", "--name-status", "--relative", before, after], None).await?;
    let mut fields = out.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let status = status.first().map_or('M', |b| char::from(*b));
        changes.push((status, String::from_utf8_lossy(path).into_owned()));
    }
    Ok(changes)
}

/// The content of `path` (relative to `dir`) in `tree` (a tree id or `HEAD`); `None` when it is
/// not there.
pub async fn blob(dir: &Path, tree: &str, path: &str) -> Result<Option<Vec<u8>>, ChangesError> {
    Ok(blobs_within(dir, &[(tree, path)], MAX_OUTPUT).await?.pop().flatten())
}

/// The most bytes one [`blobs`] call reads, all its files together.
pub const MAX_BLOBS_OUTPUT: usize = 4 * MAX_OUTPUT;

/// The content of each `(tree, path)` (paths relative to `dir`), in order; `None` where it is not
/// there. One `git cat-file --batch` for them all: a git process per file made a task that changed
/// many files slow to show.
pub async fn blobs(dir: &Path, wanted: &[(&str, &str)]) -> Result<Vec<Option<Vec<u8>>>, ChangesError> {
    blobs_within(dir, wanted, MAX_BLOBS_OUTPUT).await
}

/// [`blobs`], reading at most `limit` bytes in one go; past it, each file on its own.
async fn blobs_within(dir: &Path, wanted: &[(&str, &str)], limit: usize) -> Result<Vec<Option<Vec<u8>>>, ChangesError> {
    // The batch reads a line per name: one with a line break is asked for on its own.
    if wanted.iter().any(|(_, path)| path.contains(['\n', '\r'])) {
        return one_by_one(dir, wanted).await;
    }
    let input: String = wanted.iter().map(|(tree, path)| format!("{tree}:./{path}\n")).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    match run_git(dir, &["cat-file", "--batch"], None, Some(input.into_bytes()), limit).await {
        Ok(out) => parse_batch(&out, wanted.len()),
        // Very large files: each read on its own, each bounded by MAX_OUTPUT.
        Err(ChangesError::OutputTooLarge(_)) if wanted.len() > 1 => one_by_one(dir, wanted).await,
        Err(error) => Err(error),
    }
}

async fn one_by_one(dir: &Path, wanted: &[(&str, &str)]) -> Result<Vec<Option<Vec<u8>>>, ChangesError> {
    let mut found = Vec::with_capacity(wanted.len());
    for (tree, path) in wanted {
        found.push(blob_alone(dir, tree, path).await?);
    }
    Ok(found)
}

/// One file's content in a tree, read by two git processes of its own; `None` for what is not
/// there or is no file (a folder), as in a batch.
async fn blob_alone(dir: &Path, tree: &str, path: &str) -> Result<Option<Vec<u8>>, ChangesError> {
    let spec = format!("{tree}:./{path}");
    match git(dir, &["cat-file", "-t", &spec], None).await {
        Ok(kind) if kind.trim_ascii() == b"blob" => git(dir, &["cat-file", "blob", &spec], None).await.map(Some),
        _ => Ok(None),
    }
}

/// Reads `git cat-file --batch`'s answers: `<oid> <type> <size>\n<content>\n` for an object,
/// `<name> missing\n` (or `ambiguous`) for none. A tree or anything else but a blob is no file.
fn parse_batch(mut out: &[u8], count: usize) -> Result<Vec<Option<Vec<u8>>>, ChangesError> {
    let broken = || ChangesError::Git("git cat-file answered in a form not understood".into());
    let mut found = Vec::with_capacity(count);
    for _ in 0..count {
        let end = out.iter().position(|b| *b == b'\n').ok_or_else(broken)?;
        let header = String::from_utf8_lossy(&out[..end]).into_owned();
        out = &out[end + 1..];
        // The name asked for is repeated (and may hold spaces) only in these.
        if header.ends_with(" missing") || header.ends_with(" ambiguous") {
            found.push(None);
            continue;
        }
        let mut fields = header.split(' ');
        let (Some(_oid), Some(kind), Some(size), None) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
            return Err(broken());
        };
        let size: usize = size.parse().map_err(|_| broken())?;
        let content = out.get(..size).ok_or_else(broken)?;
        found.push((kind == "blob").then(|| content.to_vec()));
        out = out.get(size + 1..).ok_or_else(broken)?;
    }
    Ok(found)
}

/// Branch, upstream, ahead/behind, and the files under `dir` that differ from `HEAD`.
pub async fn state(dir: &Path) -> Result<GitState, ChangesError> {
    if !is_repository(dir).await {
        return Ok(GitState::default());
    }
    let prefix = text(git(dir, &["rev-parse", "--show-prefix"], None).await?);
    let out = git(dir, &["status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all", "--", "."], None).await?;
    Ok(parse_status(&out, &prefix))
}

/// Parses `git status --porcelain=v2 --branch -z`; paths (repository-relative) lose `prefix`.
fn parse_status(out: &[u8], prefix: &str) -> GitState {
    let mut state = GitState { repository: true, ..GitState::default() };
    let mut records = out.split(|b| *b == 0).map(|r| String::from_utf8_lossy(r).into_owned());
    let relative = |path: &str| path.strip_prefix(prefix).unwrap_or(path).to_owned();
    while let Some(record) = records.next() {
        if let Some(header) = record.strip_prefix("# ") {
            match header.split_once(' ') {
                Some(("branch.head", head)) if head != "(detached)" => state.branch = Some(head.to_owned()),
                Some(("branch.upstream", upstream)) => state.upstream = Some(upstream.to_owned()),
                Some(("branch.ab", counts)) => {
                    for count in counts.split(' ') {
                        if let Some(n) = count.strip_prefix('+') {
                            state.ahead = n.parse().unwrap_or(0);
                        } else if let Some(n) = count.strip_prefix('-') {
                            state.behind = n.parse().unwrap_or(0);
                        }
                    }
                }
                _ => {}
            }
            continue;
        }
        let (kind, rest) = record.split_at(record.len().min(1));
        let fields: Vec<&str> = rest.trim_start().splitn(10, ' ').collect();
        let (status, path) = match kind {
            "1" if fields.len() >= 8 => (xy_status(fields[0]), fields[7..].join(" ")),
            "2" if fields.len() >= 9 => {
                records.next(); // the path it was renamed from
                ("renamed", fields[8..].join(" "))
            }
            "u" if fields.len() >= 10 => ("conflicted", fields[9].to_owned()),
            "?" => ("untracked", rest.trim_start().to_owned()),
            _ => continue,
        };
        state.files.push(GitFile { path: relative(&path), status: status.to_owned() });
    }
    state
}

fn xy_status(xy: &str) -> &'static str {
    if xy.contains('D') {
        "deleted"
    } else if xy.contains('A') {
        "added"
    } else {
        "modified"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_answer_is_each_blob_or_none_in_order() {
        let out = b"1111 blob 5\nhello\nHEAD:./gone file missing\n2222 tree 10\n0123456789\n3333 blob 0\n\n";
        let found = parse_batch(out, 4).expect("parsed");
        assert_eq!(found, [Some(b"hello".to_vec()), None, None, Some(Vec::new())]);
        assert!(parse_batch(b"1111 blob 50\nshort\n", 1).is_err(), "a cut answer is an error, not a short file");
        assert!(parse_batch(b"", 1).is_err());
    }

    #[tokio::test]
    async fn blobs_are_read_from_a_tree_in_one_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let run = |args: &[&str]| {
            let status = std::process::Command::new("git").current_dir(root).args(args).status().expect("git");
            assert!(status.success(), "git {args:?}");
        };
        run(&["init", "-q"]);
        std::fs::write(root.join("a.txt"), "first\n").expect("write");
        std::fs::create_dir(root.join("sub dir")).expect("mkdir");
        std::fs::write(root.join("sub dir/b c.txt"), "second\n").expect("write");
        run(&["add", "-A"]);
        run(&["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "one"]);

        let wanted = [("HEAD", "a.txt"), ("HEAD", "missing.txt"), ("HEAD", "sub dir/b c.txt"), ("HEAD", "sub dir")];
        let found = blobs(root, &wanted).await.expect("read");
        assert_eq!(found, [Some(b"first\n".to_vec()), None, Some(b"second\n".to_vec()), None]);
        assert_eq!(blob(root, "HEAD", "a.txt").await.expect("read"), Some(b"first\n".to_vec()));
        // More than one read may hold: each file is read on its own, with the same answers.
        assert_eq!(blobs_within(root, &wanted, 8).await.expect("read one by one"), found);
        std::fs::write(root.join("line\nbreak.txt"), "third\n").expect("write");
        run(&["add", "-A"]);
        run(&["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "two"]);
        let odd = blobs(root, &[("HEAD", "a.txt"), ("HEAD", "line\nbreak.txt")]).await.expect("read");
        assert_eq!(odd, [Some(b"first\n".to_vec()), Some(b"third\n".to_vec())], "a name with a line break is read too");
    }

    #[test]
    fn status_says_branch_distance_and_each_file() {
        let out = b"# branch.oid 0123\0# branch.head main\0# branch.upstream origin/main\0# branch.ab +2 -1\0\
1 .M N... 100644 100644 100644 aaa bbb sub/a file.rs\0\
1 A. N... 000000 100644 100644 000 ccc sub/new.rs\0\
1 D. N... 100644 000000 000000 ddd 000 sub/gone.rs\0\
2 R. N... 100644 100644 100644 eee eee R100 sub/to.rs\0sub/from.rs\0\
? sub/untracked.txt\0";
        let state = parse_status(out, "sub/");
        assert_eq!(state.branch.as_deref(), Some("main"));
        assert_eq!(state.upstream.as_deref(), Some("origin/main"));
        assert_eq!((state.ahead, state.behind), (2, 1));
        let files: Vec<(&str, &str)> = state.files.iter().map(|f| (f.path.as_str(), f.status.as_str())).collect();
        assert_eq!(
            files,
            [("a file.rs", "modified"), ("new.rs", "added"), ("gone.rs", "deleted"), ("to.rs", "renamed"), ("untracked.txt", "untracked")]
        );
    }

    #[test]
    fn a_detached_head_has_no_branch() {
        let state = parse_status(b"# branch.oid 0123\0# branch.head (detached)\0", "");
        assert_eq!(state.branch, None);
        assert!(state.repository);
    }
}
