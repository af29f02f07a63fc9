//! The task runner: the one code path behind both doors (REST routes and server functions).
//!
//! A submitted task is stored, then queued behind the earlier tasks of its session (the CLI must
//! never run twice on one session) and behind a global cap on CLI processes. Its output lines and
//! outcome go to the store as they happen, so a poll, a restart or a crash loses nothing.
//!
//! Bounds: at most `max_queued_per_session` unfinished tasks per session and `max_queued_total`
//! in all (a submit past either is refused, [`QueueFull`]); what each task stores of its output
//! is capped in [`cap`], and read back a page at a time (`store::PageLimit`: 500 lines or 1 MiB).

mod announce;
mod cap;
mod approvals;
mod control;
mod drafts;
mod execute;
mod output;
mod process;
mod projects;
mod sessions;
mod spool;
mod stdin;

pub use approvals::ApprovalError;
pub use sessions::SessionError;

use crate::changes::edits::ToolEdits;
use crate::changes::task::Snapshots;
use crate::claude::invocation::{validate, InvalidRequest};
use crate::projects::{ProjectError, Projects};
use crate::store::{AuditEntry, LinesPage, NewTask, PageLimit, Store, StoreError, TaskRecord};
use app::api::timeline::Progress;
use app::api::{Caller, ChatRequest, EventsPage, SessionRef, Submitted, TaskStatus, TaskView, Transcript};
use control::Controls;
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, Semaphore};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    #[error("no task {0} in this session")]
    TaskNotFound(Uuid),
    #[error("no session {0} in this project")]
    SessionNotFound(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot prepare {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    QueueFull(#[from] QueueFull),
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Project(#[from] ProjectError),
}

/// A submit refused because too many tasks wait already (queued or running).
#[derive(Debug, thiserror::Error)]
pub enum QueueFull {
    #[error("this session already has {0} unfinished tasks, the most it may have; wait for one to finish")]
    Session(usize),
    #[error("the server already has {0} unfinished tasks, the most it accepts; try again when some have finished")]
    Total(usize),
}

/// How to start the CLI.
#[derive(Clone, Debug)]
pub struct CliSettings {
    pub bin: PathBuf,
    /// The canonical default project: the CLI's cwd when a task names no other.
    pub project: PathBuf,
    /// The CLI's whole environment (see `claude::environment`): nothing else is inherited.
    pub env: Vec<(OsString, OsString)>,
}

#[derive(Clone, Debug)]
pub struct RunnerSettings {
    pub cli: CliSettings,
    /// Every project a task may run in, and their sessions.
    pub projects: Arc<Projects>,
    /// Where the CLI's output files live while it runs.
    pub spool_dir: PathBuf,
    pub max_concurrent: usize,
    /// An approval left unanswered this long is denied.
    pub approval_timeout: Duration,
    /// Grace between the interrupt and the kill when a task is stopped.
    pub stop_grace: Duration,
    /// Unfinished (queued or running) tasks one session may have; a further submit is refused.
    pub max_queued_per_session: usize,
    /// Unfinished tasks in all; a further submit is refused.
    pub max_queued_total: usize,
}

#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    settings: RunnerSettings,
    projects: Arc<Projects>,
    /// Where notifications go (Web Push): never waited on.
    notifier: crate::push::Notifier,
    slots: Arc<Semaphore>,
    /// Per session, its unfinished tasks in submit order; the front one is the one running (or
    /// about to). A session has an entry exactly while its worker lives. Bounded by the settings'
    /// `max_queued_*` at submit.
    queues: Mutex<HashMap<Uuid, VecDeque<Uuid>>>,
    /// Per session, the places in line held by submits whose task is being stored: counted by
    /// the room check, so two submits cannot both take the last place, without holding a lock
    /// while the store works (a burst of submits would otherwise pass one at a time).
    admission: Mutex<HashMap<Uuid, usize>>,
    controls: Controls,
    /// Task ids, sent when a task reaches its outcome.
    finished: broadcast::Sender<Uuid>,
    /// Task ids, sent when a task has new output lines.
    activity: broadcast::Sender<Uuid>,
    /// What each running task is doing, from its output so far.
    progress: Mutex<HashMap<Uuid, Progress>>,
    /// The reply each running task is writing (`--include-partial-messages`).
    drafts: drafts::Drafts,
    /// Finished tasks as clients see them: they no longer change, and polling a finished task is
    /// the hottest read there is (clients poll until they notice the end, then often again).
    finished_views: Mutex<HashMap<Uuid, Arc<TaskView>>>,
    /// The stdin of each running CLI (see `stdin`), for answers and interrupts.
    stdins: Mutex<HashMap<Uuid, Arc<stdin::Stdin>>>,
    /// The CLIs a previous server left running, each with the CLI slot taken for it at start
    /// (none past the cap: it runs whatever we do).
    adopted: Mutex<HashMap<Uuid, Option<tokio::sync::OwnedSemaphorePermit>>>,
}

/// Finished views kept in memory at most; the cache starts over when full.
const FINISHED_VIEWS_CACHED: usize = 4096;

/// How many of a session's latest tasks come with its transcript.
const SESSION_TASKS_SHOWN: usize = 50;

/// Runs work that blocks (the disk, a long lock) on tokio's blocking pool; a panic there is
/// `Interrupted`, as for the store's own work.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, RunnerError> {
    tokio::task::spawn_blocking(work).await.map_err(|_| RunnerError::Store(StoreError::Interrupted))
}

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Runner {
    /// Creates the runner and picks up what the last run left: queued tasks are queued again,
    /// running ones are followed to their end or ended as interrupted.
    pub fn start(store: Arc<Store>, settings: RunnerSettings, notifier: crate::push::Notifier) -> Result<Self, RunnerError> {
        std::fs::create_dir_all(&settings.spool_dir)
            .map_err(|source| RunnerError::Io { path: settings.spool_dir.clone(), source })?;
        let projects = settings.projects.clone();
        let runner = Self {
            inner: Arc::new(Inner {
                store,
                slots: Arc::new(Semaphore::new(settings.max_concurrent.max(1))),
                settings,
                projects,
                notifier,
                queues: Mutex::default(),
                admission: Mutex::default(),
                controls: Controls::default(),
                finished: broadcast::channel(1024).0,
                activity: broadcast::channel(4096).0,
                progress: Mutex::default(),
                drafts: drafts::Drafts::default(),
                finished_views: Mutex::default(),
                stdins: Mutex::default(),
                adopted: Mutex::default(),
            }),
        };
        for task in runner.inner.store.unfinished_tasks()? {
            // A CLI left running by the previous server runs now, whatever else starts: its place
            // under the cap is taken before any queued task can take it.
            if task.status == TaskStatus::Processing {
                let slot = runner.inner.slots.clone().try_acquire_owned().ok();
                if let Ok(mut adopted) = runner.inner.adopted.lock() {
                    adopted.insert(task.id, slot);
                }
            }
            runner.enqueue(task.session_id, task.id);
        }
        Ok(runner)
    }

    pub async fn submit(&self, caller: &Caller, session: SessionRef, request: ChatRequest) -> Result<Submitted, RunnerError> {
        validate(&request)?;
        let (session_id, creates_session) = match session {
            SessionRef::New => (Uuid::new_v4(), true),
            SessionRef::Existing(id) => (id, false),
        };
        let project = self.project_for(session, request.project.clone()).await?;
        let id = Uuid::new_v4();
        let place = self.inner.hold_place(session_id)?;
        let created_at = now_ms();
        let entry = AuditEntry::now("task_submitted", caller).session(session_id).task(id);
        let earlier = self
            .inner
            .store
            .run(move |store| {
                let earlier = store.insert_task(&NewTask { id, session_id, creates_session, request: &request, created_at, project: &project })?;
                // In the same trip to the blocking pool as the task: a submit waits for one, not two.
                if earlier.is_none()
                    && let Err(error) = store.append_audit(&entry) {
                    tracing::warn!(%error, "cannot write the audit log");
                }
                Ok(earlier)
            })
            .await?;
        if let Some(earlier) = earlier {
            // The same message sent again: its task, as it stands (the place in line goes back).
            return Ok(Submitted { task_id: earlier.id, status: earlier.status, session_id: earlier.session_id });
        }
        let ahead = place.take(|| self.enqueue(session_id, id));
        let first_in_line = ahead == 0;
        let status = if first_in_line && self.inner.slots.available_permits() > 0 {
            TaskStatus::Processing
        } else {
            TaskStatus::Queued
        };
        Ok(Submitted { task_id: id, status, session_id })
    }

    /// The task as a client sees it. `session` must be `new` or the task's own session.
    pub async fn task(&self, session: SessionRef, task_id: Uuid) -> Result<Arc<TaskView>, RunnerError> {
        let cached = self.inner.finished_views.lock().ok().and_then(|views| views.get(&task_id).cloned());
        if let Some(view) = cached {
            return match session {
                SessionRef::Existing(id) if id != view.session_id => Err(RunnerError::TaskNotFound(task_id)),
                _ => Ok(view),
            };
        }
        let view = Arc::new(self.inner.view(self.owned_task(session, task_id).await?).await);
        if view.status.is_finished()
            && let Ok(mut views) = self.inner.finished_views.lock() {
            if views.len() >= FINISHED_VIEWS_CACHED {
                views.clear();
            }
            views.insert(task_id, view.clone());
        }
        Ok(view)
    }

    fn forget_view(&self, task_id: Option<Uuid>) {
        if let Ok(mut views) = self.inner.finished_views.lock() {
            match task_id {
                Some(id) => {
                    views.remove(&id);
                }
                None => views.clear(),
            }
        }
    }

    /// Stops a queued or running task (its whole process group: interrupt, then kill after the
    /// grace period) and answers with how it ended. A finished task is answered as it is.
    pub async fn cancel(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<TaskView, RunnerError> {
        let task = self.owned_task(session, task_id).await?;
        if !task.status.is_finished() {
            self.audit(caller, "task_cancelled", task.session_id, task_id).await;
            self.cancel_and_wait(task_id).await;
        }
        Ok(self.task(session, task_id).await?.as_ref().clone())
    }

    /// A page of the task's output lines after `after`, and its status when they were read.
    pub async fn events_page(&self, session: SessionRef, task_id: Uuid, after: u64, limit: PageLimit) -> Result<(LinesPage, TaskStatus), RunnerError> {
        let task = self.owned_task(session, task_id).await?;
        let page = self.inner.store.run(move |store| store.lines_after(task_id, after, limit)).await?;
        Ok((page, task.status))
    }

    /// The page of the task's output lines just before `before` (earlier steps, on demand).
    pub async fn events_before(&self, session: SessionRef, task_id: Uuid, before: u64, limit: PageLimit) -> Result<LinesPage, RunnerError> {
        self.owned_task(session, task_id).await?;
        Ok(self.inner.store.run(move |store| store.lines_before(task_id, before, limit)).await?)
    }

    /// Like [`Runner::events_page`], but waits up to `wait` for a first line, the task's end, or
    /// (with `partial_after`) words of the reply newer than that version: the long-poll form, for
    /// clients behind a proxy that holds a streamed answer back until it ends (a Cloudflare quick
    /// tunnel does that to Server-Sent Events). The page says where to continue: after its last
    /// line, or where it was asked from; and carries the reply being written, if any.
    pub async fn events_wait(
        &self,
        session: SessionRef,
        task_id: Uuid,
        after: u64,
        limit: PageLimit,
        wait: Duration,
        partial_after: Option<u64>,
    ) -> Result<EventsPage, RunnerError> {
        let mut activity = self.inner.activity.subscribe();
        let mut finished = self.inner.finished.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Re-read on every wake-up (also on a lagged channel): the store is the truth.
            let (page, status) = self.events_page(session, task_id, after, limit).await?;
            let partial = if status.is_finished() { None } else { self.inner.drafts.get(task_id) };
            let new_words = partial_after.is_some_and(|seen| partial.as_ref().is_some_and(|p| p.version > seen));
            if !page.lines.is_empty() || new_words || status.is_finished() || tokio::time::Instant::now() >= deadline {
                let after = page.lines.last().map_or(after, |(seq, _)| *seq);
                return Ok(EventsPage { status, events: page.lines, after, more: page.more, partial });
            }
            tokio::select! {
                _ = finished.recv() => {}
                () = activity_of(&mut activity, task_id) => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// The folder the task ran in, the file edits its output lines record, and the working-tree
    /// snapshots taken around it: what its changes are built from (`changes::task`).
    pub async fn edits(&self, session: SessionRef, task_id: Uuid) -> Result<(std::path::PathBuf, ToolEdits, Snapshots), RunnerError> {
        let task = self.owned_task(session, task_id).await?;
        let project = task.project.unwrap_or_else(|| self.inner.settings.cli.project.clone());
        let (edits, snapshots) = self.inner.edits(task_id).await?;
        Ok((project, edits, snapshots))
    }

    /// The default project's folder.
    pub fn project(&self) -> &std::path::Path {
        &self.inner.settings.cli.project
    }

    /// The reply `task_id` is writing, while it runs (`--include-partial-messages`).
    pub fn partial(&self, task_id: Uuid) -> Option<app::api::PartialText> {
        self.inner.drafts.get(task_id)
    }

    /// Wakes on new output lines (or words of a reply) of any task (receivers filter by id).
    pub fn activity(&self) -> broadcast::Receiver<Uuid> {
        self.inner.activity.subscribe()
    }

    /// Stops the task if it still runs (its whole process group), then forgets it.
    pub async fn delete(&self, caller: &Caller, session: SessionRef, task_id: Uuid) -> Result<(), RunnerError> {
        let task = self.owned_task(session, task_id).await?;
        self.audit(caller, "task_deleted", task.session_id, task_id).await;
        if !task.status.is_finished() {
            self.cancel_and_wait(task_id).await;
        }
        self.inner.store.run(move |store| store.delete_task(task_id)).await?;
        self.forget_view(Some(task_id));
        Ok(())
    }

    /// Like [`Runner::wait`], for a task that must belong to `session`.
    pub async fn wait_in_session(&self, session: SessionRef, task_id: Uuid, timeout: Duration) -> Result<TaskView, RunnerError> {
        self.owned_task(session, task_id).await?;
        self.wait(task_id, timeout).await
    }

    /// Waits until the task has an outcome, or asks for a decision it did not ask for when the
    /// wait began, or `timeout` passes; returns it as it then stands (read again at the end).
    pub async fn wait(&self, task_id: Uuid, timeout: Duration) -> Result<TaskView, RunnerError> {
        let mut finished = self.inner.finished.subscribe();
        let mut activity = self.inner.activity.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        let asked_before: Vec<String> =
            self.inner.store.run(move |store| store.pending_approvals(task_id)).await?.into_iter().map(|a| a.id).collect();
        loop {
            // Re-read on every wake-up (also on a lagged channel): the store is the truth.
            let task = self.inner.task_record(task_id).await?;
            if task.status.is_finished() || tokio::time::Instant::now() >= deadline {
                return Ok(self.inner.view(task).await);
            }
            let view = self.inner.view(task).await;
            if view.pending_approvals.iter().any(|a| !asked_before.contains(&a.id)) {
                return Ok(view);
            }
            tokio::select! {
                _ = finished.recv() => {}
                () = activity_of(&mut activity, task_id) => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    pub async fn transcript(&self, session_id: Uuid) -> Result<Transcript, RunnerError> {
        let project = self.session_project(session_id).await?;
        let turns = tokio::task::spawn_blocking(move || {
            std::fs::File::open(project?.index.transcript_path(session_id))
                .ok()
                .map(|file| crate::claude::transcript::read_turns(std::io::BufReader::new(file)))
        })
        .await
        .ok()
        .flatten();
        let records = self.inner.store.run(move |store| store.session_tasks(session_id, SESSION_TASKS_SHOWN)).await?;
        let mut tasks = Vec::with_capacity(records.len());
        for record in records {
            tasks.push(self.inner.view(record).await);
        }
        match turns {
            Some(turns) => Ok(Transcript { session_id: Some(session_id), turns, tasks }),
            // A session this service just created has no transcript yet: it is empty, not unknown.
            None if !tasks.is_empty() => Ok(Transcript { session_id: Some(session_id), turns: Vec::new(), tasks }),
            None => Err(RunnerError::SessionNotFound(session_id)),
        }
    }

    /// Deletes finished tasks, and audit entries, older than `age`.
    pub async fn purge_older_than(&self, age: Duration) -> Result<usize, RunnerError> {
        let before = now_ms() - age.as_millis() as i64;
        let purged = self
            .inner
            .store
            .run(move |store| {
                store.purge_audit_before(before)?;
                store.purge_finished_before(before)
            })
            .await?;
        self.forget_view(None);
        Ok(purged)
    }

    /// How many CLI processes run now.
    pub fn running(&self) -> usize {
        self.inner.settings.max_concurrent.max(1) - self.inner.slots.available_permits()
    }

    async fn audit(&self, caller: &Caller, event: &'static str, session_id: Uuid, task_id: Uuid) {
        let entry = AuditEntry::now(event, caller).session(session_id).task(task_id);
        if let Err(error) = self.inner.store.run(move |store| store.append_audit(&entry)).await {
            tracing::warn!(%error, event, "cannot write the audit log");
        }
    }

    async fn owned_task(&self, session: SessionRef, task_id: Uuid) -> Result<TaskRecord, RunnerError> {
        let task = self.inner.task_record(task_id).await?;
        match session {
            SessionRef::Existing(id) if id != task.session_id => Err(RunnerError::TaskNotFound(task_id)),
            _ => Ok(task),
        }
    }

    /// Puts the task in its session's line; starts the session's worker if it has none. Returns
    /// how many tasks are ahead of it.
    fn enqueue(&self, session_id: Uuid, task_id: Uuid) -> usize {
        self.inner.controls.register(task_id);
        let Ok(mut queues) = self.inner.queues.lock() else { return 0 };
        if let Some(queue) = queues.get_mut(&session_id) {
            queue.push_back(task_id);
            return queue.len() - 1;
        }
        queues.insert(session_id, VecDeque::from([task_id]));
        tokio::spawn(session_worker(self.inner.clone(), session_id));
        0
    }

    async fn cancel_and_wait(&self, task_id: Uuid) {
        let mut finished = self.inner.finished.subscribe();
        if !self.inner.controls.cancel(task_id) {
            return;
        }
        let deadline = tokio::time::Instant::now() + self.inner.settings.stop_grace * 4 + Duration::from_secs(5);
        loop {
            match self.inner.task_record(task_id).await {
                Ok(task) if !task.status.is_finished() => {}
                _ => return,
            }
            match tokio::time::timeout_at(deadline, finished.recv()).await {
                Ok(_) => continue,
                Err(_) => return,
            }
        }
    }
}

/// A place in line held by a submit; given back when dropped (the submit failed) or taken by
/// its task.
struct Place<'a> {
    inner: &'a Inner,
    session_id: Uuid,
    taken: bool,
}

impl Place<'_> {
    /// Puts the task in line (`enqueue`) and gives the place up in one step, so the room check
    /// never counts the task twice or not at all.
    fn take<T>(mut self, enqueue: impl FnOnce() -> T) -> T {
        let mut held = self.inner.admission.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let queued = enqueue();
        release(&mut held, self.session_id);
        self.taken = true;
        queued
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if !self.taken {
            release(&mut self.inner.admission.lock().unwrap_or_else(std::sync::PoisonError::into_inner), self.session_id);
        }
    }
}

fn release(held: &mut HashMap<Uuid, usize>, session_id: Uuid) {
    if let Some(count) = held.get_mut(&session_id) {
        *count -= 1;
        if *count == 0 {
            held.remove(&session_id);
        }
    }
}

/// Resolves when `task_id` has new output (or the channel lagged, which may hide it).
async fn activity_of(activity: &mut broadcast::Receiver<Uuid>, task_id: Uuid) {
    loop {
        match activity.recv().await {
            Ok(id) if id != task_id => continue,
            _ => return,
        }
    }
}

/// Runs a session's tasks one at a time, in submit order, until its line is empty.
async fn session_worker(inner: Arc<Inner>, session_id: Uuid) {
    loop {
        let next = {
            let Ok(mut queues) = inner.queues.lock() else { return };
            match queues.get(&session_id).and_then(|q| q.front().copied()) {
                Some(id) => id,
                None => {
                    queues.remove(&session_id);
                    return;
                }
            }
        };
        execute::run(&inner, next).await;
        inner.controls.forget(next);
        // Out of the line before anyone hears it ended: a submit right after sees its place free.
        if let Ok(mut queues) = inner.queues.lock()
            && let Some(queue) = queues.get_mut(&session_id) {
            queue.retain(|id| *id != next);
        }
        let _ = inner.finished.send(next);
    }
}

impl Inner {
    fn stdin(&self, task_id: Uuid) -> Option<Arc<stdin::Stdin>> {
        self.stdins.lock().ok()?.get(&task_id).cloned()
    }

    fn attach_stdin(&self, task_id: Uuid, stdin: stdin::Stdin) -> Arc<stdin::Stdin> {
        let stdin = Arc::new(stdin);
        if let Ok(mut all) = self.stdins.lock() {
            all.insert(task_id, stdin.clone());
        }
        stdin
    }

    fn detach_stdin(&self, task_id: Uuid) {
        if let Ok(mut all) = self.stdins.lock() {
            all.remove(&task_id);
        }
    }

    fn output_path(&self, task_id: Uuid) -> PathBuf {
        output::spool_file(&self.settings.spool_dir, task_id, "out")
    }

    fn stdin_path(&self, task_id: Uuid) -> PathBuf {
        output::spool_file(&self.settings.spool_dir, task_id, "in")
    }

    /// Holds a place in line for a submit, or refuses it when its session, or the server, has as
    /// many unfinished tasks as allowed (places held by other submits count).
    fn hold_place(&self, session_id: Uuid) -> Result<Place<'_>, QueueFull> {
        // Plain counters: a panic cannot leave them inconsistent, so poisoning is ignored.
        let mut held = self.admission.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let queues = self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let in_session = queues.get(&session_id).map_or(0, VecDeque::len) + held.get(&session_id).copied().unwrap_or(0);
        if in_session >= self.settings.max_queued_per_session {
            return Err(QueueFull::Session(in_session));
        }
        let total = queues.values().map(VecDeque::len).sum::<usize>() + held.values().sum::<usize>();
        if total >= self.settings.max_queued_total {
            return Err(QueueFull::Total(total));
        }
        *held.entry(session_id).or_default() += 1;
        Ok(Place { inner: self, session_id, taken: false })
    }

    /// The task as stored; read on the blocking pool.
    async fn task_record(&self, task_id: Uuid) -> Result<TaskRecord, RunnerError> {
        self.store.run(move |store| store.get_task(task_id)).await?.ok_or(RunnerError::TaskNotFound(task_id))
    }

    async fn view(&self, task: TaskRecord) -> TaskView {
        let queue_position = match task.status {
            TaskStatus::Queued => self
                .queues
                .lock()
                .ok()
                .and_then(|queues| queues.get(&task.session_id)?.iter().position(|id| *id == task.id))
                .map(|ahead| ahead as u32),
            _ => None,
        };
        let progress = match task.status {
            TaskStatus::Processing => self.progress.lock().ok().and_then(|p| p.get(&task.id).cloned()),
            _ => task.summary.clone(),
        };
        let pending_approvals = match task.status {
            TaskStatus::Processing => {
                let task_id = task.id;
                self.store.run(move |store| store.pending_approvals(task_id)).await.unwrap_or_default()
            }
            _ => Vec::new(),
        };
        TaskView {
            pending_approvals,
            status: task.status,
            task_id: task.id,
            session_id: task.session_id,
            result: task.result,
            error: task.error,
            message: task.request.message,
            created_at: task.created_at,
            started_at: task.started_at,
            finished_at: task.finished_at,
            events: task.events,
            queue_position,
            progress,
        }
    }
}

impl Inner {
    /// See [`Runner::edits`].
    async fn edits(&self, task_id: Uuid) -> Result<(ToolEdits, Snapshots), RunnerError> {
        Ok(self
            .store
            .run(move |store| {
                // A page at a time: only the edits are kept, never the whole output.
                let mut edits = ToolEdits::default();
                let mut after = 0;
                loop {
                    let page = store.lines_after(task_id, after, PageLimit::MAX)?;
                    for (seq, line) in &page.lines {
                        edits.read_line(line);
                        after = *seq;
                    }
                    if !page.more {
                        break;
                    }
                }
                Ok((edits, store.snapshots(task_id)?))
            })
            .await?)
    }
}
