//! What every handler can reach.

use crate::auth::AuthService;
use crate::claude::version::{probe, CliStatus};
use crate::runner::Runner;
use crate::store::Store;
use axum::extract::FromRef;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

#[derive(Clone)]
pub struct AppState {
    pub runner: Runner,
    pub auth: Arc<AuthService>,
    pub store: Arc<Store>,
    pub cli: Arc<CliProbe>,
    /// The canonical project directory.
    pub project: PathBuf,
    pub sync_timeout: Duration,
}

impl FromRef<AppState> for Arc<AuthService> {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

/// The CLI's presence and version, probed at start. A missing CLI is probed again at most every
/// 30 s, so installing it while the server runs is noticed.
pub struct CliProbe {
    bin: PathBuf,
    last: Mutex<(CliStatus, Instant)>,
}

const RETRY_MISSING: Duration = Duration::from_secs(30);

impl CliProbe {
    pub async fn new(bin: PathBuf) -> Self {
        let status = probe(&bin).await;
        Self { bin, last: Mutex::new((status, Instant::now())) }
    }

    pub async fn status(&self) -> CliStatus {
        let mut last = self.last.lock().await;
        if !last.0.found && last.1.elapsed() > RETRY_MISSING {
            *last = (probe(&self.bin).await, Instant::now());
        }
        last.0.clone()
    }
}
