//! What operators see of the HTTP edge: every request gets an id (the caller's
//! `X-Request-Id` when it is 1–64 visible ASCII characters, a fresh UUID otherwise), echoed in
//! the response's `X-Request-Id`; a span (method, route template, id) around its handling;
//! an access log line (target `jiesu::access`); and the HTTP metrics by route template, method
//! and status. `GET /metrics` renders the Prometheus text format, to a bearer of
//! `JIESU_METRICS_TOKEN` when one is set, else to clients on this host only.

use crate::config::Config;
use crate::error::AppError;
use crate::services::AppState;
use crate::telemetry;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use subtle::ConstantTimeEq;
use tracing::Instrument;

/// The request id header, read from the caller and set on every answer.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route label of a request no route matched (one label, whatever the path).
const UNMATCHED: &str = "unmatched";

/// Wraps the whole router: ids, spans, access log and HTTP metrics for every request.
pub fn wrap(router: Router<AppState>) -> Router<AppState> {
    router.layer(axum::middleware::from_fn(observe))
}

/// The caller's request id if it is acceptable: 1 to 64 visible ASCII characters.
pub fn accepted_id(v: &HeaderValue) -> Option<&str> {
    let b = v.as_bytes();
    ((1..=64).contains(&b.len()) && b.iter().all(|c| c.is_ascii_graphic()))
        .then(|| v.to_str().ok())
        .flatten()
}

async fn observe(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accepted_id)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| UNMATCHED.to_string());
    // The path without its query string: queries carry search terms.
    let path = req.uri().path().to_string();
    let span = tracing::info_span!("request", method = %method, route = %route, id = %id);
    let mut resp = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = resp.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID.clone(), v);
    }
    let bytes = axum::body::HttpBody::size_hint(resp.body()).exact();
    span.in_scope(|| {
        tracing::info!(
            target: "jiesu::access",
            status,
            latency_ms = elapsed.as_micros() as f64 / 1000.0,
            bytes,
            "{method} {path}"
        );
    });
    let labels = [
        ("route", route),
        ("method", method_label(&method).to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(telemetry::HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(telemetry::HTTP_DURATION, &labels).record(elapsed);
    resp
}

/// The method's label: the standard ones by name, any other as `other` (a client may send
/// any token as a method; each would be a series of its own).
fn method_label(m: &axum::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Whether this caller may read `/metrics`: with a token configured, a bearer of it; without,
/// a client on this host that came through no proxy.
pub fn may_scrape(config: &Config, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
    match &config.metrics_token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| {
                let (a, b) = (
                    Sha256::digest(given.trim().as_bytes()),
                    Sha256::digest(token.expose_secret().as_bytes()),
                );
                bool::from(a.ct_eq(&b))
            }),
        None => {
            let local = peer.is_some_and(|ip| match ip {
                IpAddr::V4(v4) => v4.is_loopback(),
                IpAddr::V6(v6) => {
                    v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
                }
            });
            // A proxy on this host relays other hosts' clients: what it forwards is not local.
            let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|h| headers.contains_key(*h));
            local && !proxied
        }
    }
}

/// `GET /metrics`: the Prometheus text format. With `JIESU_METRICS_REFRESH_SECONDS=0` the
/// gauges that need queries are recounted first.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !may_scrape(&state.config, peer, req.headers()) {
        return AppError::Forbidden("/metrics").into_response();
    }
    if state.config.metrics_refresh.is_zero() {
        if let Err(e) = crate::services::gauges::refresh(&state).await {
            tracing::warn!(error = %e, "refreshing the metrics gauges failed");
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        telemetry::render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_taken_only_when_short_and_visible() {
        let ok = |s: &str| accepted_id(&HeaderValue::from_str(s).unwrap()).is_some();
        assert!(ok("abc-123"));
        assert!(ok(&"x".repeat(64)));
        assert!(!ok(&"x".repeat(65)));
        assert!(!ok(""));
        assert!(!ok("has space"));
        assert!(!ok("tab\there"));
    }

    #[test]
    fn without_a_token_only_this_host_may_scrape() {
        let mut config = Config::from_env().unwrap();
        config.metrics_token = None;
        let none = HeaderMap::new();
        assert!(may_scrape(
            &config,
            Some("127.0.0.1".parse().unwrap()),
            &none
        ));
        assert!(may_scrape(&config, Some("::1".parse().unwrap()), &none));
        assert!(!may_scrape(
            &config,
            Some("10.1.2.3".parse().unwrap()),
            &none
        ));
        assert!(!may_scrape(&config, None, &none));
        let mut fwd = HeaderMap::new();
        fwd.insert("x-forwarded-for", "203.0.113.5".parse().unwrap());
        assert!(!may_scrape(
            &config,
            Some("127.0.0.1".parse().unwrap()),
            &fwd
        ));
        config.metrics_token = Some("0123456789abcdef-token".to_string().into());
        assert!(!may_scrape(
            &config,
            Some("127.0.0.1".parse().unwrap()),
            &none
        ));
        let mut bearer = HeaderMap::new();
        bearer.insert(
            header::AUTHORIZATION,
            "Bearer 0123456789abcdef-token".parse().unwrap(),
        );
        assert!(may_scrape(
            &config,
            Some("10.1.2.3".parse().unwrap()),
            &bearer
        ));
        bearer.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(!may_scrape(
            &config,
            Some("127.0.0.1".parse().unwrap()),
            &bearer
        ));
    }
}
