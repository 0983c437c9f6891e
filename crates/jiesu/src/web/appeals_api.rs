//! Assessment appeals (考核申诉) in the API: a unit files, the center decides, both list.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::appeals::{self, Appeal, AppealInput, DecisionInput};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/appeals", post(file))
        .route("/appeals", get(list))
        .route("/appeals/{id}/decision", post(decide))
}

async fn file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AppealInput>,
) -> Result<(StatusCode, Json<Appeal>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(appeals::file(&s, &actor, &id, input).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    month: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let items = appeals::list(&s, &actor, p.status.as_deref(), p.month.as_deref()).await?;
    Ok(Json(serde_json::json!({ "appeals": items })))
}

async fn decide(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<Appeal>, AppError> {
    Ok(Json(appeals::decide(&s, &actor, &id, input).await?))
}
