//! Checkpoints of the event chain: its head (seq, hash) sealed with an HMAC whose key is kept
//! outside the database (`services/audit.rs` holds the key and computes the seal; this module
//! stores and reads them).

use super::{Store, StoreError};
use sqlx::{AnyPool, Row};

/// A sealed head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The last event's position when sealed.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was sealed (ms).
    pub at: i64,
    /// Which key sealed it (the start of a SHA-256 of the key).
    pub key_id: String,
    /// HMAC-SHA256 over (seq, hash, at), hex.
    pub mac: String,
}

/// The chain's head as the head row holds it: (seq, hash).
pub async fn head(pool: &AnyPool) -> Result<(i64, String), StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM event_chain WHERE id = 1")
        .fetch_one(pool)
        .await?;
    Ok((row.try_get("seq")?, row.try_get("hash")?))
}

/// The hash of the event at `seq`, if there is one.
pub async fn hash_at(pool: &AnyPool, seq: i64) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT hash FROM events WHERE seq = $1")
        .bind(seq)
        .fetch_optional(pool)
        .await?)
}

/// Every checkpoint, oldest first.
pub async fn checkpoints(pool: &AnyPool) -> Result<Vec<Checkpoint>, StoreError> {
    let rows = sqlx::query("SELECT seq, hash, at, key_id, mac FROM audit_checkpoints ORDER BY seq")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Checkpoint {
                seq: r.try_get("seq")?,
                hash: r.try_get("hash")?,
                at: r.try_get("at")?,
                key_id: r.try_get("key_id")?,
                mac: r.try_get("mac")?,
            })
        })
        .collect()
}

/// The latest checkpoint's position (0 when there is none).
pub async fn last_sealed(pool: &AnyPool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints")
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// Stores a checkpoint; another node's checkpoint of the same head is kept instead (true when
/// this one was stored).
pub async fn insert(store: &Store, c: &Checkpoint) -> Result<bool, StoreError> {
    let q = sqlx::query(
        "INSERT INTO audit_checkpoints (seq, hash, at, key_id, mac) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (seq) DO NOTHING",
    )
    .bind(c.seq)
    .bind(c.hash.clone())
    .bind(c.at)
    .bind(c.key_id.clone())
    .bind(c.mac.clone());
    Ok(store.write_one(q).await? == 1)
}
