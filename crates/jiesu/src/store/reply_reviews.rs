//! 办结审核: the per-category flag, and the center's checks of units' replies on requests of
//! flagged categories. Written inside the request's transaction (`services::reply_reviews`).

use super::assignments::opt_time;
use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored check of one reply.
#[derive(Debug, Clone)]
pub struct ReplyReviewRow {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    /// `pending`, `approved` or `sent_back`.
    pub status: String,
    pub replied_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

const COLUMNS: &str =
    "id, assignment_id, request_id, unit_code, status, replied_at, decided_by, decided_at, reason";

fn from_row(r: &AnyRow) -> Result<ReplyReviewRow, sqlx::Error> {
    Ok(ReplyReviewRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        request_id: r.try_get("request_id")?,
        unit_code: r.try_get("unit_code")?,
        status: r.try_get("status")?,
        replied_at: from_millis(r.try_get("replied_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        reason: r.try_get("reason")?,
    })
}

/// Whether replies on a category wait for the center's check (false for none or unknown).
pub async fn category_flag<'c, E>(conn: E, code: &str) -> Result<Option<bool>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let v: Option<i64> = sqlx::query_scalar("SELECT reply_review FROM categories WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(v.map(|v| v != 0))
}

/// The categories whose replies are checked.
pub async fn flagged_categories(pool: &AnyPool) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT code FROM categories WHERE reply_review = 1 ORDER BY code")
            .fetch_all(pool)
            .await?,
    )
}

/// Records a reply waiting for the check.
pub async fn insert(tx: &mut Tx, r: &ReplyReviewRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reply_reviews (id, assignment_id, request_id, unit_code, status, replied_at) \
         VALUES ($1, $2, $3, $4, 'pending', $5)",
    )
    .bind(&r.id)
    .bind(&r.assignment_id)
    .bind(&r.request_id)
    .bind(&r.unit_code)
    .bind(millis(r.replied_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether a reply of the request still waits for the center's check.
pub async fn has_pending<'c, E>(conn: E, request_id: &str) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM reply_reviews WHERE request_id = $1 AND status = 'pending'",
    )
    .bind(request_id)
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// One check.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<ReplyReviewRow>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reply_reviews WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// A request's checks, oldest first.
pub async fn of_request<'c, E>(conn: E, request_id: &str) -> Result<Vec<ReplyReviewRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reply_reviews WHERE request_id = $1 ORDER BY replied_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The checks of a request still waiting for the center, oldest first.
pub async fn pending_of_request(
    pool: &AnyPool,
    request_id: &str,
) -> Result<Vec<ReplyReviewRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reply_reviews WHERE request_id = $1 AND status = 'pending' \
         ORDER BY replied_at, id"
    ))
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Decides a pending check; false when it is no longer pending.
pub async fn decide(
    tx: &mut Tx,
    id: &str,
    status: &str,
    by: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE reply_reviews SET status = $1, decided_by = $2, decided_at = $3, reason = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(by)
    .bind(millis(at))
    .bind(reason)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Checks by status (all when None), oldest first, at most 1,000.
pub async fn list(pool: &AnyPool, status: Option<&str>) -> Result<Vec<ReplyReviewRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reply_reviews WHERE ($1 = '' OR status = $1) ORDER BY replied_at, id LIMIT 1000"
    ))
    .bind(status.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
