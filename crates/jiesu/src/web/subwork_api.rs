//! 下派 and 签批 in the API: passing an order (or a child order) down, the sub-unit's
//! acknowledgement, reply, request for more time and return, their decisions, the queues, the sub-unit tallies, and the
//! per-unit sign-off setting.

use super::extract::{bounded, ApiJson, ApiQuery, Auth};
use crate::error::AppError;
use crate::services::subwork::{self, PassDownInput, PassFrom, SignoffInput, SubReplyInput};
use crate::services::subwork_lists::{self, SignoffItem, SubOrderItem, Tallies};
use crate::services::subwork_time::{
    self, SubExtension, SubExtensionDecisionInput, SubExtensionInput, SubReturnInput,
};
use crate::services::views::{self, RequestView};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiesu_core::subwork::{SubExtensionStatus, SubOrderStatus};
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assignments/{id}/pass-down", post(pass_down_order))
        .route("/sub-orders", get(queue))
        .route("/sub-orders/tallies", get(tallies))
        .route("/sub-orders/{id}/pass-down", post(pass_down_sub))
        .route("/sub-orders/{id}/acknowledge", post(acknowledge))
        .route("/sub-orders/{id}/reply", post(reply))
        .route("/sub-orders/{id}/extension", post(ask_time))
        .route("/sub-orders/{id}/return", post(give_back))
        .route("/sub-extensions", get(extensions))
        .route("/sub-extensions/{id}/decision", post(decide_time))
        .route("/signoffs", get(signoffs))
        .route("/signoffs/{id}/decision", post(decide))
        .route("/units/{code}/signoff", put(set_signoff))
}

async fn view(
    s: &AppState,
    actor: &jiesu_core::Actor,
    id: &str,
) -> Result<Json<RequestView>, AppError> {
    Ok(Json(views::get(s, actor, id).await?))
}

/// Passes an order down to units under its unit; answers the request as the unit sees it.
async fn pass_down_order(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PassDownInput>,
) -> Result<Json<RequestView>, AppError> {
    let (request_id, _) = subwork::pass_down(&s, &actor, PassFrom::Order(&id), input).await?;
    view(&s, &actor, &request_id).await
}

/// Passes a child order further down.
async fn pass_down_sub(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<PassDownInput>,
) -> Result<Json<RequestView>, AppError> {
    let (request_id, _) = subwork::pass_down(&s, &actor, PassFrom::SubOrder(&id), input).await?;
    view(&s, &actor, &request_id).await
}

async fn acknowledge(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = subwork::acknowledge(&s, &actor, &id).await?;
    view(&s, &actor, &request_id).await
}

async fn reply(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubReplyInput>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = subwork::reply(&s, &actor, &id, input).await?;
    view(&s, &actor, &request_id).await
}

async fn decide(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SignoffInput>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = subwork::decide(&s, &actor, &id, input).await?;
    view(&s, &actor, &request_id).await
}

/// A sub-unit asks the unit above for a later reply limit (延期).
async fn ask_time(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubExtensionInput>,
) -> Result<Json<RequestView>, AppError> {
    let (request_id, _) = subwork_time::ask(&s, &actor, &id, input).await?;
    view(&s, &actor, &request_id).await
}

/// The unit above approves (inside its own limit) or refuses a child's request for time.
async fn decide_time(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubExtensionDecisionInput>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = subwork_time::decide(&s, &actor, &id, input).await?;
    view(&s, &actor, &request_id).await
}

/// A sub-unit returns its child order to the unit above with a reason (退回上级).
async fn give_back(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SubReturnInput>,
) -> Result<Json<RequestView>, AppError> {
    let request_id = subwork_time::give_back(&s, &actor, &id, input).await?;
    view(&s, &actor, &request_id).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionParams {
    status: Option<SubExtensionStatus>,
    limit: Option<i64>,
}

/// The requests for more time the actor's unit decides or asked.
async fn extensions(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<ExtensionParams>,
) -> Result<Json<Vec<SubExtension>>, AppError> {
    let limit = bounded("limit", p.limit, 200, 1, 1000)?;
    Ok(Json(subwork_time::list(&s, &actor, p.status, limit).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueParams {
    status: Option<SubOrderStatus>,
    limit: Option<i64>,
}

/// The actor's unit's own child orders (open ones unless `status` is given).
async fn queue(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<QueueParams>,
) -> Result<Json<Vec<SubOrderItem>>, AppError> {
    let limit = bounded("limit", p.limit, 200, 1, 1000)?;
    Ok(Json(
        subwork_lists::queue(&s, &actor, p.status.map(|st| vec![st]), limit).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitParams {
    limit: Option<i64>,
}

/// The sign-offs waiting for the actor's unit.
async fn signoffs(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<LimitParams>,
) -> Result<Json<Vec<SignoffItem>>, AppError> {
    let limit = bounded("limit", p.limit, 200, 1, 1000)?;
    Ok(Json(
        subwork_lists::pending_signoffs(&s, &actor, limit).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TallyParams {
    unit: Option<String>,
    month: Option<String>,
}

/// The sub-unit tallies (下属单位办理情况) of a unit for a month.
async fn tallies(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(p): ApiQuery<TallyParams>,
) -> Result<Json<Tallies>, AppError> {
    Ok(Json(
        subwork_lists::tallies(&s, &actor, p.unit.as_deref(), p.month.as_deref()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignoffSetting {
    required: bool,
}

/// Sets whether a unit's handlers' replies wait for its manager (admins).
async fn set_signoff(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<SignoffSetting>,
) -> Result<Json<serde_json::Value>, AppError> {
    subwork::set_signoff_required(&s, &actor, &code, input.required).await?;
    Ok(Json(
        serde_json::json!({ "unit_code": code, "signoff_required": input.required }),
    ))
}
