//! Wakes the follow loop before its poll would end: a permission request arrived on the event
//! stream, or one was just decided. The poll in flight is dropped (the server function's request
//! is aborted with it) and the loop looks again at once, so the loop still has one poll in flight.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

#[derive(Clone, Default)]
pub struct Nudge(Arc<Mutex<State>>);

#[derive(Default)]
struct State {
    nudged: bool,
    waiting: Option<Waker>,
}

impl Nudge {
    /// Wakes the loop; several nudges before it looks count once.
    pub fn nudge(&self) {
        if let Ok(mut state) = self.0.lock() {
            state.nudged = true;
            if let Some(waker) = state.waiting.take() {
                waker.wake();
            }
        }
    }

    /// Runs `work` unless nudged first (before or while it runs): `None` means nudged, and
    /// `work` was dropped.
    pub async fn unless_nudged<F: Future>(&self, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        poll_fn(|cx| {
            if let Ok(mut state) = self.0.lock() {
                if std::mem::take(&mut state.nudged) {
                    return Poll::Ready(None);
                }
                state.waiting = Some(cx.waker().clone());
            }
            work.as_mut().poll(cx).map(Some)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Context;

    fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_nudge_ends_the_wait_and_counts_once() {
        let nudge = Nudge::default();
        // Not nudged: the work's own answer.
        assert_eq!(poll_once(pin!(nudge.unless_nudged(async { 7 }))), Poll::Ready(Some(7)));
        // Nudged while the work waits.
        let mut waiting = pin!(nudge.unless_nudged(std::future::pending::<()>()));
        assert_eq!(poll_once(waiting.as_mut()), Poll::Pending);
        nudge.nudge();
        nudge.nudge();
        assert_eq!(poll_once(waiting.as_mut()), Poll::Ready(None));
        // Both nudges were spent on that one wake.
        assert_eq!(poll_once(pin!(nudge.unless_nudged(async { 8 }))), Poll::Ready(Some(8)));
        // Nudged before the work starts: it never runs.
        nudge.nudge();
        let ran = std::cell::Cell::new(false);
        assert_eq!(poll_once(pin!(nudge.unless_nudged(async { ran.set(true) }))), Poll::Ready(None));
        assert!(!ran.get());
    }
}
