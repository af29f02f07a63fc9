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
use crate::store::{Store, SubscriptionRecord};
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

/// A session's coalescing window: endings that came while it was open, folded.
struct Window {
    closes: Instant,
    held: Option<Payload>,
}

/// Reads payloads until every sender is gone.
pub async fn dispatch(shared: Arc<Shared>, mut events: mpsc::Receiver<Payload>) {
    let mut windows: HashMap<Uuid, Window> = HashMap::new();
    loop {
        let next_close = windows.values().map(|w| w.closes).min();
        tokio::select! {
            event = events.recv() => match event {
                Some(payload) if payload.kind == Kind::Ended => fold(&shared, &mut windows, payload),
                Some(payload) => send(&shared, payload),
                None => return,
            },
            () = sleep_until(next_close) => close_due(&shared, &mut windows),
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn fold(shared: &Arc<Shared>, windows: &mut HashMap<Uuid, Window>, payload: Payload) {
    let now = Instant::now();
    if let Some(window) = windows.get_mut(&payload.session_id).filter(|w| w.closes > now) {
        let endings = window.held.as_ref().map_or(1, |held| held.endings + 1);
        window.held = Some(Payload { endings, ..payload });
        return;
    }
    if windows.len() >= MAX_WINDOWS
        && let Some(oldest) = windows.iter().min_by_key(|(_, w)| w.closes).map(|(id, _)| *id)
        && let Some(held) = windows.remove(&oldest).and_then(|w| w.held)
    {
        send(shared, held);
    }
    windows.insert(payload.session_id, Window { closes: now + COALESCE, held: None });
    send(shared, payload);
}

/// Sends what each closed window held; a window that held something stays open one more round,
/// so a steady stream of endings makes one push per window, not one per ending.
fn close_due(shared: &Arc<Shared>, windows: &mut HashMap<Uuid, Window>) {
    let now = Instant::now();
    let due: Vec<Uuid> = windows.iter().filter(|(_, w)| w.closes <= now).map(|(id, _)| *id).collect();
    for session_id in due {
        let held = windows.get_mut(&session_id).and_then(|w| w.held.take());
        match held {
            Some(payload) => {
                windows.insert(session_id, Window { closes: now + COALESCE, held: None });
                send(shared, payload);
            }
            None => {
                windows.remove(&session_id);
            }
        }
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
    let lane = shared.lane(id);
    for attempt in 1..=ATTEMPTS {
        let delivery = {
            let _turn = lane.lock().await;
            post(shared, subscription, body, kind, topic).await
        };
        match delivery {
            Delivery::Taken => {
                if let Err(error) = shared.store.run(move |store| store.push_delivered(id, now_ms())).await {
                    tracing::debug!(%error, "cannot note a delivered push");
                }
                return;
            }
            Delivery::Gone => {
                tracing::info!(subscription = %id, "the push service says the browser unsubscribed; subscription deleted");
                if let Err(error) = shared.store.run(move |store| store.delete_push_subscription(id)).await {
                    tracing::warn!(%error, "cannot delete a gone subscription");
                }
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
