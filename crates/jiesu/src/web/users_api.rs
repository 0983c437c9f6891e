//! The administrators' user endpoints under `/api/v1/users`: list, create, disable, enable,
//! reset a password, revoke sessions. Each is an event naming the administrator.

use super::extract::{ApiJson, Auth};
use crate::error::AppError;
use crate::services::accounts::{self, By, Change, User};
use crate::services::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiesu_core::access::Action;
use jiesu_core::Role;
use serde::Deserialize;

/// The routes, relative to `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{username}/disable", post(disable))
        .route("/users/{username}/enable", post(enable))
        .route("/users/{username}/password", post(reset_password))
        .route("/users/{username}/revoke-sessions", post(revoke))
}

async fn list(State(s): State<AppState>, Auth(actor): Auth) -> Result<Json<Vec<User>>, AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("administration"));
    }
    Ok(Json(accounts::list_users(&s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserInput {
    username: String,
    role: Role,
    unit: Option<String>,
    password: String,
}

async fn create(
    State(s): State<AppState>,
    Auth(actor): Auth,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let by = By::User(&actor);
    let unit = input.unit.as_deref().filter(|u| !u.is_empty());
    accounts::create_user_by(&s, by, &input.username, input.role, unit, &input.password).await?;
    let user = accounts::list_users(&s)
        .await?
        .into_iter()
        .find(|u| u.username == input.username)
        .ok_or(AppError::NotFound("user"))?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn change(
    s: AppState,
    actor: jiesu_core::Actor,
    name: String,
    c: Change,
) -> Result<Json<User>, AppError> {
    Ok(Json(
        accounts::change_user(&s, By::User(&actor), &name, c).await?,
    ))
}

async fn disable(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(name): Path<String>,
) -> Result<Json<User>, AppError> {
    change(s, a, name, Change::Disable).await
}

async fn enable(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(name): Path<String>,
) -> Result<Json<User>, AppError> {
    change(s, a, name, Change::Enable).await
}

async fn revoke(
    State(s): State<AppState>,
    Auth(a): Auth,
    Path(name): Path<String>,
) -> Result<Json<User>, AppError> {
    change(s, a, name, Change::RevokeSessions).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordInput {
    password: String,
}

async fn reset_password(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    ApiJson(input): ApiJson<PasswordInput>,
) -> Result<Json<User>, AppError> {
    Ok(Json(
        accounts::reset_password(&s, By::User(&actor), &name, &input.password).await?,
    ))
}
