//! The text-intelligence part of the API: intake suggestions and their measured accuracy,
//! the knowledge base, and the dispatch catalogue.

use super::extract::{ApiJson, ApiQuery, Auth};
use super::limits::{Kind, Limits};
use crate::error::AppError;
use crate::services::catalogue::{self, RuleInput, StoredRule};
use crate::services::kb::{self, KbEntry, KbHit, KbInput};
use crate::services::search::{SearchFilter, SearchResults};
use crate::services::suggest::{self, Accuracy, SuggestInput, Suggestion};
use crate::services::{directory, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use jiesu_core::access::Action;
use serde::Deserialize;

/// The routes, relative to `/api/v1`; `limits` rate-limits suggestions.
pub fn routes(limits: &Limits) -> Router<AppState> {
    Router::new()
        .route("/kb", get(search_kb).post(create_kb))
        .route("/kb/{id}", get(get_kb).put(update_kb).delete(delete_kb))
        .route("/catalogue", get(list_rules).post(add_rule))
        .route(
            "/requests/suggest",
            limits.api(Kind::Suggest, axum::routing::post(suggest)),
        )
        .route("/text/accuracy", get(accuracy))
        .route("/text/models", get(models))
        .route("/text/models/rollback", axum::routing::post(rollback))
        .route("/search", get(search))
        .route(
            "/catalogue/{id}",
            axum::routing::put(replace_rule).delete(retire_rule),
        )
}

async fn suggest(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<SuggestInput>,
) -> Result<Json<Suggestion>, AppError> {
    if !(actor.may(Action::CreateRequest) || actor.may(Action::Dispatch)) {
        return Err(AppError::Forbidden("intake suggestions"));
    }
    Ok(Json(suggest::suggest(&s, input).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

/// `from` and `to` are local dates, `to` inclusive; the default is the last 30 days.
async fn accuracy(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<Accuracy>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("accuracy reports"));
    }
    let offset = s.config.offset();
    let today = s.clock.now().with_timezone(&offset).date_naive();
    let day = |field: &str, v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .map(|v| super::extract::day(field, &v))
            .transpose()
    };
    let (p_from, p_to) = (day("from", p.from)?, day("to", p.to)?);
    let to = p_to.unwrap_or(today) + chrono::Duration::days(1);
    let from = p_from.unwrap_or(to - chrono::Duration::days(30));
    if from >= to {
        return Err(AppError::invalid(
            "from",
            "err.text_api.from_must_be_before_to",
        ));
    }
    let at = |d: chrono::NaiveDate| s.config.local_midnight(d);
    Ok(Json(suggest::accuracy(&s, at(from), at(to)).await?))
}

/// The learned models, newest first, with how each was judged (supervisors).
async fn models(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<Vec<crate::services::learning::ModelInfo>>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("text models"));
    }
    Ok(Json(crate::services::learning::list(&s).await?))
}

/// Puts the previous model back in force (administrators).
async fn rollback(
    State(s): State<AppState>,
    Auth(actor): Auth,
) -> Result<Json<crate::services::learning::ModelInfo>, AppError> {
    let by = crate::services::accounts::By::User(&actor);
    Ok(Json(crate::services::learning::rollback(&s, by).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    q: String,
    kind: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<usize>,
}

/// Full-text search over requests and knowledge-base entries. Unit staff search only their
/// unit's requests (and the knowledge base with `kind=kb`).
async fn search(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, AppError> {
    let index = s
        .search
        .as_ref()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no search index on this node")))?;
    if p.q.trim().is_empty() || p.q.chars().count() > 200 {
        return Err(AppError::invalid(
            "q",
            "err.text_api.q_must_be_1_200_characters",
        ));
    }
    let kind = p
        .kind
        .filter(|k| !k.is_empty())
        .map(|k| match k.as_str() {
            "request" | "kb" => Ok(k),
            _ => Err(AppError::invalid(
                "kind",
                "err.text_api.kind_must_be_request_or_kb",
            )),
        })
        .transpose()?;
    let mut filter = SearchFilter {
        kind,
        status: p.status.filter(|v| !v.is_empty()),
        category: p.category.filter(|v| !v.is_empty()),
        ..Default::default()
    };
    if let Some(code) = p.unit.filter(|v| !v.is_empty()) {
        filter.unit_path = Some(
            directory::unit(&s, &code)
                .await?
                .ok_or_else(|| AppError::invalid("unit", "err.no_such_unit"))?
                .path,
        );
    }
    // Entries not yet published (or expired) are the center's and their unit's (issue 23).
    if !jiesu_core::kb::is_keeper(&actor) {
        filter.kb_reader = Some(actor.unit.as_ref().map(|u| u.path.clone()));
    }
    if !actor.sees_all() && filter.kind.as_deref() != Some("kb") {
        let own = actor
            .unit
            .as_ref()
            .map(|u| u.path.clone())
            .ok_or(AppError::Forbidden("no unit"))?;
        if filter
            .unit_path
            .as_ref()
            .is_some_and(|p| !p.starts_with(&own))
        {
            return Err(AppError::Forbidden("another unit's requests"));
        }
        filter.unit_path = filter.unit_path.or(Some(own));
        filter.kind = Some("request".into());
    }
    let at = |d: chrono::NaiveDate| s.config.local_midnight(d);
    let day = |field: &str, v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .map(|v| super::extract::day(field, &v))
            .transpose()
    };
    filter.from = day("from", p.from)?.map(at);
    filter.to = day("to", p.to)?.map(|d| at(d + chrono::Duration::days(1)));
    Ok(Json(
        index
            .search(&p.q, &filter, p.limit.unwrap_or(20).clamp(1, 200))
            .map_err(AppError::Internal)?,
    ))
}

async fn list_rules(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> Result<Json<Vec<StoredRule>>, AppError> {
    Ok(Json(catalogue::list(&s).await?))
}

async fn add_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<(StatusCode, Json<StoredRule>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(catalogue::save(&s, &actor, None, input).await?),
    ))
}

async fn replace_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<StoredRule>, AppError> {
    Ok(Json(catalogue::save(&s, &actor, Some(&id), input).await?))
}

async fn retire_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    catalogue::retire(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KbParams {
    q: Option<String>,
    limit: Option<usize>,
}

async fn search_kb(
    State(s): State<AppState>,
    Auth(_): Auth,
    ApiQuery(p): ApiQuery<KbParams>,
) -> Result<Json<Vec<KbHit>>, AppError> {
    let limit = p.limit.unwrap_or(20).clamp(1, 200);
    match p.q.filter(|q| !q.trim().is_empty()) {
        Some(q) => Ok(Json(kb::search(&s, &q, limit, 0.2).await?)),
        None => {
            let all = kb::live(&s, limit).await?;
            Ok(Json(
                all.into_iter()
                    .map(|entry| KbHit { entry, score: 1.0 })
                    .collect(),
            ))
        }
    }
}

async fn get_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<KbEntry>, AppError> {
    Ok(Json(kb::get_for(&s, &actor, &id).await?))
}

async fn create_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<KbInput>,
) -> Result<(StatusCode, Json<KbEntry>), AppError> {
    Ok((
        StatusCode::CREATED,
        Json(kb::save(&s, &actor, None, input).await?),
    ))
}

async fn update_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<KbInput>,
) -> Result<Json<KbEntry>, AppError> {
    Ok(Json(kb::save(&s, &actor, Some(&id), input).await?))
}

async fn delete_kb(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    kb::delete(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
