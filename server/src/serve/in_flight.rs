//! The app as one connection's hyper service: each request marks the connection busy until its
//! response body has been sent or dropped, so a long answer (an event stream, a long poll) is
//! never taken for an idle connection.

use super::activity::{Activity, InFlight};
use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub(super) struct Tracked<S> {
    app: S,
    activity: Arc<Activity>,
}

impl<S> Tracked<S> {
    pub(super) fn new(app: S, activity: Arc<Activity>) -> Self {
        Self { app, activity }
    }
}

impl<S> hyper::service::Service<Request<Incoming>> for Tracked<S>
where
    S: tower::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.request_started(request.version());
        // hyper calls through `&self` (HTTP/2 streams run at once); the tower service wants
        // `&mut`: a clone per request, as hyper-util's adapter does (the router is behind an Arc).
        let mut app = self.app.clone();
        Box::pin(async move {
            std::future::poll_fn(|cx| app.poll_ready(cx)).await?;
            let response = app.call(request).await?;
            Ok(response.map(|body| TrackedBody { body, _in_flight: in_flight }))
        })
    }
}

/// A response body that keeps its connection busy until it is sent or dropped.
pub(super) struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
