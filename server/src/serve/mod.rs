//! Serving connections: the accept loop, TLS, and the bounds that keep slow or silent clients
//! from holding the server: a header timeout, an idle timeout, and caps on open connections in
//! total and per client address, kept under the open-file limit.
//!
//! hyper-util's connection builder does HTTP/1 and HTTP/2; the rest is here because no server
//! crate offers it: axum-server has no header or idle timeout and no connection cap.

mod activity;
mod connection;
pub mod file_limit;
mod in_flight;
mod limits;
mod noticed;
mod slots;
pub mod tls;

pub use limits::Limits;

use activity::Timeouts;
use axum::body::Body;
use axum::http::{Request, Response};
use connection::{Accepted, Shared};
use hyper::body::Incoming;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// At shutdown, answers in progress get this long to finish before their connections are cut.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// After an accept fails for want of a resource (EMFILE, ENFILE, ENOBUFS, ENOMEM), the waiting
/// client stays queued and the listener stays ready, so accepting again at once would only spin:
/// the loop pauses this long for connections to close and free their descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Connections the kernel completes and queues before they are accepted. When the queue is full
/// it drops the client's last handshake packet and the client's request then waits a second or
/// more for a retry; std's 128 fills in a burst of a few hundred, even though the loop accepts
/// (and, over the caps, closes) at once. The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 1024;

/// HTTP/2 streams at once on one connection (hyper's default is 200): a browser needs a
/// handful, and each may hold a file open while it is answered.
const HTTP2_MAX_STREAMS: u32 = 32;

/// Listens on `address`.
pub fn bind(address: SocketAddr) -> io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std does: a restarted server can bind while the old one's connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves `make_service` on `listener` (with TLS when `tls` is given) within `limits`, until
/// `shutdown` resolves; then stops accepting and lets answers in progress finish for up to
/// [`SHUTDOWN_GRACE`]. Failing to accept never ends the loop.
pub async fn serve<M, S>(
    listener: tokio::net::TcpListener,
    mut make_service: M,
    tls: Option<Arc<rustls::ServerConfig>>,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
)
where
    M: tower::Service<SocketAddr, Response = S, Error = Infallible>,
    M::Future: Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let shared = Arc::new(Shared {
        builder: builder(),
        tls: tls.map(tokio_rustls::TlsAcceptor::from),
        timeouts: Timeouts { header: limits.header_timeout, idle: limits.idle_timeout },
    });
    let slots = slots::Slots::new(limits.max_connections, limits.max_connections_per_client);
    let graceful = GracefulShutdown::new();
    let mut refusals = Quiet::default();
    let mut accept_failures = Quiet::default();
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_per_connection(&error) {
                        accept_failures.warn(format_args!("cannot accept a connection: {error}; pausing {ACCEPT_BACKOFF:?}"));
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    continue;
                }
            },
        };
        let slot = match slots.take(peer.ip()) {
            Ok(slot) => slot,
            Err(refused) => {
                // Dropping the stream closes it at once: the client learns now, not after a
                // timeout, and holds no descriptor of ours.
                refusals.warn(format_args!("connection from {peer} closed at once: {refused}"));
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let accepted = Instant::now();
        let Ok(()) = std::future::poll_fn(|cx| make_service.poll_ready(cx)).await;
        let app = make_service.call(peer);
        let watcher = graceful.watcher();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(app) = app.await;
            connection::serve(Accepted { tcp, peer, accepted, app, watcher, slot }, shared).await;
        });
    }
    // Refuse new connections from now on rather than leave them queued.
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await.is_err() {
        tracing::info!("connections still open after {SHUTDOWN_GRACE:?} are cut");
    }
}

fn builder() -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own header timeout would start whenever the connection goes idle, making it the
    // keep-alive timeout as well; both are enforced per connection instead (see `activity`).
    builder.http1().header_read_timeout(None);
    builder.http2().max_concurrent_streams(HTTP2_MAX_STREAMS);
    builder
}

/// Errors that concern only the connection being accepted (the client gave up first): the next
/// accept can follow at once.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused | io::ErrorKind::Interrupted)
}

/// A warning at most every ten seconds, with how many were held back: under attack the log must
/// not become the next thing to fill up.
#[derive(Default)]
struct Quiet {
    last: Option<Instant>,
    held_back: u64,
}

impl Quiet {
    const EVERY: Duration = Duration::from_secs(10);

    fn warn(&mut self, message: impl Display) {
        let now = Instant::now();
        if self.last.is_some_and(|last| now.duration_since(last) < Self::EVERY) {
            self.held_back += 1;
            return;
        }
        if self.held_back > 0 {
            tracing::warn!("{message} (and {} more like it)", self.held_back);
        } else {
            tracing::warn!("{message}");
        }
        self.last = Some(now);
        self.held_back = 0;
    }
}
