//! 办结审核 in the API: the admin turns a category's check on or off; the center lists the
//! replies waiting and approves or sends them back.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::reply_reviews::{self, DecisionInput, ReplyReview};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/categories/{code}/reply-review", put(set_flag))
        .route("/reply-reviews", get(list))
        .route("/reply-reviews/{id}/decision", post(decide))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlagInput {
    reply_review: bool,
}

async fn set_flag(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<FlagInput>,
) -> Result<Json<serde_json::Value>, AppError> {
    reply_reviews::set_category(&s, &actor, &code, input.reply_review).await?;
    Ok(Json(
        serde_json::json!({ "category_code": code, "reply_review": input.reply_review }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let reviews = reply_reviews::list(&s, &actor, p.status.as_deref()).await?;
    let categories = reply_reviews::flagged(&s, &actor).await?;
    Ok(Json(
        serde_json::json!({ "reviews": reviews, "categories": categories }),
    ))
}

async fn decide(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> Result<Json<ReplyReview>, AppError> {
    Ok(Json(reply_reviews::decide(&s, &actor, &id, input).await?))
}
