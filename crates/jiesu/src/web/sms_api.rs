//! SMS in the API (issue 19): what the gateway passes back, texts from phones (MO) and
//! delivery reports (DLR), each with the shared secret instead of a session (no cookie, no
//! CSRF: Kannel calls a URL); the admin's requester templates; and the agents' follow-up
//! calls after an unhappy SMS rating.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::sms::{self, Template};
use crate::services::sms_followups::{self, FollowUpInput};
use crate::services::AppState;
use axum::extract::Path;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sms/inbound", get(inbound))
        .route("/sms/dlr", get(dlr))
        .route("/sms/templates", get(templates).put(set_template))
        .route("/sms/follow-ups", get(follow_ups))
        .route("/sms/follow-ups/{id}", post(follow_up))
}

/// The secret from the `X-Sms-Secret` header, else the `secret` parameter; 401 unless it is
/// the configured one.
fn check_secret(s: &AppState, headers: &HeaderMap, param: Option<&str>) -> Result<(), AppError> {
    let given = headers
        .get("x-sms-secret")
        .and_then(|v| v.to_str().ok())
        .or(param);
    if sms::secret_matches(s, given) {
        Ok(())
    } else {
        Err(AppError::Unauthenticated)
    }
}

#[derive(Deserialize)]
struct InboundParams {
    secret: Option<String>,
    from: String,
    text: String,
}

async fn inbound(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<InboundParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    check_secret(&s, &headers, p.secret.as_deref())?;
    let outcome = sms::inbound(&s, &p.from, &p.text).await?;
    Ok(Json(serde_json::json!({ "outcome": outcome })))
}

#[derive(Deserialize)]
struct DlrParams {
    secret: Option<String>,
    id: String,
    status: i64,
}

async fn dlr(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<DlrParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    check_secret(&s, &headers, p.secret.as_deref())?;
    if !sms::delivery_report(&s, &p.id, p.status).await? {
        return Err(AppError::NotFound("message"));
    }
    Ok(Json(serde_json::json!({ "id": p.id, "status": p.status })))
}

async fn templates(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<serde_json::Value>, AppError> {
    let templates = sms::templates(&s, &actor).await?;
    Ok(Json(serde_json::json!({ "templates": templates })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateInput {
    kind: String,
    zh: String,
    en: String,
}

async fn set_template(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<Template>, AppError> {
    Ok(Json(
        sms::set_template(&s, &actor, &input.kind, &input.zh, &input.en).await?,
    ))
}

#[derive(Deserialize)]
struct FollowUpParams {
    limit: Option<i64>,
}

async fn follow_ups(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<FollowUpParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let due = sms_followups::due(&s, &actor, p.limit.unwrap_or(100)).await?;
    Ok(Json(serde_json::json!({ "follow_ups": due })))
}

async fn follow_up(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<FollowUpInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    let done = sms_followups::record(&s, &actor, &id, &input).await?;
    Ok(Json(serde_json::json!({ "id": id, "done": done })))
}
