//! Units under `/api/v1/units`: anyone logged in lists them and reads one with its history;
//! only administrators add, change (rename, move, contacts, close, reopen; dated ahead with
//! `effective_from`, answered 202), merge and close them, each an event; a change dated ahead
//! is listed under `/units/{code}/changes` and cancelled before its day with `DELETE`.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::unit_schedule;
use crate::services::units::ScheduledChange;
use crate::services::units::{self, NewUnit, UnitChange, UnitHistory};
use crate::services::units::{UnitFilter, UnitRecord};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/units", get(list).post(add))
        .route("/units/{code}", get(one).patch(change))
        .route("/units/{code}/merge", post(merge))
        .route("/units/{code}/close", post(close))
        .route("/units/{code}/changes", get(changes))
        .route("/units/{code}/changes/{id}", delete(cancel_change))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    level: Option<String>,
    parent: Option<String>,
    q: Option<String>,
    /// `active` (default), `closed` or `all`.
    state: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Vec<UnitRecord>>, AppError> {
    let state = match p.state.as_deref().unwrap_or("active") {
        "all" => String::new(),
        other => other.to_string(),
    };
    if state.is_empty() && p.state.as_deref() != Some("all") {
        return Err(AppError::invalid("state", "err.units.bad_filter"));
    }
    let limit = p.limit.unwrap_or(10_000);
    if !(1..=10_000).contains(&limit) {
        return Err(AppError::invalid("limit", "err.units.bad_filter"));
    }
    let filter = UnitFilter {
        q: p.q.unwrap_or_default().trim().to_string(),
        level: p.level.unwrap_or_default(),
        parent: p.parent.unwrap_or_default(),
        state,
    };
    Ok(Json(units::list(&s, &filter, limit).await?))
}

async fn one(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(code): Path<String>,
) -> Result<Json<UnitHistory>, AppError> {
    Ok(Json(units::history(&s, &code).await?))
}

async fn add(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<NewUnit>,
) -> Result<(StatusCode, Json<UnitRecord>), AppError> {
    let u = units::add(&s, By::User(&actor), &body).await?;
    Ok((StatusCode::CREATED, Json(u)))
}

async fn change(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<UnitChange>,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    Ok(
        match units::change(&s, By::User(&actor), &code, &body).await? {
            units::Changed::Now(u) => {
                let mut v = serde_json::to_value(&u).map_err(|e| AppError::Internal(e.into()))?;
                v["sms_quiet_hours"] = crate::services::unit_quiet::of(&s, &code).await?.into();
                Json(v).into_response()
            }
            // Dated after today: kept until its day (202 with the scheduled change).
            units::Changed::Scheduled(c) => (StatusCode::ACCEPTED, Json(c)).into_response(),
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeBody {
    into: String,
}

async fn merge(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<UnitRecord>, AppError> {
    Ok(Json(
        units::merge(&s, By::User(&actor), &code, &body.into).await?,
    ))
}

async fn close(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
) -> Result<Json<UnitRecord>, AppError> {
    Ok(Json(units::close(&s, By::User(&actor), &code).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangesParams {
    /// `pending` (default) or `all`.
    state: Option<String>,
}

async fn changes(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<ChangesParams>,
) -> Result<Json<Vec<ScheduledChange>>, AppError> {
    let pending_only = match p.state.as_deref().unwrap_or("pending") {
        "pending" => true,
        "all" => false,
        _ => return Err(AppError::invalid("state", "err.units.changes_state")),
    };
    Ok(Json(
        unit_schedule::changes_of(&s, &code, pending_only).await?,
    ))
}

async fn cancel_change(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path((code, id)): Path<(String, String)>,
) -> Result<Json<ScheduledChange>, AppError> {
    Ok(Json(
        unit_schedule::cancel(&s, By::User(&actor), &code, &id).await?,
    ))
}
