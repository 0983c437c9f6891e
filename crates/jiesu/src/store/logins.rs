//! The login throttle's counters (`login_throttle`): each attempt is admitted or refused by
//! one atomic UPDATE, so parallel attempts are judged on the count as it is, never on a stale
//! read. The policy (how many free failures, how the wait grows) is the caller's.

use super::{StoreError, Tx};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// The throttle's name for an account: the SHA-256 of the username as typed (known or not).
pub fn account_key(username: &str) -> String {
    hex::encode(Sha256::digest(username.as_bytes()))
}

/// What the gate decided about one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Admitted; the attempt is already counted as a failure (`failures` after it) until a
    /// success gives it back.
    Admitted {
        /// The count including this attempt.
        failures: i64,
    },
    /// Refused until this instant (ms).
    Blocked {
        /// When the next attempt is admitted (ms).
        until: i64,
    },
}

/// The longest wait, in ms (15 min).
pub const MAX_WAIT_MS: i64 = 900_000;

/// The count after this attempt: 1 again once the row has been quiet since `forget` ($3).
const NEW_COUNT: &str = "(CASE WHEN last_at <= $3 THEN 1 ELSE failures + 1 END)";

/// The wait after this attempt, from the new count and the allowance `free` ($4): none below
/// it, 1 s at it, doubling with each failure beyond, at most [`MAX_WAIT_MS`]. A function of
/// the count alone, so attempts that race get the same answer.
fn new_wait_sql() -> String {
    let n = NEW_COUNT;
    let ladder: String = (0..10)
        .map(|k| format!(" WHEN {k} THEN {}", (1000i64 << k).min(MAX_WAIT_MS)))
        .collect();
    format!(
        "(CASE WHEN {n} < $4 THEN 0 WHEN {n} - $4 >= 10 THEN {MAX_WAIT_MS} \
              ELSE CASE {n} - $4{ladder} END END)"
    )
}

/// Makes sure `key` has a counter row (a fresh one counts nothing), so the UPDATE that
/// decides can lock and count it in one statement.
async fn ensure_row(tx: &mut Tx, key: &str, account: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO login_throttle (key, account, failures, blocked_until, last_at) \
         VALUES ($1, $2, 0, 0, $3) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(account)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Counts an attempt against `key` if it may go ahead: below `free` failures, once the wait
/// is over, or once the row has been quiet since `forget` (ms). One UPDATE decides and counts,
/// so of many parallel attempts exactly as many are admitted as the count allows.
pub async fn admit(
    tx: &mut Tx,
    key: &str,
    account: &str,
    now: i64,
    forget: i64,
    free: i64,
) -> Result<Gate, StoreError> {
    ensure_row(tx, key, account, now).await?;
    let wait = new_wait_sql();
    let sql = format!(
        "UPDATE login_throttle SET \
            failures = {NEW_COUNT}, blocked_until = $2 + {wait}, last_at = $2 \
         WHERE key = $1 AND (last_at <= $3 OR failures < $4 OR blocked_until <= $2) \
         RETURNING failures"
    );
    let row = sqlx::query(&sql)
        .bind(key)
        .bind(now)
        .bind(forget)
        .bind(free)
        .fetch_optional(tx.conn())
        .await?;
    if let Some(r) = row {
        return Ok(Gate::Admitted {
            failures: r.try_get("failures")?,
        });
    }
    let until: i64 = sqlx::query_scalar("SELECT blocked_until FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_one(tx.conn())
        .await?;
    Ok(Gate::Blocked { until })
}

/// Gives back an admitted attempt that succeeded (or was not judged): it was counted at the
/// gate. The wait it set stays (it ends on its own).
pub async fn give_back(tx: &mut Tx, key: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
    )
    .bind(key)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Counts one failure against `key` (the account ceiling) and returns the count, restarting
/// from 1 when the row has been quiet since `forget`.
pub async fn count_failure(
    tx: &mut Tx,
    key: &str,
    account: &str,
    now: i64,
    forget: i64,
) -> Result<i64, StoreError> {
    ensure_row(tx, key, account, now).await?;
    let n = sqlx::query_scalar(
        "UPDATE login_throttle SET \
            failures = CASE WHEN last_at <= $3 THEN 1 ELSE failures + 1 END, last_at = $2 \
         WHERE key = $1 RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(forget)
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// The failures counted against `key` since `forget` (0 when none or forgotten).
pub async fn failures(pool: &sqlx::AnyPool, key: &str, forget: i64) -> Result<i64, StoreError> {
    let n: Option<i64> =
        sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = $1 AND last_at > $2")
            .bind(key)
            .bind(forget)
            .fetch_optional(pool)
            .await?;
    Ok(n.unwrap_or(0))
}

/// Forgets every counter of an account (after an administrator reset its password).
pub async fn clear_account(tx: &mut Tx, account: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM login_throttle WHERE account = $1")
        .bind(account)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Deletes counters quiet since `forget`; returns how many.
pub async fn purge(tx: &mut Tx, forget: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM login_throttle WHERE last_at <= $1")
            .bind(forget)
            .execute(tx.conn())
            .await?
            .rows_affected(),
    )
}

/// The shared key named `name`, created from `fresh` when absent (every node reads the one
/// that won).
pub async fn server_key(
    tx: &mut Tx,
    name: &str,
    fresh: &str,
    now: i64,
) -> Result<String, StoreError> {
    sqlx::query(
        "INSERT INTO server_keys (name, value, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(fresh)
    .bind(now)
    .execute(tx.conn())
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM server_keys WHERE name = $1")
            .bind(name)
            .fetch_one(tx.conn())
            .await?,
    )
}
