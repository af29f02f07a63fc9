//! The OpenAPI document of the REST routes. It is assembled from the same handler annotations
//! that register the routes (utoipa-axum), so the two cannot drift apart.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Claude Remote", description = "Drive the claude CLI on this machine: submit, poll, stream, stop, list sessions."),
    modifiers(&Security),
    tags(
        (name = "tasks", description = "Submit work, follow it, stop it"),
        (name = "sessions", description = "The project's CLI sessions"),
        (name = "projects", description = "A project's git state and files, read-only"),
        (name = "legacy", description = "The original synchronous call"),
        (name = "audit", description = "Sign-ins and task actions"),
        (name = "push", description = "Web Push notifications: the server's key, subscriptions, which session the app shows"),
        (name = "status", description = "Unauthenticated status"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("basic", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()));
        components.add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::COOKIE))));
    }
}
