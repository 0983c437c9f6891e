//! Outbox delivery: due requester messages are claimed (a lease), handed to the node's
//! [`Sender`] a few at a time, and marked sent, or failed with an exponential backoff
//! (`JIESU_OUTBOX_RETRY_SECONDS` doubling up to `JIESU_OUTBOX_RETRY_MAX_SECONDS`) until the
//! configured number of attempts, each mark a write through the writer. The senders here: the
//! log (default) and a webhook, which sends the message id as its `Idempotency-Key`; the
//! Kannel SMS sender is in `sms.rs`.

use crate::services::AppState;
use crate::store::outbox::{self, OutboxMessage, Sender};
use chrono::Duration;
use std::future::Future;
use std::pin::Pin;

/// Writes messages to the log: the default where no gateway is configured.
pub struct LogSender;

impl Sender for LogSender {
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            // The number masked: phone numbers never reach the log.
            let to = jiesu_core::PhoneNumber::parse(&msg.recipient)
                .map(|p| p.masked())
                .unwrap_or_else(|_| "***".into());
            tracing::info!(id = %msg.id, request = %msg.request_id, kind = %msg.kind, %to, "outbox message delivered to the log");
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
                "id": msg.id, "idempotency_key": msg.id, "request_id": msg.request_id, "kind": msg.kind, "recipient": msg.recipient, "message": msg.payload,
            });
            let resp = self
                .client
                .post(&self.url)
                .header("Idempotency-Key", &msg.id)
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

/// How many due messages one claim takes; the job claims again while a claim comes back full.
const BATCH: i64 = 100;

/// How long a claim lasts: longer than a batch can take at the sender's timeout.
const LEASE_MINUTES: i64 = 5;

/// The wait after a message's `attempts`-th failed attempt: `base`, doubling with each further
/// failure, never more than `max` (and never less than a second).
pub fn backoff(
    attempts: i64,
    base: std::time::Duration,
    max: std::time::Duration,
) -> std::time::Duration {
    let base = base.max(std::time::Duration::from_secs(1));
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base.saturating_mul(1u32 << doublings).min(max.max(base))
}

/// Delivers due outbox messages, one claim of at most 100, handed to the sender
/// `JIESU_OUTBOX_CONCURRENCY` at a time; returns (sent, failed attempts).
pub async fn deliver_outbox(state: &AppState) -> anyhow::Result<(usize, usize)> {
    use futures_util::StreamExt;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let due =
        outbox::claim_due(&mut tx, now, now + Duration::minutes(LEASE_MINUTES), BATCH).await?;
    tx.commit().await?;
    if due.is_empty() {
        return Ok((0, 0));
    }
    let results: Vec<(OutboxMessage, Result<(), String>)> =
        futures_util::stream::iter(due.into_iter().map(|msg| async move {
            let sent = state.sender.send(&msg).await;
            (msg, sent)
        }))
        .buffer_unordered(state.config.outbox_concurrency.max(1))
        .collect()
        .await;
    let (mut sent, mut failed) = (0, 0);
    // Every outcome in one writer transaction. Should it fail, the leases run out and the
    // messages go again with the same idempotency keys.
    let mut tx = state.store.begin().await?;
    let ok: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(m, _)| m.id.as_str())
        .collect();
    outbox::mark_sent_many(&mut tx, &ok, state.clock.now()).await?;
    for (msg, result) in &results {
        match result {
            Ok(()) => sent += 1,
            Err(e) => {
                let attempts = msg.attempts + 1;
                let wait = backoff(
                    attempts,
                    state.config.outbox_retry_base,
                    state.config.outbox_retry_max,
                );
                let next = state.clock.now()
                    + Duration::from_std(wait).unwrap_or_else(|_| Duration::hours(1));
                let give_up = attempts >= state.config.outbox_max_attempts;
                tracing::warn!(id = %msg.id, attempts, error = %e, give_up, retry_in_s = wait.as_secs(), "outbox delivery failed");
                outbox::mark_failed(&mut tx, &msg.id, e, next, give_up).await?;
                failed += 1;
                metrics::counter!(crate::telemetry::OUTBOX_FAILURES).increment(1);
            }
        }
    }
    tx.commit().await?;
    Ok((sent, failed))
}

/// The outbox job: claims and delivers again and again while claims come back full, so a
/// backlog (a burst, a gateway back after an outage) drains at the sender's pace rather than
/// one batch per sweep. Returns the totals (sent, failed attempts).
pub async fn drain_outbox(state: &AppState) -> anyhow::Result<(usize, usize)> {
    let (mut sent, mut failed) = (0, 0);
    loop {
        let (s, f) = deliver_outbox(state).await?;
        (sent, failed) = (sent + s, failed + f);
        // A short claim: nothing more is due. A full one of failures only: the gateway is
        // down, and what is left waits for its backoff (or the next sweep).
        if ((s + f) as i64) < BATCH || s == 0 {
            return Ok((sent, failed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(10), Duration::from_secs(3600));
        let waits: Vec<u64> = (1..=11).map(|a| backoff(a, base, max).as_secs()).collect();
        assert_eq!(
            waits,
            [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(1000, base, max).as_secs(), 3600);
        assert_eq!(backoff(0, base, max).as_secs(), 10);
        // A test's settings: one second, at most two.
        let quick = (Duration::from_secs(1), Duration::from_secs(2));
        assert_eq!(backoff(1, quick.0, quick.1).as_secs(), 1);
        assert_eq!(backoff(5, quick.0, quick.1).as_secs(), 2);
        // A cap below the base is the base; a zero base is a second.
        assert_eq!(backoff(3, base, Duration::ZERO).as_secs(), 10);
        assert_eq!(backoff(1, Duration::ZERO, max).as_secs(), 1);
    }
}
