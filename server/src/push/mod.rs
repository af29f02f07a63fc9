//! Web Push (RFC 8030, 8291, 8292): a notification on the owner's phone when a task ends or
//! waits on them, sent by this server through the browser's own push service.
//!
//! - `keys`: the VAPID key pair, made at first start, 0600 in the data directory;
//! - `subscription`: a browser's `PushSubscription`, checked at the edge;
//! - `payload`: what a notification says;
//! - `presence`: the sessions the app shows right now (no push for those);
//! - `sender`: the channel the runner drops payloads in, and the deliveries behind it.
//!
//! Subscriptions are in the store (`store::push`); the routes are `http::push`.

pub mod keys;
pub mod payload;
pub mod presence;
mod sender;
pub mod subscription;

use crate::runner::now_ms;
use crate::store::{AuditEntry, Store, StoreError};
use app::api::Caller;
use keys::{KeyError, VapidKey};
use payload::Payload;
use std::path::Path;
use std::sync::Arc;
use subscription::{SubscriptionRequest, SubscriptionView};
use tokio::sync::mpsc;
use uuid::Uuid;


/// Payloads waiting for the dispatcher; past it one is dropped (with a warning), never waited for.
const QUEUED_PAYLOADS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    Invalid(String),
    #[error("no push subscription {0}")]
    NotFound(Uuid),
    /// The push service says the browser unsubscribed; the subscription was deleted.
    #[error("the push service says this browser no longer takes notifications; it was removed from the list")]
    Gone,
    #[error("the push service did not take the test: {0}")]
    Undelivered(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The push side of the server: its key, the subscriptions, and the sender.
pub struct Push {
    shared: Arc<sender::Shared>,
    events: mpsc::Sender<Payload>,
}

impl Push {
    /// Loads (or makes) the key and starts the dispatcher on the current runtime.
    pub fn start(data_dir: &Path, store: Arc<Store>, contact: String) -> Result<Self, PushError> {
        let key = VapidKey::load_or_create(data_dir)?;
        let shared = Arc::new(sender::Shared::new(store, key, contact));
        let (events, receiver) = mpsc::channel(QUEUED_PAYLOADS);
        tokio::spawn(sender::dispatch(shared.clone(), receiver));
        Ok(Self { shared, events })
    }

    pub fn public_key(&self) -> &str {
        self.shared.key.public_key()
    }

    pub fn notifier(&self) -> Notifier {
        Notifier { events: Some(self.events.clone()) }
    }

    /// The app shows `session_id` (or no longer does).
    pub fn set_visible(&self, session_id: Uuid, visible: bool) {
        self.shared.presence.set(session_id, visible);
    }

    /// Stores the browser's subscription; audited (who, and where its pushes will go).
    pub async fn subscribe(&self, caller: &Caller, request: SubscriptionRequest) -> Result<SubscriptionView, PushError> {
        let new = request.validate()?;
        let record = self.shared.store.run(move |store| store.upsert_push_subscription(&new, now_ms())).await?;
        self.audit(caller, "push_subscribed", &record.endpoint, record.name.as_deref()).await;
        Ok(record.into())
    }

    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionView>, PushError> {
        let records = self.shared.store.run(|store| store.push_subscriptions()).await?;
        Ok(records.into_iter().map(SubscriptionView::from).collect())
    }

    pub async fn unsubscribe(&self, caller: &Caller, id: Uuid) -> Result<(), PushError> {
        match self.shared.store.run(move |store| store.delete_push_subscription(id)).await? {
            true => {
                self.audit(caller, "push_unsubscribed", &id.to_string(), None).await;
                Ok(())
            }
            false => Err(PushError::NotFound(id)),
        }
    }

    /// Sends a test notification to one subscription now, once, and says how it went: what the
    /// settings sheet's "Send a test" shows. Not folded, not held back by presence.
    pub async fn test(&self, id: Uuid) -> Result<(), PushError> {
        let records = self.shared.store.run(|store| store.push_subscriptions()).await?;
        let subscription = records.into_iter().find(|s| s.id == id).ok_or(PushError::NotFound(id))?;
        sender::deliver_once(&self.shared, &subscription, &Payload::test()).await
    }

    async fn audit(&self, caller: &Caller, event: &'static str, what: &str, name: Option<&str>) {
        // The endpoint's origin says which push service; its path is the browser's secret.
        let target = reqwest::Url::parse(what).map_or_else(|_| what.to_owned(), |url| url.origin().ascii_serialization());
        let detail = match name {
            Some(name) => format!("{target} ({name})"),
            None => target,
        };
        let entry = AuditEntry::now(event, caller).detail(detail);
        if let Err(error) = self.shared.store.run(move |store| store.append_audit(&entry)).await {
            tracing::warn!(%error, event, "cannot write the audit log");
        }
    }
}

/// The runner's end of the channel: sending never waits.
#[derive(Clone, Default)]
pub struct Notifier {
    events: Option<mpsc::Sender<Payload>>,
}

impl Notifier {
    /// A notifier that sends nothing (a runner without push, in tests).
    pub fn disabled() -> Self {
        Self::default()
    }

    pub fn enabled(&self) -> bool {
        self.events.is_some()
    }

    pub fn send(&self, payload: Payload) {
        let Some(events) = &self.events else { return };
        if let Err(mpsc::error::TrySendError::Full(_)) = events.try_send(payload) {
            tracing::warn!("too many notifications waiting; one is dropped");
        }
    }
}
