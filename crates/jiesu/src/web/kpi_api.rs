//! The KPI part of the API: rankings (live or frozen), freezing a month, a unit's monthly
//! trend, versioned rules and exemptions.

use super::extract::{ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::kpi::{self, Level, Month, Ranking, RulesInput, TrendPoint};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/kpi/ranking", get(ranking))
        .route("/kpi/months/{month}/freeze", post(freeze))
        .route("/kpi/units/{code}", get(trend))
        .route("/kpi/rules", post(add_rules))
        .route("/kpi/population", axum::routing::put(set_population))
        .route("/kpi/report", get(report))
        .route("/assignments/{id}/exempt", post(exempt))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RankingParams {
    month: String,
    #[serde(default = "default_level")]
    level: String,
    format: Option<String>,
}

fn default_level() -> String {
    "subdistrict".into()
}

fn json_body(payload: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], payload).into_response()
}

/// Renders a ranking as CSV (`code,name,response_rate,…,class,volume`), after a UTF-8 BOM.
pub fn ranking_csv(r: &Ranking) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(crate::services::export::BOM.as_bytes().to_vec());
    let fmt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
    let head = [
        "code",
        "name",
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "composite",
        "rank",
        "previous_rank",
        "class",
        "volume",
        "appealed",
        "appeals_granted",
    ];
    w.write_record(head)
        .map_err(|e| AppError::Internal(e.into()))?;
    for u in &r.units {
        let class = u
            .class
            .map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let opt = |v: Option<usize>| v.map(|v| v.to_string()).unwrap_or_default();
        w.write_record([
            u.code.clone(),
            u.name.clone(),
            fmt(u.response_rate),
            fmt(u.resolution_rate),
            fmt(u.satisfaction_rate),
            format!("{:.6}", u.composite),
            opt(u.rank),
            opt(u.previous_rank),
            class,
            u.volume.to_string(),
            u.appealed.to_string(),
            u.appeals_granted.to_string(),
        ])
        .map_err(|e| AppError::Internal(e.into()))?;
    }
    String::from_utf8(
        w.into_inner()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?,
    )
    .map_err(|e| AppError::Internal(e.into()))
}

async fn ranking(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(p): ApiQuery<RankingParams>,
) -> Result<Response, AppError> {
    let (month, level) = (Month::parse(&p.month)?, Level::parse(&p.level)?);
    // Read from the standby when one is configured (issue 21), its lag in a header.
    let (s, staleness) = s.for_reports();
    let payload = kpi::ranking_json(&s, month, level).await?;
    match p.format.as_deref().unwrap_or("json") {
        "json" => Ok(super::with_staleness(json_body(payload), staleness)),
        "csv" => {
            let r: Ranking =
                serde_json::from_str(&payload).map_err(|e| AppError::Internal(e.into()))?;
            Ok((
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                ranking_csv(&r)?,
            )
                .into_response())
        }
        "xlsx" => {
            let r: Ranking =
                serde_json::from_str(&payload).map_err(|e| AppError::Internal(e.into()))?;
            Ok(xlsx_body(
                crate::services::report::ranking_xlsx(&r)?,
                &format!("ranking-{}-{}.xlsx", r.month, r.level),
            ))
        }
        _ => Err(AppError::invalid(
            "format",
            "err.kpi_api.format_must_be_json_csv_or",
        )),
    }
}

/// The xlsx media type.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn xlsx_body(bytes: Vec<u8>, filename: &str) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    (
        [
            (header::CONTENT_TYPE, XLSX.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MonthParams {
    month: String,
}

/// The monthly report workbook (月度通报).
async fn report(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Response, AppError> {
    if !actor.sees_all() {
        return Err(AppError::Forbidden("the monthly report"));
    }
    let month = Month::parse(&p.month)?;
    Ok(xlsx_body(
        crate::services::report::monthly_xlsx(&s, month).await?,
        &format!("jiesu-report-{}.xlsx", month.label()),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LevelParams {
    #[serde(default = "default_level")]
    level: String,
}

async fn freeze(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(month): Path<String>,
    ApiQuery(p): ApiQuery<LevelParams>,
) -> Result<Response, AppError> {
    let payload = kpi::freeze(&s, &actor, Month::parse(&month)?, Level::parse(&p.level)?).await?;
    Ok((StatusCode::CREATED, json_body(payload)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrendParams {
    from: String,
    to: String,
}

async fn trend(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(code): Path<String>,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> Result<Json<Vec<TrendPoint>>, AppError> {
    Ok(Json(
        kpi::trend(&s, &code, Month::parse(&p.from)?, Month::parse(&p.to)?).await?,
    ))
}

async fn add_rules(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<RulesInput>,
) -> Result<StatusCode, AppError> {
    kpi::add_rules(&s, &actor, input).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PopulationBody {
    units: Vec<kpi::PopulationInput>,
}

async fn set_population(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<PopulationBody>,
) -> Result<Json<serde_json::Value>, AppError> {
    let n = kpi::set_populations(&s, &actor, &input.units).await?;
    Ok(Json(serde_json::json!({ "units": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExemptInput {
    reason: String,
}

async fn exempt(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ExemptInput>,
) -> Result<StatusCode, AppError> {
    kpi::exempt(&s, &actor, &id, &input.reason).await?;
    Ok(StatusCode::NO_CONTENT)
}
