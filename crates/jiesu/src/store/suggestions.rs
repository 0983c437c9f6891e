//! The suggestions shown at intake, linked to the request that followed, so that production
//! accuracy (how often the top suggestion was kept) can be measured.

use super::{millis, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// Stores a suggestion (an advisory record, with no event: see [`Store::write_one`]).
pub async fn insert(
    store: &Store,
    id: &str,
    now: DateTime<Utc>,
    source: &str,
    top_category: Option<&str>,
    top_lead: Option<&str>,
    payload: &str,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "INSERT INTO suggestions (id, request_id, created_at, source, top_category, top_lead_unit, payload, kb_entry_used) \
         VALUES ($1, NULL, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(id)
    .bind(millis(now))
    .bind(source)
    .bind(top_category)
    .bind(top_lead)
    .bind(payload);
    store.write_one(query).await?;
    Ok(())
}

/// Links a suggestion to the request recorded after it; false when there is no such unlinked
/// suggestion.
pub async fn link(tx: &mut Tx, suggestion_id: &str, request_id: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE suggestions SET request_id = $2 WHERE id = $1 AND request_id IS NULL")
            .bind(suggestion_id)
            .bind(request_id)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the knowledge-base entry used to answer the request.
pub async fn record_kb_use(
    tx: &mut Tx,
    request_id: &str,
    kb_entry_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE suggestions SET kb_entry_used = $2 WHERE request_id = $1")
        .bind(request_id)
        .bind(kb_entry_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// One linked suggestion with what the operator finally chose.
pub struct Outcome {
    /// The suggested category.
    pub top_category: Option<String>,
    /// The suggested lead unit.
    pub top_lead: Option<String>,
    /// The request's category.
    pub category: Option<String>,
    /// The first round's lead unit still active (or last dispatched).
    pub lead: Option<String>,
}

/// Linked suggestions of requests created in [from, to).
pub async fn outcomes(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Outcome>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.top_category, s.top_lead_unit, r.category_code, \
         (SELECT a.unit_code FROM assignments a WHERE a.request_id = r.id AND a.round = 1 AND a.role = 'lead' \
          ORDER BY CASE WHEN a.status = 'returned' THEN 1 ELSE 0 END, a.dispatched_at DESC LIMIT 1) AS lead \
         FROM suggestions s JOIN requests r ON r.id = s.request_id WHERE r.created_at >= $1 AND r.created_at < $2",
    )
    .bind(millis(from))
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Outcome {
                top_category: r.try_get("top_category")?,
                top_lead: r.try_get("top_lead_unit")?,
                category: r.try_get("category_code")?,
                lead: r.try_get("lead")?,
            })
        })
        .collect()
}
