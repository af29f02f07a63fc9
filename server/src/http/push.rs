//! `/api/push/…`: Web Push for the signed-in owner. The app subscribes a browser with the
//! server's public key, and says which session it shows (no notification for that one).

use super::error::{ApiError, ErrorBody};
use super::json::ApiJson;
use crate::push::presence::{PRESENCE_TTL, RENEW_EVERY};
use crate::push::subscription::{SubscriptionRequest, SubscriptionView};
use crate::state::AppState;
use axum::extract::{Path, State};
use app::api::Caller;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicKey {
    /// The VAPID public key: an uncompressed P-256 point, base64url (the browser's
    /// `applicationServerKey`).
    public_key: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    subscriptions: Vec<SubscriptionView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PresenceRequest {
    session_id: Uuid,
    visible: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PresenceAnswer {
    visible: bool,
    /// The word lapses after this unless renewed.
    expires_in_secs: u64,
    /// When to send it again while the session stays in view.
    renew_in_secs: u64,
}

#[utoipa::path(get, path = "/api/push/key", tag = "push",
    responses((status = 200, description = "The server's VAPID public key", body = PublicKey)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn key(State(state): State<AppState>) -> Json<PublicKey> {
    Json(PublicKey { public_key: state.push.public_key().to_owned() })
}

#[utoipa::path(post, path = "/api/push/subscriptions", tag = "push", request_body = SubscriptionRequest,
    responses(
        (status = 200, description = "Subscribed (the same endpoint again keeps its id and takes the new keys)", body = SubscriptionView),
        (status = 400, description = "Not https (nor http to loopback), or keys that are not a P-256 point and a 16-byte secret", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn subscribe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(request): ApiJson<SubscriptionRequest>,
) -> Result<Json<SubscriptionView>, ApiError> {
    Ok(Json(state.push.subscribe(&caller, request).await?))
}

#[utoipa::path(get, path = "/api/push/subscriptions", tag = "push",
    responses((status = 200, description = "Every subscription, oldest first, without its keys", body = SubscriptionList)),
    security(("basic" = []), ("cookie" = [])))]
pub async fn list(State(state): State<AppState>) -> Result<Json<SubscriptionList>, ApiError> {
    Ok(Json(SubscriptionList { subscriptions: state.push.subscriptions().await? }))
}

#[utoipa::path(delete, path = "/api/push/subscriptions/{id}", tag = "push",
    params(("id" = String, Path, description = "A subscription's `id`")),
    responses(
        (status = 200, description = "`{\"status\": \"deleted\"}`"),
        (status = 400, description = "Not a subscription id", body = ErrorBody),
        (status = 404, description = "No such subscription", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn delete(State(state): State<AppState>, Extension(caller): Extension<Caller>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let id = subscription_id(&id)?;
    state.push.unsubscribe(&caller, id).await?;
    Ok(Json(serde_json::json!({ "status": "deleted" })))
}

#[utoipa::path(post, path = "/api/push/subscriptions/{id}/test", tag = "push",
    params(("id" = String, Path, description = "A subscription's `id`")),
    responses(
        (status = 200, description = "The push service took a test notification: `{\"status\": \"sent\"}`"),
        (status = 400, description = "Not a subscription id", body = ErrorBody),
        (status = 404, description = "No such subscription, or the push service says the browser unsubscribed (then it is removed)", body = ErrorBody),
        (status = 502, description = "The push service did not take it (its answer, or no answer in 10 s)", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn test(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let id = subscription_id(&id)?;
    state.push.test(id).await?;
    Ok(Json(serde_json::json!({ "status": "sent" })))
}

#[utoipa::path(post, path = "/api/push/presence", tag = "push", request_body = PresenceRequest,
    responses(
        (status = 200, description = "Noted: no push for this session while it is visible", body = PresenceAnswer),
        (status = 400, description = "Bad body", body = ErrorBody),
    ),
    security(("basic" = []), ("cookie" = [])))]
pub async fn presence(State(state): State<AppState>, ApiJson(request): ApiJson<PresenceRequest>) -> Json<PresenceAnswer> {
    state.push.set_visible(request.session_id, request.visible);
    Json(PresenceAnswer { visible: request.visible, expires_in_secs: PRESENCE_TTL.as_secs(), renew_in_secs: RENEW_EVERY.as_secs() })
}

/// A subscription's id from the path: a UUID, else 400.
fn subscription_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw).map_err(|_| ApiError::BadRequest("subscription id must be a UUID".into()))
}
