//! The HTTP edge: routes, the auth layer, static files. Handlers only translate requests into
//! runner calls; errors become responses in `error`.

mod approvals;
mod audit;
pub mod edge;
pub mod error;
mod events;
mod json;
mod legacy;
mod openapi;
mod paths;
pub mod projects;
mod push;
pub mod sessions;
mod status;
mod tasks;

use crate::auth::require_auth;
use crate::site::Site;
use crate::state::AppState;
use app::api::{SharedAccounts, SharedBackend};
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Request bodies above this are refused with 413 (a message is capped lower still).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState, site: &Site, policy: edge::EdgePolicy) -> Router {
    let policy = Arc::new(policy);
    let backend: SharedBackend = Arc::new(state.runner.clone());
    let accounts: SharedAccounts = state.auth.clone();
    let server_fns = post(move |request| {
        let (backend, accounts) = (backend.clone(), accounts.clone());
        leptos_axum::handle_server_fns_with_context(
            move || {
                provide_context(backend.clone());
                provide_context(accounts.clone());
            },
            request,
        )
    });
    let (rest, mut document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(sessions::list))
        .routes(routes!(projects::list, projects::add))
        .routes(routes!(projects::folders))
        .routes(routes!(tasks::submit))
        .routes(routes!(tasks::poll, tasks::delete))
        .routes(routes!(tasks::cancel))
        .routes(routes!(tasks::changes))
        .routes(routes!(projects::git_state))
        .routes(routes!(projects::git_diff))
        .routes(routes!(projects::list_files))
        .routes(routes!(projects::read_file))
        .routes(routes!(approvals::decide))
        .routes(routes!(events::events))
        .routes(routes!(sessions::messages))
        .routes(routes!(sessions::update, sessions::delete))
        .routes(routes!(legacy::chat))
        .routes(routes!(audit::recent))
        .routes(routes!(push::key))
        .routes(routes!(push::subscribe, push::list))
        .routes(routes!(push::delete))
        .routes(routes!(push::test))
        .routes(routes!(push::presence))
        .split_for_parts();
    let (public, public_document) = OpenApiRouter::new().routes(routes!(status::health)).routes(routes!(status::config)).split_for_parts();
    document.merge(public_document);
    let document = Arc::new(document);
    let protected = rest
        .route("/api/openapi.json", get(move || std::future::ready(axum::Json(document.clone()))))
        .route("/api/fn/{*fn_name}", server_fns.clone())
        .route_layer(middleware::from_fn_with_state(state.clone(), require_auth));
    // Reachable before signing in: they decide whether to show the sign-in screen.
    let public_fns = Router::new()
        .route("/api/fn/whoami", server_fns.clone())
        .route("/api/fn/sign_in", server_fns);
    let mut app = public
        .route("/api/{*rest}", any(unknown_api))
        .merge(public_fns)
        .merge(protected)
        .fallback_service(tower::ServiceBuilder::new().layer(middleware::from_fn(edge::static_cache_policy)).service(site.service()))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(edge::same_origin_writes))
        .layer(middleware::from_fn_with_state(policy.clone(), edge::caller_address))
        .layer(middleware::from_fn(edge::refuse_large_bodies))
        .layer(middleware::from_fn_with_state(policy.clone(), edge::strict_transport_security));
    for (name, value) in edge::security_headers(&policy) {
        app = app.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    app.layer(CompressionLayer::new()).layer(edge::request_log()).with_state(state)
}

/// An `/api/` path that names nothing is a JSON 404, not the app's HTML page.
async fn unknown_api() -> error::ApiError {
    error::ApiError::NotFound("no such API route".into())
}
