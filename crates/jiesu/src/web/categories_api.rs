//! Categories under `/api/v1/categories`: anyone logged in lists them and reads one with its
//! history; only administrators add and change them (rename, move, time-limit class, 办结审核,
//! deactivate, reactivate; effective-dated), each an event.

use super::extract::{ApiJson, Auth};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::categories::NewCategory;
use crate::services::categories::{self, CategoryChange, CategoryHistory, CategoryRecord};
use crate::services::directory::{self, Category};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/categories", get(list).post(add))
        .route("/categories/{code}", get(one).patch(change))
}

async fn list(State(s): State<AppState>, Auth(_): Auth) -> Result<Json<Vec<Category>>, AppError> {
    Ok(Json(directory::categories(&s).await?))
}

async fn one(
    State(s): State<AppState>,
    Auth(_): Auth,
    Path(code): Path<String>,
) -> Result<Json<CategoryHistory>, AppError> {
    Ok(Json(categories::history(&s, &code).await?))
}

async fn add(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(body): ApiJson<NewCategory>,
) -> Result<(StatusCode, Json<CategoryRecord>), AppError> {
    let c = categories::add(&s, By::User(&actor), &body).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

async fn change(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<CategoryChange>,
) -> Result<Json<CategoryRecord>, AppError> {
    Ok(Json(
        categories::change(&s, By::User(&actor), &code, &body).await?,
    ))
}
