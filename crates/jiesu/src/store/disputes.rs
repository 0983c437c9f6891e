//! Dispatch disputes (派单争议): requests whose lead units keep returning them, and the
//! center's decisions (仲裁) naming the responsible unit.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, Row};

/// A decision of the center.
#[derive(Debug, Clone)]
pub struct Arbitration {
    pub id: String,
    pub request_id: String,
    pub round: i64,
    pub unit_code: String,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
}

/// Stores a decision.
pub async fn insert(tx: &mut Tx, a: &Arbitration) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO arbitrations (id, request_id, round, unit_code, reason, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&a.id)
    .bind(&a.request_id)
    .bind(a.round)
    .bind(&a.unit_code)
    .bind(&a.reason)
    .bind(&a.decided_by)
    .bind(millis(a.decided_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether the center named `unit_code` responsible for the request's round.
pub async fn is_arbitrated(
    conn: &mut AnyConnection,
    request_id: &str,
    round: i64,
    unit_code: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "SELECT 1 AS x FROM arbitrations WHERE request_id = $1 AND round = $2 AND unit_code = $3",
    )
    .bind(request_id)
    .bind(round)
    .bind(unit_code)
    .fetch_optional(conn)
    .await?
    .is_some())
}

/// The decisions on a request, oldest first.
pub async fn of_request(pool: &AnyPool, request_id: &str) -> Result<Vec<Arbitration>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, request_id, round, unit_code, reason, decided_by, decided_at FROM arbitrations \
         WHERE request_id = $1 ORDER BY decided_at",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Arbitration {
                id: r.try_get("id")?,
                request_id: r.try_get("request_id")?,
                round: r.try_get("round")?,
                unit_code: r.try_get("unit_code")?,
                reason: r.try_get("reason")?,
                decided_by: r.try_get("decided_by")?,
                decided_at: from_millis(r.try_get("decided_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Ids of requests waiting for dispatch whose current round has been returned by at least
/// `min_returns` lead units (a dispute for the center to decide), oldest first return first.
pub async fn disputed(
    pool: &AnyPool,
    min_returns: i64,
    limit: i64,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id, MIN(a.returned_at) AS first_return FROM requests r JOIN assignments a ON a.request_id = r.id \
         AND a.round = r.round AND a.role = 'lead' AND a.status = 'returned' WHERE r.status = 'received' \
         GROUP BY r.id HAVING COUNT(*) >= $1 ORDER BY first_return, r.id LIMIT $2",
    )
    .bind(min_returns)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
