//! The text-intelligence part of the API: the knowledge base (more to follow: suggestions,
//! the dispatch catalogue, accuracy).

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::catalogue::{self, RuleInput};
use crate::services::kb::{self, KbHit, KbInput};
use crate::services::AppState;
use crate::store::catalogue::StoredRule;
use crate::store::kb::KbEntry;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kb", get(search_kb).post(create_kb))
        .route("/kb/{id}", get(get_kb).put(update_kb).delete(delete_kb))
        .route("/catalogue", get(list_rules).post(add_rule))
        .route(
            "/catalogue/{id}",
            axum::routing::put(replace_rule).delete(retire_rule),
        )
}

async fn list_rules(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> Result<Json<Vec<StoredRule>>, AppError> {
    Ok(Json(catalogue::list(&s).await?))
}

async fn add_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<(StatusCode, Json<StoredRule>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::save(&s, &actor, None, input).await?),
    ))
}

async fn replace_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<StoredRule>, AppError> {
    Ok(Json(catalogue::save(&s, &actor, Some(&id), input).await?))
}

async fn retire_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    catalogue::retire(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbParams {
    q: Option<String>,
    limit: Option<usize>,
}

async fn search_kb(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(p): ApiQuery<KbParams>,
) -> Result<Json<Vec<KbHit>>, AppError> {
    let limit = p.limit.unwrap_or(20).clamp(1, 200);
    match p.q.filter(|q| !q.trim().is_empty()) {
        Some(q) => Ok(Json(kb::search(&s, &q, limit, 0.2).await?)),
        None => {
            let all = crate::store::kb::live(s.store.reader(), s.clock.now()).await?;
            Ok(Json(
                all.into_iter()
                    .take(limit)
                    .map(|entry| KbHit { entry, score: 1.0 })
                    .collect(),
            ))
        }
    }
}

async fn get_kb(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(id): Path<String>,
) -> Result<Json<KbEntry>, AppError> {
    crate::store::kb::get(s.store.reader(), &id)
        .await?
        .filter(|e| e.active)
        .map(Json)
        .ok_or(AppError::NotFound("knowledge-base entry"))
}

async fn create_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<KbInput>,
) -> Result<(StatusCode, Json<KbEntry>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(kb::save(&s, &actor, None, input).await?),
    ))
}

async fn update_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<KbInput>,
) -> Result<Json<KbEntry>, AppError> {
    Ok(Json(kb::save(&s, &actor, Some(&id), input).await?))
}

async fn delete_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    kb::delete(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
