//! Stop requests for live tasks (queued or running).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use uuid::Uuid;

#[derive(Default)]
pub struct Control {
    cancelled: AtomicBool,
    wake: Notify,
}

impl Control {
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once a stop was asked for (at once if it already was).
    pub async fn cancelled(&self) {
        loop {
            // Register before checking the flag, so a stop between the two is not missed.
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }
}

#[derive(Default)]
pub struct Controls {
    live: Mutex<HashMap<Uuid, Arc<Control>>>,
}

impl Controls {
    pub fn register(&self, task: Uuid) {
        if let Ok(mut live) = self.live.lock() {
            live.entry(task).or_default();
        }
    }

    pub fn get(&self, task: Uuid) -> Option<Arc<Control>> {
        self.live.lock().ok()?.get(&task).cloned()
    }

    /// Asks a live task to stop. `false` if the task is not live.
    pub fn cancel(&self, task: Uuid) -> bool {
        let Some(control) = self.get(task) else { return false };
        control.cancelled.store(true, Ordering::SeqCst);
        control.wake.notify_waiters();
        true
    }

    pub fn forget(&self, task: Uuid) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(&task);
        }
    }
}
