//! Assessment appeals (考核申诉): a unit contests one part of an order's assessment, the
//! center grants or refuses it. A granted appeal is read by the KPI recount (store::kpi).

use super::assignments::opt_time;
use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored appeal.
#[derive(Debug, Clone)]
pub struct AppealRow {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    pub part: String,
    pub month: String,
    pub reason: String,
    pub evidence: Option<String>,
    pub status: String,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

const COLUMNS: &str =
    "p.id, p.assignment_id, p.request_id, p.unit_code, p.part, p.month, p.reason, p.evidence, \
    p.status, p.filed_by, p.filed_at, p.decided_by, p.decided_at, p.decision_reason";

fn from_row(r: &AnyRow) -> Result<AppealRow, sqlx::Error> {
    Ok(AppealRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        request_id: r.try_get("request_id")?,
        unit_code: r.try_get("unit_code")?,
        part: r.try_get("part")?,
        month: r.try_get("month")?,
        reason: r.try_get("reason")?,
        evidence: r.try_get("evidence")?,
        status: r.try_get("status")?,
        filed_by: r.try_get("filed_by")?,
        filed_at: from_millis(r.try_get("filed_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        decision_reason: r.try_get("decision_reason")?,
    })
}

/// Whether any level of `month` is frozen.
pub async fn month_frozen(pool: &AnyPool, month: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM kpi_snapshots WHERE month = $1")
        .bind(month)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

/// The latest reached callback that counts for the orders of a request's round (a merged
/// requester's callbacks count for the primary's orders).
pub async fn last_reached_callback(
    pool: &AnyPool,
    request_id: &str,
    round: i64,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(c.at) FROM callbacks c JOIN requests r ON r.id = c.request_id \
         WHERE COALESCE(r.primary_id, r.id) = $1 AND c.round = $2 AND c.reached = 1",
    )
    .bind(request_id)
    .bind(round)
    .fetch_one(pool)
    .await?;
    Ok(at.map(from_millis))
}

/// Files an appeal; false when the order already has an open or granted appeal of that part.
pub async fn insert(tx: &mut Tx, a: &AppealRow) -> Result<bool, StoreError> {
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appeals WHERE assignment_id = $1 AND part = $2 AND status <> 'refused'",
    )
    .bind(&a.assignment_id)
    .bind(&a.part)
    .fetch_one(tx.conn())
    .await?;
    if live > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO appeals (id, assignment_id, request_id, unit_code, part, month, reason, evidence, status, filed_by, filed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10)",
    )
    .bind(&a.id)
    .bind(&a.assignment_id)
    .bind(&a.request_id)
    .bind(&a.unit_code)
    .bind(&a.part)
    .bind(&a.month)
    .bind(&a.reason)
    .bind(&a.evidence)
    .bind(&a.filed_by)
    .bind(millis(a.filed_at))
    .execute(tx.conn())
    .await?;
    Ok(true)
}

/// One appeal.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<AppealRow>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM appeals p WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Decides an open appeal; false when it is no longer open (someone decided first).
pub async fn decide(
    tx: &mut Tx,
    id: &str,
    status: &str,
    by: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE appeals SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4 \
         WHERE id = $5 AND status = 'open'",
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

/// Appeals, newest first, at most 1,000: of units under `unit_path` (all when None), with
/// `status` and `month` when given.
pub async fn list(
    pool: &AnyPool,
    unit_path: Option<&str>,
    status: Option<&str>,
    month: Option<&str>,
) -> Result<Vec<AppealRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM appeals p JOIN units u ON u.code = p.unit_code \
         WHERE ($1 = '' OR u.path LIKE $1 || '%') AND ($2 = '' OR p.status = $2) AND ($3 = '' OR p.month = $3) \
         ORDER BY p.filed_at DESC, p.id DESC LIMIT 1000"
    ))
    .bind(unit_path.unwrap_or(""))
    .bind(status.unwrap_or(""))
    .bind(month.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Per unit path: (appeals filed, appeals granted) of a month.
pub async fn month_counts(
    pool: &AnyPool,
    month: &str,
) -> Result<Vec<(String, u64, u64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.path, COUNT(*) AS n, SUM(CASE WHEN p.status = 'granted' THEN 1 ELSE 0 END) AS granted \
         FROM appeals p JOIN units u ON u.code = p.unit_code WHERE p.month = $1 GROUP BY u.path",
    )
    .bind(month)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("path")?,
                r.try_get::<i64, _>("n")? as u64,
                r.try_get::<i64, _>("granted")? as u64,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
