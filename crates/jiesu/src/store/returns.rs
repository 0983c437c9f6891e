//! Return reviews (退单审核): a unit's return waits here for the dispatcher, who accepts it
//! (the order is then returned) or rejects it with a reason. The order itself lives in
//! `assignments`; this table holds only the request for review and its decision.

use super::assignments::opt_time;
use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::ReturnReviewStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored return awaiting, or past, its review.
#[derive(Debug, Clone)]
pub struct ReturnReviewRow {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    pub reason: String,
    pub status: ReturnReviewStatus,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

const COLUMNS: &str = "id, assignment_id, request_id, unit_code, reason, status, requested_by, \
    requested_at, decided_by, decided_at, decision_reason";

fn from_row(r: &AnyRow) -> Result<ReturnReviewRow, sqlx::Error> {
    Ok(ReturnReviewRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        request_id: r.try_get("request_id")?,
        unit_code: r.try_get("unit_code")?,
        reason: r.try_get("reason")?,
        status: word(r, "status", ReturnReviewStatus::parse)?,
        requested_by: r.try_get("requested_by")?,
        requested_at: from_millis(r.try_get("requested_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        decision_reason: r.try_get("decision_reason")?,
    })
}

/// Inserts a return awaiting review.
pub async fn insert(tx: &mut Tx, v: &ReturnReviewRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO return_reviews ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&v.id)
    .bind(&v.assignment_id)
    .bind(&v.request_id)
    .bind(&v.unit_code)
    .bind(&v.reason)
    .bind(v.status.as_str())
    .bind(&v.requested_by)
    .bind(millis(v.requested_at))
    .bind(&v.decided_by)
    .bind(v.decided_at.map(millis))
    .bind(&v.decision_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the decision on a review.
pub async fn save(tx: &mut Tx, v: &ReturnReviewRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE return_reviews SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5 WHERE id = $1",
    )
    .bind(&v.id)
    .bind(v.status.as_str())
    .bind(&v.decided_by)
    .bind(v.decided_at.map(millis))
    .bind(&v.decision_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The return reviews of a request, oldest first.
pub async fn reviews_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<ReturnReviewRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM return_reviews WHERE request_id = $1 ORDER BY requested_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Reviews in `status`, oldest request first (newest decision first for decided ones).
pub async fn by_status(
    pool: &AnyPool,
    status: ReturnReviewStatus,
    limit: i64,
) -> Result<Vec<ReturnReviewRow>, StoreError> {
    let order = if status == ReturnReviewStatus::Pending {
        "requested_at, id"
    } else {
        "decided_at DESC, id"
    };
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM return_reviews WHERE status = $1 ORDER BY {order} LIMIT $2"
    ))
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The reviews of these orders, oldest first.
pub async fn of_orders(
    pool: &AnyPool,
    assignment_ids: &[String],
) -> Result<Vec<ReturnReviewRow>, StoreError> {
    if assignment_ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=assignment_ids.len())
        .map(|i| format!("${i}"))
        .collect();
    let sql = format!(
        "SELECT {COLUMNS} FROM return_reviews WHERE assignment_id IN ({}) ORDER BY requested_at, id",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in assignment_ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
