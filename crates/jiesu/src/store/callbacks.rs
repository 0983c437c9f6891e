//! Callback attempts (回访): what each call to a requester found, by round.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// A recorded callback attempt.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallbackRow {
    pub id: String,
    pub request_id: String,
    pub round: i64,
    pub reached: bool,
    pub resolved: Option<bool>,
    pub satisfaction: Option<String>,
    pub note: Option<String>,
    pub outcome: String,
    pub agent_id: String,
    pub at: DateTime<Utc>,
    /// How it was made: `phone` (an agent's call) or `sms` (the requester's text, issue 19).
    pub channel: String,
}

/// Inserts a callback attempt.
pub async fn insert_callback(tx: &mut Tx, c: &CallbackRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO callbacks (id, request_id, round, reached, resolved, satisfaction, note, outcome, agent_id, at, channel) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&c.id).bind(&c.request_id).bind(c.round).bind(c.reached as i64).bind(c.resolved.map(|b| b as i64))
    .bind(&c.satisfaction).bind(&c.note).bind(&c.outcome).bind(&c.agent_id).bind(millis(c.at)).bind(&c.channel)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The callbacks of a request, oldest first.
pub async fn callbacks_of<'c, E>(conn: E, request_id: &str) -> Result<Vec<CallbackRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT id, request_id, round, reached, resolved, satisfaction, note, outcome, agent_id, at, channel FROM callbacks \
         WHERE request_id = $1 ORDER BY at, id",
    )
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CallbackRow {
                id: r.try_get("id")?,
                request_id: r.try_get("request_id")?,
                round: r.try_get("round")?,
                reached: r.try_get::<i64, _>("reached")? != 0,
                resolved: r.try_get::<Option<i64>, _>("resolved")?.map(|v| v != 0),
                satisfaction: r.try_get("satisfaction")?,
                note: r.try_get("note")?,
                outcome: r.try_get("outcome")?,
                agent_id: r.try_get("agent_id")?,
                at: from_millis(r.try_get("at")?),
                channel: r.try_get("channel")?,
            })
        })
        .collect()
}
