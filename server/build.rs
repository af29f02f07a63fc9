//! Tells Cargo when the built frontend the release binary embeds has changed.
//!
//! `rust-embed` (see `src/site/built.rs`) includes every file of `../dist` in a release build and
//! reads them from that folder at run time in a debug build. Cargo learns of a changed embedded
//! file by itself, but not of a file added to `dist/`, nor of `dist/` appearing after a release
//! build made without it: this script watches the folder so the next release build embeds it.
//! Debug builds read `dist/` live and need no rebuild, so they do not watch it (a folder that does
//! not exist yet would make Cargo rebuild the server every time).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    // The folder as an absolute path with no `..` in it: a debug build only serves files whose
    // real path starts with the folder's path as written here, and `server/../dist` never does.
    let manifest_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().map(std::path::Path::to_path_buf).unwrap_or_default();
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    println!("cargo::rustc-env=CLAUDE_REMOTE_DIST={}", root.join("dist").display());
    let embeds = std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_none();
    if !embeds {
        return;
    }
    println!("cargo::rerun-if-changed=../dist");
    let built = root.join("dist/index.html");
    if !built.is_file() {
        println!(
            "cargo::warning=no built frontend in dist/: this binary serves the API only and a page saying so (run scripts/build.sh to build both)"
        );
    }
}
