//! `--tunnel`: a Cloudflare quick tunnel to this server, for the phone. Starts `cloudflared`,
//! prints the public URL and a QR code to scan, and stops that `cloudflared` (its own process,
//! by its pid) when the server stops.

use qrcode::render::unicode;
use qrcode::QrCode;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long cloudflared may take to announce its URL.
const URL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    #[error("cannot start {bin} ({source}); install cloudflared (https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/downloads/) or drop --tunnel")]
    Start { bin: String, source: std::io::Error },
    #[error("cloudflared did not announce a public URL within {} s", URL_TIMEOUT.as_secs())]
    NoUrl,
}

/// The running tunnel; dropping it stops cloudflared.
pub struct Tunnel {
    child: Child,
    pub url: String,
}

impl Tunnel {
    pub async fn start(bin: &Path, local_url: &str) -> Result<Self, TunnelError> {
        let mut child = Command::new(bin)
            .args(["tunnel", "--no-autoupdate", "--url", local_url])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| TunnelError::Start { bin: bin.display().to_string(), source })?;
        let Some(stderr) = child.stderr.take() else { return Err(TunnelError::NoUrl) };
        let mut lines = BufReader::new(stderr).lines();
        let found = tokio::time::timeout(URL_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = public_url(&line) {
                    return Some(url);
                }
            }
            None
        })
        .await;
        let Ok(Some(url)) = found else {
            let _ = child.start_kill();
            return Err(TunnelError::NoUrl);
        };
        // Keep reading cloudflared's log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self { child, url })
    }

    /// Stops cloudflared and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
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
