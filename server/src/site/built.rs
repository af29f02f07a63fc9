//! The web app inside the binary: `dist/` as `scripts/build.sh` leaves it (Trunk's output, the
//! stamped service worker, a `.br` and a `.gz` beside each text file), embedded by `rust-embed`
//! in a release build, so the binary serves it from wherever it is started. A debug build reads
//! the repository's `dist/` at run time instead (nothing to rebuild after a frontend change, and
//! `cargo test` builds before `dist/` exists).
//!
//! Served as `ServeDir` serves a `--site-dir`: the precompressed file the client accepts, and
//! `index.html` for `/` and any path the build does not hold. Responses carry an `ETag` (a hash
//! of the bytes sent) so that what is revalidated (`index.html`, `sw.js`: see
//! `http::edge::static_cache_policy`) costs a 304, not a download.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::borrow::Cow;

#[derive(rust_embed::RustEmbed)]
// The repository's dist/, as build.rs spells it.
#[folder = "$CLAUDE_REMOTE_DIST"]
// A clean clone has no dist/ until scripts/build.sh: such a build serves the API and `NOT_BUILT`.
#[allow_missing = true]
struct Dist;

/// Answers every page when the binary holds no app (built before `scripts/build.sh` ran).
const NOT_BUILT: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Claude Remote: no web app</title></head><body><h1>This server was built without its web app</h1>\
<p>The API works. On the machine that runs it, build the app with <code>scripts/build.sh</code> and start the new binary, \
or start this one with <code>--site-dir</code> naming a built <code>dist/</code>.</p></body></html>\n";

/// The encodings precompressed beside each asset, most preferred first (smaller).
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

pub fn index_html() -> Option<String> {
    Dist::get("index.html").and_then(|file| String::from_utf8(file.data.into_owned()).ok())
}

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        path => path,
    };
    let accepted = accepted_encodings(&headers);
    let found = match find(path, &accepted).await {
        Some(found) => Some((path, found)),
        None => find("index.html", &accepted).await.map(|found| ("index.html", found)),
    };
    let Some((path, (file, encoding))) = found else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], NOT_BUILT).into_response();
    };
    let etag = entity_tag(&file.metadata.sha256_hash());
    let mut response = if if_none_match(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let content_type = mime_guess::from_path(path).first_raw().unwrap_or("application/octet-stream");
        let mut response = body(file.data).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Some(encoding) = encoding {
            response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let headers = response.headers_mut();
    // The same URL answers with other bytes to another Accept-Encoding: caches must keep them apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// `path` in the best encoding `accepted` allows that the build holds, else as it is.
async fn find(path: &str, accepted: &[&'static str]) -> Option<(rust_embed::EmbeddedFile, Option<&'static str>)> {
    for (encoding, suffix) in ENCODINGS {
        if accepted.contains(&encoding)
            && let Some(file) = get(format!("{path}{suffix}")).await
        {
            return Some((file, Some(encoding)));
        }
    }
    get(path.to_owned()).await.map(|file| (file, None))
}

/// A release build looks in its own memory; a debug build reads the file, on the blocking pool.
async fn get(path: String) -> Option<rust_embed::EmbeddedFile> {
    if cfg!(debug_assertions) {
        tokio::task::spawn_blocking(move || Dist::get(&path)).await.ok().flatten()
    } else {
        Dist::get(&path)
    }
}

fn body(data: Cow<'static, [u8]>) -> axum::body::Body {
    match data {
        Cow::Borrowed(bytes) => axum::body::Body::from(bytes),
        Cow::Owned(bytes) => axum::body::Body::from(bytes),
    }
}

/// The precompressed encodings (of [`ENCODINGS`]) that `Accept-Encoding` allows, in our order of
/// preference (a client's q-values other than 0 are not weighed: every browser ranks br and gzip
/// alike, and br is the smaller).
fn accepted_encodings(headers: &HeaderMap) -> Vec<&'static str> {
    let offers: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|offer| {
            let mut parts = offer.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default().to_ascii_lowercase();
            let refused = parts.any(|param| param.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
            (name, !refused)
        })
        .collect();
    let allows = |name: &str| match offers.iter().find(|(offered, _)| offered == name) {
        Some((_, allowed)) => *allowed,
        None => offers.iter().any(|(offered, allowed)| offered == "*" && *allowed),
    };
    ENCODINGS.iter().map(|(name, _)| *name).filter(|name| allows(name)).collect()
}

fn entity_tag(hash: &[u8; 32]) -> String {
    let hex: String = hash[..12].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or is `*`): the client's copy is current.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn brotli_is_sent_before_gzip_and_neither_where_refused() {
        assert_eq!(accepted_encodings(&accept("gzip, deflate, br, zstd")), ["br", "gzip"]);
        assert_eq!(accepted_encodings(&accept("gzip")), ["gzip"]);
        assert_eq!(accepted_encodings(&accept("br;q=0, gzip;q=0.5")), ["gzip"]);
        assert_eq!(accepted_encodings(&accept("*")), ["br", "gzip"]);
        assert_eq!(accepted_encodings(&accept("*, br;q=0")), ["gzip"]);
        assert_eq!(accepted_encodings(&accept("identity")), Vec::<&str>::new());
        assert_eq!(accepted_encodings(&HeaderMap::new()), Vec::<&str>::new());
    }

    #[test]
    fn a_current_copy_is_recognised_by_its_tag() {
        let etag = entity_tag(&[7; 32]);
        let mut headers = HeaderMap::new();
        assert!(!if_none_match(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&format!("\"other\", W/{etag}")).expect("ascii"));
        assert!(if_none_match(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!if_none_match(&headers, &etag));
    }
}
