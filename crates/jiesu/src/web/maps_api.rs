//! The map part of the API (issue 20): the served city's district shapes (GeoJSON, WGS-84),
//! a month's per-district figures the dashboard map colours by, and the located requests the
//! governance map draws. Everything comes from `services::maps`.

use super::extract::{ApiQuery, Auth};
use crate::error::AppError;
use crate::services::kpi::Month;
use crate::services::maps::{self, DistrictFigures, MapPoint};
use crate::services::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/maps/districts", get(districts))
        .route("/maps/figures", get(figures))
        .route("/maps/points", get(points))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthParams {
    month: String,
    limit: Option<i64>,
}

async fn districts(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> Result<Json<serde_json::Value>, AppError> {
    Ok(Json(maps::geojson(&s).await?))
}

/// Read from the standby when one is configured (issue 21), its lag in a header.
async fn figures(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Response, AppError> {
    let month = Month::parse(&p.month)?;
    let (s, staleness) = s.for_reports();
    let figures: Vec<DistrictFigures> = maps::district_figures(&s, &actor, month).await?;
    Ok(super::with_staleness(
        Json(figures).into_response(),
        staleness,
    ))
}

/// Read from the standby when one is configured (issue 21), its lag in a header.
async fn points(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Response, AppError> {
    let month = Month::parse(&p.month)?;
    let (s, staleness) = s.for_reports();
    let (from, to) = (
        s.config.local_midnight(month.first_day()),
        s.config.local_midnight(month.next().first_day()),
    );
    let limit = p.limit.unwrap_or(2000);
    let points: Vec<MapPoint> = maps::points(&s, &actor, from, to, limit).await?;
    Ok(super::with_staleness(
        Json(points).into_response(),
        staleness,
    ))
}
