//! The web app the binary serves: its own (built in), whatever folder it is started from, or a
//! `--site-dir` given for frontend work.

mod support;

use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use std::path::{Path, PathBuf};
use support::{Dirs, Server};

/// The `dist/` the binary under test was built with: a release build embeds it, a debug build
/// reads it where it is. Absent on a clean clone before `scripts/build.sh`.
fn repository_dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist")
}

/// A `dist/index.html` in the folder the server is started from, which it must not serve.
fn plant_decoy(dirs: &Dirs) {
    let decoy = dirs.root.path().join("dist");
    std::fs::create_dir_all(&decoy).expect("mkdir");
    std::fs::write(decoy.join("index.html"), "<p>decoy: the dist/ of the working directory</p>").expect("write");
}

#[tokio::test]
async fn the_built_in_app_is_served_whatever_folder_the_server_starts_in() {
    let dirs = Dirs::new();
    plant_decoy(&dirs);
    let server = Server::start(&dirs);
    let http = &server.http;
    let page = http.get(server.url("/")).send().await.expect("GET /");
    let status = page.status();
    let content_type = page.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = page.text().await.expect("body");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(!text.contains("decoy"), "the working directory's dist/ was served");

    let dist = repository_dist();
    let Ok(index) = std::fs::read_to_string(dist.join("index.html")) else {
        // Built before the frontend: every page says so, and the start said so too.
        assert_eq!(status, 404);
        assert!(text.contains("built without its web app") && text.contains("scripts/build.sh"), "{text}");
        assert!(server.printed("warning: this binary was built without the web app").contains("--site-dir"));
        return;
    };
    assert_eq!(status, 200);
    assert_eq!(text, index, "/ is the app's index.html");
    let unknown = http.get(server.url("/some/app/path")).send().await.expect("GET");
    assert_eq!(unknown.status(), 200);
    assert_eq!(unknown.text().await.expect("body"), index, "a path the build does not hold is the app");

    // A browser gets the brotli file the build wrote, marked so, and revalidates it for a 304.
    let br = http.get(server.url("/")).header(ACCEPT_ENCODING, "gzip, deflate, br").send().await.expect("GET br");
    assert_eq!(br.status(), 200);
    let header = |response: &reqwest::Response, name| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header(&br, CONTENT_ENCODING), "br");
    assert_eq!(header(&br, VARY), "accept-encoding");
    assert_eq!(header(&br, CACHE_CONTROL), "no-cache", "index.html is revalidated on every load");
    let etag = header(&br, ETAG);
    assert_eq!(br.bytes().await.expect("body").as_ref(), std::fs::read(dist.join("index.html.br")).expect("index.html.br"));
    let again = http.get(server.url("/")).header(ACCEPT_ENCODING, "br").header(IF_NONE_MATCH, &etag).send().await.expect("GET");
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, CACHE_CONTROL), "no-cache");
    let gzip = http.get(server.url("/")).header(ACCEPT_ENCODING, "gzip").send().await.expect("GET gzip");
    assert_eq!(header(&gzip, CONTENT_ENCODING), "gzip");
    assert_ne!(header(&gzip, ETAG), etag, "each encoding has its own tag");

    // The service worker is revalidated too; Trunk's content-hashed files are kept for good.
    let worker = http.get(server.url("/sw.js")).send().await.expect("GET sw.js");
    assert_eq!(worker.status(), 200);
    assert_eq!(header(&worker, CACHE_CONTROL), "no-cache");
    assert!(header(&worker, CONTENT_TYPE).contains("javascript"));
    assert_eq!(worker.text().await.expect("body"), std::fs::read_to_string(dist.join("sw.js")).expect("sw.js"));
    let wasm = std::fs::read_dir(&dist)
        .expect("dist")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| name.ends_with("_bg.wasm"))
        .expect("a built .wasm");
    let module = http.get(server.url(&format!("/{wasm}"))).header(ACCEPT_ENCODING, "br").send().await.expect("GET wasm");
    assert_eq!(module.status(), 200);
    assert_eq!(header(&module, CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&module, CACHE_CONTROL), "public, max-age=31536000, immutable");
    assert_eq!(module.bytes().await.expect("body").len() as u64, std::fs::metadata(dist.join(format!("{wasm}.br"))).expect("wasm.br").len());
}

#[tokio::test]
async fn site_dir_serves_another_build_instead() {
    let dirs = Dirs::new();
    plant_decoy(&dirs);
    let site = dirs.root.path().join("frontend-work");
    std::fs::create_dir_all(&site).expect("mkdir");
    std::fs::write(site.join("index.html"), "<p>the app being worked on</p>").expect("write");
    std::fs::write(site.join("sw.js"), "// worker").expect("write");
    let server = Server::start_with(&dirs, &["--site-dir", site.to_str().expect("utf-8")]);
    for path in ["/", "/some/app/path"] {
        let page = server.http.get(server.url(path)).send().await.expect("GET");
        assert_eq!(page.status(), 200, "{path}");
        assert_eq!(page.text().await.expect("body"), "<p>the app being worked on</p>", "{path}");
    }
    let worker = server.http.get(server.url("/sw.js")).send().await.expect("GET");
    assert_eq!(worker.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-cache"));
    assert_eq!(worker.text().await.expect("body"), "// worker");
    // An asset of an earlier build (a phone still running the old page asks for it after an
    // update) is missing: a 404 kept by no cache, never the page under a year-long cache.
    let stale = server.http.get(server.url("/frontend-0123456789abcdef_bg.wasm")).send().await.expect("GET");
    assert_eq!(stale.status(), 404);
    assert_eq!(stale.headers().get(CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
}
