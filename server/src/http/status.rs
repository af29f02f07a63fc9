//! Unauthenticated status routes: `/health` and `/api/config`.

use crate::auth::Authenticated;
use crate::state::AppState;
use app::api::Caller;
use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use crate::claude::version::CliStatus;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// `GET /health`: what a monitor needs (the service answers, the CLI is there and of a tested
/// version) for anyone; the CLI's path and version, the server's version and the running task
/// count only for a signed-in caller: they tell a stranger about the machine.
#[utoipa::path(get, path = "/health", tag = "status", responses((status = 200, description = "`{status, cli: {found, tested, install_hint?}}`; signed in, also `version`, `cli.path`, `cli.version`, `running_tasks`")))]
pub async fn health(State(state): State<AppState>, Extension(caller): Extension<Caller>, headers: HeaderMap) -> Response {
    #[derive(serde::Serialize)]
    struct Public {
        found: bool,
        tested: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        install_hint: Option<&'static str>,
    }
    #[derive(serde::Serialize)]
    struct Health<'a> {
        status: &'static str,
        version: &'static str,
        cli: &'a CliStatus,
        running_tasks: usize,
    }
    let cli = state.cli.status().await;
    if matches!(state.auth.authenticate(&headers, caller.address).await, Authenticated::User(_)) {
        return Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION"), cli: &cli, running_tasks: state.runner.running() }).into_response();
    }
    Json(json!({ "status": "ok", "cli": Public { found: cli.found, tested: cli.tested, install_hint: cli.install_hint } })).into_response()
}

/// `GET /api/config`: the original's `{project_path}`. The absolute path tells an attacker about
/// the machine, so only a signed-in caller gets it; others get the folder's name.
#[utoipa::path(get, path = "/api/config", tag = "status", responses((status = 200, description = "`{project_path, project_name}`")))]
pub async fn config(State(state): State<AppState>, Extension(caller): Extension<Caller>, headers: HeaderMap) -> Json<Value> {
    let name = state.project.file_name().map(|n| n.to_string_lossy().into_owned());
    if matches!(state.auth.authenticate(&headers, caller.address).await, Authenticated::User(_)) {
        Json(json!({ "project_path": state.project, "project_name": name }))
    } else {
        Json(json!({ "project_path": null, "project_name": name }))
    }
}
