//! Delivering notifications, on tasks of their own: the runner only drops a payload in a channel
//! ([`super::Notifier::send`]) and never waits on the network.
//!
//! One dispatcher task reads the channel, folds quick repeated endings of a session into one
//! push ([`COALESCE`]), and hands each push to a delivery task per subscription. A delivery
//! encrypts the payload for the subscription (RFC 8291, `aes128gcm`, by `web-push-native`), signs
//! a VAPID JWT for the push service's origin, and posts it (RFC 8030: `TTL`, `Urgency`, and a
//! `Topic` per session for endings, so a phone that was offline gets the latest one only).
//!
//! Bounds: one post at a time per subscription (so a dead push service holds up only its own
//! browser's pushes, and at most `store::push::MAX_SUBSCRIPTIONS` posts run at once), [`WAITING`]
//! deliveries queued or retrying in all (past it a push is dropped, with a warning), each post
//! [`SEND_TIMEOUT`] at most, [`ATTEMPTS`] tries with a doubling pause. A 404 or 410 means the
//! browser unsubscribed: the subscription is deleted.

use super::keys::VapidKey;
use super::payload::{Kind, Payload};
use super::presence::Presence;
use super::subscription::{audience, decode_key};
use crate::runner::now_ms;
use crate::store::{Store, StoreError, SubscriptionRecord};
use axum::http::{header, HeaderValue, StatusCode};
use reqwest::Url;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;
use uuid::Uuid;

/// Endings of one session closer together than this make one push: the first goes at once, the
/// rest wait for the window's end and go as one (the latest, with their count).
pub const COALESCE: Duration = Duration::from_secs(3);
/// Sessions whose window is open at most; past it the oldest window is closed early.
const MAX_WINDOWS: usize = 1024;
/// Deliveries waiting for a post or a retry, in all.
const WAITING: usize = 256;
/// One post, from connecting to the answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPTS: u32 = 3;
const FIRST_RETRY: Duration = Duration::from_secs(2);
/// How long a push service keeps a message for an offline browser (`TTL`).
const TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a VAPID JWT is valid (RFC 8292: at most 24 h).
const VAPID_LIFETIME: Duration = Duration::from_secs(12 * 3600);

pub struct Shared {
    pub store: Arc<Store>,
    pub key: VapidKey,
    pub contact: String,
    pub presence: Presence,
    /// Made at the first push: a server nobody subscribed to never loads the TLS roots.
    client: OnceLock<Result<reqwest::Client, String>>,
    /// Per subscription, its turn to post: one post at a time each.
    lanes: parking_lot::Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    waiting: Arc<Semaphore>,
}

impl Shared {
    pub fn new(store: Arc<Store>, key: VapidKey, contact: String) -> Self {
        Self {
            store,
            key,
            contact,
            presence: Presence::default(),
            client: OnceLock::new(),
            lanes: parking_lot::Mutex::default(),
            waiting: Arc::new(Semaphore::new(WAITING)),
        }
    }

    /// The subscription's lane; lanes no delivery holds are dropped on the way.
    fn lane(&self, id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut lanes = self.lanes.lock();
        lanes.retain(|_, lane| Arc::strong_count(lane) > 1);
        lanes.entry(id).or_default().clone()
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        let made = self.client.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .timeout(SEND_TIMEOUT)
                // A push service answers; it does not send us elsewhere.
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("claude-remote/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|error| format!("cannot set up the HTTP client: {error}"))
        });
        made.as_ref().map_err(Clone::clone)
    }
}

/// Reads payloads until every sender is gone.
pub async fn dispatch(shared: Arc<Shared>, mut events: mpsc::Receiver<Payload>) {
    let mut windows = Windows::default();
    loop {
        let due = tokio::select! {
            event = events.recv() => match event {
                Some(payload) if payload.kind == Kind::Ended => windows.fold(payload, Instant::now()),
                Some(payload) => vec![payload],
                None => return,
            },
            () = sleep_until(windows.next_close()) => windows.close_due(Instant::now()),
        };
        for payload in due {
            send(&shared, payload);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A session's coalescing window: the ending that came while it was open, with their count.
struct Window {
    closes: Instant,
    held: Option<Payload>,
}

/// The open windows, by session: which endings go now, which wait. Pure (the clock is passed
/// in), so the folding is tested without a network or a timer.
#[derive(Default)]
struct Windows {
    open: HashMap<Uuid, Window>,
}

impl Windows {
    fn next_close(&self) -> Option<Instant> {
        self.open.values().map(|w| w.closes).min()
    }

    /// An ending: sent at once when its session has no open window (which it then opens),
    /// else held in it (the latest stands for all, counted in `endings`).
    fn fold(&mut self, payload: Payload, now: Instant) -> Vec<Payload> {
        // A window past its time whose timer has not fired yet is closed first: what it held
        // goes now, not lost under a new window.
        let mut due = self.close_due(now);
        if let Some(window) = self.open.get_mut(&payload.session_id) {
            let endings = window.held.as_ref().map_or(1, |held| held.endings + 1);
            window.held = Some(Payload { endings, ..payload });
            return due;
        }
        if self.open.len() >= MAX_WINDOWS
            && let Some(oldest) = self.open.iter().min_by_key(|(_, w)| w.closes).map(|(id, _)| *id)
            && let Some(held) = self.open.remove(&oldest).and_then(|w| w.held)
        {
            due.push(held);
        }
        self.open.insert(payload.session_id, Window { closes: now + COALESCE, held: None });
        due.push(payload);
        due
    }

    /// What each closed window held. A window that held something stays open one more round,
    /// so a steady stream of endings makes one push per window, not one per ending.
    fn close_due(&mut self, now: Instant) -> Vec<Payload> {
        let mut due = Vec::new();
        self.open.retain(|_, window| {
            if window.closes > now {
                return true;
            }
            match window.held.take() {
                Some(payload) => {
                    due.push(payload);
                    window.closes = now + COALESCE;
                    true
                }
                None => false,
            }
        });
        due
    }
}

/// One push to every subscription, unless the app shows the session right now.
fn send(shared: &Arc<Shared>, payload: Payload) {
    if shared.presence.is_visible(payload.session_id) {
        tracing::debug!(session_id = %payload.session_id, "no push: the app shows this session");
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        let subscriptions = match shared.store.run(|store| store.push_subscriptions()).await {
            Ok(subscriptions) => subscriptions,
            Err(error) => {
                tracing::warn!(%error, "cannot read the push subscriptions");
                return;
            }
        };
        let body: Arc<[u8]> = match serde_json::to_vec(&payload) {
            Ok(body) => body.into(),
            Err(_) => return,
        };
        let topic = (payload.kind == Kind::Ended).then(|| payload.session_id.simple().to_string());
        let kind = payload.kind;
        for subscription in subscriptions {
            let Ok(place) = shared.waiting.clone().try_acquire_owned() else {
                tracing::warn!("too many pushes waiting; this one is dropped");
                return;
            };
            let (shared, body, topic) = (shared.clone(), body.clone(), topic.clone());
            tokio::spawn(async move {
                deliver(&shared, &subscription, &body, kind, topic.as_deref()).await;
                drop(place);
            });
        }
    });
}

/// One post of `payload` to `subscription`, at once (after any post already on its lane), with
/// no retry: the caller waits for the answer. A gone subscription is deleted.
pub async fn deliver_once(shared: &Shared, subscription: &SubscriptionRecord, payload: &Payload) -> Result<(), super::PushError> {
    let body = serde_json::to_vec(payload).map_err(|e| super::PushError::Undelivered(e.to_string()))?;
    match post_and_note(shared, subscription, &body, payload.kind, None).await? {
        Delivery::Taken => Ok(()),
        Delivery::Gone => Err(super::PushError::Gone),
        Delivery::Failed(reason) | Delivery::Unusable(reason) => Err(super::PushError::Undelivered(reason)),
    }
}

/// One post in the subscription's lane, and what its answer means for the subscription kept:
/// taken, it was reached now; gone, it is deleted. An error: the store could not note that.
async fn post_and_note(shared: &Shared, subscription: &SubscriptionRecord, body: &[u8], kind: Kind, topic: Option<&str>) -> Result<Delivery, StoreError> {
    let id = subscription.id;
    let delivery = {
        let lane = shared.lane(id);
        let _turn = lane.lock().await;
        post(shared, subscription, body, kind, topic).await
    };
    match delivery {
        Delivery::Taken => shared.store.run(move |store| store.push_delivered(id, now_ms())).await?,
        Delivery::Gone => {
            shared.store.run(move |store| store.delete_push_subscription(id)).await?;
        }
        Delivery::Failed(_) | Delivery::Unusable(_) => {}
    }
    Ok(delivery)
}

enum Delivery {
    Taken,
    /// The browser unsubscribed (404, 410).
    Gone,
    /// Worth another try later.
    Failed(String),
    /// Never going to work (keys that cannot be used).
    Unusable(String),
}

async fn deliver(shared: &Shared, subscription: &SubscriptionRecord, body: &[u8], kind: Kind, topic: Option<&str>) {
    let id = subscription.id;
    let mut pause = FIRST_RETRY;
    for attempt in 1..=ATTEMPTS {
        let delivery = match post_and_note(shared, subscription, body, kind, topic).await {
            Ok(delivery) => delivery,
            Err(error) => {
                tracing::warn!(subscription = %id, %error, "cannot note what the push service answered");
                return;
            }
        };
        match delivery {
            Delivery::Taken => return,
            Delivery::Gone => {
                tracing::info!(subscription = %id, "the push service says the browser unsubscribed; subscription deleted");
                return;
            }
            Delivery::Unusable(reason) => {
                tracing::warn!(subscription = %id, reason, "push not sent");
                return;
            }
            Delivery::Failed(reason) if attempt == ATTEMPTS => {
                tracing::warn!(subscription = %id, reason, "push not delivered after {ATTEMPTS} attempts");
            }
            Delivery::Failed(reason) => {
                tracing::debug!(subscription = %id, reason, "push failed; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}

/// One encrypted, signed post, bounded by [`SEND_TIMEOUT`].
async fn post(shared: &Shared, subscription: &SubscriptionRecord, body: &[u8], kind: Kind, topic: Option<&str>) -> Delivery {
    let request = match build(shared, subscription, body, kind, topic) {
        Ok(request) => request,
        Err(reason) => return Delivery::Unusable(reason),
    };
    let client = match shared.client() {
        Ok(client) => client,
        Err(reason) => return Delivery::Unusable(reason),
    };
    match tokio::time::timeout(SEND_TIMEOUT, client.execute(request)).await {
        Err(_) => Delivery::Failed("no answer in time".into()),
        Ok(Err(error)) => Delivery::Failed(error.to_string()),
        Ok(Ok(response)) => match response.status() {
            status if status.is_success() => Delivery::Taken,
            StatusCode::NOT_FOUND | StatusCode::GONE => Delivery::Gone,
            status => Delivery::Failed(format!("the push service answered {status}")),
        },
    }
}

fn build(shared: &Shared, subscription: &SubscriptionRecord, body: &[u8], kind: Kind, topic: Option<&str>) -> Result<reqwest::Request, String> {
    let url = Url::parse(&subscription.endpoint).map_err(|e| format!("bad endpoint: {e}"))?;
    let uri: axum::http::Uri = subscription.endpoint.parse().map_err(|e| format!("bad endpoint: {e}"))?;
    let point = decode_key(&subscription.p256dh).ok_or("bad p256dh")?;
    let public = web_push_native::p256::PublicKey::from_sec1_bytes(&point).map_err(|_| "bad p256dh")?;
    let auth = decode_key(&subscription.auth).filter(|a| a.len() == 16).ok_or("bad auth")?;
    let request = web_push_native::WebPushBuilder::new(uri, public, web_push_native::Auth::clone_from_slice(&auth))
        .with_valid_duration(TTL)
        .build(body.to_vec())
        .map_err(|e| format!("cannot encrypt: {e}"))?;
    let (mut parts, encrypted) = request.into_parts();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let authorization = shared.key.authorization(&audience(&url), &shared.contact, now, VAPID_LIFETIME);
    parts.headers.insert(header::AUTHORIZATION, HeaderValue::from_str(&authorization).map_err(|_| "bad authorization header")?);
    parts.headers.insert("urgency", HeaderValue::from_static(kind.urgency()));
    if let Some(topic) = topic.and_then(|t| HeaderValue::from_str(t).ok()) {
        parts.headers.insert("topic", topic);
    }
    reqwest::Request::try_from(axum::http::Request::from_parts(parts, encrypted)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ending(session_id: Uuid, n: u32) -> Payload {
        Payload {
            kind: Kind::Ended,
            session_id,
            task_id: Uuid::from_u128(u128::from(n)),
            title: "t".into(),
            body: format!("ending {n}"),
            status: Some("completed"),
            tool_name: None,
            approval_id: None,
            cost_usd: None,
            url: String::new(),
            endings: 1,
        }
    }

    #[test]
    fn the_first_ending_goes_at_once_and_the_next_ones_as_one_at_the_windows_end() {
        let (mut windows, session, t0) = (Windows::default(), Uuid::new_v4(), Instant::now());
        let sent = windows.fold(ending(session, 1), t0);
        assert_eq!(sent.len(), 1);
        assert!(windows.fold(ending(session, 2), t0 + Duration::from_secs(1)).is_empty());
        assert!(windows.fold(ending(session, 3), t0 + Duration::from_secs(2)).is_empty());
        assert!(windows.close_due(t0 + Duration::from_secs(2)).is_empty(), "not yet");
        let folded = windows.close_due(t0 + COALESCE);
        assert_eq!((folded.len(), folded[0].body.as_str(), folded[0].endings), (1, "ending 3", 2));
        assert!(windows.close_due(t0 + COALESCE * 2).is_empty(), "nothing more held: the window closes");
        assert_eq!(windows.next_close(), None);
        assert_eq!(windows.fold(ending(session, 4), t0 + COALESCE * 3).len(), 1, "a later ending goes at once again");
    }

    #[test]
    fn sessions_are_folded_apart_and_a_late_timer_loses_nothing() {
        let (mut windows, t0) = (Windows::default(), Instant::now());
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(windows.fold(ending(a, 1), t0).len(), 1);
        assert_eq!(windows.fold(ending(b, 2), t0).len(), 1, "another session's ending is not held");
        assert!(windows.fold(ending(a, 3), t0 + Duration::from_secs(1)).is_empty());
        // The window's time passed before its timer fired: the held ending goes with the next.
        let sent = windows.fold(ending(a, 4), t0 + COALESCE + Duration::from_millis(1));
        assert_eq!(sent.iter().map(|p| p.body.as_str()).collect::<Vec<_>>(), ["ending 3"]);
        let last = windows.close_due(t0 + COALESCE * 3);
        assert_eq!(last.iter().map(|p| p.body.as_str()).collect::<Vec<_>>(), ["ending 4"]);
    }

    #[test]
    fn open_windows_are_bounded() {
        let (mut windows, t0) = (Windows::default(), Instant::now());
        for n in 0..MAX_WINDOWS as u32 + 10 {
            windows.fold(ending(Uuid::new_v4(), n), t0);
        }
        assert_eq!(windows.open.len(), MAX_WINDOWS);
    }
}
