//! Running one task to its outcome: start the CLI (or follow the one a previous server started),
//! store its output lines as they come, stop it when asked, and decide how it ended.

use super::process::{is_running, signal_group, start_time};
use super::spool::{last_words, SpoolTail};
use super::{now_ms, Inner};
use crate::claude::invocation::{Invocation, SessionMode};
use crate::claude::outcome::{decide, Exit, Outcome, RunEnd};
use crate::claude::stream::{parse_line, ResultLine, StreamLine};
use crate::claude::version::INSTALL_HINT;
use crate::store::TaskRecord;
use app::api::timeline;
use app::api::TaskStatus;
use nix::sys::signal::Signal;
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use uuid::Uuid;

/// How often a running task's output file is read for new lines.
const TAIL_INTERVAL: Duration = Duration::from_millis(100);

pub async fn run(inner: &Inner, task_id: Uuid) {
    let Some(control) = inner.controls.get(task_id) else { return };
    // A stop asked for while the task waits for a CLI slot ends it at once, without a slot.
    let _slot = tokio::select! {
        slot = inner.slots.clone().acquire_owned() => match slot {
            Ok(slot) => Some(slot),
            Err(_) => return,
        },
        () = control.cancelled() => None,
    };
    let task = match inner.store.get_task(task_id) {
        Ok(Some(task)) => task,
        Ok(None) => return, // deleted while it waited
        Err(error) => {
            tracing::error!(%task_id, %error, "cannot read a queued task");
            return;
        }
    };
    let mut output = Output::new(inner, task_id);
    let end = match task.status {
        TaskStatus::Queued if control.is_cancelled() => Ending::cancelled_before_start(),
        TaskStatus::Queued => start_and_follow(inner, &task, &control, &mut output).await,
        // Left running by a previous server: follow it if it still runs.
        TaskStatus::Processing => follow_orphan(inner, &task, &control, &mut output).await,
        _ => return,
    };
    output.ingest_rest(inner).await;
    finish(inner, &task, output, end);
}

/// What we observed of the process's end.
struct Ending {
    exit: Option<Exit>,
    cancelled: bool,
    spawn_error: Option<String>,
}

impl Ending {
    fn cancelled_before_start() -> Self {
        Self { exit: None, cancelled: true, spawn_error: None }
    }
}

async fn start_and_follow(inner: &Inner, task: &TaskRecord, control: &super::control::Control, output: &mut Output) -> Ending {
    let mode = if task.creates_session { SessionMode::Create(task.session_id) } else { SessionMode::Resume(task.session_id) };
    let invocation = match Invocation::new(task.request.clone(), mode) {
        Ok(invocation) => invocation,
        Err(error) => return Ending { exit: None, cancelled: false, spawn_error: Some(error.to_string()) },
    };
    let cli = &inner.settings.cli;
    let files = match output.create_files() {
        Ok(files) => files,
        Err(error) => return Ending { exit: None, cancelled: false, spawn_error: Some(format!("cannot create the output file: {error}")) },
    };
    let mut command = tokio::process::Command::new(&cli.bin);
    command
        .args(invocation.args())
        .current_dir(&cli.project)
        .env_clear()
        .envs(cli.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(files.0)
        .stderr(files.1)
        // Its own group: one signal stops its tools too, and a Ctrl-C meant for the server does
        // not reach it.
        .process_group(0)
        // A server restart must not kill the CLI: the next start follows it to its end.
        .kill_on_drop(false);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            let reason = format!("cannot start the claude CLI ({}): {error}; {INSTALL_HINT}", cli.bin.display());
            return Ending { exit: None, cancelled: false, spawn_error: Some(reason) };
        }
    };
    let Some(pid) = child.id().map(|p| p as i32) else {
        return Ending { exit: None, cancelled: false, spawn_error: Some("the CLI exited before it could be followed".into()) };
    };
    if let Err(error) = inner.store.mark_running(task.id, pid, start_time(pid), now_ms()) {
        tracing::error!(task_id = %task.id, %error, "cannot record a started task");
    }
    let mut stop = Stop::new(pid, inner.settings.stop_grace);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = tokio::time::sleep(TAIL_INTERVAL) => output.ingest(inner).await,
            _ = control.cancelled(), if !stop.requested => stop.request(),
            _ = stop.escalation(), if stop.requested => stop.kill(),
        }
    };
    // Tools the CLI left behind in its group go with it.
    signal_group(pid, Signal::SIGKILL);
    let exit = match status {
        Ok(status) => status.code().map(Exit::Code).or(status.signal().map(Exit::Signal)),
        Err(_) => Some(Exit::Unknown),
    };
    Ending { exit, cancelled: stop.requested, spawn_error: None }
}

/// Follows a CLI started by a previous run of the server, which is not our child: poll until it
/// is gone, reading its output file meanwhile.
async fn follow_orphan(inner: &Inner, task: &TaskRecord, control: &super::control::Control, output: &mut Output) -> Ending {
    let (Some(pid), start) = (task.pid, task.proc_start) else {
        return Ending { exit: None, cancelled: false, spawn_error: None };
    };
    let mut stop = Stop::new(pid, inner.settings.stop_grace);
    while is_running(pid, start) {
        tokio::select! {
            _ = tokio::time::sleep(TAIL_INTERVAL) => output.ingest(inner).await,
            _ = control.cancelled(), if !stop.requested => stop.request(),
            _ = stop.escalation(), if stop.requested => stop.kill(),
        }
    }
    signal_group(pid, Signal::SIGKILL);
    Ending { exit: Some(Exit::Unknown), cancelled: stop.requested, spawn_error: None }
}

/// Stopping a group: interrupt (the CLI's own way to stop), then kill after the grace period.
struct Stop {
    pgid: i32,
    grace: Duration,
    requested: bool,
    deadline: Option<tokio::time::Instant>,
}

impl Stop {
    fn new(pgid: i32, grace: Duration) -> Self {
        Self { pgid, grace, requested: false, deadline: None }
    }

    fn request(&mut self) {
        self.requested = true;
        self.deadline = Some(tokio::time::Instant::now() + self.grace);
        signal_group(self.pgid, Signal::SIGINT);
    }

    async fn escalation(&self) {
        match self.deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    }

    fn kill(&mut self) {
        signal_group(self.pgid, Signal::SIGKILL);
        // Keep polling the process; nothing more to escalate to.
        self.deadline = Some(tokio::time::Instant::now() + Duration::from_secs(3600));
    }
}

/// The task's output: spool files while the CLI runs, lines in the store as they are read.
struct Output {
    task_id: Uuid,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
    tail: SpoolTail,
    next_seq: u64,
    result: Option<(ResultLine, Value)>,
    last_text: Option<String>,
}

impl Output {
    fn new(inner: &Inner, task_id: Uuid) -> Self {
        let dir = &inner.settings.spool_dir;
        let stdout_path = dir.join(format!("{task_id}.out"));
        Self {
            task_id,
            stderr_path: dir.join(format!("{task_id}.err")),
            tail: SpoolTail::new(stdout_path.clone()),
            stdout_path,
            next_seq: 1,
            result: None,
            last_text: None,
        }
    }

    fn create_files(&self) -> std::io::Result<(std::fs::File, std::fs::File)> {
        use std::os::unix::fs::OpenOptionsExt;
        let open = |path: &PathBuf| std::fs::OpenOptions::new().create(true).write(true).truncate(true).mode(0o600).open(path);
        Ok((open(&self.stdout_path)?, open(&self.stderr_path)?))
    }

    async fn ingest(&mut self, inner: &Inner) {
        self.read(inner, false).await;
    }

    async fn ingest_rest(&mut self, inner: &Inner) {
        self.read(inner, true).await;
    }

    async fn read(&mut self, inner: &Inner, at_end: bool) {
        let lines = match self.tail.read_lines(at_end).await {
            Ok(lines) if !lines.is_empty() => lines,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!(task_id = %self.task_id, %error, "cannot read the CLI's output");
                return;
            }
        };
        let now = now_ms();
        let mut steps = Vec::new();
        for line in &lines {
            match parse_line(line) {
                StreamLine::Result(result, raw) => self.result = Some((*result, raw)),
                StreamLine::Text(text) => self.last_text = Some(text),
                StreamLine::Event(event) => steps.extend(timeline::items(&event)),
            }
        }
        if !steps.is_empty() {
            if let Ok(mut all) = inner.progress.lock() {
                let progress = all.entry(self.task_id).or_default();
                for step in &steps {
                    progress.observe(step, now);
                }
            }
        }
        // Numbered by position in the file: reading the file again after a restart stores
        // nothing twice.
        if let Err(error) = inner.store.append_events(self.task_id, self.next_seq, &lines) {
            tracing::error!(task_id = %self.task_id, %error, "cannot store output lines");
        }
        self.next_seq += lines.len() as u64;
        let _ = inner.activity.send(self.task_id);
    }

    fn stderr(&self) -> String {
        std::fs::read(&self.stderr_path)
            .map(|bytes| {
                let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
                String::from_utf8_lossy(tail).into_owned()
            })
            .unwrap_or_default()
    }

    fn remove_files(&self) {
        let _ = std::fs::remove_file(&self.stdout_path);
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

fn finish(inner: &Inner, task: &TaskRecord, output: Output, end: Ending) {
    let stderr = output.stderr();
    let words = last_words(&stderr).or(output.last_text.as_deref());
    let outcome = match end.spawn_error {
        Some(reason) => Outcome::Failed { reason, result: None },
        None => decide(RunEnd {
            result: output.result.as_ref().map(|(line, raw)| (line, raw)),
            exit: end.exit,
            last_words: words,
            cancelled: end.cancelled,
        }),
    };
    let exit_code = match end.exit {
        Some(Exit::Code(code)) => Some(code),
        Some(Exit::Signal(signal)) => Some(128 + signal),
        _ => None,
    };
    let (status, result, error) = match &outcome {
        Outcome::Completed { result } => (TaskStatus::Completed, Some(result), None),
        Outcome::Failed { reason, result } => (TaskStatus::Failed, result.as_ref(), Some(reason.as_str())),
        Outcome::Cancelled { reason, result } => (TaskStatus::Cancelled, result.as_ref(), Some(reason.as_str())),
    };
    if let Ok(mut progress) = inner.progress.lock() {
        progress.remove(&task.id);
    }
    match inner.store.finish_task(task.id, status, result, error, exit_code, now_ms()) {
        // The lines are in the store now; the spool files were only their way in.
        Ok(()) => output.remove_files(),
        Err(err) => tracing::error!(task_id = %task.id, %err, "cannot store a task's outcome; its output file is kept"),
    }
    tracing::info!(task_id = %task.id, session_id = %task.session_id, status = status.as_str(), error = error.unwrap_or(""), "task ended");
}
