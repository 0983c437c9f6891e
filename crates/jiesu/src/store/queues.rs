//! The work queues the pages show: a unit's open orders, requests due for a callback, pending
//! extension requests, and the history of the versioned configuration. Every query is bounded
//! by a limit and starts from an indexed column (status, unit path, request id).

use super::assignments::{assignment_from_row, AssignmentRow, ASSIGNMENT_COLUMNS};
use super::extensions::{extension_from_row, ExtensionRow, EXTENSION_COLUMNS};
use super::requests::{request_from_row, RequestRow, REQUEST_COLUMNS};
use super::{from_millis, StoreError};
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Open orders (dispatched or acknowledged) of a unit and the units under it, soonest
/// deadline first.
pub async fn unit_open_orders(
    pool: &AnyPool,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE status IN ('dispatched', 'acknowledged') \
         AND unit_path LIKE $1 || '%' ORDER BY reply_by LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(unit_path)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Replied orders (办结) of a unit and the units under it, latest dispatched first: what the
/// unit may still appeal (考核申诉), a round-1 order after a rework included.
pub async fn unit_replied_orders(
    pool: &AnyPool,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE status = 'replied' \
         AND unit_path LIKE $1 || '%' ORDER BY dispatched_at DESC, id LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(unit_path)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Requests waiting for their callback: replied ones, and merged ones whose primary has
/// replied and whose own requester has not been called back yet; oldest first. A reply still
/// waiting for the center's check (办结审核) holds its request back, and so does a rating
/// asked by SMS after `rating_cutoff` and not answered yet (issue 19).
pub async fn callback_due(
    pool: &AnyPool,
    limit: i64,
    rating_cutoff: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<RequestRow>, StoreError> {
    let cutoff = super::millis(rating_cutoff);
    let replied = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE status = 'replied' \
         AND NOT EXISTS (SELECT 1 FROM reply_reviews v WHERE v.request_id = requests.id AND v.status = 'pending') \
         AND NOT EXISTS (SELECT 1 FROM sms_ratings s WHERE s.request_id = requests.id AND s.round = requests.round \
         AND s.status = 'awaiting' AND s.asked_at > $2) \
         ORDER BY created_at LIMIT $1"
    ))
    .bind(limit)
    .bind(cutoff)
    .fetch_all(pool)
    .await?;
    let merged = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests r WHERE status = 'merged' AND callback_done = 0 \
         AND EXISTS (SELECT 1 FROM requests p WHERE p.id = r.primary_id AND p.status IN ('replied', 'closed')) \
         AND NOT EXISTS (SELECT 1 FROM reply_reviews v WHERE v.request_id = r.primary_id AND v.status = 'pending') \
         ORDER BY created_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(replied
        .iter()
        .chain(merged.iter())
        .map(request_from_row)
        .collect::<Result<_, _>>()?)
}

/// Extension requests waiting for a decision, oldest first.
pub async fn pending_extensions(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<ExtensionRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {EXTENSION_COLUMNS} FROM extensions WHERE status = 'pending' ORDER BY requested_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(extension_from_row)
        .collect::<Result<_, _>>()?)
}

/// (number, title) of the given requests, by id.
pub async fn request_titles(
    pool: &AnyPool,
    ids: &[String],
) -> Result<HashMap<String, (String, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, number, title FROM requests WHERE id IN ({})",
        super::placeholders(ids.len())
    );
    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(pool)
        .await?
        .into_iter()
        .map(|(id, n, t)| (id, (n, t)))
        .collect())
}

/// The unit code of the given orders, by order id.
pub async fn assignment_units(
    pool: &AnyPool,
    ids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, unit_code FROM assignments WHERE id IN ({})",
        super::placeholders(ids.len())
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(pool).await?.into_iter().collect())
}

/// The names of the given units, by code.
pub async fn unit_names(
    pool: &AnyPool,
    codes: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    if codes.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT code, name FROM units WHERE code IN ({})",
        super::placeholders(codes.len())
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for c in codes {
        q = q.bind(c);
    }
    Ok(q.fetch_all(pool).await?.into_iter().collect())
}

/// A unit's name from [`unit_names`], or its code where it has none.
pub fn name_or_code(names: &HashMap<String, String>, code: &str) -> String {
    names.get(code).cloned().unwrap_or_else(|| code.to_string())
}

/// A category's (Chinese, English) name, by code.
pub async fn category_name(
    pool: &AnyPool,
    code: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT name, name_en FROM categories WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await?,
    )
}

/// One stored version of a time limit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimeLimitVersion {
    /// Class (`emergency`, `utilities`, `general`, `complex`).
    pub class: String,
    /// In force from.
    pub effective_from: chrono::DateTime<chrono::Utc>,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Minutes to acknowledge.
    pub acknowledge_minutes: i64,
    /// Minutes (or working-day minutes) to reply.
    pub reply_minutes: i64,
    /// `calendar` or `working`.
    pub day_kind: String,
}

/// Every version of every time limit, by class and date.
pub async fn time_limits(pool: &AnyPool) -> Result<Vec<TimeLimitVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT class, effective_from, name_zh, name_en, acknowledge_minutes, reply_minutes, day_kind \
         FROM time_limits ORDER BY class, effective_from",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TimeLimitVersion {
                class: r.try_get("class")?,
                effective_from: from_millis(r.try_get("effective_from")?),
                name_zh: r.try_get("name_zh")?,
                name_en: r.try_get("name_en")?,
                acknowledge_minutes: r.try_get("acknowledge_minutes")?,
                reply_minutes: r.try_get("reply_minutes")?,
                day_kind: r.try_get("day_kind")?,
            })
        })
        .collect()
}

/// Every stored version of the KPI rules: (effective from, rules as stored, created at).
pub async fn kpi_rules(
    pool: &AnyPool,
) -> Result<
    Vec<(
        chrono::DateTime<chrono::Utc>,
        jiesu_core::kpi::KpiRules,
        chrono::DateTime<chrono::Utc>,
    )>,
    StoreError,
> {
    let rows = sqlx::query(
        "SELECT effective_from, rules, created_at FROM kpi_rules ORDER BY effective_from, created_at",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let rules: String = r.try_get("rules")?;
            Ok((
                from_millis(r.try_get("effective_from")?),
                serde_json::from_str(&rules).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                from_millis(r.try_get("created_at")?),
            ))
        })
        .collect()
}
