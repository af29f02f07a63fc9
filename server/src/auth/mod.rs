//! Who may use the service: HTTP Basic credentials, checked by a middleware layer.

mod basic;
mod credentials;

pub use basic::{is_authorized, require_auth};
pub use credentials::{Credentials, CredentialsError, PasswordSource};
