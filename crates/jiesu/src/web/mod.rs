//! The HTTP edge: the router, the JSON API under `/api/v1`, the web pages under `/ui` (`ui`),
//! error rendering in the caller's language, and the body limit. Handlers are thin: they
//! extract, call a service, and shape the answer.

pub mod api;
pub mod client;
pub mod cookies;
pub mod extract;
pub mod hotspot_api;
pub mod kpi_api;
pub mod limits;
pub mod openapi;
pub mod text_api;
pub mod ui;
pub mod users_api;

use crate::error::AppError;
use crate::services::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

/// Request bodies over this are refused with 413.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The rendered error, kept on the response so the language middleware can re-render it.
#[derive(Clone, Debug)]
struct ErrorParts {
    code: &'static str,
    zh: String,
    en: String,
    fields: Vec<crate::error::FieldError>,
    retry_after: Option<i64>,
}

fn error_body(p: &ErrorParts, en: bool) -> serde_json::Value {
    let fields: Vec<_> = p
        .fields
        .iter()
        .map(|f| serde_json::json!({ "field": f.field, "message": if en { &f.message_en } else { &f.message } }))
        .collect();
    serde_json::json!({ "error": { "code": p.code, "message": if en { &p.en } else { &p.zh }, "fields": fields } })
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let parts = ErrorParts {
            code: self.code(),
            zh: self.message(false),
            en: self.message(true),
            fields: self.fields().to_vec(),
            retry_after: match self {
                AppError::TooManyAttempts(s) | AppError::TooManyRequests(s) | AppError::Busy(s) => {
                    Some(s)
                }
                _ => None,
            },
        };
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(error_body(&parts, false))).into_response();
        if let Some(s) = parts.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp.extensions_mut().insert(parts);
        resp
    }
}

/// Re-renders error bodies in English when the caller prefers it (`Accept-Language: en…`);
/// Chinese is the default.
async fn localize(req: Request, next: Next) -> Response {
    let en = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("en"));
    let resp = next.run(req).await;
    match (en, resp.extensions().get::<ErrorParts>().cloned()) {
        (true, Some(parts)) => {
            let (mut head, _) = resp.into_parts();
            head.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(
                head,
                axum::body::Body::from(error_body(&parts, true).to_string()),
            )
        }
        _ => resp,
    }
}

/// Liveness: the process answers. It does not touch the database (see `/readyz`), so a
/// database outage does not get a healthy process restarted.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers and takes writes; 503 otherwise, for a load balancer to
/// send traffic elsewhere.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.store.ready().await {
        Ok(()) => (
            StatusCode::OK,
            Json(serde_json::json!({ "status": "ready" })),
        )
            .into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "status": "unavailable" })),
            )
                .into_response()
        }
    }
}

async fn not_found() -> AppError {
    AppError::NotFound("route")
}

/// The whole application's routes.
pub fn router(state: AppState) -> Router {
    let limits = limits::Limits::new(&state.config);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .nest(
            "/api/v1",
            api::routes(&limits)
                .merge(text_api::routes(&limits))
                .merge(kpi_api::routes())
                .merge(hotspot_api::routes()),
        )
        .merge(ui::routes(&state, &limits))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(localize))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .with_state(state)
}
