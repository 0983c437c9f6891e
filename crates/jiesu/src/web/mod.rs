//! The HTTP edge: the router, the JSON API under `/api/v1`, the web pages under `/ui` (`ui`),
//! error rendering in the caller's language, and the body limit. Handlers are thin: they
//! extract, call a service, and shape the answer.

pub mod api;
pub mod appeals_api;
pub mod attachments_api;
pub mod calendar_api;
pub mod callers_api;
pub mod categories_api;
pub mod client;
pub mod community_api;
pub mod cookies;
pub mod extract;
pub mod hotspot_api;
pub mod kb_api;
pub mod kpi_api;
pub mod limits;
pub mod limits_api;
pub mod maps_api;
pub mod observe;
pub mod open311;
pub mod openapi;
pub mod reply_reviews_api;
pub mod returns_api;
pub mod sms_api;
pub mod subwork_api;
pub mod text_api;
pub mod ui;
pub mod units_api;
pub mod users_api;
pub mod whistles_api;

use crate::error::AppError;
use crate::services::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};

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
        // A database failover answers 503 with Retry-After, never 500.
        let err = self.settled();
        if let AppError::Internal(e) = &err {
            tracing::error!(error = ?e, "internal error");
        }
        let parts = ErrorParts {
            code: err.code(),
            zh: err.message(false),
            en: err.message(true),
            fields: err.fields().to_vec(),
            retry_after: match err {
                AppError::TooManyAttempts(s)
                | AppError::TooManyRequests(s)
                | AppError::Busy(s)
                | AppError::Unavailable(s) => Some(s),
                _ => None,
            },
        };
        let status =
            StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
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

/// The header saying a report was read from the standby and how far behind it was (ms).
pub const STANDBY_LAG_HEADER: &str = "x-jiesu-standby-lag-ms";

/// `response` with [`STANDBY_LAG_HEADER`] when it was read from the standby (issue 21).
pub fn with_staleness(
    mut response: axum::response::Response,
    staleness: Option<crate::services::Staleness>,
) -> axum::response::Response {
    if let Some(st) = staleness {
        response.headers_mut().insert(
            STANDBY_LAG_HEADER,
            axum::http::HeaderValue::from(st.lag_ms.max(0)),
        );
    }
    response
}

/// Whether a character is a C0 control (or DEL) that input may not carry. Tab, line feed and
/// carriage return are allowed where text is multi-line (`multiline`).
pub fn forbidden_control(c: char, multiline: bool) -> bool {
    (c.is_ascii_control() && !(multiline && matches!(c, '\t' | '\n' | '\r'))) || c == '\u{7f}'
}

/// Refuses a path or query string that carries control characters (`%00`, `%0A`...) once
/// percent-decoded, with 422 naming the query parameter (or `path`): ids and filters end up
/// in SQL, where PostgreSQL refuses NUL, and in pages and headers.
async fn refuse_control_characters(req: Request, next: Next) -> Response {
    let uri = req.uri();
    // Open311 answers bad input in the standard's own error format (web/open311).
    if uri.path().starts_with("/open311/") {
        return next.run(req).await;
    }
    let decoded_path = percent_decode(uri.path().as_bytes());
    if decoded_path.chars().any(|c| forbidden_control(c, false)) {
        return AppError::invalid("path", "err.no_control_characters").into_response();
    }
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            if k.chars()
                .chain(v.chars())
                .any(|c| forbidden_control(c, false))
            {
                return AppError::invalid(k.into_owned(), "err.no_control_characters")
                    .into_response();
            }
        }
    }
    next.run(req).await
}

/// Percent-decodes a path (lossy: invalid UTF-8 becomes U+FFFD, which is not a control).
fn percent_decode(raw: &[u8]) -> String {
    String::from_utf8_lossy(&percent_decode_bytes(raw, false)).into_owned()
}

/// `%XX` as its byte (a `%` without two hex digits kept as it is), and `+` as a space where
/// the text is form-encoded (`plus_is_space`).
pub(crate) fn percent_decode_bytes(raw: &[u8], plus_is_space: bool) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match (
            raw[i],
            raw.get(i + 1).copied().and_then(hex),
            raw.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Answers 503 `timeout` when a request is not answered within `limit` (the handler is
/// dropped: a transaction it held rolls back).
async fn request_timeout(limit: std::time::Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let (zh, en) = crate::messages::pair("api.request_timeout", &[]);
            let parts = ErrorParts {
                code: "timeout",
                zh,
                en,
                fields: Vec::new(),
                retry_after: None,
            };
            let mut resp = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(error_body(&parts, false)),
            )
                .into_response();
            resp.extensions_mut().insert(parts);
            resp
        }
    }
}

/// Whether a body error is the body timeout of `App::run` (a stalled upload).
pub fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        // the type, or its text where a layer in between re-wrapped it
        if err.is::<tower_http::timeout::TimeoutError>()
            || err.to_string().contains("within the designated timeout")
        {
            return true;
        }
        cur = err.source();
    }
    false
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
    let limit = state.config.request_timeout;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(observe::metrics))
        .nest(
            "/api/v1",
            api::routes(&limits)
                .merge(text_api::routes(&limits))
                .merge(kpi_api::routes())
                .merge(maps_api::routes())
                .merge(calendar_api::routes())
                .merge(limits_api::routes())
                .merge(appeals_api::routes())
                .merge(subwork_api::routes())
                // issue 18: 吹哨报到, 小事不出社区, 办结审核
                .merge(whistles_api::routes())
                .merge(community_api::routes())
                .merge(reply_reviews_api::routes())
                // issue 19: SMS through a gateway
                .merge(sms_api::routes())
                .merge(hotspot_api::routes())
                // issue 23: the caller's history, reminders (催办), abusive-caller marks
                .merge(callers_api::routes())
                // issue 20: attachments
                .merge(attachments_api::routes(&limits))
                // issue 23: a knowledge base a city can keep
                .merge(kb_api::routes()),
        )
        .merge(ui::routes(&state, &limits))
        .merge(open311::routes(&state))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| request_timeout(limit, req, next),
        ))
        .layer(axum::middleware::from_fn(localize))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        // gzip or br as the client accepts; small bodies, images, event streams and xlsx
        // files (already zip-compressed) are left alone
        .layer(
            tower_http::compression::CompressionLayer::new().compress_when(
                DefaultPredicate::new()
                    .and(NotForContentType::const_new(kpi_api::XLSX))
                    // attachments: already compressed, and ranges count stored bytes
                    .and(NotForContentType::const_new("audio/"))
                    .and(NotForContentType::const_new("video/"))
                    .and(NotForContentType::const_new("application/pdf")),
            ),
        );
    observe::wrap(app).with_state(state)
}
