//! Open311 client keys (api_key): a random 32-byte key shown once, kept as a SHA-256; each
//! key names its client on the requests it creates and has its own rate limit
//! (`JIESU_RATE_OPEN311`, in each node's memory).

use crate::config::RateLimit;
use crate::error::AppError;
use crate::services::AppState;
use crate::store::open311 as store;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub use store::KeyRow;

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Makes a key for client `name`; returns (id, key). The key is not kept and cannot be shown
/// again.
pub async fn add(state: &AppState, by: &str, name: &str) -> Result<(String, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", "err.open311.key_name"));
    }
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let key = hex::encode(raw);
    let id = uuid::Uuid::now_v7().to_string();
    let mut tx = state.store.begin().await?;
    store::insert_key(&mut tx, &id, name, &hash(&key), state.clock.now()).await?;
    tx.event(state.audit_event(
        by,
        "admin",
        "open311.key_added",
        serde_json::json!({ "key_id": id, "name": name }),
    ));
    tx.commit().await?;
    Ok((id, key))
}

/// Revokes a key, with an event; 404 when there is no such live key.
pub async fn revoke(state: &AppState, by: &str, id: &str) -> Result<(), AppError> {
    let mut tx = state.store.begin().await?;
    if !store::revoke_key(&mut tx, id, state.clock.now()).await? {
        return Err(AppError::NotFound("key"));
    }
    tx.event(state.audit_event(
        by,
        "admin",
        "open311.key_revoked",
        serde_json::json!({ "key_id": id }),
    ));
    tx.commit().await?;
    Ok(())
}

/// Every key, oldest first.
pub async fn list(state: &AppState) -> Result<Vec<KeyRow>, AppError> {
    Ok(store::keys(state.store.reader()).await?)
}

/// The live key `key` is, or 403.
pub async fn check(state: &AppState, key: Option<&str>) -> Result<KeyRow, AppError> {
    let key = key
        .filter(|k| !k.is_empty())
        .ok_or(AppError::Forbidden("api_key"))?;
    store::live_key(state.store.reader(), &hash(key))
        .await?
        .ok_or(AppError::Forbidden("api_key"))
}

/// Per-key request counts in fixed windows.
pub struct KeyLimiter {
    rate: Option<RateLimit>,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl KeyLimiter {
    /// A limiter allowing `rate` per key (none: unlimited).
    pub fn new(rate: Option<RateLimit>) -> Self {
        KeyLimiter {
            rate,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of key `id`; 429 with the seconds to wait when over the limit.
    pub fn hit(&self, id: &str) -> Result<(), AppError> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = w.entry(id.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= rate.per {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > rate.count {
            metrics::counter!(crate::telemetry::RATE_LIMIT_REFUSALS, "limiter" => "open311_key")
                .increment(1);
            let left = rate.per.saturating_sub(now.duration_since(entry.0));
            return Err(AppError::TooManyRequests(left.as_secs().max(1) as i64));
        }
        Ok(())
    }
}
