//! Per-client rate limits at the public edge (tracking, portal submissions, logins, intake
//! suggestions), with `tower_governor`: a GCRA bucket per client address, kept in this
//! node's memory; over it the answer is 429 `too_many_requests` with `Retry-After`. The client
//! address is the one `web::client` settles on (`X-Forwarded-For` only from
//! `JIESU_TRUSTED_PROXIES`), so a client cannot pick a fresh bucket by sending a header.
//! Limits that protect one target across nodes live in the database instead (tracking
//! attempts per request number, `services::portal`). The anonymous portal forms also get a
//! smaller body limit than staff forms (`ui::portal::body_limit`, sized here).

use super::client::client_ip;
use crate::config::{Config, RateLimit};
use crate::error::AppError;
use crate::services::AppState;
use axum::extract::ConnectInfo;
use axum::http::Method;
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

impl Kind {
    /// The limiter's name in the `jiesu_rate_limit_refusals_total` metric.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Track => "track",
            Kind::Portal => "portal",
            Kind::Login => "login",
            Kind::Suggest => "suggest",
        }
    }
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

/// The answer to a refused request: `render` makes the 429 from the wait (the API's JSON
/// error or a page); anything else the layer fails with is its own answer.
fn refusal(e: GovernorError, kind: Kind, render: fn(AppError) -> Response) -> Response {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => {
            metrics::counter!(crate::telemetry::RATE_LIMIT_REFUSALS, "limiter" => kind.name())
                .increment(1);
            render(AppError::TooManyRequests(wait_time.max(1) as i64))
        }
        other => other.into(),
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
        self.page(kind, route, |e| e.into_response())
    }

    /// A route under the `kind` limit, its 429 made by `render` (the pages give their
    /// friendly error page).
    pub fn page(
        &self,
        kind: Kind,
        route: MethodRouter<AppState>,
        render: fn(AppError) -> Response,
    ) -> MethodRouter<AppState> {
        match self.of(kind) {
            Some(b) => route.layer(
                GovernorLayer::new(b.clone()).error_handler(move |e| refusal(e, kind, render)),
            ),
            None => route,
        }
    }

    /// The largest public portal form, in bytes.
    pub fn portal_body(&self) -> usize {
        self.portal_body
    }
}
