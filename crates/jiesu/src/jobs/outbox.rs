//! Outbox delivery: due requester messages are claimed (a lease), handed to the node's
//! [`Sender`] a few at a time, and marked sent, or failed with an exponential backoff until the
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

/// How many messages one node hands to its sender at once: one slow gateway answer must not
/// hold up the rest of the batch.
const CONCURRENT_SENDS: usize = 8;

/// How long a claim lasts: longer than a batch can take at the sender's timeout.
const LEASE_MINUTES: i64 = 5;

/// Delivers due outbox messages; returns (sent, failed attempts).
pub async fn deliver_outbox(state: &AppState) -> anyhow::Result<(usize, usize)> {
    use futures_util::StreamExt;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let due = outbox::claim_due(&mut tx, now, now + Duration::minutes(LEASE_MINUTES), 100).await?;
    tx.commit().await?;
    let results: Vec<(OutboxMessage, Result<(), String>)> =
        futures_util::stream::iter(due.into_iter().map(|msg| async move {
            let sent = state.sender.send(&msg).await;
            (msg, sent)
        }))
        .buffer_unordered(CONCURRENT_SENDS)
        .collect()
        .await;
    let (mut sent, mut failed) = (0, 0);
    // Every outcome in one writer transaction. Should it fail, the leases run out and the
    // messages go again with the same idempotency keys.
    let mut tx = state.store.begin().await?;
    for (msg, result) in &results {
        match result {
            Ok(()) => {
                outbox::mark_sent(&mut tx, &msg.id, state.clock.now()).await?;
                sent += 1;
            }
            Err(e) => {
                let attempts = msg.attempts + 1;
                let backoff = Duration::seconds((10i64 << attempts.min(9)).min(3600));
                let give_up = attempts >= state.config.outbox_max_attempts;
                tracing::warn!(id = %msg.id, attempts, error = %e, give_up, "outbox delivery failed");
                outbox::mark_failed(&mut tx, &msg.id, e, state.clock.now() + backoff, give_up)
                    .await?;
                failed += 1;
                metrics::counter!(crate::telemetry::OUTBOX_FAILURES).increment(1);
            }
        }
    }
    tx.commit().await?;
    Ok((sent, failed))
}
