//! Who may use the service: one account, signed in by HTTP Basic credentials or by a browser
//! session cookie, checked by one middleware layer.

mod basic;
mod binding_key;
mod browser;
mod credentials;
mod throttle;
mod verifier;

pub use basic::require_auth;
pub use binding_key::load_or_create as binding_key;
pub use browser::{is_https, AuthService, AuthSettings, Authenticated, COOKIE};
pub use credentials::{hash_password, Credentials, CredentialsError, PasswordSource};
