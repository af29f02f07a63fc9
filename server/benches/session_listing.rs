//! The session list (`GET /api/sessions?limit=20`) over a large CLI home: 2,000 session
//! transcripts holding 100,000 lines (~90 MB), written by scripts/bench/make_sessions.py (the
//! same generator scripts/bench.sh uses over HTTP) into a temporary folder.
//!
//! - `cold`: a new `SessionIndex` each time (empty metadata cache: the 20 newest transcripts are
//!   read and parsed; the OS page cache is warm, as it is on a machine that just wrote them);
//! - `warm`: the same index again and again (one `read_dir` and 2,000 `stat`s, no parsing).
//!
//!     cargo bench -p server --bench session_listing

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use server::claude::paths::ClaudeHome;
use server::claude::sessions::SessionIndex;
use std::path::{Path, PathBuf};
use std::process::Command;

const SESSIONS: usize = 2_000;
const LINES: usize = 100_000;

struct Dataset {
    _root: tempfile::TempDir,
    home: PathBuf,
    project: PathBuf,
}

fn dataset() -> Dataset {
    let root = tempfile::tempdir().expect("tempdir");
    let project = root.path().join("project");
    std::fs::create_dir_all(&project).expect("mkdir");
    let project = std::fs::canonicalize(&project).expect("realpath");
    let home = root.path().join("claude-home");
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench/make_sessions.py");
    let output = Command::new("python3")
        .arg(&generator)
        .arg("--home")
        .arg(&home)
        .arg("--project")
        .arg(&project)
        .args(["--sessions", &SESSIONS.to_string(), "--lines", &LINES.to_string()])
        .output()
        .expect("run python3 scripts/bench/make_sessions.py");
    assert!(output.status.success(), "make_sessions.py failed: {}", String::from_utf8_lossy(&output.stderr));
    println!("dataset: {}", String::from_utf8_lossy(&output.stdout).trim());
    Dataset { _root: root, home, project }
}

fn listing(c: &mut Criterion) {
    let data = dataset();
    let index = || SessionIndex::new(ClaudeHome::new(data.home.clone()), data.project.clone());

    let first = index().list(20, &[], &|_| true);
    assert_eq!(first.len(), 20);
    assert!(first.iter().all(|s| !s.title.is_empty()), "every listed session has a title");
    assert_eq!(index().list(100, &[], &|_| true).len(), 100);

    let mut group = c.benchmark_group("session_listing_2000_sessions_100k_lines");
    group.bench_function("list20/cold", |b| {
        b.iter_batched(index, |fresh| black_box(fresh.list(20, &[], &|_| true)), BatchSize::PerIteration)
    });
    let warm = index();
    warm.list(20, &[], &|_| true);
    group.bench_function("list20/warm", |b| b.iter(|| black_box(warm.list(20, &[], &|_| true))));
    group.finish();
}

criterion_group!(benches, listing);
criterion_main!(benches);
