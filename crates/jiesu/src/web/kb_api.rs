//! The knowledge base kept by a city (issue 23): the list with filters, the workflow steps
//! one by one or in bulk, an entry's history, an import of rows, the operator's verdict on
//! an answer and the list of entries to review. Search and editing are in `text_api`.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::imports::ImportSummary;
use crate::services::kb::{self, Feedback, Filter, KbEntry, StaleEntry, StaleRules};
use crate::services::kb_import::{self, ImportRow};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_core::kb::{KbStatus, KbStep};
use serde::{Deserialize, Serialize};

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kb/entries", get(list))
        .route("/kb/stale", get(stale))
        .route("/kb/import", post(import))
        .route("/kb/steps", post(step_all))
        .route("/kb/{id}/history", get(history))
        .route("/kb/{id}/feedback", post(feedback))
        .route("/kb/{id}/review", post(review))
        .route("/kb/{id}/publish", post(publish))
        .route("/kb/{id}/expire", post(expire))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<KbStatus>,
    category: Option<String>,
    unit_code: Option<String>,
    source: Option<String>,
    title: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize)]
struct Page {
    total: i64,
    entries: Vec<KbEntry>,
}

fn some(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Page>, AppError> {
    let filter = Filter {
        status: p.status,
        category: some(p.category),
        unit_code: some(p.unit_code),
        source: some(p.source),
        title: some(p.title),
    };
    let limit = p.limit.unwrap_or(50);
    let (entries, total) = kb::list(&s, &actor, &filter, limit, p.offset.unwrap_or(0)).await?;
    Ok(Json(Page { total, entries }))
}

async fn one_step(
    s: &AppState,
    actor: &jiesu_core::Actor,
    id: &str,
    step: KbStep,
) -> Result<Json<KbEntry>, AppError> {
    Ok(Json(kb::step(s, actor, id, step).await?))
}

async fn review(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> Result<Json<KbEntry>, AppError> {
    one_step(&s, &a, &id, KbStep::Review).await
}

async fn publish(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> Result<Json<KbEntry>, AppError> {
    one_step(&s, &a, &id, KbStep::Publish).await
}

async fn expire(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(id): Path<String>,
) -> Result<Json<KbEntry>, AppError> {
    one_step(&s, &a, &id, KbStep::Expire).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepAll {
    step: KbStep,
    category: Option<String>,
    unit_code: Option<String>,
    source: Option<String>,
    title: Option<String>,
}

#[derive(Serialize)]
struct Count {
    count: u64,
}

async fn step_all(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<StepAll>,
) -> Result<Json<Count>, AppError> {
    let filter = Filter {
        status: None,
        category: some(b.category),
        unit_code: some(b.unit_code),
        source: some(b.source),
        title: some(b.title),
    };
    let count = kb::step_all(&s, By::User(&actor), b.step, filter).await?;
    Ok(Json(Count { count }))
}

async fn history(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::services::kb::KbVersion>>, AppError> {
    Ok(Json(kb::history(&s, &actor, &id).await?))
}

async fn feedback(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Feedback>,
) -> Result<StatusCode, AppError> {
    kb::feedback(&s, &actor, &id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaleParams {
    unused_days: Option<i64>,
    min_rated: Option<i64>,
    limit: Option<i64>,
}

async fn stale(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<StaleParams>,
) -> Result<Json<Vec<StaleEntry>>, AppError> {
    let rules = StaleRules {
        unused_days: p.unused_days.unwrap_or(180),
        min_rated: p.min_rated.unwrap_or(3),
    };
    Ok(Json(
        kb::stale(&s, &actor, rules, p.limit.unwrap_or(100)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    rows: Vec<ImportRow>,
    #[serde(default)]
    dry_run: bool,
}

async fn import(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(b): ApiJson<ImportBody>,
) -> Result<Json<ImportSummary>, AppError> {
    Ok(Json(
        kb_import::import(&s, By::User(&actor), &b.rows, b.dry_run).await?,
    ))
}
