//! The CLI parsers on the real fixtures (server/tests/fixtures/claude-cli/): every stream-json
//! line through `parse_line`, and every fixture transcript through `read_meta` (the session
//! list) and `read_turns` (the history view). Files are read once, outside the timed loop.
//!
//!     cargo bench -p server --bench parsers

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use server::claude::stream::{parse_line, StreamLine};
use server::claude::transcript::{read_meta, read_turns};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-cli")
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture folder")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| keep(&n.to_string_lossy())))
        .collect();
    files.sort();
    files
}

fn stream_lines() -> Vec<String> {
    let files = files_in(&fixtures(), |name| name.starts_with("stream_") && name.ends_with(".jsonl"));
    assert!(files.len() >= 9, "stream fixtures missing");
    files
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).expect("readable fixture");
            text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

fn transcripts() -> Vec<Vec<u8>> {
    let mut files = files_in(&fixtures().join("projects_tree/-home-dev-project"), |name| name.ends_with(".jsonl"));
    files.push(fixtures().join("session_tui_interactive.jsonl"));
    assert!(files.len() >= 20, "fixture transcripts missing");
    files.iter().map(|file| std::fs::read(file).expect("readable fixture")).collect()
}

fn stream(c: &mut Criterion) {
    let lines = stream_lines();
    let bytes: usize = lines.iter().map(String::len).sum();
    let results = lines.iter().filter(|l| matches!(parse_line(l), StreamLine::Result(..))).count();
    assert!(results >= 8, "every stream fixture but one ends in a result line");
    println!("stream: {} lines ({} KB) from the stream_*.jsonl fixtures", lines.len(), bytes / 1024);
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("parse_line/all_fixture_lines", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(parse_line(black_box(line)));
            }
        })
    });
    group.finish();

    // The one line that decides a task's outcome, alone.
    let result = lines.iter().rfind(|l| l.contains("\"type\":\"result\"")).expect("a result line").clone();
    c.bench_function("stream/parse_line/one_result_line", |b| b.iter(|| black_box(parse_line(black_box(&result)))));
}

fn transcript(c: &mut Criterion) {
    let files = transcripts();
    let lines: usize = files.iter().map(|f| f.iter().filter(|&&b| b == b'\n').count()).sum();
    let bytes: usize = files.iter().map(Vec::len).sum();
    println!("transcript: {} fixture transcripts ({lines} lines, {} KB)", files.len(), bytes / 1024);
    let mut group = c.benchmark_group("transcript");
    group.throughput(Throughput::Elements(files.len() as u64));
    group.bench_function("read_meta/all_fixture_transcripts", |b| {
        b.iter(|| {
            for file in &files {
                black_box(read_meta(black_box(file.as_slice())));
            }
        })
    });
    group.bench_function("read_turns/all_fixture_transcripts", |b| {
        b.iter(|| {
            for file in &files {
                black_box(read_turns(black_box(file.as_slice())));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, stream, transcript);
criterion_main!(benches);
