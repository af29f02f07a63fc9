//! What every handler can reach.

use crate::auth::AuthService;
use crate::claude::version::{probe, CliStatus};
use crate::runner::Runner;
use crate::store::Store;
use axum::extract::FromRef;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    last: Mutex<(Arc<CliStatus>, Instant)>,
}

const RETRY_MISSING: Duration = Duration::from_secs(30);

impl CliProbe {
    pub async fn new(bin: PathBuf) -> Self {
        let status = probe(&bin).await;
        Self { bin, last: Mutex::new((Arc::new(status), Instant::now())) }
    }

    /// `/health` asks on every call: the answer is shared, not rebuilt. A CLI found before is
    /// looked at again (one `stat`) each time, so a deleted CLI is reported at once.
    pub async fn status(&self) -> Arc<CliStatus> {
        let known = self.last.lock().ok().map(|last| (last.0.clone(), !last.0.found && last.1.elapsed() > RETRY_MISSING));
        if let Some((status, false)) = known {
            let gone = match &status.path {
                Some(path) if status.found => !tokio::fs::try_exists(path).await.unwrap_or(false),
                _ => false,
            };
            if !gone {
                return status;
            }
        }
        let fresh = Arc::new(probe(&self.bin).await);
        if let Ok(mut last) = self.last.lock() {
            *last = (fresh.clone(), Instant::now());
        }
        fresh
    }
}
