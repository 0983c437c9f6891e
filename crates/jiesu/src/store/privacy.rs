//! Personal data: finding the requests whose retention is over, removing their requester's
//! name and phone (and the phone from their outbox messages), and gathering everything held
//! about one phone number for an export.

use super::requests::{request_from_row, RequestRow, REQUEST_COLUMNS};
use super::{millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::AnyPool;

/// What a redacted requester's name and phone become.
pub const REDACTED: &str = "";

/// Up to `limit` requests not yet redacted that closed before `cutoff` (a merged request: when
/// its primary closed), proactive tasks aside (their "requester" is the center): (id, when it
/// closed, in ms).
pub async fn due(
    pool: &AnyPool,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT r.id, COALESCE(r.closed_at, p.closed_at) AS closed FROM requests r \
         LEFT JOIN requests p ON p.id = r.primary_id \
         WHERE r.redacted_at IS NULL AND r.channel <> 'proactive' \
         AND COALESCE(r.closed_at, p.closed_at) < $1 \
         ORDER BY closed, r.id LIMIT $2",
    )
    .bind(millis(cutoff))
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Removes the requester's name and phone from a request and its outbox messages, and what
/// they texted back (`sms_inbound`, the answers to the rating), inside the caller's
/// transaction; false when it was already redacted.
pub async fn redact(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE requests SET requester_name = $2, requester_phone = $2, redacted_at = $3 \
         WHERE id = $1 AND redacted_at IS NULL",
    )
    .bind(id)
    .bind(REDACTED)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE outbox SET recipient = $2 WHERE request_id = $1")
        .bind(id)
        .bind(REDACTED)
        .execute(tx.conn())
        .await?;
    // What the requester texted back (issue 19): the text and the (masked) number go; the
    // rating's outcome stays for the statistics. Opt-outs (sms_optouts) keep the number: it
    // is what honours TD.
    sqlx::query("UPDATE sms_inbound SET text = $2, phone = $2 WHERE request_id = $1")
        .bind(id)
        .bind(REDACTED)
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE sms_ratings SET answer = $2, follow_up_note = NULL WHERE request_id = $1 AND answer IS NOT NULL",
    )
    .bind(id)
    .bind(REDACTED)
    .execute(tx.conn())
    .await?;
    super::open311::redact(tx, id).await?;
    Ok(true)
}

/// The requests of one (normalised) phone number, oldest first.
pub async fn requests_of_phone<'c, E>(conn: E, phone: &str) -> Result<Vec<RequestRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE requester_phone = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(phone).fetch_all(conn).await?;
    Ok(rows
        .iter()
        .map(request_from_row)
        .collect::<Result<_, _>>()?)
}
