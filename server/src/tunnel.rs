//! Cloudflare tunnels to this server, for the phone. `--tunnel` starts a quick tunnel and prints
//! its random public URL and a QR code to scan; `--tunnel-token` runs the named tunnel of that
//! token (the owner's own hostname, routed in Cloudflare's dashboard). Either way `cloudflared`
//! is this server's child: a tunnel that ends is reported, and the tunnel is stopped (its own
//! process, by its pid) when the server stops.

use qrcode::render::unicode;
use qrcode::QrCode;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long cloudflared may take to announce its URL, or to connect a named tunnel.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// What cloudflared logs once a named tunnel has a connection to Cloudflare's edge.
const NAMED_TUNNEL_UP: &str = "Registered tunnel connection";

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("cannot start {bin} ({source}); install cloudflared (https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/) or drop --tunnel / --tunnel-token")]
    Start { bin: String, source: std::io::Error },
    #[error("cloudflared did not announce a public URL within {} s", START_TIMEOUT.as_secs())]
    NoUrl,
    #[error("cloudflared did not connect the named tunnel within {} s", START_TIMEOUT.as_secs())]
    NotConnected,
    #[error("cloudflared stopped before the tunnel was up: {last_line}")]
    Exited { last_line: String },
}

/// The running tunnel; dropping it stops cloudflared.
pub struct Tunnel {
    child: Child,
    /// The quick tunnel's public URL (a named tunnel's is the hostname its owner routed to it).
    pub url: Option<String>,
    stopping: Arc<AtomicBool>,
}

impl Tunnel {
    /// A quick tunnel to `local_url`: no account, a new random `trycloudflare.com` URL each time.
    pub async fn quick(bin: &Path, local_url: &str) -> Result<Self, TunnelError> {
        let mut command = Command::new(bin);
        // A token in the environment must not turn this into somebody's named tunnel.
        command.args(["tunnel", "--no-autoupdate", "--url", local_url]).env_remove("TUNNEL_TOKEN");
        let (tunnel, url) = start(bin, command, public_url, || TunnelError::NoUrl).await?;
        Ok(Self { url: Some(url), ..tunnel })
    }

    /// The named tunnel of `token`. cloudflared reads the token from `TUNNEL_TOKEN`, so it is in
    /// no command line (`ps` shows every user the arguments of every process).
    pub async fn named(bin: &Path, token: &str) -> Result<Self, TunnelError> {
        let mut command = Command::new(bin);
        command.args(["tunnel", "--no-autoupdate", "run"]).env("TUNNEL_TOKEN", token);
        let connected = |line: &str| line.contains(NAMED_TUNNEL_UP).then_some(());
        let (tunnel, ()) = start(bin, command, connected, || TunnelError::NotConnected).await?;
        Ok(tunnel)
    }

    /// Stops cloudflared and waits for it.
    pub async fn stop(mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.child.kill().await;
    }
}

/// Starts `command` and reads cloudflared's log (stderr) until `ready` finds what it waits for.
async fn start<T>(
    bin: &Path,
    mut command: Command,
    ready: impl Fn(&str) -> Option<T>,
    timed_out: impl FnOnce() -> TunnelError,
) -> Result<(Tunnel, T), TunnelError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| TunnelError::Start { bin: bin.display().to_string(), source })?;
    let Some(stderr) = child.stderr.take() else { return Err(timed_out()) };
    let mut lines = BufReader::new(stderr).lines();
    let mut last_line = String::new();
    let found = tokio::time::timeout(START_TIMEOUT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(found) = ready(&line) {
                return Ok(found);
            }
            last_line = line;
        }
        Err(())
    })
    .await;
    let found = match found {
        Ok(Ok(found)) => found,
        Ok(Err(())) => {
            let _ = child.kill().await;
            return Err(TunnelError::Exited { last_line: last_line.trim().to_owned() });
        }
        Err(_) => {
            let _ = child.kill().await;
            return Err(timed_out());
        }
    };
    let stopping = Arc::new(AtomicBool::new(false));
    let stopped_on_purpose = stopping.clone();
    // Keep reading cloudflared's log so it never blocks on a full pipe; its end is cloudflared's.
    tokio::spawn(async move {
        let mut last_line = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            last_line = line;
        }
        if !stopped_on_purpose.load(Ordering::SeqCst) {
            crate::console::say!("warning: cloudflared exited, the tunnel is down (its last words: {}); restart the server to reopen it", last_line.trim());
        }
    });
    Ok((Tunnel { child, url: None, stopping }, found))
}

/// The `https://….trycloudflare.com` URL in a line of cloudflared's log.
fn public_url(line: &str) -> Option<String> {
    let start = line.find("https://")?;
    let url: String = line[start..].chars().take_while(|c| !c.is_whitespace() && *c != '|').collect();
    url.trim_end_matches('/').ends_with(".trycloudflare.com").then_some(url)
}

/// The URL as a QR code drawn with Unicode half blocks, for a terminal.
pub fn qr_code(url: &str) -> Option<String> {
    let code = QrCode::new(url.as_bytes()).ok()?;
    Some(code.render::<unicode::Dense1x2>().quiet_zone(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_is_found_in_cloudflared_logs() {
        let line = "2026-11-25T10:00:00Z INF |  https://lucky-cat-example.trycloudflare.com                                  |";
        assert_eq!(public_url(line).as_deref(), Some("https://lucky-cat-example.trycloudflare.com"));
        assert_eq!(public_url("INF Requesting new quick Tunnel on trycloudflare.com..."), None);
        assert_eq!(public_url("see https://developers.cloudflare.com/docs"), None);
        let qr = qr_code("https://lucky-cat-example.trycloudflare.com").expect("qr");
        assert!(qr.lines().count() > 10 && qr.contains('█'));
    }
}
