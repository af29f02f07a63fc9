//! `GET /api/audit?limit=N`: the latest sign-ins and task actions, newest first.

use super::error::ApiError;
use crate::state::AppState;
use super::json::ApiQuery;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// 1 to 1000 (default 100).
    limit: Option<usize>,
}

#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "`{entries: [{at, event, client, username, session_id, task_id, detail}]}`")),
    security(("basic" = []), ("cookie" = [])))]
pub async fn recent(State(state): State<AppState>, ApiQuery(query): ApiQuery<AuditQuery>) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let entries = state.store.run(move |store| store.recent_audit(limit)).await?;
    Ok(Json(json!({ "entries": entries })))
}
