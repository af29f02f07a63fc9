//! A task's output: its file read a chunk at a time, each line parsed (progress, the result),
//! counted against the cap, and stored together with how far the reading got.
//!
//! Everything here is blocking (file reads, JSON parsing, SQLite) and runs on the blocking pool,
//! one chunk per call (see `execute`), so a CLI printing 40 MB never holds up a request.

use super::cap;
use super::drafts::DraftChange;
use super::spool::{file_tail, SpoolReader};
use super::{announce, now_ms, Inner};
use crate::claude::control::{self, ControlLine};
use crate::claude::partial;
use crate::claude::stream::{parse_line, ResultLine, StreamLine};
use app::api::ApprovalStatus;
use crate::store::{LineAt, OutputState, StoreError};
use app::api::timeline;
use serde_json::Value;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Bytes read per step: one blocking call, one transaction. Small enough that a step takes
/// milliseconds (a stop request or a shutdown waits at most that long), large enough that a
/// transaction carries hundreds of lines.
pub const CHUNK_BYTES: usize = 1024 * 1024;

/// How much of the CLI's stderr is read for its last words.
const STDERR_TAIL_BYTES: u64 = 64 * 1024;

pub struct Output {
    task_id: Uuid,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    /// The CLI's input (see `stdin`), removed with the rest.
    stdin_path: PathBuf,
    reader: SpoolReader,
    state: OutputState,
    result: Option<(ResultLine, Value)>,
    last_text: Option<String>,
    /// A save failed because the disk (or the database's size limit) is full.
    store_full: bool,
}

impl Output {
    /// For a task about to start: its files are created empty.
    pub fn fresh(spool_dir: &Path, task_id: Uuid) -> Self {
        let stdout_path = spool_file(spool_dir, task_id, "out");
        Self {
            task_id,
            stderr_path: spool_file(spool_dir, task_id, "err"),
            stdin_path: spool_file(spool_dir, task_id, "in"),
            reader: SpoolReader::at(stdout_path.clone(), 0),
            stdout_path,
            state: OutputState::default(),
            result: None,
            last_text: None,
            store_full: false,
        }
    }

    /// For a task a previous server was following: reads on from where its last save left off,
    /// with the result line it had read, if any (read back from the file).
    pub fn resume(inner: &Inner, task_id: Uuid) -> Self {
        let mut output = Self::fresh(&inner.settings.spool_dir, task_id);
        match inner.store.output_state(task_id) {
            Ok(Some(state)) => output.state = state,
            // Never saved (or saved by a version without this state): from the start; lines
            // numbered by position are not stored twice.
            Ok(None) => {}
            Err(error) => tracing::error!(%task_id, %error, "cannot read where the task's output was; reading it again"),
        }
        output.reader = SpoolReader::at(output.stdout_path.clone(), output.state.read_offset);
        output.result = output.state.result.and_then(|at| read_line_at(&output.stdout_path, at)).and_then(|line| match parse_line(&line) {
            StreamLine::Result(result, raw) => Some((*result, raw)),
            _ => None,
        });
        output
    }

    /// Creates the output files, empty. The CLI's stdout is opened for appending: decisions are
    /// recorded by appending to the same file (see `approvals`), and with both writers appending
    /// every line lands whole at the end.
    pub fn create_files(&self) -> std::io::Result<(std::fs::File, std::fs::File)> {
        use std::os::unix::fs::OpenOptionsExt;
        let open = |path: &PathBuf| {
            // Left by a start that a crash interrupted: this start begins the output anew.
            match std::fs::remove_file(path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
            std::fs::OpenOptions::new().create_new(true).append(true).mode(0o600).open(path)
        };
        Ok((open(&self.stdout_path)?, open(&self.stderr_path)?))
    }

    /// Reads, parses and stores the next chunk of lines. With `at_end` (the CLI is gone) a last
    /// line without its newline counts too. Returns whether more bytes are already waiting.
    pub fn step(&mut self, inner: &Inner, at_end: bool) -> bool {
        let (lines, more) = match self.reader.read(CHUNK_BYTES, at_end) {
            Ok(read) => read,
            Err(error) => {
                tracing::warn!(task_id = %self.task_id, %error, "cannot read the CLI's output");
                return false;
            }
        };
        if self.reader.consumed() == self.state.read_offset {
            return more;
        }
        let before = self.state;
        let mut steps = Vec::new();
        let mut kept = Vec::new();
        let mut controls = Vec::new();
        let mut draft = Vec::new();
        for line in lines {
            let parsed = line.text.as_deref().map(parse_line);
            // Words as the API streams them: for the live view only. Not stored, not counted,
            // not numbered (stored lines stay numbered 1, 2, 3... without gaps).
            if let Some(StreamLine::Event(event)) = &parsed
                && let Some(partial) = partial::classify(event) {
                draft.extend(DraftChange::of(partial));
                continue;
            }
            let seq = self.state.next_seq;
            self.state.next_seq += 1;
            let mut is_result = false;
            match parsed {
                Some(StreamLine::Result(result, raw)) => {
                    is_result = true;
                    self.result = Some((*result, raw));
                }
                Some(StreamLine::Text(text)) => self.last_text = Some(text),
                Some(StreamLine::Event(event)) => {
                    steps.extend(timeline::items(&event));
                    controls.extend(control::classify(&event));
                }
                None => {}
            }
            if let Some(text) = cap::admit(&mut self.state, seq, line, is_result) {
                kept.push((seq, text));
            }
        }
        self.state.read_offset = self.reader.consumed();
        // Only streamed words: nothing to store. The reading state is saved with the next line
        // that is (after a restart these few lines are read again, and still not stored).
        let only_words = kept.is_empty() && controls.is_empty() && self.state.result == before.result && self.state.cut == before.cut;
        if only_words {
            if inner.drafts.apply(self.task_id, draft) {
                let _ = inner.activity.send(self.task_id);
            }
            return more;
        }
        // Requests first: the lines saved with the reading state are never read again, and a
        // request lost with them would leave the CLI waiting for an answer no one is asked for.
        let asked = self.apply(inner, controls);
        let stored = match (asked, self.save(inner, &kept)) {
            (Ok(asked), Saved::Lines(stored)) => stored || asked,
            // Read again at the next step: nothing of this chunk counted yet (recording a
            // request again is harmless).
            _ => {
                self.state = before;
                self.reader = SpoolReader::at(self.stdout_path.clone(), before.read_offset);
                return false;
            }
        };
        if !steps.is_empty() {
            let now = now_ms();
            if let Ok(mut all) = inner.progress.lock() {
                let progress = all.entry(self.task_id).or_default();
                for step in &steps {
                    progress.observe(step, now);
                }
            }
        }
        let drafted = inner.drafts.apply(self.task_id, draft);
        if stored || drafted {
            let _ = inner.activity.send(self.task_id);
        }
        more
    }

    /// What the CLI asked, withdrew, or was answered, into the store (again after a restart:
    /// each request is recorded once, each settles once). Whether there was any; `Err` when the
    /// store was busy and the chunk must be read again.
    fn apply(&self, inner: &Inner, controls: Vec<ControlLine>) -> Result<bool, Busy> {
        if controls.is_empty() {
            return Ok(false);
        }
        let now = now_ms();
        for line in controls {
            let stored = match &line {
                ControlLine::Request(request) => inner.store.insert_approval(self.task_id, request, now).map(|new| {
                    // Once per request, also when a restart reads it again.
                    if new {
                        inner.announce(self.task_id, announce::What::Waiting { approval_id: request.request_id.clone(), tool_name: request.tool_name.clone(), input: request.input.clone() });
                    }
                }),
                ControlLine::Withdrawn { request_id } => {
                    inner.store.settle_approval(self.task_id, request_id, ApprovalStatus::Withdrawn, None, None, now).map(drop)
                }
                ControlLine::Decided { request_id, status } => inner.store.settle_approval(self.task_id, request_id, *status, None, None, now).map(drop),
            };
            match stored {
                Ok(()) => {}
                Err(StoreError::Busy) => return Err(Busy),
                Err(error) => tracing::error!(task_id = %self.task_id, %error, "cannot record a permission request"),
            }
        }
        Ok(true)
    }

    /// At most how many steps reading the rest of the file takes, once nothing writes to it.
    pub fn steps_left(&self) -> u64 {
        let len = std::fs::metadata(&self.stdout_path).map_or(0, |m| m.len());
        len.saturating_sub(self.state.read_offset) / CHUNK_BYTES as u64 + 2
    }

    /// Once the file was read to its end: stores its tail and the marker for what was cut
    /// between head and tail (nothing when nothing was cut). Safe to repeat after a restart.
    pub fn store_tail(&mut self, inner: &Inner) {
        let Some(cut) = self.state.cut else { return };
        let end = self.state.read_offset;
        let Some(window) = cap::tail_window(&self.state, end) else { return };
        // The window may start inside a line: that line is part of what was cut.
        let (mut reader, from) = if window > cut.offset {
            (SpoolReader::after_newline(self.stdout_path.clone(), window - 1), window - 1)
        } else {
            (SpoolReader::at(self.stdout_path.clone(), window), window)
        };
        let tail = match reader.read(end.saturating_sub(from).max(1) as usize, true) {
            Ok((lines, _)) => lines,
            Err(error) => {
                tracing::warn!(task_id = %self.task_id, %error, "cannot read the end of the CLI's output");
                Vec::new()
            }
        };
        let result_line = self.state.result.filter(|r| r.seq >= cut.seq).and_then(|at| read_line_at(&self.stdout_path, at));
        let kept = cap::ending(&mut self.state, tail, result_line);
        if let Saved::Lines(true) = self.save(inner, &kept) {
            let _ = inner.activity.send(self.task_id);
        }
    }

    /// Stores `kept` with the reading state.
    fn save(&mut self, inner: &Inner, kept: &[(u64, String)]) -> Saved {
        match inner.store.save_output(self.task_id, kept, &self.state) {
            Ok(()) => Saved::Lines(!kept.is_empty()),
            // Another writer holds the database for now: the lines wait in the file.
            Err(StoreError::Busy) => Saved::Retry,
            Err(StoreError::Full) => {
                tracing::error!(task_id = %self.task_id, "the disk is full: the task's output cannot be stored");
                self.store_full = true;
                Saved::Lines(false)
            }
            // Lost lines leave a gap in the numbering, which clients tolerate.
            Err(error) => {
                tracing::error!(task_id = %self.task_id, %error, "cannot store output lines");
                Saved::Lines(false)
            }
        }
    }

    pub fn result(&self) -> Option<&(ResultLine, Value)> {
        self.result.as_ref()
    }

    /// Whether the store refused the output for want of space.
    pub fn store_full(&self) -> bool {
        self.store_full
    }

    pub fn last_text(&self) -> Option<&str> {
        self.last_text.as_deref()
    }

    pub fn stderr(&self) -> String {
        file_tail(&self.stderr_path, STDERR_TAIL_BYTES)
    }

    pub fn remove_files(&self) {
        let _ = std::fs::remove_file(&self.stdout_path);
        let _ = std::fs::remove_file(&self.stderr_path);
        let _ = std::fs::remove_file(&self.stdin_path);
    }
}

/// The store was busy (another writer held it past the wait).
struct Busy;

/// What became of a save.
enum Saved {
    /// Stored (or lost for good); whether any line was stored, which wakes listeners (once per
    /// step, by the caller).
    Lines(bool),
    /// The store was busy: nothing was stored, and the same lines must be read and saved again.
    Retry,
}

/// A task's file in the spool folder: `out` (the CLI's stdout), `err`, `in` (its stdin FIFO).
pub fn spool_file(spool_dir: &Path, task_id: Uuid, extension: &str) -> PathBuf {
    spool_dir.join(format!("{task_id}.{extension}"))
}

/// The line at `at` in the file, if it is still there.
fn read_line_at(path: &Path, at: LineAt) -> Option<String> {
    let mut reader = SpoolReader::at(path.to_path_buf(), at.offset);
    let (lines, _) = reader.read(at.len.max(1) as usize, true).ok()?;
    lines.into_iter().next()?.text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewTask, Store};
    use app::api::ChatRequest;
    use std::io::Write;
    use std::sync::Arc;

    fn runner(dir: &Path) -> super::super::Runner {
        let settings = super::super::RunnerSettings {
            cli: super::super::CliSettings { bin: "claude".into(), project: dir.to_path_buf(), env: Vec::new() },
            projects: Arc::new(
                crate::projects::Projects::new(crate::claude::paths::ClaudeHome::new(dir.join("home")), dir.to_path_buf(), &[], Vec::new())
                    .expect("projects"),
            ),
            spool_dir: dir.join("spool"),
            max_concurrent: 1,
            stop_grace: std::time::Duration::from_secs(1),
            approval_timeout: std::time::Duration::from_secs(60),
            max_queued_per_session: 20,
            max_queued_total: 200,
        };
        let store = Arc::new(Store::in_memory().expect("store"));
        super::super::Runner::start(store, settings, crate::push::Notifier::disabled()).expect("runner")
    }

    fn task(inner: &Inner) -> Uuid {
        let id = Uuid::new_v4();
        let request = ChatRequest { message: "hi".into(), ..Default::default() };
        inner.store.insert_task(&NewTask { id, session_id: Uuid::new_v4(), creates_session: true, request: &request, created_at: 1, project: "/p" }).expect("insert");
        id
    }

    fn line(n: usize, pad: usize) -> String {
        format!("{{\"type\":\"assistant\",\"message\":{{\"content\":[{{\"type\":\"text\",\"text\":\"line {n} {}\"}}]}}}}\n", "x".repeat(pad))
    }

    const RESULT: &str = "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"done\"}\n";

    fn read_all(output: &mut Output, inner: &Inner, at_end: bool) {
        for _ in 0..1000 {
            if !output.step(inner, at_end) {
                return;
            }
        }
        panic!("the file never ran out");
    }

    #[test]
    fn a_restart_reads_on_from_the_stored_offset_with_the_result_it_had_read() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let runner = runner(dir.path());
        let inner = &runner.inner;
        let id = task(inner);
        let mut output = Output::fresh(&inner.settings.spool_dir, id);
        let (mut out, _err) = output.create_files()?;
        out.write_all(format!("{}{}{{\"type\":\"assis", line(1, 0), line(2, 0)).as_bytes())?;
        read_all(&mut output, inner, false);
        let saved = inner.store.output_state(id).ok().flatten().expect("state saved with the lines");
        assert_eq!(saved.next_seq, 3);
        assert_eq!(saved.read_offset, (line(1, 0).len() + line(2, 0).len()) as u64, "up to the last whole line");
        drop(output);

        // The server died; the CLI wrote on and ended.
        out.write_all(format!("tant\"}}\n{}{RESULT}", line(4, 0)).as_bytes())?;
        let mut output = Output::resume(inner, id);
        assert_eq!(output.reader.consumed(), saved.read_offset, "nothing before the offset is read again");
        read_all(&mut output, inner, true);
        assert!(output.result().is_some());
        let seqs: Vec<u64> = inner.store.events_after(id, 0).expect("events").into_iter().map(|(seq, _)| seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5], "no line twice, none missing");

        // Died again after reading the result: the next start still knows the outcome.
        let output = Output::resume(inner, id);
        assert_eq!(output.result().map(|(r, _)| r.result.clone()), Some(Some("done".to_owned())));
        Ok(())
    }

    #[test]
    fn an_enormous_output_is_stored_as_head_marker_and_tail_once_even_if_ended_twice() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let runner = runner(dir.path());
        let inner = &runner.inner;
        let id = task(inner);
        let mut output = Output::fresh(&inner.settings.spool_dir, id);
        let (mut out, _err) = output.create_files()?;
        let lines = 10_000;
        for n in 1..=lines {
            out.write_all(line(n, 1000).as_bytes())?;
        }
        out.write_all(RESULT.trim_end().as_bytes())?; // no final newline
        read_all(&mut output, inner, true);
        output.store_tail(inner);
        let first = inner.store.events_after(id, 0).expect("events");
        Output::resume(inner, id).store_tail(inner);
        assert_eq!(inner.store.events_after(id, 0).expect("events"), first, "ending again after a restart adds nothing");

        let stored: u64 = first.iter().map(|(_, l)| l.len() as u64).sum();
        assert!(stored <= cap::HEAD_BYTES + cap::TAIL_BYTES, "{stored} bytes stored");
        let marker = first.iter().position(|(_, l)| l.contains("output_truncated")).expect("a marker");
        let (marker_seq, marker_line) = &first[marker];
        assert!(first[..marker].iter().enumerate().all(|(i, (seq, _))| *seq == i as u64 + 1), "a whole head");
        let tail = &first[marker + 1..];
        assert!(tail.windows(2).all(|w| w[1].0 == w[0].0 + 1), "a whole tail");
        assert_eq!(tail.last().map(|(seq, l)| (*seq, l.as_str())), Some((lines as u64 + 1, RESULT.trim_end())), "the result is last");
        assert!(tail[0].1.contains(&format!("line {} ", tail[0].0)), "lines keep their numbers: {}", &tail[0].1[..80]);
        let counts: Value = serde_json::from_str(marker_line).expect("JSON marker");
        assert_eq!(counts["lines"].as_u64(), Some(tail[0].0 - marker_seq));
        Ok(())
    }
}
