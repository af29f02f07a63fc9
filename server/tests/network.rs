//! Reaching the server from a phone: the Cloudflare quick tunnel and built-in HTTPS.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{Dirs, Server, PASSWORD, USER};

fn stand_in_cloudflared() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/cloudflared")
}

/// The stand-in cloudflared, wrapped so that it logs its pid and arguments to `log`.
fn cloudflared_logging_to(dirs: &Dirs, log: &std::path::Path) -> std::path::PathBuf {
    let wrapper = dirs.root.path().join("cloudflared");
    let script = format!("#!/usr/bin/env bash\nFAKE_CLOUDFLARED_LOG='{}' exec '{}' \"$@\"\n", log.display(), stand_in_cloudflared().display());
    std::fs::write(&wrapper, script).expect("wrapper");
    let _ = Command::new("chmod").arg("+x").arg(&wrapper).status();
    wrapper
}

#[tokio::test]
async fn the_tunnel_prints_its_url_and_qr_code_and_stops_with_the_server() {
    let dirs = Dirs::new();
    let log = dirs.root.path().join("cloudflared.log");
    let cloudflared = cloudflared_logging_to(&dirs, &log);
    let mut server = Server::start_with(&dirs, &["--tunnel", "--cloudflared-bin", cloudflared.to_str().expect("utf-8")]);
    let line = server.printed("tunnel: ");
    assert_eq!(line, "tunnel: https://stand-in-tunnel-example.trycloudflare.com");
    // The QR code is printed after the URL line: read on until it is all there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.stdout.lock().expect("lock").join("\n").matches('█').count() <= 50 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let printed = server.stdout.lock().expect("lock").join("\n");
    assert!(printed.matches('█').count() > 50, "a QR code follows the URL");
    let recorded = std::fs::read_to_string(&log).expect("cloudflared ran");
    let (pid, args) = recorded.trim().split_once(' ').expect("pid and args");
    assert_eq!(args, format!("tunnel --no-autoupdate --url {}", server.base));
    let pid: i32 = pid.parse().expect("pid");
    assert!(support::is_alive(pid));

    // Behind the tunnel the client's address comes from Cloudflare's header.
    let response = server
        .http
        .get(server.url("/api/sessions"))
        .basic_auth(USER, Some("wrong"))
        .header("cf-connecting-ip", "203.0.113.9")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 401);
    let (_, audit) = server.get("/api/audit").await;
    assert_eq!(audit["entries"][0]["client"], "203.0.113.9");

    let _ = Command::new("kill").args(["-TERM", &server.pid().to_string()]).status();
    let status = server.child.wait().expect("server exits");
    assert!(status.success(), "{status:?}");
    for _ in 0..100 {
        if !support::is_alive(pid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("cloudflared {pid} outlived the server");
}

#[tokio::test]
async fn built_in_https_serves_with_the_given_certificate() {
    let dirs = Dirs::new();
    let (cert, key) = support::self_signed_certificate(&dirs);
    let server = Server::start_with(&dirs, &["--tls-cert", cert.to_str().expect("utf-8"), "--tls-key", key.to_str().expect("utf-8")]);
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let output = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", "-u", &format!("{USER}:{PASSWORD}")])
        .arg(server.url("/api/sessions"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200") || head.starts_with("http/2 200"), "{head}");
    assert!(head.contains("strict-transport-security: max-age="), "{head}");
    // The server speaks TLS itself: its cookies are Secure without any proxy header saying so.
    let sign_in = Command::new("curl")
        .args(["-sk", "-D", "-", "-o", "/dev/null", "--data-urlencode", &format!("username={USER}"), "--data-urlencode", &format!("password={PASSWORD}")])
        .arg(server.url("/api/fn/sign_in"))
        .output()
        .expect("curl");
    let head = String::from_utf8_lossy(&sign_in.stdout).to_ascii_lowercase();
    let cookies: Vec<&str> = head.lines().filter(|l| l.starts_with("set-cookie:")).collect();
    assert_eq!(cookies.len(), 2, "{head}");
    assert!(cookies.iter().all(|c| c.split(';').any(|attribute| attribute.trim() == "secure")), "{cookies:?}");
    let plain = Command::new("curl").args(["-s", "-o", "/dev/null", "-w", "%{http_code}"]).arg(server.url("/health").replace("https://", "http://")).output().expect("curl");
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "no plain HTTP on the TLS port");
}
