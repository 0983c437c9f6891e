//! The JSON API under `/api/v1` (described at `/api/v1/openapi.json`).

use super::client::ClientIp;
use super::extract::{acting_token, ApiJson, ApiQuery, Auth};
use super::limits::{Kind, Limits};
use crate::error::AppError;
use crate::services::handling::{self, DispatchInput, UnitActionInput, UnitVerb};
use crate::services::views::{self, OrderView, Page, RequestView};
use crate::services::{auth, callback, intake, supervision, AppState};
use axum::extract::{Path, State};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_core::CallbackInput;
use serde::Deserialize;

type ApiResult<T> = Result<T, AppError>;

/// The routes, relative to `/api/v1`; `limits` rate-limits logins.
pub fn routes(limits: &Limits) -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(super::openapi::spec))
        .route(
            "/auth/token",
            limits.api(Kind::Login, post(login).delete(logout)),
        )
        .route("/me", get(me))
        .route("/requests", post(create_request).get(list_requests))
        .route("/requests/export", get(export_requests))
        .route("/requests/{id}", get(get_request))
        .route("/requests/{id}/dispatch", post(dispatch))
        .route("/requests/{id}/answer", post(answer))
        .route("/requests/{id}/merge", post(merge))
        .route("/requests/{id}/callback", post(record_callback))
        .route("/assignments/{id}/acknowledge", post(acknowledge))
        .route("/assignments/{id}/return", post(return_order))
        .route("/assignments/{id}/extension", post(request_extension))
        .route("/assignments/{id}/reply", post(reply))
        .route("/extensions/{id}/decision", post(decide_extension))
        .route("/supervision/overdue", get(overdue))
        .route("/supervision/about-to-breach", get(about_to_breach))
        .route("/supervision/returned", get(returned))
        .route("/supervision/disputes", get(disputes))
        .route("/requests/{id}/arbitrate", post(arbitrate))
        .route("/supervision/unsatisfied", get(unsatisfied))
        .route("/supervision/summons", get(summons))
        .merge(super::users_api::routes())
        .merge(super::returns_api::routes())
        .merge(super::units_api::routes())
        .merge(super::categories_api::routes())
        .route("/privacy/export", post(privacy_export))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivacyExportInput {
    phone: String,
}

/// Everything held about one phone number (admins only; leaves an event). A POST, so the
/// number stays out of URLs and access logs.
async fn privacy_export(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<PrivacyExportInput>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        crate::services::privacy::export(&s, &actor, &input.phone).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginInput {
    username: String,
    password: String,
}

/// Logs in; answers the token and also sets it as an HttpOnly session cookie for browsers.
async fn login(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    parts: Parts,
    ApiJson(input): ApiJson<LoginInput>,
) -> ApiResult<impl IntoResponse> {
    let session = auth::login(&s, &input.username, &input.password, client).await?;
    let https = super::cookies::is_https(&parts.headers, &parts.extensions, &s.config);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        super::ui::home::session_cookie(&s, Some(&session.token), https)?,
    );
    Ok((headers, Json(session)))
}

async fn logout(State(s): State<AppState>, parts: Parts) -> ApiResult<StatusCode> {
    let token = acting_token(&parts, &s)?;
    auth::logout(&s, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(Auth(actor): Auth) -> Json<jiesu_core::Actor> {
    Json(actor)
}

/// `POST /requests`. With `Idempotency-Key` (the IETF draft's header), a request sent again
/// after its answer was lost answers 201 with the request already made (its state now) and
/// `Idempotent-Replayed: true`; the same key with another body is a 422 naming the header.
async fn create_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
    ApiJson(mut input): ApiJson<intake::NewRequest>,
) -> ApiResult<impl IntoResponse> {
    input.idempotency_key = headers
        .get("idempotency-key")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let made = intake::create_keyed(&s, &actor, input).await?;
    if made.replayed {
        let view = views::get(&s, &actor, &made.row.id).await?;
        let replayed = [("idempotent-replayed", "true")];
        return Ok((StatusCode::CREATED, replayed, Json(view)).into_response());
    }
    let view = views::of_new(&actor, &made.row, made.events);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    unit: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn list_requests(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page>> {
    let status = p.status.filter(|s| !s.is_empty());
    Ok(Json(
        views::list(
            &s,
            &actor,
            status,
            p.unit,
            super::extract::bounded("page", p.page, 1, 1, 1_000_000)?,
            super::extract::bounded("per_page", p.per_page, 20, 1, 200)?,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportParams {
    format: Option<String>,
    status: Option<String>,
    unit: Option<String>,
    lang: Option<String>,
}

/// The request list with the list's filters as a CSV (UTF-8 with BOM) or xlsx file; at most
/// `export::ROW_CAP` rows, said with the total in `X-Row-Cap` and `X-Total-Count`.
async fn export_requests(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> ApiResult<axum::response::Response> {
    use crate::services::export::{self, FileFormat};
    let format = match p.format.as_deref().unwrap_or("csv") {
        "csv" => FileFormat::Csv,
        "xlsx" => FileFormat::Xlsx,
        _ => return Err(AppError::invalid("format", "err.export.format")),
    };
    let lang = match p.lang.as_deref().filter(|l| !l.is_empty()) {
        None => crate::messages::Lang::Zh,
        Some(l) => crate::messages::Lang::parse(l)
            .ok_or_else(|| AppError::invalid("lang", "err.export.lang"))?,
    };
    let status = p.status.filter(|s| !s.is_empty());
    let file = export::requests(&s, &actor, status, p.unit, format, lang).await?;
    let (mime, ext) = match format {
        FileFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        FileFormat::Xlsx => (super::kpi_api::XLSX, "xlsx"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"requests.{ext}\""),
            ),
            (
                header::HeaderName::from_static("x-row-cap"),
                export::ROW_CAP.to_string(),
            ),
            (
                header::HeaderName::from_static("x-total-count"),
                file.total.to_string(),
            ),
        ],
        file.bytes,
    )
        .into_response())
}

async fn get_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    Ok(Json(views::get(&s, &actor, &id).await?))
}

async fn dispatch(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DispatchInput>,
) -> ApiResult<Json<RequestView>> {
    handling::dispatch(&s, &actor, &id, input).await?;
    Ok(Json(views::get(&s, &actor, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ArbitrateInput {
    /// The responsible units: one lead (who may not return it), co-handlers optional.
    assignments: Vec<handling::DispatchTarget>,
    /// Overrides the time-limit class.
    time_limit_class: Option<String>,
    /// Why this unit is responsible.
    reason: String,
}

async fn arbitrate(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ArbitrateInput>,
) -> ApiResult<Json<RequestView>> {
    let dispatch = DispatchInput {
        assignments: input.assignments,
        time_limit_class: input.time_limit_class,
    };
    handling::arbitrate(&s, &actor, &id, dispatch, &input.reason).await?;
    Ok(Json(views::get(&s, &actor, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerInput {
    answer: String,
    kb_entry_id: Option<String>,
}

async fn answer(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> ApiResult<Json<RequestView>> {
    intake::answer(&s, &actor, &id, &input.answer, input.kb_entry_id.as_deref()).await?;
    Ok(Json(views::get(&s, &actor, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MergeInput {
    into: String,
}

async fn merge(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MergeInput>,
) -> ApiResult<Json<RequestView>> {
    intake::merge(&s, &actor, &id, &input.into).await?;
    Ok(Json(views::get(&s, &actor, &id).await?))
}

async fn record_callback(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CallbackInput>,
) -> ApiResult<Json<RequestView>> {
    callback::record(&s, &actor, &id, input).await?;
    Ok(Json(views::get(&s, &actor, &id).await?))
}

async fn unit_verb(
    s: AppState,
    actor: jiesu_core::Actor,
    id: String,
    verb: UnitVerb,
    input: UnitActionInput,
) -> ApiResult<Json<RequestView>> {
    let request_id = handling::unit_act(&s, &actor, &id, verb, input).await?;
    Ok(Json(views::get(&s, &actor, &request_id).await?))
}

async fn acknowledge(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestView>> {
    unit_verb(
        s,
        actor,
        id,
        UnitVerb::Acknowledge,
        UnitActionInput::default(),
    )
    .await
}

async fn return_order(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UnitActionInput>,
) -> ApiResult<Json<RequestView>> {
    unit_verb(s, actor, id, UnitVerb::Return, input).await
}

async fn request_extension(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UnitActionInput>,
) -> ApiResult<Json<RequestView>> {
    unit_verb(s, actor, id, UnitVerb::Extension, input).await
}

async fn reply(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UnitActionInput>,
) -> ApiResult<Json<RequestView>> {
    unit_verb(s, actor, id, UnitVerb::Reply, input).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionInput {
    approve: bool,
}

async fn decide_extension(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<RequestView>> {
    let request_id = handling::decide_extension(&s, &actor, &id, input.approve).await?;
    Ok(Json(views::get(&s, &actor, &request_id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverdueParams {
    limit: Option<i64>,
}

async fn overdue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<OverdueParams>,
) -> ApiResult<Json<Vec<OrderView>>> {
    let list = supervision::DeadlineList::Overdue;
    Ok(Json(
        supervision::overdue(
            &s,
            &actor,
            list,
            super::extract::bounded("limit", p.limit, 200, 1, 1000)?,
        )
        .await?,
    ))
}

async fn about_to_breach(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<OverdueParams>,
) -> ApiResult<Json<Vec<OrderView>>> {
    let list = supervision::DeadlineList::AboutToBreach;
    Ok(Json(
        supervision::overdue(
            &s,
            &actor,
            list,
            super::extract::bounded("limit", p.limit, 200, 1, 1000)?,
        )
        .await?,
    ))
}

async fn disputes(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<OverdueParams>,
) -> ApiResult<Json<Vec<supervision::Dispute>>> {
    Ok(Json(
        supervision::disputes(
            &s,
            &actor,
            super::extract::bounded("limit", p.limit, 200, 1, 500)?,
        )
        .await?,
    ))
}

async fn returned(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<OverdueParams>,
) -> ApiResult<Json<Vec<OrderView>>> {
    Ok(Json(
        supervision::returned(
            &s,
            &actor,
            super::extract::bounded("limit", p.limit, 200, 1, 1000)?,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnsatisfiedParams {
    month: String,
    min: Option<i64>,
}

async fn unsatisfied(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<UnsatisfiedParams>,
) -> ApiResult<Json<Vec<supervision::UnsatisfiedUnit>>> {
    let month = crate::services::kpi::Month::parse(&p.month)?;
    Ok(Json(
        supervision::unsatisfied(
            &s,
            &actor,
            month,
            super::extract::bounded("min", p.min, 2, 1, 1000)?,
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummonsParams {
    month: String,
    level: Option<String>,
}

async fn summons(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<SummonsParams>,
) -> ApiResult<Json<Vec<crate::services::kpi::UnitRanking>>> {
    let month = crate::services::kpi::Month::parse(&p.month)?;
    let level = crate::services::kpi::Level::parse(p.level.as_deref().unwrap_or("subdistrict"))?;
    Ok(Json(supervision::summons(&s, &actor, month, level).await?))
}
