//! Background jobs: idempotent sweeps over stored state that may run on any node, any number
//! of times. The deadline sweep marks orders pre-breach and overdue (with events); the
//! outbox job delivers requester messages with retries and backoff; the rollup job recounts
//! the KPI days that changes marked dirty.

use crate::services::AppState;
use crate::store::outbox::{self, OutboxMessage};
use crate::store::requests::{self, AssignmentRow};
use crate::store::NewEvent;
use chrono::Duration;
use std::future::Future;
use std::pin::Pin;

/// Delivers one outbox message (SMS gateway, webhook, …).
pub trait Sender: Send + Sync {
    /// Sends; an error means "try again later".
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Writes messages to the log: the default where no gateway is configured.
pub struct LogSender;

impl Sender for LogSender {
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            tracing::info!(id = %msg.id, request = %msg.request_id, kind = %msg.kind, "outbox message delivered to the log");
            Ok(())
        })
    }
}

/// POSTs each message as JSON to a URL; any non-2xx answer is a failure to retry.
pub struct WebhookSender {
    url: String,
    client: reqwest::Client,
}

impl WebhookSender {
    /// A sender to `url`.
    pub fn new(url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("http client");
        WebhookSender { url, client }
    }
}

impl Sender for WebhookSender {
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let body = serde_json::json!({
                "id": msg.id, "request_id": msg.request_id, "kind": msg.kind, "recipient": msg.recipient, "message": msg.payload,
            });
            let resp = self
                .client
                .post(&self.url)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if resp.status().is_success() {
                Ok(())
            } else {
                Err(format!("webhook answered {}", resp.status()))
            }
        })
    }
}

/// What one sweep did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Orders newly marked not acknowledged in time.
    pub ack_overdue: usize,
    /// Orders newly warned before their reply deadline.
    pub reply_warned: usize,
    /// Orders newly marked past their reply deadline.
    pub reply_overdue: usize,
}

fn system_event(
    state: &AppState,
    a: &AssignmentRow,
    action: &str,
    payload: serde_json::Value,
) -> NewEvent {
    NewEvent {
        jurisdiction: a.jurisdiction.clone(),
        request_id: Some(a.request_id.clone()),
        assignment_id: Some(a.id.clone()),
        actor_id: "system".into(),
        actor_role: "system".into(),
        action: action.into(),
        before: None,
        after: None,
        payload,
        at: state.clock.now(),
    }
}

/// Marks deadlines that passed or are about to. Each order gets each mark once.
pub async fn sweep_deadlines(state: &AppState) -> anyhow::Result<SweepReport> {
    let now = state.clock.now();
    let pool = state.store.reader();
    let mut report = SweepReport::default();
    for a in requests::due_orders(
        pool,
        &["dispatched"],
        "acknowledge_by",
        now,
        "ack_overdue_at",
        500,
    )
    .await?
    {
        report.ack_overdue += mark(
            state,
            a,
            "assignment.ack_overdue",
            |a| a.ack_overdue_at.is_some(),
            |a| a.ack_overdue_at = Some(now),
        )
        .await? as usize;
    }
    for a in requests::due_orders(
        pool,
        &["dispatched", "acknowledged"],
        "reply_warn_at",
        now,
        "reply_warned_at",
        500,
    )
    .await?
    {
        if a.reply_by > now {
            report.reply_warned += mark(
                state,
                a,
                "assignment.reply_warning",
                |a| a.reply_warned_at.is_some(),
                |a| a.reply_warned_at = Some(now),
            )
            .await? as usize;
        }
    }
    for a in requests::due_orders(
        pool,
        &["dispatched", "acknowledged"],
        "reply_by",
        now,
        "reply_overdue_at",
        500,
    )
    .await?
    {
        report.reply_overdue += mark(
            state,
            a,
            "assignment.reply_overdue",
            |a| a.reply_overdue_at.is_some(),
            |a| a.reply_overdue_at = Some(now),
        )
        .await? as usize;
    }
    Ok(report)
}

/// Sets a mark inside a transaction that re-reads the order under the request's lock, so two
/// nodes sweeping at once mark it once. Returns whether this call marked it.
async fn mark(
    state: &AppState,
    seen: AssignmentRow,
    action: &str,
    is_set: fn(&AssignmentRow) -> bool,
    set: impl Fn(&mut AssignmentRow),
) -> anyhow::Result<bool> {
    let mut tx = state.store.begin().await?;
    requests::lock(&mut tx, &seen.request_id).await?;
    let current = requests::assignments_of(tx.conn(), &seen.request_id)
        .await?
        .into_iter()
        .find(|a| a.id == seen.id);
    let Some(mut a) = current.filter(|a| !is_set(a) && a.status == seen.status) else {
        return Ok(false);
    };
    set(&mut a);
    requests::save_assignment(&mut tx, &a).await?;
    let payload = serde_json::json!({ "unit_code": a.unit_code, "acknowledge_by": a.acknowledge_by, "reply_by": a.reply_by });
    tx.event(system_event(state, &a, action, payload));
    tx.commit().await?;
    Ok(true)
}

/// Delivers due outbox messages; returns (sent, failed attempts).
pub async fn deliver_outbox(state: &AppState) -> anyhow::Result<(usize, usize)> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let due = outbox::claim_due(&mut tx, now, now + Duration::minutes(5), 100).await?;
    tx.commit().await?;
    let (mut sent, mut failed) = (0, 0);
    for msg in due {
        match state.sender.send(&msg).await {
            Ok(()) => {
                outbox::mark_sent(state.store.reader(), &msg.id, state.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                let attempts = msg.attempts + 1;
                let backoff = Duration::seconds((10i64 << attempts.min(9)).min(3600));
                let give_up = attempts >= state.config.outbox_max_attempts;
                tracing::warn!(id = %msg.id, attempts, error = %e, give_up, "outbox delivery failed");
                outbox::mark_failed(
                    state.store.reader(),
                    &msg.id,
                    &e,
                    state.clock.now() + backoff,
                    give_up,
                )
                .await?;
                failed += 1;
            }
        }
    }
    Ok((sent, failed))
}

/// Runs the deadline and outbox jobs every `sweep_interval`, and the search catch-up and the
/// follower of other nodes' intakes every `search_refresh`, until `stop` turns true. Returns
/// the tasks, to be awaited at shutdown.
pub fn spawn(
    state: AppState,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
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
                    if let Err(e) = crate::services::live_hotspots::follow(&s).await {
                        tracing::error!(error = %e, "following the event log failed");
                    }
                    if let Err(e) = crate::search::catch_up(&s).await {
                        tracing::error!(error = %e, "search index catch-up failed");
                    }
                }
            },
        ));
    }
    if !state.config.sweep_interval.is_zero() {
        let s = state.clone();
        tasks.push(every(state.config.sweep_interval, stop, move || {
            let s = s.clone();
            async move {
                if let Err(e) = sweep_deadlines(&s).await {
                    tracing::error!(error = %e, "deadline sweep failed");
                }
                if let Err(e) = deliver_outbox(&s).await {
                    tracing::error!(error = %e, "outbox delivery failed");
                }
                if let Err(e) = crate::services::kpi::refresh_rollups(&s).await {
                    tracing::error!(error = %e, "KPI rollup refresh failed");
                }
            }
        }));
    }
    tasks
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
