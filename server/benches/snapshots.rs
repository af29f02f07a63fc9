//! What a task costs in a large git repository: the working-tree snapshot taken before its CLI
//! starts (and again after it ends), and its changes read from two snapshots, in a repository of
//! 30,000 committed files (~6 MB) with 200 untracked files and 10 modified ones, in a temporary
//! folder.
//!
//! - `snapshot`: `changes::git::snapshot` (a copy of the index, `git add --update`, the untracked
//!   files listed and added, `write-tree`): what delays a task's start;
//! - `changes`: `changes::task::changes` between the snapshots before and after 10 files were
//!   modified by a command (`git diff-tree`, each file's two blobs, the diffs): what a task's end
//!   and `GET …/changes` cost.
//!
//!     cargo bench -p server --bench snapshots

use criterion::{criterion_group, criterion_main, Criterion};
use server::changes::edits::ToolEdits;
use server::changes::{git, task};
use std::path::Path;
use std::process::Command;

const FILES: usize = 30_000;
const UNTRACKED: usize = 200;
const MODIFIED: usize = 10;

fn run_git(dir: &Path, args: &[&str]) {
    let status = Command::new("git").current_dir(dir).args(args).status().expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn file_text(i: usize) -> String {
    (0..4).map(|line| format!("// file {i}, line {line}: some source text of a usual length here\n")).collect()
}

/// A committed repository of [`FILES`] files in 300 folders, plus untracked files.
fn repository(dir: &Path) {
    for i in 0..FILES {
        let folder = dir.join(format!("src/m{:03}", i % 300));
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(folder.join(format!("f{i}.rs")), file_text(i)).expect("write");
    }
    run_git(dir, &["init", "-q"]);
    run_git(dir, &["add", "-A"]);
    run_git(dir, &["-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-qm", "base"]);
    for i in 0..UNTRACKED {
        std::fs::write(dir.join(format!("src/m{:03}/new{i}.rs", i % 300)), file_text(i)).expect("untracked");
    }
}

fn modify(dir: &Path) {
    for i in 0..MODIFIED {
        let path = dir.join(format!("src/m{:03}/f{i}.rs", i % 300));
        std::fs::write(&path, format!("{}// changed by the task\n", file_text(i))).expect("modify");
    }
}

fn snapshots(c: &mut Criterion) {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = std::fs::canonicalize(root.path()).expect("canonical");
    repository(&dir);
    let scratch = dir.join(".git/bench-scratch.index");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let before = runtime.block_on(git::snapshot(&dir, &scratch)).expect("a snapshot");
    modify(&dir);
    let after = runtime.block_on(git::snapshot(&dir, &scratch)).expect("a snapshot");
    assert_ne!(before, after);

    let mut group = c.benchmark_group("git_30000_files");
    group.sample_size(10);
    group.bench_function("snapshot", |b| b.iter(|| runtime.block_on(git::snapshot(&dir, &scratch)).expect("a snapshot")));
    group.bench_function("changes_of_10_modified", |b| {
        b.iter(|| {
            let mut edits = ToolEdits::default();
            edits.ran_commands = true;
            let snapshots = task::Snapshots { before: Some(before.clone()), after: Some(after.clone()) };
            let changes = runtime.block_on(task::changes(&dir, edits, snapshots)).expect("changes");
            assert_eq!(changes.files.len(), MODIFIED);
        })
    });
    group.finish();
}

criterion_group!(benches, snapshots);
criterion_main!(benches);
