//! The proactive part of the API: hotspots, burst alerts, proactive tasks with 举一反三, and
//! the monthly topic. Handlers parse the query, call a service and shape the answer.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::{AppError, FieldError};
use crate::services::alerts::{self, AlertView};
use crate::services::hotspots::{self, HotspotView, Range};
use crate::services::tasks::{self, NewTask, TaskSummary};
use crate::services::topics::{self, NewTopic, Proposal, TopicView};
use crate::services::views::{self, RequestView};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jiesu_core::access::Action;
use serde::Deserialize;

type ApiResult<T> = Result<T, AppError>;

/// Days looked back by default (hotspots, 举一反三).
const DEFAULT_DAYS: i64 = 30;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hotspots", get(list_hotspots))
        .route("/hotspots/{key}/similar", get(similar))
        .route("/alerts", get(alerts))
        .route("/tasks", get(list_tasks).post(open_task))
        .route("/tasks/{id}/elsewhere", get(elsewhere))
        .route("/topics/proposals", get(proposals))
        .route("/topics", axum::routing::post(create_topic))
        .route("/topics/{id}", get(get_topic))
}

fn date(field: &str, s: &str) -> ApiResult<NaiveDate> {
    crate::web::extract::day(field, s)
}

fn number(field: &str, s: Option<&str>, default: i64, max: i64) -> ApiResult<i64> {
    match s {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                AppError::Invalid(vec![FieldError::with(
                    field,
                    "err.hotspot_api.must_be_a_whole_number_1",
                    &[("max", max.to_string())],
                )])
            }),
    }
}

fn local_midnight(s: &AppState, d: NaiveDate) -> DateTime<Utc> {
    s.config.local_midnight(d)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HotspotParams {
    from: Option<String>,
    to: Option<String>,
    district: Option<String>,
    top: Option<String>,
}

async fn list_hotspots(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<HotspotParams>,
) -> ApiResult<Json<Vec<HotspotView>>> {
    let top = number("top", p.top.as_deref(), 20, 500)? as usize;
    if p.from.is_none() && p.to.is_none() && p.district.is_none() {
        // the default view: the node's live index, fed at intake
        return Ok(Json(hotspots::live(&s, &actor, top)?));
    }
    let to = match &p.to {
        Some(t) => local_midnight(&s, date("to", t)?) + Duration::days(1),
        None => s.clock.now() + Duration::milliseconds(1),
    };
    let from = match &p.from {
        Some(f) => local_midnight(&s, date("from", f)?),
        None => to - Duration::days(DEFAULT_DAYS),
    };
    if from >= to {
        return Err(AppError::invalid(
            "from",
            "err.hotspot_api.from_must_be_before_to",
        ));
    }
    let range = Range {
        from,
        to,
        district: p.district.clone(),
    };
    Ok(Json(hotspots::hotspots(&s, &actor, &range, top).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DaysParams {
    days: Option<String>,
}

async fn similar(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(key): Path<String>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> ApiResult<Json<Vec<HotspotView>>> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("hotspots"));
    }
    let days = number("days", p.days.as_deref(), DEFAULT_DAYS, 366)?;
    // a small number is a rank in the default (live) list; request ids are UUIDs
    let seed = match key.parse::<usize>() {
        Ok(rank) if (1..=500).contains(&rank) => hotspots::live(&s, &actor, rank)?
            .pop()
            .filter(|p| p.rank == rank)
            .map(|p| p.request_ids),
        _ => hotspots::problem_requests(&s, &key, days).await?,
    }
    .ok_or(AppError::NotFound("hotspot"))?;
    Ok(Json(hotspots::elsewhere(&s, &seed, days).await?))
}

async fn elsewhere(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> ApiResult<Json<Vec<HotspotView>>> {
    let days = number("days", p.days.as_deref(), DEFAULT_DAYS, 366)?;
    Ok(Json(tasks::elsewhere(&s, &actor, &id, days).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    date: Option<String>,
}

async fn alerts(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<AlertParams>,
) -> ApiResult<Json<Vec<AlertView>>> {
    let day = match &p.date {
        Some(d) => date("date", d)?,
        None => s.clock.now().with_timezone(&s.config.offset()).date_naive(),
    };
    Ok(Json(alerts::alerts(&s, &actor, day).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskParams {
    status: Option<String>,
}

async fn list_tasks(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<TaskParams>,
) -> ApiResult<Json<Vec<TaskSummary>>> {
    Ok(Json(tasks::list(&s, &actor, p.status.as_deref()).await?))
}

async fn open_task(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewTask>,
) -> ApiResult<(StatusCode, Json<RequestView>)> {
    let id = tasks::open(&s, &actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::get(&s, &actor, &id).await?),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthParams {
    month: Option<String>,
}

async fn proposals(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> ApiResult<Json<Vec<Proposal>>> {
    let month = match &p.month {
        Some(m) => m.clone(),
        None => s
            .clock
            .now()
            .with_timezone(&s.config.offset())
            .format("%Y-%m")
            .to_string(),
    };
    Ok(Json(
        topics::proposals(&s, &actor, topics::parse_month(&month)?).await?,
    ))
}

async fn create_topic(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewTopic>,
) -> ApiResult<(StatusCode, Json<TopicView>)> {
    let id = topics::create(&s, &actor, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(topics::get(&s, &actor, &id).await?),
    ))
}

async fn get_topic(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<TopicView>> {
    Ok(Json(topics::get(&s, &actor, &id).await?))
}
