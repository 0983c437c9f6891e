//! 吹哨报到 in the API: a street blows the whistle, summoned units report (报到), everyone
//! concerned reads the whistle and the per-unit tally of reports.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::whistles::{self, ReportInput, Whistle, WhistleInput};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/whistles", post(open).get(list))
        .route("/whistles/tally", get(tally))
        .route("/whistles/{id}", get(one))
        .route("/orders/{id}/report", post(report))
}

async fn open(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<WhistleInput>,
) -> Result<(StatusCode, Json<Whistle>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(whistles::open(&s, &actor, input).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthParams {
    month: Option<String>,
}

fn month_or_current(s: &AppState, month: Option<String>) -> String {
    month.unwrap_or_else(|| {
        s.clock
            .now()
            .with_timezone(&s.config.offset())
            .format("%Y-%m")
            .to_string()
    })
}

async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let month = month_or_current(&s, p.month);
    let items = whistles::list(&s, &actor, &month).await?;
    Ok(Json(
        serde_json::json!({ "month": month, "whistles": items }),
    ))
}

async fn tally(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<serde_json::Value>, AppError> {
    let month = month_or_current(&s, p.month);
    let units = whistles::tally(&s, &actor, &month).await?;
    Ok(Json(serde_json::json!({ "month": month, "units": units })))
}

async fn one(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<Whistle>, AppError> {
    Ok(Json(whistles::get(&s, &actor, &id).await?))
}

async fn report(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReportInput>,
) -> Result<Json<Whistle>, AppError> {
    Ok(Json(whistles::report(&s, &actor, &id, input).await?))
}
