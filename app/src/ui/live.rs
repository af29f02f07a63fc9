//! The live timeline of the task being followed, from its event stream (Server-Sent Events).
//!
//! The browser's EventSource reconnects by itself when the server closes a stream (it does
//! before a tunnel's ~100 s cut) and sends `Last-Event-ID`, so the server resumes where it was;
//! sequence numbers make every line count once even if a line is replayed.

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
        stream::open(self, &format!("/api/sessions/{session}/tasks/{task}/events?after=0"));
        #[cfg(not(feature = "csr"))]
        let _ = session;
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
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    struct Open {
        source: web_sys::EventSource,
        _on_line: Closure<dyn FnMut(web_sys::MessageEvent)>,
        _on_end: Closure<dyn FnMut(web_sys::MessageEvent)>,
    }

    thread_local! {
        // One task is followed at a time.
        static CURRENT: RefCell<Option<Open>> = const { RefCell::new(None) };
    }

    pub fn open(timeline: Timeline, url: &str) {
        let Ok(source) = web_sys::EventSource::new(url) else { return };
        let on_line = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let seq = event.last_event_id().parse::<u64>().unwrap_or(0);
            if let Some(line) = event.data().as_string() {
                timeline.line(seq, &line);
            }
        });
        let on_end = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_event: web_sys::MessageEvent| close());
        let _ = source.add_event_listener_with_callback("line", on_line.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("end", on_end.as_ref().unchecked_ref());
        CURRENT.with(|current| {
            if let Some(old) = current.replace(Some(Open { source, _on_line: on_line, _on_end: on_end })) {
                old.source.close();
            }
        });
    }

    pub fn close() {
        CURRENT.with(|current| {
            if let Some(open) = current.borrow_mut().take() {
                open.source.close();
            }
        });
    }
}
