//! What one connection is doing, as far as its timeouts care, and so when it must be closed.
//!
//! hyper's own HTTP/1 header timeout starts as soon as a connection goes idle, which would make it
//! the keep-alive timeout too, and HTTP/2 has neither. These phases keep the two apart, for both
//! protocols: the header timeout runs while a request head is awaited or arriving, the idle
//! timeout while nothing is, and no timeout runs while a request is being answered.

use axum::http::Version;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

/// The two timeouts of [`super::Limits`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub header: Duration,
    pub idle: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Accepted; no request has reached the app yet. The TLS handshake and the first request
    /// head must fit in the header timeout.
    Opening { since: Instant },
    /// Requests are being answered; a response still being sent counts. No deadline, so an event
    /// stream or a long poll is never cut.
    Busy { requests: usize },
    /// Every answer is sent and nothing of a next request has arrived.
    Idle { since: Instant },
    /// HTTP/1: the next request's head has begun to arrive and must be whole within the header
    /// timeout.
    ReadingHead { since: Instant },
}

impl Phase {
    /// When the connection is to be closed if it is still in this phase, if ever.
    pub(super) fn deadline(self, timeouts: Timeouts) -> Option<Instant> {
        match self {
            Phase::Opening { since } | Phase::ReadingHead { since } => Some(since + timeouts.header),
            Phase::Idle { since } => Some(since + timeouts.idle),
            Phase::Busy { .. } => None,
        }
    }

    fn request_started(self) -> Phase {
        match self {
            Phase::Busy { requests } => Phase::Busy { requests: requests + 1 },
            _ => Phase::Busy { requests: 1 },
        }
    }

    fn request_finished(self, now: Instant) -> Phase {
        match self {
            Phase::Busy { requests } if requests > 1 => Phase::Busy { requests: requests - 1 },
            Phase::Busy { .. } => Phase::Idle { since: now },
            other => other,
        }
    }

    /// Bytes arrived. On an idle HTTP/1 connection they can only be the next request's head. On
    /// HTTP/2 they may be a ping or a window update on a connection that stays idle, and a
    /// request's headers arrive as one frame, so only the idle timeout applies there.
    fn bytes_read(self, now: Instant, http1: bool) -> Phase {
        match self {
            Phase::Idle { .. } if http1 => Phase::ReadingHead { since: now },
            other => other,
        }
    }
}

/// One connection's phase, changed by its socket (reads) and its service (requests begun and
/// ended), watched by the task that serves it.
pub(super) struct Activity {
    phase: watch::Sender<Phase>,
    /// Learnt from the first request; until then the connection is `Opening` either way.
    http1: AtomicBool,
}

impl Activity {
    pub(super) fn new(accepted: Instant) -> Arc<Self> {
        Arc::new(Self { phase: watch::Sender::new(Phase::Opening { since: accepted }), http1: AtomicBool::new(false) })
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// A request reached the app. The connection is busy until the returned guard is dropped,
    /// which the response body does once it is sent (or abandoned).
    pub(super) fn request_started(self: &Arc<Self>, version: Version) -> InFlight {
        if version < Version::HTTP_2 {
            self.http1.store(true, Ordering::Relaxed);
        }
        self.change(Phase::request_started);
        InFlight(self.clone())
    }

    pub(super) fn bytes_read(&self) {
        let http1 = self.http1.load(Ordering::Relaxed);
        self.change(|phase| phase.bytes_read(Instant::now(), http1));
    }

    /// Applies `step`, waking the watcher only when the phase really changed.
    fn change(&self, step: impl FnOnce(Phase) -> Phase) {
        self.phase.send_if_modified(|phase| {
            let next = step(*phase);
            let changed = next != *phase;
            *phase = next;
            changed
        });
    }
}

/// A request being answered, until dropped.
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.change(|phase| phase.request_finished(Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts { header: Duration::from_secs(10), idle: Duration::from_secs(100) };

    fn phase(activity: &Activity) -> Phase {
        *activity.subscribe().borrow()
    }

    #[test]
    fn a_new_connection_has_the_header_timeout_for_its_first_request() {
        let accepted = Instant::now();
        let activity = Activity::new(accepted);
        assert_eq!(phase(&activity).deadline(TIMEOUTS), Some(accepted + TIMEOUTS.header));
        // Bytes of the first head do not restart the clock.
        activity.bytes_read();
        assert_eq!(phase(&activity).deadline(TIMEOUTS), Some(accepted + TIMEOUTS.header));
    }

    #[test]
    fn nothing_times_out_while_a_response_is_in_flight() {
        let activity = Activity::new(Instant::now());
        let first = activity.request_started(Version::HTTP_2);
        let second = activity.request_started(Version::HTTP_2);
        assert_eq!(phase(&activity).deadline(TIMEOUTS), None);
        drop(first);
        assert_eq!(phase(&activity), Phase::Busy { requests: 1 }, "one stream still answering");
        let before = Instant::now();
        drop(second);
        let Phase::Idle { since } = phase(&activity) else { panic!("idle once the last answer is sent") };
        assert!(since >= before);
        assert_eq!(phase(&activity).deadline(TIMEOUTS), Some(since + TIMEOUTS.idle));
    }

    #[test]
    fn the_next_http1_head_gets_the_header_timeout_from_its_first_byte() {
        let activity = Activity::new(Instant::now());
        drop(activity.request_started(Version::HTTP_11));
        assert!(matches!(phase(&activity), Phase::Idle { .. }));
        let before = Instant::now();
        activity.bytes_read();
        let Phase::ReadingHead { since } = phase(&activity) else { panic!("reading the next head") };
        assert!(since >= before);
        assert_eq!(phase(&activity).deadline(TIMEOUTS), Some(since + TIMEOUTS.header));
        // More bytes of the same head do not extend it.
        activity.bytes_read();
        assert_eq!(phase(&activity), Phase::ReadingHead { since });
    }

    #[test]
    fn bytes_on_an_idle_http2_connection_leave_it_idle() {
        let activity = Activity::new(Instant::now());
        drop(activity.request_started(Version::HTTP_2));
        let idle = phase(&activity);
        activity.bytes_read();
        assert_eq!(phase(&activity), idle);
    }

    #[test]
    fn bytes_of_a_request_body_do_not_start_a_head() {
        let activity = Activity::new(Instant::now());
        let _answering = activity.request_started(Version::HTTP_11);
        activity.bytes_read();
        assert_eq!(phase(&activity), Phase::Busy { requests: 1 });
    }
}
