//! The caller's history in the API (issue 23): a number's earlier requests for the intake
//! desk, a follow-up call recorded as a reminder (催办), abusive-caller marks (恶意来电) and
//! the repeat-caller counts.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::callers::{
    self, CallTopic, CallerHistory, CallerStats, MarkInput, MarkView, Reminded, ReminderInput,
};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/callers/history", get(history))
        .route("/callers/stats", get(stats))
        .route("/callers/marks", get(marks).post(mark))
        .route("/callers/marks/{id}", delete(unmark))
        .route("/requests/{id}/reminders", post(remind))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    #[serde(default)]
    phone: String,
    text: Option<String>,
    category_code: Option<String>,
}

async fn history(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<CallerHistory>, AppError> {
    let topic = CallTopic {
        text: p.text.as_deref(),
        category_code: p.category_code.as_deref(),
    };
    Ok(Json(callers::history(&s, &actor, &p.phone, topic).await?))
}

async fn remind(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReminderInput>,
) -> Result<(StatusCode, Json<Reminded>), AppError> {
    let done = callers::remind(&s, &actor, &id, input).await?;
    Ok((StatusCode::CREATED, Json(done)))
}

async fn marks(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<MarkView>>, AppError> {
    Ok(Json(callers::marks(&s, &actor).await?))
}

async fn mark(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<MarkInput>,
) -> Result<(StatusCode, Json<MarkView>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(callers::mark(&s, &actor, input).await?),
    ))
}

async fn unmark(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<MarkView>, AppError> {
    Ok(Json(callers::unmark(&s, &actor, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    from: Option<String>,
    to: Option<String>,
}

async fn stats(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<CallerStats>, AppError> {
    let (from, to) = (p.from.as_deref(), p.to.as_deref());
    Ok(Json(callers::stats(&s, &actor, from, to).await?))
}
