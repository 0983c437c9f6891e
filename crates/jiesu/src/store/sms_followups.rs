//! Follow-up calls after an unhappy SMS rating (issue 19): the rating (status `followup`) was
//! recorded as the callback and sent the request to rework; an agent still calls the
//! requester, and the call is kept on the rating row, never as a second callback.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// A follow-up call waiting for an agent.
#[derive(Debug, Clone)]
pub struct FollowUpRow {
    /// The rating's id.
    pub id: String,
    /// The request it is about.
    pub request_id: String,
    /// The round that was rated.
    pub round: i64,
    /// What the requester wrote.
    pub answer: String,
    /// When they wrote it.
    pub answered_at: DateTime<Utc>,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<FollowUpRow, StoreError> {
    Ok(FollowUpRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        round: r.try_get("round")?,
        answer: r
            .try_get::<Option<String>, _>("answer")?
            .unwrap_or_default(),
        answered_at: from_millis(r.try_get::<Option<i64>, _>("answered_at")?.unwrap_or(0)),
    })
}

const COLUMNS: &str = "id, request_id, round, answer, answered_at";

/// Follow-up calls not made yet, oldest answer first.
pub async fn due(pool: &AnyPool, limit: i64) -> Result<Vec<FollowUpRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sms_ratings WHERE status = 'followup' AND followed_up_at IS NULL \
         ORDER BY answered_at, id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One follow-up, made or not, read inside the caller's transaction; `None` when `id` is no
/// rating that wants one. The second value says whether it was made already.
pub async fn get(tx: &mut Tx, id: &str) -> Result<Option<(FollowUpRow, bool)>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS}, followed_up_at FROM sms_ratings WHERE id = $1 AND status = 'followup'"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        let done: Option<i64> = r.try_get("followed_up_at")?;
        Ok((from_row(&r)?, done.is_some()))
    })
    .transpose()
}

/// Marks the follow-up made by `agent`; `false` when another agent made it first.
pub async fn mark_done(
    tx: &mut Tx,
    id: &str,
    agent: &str,
    note: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE sms_ratings SET followed_up_by = $2, followed_up_at = $3, follow_up_note = $4 \
         WHERE id = $1 AND followed_up_at IS NULL",
    )
    .bind(id)
    .bind(agent)
    .bind(millis(now))
    .bind(note)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}
