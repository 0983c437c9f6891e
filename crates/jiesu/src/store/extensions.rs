//! Extension requests (延期申请): a unit asks for more time on an order, the center decides.

use super::assignments::opt_time;
use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::ExtensionStatus;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored extension request.
#[derive(Debug, Clone)]
pub struct ExtensionRow {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub hours: i64,
    pub reason: String,
    pub status: ExtensionStatus,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub old_reply_by: DateTime<Utc>,
    pub new_reply_by: Option<DateTime<Utc>>,
}

pub(crate) const EXTENSION_COLUMNS: &str =
    "id, assignment_id, request_id, hours, reason, status, requested_by, requested_at, \
    decided_by, decided_at, old_reply_by, new_reply_by";

pub(crate) fn extension_from_row(r: &AnyRow) -> Result<ExtensionRow, sqlx::Error> {
    Ok(ExtensionRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        request_id: r.try_get("request_id")?,
        hours: r.try_get("hours")?,
        reason: r.try_get("reason")?,
        status: word(r, "status", ExtensionStatus::parse)?,
        requested_by: r.try_get("requested_by")?,
        requested_at: from_millis(r.try_get("requested_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        old_reply_by: from_millis(r.try_get("old_reply_by")?),
        new_reply_by: opt_time(r, "new_reply_by")?,
    })
}

/// Inserts an extension request.
pub async fn insert_extension(tx: &mut Tx, e: &ExtensionRow) -> Result<(), StoreError> {
    sqlx::query(&format!("INSERT INTO extensions ({EXTENSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
        .bind(&e.id).bind(&e.assignment_id).bind(&e.request_id).bind(e.hours).bind(&e.reason).bind(e.status.as_str())
        .bind(&e.requested_by).bind(millis(e.requested_at)).bind(&e.decided_by).bind(e.decided_at.map(millis))
        .bind(millis(e.old_reply_by)).bind(e.new_reply_by.map(millis))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Saves a decision on an extension request.
pub async fn save_extension(tx: &mut Tx, e: &ExtensionRow) -> Result<(), StoreError> {
    sqlx::query("UPDATE extensions SET status = $2, decided_by = $3, decided_at = $4, new_reply_by = $5 WHERE id = $1")
        .bind(&e.id).bind(e.status.as_str()).bind(&e.decided_by).bind(e.decided_at.map(millis)).bind(e.new_reply_by.map(millis))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The extension requests of a request.
pub async fn extensions_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<ExtensionRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {EXTENSION_COLUMNS} FROM extensions WHERE request_id = $1 ORDER BY requested_at"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(extension_from_row)
        .collect::<Result<_, _>>()?)
}

/// The request id an extension request belongs to.
pub async fn request_of_extension(
    pool: &AnyPool,
    extension_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM extensions WHERE id = $1")
            .bind(extension_id)
            .fetch_optional(pool)
            .await?,
    )
}
