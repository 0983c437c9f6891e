//! The working-day calendar under `/api/v1/calendar`: anyone logged in reads it; only
//! administrators set, import or remove days (each an event).

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::calendar::{self, CalendarDay, DayInput};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiesu_core::time_limit::CalendarDayKind;
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(list).post(import))
        .route("/calendar/{date}", get(one).put(set).delete(remove))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearParams {
    year: i32,
}

async fn list(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(p): ApiQuery<YearParams>,
) -> Result<Json<Vec<CalendarDay>>, AppError> {
    Ok(Json(calendar::list_year(&s, p.year).await?))
}

async fn one(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(date): Path<String>,
) -> Result<Json<CalendarDay>, AppError> {
    let date = calendar::parse_date("date", &date)?;
    Ok(Json(calendar::get(&s, date).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DayBody {
    kind: CalendarDayKind,
    #[serde(default)]
    name: String,
}

async fn set(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(date): Path<String>,
    ApiJson(body): ApiJson<DayBody>,
) -> Result<Json<CalendarDay>, AppError> {
    let input = DayInput {
        date,
        kind: body.kind,
        name: body.name,
    };
    let mut days = calendar::set_days(&s, By::User(&actor), &[input], true).await?;
    days.pop()
        .map(Json)
        .ok_or(AppError::NotFound("calendar day"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    days: Vec<DayInput>,
}

async fn import(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<ImportBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let days = calendar::set_days(&s, By::User(&actor), &body.days, false).await?;
    Ok(Json(serde_json::json!({ "days": days.len() })))
}

async fn remove(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(date): Path<String>,
) -> Result<StatusCode, AppError> {
    let date = calendar::parse_date("date", &date)?;
    calendar::remove(&s, By::User(&actor), date).await?;
    Ok(StatusCode::NO_CONTENT)
}
