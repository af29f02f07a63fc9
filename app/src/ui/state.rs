//! The chat's state and the calls that change it: open a session, send, and follow a task to its
//! end, one wait at a time.

use super::address::{self, Step};
use super::backoff;
use super::browser;
use super::conversation::{build, reply_entry, Entry};
use super::live::Timeline;
use super::nudge::Nudge;
use super::outbox::{self, Unsent};
use super::request;
use crate::api::timeline::TimelineItem;
use crate::api::{
    cancel_task, decide_approval, list_projects, list_sessions, session_transcript, submit_chat, wait_task, ApprovalDecision, CallError,
    ChatRequest, PendingApproval, ProjectInfo, SessionRef, SessionSummary, Spend, TaskStatus, TaskView,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use uuid::Uuid;

/// How often a task that waits on the user is polled: the server's wait ends with the task or a
/// new request, not when a request is decided on another device, which shows here within this.
const WAITING_POLL: Duration = Duration::from_secs(1);

/// Sessions listed at most (the server's limit is 100).
const SESSIONS_LISTED: usize = 50;

/// How long a message the machine was too busy to take waits before it is sent again.
const BUSY_RETRY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy)]
pub struct ChatState {
    /// The open session; `None` is a new one (created by the first message).
    pub session: RwSignal<Option<Uuid>>,
    pub entries: RwSignal<Vec<Entry>>,
    pub tasks: RwSignal<Vec<TaskView>>,
    /// The project's sessions, archived ones aside.
    pub sessions: RwSignal<Vec<SessionSummary>>,
    /// The archived sessions, fetched while the list shows them.
    pub archived: RwSignal<Vec<SessionSummary>>,
    /// The list shows the archived sessions.
    pub show_archived: RwSignal<bool>,
    /// Every project a session may run in, most recent first.
    pub projects: RwSignal<Vec<ProjectInfo>>,
    /// The list shows only this project's sessions (an id).
    pub filter: RwSignal<Option<String>>,
    /// The list shows only the sessions matching this.
    pub query: RwSignal<String>,
    /// Where a new session starts (an id; `None`: the default project).
    pub new_project: RwSignal<Option<String>>,
    /// What was spent today and this month (the user's days).
    pub spend: RwSignal<Spend>,
    /// Counts finished listings, failed ones too: what the drawer's refresh schedule follows.
    pub listed: RwSignal<u64>,
    /// The latest listing asked for: an older answer arriving after it is dropped.
    listing: StoredValue<u64>,
    pub loading: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub offline: RwSignal<bool>,
    pub signed_out: RwSignal<bool>,
    /// The live timeline of the task being followed.
    pub timeline: Timeline,
    /// Timelines of tasks that ended while followed, folded above their reply.
    pub folded: RwSignal<HashMap<Uuid, Vec<TimelineItem>>>,
    /// What the followed task waits on (tool uses, questions, a plan), oldest first, from its
    /// polls: the same on every device, and still there after a reload.
    pub approvals: RwSignal<Vec<PendingApproval>>,
    /// Approvals decided here: a poll answered just before the decision must not bring them back.
    decided: StoredValue<HashSet<String>>,
    /// Requests seen already: each raises one notification at most.
    seen: StoredValue<HashSet<String>>,
    nudge: StoredValue<Nudge>,
    /// The task being followed; a new follow replaces the old one.
    watching: RwSignal<Option<Uuid>>,
    /// The conversation is kept at its newest content (see `follow`).
    pub pinned: RwSignal<bool>,
    generation: StoredValue<u64>,
    /// Messages on their way to the machine (by id): one try at a time each.
    sending: StoredValue<HashSet<Uuid>>,
}

impl ChatState {
    pub fn new(offline: RwSignal<bool>) -> Self {
        let nudge = StoredValue::new(Nudge::default());
        Self {
            session: RwSignal::new(None),
            entries: RwSignal::new(Vec::new()),
            tasks: RwSignal::new(Vec::new()),
            sessions: RwSignal::new(Vec::new()),
            archived: RwSignal::new(Vec::new()),
            show_archived: RwSignal::new(false),
            projects: RwSignal::new(Vec::new()),
            filter: RwSignal::new(None),
            query: RwSignal::new(String::new()),
            new_project: RwSignal::new(None),
            spend: RwSignal::new(Spend::default()),
            listed: RwSignal::new(0),
            listing: StoredValue::new(0),
            loading: RwSignal::new(false),
            notice: RwSignal::new(None),
            offline,
            signed_out: RwSignal::new(false),
            timeline: Timeline::new(nudge),
            folded: RwSignal::new(HashMap::new()),
            approvals: RwSignal::new(Vec::new()),
            decided: StoredValue::new(HashSet::new()),
            seen: StoredValue::new(HashSet::new()),
            nudge,
            watching: RwSignal::new(None),
            pinned: RwSignal::new(true),
            generation: StoredValue::new(0),
            sending: StoredValue::new(HashSet::new()),
        }
    }

    fn failed(self, error: &CallError) {
        if error.is_signed_out() {
            self.signed_out.set(true);
        } else if matches!(error, CallError::Unreachable) {
            self.offline.set(true);
        } else {
            self.notice.set(Some(error.to_string()));
        }
    }

    /// Lists the sessions again (and the archived ones, while they are shown), with the spend.
    pub fn refresh_sessions(self) {
        self.listing.update_value(|n| *n += 1);
        let mine = self.listing.get_value();
        let with_archived = self.show_archived.get_untracked();
        let (project, query) = (self.filter.get_untracked(), self.query.get_untracked());
        let q = (!query.trim().is_empty()).then_some(query);
        spawn_local(async move {
            let offset = browser::utc_offset_minutes();
            let listed = list_sessions(SESSIONS_LISTED, false, offset, project.clone(), q.clone()).await;
            let archived = if with_archived { Some(list_sessions(SESSIONS_LISTED, true, offset, project, q).await) } else { None };
            if self.listing.get_value() != mine {
                return; // a newer listing was asked for
            }
            match listed {
                Ok(list) => {
                    self.offline.set(false);
                    self.sessions.set(list.sessions);
                    self.spend.set(list.spend);
                }
                Err(e) => self.failed(&e),
            }
            match archived {
                Some(Ok(list)) => self.archived.set(list.sessions),
                Some(Err(e)) => self.failed(&e),
                None => {}
            }
            self.listed.update(|n| *n += 1);
        });
    }

    /// Lists the projects again (most recent first).
    pub fn refresh_projects(self) {
        spawn_local(async move {
            match list_projects().await {
                Ok(projects) => self.projects.set(projects),
                Err(e) => self.failed(&e),
            }
        });
    }

    /// The name of the project a session runs in (the open one, or the one a new session starts in).
    pub fn project_name(self, session: Option<Uuid>) -> Option<String> {
        match session {
            Some(id) => self.listed_session(id, |s| s.project_name.clone()).flatten(),
            None => {
                let chosen = self.new_project.get();
                self.projects.with(|all| all.iter().find(|p| chosen.as_ref().map_or(p.default, |id| *id == p.id)).map(|p| p.name.clone()))
            }
        }
    }

    /// The id of the project a session runs in (as [`ChatState::project_name`]); `default` until
    /// the lists say.
    pub fn project_id(self, session: Option<Uuid>) -> String {
        let id = match session {
            Some(id) => self.listed_session(id, |s| s.project_id.clone()).flatten(),
            None => self.new_project.get_untracked(),
        };
        id.unwrap_or_else(|| "default".to_owned())
    }

    /// The session as the lists know it (archived or not).
    pub fn listed_session<T>(self, id: Uuid, read: impl Fn(&SessionSummary) -> T) -> Option<T> {
        let find = |list: &Vec<SessionSummary>| list.iter().find(|s| s.session_id == id).map(&read);
        self.sessions.with(find).or_else(|| self.archived.with(find))
    }

    /// Shows a session as the server now has it (renamed, archived or brought back) in the right
    /// list, at once.
    pub fn replace_session(self, summary: SessionSummary) {
        let id = summary.session_id;
        let (into, from) = if summary.archived { (self.archived, self.sessions) } else { (self.sessions, self.archived) };
        from.update(|list| list.retain(|s| s.session_id != id));
        into.update(|list| match list.iter_mut().find(|s| s.session_id == id) {
            Some(listed) => *listed = summary,
            None => {
                list.push(summary);
                list.sort_by_key(|s| std::cmp::Reverse(s.timestamp));
            }
        });
    }

    /// Takes a deleted session off the lists; the open one gives way to a blank new session.
    pub fn forget_session(self, id: Uuid) {
        for list in [self.sessions, self.archived] {
            list.update(|list| list.retain(|s| s.session_id != id));
        }
        if self.session.get_untracked() == Some(id) {
            self.open(None);
        }
    }

    /// Goes to a session (or a blank new one): a step in the browser's history.
    pub fn open(self, session: Option<Uuid>) {
        address::show(session, Step::Push);
        self.show(session);
    }

    /// Shows a session (or a blank new one) and follows its unfinished task, if any. The address
    /// is the caller's: it named the session already (Back), or will (see `open`).
    pub fn show(self, session: Option<Uuid>) {
        self.stop_following();
        self.pinned.set(true);
        self.session.set(session);
        self.notice.set(None);
        browser::remember_session(session);
        self.entries.set(Vec::new());
        self.tasks.set(Vec::new());
        match session {
            Some(id) => {
                self.loading.set(true);
                spawn_local(self.load(id));
            }
            None => self.entries.set(self.waiting_entries(None)),
        }
    }

    async fn load(self, id: Uuid) {
        let transcript = session_transcript(id).await;
        if self.session.get_untracked() != Some(id) {
            return; // the user moved on
        }
        self.loading.set(false);
        match transcript {
            Ok(transcript) => {
                self.offline.set(false);
                let mut entries = build(&transcript.turns, &transcript.tasks);
                entries.extend(self.waiting_entries(Some(id)));
                self.entries.set(entries);
                let unfinished = transcript.tasks.iter().find(|t| !t.status.is_finished()).map(|t| (t.task_id, t.pending_approvals.clone()));
                self.tasks.set(transcript.tasks);
                if let Some((task, waiting)) = unfinished {
                    self.follow(id, task);
                    self.set_approvals(id, waiting);
                }
            }
            Err(e) => self.failed(&e),
        }
    }

    /// Sends a message in the open session, with the permission mode and model picked for it
    /// (`None`: the CLI's defaults). While a task of the session runs, the server queues it. The message is
    /// kept in the outbox until the machine accepts it.
    pub fn send(self, text: String, permission_mode: Option<String>, model: Option<String>) {
        let session = self.session.get_untracked();
        let message = Unsent {
            id: Uuid::new_v4(),
            session,
            text,
            permission_mode,
            model,
            project: if session.is_none() { self.new_project.get_untracked() } else { None },
            automatic: true,
            reason: None,
        };
        outbox::put(&message);
        self.notice.set(None);
        // The user acted: show them what follows.
        self.pinned.set(true);
        let behind = self.watching.get_untracked().is_some();
        let (id, text) = (message.id, message.text.clone());
        // First, so that the entry shows as on its way (no Stop yet) from its first rendering.
        self.deliver(message);
        self.entries.update(|entries| {
            entries.push(Entry::User { text });
            entries.push(Entry::Working { task_id: id, since_ms: browser::now_ms(), queued: behind, ahead: None });
        });
    }

    /// Sends every message waiting in the outbox that may go by itself (each to the session it
    /// was written in): once signed in, and whenever the machine can be reached again.
    pub fn send_waiting(self) {
        for message in outbox::load().into_iter().filter(|m| m.automatic) {
            self.deliver(message);
        }
    }

    /// "Resend" on a message that was not sent.
    pub fn resend(self, id: Uuid) {
        if let Some(message) = outbox::get(id) {
            self.deliver(message);
        }
    }

    /// "Discard" on a message that was not sent: it goes, with its bubble.
    pub fn discard(self, id: Uuid) {
        outbox::remove(id);
        self.entries.update(|entries| {
            if let Some(at) = entries.iter().position(|e| matches!(e, Entry::Unsent { id: i, .. } if *i == id)) {
                entries.remove(at);
                if at > 0 && matches!(entries[at - 1], Entry::User { .. }) {
                    entries.remove(at - 1);
                }
            }
        });
    }

    /// "Retry" on a failed task: its message again, as a new message in this session.
    pub fn retry(self, failed_task: Option<Uuid>) {
        let message = failed_task.and_then(|id| self.tasks.with_untracked(|tasks| tasks.iter().find(|t| t.task_id == id).map(|t| t.message.clone())));
        if let Some(message) = message {
            self.send(message, None, None);
        }
    }

    /// One try at handing `message` to the machine; kept in the outbox, shown as unsent, when it
    /// fails.
    fn deliver(self, message: Unsent) {
        let fresh = self.sending.try_update_value(|sending| sending.insert(message.id)).unwrap_or(false);
        if !fresh {
            return; // on its way already
        }
        let behind = self.watching.get_untracked().is_some();
        self.set_pending(message.id, Entry::Working { task_id: message.id, since_ms: browser::now_ms(), queued: behind, ahead: None });
        spawn_local(async move {
            let request = ChatRequest {
                message: message.text.clone(),
                permission_mode: message.permission_mode.clone(),
                model: message.model.clone(),
                client_message_id: Some(message.id),
                project: message.project.clone(),
                ..Default::default()
            };
            let submitted = submit_chat(message.session.map_or(SessionRef::New, SessionRef::Existing), request).await;
            self.sending.update_value(|sending| {
                sending.remove(&message.id);
            });
            match submitted {
                Ok(submitted) => {
                    outbox::remove(message.id);
                    self.offline.set(false);
                    self.refresh_sessions();
                    if self.session.get_untracked() != message.session {
                        return; // written in another session: it runs there
                    }
                    if message.session.is_none() {
                        self.session.set(Some(submitted.session_id));
                        browser::remember_session(Some(submitted.session_id));
                        address::show(Some(submitted.session_id), Step::Replace);
                    }
                    // Accepted before (an answer lost on the way): the session as it stands.
                    if submitted.status.is_finished() || self.tasks.with_untracked(|t| t.iter().any(|t| t.task_id == submitted.task_id)) {
                        self.load(submitted.session_id).await;
                        return;
                    }
                    let queued = submitted.status == TaskStatus::Queued;
                    self.set_pending(message.id, Entry::Working { task_id: submitted.task_id, since_ms: browser::now_ms(), queued, ahead: None });
                    if self.watching.get_untracked().is_none() {
                        self.follow(submitted.session_id, submitted.task_id);
                    }
                }
                Err(e) => {
                    // Worth another try by itself only when the machine was not reached, was
                    // busy, or the user must sign in first; a refusal needs the user.
                    let automatic = matches!(e, CallError::Unreachable) || matches!(e.status(), Some(401 | 429 | 502 | 503 | 504));
                    let reason = if e.is_signed_out() { "Signed out.".to_owned() } else { e.to_string() };
                    let message = Unsent { automatic, reason: Some(reason.clone()), ..message };
                    // Unless discarded meanwhile.
                    if outbox::get(message.id).is_some() {
                        outbox::put(&message);
                        self.set_pending(message.id, Entry::Unsent { id: message.id, reason: Some(reason), automatic });
                    }
                    if e.is_signed_out() {
                        self.signed_out.set(true);
                    } else if matches!(e, CallError::Unreachable) || matches!(e.status(), Some(502 | 504)) {
                        // A tunnel answers 502/504 when the machine behind it is gone: the
                        // reachability watch sends the message once it is back.
                        self.offline.set(true);
                    } else if automatic {
                        // Busy (503, 429): again after a pause, unless resent or discarded.
                        let id = message.id;
                        spawn_local(async move {
                            browser::sleep(BUSY_RETRY).await;
                            if outbox::get(id).is_some_and(|m| m.automatic) {
                                self.resend(id);
                            }
                        });
                    }
                }
            }
        });
    }

    /// The messages of the outbox written in `session`, as the conversation shows them.
    fn waiting_entries(self, session: Option<Uuid>) -> Vec<Entry> {
        let sending = self.sending.get_value();
        outbox::of_session(session)
            .into_iter()
            .flat_map(|m| {
                let state = if sending.contains(&m.id) {
                    Entry::Working { task_id: m.id, since_ms: browser::now_ms(), queued: false, ahead: None }
                } else {
                    Entry::Unsent { id: m.id, reason: m.reason, automatic: m.automatic }
                };
                [Entry::User { text: m.text }, state]
            })
            .collect()
    }

    /// Whether `task_id` is a message's own id, not yet a task's (its Stop has nothing to stop).
    pub fn is_unsent(self, task_id: Uuid) -> bool {
        self.sending.with_value(|s| s.contains(&task_id))
    }

    /// Replaces the entry of the pending message or task `id` (working or unsent) with `entry`.
    /// The list is touched only when that changes it: every entry re-renders (Markdown included)
    /// when it is.
    fn set_pending(self, id: Uuid, entry: Entry) {
        let index = self.entries.with_untracked(|entries| {
            entries
                .iter()
                .position(|e| matches!(e, Entry::Working { task_id, .. } | Entry::Unsent { id: task_id, .. } if *task_id == id))
                .filter(|i| entries[*i] != entry)
        });
        if let Some(index) = index {
            self.entries.update(|entries| entries[index] = entry);
        }
    }


    fn stop_following(self) {
        self.generation.update_value(|g| *g += 1);
        self.watching.set(None);
        self.timeline.stop();
        if self.approvals.with_untracked(|a| !a.is_empty()) {
            self.approvals.set(Vec::new());
        }
    }

    /// The approvals the followed task waits on, as its latest poll lists them. A request seen
    /// for the first time raises a notification when the app is in the background.
    fn set_approvals(self, session: Uuid, waiting: Vec<PendingApproval>) {
        let waiting: Vec<PendingApproval> = self.decided.with_value(|decided| waiting.into_iter().filter(|a| !decided.contains(&a.id)).collect());
        let new: Vec<PendingApproval> =
            self.seen.try_update_value(|seen| waiting.iter().filter(|a| seen.insert(a.id.clone())).cloned().collect()).unwrap_or_default();
        for approval in new {
            let title = request::headline(&approval.tool_name, &approval.input);
            let body = match approval.tool_name.as_str() {
                "AskUserQuestion" => "Tap to answer.",
                "ExitPlanMode" => "Tap to review it.",
                _ => "Tap to allow or deny.",
            };
            let tag = format!("approval-{}", approval.id);
            spawn_local(async move { browser::notify(&title, body, session, &tag).await });
        }
        if self.approvals.with_untracked(|current| *current != waiting) {
            self.approvals.set(waiting);
        }
    }

    /// Answers what the followed task waits on. On success the card goes at once and the follow
    /// loop looks again; a request decided meanwhile (on another device) or withdrawn goes too.
    /// `Err` is for the card to show.
    pub async fn decide(self, approval_id: String, decision: ApprovalDecision) -> Result<(), String> {
        let (Some(session), Some(task)) = (self.session.get_untracked(), self.watching.get_untracked()) else {
            return Err("This task is no longer running.".to_owned());
        };
        let answered = decide_approval(SessionRef::Existing(session), task, approval_id.clone(), decision).await;
        match answered {
            Ok(_) => {}
            // Decided elsewhere or withdrawn (409), or no longer waiting in the task (404): the
            // card just goes.
            Err(e) if matches!(e.status(), Some(404 | 409)) => {}
            Err(e) => {
                if e.is_signed_out() {
                    self.signed_out.set(true);
                }
                return Err(e.to_string());
            }
        }
        self.decided.update_value(|decided| {
            decided.insert(approval_id.clone());
        });
        self.approvals.update(|waiting| waiting.retain(|a| a.id != approval_id));
        self.nudge.with_value(Nudge::nudge);
        Ok(())
    }

    /// The Stop button: the server interrupts the task's process group, then kills it; the
    /// follow loop sees it end as cancelled.
    pub fn cancel(self, task: Uuid) {
        let Some(session) = self.session.get_untracked() else { return };
        spawn_local(async move {
            match cancel_task(SessionRef::Existing(session), task).await {
                // A queued task that was not followed: show the session as it now stands.
                Ok(view) if view.status.is_finished() && self.watching.get_untracked() != Some(task) => self.load(session).await,
                Ok(_) => {}
                Err(e) => self.failed(&e),
            }
        });
    }

    /// Follows a task until it ends: each request waits on the server (0.5 s at first, backing
    /// off to 5 s), so the reply shows the moment the task ends and this loop has one wait in
    /// flight at a time (the timeline's long-poll in `live.rs` runs beside it). Network failures wait with the same backoff and try again. While the task waits
    /// on the user it is polled every second, and a request or a decision seen on the event
    /// stream (or made here) cuts the wait short: the cards follow within a moment.
    fn follow(self, session: Uuid, task: Uuid) {
        self.stop_following();
        let generation = self.generation.get_value();
        self.watching.set(Some(task));
        self.timeline.start(session, task);
        spawn_local(async move {
            let mut wait = backoff::FIRST;
            loop {
                if self.generation.get_value() != generation {
                    return;
                }
                let nudge = self.nudge.get_value();
                let polled = nudge.unless_nudged(wait_task(SessionRef::Existing(session), task, wait.as_millis() as u32)).await;
                let Some(polled) = polled else {
                    // Something changed: look now, then back off from the start.
                    wait = Duration::ZERO;
                    continue;
                };
                match polled {
                    Ok(view) if view.status.is_finished() => {
                        if self.generation.get_value() != generation {
                            return;
                        }
                        self.offline.set(false);
                        self.watching.set(None);
                        // Whatever still waited was withdrawn with the task.
                        self.set_approvals(session, Vec::new());
                        // Lines written just before the end may not have reached the long-poll.
                        let steps = self.timeline.finish(session, task).await;
                        if self.generation.get_value() != generation {
                            return;
                        }
                        if !steps.is_empty() {
                            self.folded.update(|folded| {
                                folded.insert(task, steps);
                            });
                        }
                        notify(&view);
                        self.set_pending(task, reply_entry(&view));
                        // The transcript has the whole answer (tool calls too) and the next
                        // queued task, if any.
                        self.load(session).await;
                        self.refresh_sessions();
                        return;
                    }
                    Ok(view) => {
                        if self.generation.get_value() != generation {
                            return;
                        }
                        self.offline.set(false);
                        // Queue position changes as tasks ahead end; a queued task starts.
                        self.set_pending(task, reply_entry(&view));
                        let waiting = !view.pending_approvals.is_empty();
                        self.set_approvals(session, view.pending_approvals);
                        if waiting {
                            wait = WAITING_POLL;
                            continue;
                        }
                    }
                    Err(e) => {
                        self.failed(&e);
                        if self.signed_out.get_untracked() {
                            return;
                        }
                        browser::sleep(wait.max(backoff::FIRST)).await;
                    }
                }
                wait = if wait < backoff::FIRST { backoff::FIRST } else { backoff::next(wait) };
            }
        });
    }
}

/// Tells the user (when they opted in and the app is in the background) how a task ended.
fn notify(view: &TaskView) {
    let title = match view.status {
        TaskStatus::Completed => "Claude finished",
        TaskStatus::Cancelled => "Task stopped",
        _ => "Task failed",
    };
    let body = match view.status {
        TaskStatus::Completed => view.result.as_ref().and_then(|r| r.get("result")).and_then(|v| v.as_str()).unwrap_or("").to_owned(),
        _ => view.error.clone().unwrap_or_default(),
    };
    let body = crate::api::timeline::truncate_chars(&body, 140);
    let (title, session) = (title.to_owned(), view.session_id);
    spawn_local(async move { browser::notify(&title, &body, session, &format!("task-{session}")).await });
}
