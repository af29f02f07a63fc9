//! What the browser and the server agree on.
//!
//! `types` are the JSON shapes of the REST contract (also used by the server functions), `error`
//! is how a failed call reads (its HTTP status and message), `functions` are the server functions, and `backend` (server side only) is the seam through which those
//! functions reach the same task runner as the REST routes.

#[cfg(feature = "ssr")]
mod backend;
mod changes;
mod error;
mod functions;
pub mod timeline;
mod types;

#[cfg(feature = "ssr")]
pub use backend::{Accounts, Backend, BackendError, Caller, SharedAccounts, SharedBackend, STORE_RETRY_AFTER_SECS};
pub use changes::*;
pub use error::{CallError, ErrorBody, ErrorBodyEncoding};
pub use functions::*;
pub use types::*;
