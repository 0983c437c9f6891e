//! Return review (退单审核) endpoints: the dispatcher's list of returns and the decision on one.

use super::extract::{bounded, ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::returns::{self, ReturnReviewItem, ReviewInput};
use crate::services::views::{self, RequestView};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_core::workflow::ReturnReviewStatus;
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/returns", get(list))
        .route("/assignments/{id}/return-review", post(review))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<ReturnReviewStatus>,
    limit: Option<i64>,
}

/// Returns in a status (pending by default); dispatchers, supervisors and admins.
async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Vec<ReturnReviewItem>>, AppError> {
    let status = p.status.unwrap_or(ReturnReviewStatus::Pending);
    let limit = bounded("limit", p.limit, 200, 1, 1000)?;
    Ok(Json(returns::list(&s, &actor, status, limit).await?))
}

/// Accepts or rejects an order's pending return; answers the request as the reviewer sees it.
async fn review(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = returns::review(&s, &actor, &id, input).await?;
    Ok(Json(views::get(&s, &actor, &request_id).await?))
}
