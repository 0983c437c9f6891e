//! Orders (工单 to one unit): their rows, and the queries over their deadlines that the sweep
//! and the supervision lists read. A request's orders are written inside the request's
//! transaction (`services::handling`).

use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus, Outcome};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored order.
#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub id: String,
    pub request_id: String,
    pub jurisdiction: String,
    pub unit_code: String,
    pub unit_path: String,
    pub role: AssignmentRole,
    pub round: i64,
    pub status: AssignmentStatus,
    pub time_limit_class: String,
    pub dispatched_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub reply_by: DateTime<Utc>,
    pub reply_warn_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub outcome: Option<Outcome>,
    pub reply_to_requester: Option<String>,
    pub reply_to_center: Option<String>,
    pub ack_overdue_at: Option<DateTime<Utc>>,
    pub reply_warned_at: Option<DateTime<Utc>>,
    pub reply_overdue_at: Option<DateTime<Utc>>,
    pub dispatched_by: String,
}

impl From<&AssignmentRow> for jiesu_core::workflow::Assignment {
    fn from(a: &AssignmentRow) -> Self {
        jiesu_core::workflow::Assignment {
            unit_code: a.unit_code.clone(),
            unit_path: a.unit_path.clone(),
            role: a.role,
            round: a.round,
            status: a.status,
            acknowledge_by: a.acknowledge_by,
            reply_by: a.reply_by,
        }
    }
}

pub(crate) const ASSIGNMENT_COLUMNS: &str = "id, request_id, jurisdiction, unit_code, unit_path, role, round, status, time_limit_class, \
    dispatched_at, acknowledge_by, reply_by, reply_warn_at, acknowledged_at, replied_at, returned_at, return_reason, outcome, \
    reply_to_requester, reply_to_center, ack_overdue_at, reply_warned_at, reply_overdue_at, dispatched_by";

/// An optional stored vocabulary word, decoded.
pub(super) fn opt_word<T>(
    r: &AnyRow,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, sqlx::Error> {
    match r.try_get::<Option<String>, _>(col)? {
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| super::unknown_word(col, &s)),
        None => Ok(None),
    }
}

pub(super) fn opt_time(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(from_millis))
}

pub(crate) fn assignment_from_row(r: &AnyRow) -> Result<AssignmentRow, sqlx::Error> {
    Ok(AssignmentRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        jurisdiction: r.try_get("jurisdiction")?,
        unit_code: r.try_get("unit_code")?,
        unit_path: r.try_get("unit_path")?,
        role: word(r, "role", AssignmentRole::parse)?,
        round: r.try_get("round")?,
        status: word(r, "status", AssignmentStatus::parse)?,
        time_limit_class: r.try_get("time_limit_class")?,
        dispatched_at: from_millis(r.try_get("dispatched_at")?),
        acknowledge_by: from_millis(r.try_get("acknowledge_by")?),
        reply_by: from_millis(r.try_get("reply_by")?),
        reply_warn_at: from_millis(r.try_get("reply_warn_at")?),
        acknowledged_at: opt_time(r, "acknowledged_at")?,
        replied_at: opt_time(r, "replied_at")?,
        returned_at: opt_time(r, "returned_at")?,
        return_reason: r.try_get("return_reason")?,
        outcome: opt_word(r, "outcome", Outcome::parse)?,
        reply_to_requester: r.try_get("reply_to_requester")?,
        reply_to_center: r.try_get("reply_to_center")?,
        ack_overdue_at: opt_time(r, "ack_overdue_at")?,
        reply_warned_at: opt_time(r, "reply_warned_at")?,
        reply_overdue_at: opt_time(r, "reply_overdue_at")?,
        dispatched_by: r.try_get("dispatched_by")?,
    })
}

/// Inserts an order.
pub async fn insert_assignment(tx: &mut Tx, a: &AssignmentRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
    ))
    .bind(&a.id).bind(&a.request_id).bind(&a.jurisdiction).bind(&a.unit_code).bind(&a.unit_path).bind(a.role.as_str())
    .bind(a.round).bind(a.status.as_str()).bind(&a.time_limit_class).bind(millis(a.dispatched_at)).bind(millis(a.acknowledge_by))
    .bind(millis(a.reply_by)).bind(millis(a.reply_warn_at)).bind(a.acknowledged_at.map(millis)).bind(a.replied_at.map(millis))
    .bind(a.returned_at.map(millis)).bind(&a.return_reason).bind(a.outcome.map(Outcome::as_str)).bind(&a.reply_to_requester)
    .bind(&a.reply_to_center).bind(a.ack_overdue_at.map(millis)).bind(a.reply_warned_at.map(millis))
    .bind(a.reply_overdue_at.map(millis)).bind(&a.dispatched_by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the mutable columns of an order.
pub async fn save_assignment(tx: &mut Tx, a: &AssignmentRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE assignments SET status = $2, reply_by = $3, acknowledged_at = $4, replied_at = $5, returned_at = $6, \
         return_reason = $7, outcome = $8, reply_to_requester = $9, reply_to_center = $10, ack_overdue_at = $11, \
         reply_warned_at = $12, reply_overdue_at = $13, reply_warn_at = $14 WHERE id = $1",
    )
    .bind(&a.id).bind(a.status.as_str()).bind(millis(a.reply_by)).bind(a.acknowledged_at.map(millis))
    .bind(a.replied_at.map(millis)).bind(a.returned_at.map(millis)).bind(&a.return_reason).bind(a.outcome.map(Outcome::as_str))
    .bind(&a.reply_to_requester).bind(&a.reply_to_center).bind(a.ack_overdue_at.map(millis))
    .bind(a.reply_warned_at.map(millis)).bind(a.reply_overdue_at.map(millis)).bind(millis(a.reply_warn_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The orders of a request, oldest first.
pub async fn assignments_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<AssignmentRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE request_id = $1 ORDER BY round, dispatched_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// The orders of several requests, in each request's order (as [`assignments_of`]).
pub async fn assignments_of_many<'c, E>(
    conn: E,
    request_ids: &[String],
) -> Result<Vec<AssignmentRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE request_id IN ({}) \
         ORDER BY request_id, round, dispatched_at, id",
        super::placeholders(request_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in request_ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(conn).await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// The request id an order belongs to.
pub async fn request_of_assignment(
    pool: &AnyPool,
    assignment_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM assignments WHERE id = $1")
            .bind(assignment_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Orders in one of `statuses` whose `column` deadline is before `before` and whose `flag`
/// column is still empty: the work of the deadline sweep.
pub async fn due_orders(
    pool: &AnyPool,
    statuses: &[AssignmentStatus],
    column: &str,
    before: DateTime<Utc>,
    flag: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let list: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE status IN ({}) AND {column} < $1 AND {flag} IS NULL \
         ORDER BY {column} LIMIT $2",
        list.join(", ")
    );
    let rows = sqlx::query(&sql)
        .bind(millis(before))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Open orders past a deadline (for supervision), unit-scoped by path prefix.
pub async fn overdue(
    pool: &AnyPool,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    scoped_orders(
        pool,
        "((status = 'dispatched' AND acknowledge_by < $1) OR (status IN ('dispatched', 'acknowledged') AND reply_by < $1))",
        now,
        unit_path,
        limit,
    )
    .await
}

/// Open orders whose pre-breach warning time has passed but whose reply deadline has not
/// (about to breach), soonest deadline first, unit-scoped by path prefix.
pub async fn about_to_breach(
    pool: &AnyPool,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    scoped_orders(
        pool,
        "status IN ('dispatched', 'acknowledged') AND reply_warn_at <= $1 AND reply_by >= $1",
        now,
        unit_path,
        limit,
    )
    .await
}

/// Orders matching `condition` (on `$1` = now) under a unit path, soonest deadline first.
async fn scoped_orders(
    pool: &AnyPool,
    condition: &str,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE {condition} \
         AND unit_path LIKE $2 || '%' ORDER BY reply_by LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(millis(now))
        .bind(unit_path)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Requests waiting for re-dispatch after their lead unit returned them (退单待处理), oldest
/// return first.
pub async fn returned_waiting(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.status = 'returned' AND a.role = 'lead' \
         AND EXISTS (SELECT 1 FROM requests r WHERE r.id = a.request_id AND r.status = 'received' AND r.round = a.round) \
         ORDER BY a.returned_at LIMIT $1"
    );
    let rows = sqlx::query(&sql).bind(limit).fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}
