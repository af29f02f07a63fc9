//! Who may use the service: one account, signed in by HTTP Basic credentials or by a browser
//! session cookie, checked by one middleware layer.

mod basic;
mod browser;
mod credentials;
mod throttle;

pub use basic::require_auth;
pub use browser::{is_https, AuthService, Authenticated, COOKIE};
pub use credentials::{hash_password, Credentials, CredentialsError, PasswordSource};
