//! What the process tells its operators: the Prometheus metrics recorder (installed once per
//! process; `GET /metrics` renders it) and the log subscriber (`JIESU_LOG` filter,
//! `JIESU_LOG_FORMAT=json|text`). Metric names are constants here so every floor names them the
//! same way; the calls that count are one line where the thing happens.

use jiesu_core::Channel;
use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// HTTP requests answered, by `route` (the matched path template), `method` and `status`.
pub const HTTP_REQUESTS: &str = "jiesu_http_requests_total";
/// HTTP request latency in seconds, by `route`, `method` and `status`.
pub const HTTP_DURATION: &str = "jiesu_http_request_duration_seconds";
/// Requests recorded, by `channel`.
pub const INTAKES: &str = "jiesu_intakes_total";
/// Intake suggestion latency in seconds.
pub const SUGGESTION_DURATION: &str = "jiesu_suggestion_duration_seconds";
/// Orders by `state` (dispatched, acknowledged, replied, returned).
pub const ORDERS: &str = "jiesu_orders";
/// Open orders past their reply deadline.
pub const ORDERS_OVERDUE: &str = "jiesu_orders_overdue";
/// Outbox messages waiting to be delivered.
pub const OUTBOX_BACKLOG: &str = "jiesu_outbox_backlog";
/// Failed outbox delivery attempts.
pub const OUTBOX_FAILURES: &str = "jiesu_outbox_failures_total";
/// The deadline sweep's lag: how long past its due time the latest-marked deadline was.
pub const SWEEP_LAG: &str = "jiesu_sweep_lag_seconds";
/// When the deadline sweep last finished (Unix seconds).
pub const SWEEP_LAST_RUN: &str = "jiesu_sweep_last_run_timestamp_seconds";
/// The sequence number of the event chain's head.
pub const CHAIN_HEAD: &str = "jiesu_event_chain_head";
/// Events the node's search index has not taken in yet.
pub const SEARCH_LAG: &str = "jiesu_search_follow_lag_events";
/// Events the node's live hotspot index has not followed yet.
pub const HOTSPOT_LAG: &str = "jiesu_hotspot_follow_lag_events";
/// Database connections in use, by `pool` (writer, reader).
pub const DB_IN_USE: &str = "jiesu_db_connections_in_use";
/// Idle database connections, by `pool`.
pub const DB_IDLE: &str = "jiesu_db_connections_idle";
/// Failed logins (wrong name or password, inactive account).
pub const LOGIN_FAILURES: &str = "jiesu_login_failures_total";
/// Requests refused by a per-client rate limit, by `limiter`.
pub const RATE_LIMIT_REFUSALS: &str = "jiesu_rate_limit_refusals_total";
/// Refused tracking attempts on the portal (wrong number or code).
pub const TRACK_FAILURES: &str = "jiesu_portal_track_failures_total";

/// Latency buckets in seconds, for every `*_seconds` histogram: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's metrics recorder (once; later calls return the same handle) and
/// describes the metrics. Every intake channel's counter starts at 0, so a rate over it is
/// defined from the first scrape.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .expect("latency buckets are not empty")
            .install_recorder()
            .unwrap_or_else(|e| {
                // Another recorder owns the process (an embedding program): render ours alone.
                tracing::warn!(error = %e, "a metrics recorder was already installed");
                PrometheusBuilder::new().build_recorder().handle()
            });
        describe();
        for c in Channel::ALL {
            metrics::counter!(INTAKES, "channel" => c.as_str()).absolute(0);
        }
        for name in [LOGIN_FAILURES, OUTBOX_FAILURES, TRACK_FAILURES] {
            metrics::counter!(name).absolute(0);
        }
        handle
    })
}

/// The metrics in the Prometheus text format.
pub fn render() -> String {
    let handle = install();
    handle.run_upkeep();
    handle.render()
}

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency, by route template, method and status"
    );
    describe_counter!(INTAKES, "Requests recorded, by channel");
    describe_histogram!(
        SUGGESTION_DURATION,
        Unit::Seconds,
        "Intake suggestion latency"
    );
    describe_gauge!(ORDERS, "Orders by state");
    describe_gauge!(ORDERS_OVERDUE, "Open orders past their reply deadline");
    describe_gauge!(OUTBOX_BACKLOG, "Outbox messages waiting to be delivered");
    describe_counter!(OUTBOX_FAILURES, "Failed outbox delivery attempts");
    describe_gauge!(
        SWEEP_LAG,
        Unit::Seconds,
        "How long past due the deadlines the latest sweep marked were (largest)"
    );
    describe_gauge!(
        SWEEP_LAST_RUN,
        Unit::Seconds,
        "When the deadline sweep last finished, Unix seconds"
    );
    describe_gauge!(CHAIN_HEAD, "Sequence number of the event chain's head");
    describe_gauge!(SEARCH_LAG, "Events the search index has not taken in yet");
    describe_gauge!(
        HOTSPOT_LAG,
        "Events the live hotspot index has not followed yet"
    );
    describe_gauge!(DB_IN_USE, "Database connections in use, by pool");
    describe_gauge!(DB_IDLE, "Idle database connections, by pool");
    describe_counter!(LOGIN_FAILURES, "Failed logins");
    describe_counter!(
        RATE_LIMIT_REFUSALS,
        "Requests refused by a per-client rate limit, by limiter"
    );
    describe_counter!(TRACK_FAILURES, "Refused tracking attempts on the portal");
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

impl LogFormat {
    /// `JIESU_LOG_FORMAT`: `text` (default) or `json`.
    pub fn from_env() -> anyhow::Result<LogFormat> {
        match std::env::var("JIESU_LOG_FORMAT") {
            Err(_) => Ok(LogFormat::Text),
            Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
                "" | "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => anyhow::bail!("JIESU_LOG_FORMAT={v} is not valid: json or text"),
            },
        }
    }
}

/// Sets up logging to standard error: the `JIESU_LOG` filter (default `info,sqlx=warn`) in
/// the `JIESU_LOG_FORMAT` format. Fails on a format it does not know.
pub fn init_logs() -> anyhow::Result<()> {
    let format = LogFormat::from_env()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("JIESU_LOG")
        .unwrap_or_else(|_| "info,sqlx=warn".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    set.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_is_counted_from_zero() {
        let text = render();
        for c in Channel::ALL {
            let line = format!("{INTAKES}{{channel=\"{}\"}}", c.as_str());
            assert!(text.contains(&line), "{line} missing from\n{text}");
        }
        assert!(text.contains("# HELP jiesu_intakes_total"), "{text}");
    }
}
