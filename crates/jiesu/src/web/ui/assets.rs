//! The pages' static files, embedded in the binary and served under `/assets/` with long cache
//! headers; the pages link them with a content hash (`?v=`), so a new build is fetched anew.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// (path under /assets/, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/app.js"),
    ),
    (
        "vendor/htmx/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/vendor/htmx/htmx.min.js"),
    ),
    (
        "vendor/echarts/echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/vendor/echarts/echarts.min.js"),
    ),
    (
        "vendor/echarts/echarts.common.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/vendor/echarts/echarts.common.min.js"),
    ),
    (
        "vendor/htmx/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/vendor/htmx/LICENSE"),
    ),
    (
        "vendor/echarts/LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../../assets/vendor/echarts/LICENSE"),
    ),
];

/// A short hash of every embedded file, appended to asset links.
pub static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for (_, _, bytes) in FILES {
        h.update(bytes);
    }
    hex::encode(&h.finalize()[..6])
});

/// `GET /assets/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, mime, bytes)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
