//! The live timeline of the task being followed, from its output lines, long-polled
//! (`task_events`): each call answers as soon as there is a line after the last one seen.
//!
//! Not Server-Sent Events: a Cloudflare quick tunnel holds a streamed answer back until it ends,
//! so a timeline over SSE would only show up when the task was over. A long-poll answers line by
//! line through any proxy. Sequence numbers make every line count once even if one is replayed.
//! Each answer also carries the reply being written (`partial`), so its words show as they come.

use super::nudge::Nudge;
use crate::api::timeline::{items, TimelineItem};
use leptos::prelude::*;
use uuid::Uuid;

/// Steps the live timeline keeps: its latest ones. Earlier ones are dropped as new ones come, and
/// loaded again a page at a time when asked for ("Show earlier"), so a task with 100,000 steps
/// costs the page what 200 do.
pub const KEPT_STEPS: usize = 200;

#[derive(Clone, Copy)]
pub struct Timeline {
    pub task: RwSignal<Option<Uuid>>,
    pub steps: RwSignal<Vec<TimelineItem>>,
    /// Lines before the first kept step were left out: "Show earlier" can load them.
    pub earlier: RwSignal<bool>,
    /// The reply being written, word by word as the API streams it (never empty: `None` then).
    pub draft: RwSignal<Option<String>>,
    /// The version of `draft` shown: the long-poll answers when a newer one exists.
    #[cfg_attr(not(feature = "csr"), allow(dead_code))]
    draft_version: StoredValue<u64>,
    /// The line each kept step came from, in step order.
    seqs: StoredValue<Vec<u64>>,
    /// How many steps to keep: [`KEPT_STEPS`], plus the earlier ones asked for.
    keep: StoredValue<usize>,
    session: StoredValue<Option<Uuid>>,
    /// An earlier page is on its way: a second click must not load it twice.
    #[cfg_attr(not(feature = "csr"), allow(dead_code))]
    loading_earlier: StoredValue<bool>,
    last_seq: StoredValue<u64>,
    /// Told when a permission request or a decision goes by, so the poll looks at once.
    nudge: StoredValue<Nudge>,
}

/// Drops the steps of the earliest lines (a line's steps go together) until at most `keep`
/// remain; whether any were dropped.
pub fn trim(steps: &mut Vec<TimelineItem>, seqs: &mut Vec<u64>, keep: usize) -> bool {
    if steps.len() <= keep {
        return false;
    }
    let mut cut = steps.len() - keep;
    // Not in the middle of a line: its other steps would be lost to "Show earlier".
    while cut < seqs.len() && cut > 0 && seqs[cut] == seqs[cut - 1] {
        cut += 1;
    }
    steps.drain(..cut);
    seqs.drain(..cut.min(seqs.len()));
    true
}

/// The steps of `lines`, each with its line number.
pub fn steps_of(lines: &[(u64, String)]) -> (Vec<TimelineItem>, Vec<u64>) {
    let mut steps = Vec::new();
    let mut seqs = Vec::new();
    for (seq, line) in lines {
        if let Ok(value) = serde_json::from_str(line) {
            for item in items(&value) {
                steps.push(item);
                seqs.push(*seq);
            }
        }
    }
    (steps, seqs)
}

impl Timeline {
    pub fn new(nudge: StoredValue<Nudge>) -> Self {
        Self {
            task: RwSignal::new(None),
            steps: RwSignal::new(Vec::new()),
            earlier: RwSignal::new(false),
            draft: RwSignal::new(None),
            draft_version: StoredValue::new(0),
            seqs: StoredValue::new(Vec::new()),
            keep: StoredValue::new(KEPT_STEPS),
            session: StoredValue::new(None),
            loading_earlier: StoredValue::new(false),
            last_seq: StoredValue::new(0),
            nudge,
        }
    }

    /// Starts showing `task` from its first line.
    pub fn start(self, session: Uuid, task: Uuid) {
        self.stop();
        self.task.set(Some(task));
        self.session.set_value(Some(session));
        self.steps.set(Vec::new());
        self.seqs.set_value(Vec::new());
        self.keep.set_value(KEPT_STEPS);
        self.earlier.set(false);
        self.clear_draft();
        self.last_seq.set_value(0);
        #[cfg(feature = "csr")]
        stream::open(self, session, task);
    }

    /// The task has ended: reads the lines not seen yet (its last steps may have been written
    /// after the last long-poll answer), then stops; returns the steps kept.
    pub async fn finish(self, session: Uuid, task: Uuid) -> Vec<TimelineItem> {
        #[cfg(feature = "csr")]
        {
            stream::close();
            // A page holds at most 500 lines: read on while the server says there are more
            // (bounded: a task stores at most 8 MiB of lines).
            for _ in 0..2_000 {
                let after = self.last_seq.get_value();
                match crate::api::task_events(crate::api::SessionRef::Existing(session), task, after, 0, None).await {
                    Ok(page) if !page.events.is_empty() && self.task.get_untracked() == Some(task) => {
                        for (seq, line) in &page.events {
                            self.line(*seq, line);
                        }
                        if !page.more {
                            break;
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
        self.earlier.set(false);
        self.clear_draft();
        self.seqs.set_value(Vec::new());
        self.steps.try_update(std::mem::take).unwrap_or_default()
    }

    fn clear_draft(self) {
        self.draft_version.set_value(0);
        if self.draft.with_untracked(Option::is_some) {
            self.draft.set(None);
        }
    }

    /// The reply being written, as a page brought it: shown when newer than what is shown.
    #[cfg_attr(not(feature = "csr"), allow(dead_code))]
    pub fn partial(self, partial: crate::api::PartialText) {
        if partial.version <= self.draft_version.get_value() {
            return;
        }
        self.draft_version.set_value(partial.version);
        self.draft.set((!partial.text.is_empty()).then_some(partial.text));
    }

    /// One output line, numbered by the server.
    #[cfg_attr(not(feature = "csr"), allow(dead_code))]
    pub fn line(self, seq: u64, line: &str) {
        if seq <= self.last_seq.get_value() {
            return; // already shown
        }
        self.last_seq.set_value(seq);
        let (new, new_seqs) = steps_of(&[(seq, line.to_owned())]);
        if new.iter().any(|i| matches!(i, TimelineItem::Asked { .. } | TimelineItem::Decided { .. })) {
            self.nudge.with_value(Nudge::nudge);
        }
        if new.is_empty() {
            return;
        }
        let keep = self.keep.get_value();
        let mut dropped = false;
        self.steps.update(|steps| {
            steps.extend(new);
            self.seqs.update_value(|seqs| {
                seqs.extend(new_seqs);
                dropped = trim(steps, seqs, keep);
            });
        });
        if dropped && !self.earlier.get_untracked() {
            self.earlier.set(true);
        }
    }

    /// Loads the steps just before the first one shown (a page of lines at a time, until some
    /// give steps) and shows them above it.
    pub fn show_earlier(self) {
        #[cfg(feature = "csr")]
        {
            let (Some(session), Some(task)) = (self.session.get_value(), self.task.get_untracked()) else { return };
            if self.loading_earlier.get_value() {
                return;
            }
            self.loading_earlier.set_value(true);
            leptos::task::spawn_local(async move {
                self.load_earlier(session, task).await;
                self.loading_earlier.set_value(false);
            });
        }
    }

    /// One page of lines before the first step shown, or more while they give no step.
    #[cfg(feature = "csr")]
    async fn load_earlier(self, session: Uuid, task: Uuid) {
        let mut before = self.seqs.with_value(|s| s.first().copied()).unwrap_or(self.last_seq.get_value() + 1);
        for _ in 0..20 {
            let Ok(page) = crate::api::task_events_before(crate::api::SessionRef::Existing(session), task, before).await else {
                return;
            };
            if self.task.get_untracked() != Some(task) {
                return;
            }
            before = page.events.first().map_or(before, |(seq, _)| *seq);
            let (steps, seqs) = steps_of(&page.events);
            let found = !steps.is_empty();
            self.keep.update_value(|keep| *keep += steps.len());
            self.seqs.update_value(|kept| {
                kept.splice(0..0, seqs);
            });
            self.steps.update(|kept| {
                kept.splice(0..0, steps);
            });
            self.earlier.set(page.more);
            if found || !page.more {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_line(n: u64) -> (u64, String) {
        let line = serde_json::json!({"type": "assistant", "message": {"content": [
            {"type": "text", "text": format!("step {n}")},
            {"type": "tool_use", "id": format!("t{n}"), "name": "Bash", "input": {"command": "ls"}}
        ]}});
        (n, line.to_string())
    }

    #[test]
    fn a_long_timeline_keeps_its_latest_steps_and_whole_lines() {
        let (mut steps, mut seqs) = (Vec::new(), Vec::new());
        let mut dropped = false;
        for n in 1..=100_000 {
            let (new, new_seqs) = steps_of(&[text_line(n)]);
            steps.extend(new);
            seqs.extend(new_seqs);
            dropped |= trim(&mut steps, &mut seqs, KEPT_STEPS);
        }
        assert!(dropped, "earlier steps were left out");
        assert_eq!(steps.len(), KEPT_STEPS);
        assert_eq!(seqs.len(), steps.len());
        assert_eq!(steps.first(), Some(&TimelineItem::Text { text: format!("step {}", 100_001 - KEPT_STEPS as u64 / 2) }), "whole lines");
        assert_eq!(seqs.last(), Some(&100_000));

        // One step over: a line's two steps go together, never one without the other.
        let (mut steps, mut seqs) = steps_of(&[text_line(1), text_line(2)]);
        assert!(trim(&mut steps, &mut seqs, 3));
        assert_eq!(seqs, [2, 2]);
        assert!(!trim(&mut steps, &mut seqs, 3));
    }
}

#[cfg(feature = "csr")]
mod stream {
    use super::Timeline;
    use crate::api::{task_events, SessionRef};
    use gloo_timers::future::TimeoutFuture;
    use leptos::prelude::GetValue;
    use std::cell::Cell;
    use uuid::Uuid;

    /// How long one call waits for a line on the server: well under a tunnel's cut.
    const WAIT_MS: u32 = 20_000;
    /// A pause between answers: fast output arrives in a few larger pages, not one request per
    /// line, and a step still shows within about this long of being written. Streamed words come
    /// at this cadence too: a few words at a time, four times a second, through any tunnel.
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
                let words_seen = timeline.draft_version.get_value();
                match task_events(SessionRef::Existing(session), task, after, WAIT_MS, Some(words_seen)).await {
                    Ok(page) => {
                        if current() != generation {
                            return;
                        }
                        let quiet = page.events.is_empty();
                        for (seq, line) in &page.events {
                            timeline.line(*seq, line);
                        }
                        // After the lines: the words may belong to a message they just began.
                        if let Some(partial) = page.partial {
                            timeline.partial(partial);
                        }
                        after = page.after;
                        if quiet && page.status.is_finished() {
                            return;
                        }
                        failures = 0;
                        // More is stored already: the next page at once.
                        if !page.more {
                            TimeoutFuture::new(BETWEEN_MS).await;
                        }
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
