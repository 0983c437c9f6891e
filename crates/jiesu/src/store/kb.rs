//! Knowledge-base entries (知识库).

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A knowledge-base entry.
#[derive(Debug, Clone, Serialize)]
pub struct KbEntry {
    /// Id.
    pub id: String,
    /// The question it answers.
    pub title: String,
    /// The answer an operator reads out.
    pub answer: String,
    /// Tags (`|`-separated in storage, a list here).
    pub tags: Vec<String>,
    /// The unit that owns the answer.
    pub unit_code: Option<String>,
    /// After this the entry is not suggested.
    pub valid_until: Option<DateTime<Utc>>,
    /// False once deleted.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, title, answer, tags, unit_code, valid_until, active, created_at, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<KbEntry, sqlx::Error> {
    let tags: String = r.try_get("tags")?;
    Ok(KbEntry {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        answer: r.try_get("answer")?,
        tags: tags
            .split('|')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        unit_code: r.try_get("unit_code")?,
        valid_until: r.try_get::<Option<i64>, _>("valid_until")?.map(from_millis),
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// Inserts or replaces an entry.
pub async fn upsert(tx: &mut Tx, e: &KbEntry, actor: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO kb_entries (id, title, answer, tags, unit_code, valid_until, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO UPDATE SET title = excluded.title, \
         answer = excluded.answer, tags = excluded.tags, unit_code = excluded.unit_code, valid_until = excluded.valid_until, \
         active = excluded.active, updated_at = excluded.updated_at",
    )
    .bind(&e.id)
    .bind(&e.title)
    .bind(&e.answer)
    .bind(e.tags.join("|"))
    .bind(&e.unit_code)
    .bind(e.valid_until.map(millis))
    .bind(e.active as i64)
    .bind(actor)
    .bind(millis(e.created_at))
    .bind(millis(e.updated_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// One entry.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<KbEntry>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM kb_entries WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Every active entry still valid at `now`.
/// Every active entry, whatever its validity.
pub async fn active(pool: &AnyPool) -> Result<Vec<KbEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kb_entries WHERE active = 1 ORDER BY updated_at DESC"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The active entries still valid at `now`.
pub async fn live(pool: &AnyPool, now: DateTime<Utc>) -> Result<Vec<KbEntry>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM kb_entries WHERE active = 1 AND (valid_until IS NULL OR valid_until > $1) ORDER BY updated_at DESC"
    ))
    .bind(millis(now))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
