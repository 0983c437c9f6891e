//! The OpenAPI 3.1 description of the API, kept as a document beside the code; a test checks
//! that every route the router serves is described and nothing else is.

use axum::http::header;
use axum::response::IntoResponse;

/// The document.
pub const SPEC: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn spec() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], SPEC)
}
