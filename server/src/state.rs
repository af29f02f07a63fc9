//! What every handler can reach.

use crate::auth::AuthService;
use crate::claude::version::{probe, CliStatus};
use crate::push::Push;
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
    pub push: Arc<Push>,
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
    last: Mutex<Probed>,
}

struct Probed {
    status: Arc<CliStatus>,
    /// When the CLI was probed (run with `--version`).
    probed: Instant,
    /// When a found CLI's file was last seen still there.
    seen: Instant,
}

const RETRY_MISSING: Duration = Duration::from_secs(30);

/// A found CLI's file is looked at again (one `stat`, on the blocking pool) at most this often:
/// a monitor polling `/health` learns of a deleted CLI within it, and a flood of `/health` calls
/// costs no thread hop each.
const RECHECK_FOUND: Duration = Duration::from_secs(1);

impl CliProbe {
    pub async fn new(bin: PathBuf) -> Self {
        let status = Arc::new(probe(&bin).await);
        let now = Instant::now();
        Self { bin, last: Mutex::new(Probed { status, probed: now, seen: now }) }
    }

    /// `/health` asks on every call: the answer is shared, not rebuilt.
    pub async fn status(&self) -> Arc<CliStatus> {
        let known = self.last.lock().ok().map(|last| {
            let stale = if last.status.found { last.seen.elapsed() > RECHECK_FOUND } else { last.probed.elapsed() > RETRY_MISSING };
            (last.status.clone(), stale)
        });
        match known {
            Some((status, false)) => return status,
            Some((status, true)) if status.found => {
                let still_there = match &status.path {
                    Some(path) => tokio::fs::try_exists(path).await.unwrap_or(false),
                    None => true,
                };
                if still_there {
                    if let Ok(mut last) = self.last.lock() {
                        last.seen = Instant::now();
                    }
                    return status;
                }
            }
            _ => {}
        }
        let fresh = Arc::new(probe(&self.bin).await);
        if let Ok(mut last) = self.last.lock() {
            let now = Instant::now();
            *last = Probed { status: fresh.clone(), probed: now, seen: now };
        }
        fresh
    }
}
