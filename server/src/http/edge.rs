//! What every request passes first: the request log, the body-size cap (before anything reads
//! the body or checks a password), the caller's address, the same-origin rule for writes, and the
//! security headers on every response.

use super::error::ApiError;
use super::MAX_BODY_BYTES;
use crate::auth::is_https;
use app::api::Caller;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, HttpMakeClassifier, TraceLayer};
use tower_http::LatencyUnit;

/// Settings of the edge, fixed at start.
#[derive(Clone, Debug)]
pub struct EdgePolicy {
    /// Where the client's address comes from.
    pub client_address: ClientAddressSource,
    /// Served over TLS by this process.
    pub tls: bool,
    pub content_security_policy: HeaderValue,
}

/// 413 from the `Content-Length` alone: an oversized body is refused without being read.
/// (Chunked bodies are cut at the same size when read.)
pub async fn refuse_large_bodies(request: Request, next: Next) -> Result<Response, ApiError> {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge(format!("request body is over the {MAX_BODY_BYTES}-byte limit")));
    }
    Ok(next.run(request).await)
}

/// Where the client's address is read. A header is believed only from the one proxy that sets
/// it, and only when that proxy connects from this machine (loopback): anyone else could write
/// any address into it and buy a fresh sign-in budget with each request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAddressSource {
    /// The socket's peer.
    Socket,
    /// `CF-Connecting-IP`, which cloudflared passes on from Cloudflare's edge (`--tunnel`).
    CfConnectingIp,
    /// The right-most address of `X-Forwarded-For` that is not a proxy on this machine: the one
    /// the nearest proxy appended (`--trust-proxy`). Entries left of it are the client's word.
    XForwardedFor,
}

/// Records the caller's address: the socket's, or the configured proxy's word for it.
pub async fn caller_address(State(policy): State<Arc<EdgePolicy>>, mut request: Request, next: Next) -> Response {
    let socket = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let address = socket.map(|peer| match peer.is_loopback() {
        true => forwarded_address(policy.client_address, request.headers()).unwrap_or(peer),
        false => peer,
    });
    request.extensions_mut().insert(Caller { address, username: None });
    next.run(request).await
}

fn forwarded_address(source: ClientAddressSource, headers: &HeaderMap) -> Option<IpAddr> {
    match source {
        ClientAddressSource::Socket => None,
        ClientAddressSource::CfConnectingIp => headers.get("cf-connecting-ip")?.to_str().ok()?.trim().parse().ok(),
        ClientAddressSource::XForwardedFor => {
            let hops: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            for hop in hops.iter().rev() {
                let address: IpAddr = hop.parse().ok()?;
                if !address.is_loopback() {
                    return Some(address);
                }
            }
            None
        }
    }
}

/// Writes (anything but GET/HEAD/OPTIONS) that a browser sends from another site are refused
/// with 403, whatever credentials they carry: the cookie is SameSite=Strict already, and this
/// also covers Basic credentials a browser may have cached.
pub async fn same_origin_writes(request: Request, next: Next) -> Result<Response, ApiError> {
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) && !same_origin(request.headers()) {
        return Err(ApiError::Forbidden("cross-site requests may not change anything here".into()));
    }
    Ok(next.run(request).await)
}

fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match header("origin") {
        // No browser origin: curl, scripts, other non-browser clients.
        None => true,
        Some(origin) => {
            let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            [header("host"), header("x-forwarded-host")].into_iter().flatten().any(|host| host.eq_ignore_ascii_case(authority))
        }
    }
}

/// The headers every response carries, whatever answered it (a route, an error, a static file),
/// each set by a `SetResponseHeader` layer over anything the answer said.
pub fn security_headers(policy: &EdgePolicy) -> [(HeaderName, HeaderValue); 7] {
    [
        (header::CONTENT_SECURITY_POLICY, policy.content_security_policy.clone()),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()")),
    ]
}

/// HSTS over HTTPS only: served over TLS by this process, or behind a proxy that says so in the
/// request (which is why this is not a fixed header).
pub async fn strict_transport_security(State(policy): State<Arc<EdgePolicy>>, request: Request, next: Next) -> Response {
    let https = policy.tls || is_https(request.headers());
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

type RequestSpan = fn(&Request) -> tracing::Span;

/// One line per answered request: method, path, status and time. Only the path is logged (a
/// query string could carry something private) and never a header, a cookie or a body.
pub fn request_log() -> TraceLayer<HttpMakeClassifier, RequestSpan> {
    let span: RequestSpan = |request| tracing::info_span!("request", method = %request.method(), path = %request.uri().path());
    TraceLayer::new_for_http()
        .make_span_with(span)
        .on_request(DefaultOnRequest::new())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros))
}

/// Trunk names built assets by content hash (`frontend-5cd88a6816c6ae29_bg.wasm`): a phone may
/// keep them for good. Everything else (index.html, sw.js, the manifest) is revalidated, so a new
/// build reaches it at once. A 304 carries the policy too, as the 200 it stands for would.
pub async fn static_cache_policy(request: Request, next: Next) -> Response {
    let hashed = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    // A content-hashed asset the build does not hold (an earlier build's, asked for by a page
    // loaded before an update) would otherwise get the app's page, cached for a year as that
    // asset.
    if hashed && is_page(&response) {
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))]).into_response();
    }
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

fn is_page(response: &Response) -> bool {
    response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
}

fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    // A built file has an extension; a page's address (`/s/<session uuid>`) does not.
    let Some((stem, _)) = name.split_once('.') else { return false };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    // Trunk writes its 64-bit hash without leading zeros: 16 hex digits, sometimes fewer.
    stem.rsplit_once('-').is_some_and(|(_, hash)| (12..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The Content Security Policy: only this app, plus the one inline module script Trunk writes
/// into index.html (allowed by its hash, read from the built file at start) and WebAssembly.
pub fn content_security_policy(index_html: Option<&str>) -> HeaderValue {
    let hashes: String = index_html.map(inline_script_hashes).unwrap_or_default().iter().map(|h| format!(" 'sha256-{h}'")).collect();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"))
}

fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag = &rest[start..];
        let Some(open_end) = after_tag.find('>') else { break };
        let attributes = &after_tag[..open_end];
        let body_start = &after_tag[open_end + 1..];
        let Some(close) = body_start.find("</script>") else { break };
        if !attributes.contains("src=") {
            hashes.push(base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&body_start.as_bytes()[..close])));
        }
        rest = &body_start[close..];
    }
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_browser_writes_pass() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, HeaderValue::from_static(v));
            }
            map
        };
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[("origin", "http://127.0.0.1:8080"), ("host", "127.0.0.1:8080")])));
        assert!(!same_origin(&headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:8080")])));
        assert!(!same_origin(&headers(&[("origin", "null"), ("host", "127.0.0.1:8080")])));
    }

    #[test]
    fn the_inline_loader_is_allowed_by_its_hash_and_nothing_else_inline() {
        let html = "<script type=\"module\">import init from '/a.js';</script><script src=\"/b.js\"></script>";
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1);
        let policy = content_security_policy(Some(html));
        let policy = policy.to_str().expect("ascii");
        assert!(policy.contains(&format!("'sha256-{}'", hashes[0])));
        assert!(policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"));
        assert!(!policy.contains("unsafe-inline"));
    }

    #[test]
    fn only_content_hashed_assets_are_cached_for_good() {
        assert!(is_content_hashed("/frontend-5cd88a6816c6ae29_bg.wasm"));
        assert!(is_content_hashed("/main-84a9696568f743a1.css"));
        assert!(is_content_hashed("/frontend-a9e395d6b7c659e_bg.wasm"), "a hash whose leading zero Trunk dropped");
        assert!(!is_content_hashed("/"));
        assert!(!is_content_hashed("/sw.js"));
        assert!(!is_content_hashed("/icons/icon-192.png"));
        assert!(!is_content_hashed("/s/7d0f3c1e-6a53-4a8e-9a43-2f1f1c0b5e11"), "a session's address is the app's page");
    }

    #[test]
    fn only_the_configured_proxy_header_is_read_and_only_its_own_hop() {
        use ClientAddressSource::*;
        let mut headers = HeaderMap::new();
        // A client wrote the first entry; the proxy appended the last.
        headers.insert("x-forwarded-for", HeaderValue::from_static("10.9.9.9, 203.0.113.7"));
        headers.insert("cf-connecting-ip", HeaderValue::from_static("198.51.100.2"));
        assert_eq!(forwarded_address(XForwardedFor, &headers), Some(IpAddr::from([203, 0, 113, 7])));
        assert_eq!(forwarded_address(CfConnectingIp, &headers), Some(IpAddr::from([198, 51, 100, 2])));
        assert_eq!(forwarded_address(Socket, &headers), None);
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, 203.0.113.7, 127.0.0.1"));
        assert_eq!(forwarded_address(XForwardedFor, &headers), Some(IpAddr::from([203, 0, 113, 7])), "a local proxy hop is skipped");
        headers.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4, junk"));
        assert_eq!(forwarded_address(XForwardedFor, &headers), None, "a hop that does not parse ends the walk");
        headers.remove("cf-connecting-ip");
        assert_eq!(forwarded_address(CfConnectingIp, &headers), None, "no fallback to another header");
    }
}
