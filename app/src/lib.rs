//! The phone app: shared API types, the server functions the UI calls, and the components.
//!
//! Built twice: with `csr` into the WASM bundle (see `frontend/`), and with `ssr` into the server,
//! where the server functions run against the [`api::Backend`] the server provides as context.

pub mod api;
mod ui;

pub use ui::App;
