//! Outbox delivery: due requester messages are claimed, handed to the node's
//! [`Sender`], and marked sent, or failed with an exponential backoff until the configured
//! number of attempts. The senders here: the log (default) and a webhook.

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
