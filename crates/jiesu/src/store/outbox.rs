//! The outbox: messages to requesters written in the same transaction as the change that
//! caused them, then claimed and delivered by the outbox job. A claim is a lease, so a node
//! that dies mid-delivery leaves the message to be claimed again; nothing is lost on restart.
//! [`Sender`] is the port a delivery channel implements (log, webhook, SMS gateway).

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyPool, Row};
use std::future::Future;
use std::pin::Pin;

/// A message waiting for or past delivery.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    /// Id.
    pub id: String,
    /// The request it concerns.
    pub request_id: String,
    /// What it is (`reply`, …).
    pub kind: String,
    /// Where it goes (the requester's phone number).
    pub recipient: String,
    /// The message as JSON.
    pub payload: serde_json::Value,
    /// `pending`, `sent`, `delivered` (the gateway's report) or `failed` (gave up, or the
    /// gateway reported a failure).
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// Delivers one outbox message (SMS gateway, webhook, …). A message may be handed over more
/// than once (a node that sent it may die before recording that it did): a sender passes the
/// message's id on as its idempotency key, so the receiving end can drop the repeat.
pub trait Sender: Send + Sync {
    /// Sends; an error means "try again later".
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Writes a message inside the caller's transaction. A request without a phone number (an
/// Open311 client may send none; its requester reads the outcome through the client) has
/// nowhere to send to: nothing is written and the answer is `None`.
pub async fn enqueue(
    tx: &mut Tx,
    request_id: &str,
    kind: &str,
    recipient: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    enqueue_at(tx, request_id, kind, recipient, payload, now, now).await
}

/// [`enqueue`], first due at `due` (a text held back by the requester's quiet hours).
pub async fn enqueue_at(
    tx: &mut Tx,
    request_id: &str,
    kind: &str,
    recipient: &str,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    if recipient.trim().is_empty() {
        return Ok(None);
    }
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO outbox (id, request_id, kind, recipient, payload, status, attempts, next_attempt_at, claimed_until, \
         last_error, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $7, NULL, NULL, $6, NULL)",
    )
    .bind(&id).bind(request_id).bind(kind).bind(recipient).bind(payload.to_string()).bind(millis(now)).bind(millis(due))
    .execute(tx.conn())
    .await?;
    Ok(Some(id))
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<OutboxMessage, StoreError> {
    let payload: String = r.try_get("payload")?;
    Ok(OutboxMessage {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        kind: r.try_get("kind")?,
        recipient: r.try_get("recipient")?,
        payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        created_at: from_millis(r.try_get("created_at")?),
    })
}

const COLUMNS: &str = "id, request_id, kind, recipient, payload, status, attempts, created_at";

/// Claims up to `limit` due messages for `lease` and returns them. A message is due when
/// pending, its next attempt time has come, and no live lease holds it.
pub async fn claim_due(
    tx: &mut Tx,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at LIMIT $2{}",
        match tx.dialect() {
            super::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            super::Dialect::Sqlite => "",
        }
    );
    let rows = sqlx::query(&sql)
        .bind(millis(now))
        .bind(limit)
        .fetch_all(tx.conn())
        .await?;
    let msgs: Vec<OutboxMessage> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    if msgs.is_empty() {
        return Ok(msgs);
    }
    // One statement for the whole claim, not a round trip per row (a drain of 10,000 went
    // from 1,419 to 1,656 texts/s with this and the one-statement mark; BENCHMARKS.md).
    let sql = format!(
        "UPDATE outbox SET claimed_until = $1 WHERE id IN ({})",
        placeholders(2, msgs.len())
    );
    let mut q = sqlx::query(&sql).bind(millis(lease_until));
    for m in &msgs {
        q = q.bind(&m.id);
    }
    q.execute(tx.conn()).await?;
    Ok(msgs)
}

/// "$from, $from+1, …" for `n` parameters.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`mark_sent`] for many messages in one statement.
pub async fn mark_sent_many(
    tx: &mut Tx,
    ids: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END, sent_at = $1, \
         attempts = attempts + 1, claimed_until = NULL WHERE id IN ({})",
        placeholders(2, ids.len())
    );
    let mut q = sqlx::query(&sql).bind(millis(now));
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(tx.conn()).await?;
    Ok(())
}

/// Marks a message handed to the sender, in the caller's (writer) transaction. A gateway's
/// delivery report may have come first (`delivered`, `failed`): that status stays.
pub async fn mark_sent(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbox SET status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END, sent_at = $2, attempts = attempts + 1, claimed_until = NULL WHERE id = $1")
        .bind(id)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Records a failed attempt, in the caller's (writer) transaction; the message is retried at
/// `next` or, when `give_up`, marked failed. A message the gateway has reported on meanwhile
/// (an attempt that timed out here but reached it) keeps that status: it is neither retried
/// nor given up.
pub async fn mark_failed(
    tx: &mut Tx,
    id: &str,
    error: &str,
    next: DateTime<Utc>,
    give_up: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, claimed_until = NULL, \
         status = CASE WHEN $4 = 1 AND status = 'pending' THEN 'failed' ELSE status END WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(millis(next))
    .bind(give_up as i64)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The messages of a request.
pub async fn for_request(
    pool: &AnyPool,
    request_id: &str,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE request_id = $1 ORDER BY created_at, id"
    ))
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}
