//! Who may use the service: one account, signed in by HTTP Basic credentials or by a browser
//! session cookie, checked by one middleware layer.

mod basic;
mod browser;
mod credentials;

pub use basic::require_auth;
pub use browser::AuthService;
pub use credentials::{Credentials, CredentialsError, PasswordSource};
