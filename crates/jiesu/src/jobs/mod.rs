//! Background jobs: idempotent sweeps over stored state that may run on any node, any number
//! of times. The deadline sweep marks orders pre-breach and overdue with events
//! (`deadlines`); the outbox job delivers requester messages with retries and backoff through
//! a [`Sender`](crate::store::outbox::Sender) (`outbox`); the rollup job recounts the KPI days
//! that changes marked dirty; the purge deletes expired and idle sessions and quiet login
//! counters (`services::auth::purge`); the followers keep this node's search, duplicate and live
//! hotspot indexes up with the event log; the chain's head is sealed (`seal`) and requesters'
//! personal data removed after the retention (`privacy`). The sweeps, the outbox, the seal,
//! the privacy job and the text model's retraining (issue 22) run on one node at a time
//! (`store::lead`, issue 21); the followers and the gauges run on every node, since each keeps
//! its own.

mod deadlines;
mod gauges;
mod outbox;
mod privacy;
mod seal;
mod sms;
mod whistles;

pub use deadlines::{sweep_deadlines, SweepReport};
pub use gauges::refresh_gauges;
pub use outbox::{backoff, deliver_outbox, drain_outbox, LogSender, WebhookSender};
pub use privacy::redact_personal_data;
pub use seal::seal_chain;
pub use sms::KannelSender;
pub use whistles::sweep_whistle_reports;

use crate::services::AppState;
use std::future::Future;

/// Runs the deadline (with the KPI rollups) and outbox jobs, each on its own, every
/// `sweep_interval`, and the search catch-up and the
/// follower of other nodes' intakes every `search_refresh`, until `stop` turns true. Returns
/// the tasks, to be awaited at shutdown.
pub fn spawn(
    state: AppState,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if !state.config.metrics_refresh.is_zero() {
        let s = state.clone();
        tasks.push(every(
            state.config.metrics_refresh,
            stop.clone(),
            move || {
                let s = s.clone();
                async move { refresh_gauges(&s).await }
            },
        ));
    }
    if !state.config.search_refresh.is_zero() {
        // The search index, and the live hotspot and duplicate indexes (for other nodes'
        // intakes), follow the event log.
        let s = state.clone();
        tasks.push(every(
            state.config.search_refresh,
            stop.clone(),
            move || {
                let s = s.clone();
                async move {
                    if let Err(e) = crate::services::hotspots::live::follow(&s).await {
                        tracing::error!(error = %e, "following the event log failed");
                    }
                    // issue 18: units changed on other nodes (or dated changes applied).
                    if let Err(e) = crate::services::unit_schedule::follow(&s).await {
                        tracing::error!(error = %e, "following unit changes failed");
                    }
                    if let Err(e) = crate::services::search::catch_up(&s).await {
                        tracing::error!(error = %e, "search index catch-up failed");
                    }
                    // issue 22: a learned model promoted or rolled back on another node.
                    if let Err(e) = crate::services::learning::follow(&s).await {
                        tracing::error!(error = %e, "following the text model in force failed");
                    }
                    // Categories another node changed, and announced changes now due.
                    if let Err(e) = crate::services::categories::follow(&s).await {
                        tracing::error!(error = %e, "following category changes failed");
                    }
                }
            },
        ));
    }
    if !state.config.retrain_interval.is_zero() {
        tasks.push(retrain(state.clone(), stop.clone()));
    }
    if !state.config.audit_checkpoint_interval.is_zero() {
        let s = state.clone();
        tasks.push(every(
            state.config.audit_checkpoint_interval,
            stop.clone(),
            move || {
                let s = s.clone();
                led(s, LEAD_SEAL, "seal", |s| async move {
                    if let Err(e) = seal_chain(&s).await {
                        tracing::error!(error = %e, "sealing the audit chain failed");
                    }
                })
            },
        ));
    }
    if !state.config.sweep_interval.is_zero() {
        // The outbox has a job of its own: a slow gateway must not hold up the deadlines.
        let s = state.clone();
        tasks.push(every(
            state.config.sweep_interval,
            stop.clone(),
            move || {
                let s = s.clone();
                led(s, LEAD_OUTBOX, "outbox", |s| async move {
                    if let Err(e) = drain_outbox(&s).await {
                        tracing::error!(error = %e, "outbox delivery failed");
                    }
                })
            },
        ));
        let s = state.clone();
        tasks.push(every(privacy::EVERY, stop.clone(), move || {
            let s = s.clone();
            led(s, LEAD_PRIVACY, "privacy", |s| async move {
                if let Err(e) = redact_personal_data(&s).await {
                    tracing::error!(error = %e, "redacting personal data failed");
                }
            })
        }));
        let s = state.clone();
        tasks.push(every(state.config.sweep_interval, stop, move || {
            let s = s.clone();
            led(s, LEAD_SWEEP, "sweep", |s| async move {
                // issue 18: unit changes dated ahead whose day has come, before the deadlines.
                if let Err(e) = crate::services::unit_schedule::apply_due(&s).await {
                    tracing::error!(error = %e, "applying dated unit changes failed");
                }
                if let Err(e) = sweep_deadlines(&s).await {
                    tracing::error!(error = %e, "deadline sweep failed");
                }
                // issue 18: summoned units that did not report (报到) in time.
                if let Err(e) = sweep_whistle_reports(&s).await {
                    tracing::error!(error = %e, "whistle report sweep failed");
                }
                if let Err(e) = crate::services::kpi::refresh_rollups(&s).await {
                    tracing::error!(error = %e, "KPI rollup refresh failed");
                }
                if let Err(e) = crate::services::portal::purge_track_attempts(&s).await {
                    tracing::error!(error = %e, "purging tracking attempts failed");
                }
                // issue 16: expired and idle sessions, quiet login counters.
                if let Err(e) = crate::services::auth::purge(&s).await {
                    tracing::error!(error = %e, "session purge failed");
                }
            })
        }));
    }
    tasks
}

/// Advisory-lock keys of the jobs that run on one node at a time ("jies" and a number).
const LEAD_SWEEP: i64 = 0x6a69_6573_0001;
const LEAD_OUTBOX: i64 = 0x6a69_6573_0002;
const LEAD_PRIVACY: i64 = 0x6a69_6573_0003;
const LEAD_SEAL: i64 = 0x6a69_6573_0004;
/// The retraining job's lock key (public: a story holds it to show a node then skips).
pub const LEAD_RETRAIN: i64 = 0x6a69_6573_0005;

/// Runs `job` if this node takes the job's lock (`store::lead`); skips the run where another
/// node holds it, and where the lock cannot be had (no database: the job would fail anyway).
async fn led<F, Fut>(s: AppState, key: i64, name: &'static str, job: F)
where
    F: FnOnce(AppState) -> Fut,
    Fut: Future<Output = ()>,
{
    match crate::store::lead::try_lead(&s.store, key).await {
        Ok(Some(lead)) => {
            job(s).await;
            drop(lead);
        }
        Ok(None) => tracing::debug!(job = name, "another node runs this job now"),
        Err(e) => tracing::warn!(job = name, error = %e, "cannot take the job's lock"),
    }
}

fn every<F, Fut>(
    period: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
    job: F,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => job().await,
                _ = stop.changed() => break,
            }
        }
    })
}

/// The learning loop's retraining (issue 22), every `retrain_interval` from one interval
/// after the start (a start is no reason to retrain): on the newest history, judged against
/// the model in force, promoted only if better.
fn retrain(
    state: AppState,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let period = state.config.retrain_interval;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => match retrain_once(&state, period).await {
                    Ok(Some(r)) => tracing::info!(model = %r.model.id, promoted = r.promoted, "text model retrained"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "retraining the text model failed"),
                },
                _ = stop.changed() => break,
            }
        }
    })
}

/// One turn of the retraining job: on one node at a time (`store::lead`; a node whose turn
/// comes while another trains skips it), and only where no model was trained in the last
/// half `period` (`services::learning::retrain_due`), so the nodes of a cluster train one
/// model per period between them. `None` when this turn trained nothing.
pub async fn retrain_once(
    state: &AppState,
    period: std::time::Duration,
) -> Result<Option<crate::services::learning::TrainReport>, crate::error::AppError> {
    let Some(lead) = crate::store::lead::try_lead(&state.store, LEAD_RETRAIN).await? else {
        tracing::debug!(job = "retrain", "another node runs this job now");
        return Ok(None);
    };
    let report = crate::services::learning::retrain_due(state, period).await;
    drop(lead);
    report
}
