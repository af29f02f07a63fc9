//! Connections on a public URL: a client that sends half a request, or holds a connection open
//! and silent, is disconnected on time; one address cannot take every connection; a low file
//! limit never takes the server down; `/health` keeps answering other addresses throughout.
//!
//! Every client here is on 127.0.0.x. The limits are set through their environment variables,
//! short, so that each test runs in seconds.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use support::{fake_claude, Dirs, Server, PASSWORD, USER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A request head that never ends: the blank line that closes it is never sent.
const HALF_A_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n";

const ATTACKER: [u8; 4] = [127, 0, 0, 1];
const OWNER: [u8; 4] = [127, 0, 0, 2];

fn limits(pairs: &[(&'static str, u64)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(name, value)| (*name, value.to_string())).collect()
}

fn launch(dirs: &Dirs, env: &[(&'static str, String)]) -> Server {
    Server::launch(dirs, &fake_claude(), &[], env)
}

fn address_of(server: &Server) -> SocketAddr {
    let host_port = server.base.rsplit('/').next().expect("host:port");
    host_port.parse().expect("socket address")
}

async fn connect_from(local: [u8; 4], server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::from(local), 0))?;
    socket.connect(server).await
}

/// Opens `count` connections from the attacker's address, each with half a request sent.
/// Returns each connection with the moment its half request went out; a connection that could
/// not be made within two seconds is left out.
/// They are opened 25 at a time, so that the test's own sockets do not all start at once.
async fn half_open(count: usize, server: SocketAddr) -> Vec<(TcpStream, Instant)> {
    let mut open = Vec::new();
    for batch in (0..count).collect::<Vec<_>>().chunks(25) {
        let mut opening = tokio::task::JoinSet::new();
        for _ in batch {
            opening.spawn(async move {
                let mut stream = tokio::time::timeout(Duration::from_secs(2), connect_from(ATTACKER, server)).await.ok()?.ok()?;
                // The server may already have closed a connection over its cap: a failed write
                // is still a connection to count.
                let _ = stream.write_all(HALF_A_REQUEST).await;
                Some((stream, Instant::now()))
            });
        }
        while let Some(joined) = opening.join_next().await {
            open.extend(joined.expect("join"));
        }
    }
    open
}

/// How long after `since` the server closed `stream` (end of file or reset), or `None` if it was
/// still open at `since + limit`.
async fn closed_after(mut stream: TcpStream, since: Instant, limit: Duration) -> Option<Duration> {
    let mut buffer = [0u8; 1024];
    let deadline = tokio::time::Instant::from_std(since + limit);
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(since.elapsed()),
            // A server may answer (a 408, say) before it closes: keep reading.
            Ok(Ok(_)) => {}
        }
    }
}

fn owner_client() -> reqwest::Client {
    reqwest::Client::builder().local_address(IpAddr::from(OWNER)).timeout(Duration::from_secs(3)).build().expect("client")
}

/// `/health` from the owner's address: its status (0 when it did not answer in 3 s) and latency.
async fn health(owner: &reqwest::Client, server: &Server) -> (u16, Duration) {
    let started = Instant::now();
    let status = match owner.get(server.url("/health")).send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    };
    (status, started.elapsed())
}

/// Asks `/health` from the owner's address every 100 ms for `period`; each must answer 200.
async fn health_keeps_answering(owner: &reqwest::Client, server: &Server, period: Duration) -> Vec<Duration> {
    let until = Instant::now() + period;
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let (status, took) = health(owner, server).await;
        assert_eq!(status, 200, "/health from another address after {} answers: {latencies:?}", latencies.len());
        latencies.push(took);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies
}

fn slowest(latencies: &[Duration]) -> Duration {
    latencies.iter().copied().max().unwrap_or_default()
}

/// Sends one whole `GET path` on a kept-alive connection and reads the answer: its status.
async fn get_on(stream: &mut TcpStream, path: &str) -> u16 {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse().ok())
                    .expect("a content-length");
                if received.len() >= end + 4 + length {
                    return head.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status");
                }
            }
            let n = stream.read(&mut buffer).await.expect("read");
            assert!(n > 0, "the connection closed mid-answer");
            received.extend_from_slice(&buffer[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read).await.expect("an answer within 5 s")
}

#[tokio::test]
async fn half_open_requests_are_cut_at_the_header_timeout_while_health_answers() {
    let dirs = Dirs::new();
    let server = launch(&dirs, &limits(&[("HEADER_TIMEOUT_SECS", 2)]));
    let held = half_open(100, address_of(&server)).await;
    assert_eq!(held.len(), 100, "every connection is accepted");

    let closing: Vec<_> = held.into_iter().map(|(stream, sent)| tokio::spawn(closed_after(stream, sent, Duration::from_secs(8)))).collect();
    let latencies = health_keeps_answering(&owner_client(), &server, Duration::from_millis(1500)).await;

    let mut cut_after = Vec::new();
    for closed in closing {
        cut_after.push(closed.await.expect("join").expect("a half-open request is still open 8 s later"));
    }
    cut_after.sort();
    let (first, last) = (cut_after[0], cut_after[cut_after.len() - 1]);
    println!("100 half-open requests cut after {first:?} to {last:?}; /health slowest {:?} over {} answers", slowest(&latencies), latencies.len());
    assert!(first >= Duration::from_millis(1800), "not cut before the 2 s header timeout: {first:?}");
    assert!(last <= Duration::from_secs(4), "cut soon after the 2 s header timeout: {last:?}");
    let (status, _) = health(&owner_client(), &server).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn four_hundred_half_open_connections_under_a_low_file_limit_do_not_take_the_server_down() {
    // This test holds hundreds of sockets itself.
    if let Ok((_, hard)) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        let _ = nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE, hard, hard);
    }
    let dirs = Dirs::new();
    let env = limits(&[("HEADER_TIMEOUT_SECS", 3)]);
    let server = Server::launch_with_file_limit(&dirs, &fake_claude(), &[], &env, Some(256));
    let owner = owner_client();

    let started = Instant::now();
    let held = half_open(400, address_of(&server)).await;
    let (opened, connecting) = (held.len(), started.elapsed());
    let closing: Vec<_> = held.into_iter().map(|(stream, sent)| tokio::spawn(closed_after(stream, sent, Duration::from_secs(8)))).collect();
    let during = health_keeps_answering(&owner, &server, Duration::from_secs(2)).await;

    let mut at_once = 0;
    let mut at_timeout = Vec::new();
    for closed in closing {
        match closed.await.expect("join") {
            Some(after) if after < Duration::from_secs(1) => at_once += 1,
            Some(after) => at_timeout.push(after),
            None => panic!("a connection is still open 8 s after its half request"),
        }
    }
    let after = health_keeps_answering(&owner, &server, Duration::from_millis(500)).await;
    assert!(support::is_alive(server.pid()), "the server is still running");

    let limits = server.printed("connections: ");
    let per_client: usize = limits
        .split_once(" per client")
        .and_then(|(before, _)| before.rsplit('(').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the per-client cap in {limits:?}"));
    println!(
        "file limit 256: {opened} of 400 connected in {connecting:?}; {at_once} closed at once, {} held then cut after {:?} to {:?}; /health slowest {:?} during, {:?} after; {limits}",
        at_timeout.len(),
        at_timeout.iter().min(),
        at_timeout.iter().max(),
        slowest(&during),
        slowest(&after),
    );
    assert!(opened >= 300, "most connections were accepted, then closed: {opened}");
    assert!(!at_timeout.is_empty() && at_timeout.len() <= per_client, "one address holds at most its cap ({per_client}): {}", at_timeout.len());
    assert!(at_timeout.iter().all(|d| *d >= Duration::from_millis(2800)), "held ones are cut at the 3 s header timeout: {at_timeout:?}");
    assert_eq!(at_once + at_timeout.len(), opened);
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout_and_not_before() {
    let dirs = Dirs::new();
    let server = launch(&dirs, &limits(&[("HEADER_TIMEOUT_SECS", 1), ("IDLE_TIMEOUT_SECS", 3)]));
    let mut stream = connect_from(ATTACKER, address_of(&server)).await.expect("connect");
    assert_eq!(get_on(&mut stream, "/health").await, 200);

    // Longer than the header timeout: an idle connection waits for the idle timeout instead.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(get_on(&mut stream, "/health").await, 200, "still open after 1.5 s idle");

    let answered = Instant::now();
    let closed = closed_after(stream, answered, Duration::from_secs(8)).await.expect("an idle connection is closed");
    println!("idle keep-alive connection closed {closed:?} after its last answer (idle timeout 3 s)");
    assert!(closed >= Duration::from_millis(2800) && closed <= Duration::from_secs(5), "{closed:?}");
}

#[tokio::test]
async fn the_next_request_on_a_kept_alive_connection_must_arrive_whole_within_the_header_timeout() {
    let dirs = Dirs::new();
    let server = launch(&dirs, &limits(&[("HEADER_TIMEOUT_SECS", 1), ("IDLE_TIMEOUT_SECS", 30)]));
    let mut stream = connect_from(ATTACKER, address_of(&server)).await.expect("connect");
    assert_eq!(get_on(&mut stream, "/health").await, 200);

    stream.write_all(HALF_A_REQUEST).await.expect("send");
    let sent = Instant::now();
    let closed = closed_after(stream, sent, Duration::from_secs(8)).await.expect("the half request is cut");
    println!("half a second request cut {closed:?} after it began (header timeout 1 s, idle 30 s)");
    assert!(closed >= Duration::from_millis(800) && closed <= Duration::from_millis(2500), "{closed:?}");
}

#[tokio::test]
async fn an_event_stream_longer_than_the_idle_timeout_is_not_cut() {
    let dirs = Dirs::new();
    let server = launch(&dirs, &limits(&[("HEADER_TIMEOUT_SECS", 1), ("IDLE_TIMEOUT_SECS", 1)]));
    let (task, session) = server.submit("new", "take your time #SLOW=3").await;

    let started = Instant::now();
    let response = server
        .http
        .get(server.url(&format!("/api/sessions/{session}/tasks/{task}/events")))
        .basic_auth(USER, Some(PASSWORD))
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("GET events");
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(Duration::from_secs(20), response.text()).await.expect("the stream ends").expect("the whole stream");
    let took = started.elapsed();
    println!("event stream of a 3 s task: {took:?} with a 1 s idle timeout");
    assert!(took >= Duration::from_millis(2500), "the stream followed the task: {took:?}");
    let end = body.split("\n\n").find(|block| block.starts_with("event: end")).unwrap_or_else(|| panic!("no end event: {body}"));
    assert!(end.contains("completed"), "{end}");
}

#[tokio::test]
async fn a_tls_handshake_that_never_finishes_is_cut_at_the_header_timeout() {
    let dirs = Dirs::new();
    let (cert, key) = support::self_signed_certificate(&dirs);
    let args = ["--tls-cert", cert.to_str().expect("utf-8"), "--tls-key", key.to_str().expect("utf-8")];
    let server = Server::launch(&dirs, &fake_claude(), &args, &limits(&[("HEADER_TIMEOUT_SECS", 1)]));
    let address = address_of(&server);

    let silent = connect_from(ATTACKER, address).await.expect("connect");
    let opened = Instant::now();
    // A TLS record header announcing a 512-byte ClientHello, and nothing more.
    let mut partial = connect_from(ATTACKER, address).await.expect("connect");
    partial.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01]).await.expect("send");
    let partial_sent = Instant::now();

    let silent = closed_after(silent, opened, Duration::from_secs(8)).await.expect("a silent client is cut");
    let partial = closed_after(partial, partial_sent, Duration::from_secs(8)).await.expect("a partial handshake is cut");
    println!("unfinished TLS handshakes cut after {silent:?} (silent) and {partial:?} (partial ClientHello)");
    for cut in [silent, partial] {
        assert!(cut >= Duration::from_millis(800) && cut <= Duration::from_millis(2500), "{cut:?}");
    }
    // HTTPS itself still works.
    let output = std::process::Command::new("curl").args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"]).arg(server.url("/health")).output().expect("curl");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "200");
}
