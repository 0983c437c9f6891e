//! Per-client rate limits at the public edge (tracking, portal submissions, logins, intake
//! suggestions), with `tower_governor`: a GCRA bucket per client address, kept in this
//! node's memory; over it the answer is 429 `too_many_requests` with `Retry-After`. The client
//! address is the one `web::client` settles on (`X-Forwarded-For` only from
//! `JIESU_TRUSTED_PROXIES`), so a client cannot pick a fresh bucket by sending a header.
//! Limits that protect one target across nodes live in the database instead (tracking
//! attempts per request number, `services::portal`). The anonymous portal forms also get a
//! smaller body limit than staff forms.

use super::client::client_ip;
use super::ui::UiError;
use crate::config::{Config, RateLimit};
use crate::error::AppError;
use crate::services::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;
use tower_governor::{GovernorError, GovernorLayer};

/// The rate-limiting key: the client address as `web::client::ClientIp` settles it.
#[derive(Clone, Debug)]
pub struct ClientIpKey {
    trusted: Arc<Vec<IpAddr>>,
}

impl KeyExtractor for ClientIpKey {
    type Key = IpAddr;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<IpAddr, GovernorError> {
        // Without connect info (a router driven directly) every caller is one "unknown".
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(client_ip(peer, req.headers(), &self.trusted))
    }
}

/// What a limit protects; each has its own bucket per client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The portal's tracking form.
    Track,
    /// Portal submissions (citizen and enterprise).
    Portal,
    /// Logins (page and API).
    Login,
    /// Intake suggestions (API and page).
    Suggest,
}

type Bucket = Arc<GovernorConfig<ClientIpKey, governor::middleware::NoOpMiddleware>>;

/// The node's buckets, built once per router from the configuration.
#[derive(Clone)]
pub struct Limits {
    track: Option<Bucket>,
    portal: Option<Bucket>,
    login: Option<Bucket>,
    suggest: Option<Bucket>,
    portal_body: usize,
}

fn bucket(key: &ClientIpKey, rate: Option<RateLimit>) -> Option<Bucket> {
    let rate = rate?;
    let mut builder = GovernorConfigBuilder::default().key_extractor(key.clone());
    builder
        .period(rate.per / rate.count)
        .burst_size(rate.count)
        // Only writes are limited: the forms themselves (GET) are free to load.
        .methods(vec![Method::POST]);
    builder.finish().map(Arc::new)
}

fn wait_of(e: GovernorError) -> Result<i64, GovernorError> {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => Ok(wait_time.max(1) as i64),
        other => Err(other),
    }
}

impl Limits {
    /// The limits `config` asks for.
    pub fn new(config: &Config) -> Limits {
        let key = ClientIpKey {
            trusted: Arc::new(config.trusted_proxies.clone()),
        };
        Limits {
            track: bucket(&key, config.rate_track),
            portal: bucket(&key, config.rate_portal),
            login: bucket(&key, config.rate_login),
            suggest: bucket(&key, config.rate_suggest),
            portal_body: config.portal_body_limit,
        }
    }

    fn of(&self, kind: Kind) -> Option<&Bucket> {
        match kind {
            Kind::Track => self.track.as_ref(),
            Kind::Portal => self.portal.as_ref(),
            Kind::Login => self.login.as_ref(),
            Kind::Suggest => self.suggest.as_ref(),
        }
    }

    /// A JSON route under the `kind` limit: the 429 is the API's error body.
    pub fn api(&self, kind: Kind, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
        match self.of(kind) {
            Some(b) => route.layer(GovernorLayer::new(b.clone()).error_handler(|e| {
                match wait_of(e) {
                    Ok(s) => AppError::TooManyRequests(s).into_response(),
                    Err(other) => other.into(),
                }
            })),
            None => route,
        }
    }

    /// A page route under the `kind` limit: the 429 is the friendly error page.
    pub fn page(&self, kind: Kind, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
        match self.of(kind) {
            Some(b) => route.layer(GovernorLayer::new(b.clone()).error_handler(|e| {
                match wait_of(e) {
                    Ok(s) => UiError(AppError::TooManyRequests(s)).into_response(),
                    Err(other) => other.into(),
                }
            })),
            None => route,
        }
    }

    /// A public portal form: the portal limit and the portal's smaller body limit.
    pub fn portal(&self, route: MethodRouter<AppState>) -> MethodRouter<AppState> {
        let limited = route.layer(axum::middleware::from_fn_with_state(
            self.portal_body,
            portal_body_limit,
        ));
        self.page(Kind::Portal, limited)
    }
}

/// Refuses a portal form over the portal's body limit with 413, before the form is read.
async fn portal_body_limit(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return UiError(AppError::TooLargeFor(limit)).into_response();
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => UiError(AppError::TooLargeFor(limit)).into_response(),
    }
}
