//! A child order's requests for more time (下派工单延期), decided by the unit that passed it
//! down: their rows, written inside the request's transaction (`services::subwork_time`).

use super::assignments::opt_time;
use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::subwork::SubExtensionStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored request for more time on a child order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SubExtensionRow {
    pub id: String,
    pub request_id: String,
    pub sub_order_id: String,
    /// The child's unit, which asks.
    pub unit_code: String,
    /// The unit above, which decides.
    pub from_unit_code: String,
    /// The child's reply limit when it asked.
    pub old_reply_by: DateTime<Utc>,
    /// The limit it asked for.
    pub asked_reply_by: DateTime<Utc>,
    pub reason: String,
    pub status: SubExtensionStatus,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The limit granted (approved only).
    pub new_reply_by: Option<DateTime<Utc>>,
    /// Why it was refused.
    pub decision_reason: Option<String>,
}

const COLUMNS: &str = "id, request_id, sub_order_id, unit_code, from_unit_code, old_reply_by, \
    asked_reply_by, reason, status, requested_by, requested_at, decided_by, decided_at, new_reply_by, \
    decision_reason";

fn from_row(r: &AnyRow) -> Result<SubExtensionRow, sqlx::Error> {
    Ok(SubExtensionRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        sub_order_id: r.try_get("sub_order_id")?,
        unit_code: r.try_get("unit_code")?,
        from_unit_code: r.try_get("from_unit_code")?,
        old_reply_by: from_millis(r.try_get("old_reply_by")?),
        asked_reply_by: from_millis(r.try_get("asked_reply_by")?),
        reason: r.try_get("reason")?,
        status: word(r, "status", SubExtensionStatus::parse)?,
        requested_by: r.try_get("requested_by")?,
        requested_at: from_millis(r.try_get("requested_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        new_reply_by: opt_time(r, "new_reply_by")?,
        decision_reason: r.try_get("decision_reason")?,
    })
}

/// Inserts a request for more time.
pub async fn insert(tx: &mut Tx, x: &SubExtensionRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO sub_extensions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15)"
    ))
    .bind(&x.id).bind(&x.request_id).bind(&x.sub_order_id).bind(&x.unit_code).bind(&x.from_unit_code)
    .bind(millis(x.old_reply_by)).bind(millis(x.asked_reply_by)).bind(&x.reason).bind(x.status.as_str())
    .bind(&x.requested_by).bind(millis(x.requested_at)).bind(&x.decided_by).bind(x.decided_at.map(millis))
    .bind(x.new_reply_by.map(millis)).bind(&x.decision_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the decision on a request for more time.
pub async fn save(tx: &mut Tx, x: &SubExtensionRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sub_extensions SET status = $2, decided_by = $3, decided_at = $4, new_reply_by = $5, \
         decision_reason = $6 WHERE id = $1",
    )
    .bind(&x.id)
    .bind(x.status.as_str())
    .bind(&x.decided_by)
    .bind(x.decided_at.map(millis))
    .bind(x.new_reply_by.map(millis))
    .bind(&x.decision_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The requests for more time of a request's child orders, oldest first.
pub async fn of_request<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<SubExtensionRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sub_extensions WHERE request_id = $1 ORDER BY requested_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The request a request for more time belongs to.
pub async fn request_of(pool: &AnyPool, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM sub_extensions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The requests for more time a unit decides (`from_unit_code`) or asked (`unit_code`), in
/// `status` (all when None), newest first.
pub async fn of_unit(
    pool: &AnyPool,
    unit_code: &str,
    status: Option<SubExtensionStatus>,
    limit: i64,
) -> Result<Vec<SubExtensionRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sub_extensions WHERE (from_unit_code = $1 OR unit_code = $1) \
         AND ($2 = '' OR status = $2) ORDER BY requested_at DESC, id DESC LIMIT $3"
    ))
    .bind(unit_code)
    .bind(status.map(|s| s.as_str()).unwrap_or(""))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
