//! The live timeline of the task being followed, from its output lines, long-polled
//! (`task_events`): each call answers as soon as there is a line after the last one seen.
//!
//! Not Server-Sent Events: a Cloudflare quick tunnel holds a streamed answer back until it ends,
//! so a timeline over SSE would only show up when the task was over. A long-poll answers line by
//! line through any proxy. Sequence numbers make every line count once even if one is replayed.

use super::nudge::Nudge;
use crate::api::timeline::{items, TimelineItem};
use leptos::prelude::*;
use uuid::Uuid;

#[derive(Clone, Copy)]
pub struct Timeline {
    pub task: RwSignal<Option<Uuid>>,
    pub steps: RwSignal<Vec<TimelineItem>>,
    last_seq: StoredValue<u64>,
    /// Told when a permission request or a decision goes by, so the poll looks at once.
    nudge: StoredValue<Nudge>,
}

impl Timeline {
    pub fn new(nudge: StoredValue<Nudge>) -> Self {
        Self { task: RwSignal::new(None), steps: RwSignal::new(Vec::new()), last_seq: StoredValue::new(0), nudge }
    }

    /// Starts showing `task` from its first line.
    pub fn start(self, session: Uuid, task: Uuid) {
        self.stop();
        self.task.set(Some(task));
        self.steps.set(Vec::new());
        self.last_seq.set_value(0);
        #[cfg(feature = "csr")]
        stream::open(self, session, task);
        #[cfg(not(feature = "csr"))]
        let _ = session;
    }

    /// The task has ended: reads the lines not seen yet (its last steps may have been written
    /// after the last long-poll answer), then stops; returns every step.
    pub async fn finish(self, session: Uuid, task: Uuid) -> Vec<TimelineItem> {
        #[cfg(feature = "csr")]
        {
            stream::close();
            // Bounded: a page holds every line stored after `after`, so two calls suffice.
            for _ in 0..4 {
                let after = self.last_seq.get_value();
                match crate::api::task_events(crate::api::SessionRef::Existing(session), task, after, 0).await {
                    Ok(page) if !page.events.is_empty() && self.task.get_untracked() == Some(task) => {
                        for (seq, line) in &page.events {
                            self.line(*seq, line);
                        }
                    }
                    _ => break,
                }
            }
        }
        #[cfg(not(feature = "csr"))]
        let _ = (session, task);
        self.stop()
    }

    /// Stops listening; returns the steps seen.
    pub fn stop(self) -> Vec<TimelineItem> {
        #[cfg(feature = "csr")]
        stream::close();
        self.task.set(None);
        self.steps.try_update(std::mem::take).unwrap_or_default()
    }

    /// One output line, numbered by the server.
    #[cfg_attr(not(feature = "csr"), allow(dead_code))]
    pub fn line(self, seq: u64, line: &str) {
        if seq <= self.last_seq.get_value() {
            return; // already shown
        }
        self.last_seq.set_value(seq);
        if let Ok(value) = serde_json::from_str(line) {
            let new = items(&value);
            if new.iter().any(|i| matches!(i, TimelineItem::Asked { .. } | TimelineItem::Decided { .. })) {
                self.nudge.with_value(Nudge::nudge);
            }
            if !new.is_empty() {
                self.steps.update(|steps| steps.extend(new));
            }
        }
    }
}

#[cfg(feature = "csr")]
mod stream {
    use super::Timeline;
    use crate::api::{task_events, SessionRef};
    use gloo_timers::future::TimeoutFuture;
    use std::cell::Cell;
    use uuid::Uuid;

    /// How long one call waits for a line on the server: well under a tunnel's cut.
    const WAIT_MS: u32 = 20_000;
    /// A pause between answers: fast output arrives in a few larger pages, not one request per
    /// line, and a step still shows within about this long of being written.
    const BETWEEN_MS: u32 = 250;

    thread_local! {
        // One task is followed at a time: a new follow (or a close) ends the old loop.
        static GENERATION: Cell<u64> = const { Cell::new(0) };
    }

    fn current() -> u64 {
        GENERATION.with(Cell::get)
    }

    pub fn open(timeline: Timeline, session: Uuid, task: Uuid) {
        let generation = GENERATION.with(|g| {
            g.set(g.get() + 1);
            g.get()
        });
        leptos::task::spawn_local(async move {
            let mut after = 0;
            let mut failures: u32 = 0;
            while current() == generation {
                match task_events(SessionRef::Existing(session), task, after, WAIT_MS).await {
                    Ok(page) => {
                        if current() != generation {
                            return;
                        }
                        let quiet = page.events.is_empty();
                        for (seq, line) in &page.events {
                            timeline.line(*seq, line);
                        }
                        after = page.after;
                        if quiet && page.status.is_finished() {
                            return;
                        }
                        failures = 0;
                        TimeoutFuture::new(BETWEEN_MS).await;
                    }
                    // Offline, signed out, or the task was deleted: back off; the task's own
                    // follow loop says what happened.
                    Err(_) => {
                        failures = failures.saturating_add(1);
                        if failures > 20 {
                            return;
                        }
                        TimeoutFuture::new((500u32 << failures.min(4)).min(5_000)).await;
                    }
                }
            }
        });
    }

    pub fn close() {
        GENERATION.with(|g| g.set(g.get() + 1));
    }
}
