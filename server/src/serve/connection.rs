//! Serving one accepted connection: the TLS handshake, then HTTP/1 or HTTP/2 through hyper,
//! closed when its phase's deadline passes (see `activity`).

use super::activity::{Activity, Phase, Timeouts};
use super::in_flight::Tracked;
use super::noticed::Noticed;
use super::slots::Slot;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::Watcher;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// What every connection shares.
pub(super) struct Shared {
    pub builder: Builder<TokioExecutor>,
    pub tls: Option<TlsAcceptor>,
    pub timeouts: Timeouts,
}

/// One accepted connection, from `accepted` on. `watcher` ends it gracefully at shutdown; `_slot`
/// keeps its place under the connection caps until it is closed.
pub(super) struct Accepted<S> {
    pub tcp: TcpStream,
    pub peer: SocketAddr,
    pub accepted: Instant,
    pub app: S,
    pub watcher: Watcher,
    pub slot: Slot,
}

pub(super) async fn serve<S>(connection: Accepted<S>, shared: Arc<Shared>)
where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let Accepted { tcp, peer, accepted, app, watcher, slot: _slot } = connection;
    let activity = Activity::new(accepted);
    let Some(acceptor) = &shared.tls else {
        return drive(tcp, peer, app, activity, watcher, &shared).await;
    };
    // The handshake counts against the first request's header timeout: a client that connects
    // and never finishes it is cut like one that never sends a request.
    let deadline = accepted + shared.timeouts.header;
    match tokio::time::timeout_at(deadline, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => drive(stream, peer, app, activity, watcher, &shared).await,
        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake unfinished at the header timeout: closed"),
    }
}

async fn drive<IO, S>(io: IO, peer: SocketAddr, app: S, activity: Arc<Activity>, watcher: Watcher, shared: &Shared)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut phase = activity.subscribe();
    let io = TokioIo::new(Noticed::new(io, activity.clone()));
    let served = watcher.watch(shared.builder.serve_connection(io, Tracked::new(app, activity)));
    tokio::pin!(served);
    loop {
        let deadline = phase.borrow_and_update().deadline(shared.timeouts);
        // Biased: the connection is polled first, so a request that has just arrived makes it
        // busy before its deadline is looked at.
        tokio::select! {
            biased;
            outcome = &mut served => {
                if let Err(error) = outcome {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
                return;
            }
            changed = phase.changed() => {
                // The sender lives as long as the connection; gone, there is nothing left to serve.
                if changed.is_err() {
                    return;
                }
            }
            () = sleep_until(deadline) => {
                // Nothing is in flight in a phase with a deadline: dropping the connection loses
                // no answer. hyper's graceful close would keep a half-received head waiting.
                log_timeout(peer, &phase);
                return;
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn log_timeout(peer: SocketAddr, phase: &watch::Receiver<Phase>) {
    match *phase.borrow() {
        Phase::Idle { .. } => tracing::debug!(%peer, "idle connection closed"),
        Phase::Opening { .. } | Phase::ReadingHead { .. } => tracing::debug!(%peer, "no whole request head within the header timeout: closed"),
        Phase::Busy { .. } => {}
    }
}
