//! Client keys of new requests (issue 21): `request_keys`, written in the request's own
//! transaction (`creates::create`), read when a client sends a request again with the same
//! key. What a key may be and what a second use answers are the services' business.

use super::{millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// A client's key for one new request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    /// The account that sent it (keys are scoped to it).
    pub actor_id: String,
    /// The key as sent.
    pub key: String,
    /// SHA-256 (hex) of the request as sent.
    pub fingerprint: String,
    /// When it was first used.
    pub created_at: DateTime<Utc>,
}

/// Records `key` for request `request_id` in `tx`. A key already recorded for the account
/// fails on the primary key (two first uses at once: the one that commits first stands).
pub async fn insert(tx: &mut Tx, key: &RequestKey, request_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO request_keys (actor_id, key, fingerprint, request_id, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.actor_id)
    .bind(&key.key)
    .bind(&key.fingerprint)
    .bind(request_id)
    .bind(millis(key.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The request made with `key` by `actor_id` and the fingerprint it was made with.
pub async fn find(
    pool: &AnyPool,
    actor_id: &str,
    key: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT request_id, fingerprint FROM request_keys WHERE actor_id = $1 AND key = $2",
    )
    .bind(actor_id)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((r.try_get("request_id")?, r.try_get("fingerprint")?)))
        .transpose()
}

/// Forgets the keys first used before `cutoff`; returns how many.
pub async fn forget_before(tx: &mut Tx, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM request_keys WHERE created_at < $1")
        .bind(millis(cutoff))
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected())
}
