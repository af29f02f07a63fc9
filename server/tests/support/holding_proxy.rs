//! A stand-in for how a Cloudflare quick tunnel treats answers: each request is forwarded to the
//! server, and the whole answer is held until it has ended, then sent at once. Server-Sent Events
//! through it arrive only when the stream closes; a long-poll still answers line by line.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves on 127.0.0.1 in front of `upstream` (`http://127.0.0.1:port`); returns its base URL.
pub async fn start(upstream: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let client = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (client, upstream) = (client.clone(), upstream.clone());
            tokio::spawn(async move {
                let Some(head) = read_head(&mut socket).await else { return };
                let mut lines = head.lines();
                let Some(path) = lines.next().and_then(|l| l.split_whitespace().nth(1)).map(str::to_owned) else { return };
                let mut request = client.get(format!("{upstream}{path}")).timeout(Duration::from_secs(120));
                for line in lines {
                    if let Some((name, value)) = line.split_once(':')
                        && ["authorization", "accept", "last-event-id", "cookie"].contains(&name.trim().to_ascii_lowercase().as_str()) {
                        request = request.header(name.trim(), value.trim());
                    }
                }
                let Ok(response) = request.send().await else { return };
                let status = response.status().as_u16();
                let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("text/plain").to_owned();
                // Held until the whole answer is in.
                let body = response.bytes().await.unwrap_or_default();
                let head = format!("HTTP/1.1 {status} OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&body).await;
            });
        }
    });
    base
}

async fn read_head(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = socket.read(&mut byte).await.ok().filter(|n| *n > 0)?;
        head.extend_from_slice(&byte[..read]);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    String::from_utf8(head).ok()
}
