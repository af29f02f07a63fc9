//! Running one task to its outcome: start the CLI (or follow the one a previous server started),
//! store its output lines as they come, stop it when asked, and decide how it ended.
//!
//! The process is watched here, on the async runtime; its output is read, parsed and stored on
//! the blocking pool, one chunk per call ([`Output::step`]), so requests keep being served while
//! a CLI prints megabytes, and a stop or a shutdown never waits for more than one chunk.

use super::output::Output;
use super::process::{is_running, signal_group, start_time};
use super::spool::last_words;
use super::stdin::Stdin;
use crate::claude::control;
use super::{now_ms, Inner};
use crate::claude::invocation::{Invocation, SessionMode};
use crate::claude::outcome::{decide, Exit, Outcome, RunEnd};
use crate::claude::version::INSTALL_HINT;
use crate::store::TaskRecord;
use app::api::timeline::Progress;
use app::api::TaskStatus;
use nix::sys::signal::Signal;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use uuid::Uuid;

/// How long the CLI may take to read its message (a long one fills the pipe until it does).
const MESSAGE_WRITE_LIMIT: Duration = Duration::from_secs(120);

/// How much lower than the server's the CLI's CPU priority is (nice(2) increment).
const CLI_NICENESS: libc::c_int = 10;

/// Why a task whose output the store could not take was ended.
const DISK_FULL: &str = "disk full: the task's output could not be stored, so it was stopped. Free some space (or raise --max-database-mb) and send it again.";

/// The longest pause between two attempts to store an outcome.
const MAX_RECORD_PAUSE: Duration = Duration::from_secs(30);

/// How often a running task's output file is read for new lines: what a waiting request or a new
/// step takes at most to reach the store (and so a client). One small read on the blocking pool.
const TAIL_INTERVAL: Duration = Duration::from_millis(50);

/// The task's output, shared with the blocking pool: one step at a time holds it.
type SharedOutput = Arc<Mutex<Output>>;

pub async fn run(inner: &Arc<Inner>, task_id: Uuid) {
    let Some(control) = inner.controls.get(task_id) else { return };
    let adopted = inner.adopted.lock().ok().and_then(|mut adopted| adopted.remove(&task_id));
    // A CLI a previous server left running is followed at once, in the slot taken for it at
    // start (or, past the cap, in none: it runs whatever we do). A stop asked for while a task
    // waits for a CLI slot ends it at once, without a slot.
    let _slot = match adopted {
        Some(slot) => slot,
        None => tokio::select! {
            slot = inner.slots.clone().acquire_owned() => match slot {
                Ok(slot) => Some(slot),
                Err(_) => return,
            },
            () = control.cancelled() => None,
        },
    };
    let task = match inner.store.run(move |store| store.get_task(task_id)).await {
        Ok(Some(task)) => task,
        Ok(None) => return, // deleted while it waited
        Err(error) => {
            tracing::error!(%task_id, %error, "cannot read a queued task");
            return;
        }
    };
    let output = match task.status {
        TaskStatus::Queued => Output::fresh(&inner.settings.spool_dir, task_id),
        // Reading on from where the last save left off reads the store and the result line.
        TaskStatus::Processing => match blocking(inner, move |inner| Output::resume(inner, task_id)).await {
            Some(output) => output,
            None => return,
        },
        _ => return,
    };
    let output: SharedOutput = Arc::new(Mutex::new(output));
    // Where the task runs: its own project (a task stored before projects were, the default).
    let project = task.project.clone().unwrap_or_else(|| inner.settings.cli.project.clone());
    let end = match task.status {
        TaskStatus::Queued if control.is_cancelled() => Ending::cancelled_before_start(),
        TaskStatus::Queued => {
            snapshot(inner, &project, task_id, Side::Before).await;
            start_and_follow(inner, &task, &control, &output).await
        }
        // Left running by a previous server: follow it if it still runs.
        TaskStatus::Processing => follow_orphan(inner, &task, &control, &output).await,
        _ => return,
    };
    read_rest(inner, &output).await;
    snapshot(inner, &project, task_id, Side::After).await;
    let ending = output.clone();
    let Some(mut outcome) = blocking(inner, move |inner| finish(inner, &task, &mut lock(&ending), end)).await else { return };
    // Kept with what it did, so the row under its reply needs no request of its own.
    if let Some(summary) = &mut outcome.summary {
        summary.changes = change_count(inner, &project, task_id).await;
    }
    record(inner, outcome, &output).await;
    // Its session is listed at its new place at once, not when the project's list is read again.
    inner.projects.project_at(&project).index.forget_files();
}

enum Side {
    Before,
    After,
}

/// Takes and keeps a snapshot of the project's working tree (when it is a git repository), for
/// the task's changes: before its CLI starts, and after it ends if one was taken before.
async fn snapshot(inner: &Arc<Inner>, project: &Path, task_id: Uuid, side: Side) {
    if matches!(side, Side::After) {
        match inner.store.run(move |store| store.snapshots(task_id)).await {
            Ok(snapshots) if snapshots.before.is_some() => {}
            _ => return,
        }
    }
    let scratch = inner.settings.spool_dir.join(format!("{task_id}.index"));
    let Some(tree) = crate::changes::git::snapshot(project, &scratch).await else { return };
    let saved = inner
        .store
        .run(move |store| match side {
            Side::Before => store.save_snapshot_before(task_id, &tree),
            Side::After => store.save_snapshot_after(task_id, &tree),
        })
        .await;
    if let Err(error) = saved {
        tracing::warn!(%task_id, %error, "cannot keep a snapshot of the working tree");
    }
}

/// How many files the task changed, with the lines added and removed; `None` for none (or
/// when they cannot be read: logged, the task ends the same).
async fn change_count(inner: &Arc<Inner>, project: &Path, task_id: Uuid) -> Option<app::api::ChangeCount> {
    let (edits, snapshots) = match inner.edits(task_id).await {
        Ok(read) => read,
        Err(error) => {
            tracing::warn!(%task_id, %error, "cannot read what the task changed");
            return None;
        }
    };
    match crate::changes::task::changes(project, edits, snapshots).await {
        Ok(changes) if !changes.files.is_empty() => Some(changes.count()),
        Ok(_) => None,
        Err(error) => {
            tracing::warn!(%task_id, %error, "cannot tell what the task changed");
            None
        }
    }
}

/// Stores the outcome, retrying while the store cannot take it (busy, or a full disk): a task
/// must not stay "processing" because a write failed once. The session's next task waits.
async fn record(inner: &Arc<Inner>, outcome: Recorded, output: &SharedOutput) {
    let mut pause = Duration::from_millis(250);
    loop {
        let recorded = outcome.clone();
        let stored = inner
            .store
            .run(move |store| {
                store.withdraw_pending_approvals(recorded.task_id, now_ms())?;
                store.finish_task(recorded.task_id, recorded.status, recorded.result.as_ref(), recorded.error.as_deref(), recorded.exit_code, now_ms(), recorded.summary.as_ref())
            })
            .await;
        match stored {
            Ok(()) => {
                inner.announce(outcome.task_id, super::announce::What::Ended);
                break;
            }
            Err(error) => {
                tracing::error!(task_id = %outcome.task_id, %error, "cannot store a task's outcome yet; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RECORD_PAUSE);
            }
        }
    }
    // The lines are in the store now; the spool files were only their way in.
    let files = output.clone();
    let _ = blocking(inner, move |_| lock(&files).remove_files()).await;
    tracing::info!(
        task_id = %outcome.task_id,
        status = outcome.status.as_str(),
        error = outcome.error.as_deref().unwrap_or(""),
        "task ended"
    );
}

/// Runs `work` on the blocking pool: file reads, parsing and SQLite stay off the async threads.
/// `None` if it panicked.
async fn blocking<T: Send + 'static>(inner: &Arc<Inner>, work: impl FnOnce(&Inner) -> T + Send + 'static) -> Option<T> {
    let inner = inner.clone();
    match tokio::task::spawn_blocking(move || work(&inner)).await {
        Ok(value) => Some(value),
        Err(error) => {
            tracing::error!(%error, "a blocking step of a task failed");
            None
        }
    }
}

/// A step that panicked leaves at worst lines unsaved: the stored state is consistent (saved in
/// one transaction) and the numbering tolerates gaps, so the output is still usable.
fn lock(output: &SharedOutput) -> std::sync::MutexGuard<'_, Output> {
    output.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Reads and stores the next chunk; whether more is waiting already.
async fn step(inner: &Arc<Inner>, output: &SharedOutput, at_end: bool) -> bool {
    read_on(inner, output, at_end).await.0
}

/// Like [`step`], and whether the CLI should end: its `result` line has been read (its work is
/// done), or the store is full (what it does next could not be kept).
async fn read_on(inner: &Arc<Inner>, output: &SharedOutput, at_end: bool) -> (bool, bool) {
    let output = output.clone();
    blocking(inner, move |inner| {
        let mut output = lock(&output);
        let more = output.step(inner, at_end);
        (more, output.result().is_some() || output.store_full())
    })
    .await
    .unwrap_or((false, false))
}

/// One tick of following a running CLI: reads on, and once its `result` is in, ends it (it would
/// wait for more input for ever); also when the store is full. Whether more is waiting already.
async fn read_and_end(inner: &Arc<Inner>, output: &SharedOutput, stop: &mut Stop) -> bool {
    let (more, done) = read_on(inner, output, false).await;
    if done {
        stop.end();
    }
    more
}

/// Once the CLI is gone: everything it wrote, a chunk per step. The file no longer grows, so
/// the steps are bounded by its size.
async fn read_rest(inner: &Arc<Inner>, output: &SharedOutput) {
    let counted = output.clone();
    let steps = blocking(inner, move |_| lock(&counted).steps_left()).await.unwrap_or(0);
    for _ in 0..steps {
        if !step(inner, output, true).await {
            break;
        }
    }
}

/// How long to wait before reading again: at once while the CLI is ahead of us.
fn pause(behind: bool) -> Duration {
    if behind { Duration::ZERO } else { TAIL_INTERVAL }
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

async fn start_and_follow(inner: &Arc<Inner>, task: &TaskRecord, control: &super::control::Control, output: &SharedOutput) -> Ending {
    let mode = if task.creates_session { SessionMode::Create(task.session_id) } else { SessionMode::Resume(task.session_id) };
    let invocation = match Invocation::new(task.request.clone(), mode) {
        Ok(invocation) => invocation,
        Err(error) => return Ending { exit: None, cancelled: false, spawn_error: Some(error.to_string()) },
    };
    let (spawned, args) = (output.clone(), invocation.args());
    let (task_id, project) = (task.id, task.project.clone());
    // Off the async threads: creating the files and the FIFO, and fork/exec, block; a burst of
    // starts must not hold up the answers.
    let started = blocking(inner, move |inner| spawn_cli(inner, task_id, project.as_deref(), args, &spawned)).await;
    let mut child = match started {
        Some(Ok(child)) => child,
        Some(Err(reason)) => return Ending { exit: None, cancelled: false, spawn_error: Some(reason) },
        None => return Ending { exit: None, cancelled: false, spawn_error: Some("the CLI could not be started".into()) },
    };
    let Some(pid) = child.id().map(|p| p as i32) else {
        return Ending { exit: None, cancelled: false, spawn_error: Some("the CLI exited before it could be followed".into()) };
    };
    if let Err(error) = inner.store.run(move |store| store.mark_running(task_id, pid, start_time(pid), now_ms())).await {
        tracing::error!(%task_id, %error, "cannot record a started task");
    }
    let stdin = match Stdin::open(&inner.stdin_path(task_id)) {
        Ok(stdin) => Some(inner.attach_stdin(task.id, stdin)),
        Err(error) => {
            tracing::error!(task_id = %task.id, %error, "cannot open the CLI's input");
            signal_group(pid, Signal::SIGKILL);
            None
        }
    };
    if let Some(stdin) = &stdin {
        // In its own task: a message longer than the pipe's buffer waits for the CLI to read it,
        // and the CLI must be watched meanwhile.
        let (stdin, message) = (stdin.clone(), invocation.stdin_message());
        tokio::spawn(async move {
            // Bounded: a CLI that dies before reading a long message must not leave this waiting.
            match tokio::time::timeout(MESSAGE_WRITE_LIMIT, stdin.write_line(&message)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::error!(%error, "cannot give the CLI its message"),
                Err(_) => tracing::error!("the CLI did not read its message within {MESSAGE_WRITE_LIMIT:?}"),
            }
        });
    }
    let mut stop = Stop::new(pid, inner.settings.stop_grace, stdin);
    let mut behind = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = tokio::time::sleep(pause(behind)) => behind = read_and_end(inner, output, &mut stop).await,
            _ = control.cancelled(), if !stop.requested => stop.request(),
            _ = stop.escalation(), if stop.deadline.is_some() => stop.kill(),
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

/// Creates the task's output files and its input FIFO, then starts the CLI (blocking). The
/// reason it could not start, as the task's failure.
fn spawn_cli(
    inner: &Inner,
    task_id: Uuid,
    project: Option<&std::path::Path>,
    args: Vec<std::ffi::OsString>,
    output: &SharedOutput,
) -> Result<tokio::process::Child, String> {
    let cli = &inner.settings.cli;
    // Checked again now: a symlink on the way may lead out of the roots since the submit.
    let project = inner
        .projects
        .recheck(project.unwrap_or(&cli.project))
        .map_err(|error| format!("the project folder cannot be used: {error}"))?;
    let files = lock(output).create_files().map_err(|error| format!("cannot create the output file: {error}"))?;
    let child_stdin = Stdin::create(&inner.stdin_path(task_id)).map_err(|error| format!("cannot create the CLI's input: {error}"))?;
    let mut command = tokio::process::Command::new(&cli.bin);
    command
        .args(args)
        .current_dir(&project)
        .env_clear()
        .envs(cli.env.iter().map(|(k, v)| (k, v)))
        .stdin(child_stdin)
        .stdout(files.0)
        .stderr(files.1)
        // Its own group: one signal stops its tools too, and a Ctrl-C meant for the server does
        // not reach it.
        .process_group(0)
        // A server restart must not kill the CLI: the next start follows it to its end.
        .kill_on_drop(false);
    // SAFETY: between fork and exec the child only makes one system call, nice(2), which is
    // async-signal-safe, and touches no memory of the parent's.
    unsafe {
        command.pre_exec(|| {
            // Below the server: when the CLI and its tools (builds, test runs) take the cores,
            // the answers to the phone come first. Its tools inherit the lower priority.
            let _ = libc::nice(CLI_NICENESS);
            Ok(())
        });
    }
    command.spawn().map_err(|error| format!("cannot start the claude CLI ({}): {error}; {INSTALL_HINT}", cli.bin.display()))
}

/// Follows a CLI started by a previous run of the server, which is not our child: poll until it
/// is gone, reading its output file meanwhile.
async fn follow_orphan(inner: &Arc<Inner>, task: &TaskRecord, control: &super::control::Control, output: &SharedOutput) -> Ending {
    let (Some(pid), start) = (task.pid, task.proc_start) else {
        return Ending { exit: None, cancelled: false, spawn_error: None };
    };
    // Its input is still there: answers and interrupts reach it as before the restart.
    let stdin = Stdin::open(&inner.stdin_path(task.id)).ok().map(|stdin| inner.attach_stdin(task.id, stdin));
    let mut stop = Stop::new(pid, inner.settings.stop_grace, stdin);
    let mut behind = false;
    while is_running(pid, start) {
        tokio::select! {
            _ = tokio::time::sleep(pause(behind)) => behind = read_and_end(inner, output, &mut stop).await,
            _ = control.cancelled(), if !stop.requested => stop.request(),
            _ = stop.escalation(), if stop.deadline.is_some() => stop.kill(),
        }
    }
    signal_group(pid, Signal::SIGKILL);
    Ending { exit: Some(Exit::Unknown), cancelled: stop.requested, spawn_error: None }
}

/// Ending a group. A stop asked for by the user interrupts the turn through the CLI's input (it
/// answers with a `result`; SIGINT for a CLI without our input, started by an older version);
/// a CLI whose `result` was read has done its work and is terminated, since it would otherwise
/// wait for more input for ever. Either way the group is killed after the grace period.
struct Stop {
    pgid: i32,
    grace: Duration,
    stdin: Option<Arc<Stdin>>,
    /// The user asked for the stop.
    requested: bool,
    /// SIGTERM was sent after the `result`.
    terminated: bool,
    /// When the group is killed, once ending has begun.
    deadline: Option<tokio::time::Instant>,
}

impl Stop {
    fn new(pgid: i32, grace: Duration, stdin: Option<Arc<Stdin>>) -> Self {
        Self { pgid, grace, stdin, requested: false, terminated: false, deadline: None }
    }

    fn request(&mut self) {
        self.requested = true;
        self.begin();
        match self.stdin.clone() {
            Some(stdin) => {
                let pgid = self.pgid;
                tokio::spawn(async move {
                    if stdin.write_line(&control::interrupt(&format!("stop-{pgid}"))).await.is_err() {
                        signal_group(pgid, Signal::SIGINT);
                    }
                });
            }
            None => {
                signal_group(self.pgid, Signal::SIGINT);
            }
        }
    }

    /// The `result` is in: terminate the CLI (once).
    fn end(&mut self) {
        if !self.terminated {
            self.terminated = true;
            self.begin();
            signal_group(self.pgid, Signal::SIGTERM);
        }
    }

    fn begin(&mut self) {
        let deadline = tokio::time::Instant::now() + self.grace;
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
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

/// How a task ended, as it is stored.
#[derive(Clone)]
struct Recorded {
    task_id: Uuid,
    status: TaskStatus,
    result: Option<serde_json::Value>,
    error: Option<String>,
    exit_code: Option<i32>,
    /// What it did, in counts: kept with the outcome.
    summary: Option<Progress>,
}

/// Stores the tail of the output and decides the outcome (blocking).
fn finish(inner: &Inner, task: &TaskRecord, output: &mut Output, end: Ending) -> Recorded {
    output.store_tail(inner);
    let stderr = output.stderr();
    let words = last_words(&stderr).or(output.last_text());
    let outcome = match end.spawn_error {
        Some(reason) => Outcome::Failed { reason, result: None },
        None if output.store_full() => Outcome::Failed { reason: DISK_FULL.into(), result: None },
        None => decide(RunEnd {
            result: output.result().map(|(line, raw)| (line, raw)),
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
    let summary = inner.progress.lock().ok().and_then(|mut progress| progress.remove(&task.id));
    inner.drafts.remove(task.id);
    inner.detach_stdin(task.id);
    Recorded { task_id: task.id, status, result: result.cloned(), error: error.map(str::to_owned), exit_code, summary }
}
