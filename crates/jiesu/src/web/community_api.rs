//! 小事不出社区 in the API: community staff record a request solved on the spot; its tally per
//! community and street, apart from the dispatched-order rates.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::community::{self, CommunityInput, Recorded};
use crate::services::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/community/requests", post(record))
        .route("/community/tally", get(tally))
}

async fn record(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<CommunityInput>,
) -> Result<(StatusCode, Json<Recorded>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(community::record(&s, &actor, input).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthParams {
    month: Option<String>,
}

async fn tally(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let month = p.month.unwrap_or_else(|| {
        s.clock
            .now()
            .with_timezone(&s.config.offset())
            .format("%Y-%m")
            .to_string()
    });
    let (units, streets) = community::tally(&s, &actor, &month).await?;
    Ok(Json(
        serde_json::json!({ "month": month, "units": units, "streets": streets }),
    ))
}
