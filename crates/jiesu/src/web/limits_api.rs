//! Time limits under `/api/v1/time-limits`: anyone logged in lists every version; only
//! administrators add a version (in force from now or later; an event).

use super::extract::{ApiJson, Auth};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::limits::{self, LimitInput, TimeLimitVersion};
use crate::services::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/time-limits", get(list).post(add))
}

async fn list(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> Result<Json<Vec<TimeLimitVersion>>, AppError> {
    Ok(Json(limits::list(&s).await?))
}

async fn add(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<LimitInput>,
) -> Result<(StatusCode, Json<TimeLimitVersion>), AppError> {
    let v = limits::add_version(&s, By::User(&actor), &body).await?;
    Ok((StatusCode::CREATED, Json(v)))
}
