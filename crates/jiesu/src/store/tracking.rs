//! Tracking attempts per request number (`track_attempts`): the limit that protects one
//! request from guesses at its query code, kept in the database so that it holds across
//! every node. A number is counted whether or not a request has it, so a lock says nothing
//! about which numbers exist.

use super::{millis, Store, StoreError};
use chrono::{DateTime, Utc};

/// Counts one attempt at `number` in a window of `window_ms` that starts with the first
/// attempt after the last window ended; returns the attempts in the current window
/// (this one included) and when that window started. One statement, so parallel attempts
/// each get a distinct count.
pub async fn count_attempt(
    store: &Store,
    number: &str,
    now: DateTime<Utc>,
    window_ms: i64,
) -> Result<(i64, DateTime<Utc>), StoreError> {
    let now = millis(now);
    let mut tx = store.begin().await?;
    let (attempts, start): (i64, i64) = sqlx::query_as(
        "INSERT INTO track_attempts (number, attempts, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (number) DO UPDATE SET \
           attempts = CASE WHEN track_attempts.window_start <= $3 THEN 1 ELSE track_attempts.attempts + 1 END, \
           window_start = CASE WHEN track_attempts.window_start <= $3 THEN $2 ELSE track_attempts.window_start END \
         RETURNING attempts, window_start",
    )
    .bind(number)
    .bind(now)
    .bind(now - window_ms)
    .fetch_one(tx.conn())
    .await?;
    tx.commit().await?;
    Ok((attempts, super::from_millis(start)))
}

/// Forgets the attempts at `number` (after a right code: its requester is not locked out by
/// their own look-ups).
pub async fn clear(store: &Store, number: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM track_attempts WHERE number = $1")
        .bind(number)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the counts whose window ended before `now`; returns how many.
pub async fn purge(store: &Store, now: DateTime<Utc>, window_ms: i64) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let done = sqlx::query("DELETE FROM track_attempts WHERE window_start <= $1")
        .bind(millis(now) - window_ms)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}
