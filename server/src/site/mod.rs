//! The web app: the one built into the binary (`built`), or a folder given with `--site-dir` for
//! frontend work. Either way `index.html` answers `/` and any path the build does not hold, and
//! the `.br`/`.gz` files `scripts/precompress.mjs` wrote beside each asset are sent to clients
//! that accept them, so nothing is compressed per request.

mod built;

use axum::routing::{get, get_service, MethodRouter};
use std::path::PathBuf;
use tower_http::services::{ServeDir, ServeFile};

#[derive(Clone, Debug)]
pub enum Site {
    /// `dist/` as it was when the binary was built (read live from the repository's `dist/` in a
    /// debug build).
    Built,
    /// A built frontend in this folder (`--site-dir`).
    Directory(PathBuf),
}

impl Site {
    pub fn new(site_dir: Option<PathBuf>) -> Self {
        site_dir.map_or(Self::Built, Self::Directory)
    }

    /// The app's `index.html`, read once at start (the Content Security Policy allows its inline
    /// loader by hash); `None` when there is no built app to serve.
    pub fn index_html(&self) -> Option<String> {
        match self {
            Self::Built => built::index_html(),
            Self::Directory(dir) => std::fs::read_to_string(dir.join("index.html")).ok(),
        }
    }

    /// What to do when [`Site::index_html`] finds nothing.
    pub fn missing_hint(&self) -> String {
        match self {
            Self::Built => "this binary was built without the web app (no dist/ when it was compiled): run scripts/build.sh, or pass --site-dir; the API works without it".to_owned(),
            Self::Directory(dir) => format!("no built frontend at {} (run scripts/build.sh); the API works without it", dir.display()),
        }
    }

    /// GET and HEAD of any path the other routes leave (any other method: 405).
    pub fn service(&self) -> MethodRouter {
        match self {
            Self::Built => get(built::serve),
            Self::Directory(dir) => {
                let index = ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip();
                get_service(ServeDir::new(dir).precompressed_br().precompressed_gzip().fallback(index))
            }
        }
    }
}
