//! Child orders (下派工单) and sign-offs (签批): their rows, written inside the request's
//! transaction (`services::subwork`), and the sub-unit tallies. KPIs never read these tables.

use super::assignments::{opt_time, opt_word};
use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::subwork::{SignoffStatus, SubOrderStatus};
use jiesu_core::workflow::Outcome;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored child order.
#[derive(Debug, Clone)]
pub struct SubOrderRow {
    pub id: String,
    pub request_id: String,
    /// The center's order it belongs to (at the top of the chain).
    pub assignment_id: String,
    /// The child order it was passed down from (None: from the center's order itself).
    pub parent_id: Option<String>,
    pub jurisdiction: String,
    /// The unit that passed it down.
    pub from_unit_code: String,
    pub unit_code: String,
    pub unit_path: String,
    pub status: SubOrderStatus,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub reply_by: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
    pub reply_to_requester: Option<String>,
    pub reply_to_center: Option<String>,
    /// When it was approved, withdrawn or returned.
    pub closed_at: Option<DateTime<Utc>>,
    /// When the deadline sweep marked it past its reply limit (once).
    pub overdue_at: Option<DateTime<Utc>>,
    /// Why its unit returned it to the unit above (退回上级).
    pub return_reason: Option<String>,
}

const COLUMNS: &str = "id, request_id, assignment_id, parent_id, jurisdiction, from_unit_code, unit_code, unit_path, \
    status, note, created_by, created_at, acknowledge_by, reply_by, acknowledged_at, replied_at, outcome, \
    reply_to_requester, reply_to_center, closed_at, overdue_at, return_reason";

fn from_row(r: &AnyRow) -> Result<SubOrderRow, sqlx::Error> {
    Ok(SubOrderRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        assignment_id: r.try_get("assignment_id")?,
        parent_id: r.try_get("parent_id")?,
        jurisdiction: r.try_get("jurisdiction")?,
        from_unit_code: r.try_get("from_unit_code")?,
        unit_code: r.try_get("unit_code")?,
        unit_path: r.try_get("unit_path")?,
        status: word(r, "status", SubOrderStatus::parse)?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: from_millis(r.try_get("created_at")?),
        acknowledge_by: from_millis(r.try_get("acknowledge_by")?),
        reply_by: from_millis(r.try_get("reply_by")?),
        acknowledged_at: opt_time(r, "acknowledged_at")?,
        replied_at: opt_time(r, "replied_at")?,
        outcome: opt_word(r, "outcome", Outcome::parse)?,
        reply_to_requester: r.try_get("reply_to_requester")?,
        reply_to_center: r.try_get("reply_to_center")?,
        closed_at: opt_time(r, "closed_at")?,
        overdue_at: opt_time(r, "overdue_at")?,
        return_reason: r.try_get("return_reason")?,
    })
}

/// Inserts a child order.
pub async fn insert(tx: &mut Tx, s: &SubOrderRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO sub_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22)"
    ))
    .bind(&s.id).bind(&s.request_id).bind(&s.assignment_id).bind(&s.parent_id).bind(&s.jurisdiction)
    .bind(&s.from_unit_code).bind(&s.unit_code).bind(&s.unit_path).bind(s.status.as_str()).bind(&s.note)
    .bind(&s.created_by).bind(millis(s.created_at)).bind(millis(s.acknowledge_by)).bind(millis(s.reply_by))
    .bind(s.acknowledged_at.map(millis)).bind(s.replied_at.map(millis)).bind(s.outcome.map(Outcome::as_str))
    .bind(&s.reply_to_requester).bind(&s.reply_to_center).bind(s.closed_at.map(millis))
    .bind(s.overdue_at.map(millis)).bind(&s.return_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the mutable columns of a child order.
pub async fn save(tx: &mut Tx, s: &SubOrderRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sub_orders SET status = $2, acknowledged_at = $3, replied_at = $4, outcome = $5, \
         reply_to_requester = $6, reply_to_center = $7, closed_at = $8, reply_by = $9, \
         overdue_at = $10, return_reason = $11 WHERE id = $1",
    )
    .bind(&s.id)
    .bind(s.status.as_str())
    .bind(s.acknowledged_at.map(millis))
    .bind(s.replied_at.map(millis))
    .bind(s.outcome.map(Outcome::as_str))
    .bind(&s.reply_to_requester)
    .bind(&s.reply_to_center)
    .bind(s.closed_at.map(millis))
    .bind(millis(s.reply_by))
    .bind(s.overdue_at.map(millis))
    .bind(&s.return_reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Open child orders (passed down or acknowledged) past their reply limit and not yet marked,
/// soonest first: what the deadline sweep marks.
pub async fn due_unmarked(
    pool: &AnyPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<SubOrderRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sub_orders WHERE status IN ('dispatched', 'acknowledged') \
         AND reply_by < $1 AND overdue_at IS NULL ORDER BY reply_by, id LIMIT $2"
    ))
    .bind(millis(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Marks a child order overdue at `now` if it is still open, past its limit and unmarked
/// (re-checked in the statement, so two sweeps mark it once); whether this call marked it.
pub async fn mark_overdue(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE sub_orders SET overdue_at = $2 WHERE id = $1 AND overdue_at IS NULL \
         AND status IN ('dispatched', 'acknowledged') AND reply_by < $2",
    )
    .bind(id)
    .bind(millis(now))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// The child orders of a request, oldest first.
pub async fn of_request<'c, E>(conn: E, request_id: &str) -> Result<Vec<SubOrderRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sub_orders WHERE request_id = $1 ORDER BY created_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The request a child order belongs to.
pub async fn request_of(pool: &AnyPool, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM sub_orders WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The child orders of one unit in these statuses, soonest reply limit first.
pub async fn of_unit(
    pool: &AnyPool,
    unit_code: &str,
    statuses: &[SubOrderStatus],
    limit: i64,
) -> Result<Vec<SubOrderRow>, StoreError> {
    let list = statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM sub_orders WHERE unit_code = $1 AND status IN ({list}) \
         ORDER BY reply_by, id LIMIT $2"
    ))
    .bind(unit_code)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A stored sign-off.
#[derive(Debug, Clone)]
pub struct SignoffRow {
    pub id: String,
    pub request_id: String,
    pub assignment_id: String,
    /// The child order whose reply this is; None for a handler's reply on the center's order.
    pub sub_order_id: Option<String>,
    /// The unit that decides.
    pub unit_code: String,
    pub outcome: Outcome,
    pub to_requester: String,
    pub to_center: String,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
    pub status: SignoffStatus,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was sent back.
    pub reason: Option<String>,
}

const SIGNOFF_COLUMNS: &str =
    "id, request_id, assignment_id, sub_order_id, unit_code, outcome, to_requester, \
    to_center, submitted_by, submitted_at, status, decided_by, decided_at, reason";

fn signoff_from_row(r: &AnyRow) -> Result<SignoffRow, sqlx::Error> {
    Ok(SignoffRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        assignment_id: r.try_get("assignment_id")?,
        sub_order_id: r.try_get("sub_order_id")?,
        unit_code: r.try_get("unit_code")?,
        outcome: word(r, "outcome", Outcome::parse)?,
        to_requester: r.try_get("to_requester")?,
        to_center: r.try_get("to_center")?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_at: from_millis(r.try_get("submitted_at")?),
        status: word(r, "status", SignoffStatus::parse)?,
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        reason: r.try_get("reason")?,
    })
}

/// Inserts a sign-off.
pub async fn insert_signoff(tx: &mut Tx, s: &SignoffRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO signoffs ({SIGNOFF_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&s.id).bind(&s.request_id).bind(&s.assignment_id).bind(&s.sub_order_id).bind(&s.unit_code)
    .bind(s.outcome.as_str()).bind(&s.to_requester).bind(&s.to_center).bind(&s.submitted_by)
    .bind(millis(s.submitted_at)).bind(s.status.as_str()).bind(&s.decided_by).bind(s.decided_at.map(millis))
    .bind(&s.reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the decision on a sign-off.
pub async fn save_signoff(tx: &mut Tx, s: &SignoffRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE signoffs SET status = $2, decided_by = $3, decided_at = $4, reason = $5 WHERE id = $1",
    )
    .bind(&s.id)
    .bind(s.status.as_str())
    .bind(&s.decided_by)
    .bind(s.decided_at.map(millis))
    .bind(&s.reason)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The sign-offs of a request, oldest first.
pub async fn signoffs_of<'c, E>(conn: E, request_id: &str) -> Result<Vec<SignoffRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {SIGNOFF_COLUMNS} FROM signoffs WHERE request_id = $1 ORDER BY submitted_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(signoff_from_row)
        .collect::<Result<_, _>>()?)
}

/// The request a sign-off belongs to.
pub async fn request_of_signoff(pool: &AnyPool, id: &str) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM signoffs WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?,
    )
}

/// The pending sign-offs a unit decides, oldest first.
pub async fn pending_for_unit(
    pool: &AnyPool,
    unit_code: &str,
    limit: i64,
) -> Result<Vec<SignoffRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {SIGNOFF_COLUMNS} FROM signoffs WHERE unit_code = $1 AND status = 'pending' \
         ORDER BY submitted_at, id LIMIT $2"
    ))
    .bind(unit_code)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(signoff_from_row)
        .collect::<Result<_, _>>()?)
}

/// Whether a unit's handlers' replies wait for its manager (签批).
pub async fn signoff_required<'c, E>(conn: E, unit_code: &str) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let v: Option<i64> = sqlx::query_scalar("SELECT signoff_required FROM units WHERE code = $1")
        .bind(unit_code)
        .fetch_optional(conn)
        .await?;
    Ok(v == Some(1))
}

/// The codes of the units whose handlers' replies wait for their manager (签批), by code.
pub async fn signoff_units<'c, E>(conn: E) -> Result<Vec<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT code FROM units WHERE signoff_required = 1 ORDER BY code")
            .fetch_all(conn)
            .await?,
    )
}

/// Sets whether a unit's handlers' replies wait for its manager; false when no such unit.
pub async fn set_signoff_required(
    tx: &mut Tx,
    unit_code: &str,
    required: bool,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE units SET signoff_required = $2 WHERE code = $1")
        .bind(unit_code)
        .bind(required as i64)
        .execute(tx.conn())
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// One sub-unit's tally (下属单位办理情况).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Tally {
    /// The sub-unit.
    pub unit_code: String,
    /// Child orders it received.
    pub received: i64,
    /// Approved whose last reply came within its limit.
    pub on_time: i64,
    /// Replies of it sent back.
    pub sent_back: i64,
    /// Child orders approved.
    pub approved: i64,
    /// Child orders the sweep marked past their reply limit (超期).
    pub late: i64,
    /// Child orders it returned to the unit above (退回上级).
    pub returned: i64,
}

/// The tallies of the units under `path` (not the unit at `path` itself) for child orders
/// created in `[from, to)`, most received first.
pub async fn tallies(
    pool: &AnyPool,
    path: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Tally>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.unit_code, COUNT(*) AS received, \
         CAST(SUM(CASE WHEN s.status = 'approved' AND s.replied_at <= s.reply_by THEN 1 ELSE 0 END) AS BIGINT) AS on_time, \
         CAST(SUM(CASE WHEN s.status = 'approved' THEN 1 ELSE 0 END) AS BIGINT) AS approved, \
         CAST(SUM(COALESCE(g.n, 0)) AS BIGINT) AS sent_back, \
         CAST(SUM(CASE WHEN s.overdue_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS late, \
         CAST(SUM(CASE WHEN s.status = 'returned' THEN 1 ELSE 0 END) AS BIGINT) AS returned \
         FROM sub_orders s LEFT JOIN (SELECT sub_order_id, COUNT(*) AS n FROM signoffs \
         WHERE status = 'sent_back' GROUP BY sub_order_id) g ON g.sub_order_id = s.id WHERE s.unit_path LIKE $1 AND s.unit_path <> $2 AND s.created_at >= $3 AND s.created_at < $4 \
         GROUP BY s.unit_code ORDER BY received DESC, s.unit_code",
    )
    .bind(format!("{path}%"))
    .bind(path)
    .bind(millis(from))
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Tally {
                unit_code: r.try_get("unit_code")?,
                received: r.try_get("received")?,
                on_time: r.try_get("on_time")?,
                sent_back: r.try_get("sent_back")?,
                approved: r.try_get("approved")?,
                late: r.try_get("late")?,
                returned: r.try_get("returned")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The active units under the unit at `path` (not itself), as (code, name), by path.
pub async fn units_under(
    pool: &AnyPool,
    path: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name FROM units WHERE active = 1 AND path LIKE $1 AND path <> $2 \
         ORDER BY path LIMIT $3",
    )
    .bind(format!("{path}%"))
    .bind(path)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
