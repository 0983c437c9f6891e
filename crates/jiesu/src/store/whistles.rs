//! 吹哨报到: the summoned units of a street's whistle task, their report deadlines, reports
//! (报到) and the sweep's late marks. Written inside the task's request transaction
//! (`services::whistles`).

use super::assignments::opt_time;
use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// One summoned unit of a whistle task.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub assignment_id: String,
    pub task_id: String,
    pub whistle_unit: String,
    pub unit_code: String,
    pub report_hours: i64,
    pub report_by: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub reported_by: Option<String>,
    pub person_in_charge: Option<String>,
    pub person_contact: Option<String>,
    pub late_marked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "w.assignment_id, w.task_id, w.whistle_unit, w.unit_code, w.report_hours, \
    w.report_by, w.reported_at, w.reported_by, w.person_in_charge, w.person_contact, w.late_marked_at, w.created_at";

fn from_row(r: &AnyRow) -> Result<ReportRow, sqlx::Error> {
    Ok(ReportRow {
        assignment_id: r.try_get("assignment_id")?,
        task_id: r.try_get("task_id")?,
        whistle_unit: r.try_get("whistle_unit")?,
        unit_code: r.try_get("unit_code")?,
        report_hours: r.try_get("report_hours")?,
        report_by: from_millis(r.try_get("report_by")?),
        reported_at: opt_time(r, "reported_at")?,
        reported_by: r.try_get("reported_by")?,
        person_in_charge: r.try_get("person_in_charge")?,
        person_contact: r.try_get("person_contact")?,
        late_marked_at: opt_time(r, "late_marked_at")?,
        created_at: from_millis(r.try_get("created_at")?),
    })
}

/// Records a summoned unit.
pub async fn insert(tx: &mut Tx, w: &ReportRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO whistle_reports (assignment_id, task_id, whistle_unit, unit_code, report_hours, report_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&w.assignment_id)
    .bind(&w.task_id)
    .bind(&w.whistle_unit)
    .bind(&w.unit_code)
    .bind(w.report_hours)
    .bind(millis(w.report_by))
    .bind(millis(w.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The summoned units of one task, in the order they were summoned.
pub async fn of_task<'c, E>(conn: E, task_id: &str) -> Result<Vec<ReportRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whistle_reports w WHERE w.task_id = $1 ORDER BY w.assignment_id"
    ))
    .bind(task_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// One summoned unit's row, by its order.
pub async fn of_order<'c, E>(conn: E, assignment_id: &str) -> Result<Option<ReportRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whistle_reports w WHERE w.assignment_id = $1"
    ))
    .bind(assignment_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Records a report (报到); false when the unit had reported already.
pub async fn report(
    tx: &mut Tx,
    assignment_id: &str,
    by: &str,
    person: &str,
    contact: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE whistle_reports SET reported_at = $1, reported_by = $2, person_in_charge = $3, person_contact = $4 \
         WHERE assignment_id = $5 AND reported_at IS NULL",
    )
    .bind(millis(at))
    .bind(by)
    .bind(person)
    .bind(contact)
    .bind(assignment_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Summoned units past their report deadline, not reported and not yet marked.
pub async fn due_unmarked(
    pool: &AnyPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReportRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whistle_reports w \
         WHERE w.report_by < $1 AND w.reported_at IS NULL AND w.late_marked_at IS NULL \
         ORDER BY w.report_by, w.assignment_id LIMIT $2"
    ))
    .bind(millis(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Marks one summoned unit late; false when it reported or was marked meanwhile.
pub async fn mark_late(
    tx: &mut Tx,
    assignment_id: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE whistle_reports SET late_marked_at = $1 \
         WHERE assignment_id = $2 AND reported_at IS NULL AND late_marked_at IS NULL",
    )
    .bind(millis(at))
    .bind(assignment_id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Summoned units of whistles blown in `[from, to)`, of whistling streets or summoned units
/// under `unit_path` (all when None).
pub async fn between(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    unit_path: Option<&str>,
) -> Result<Vec<ReportRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM whistle_reports w \
         JOIN units s ON s.code = w.whistle_unit JOIN units u ON u.code = w.unit_code \
         WHERE w.created_at >= $1 AND w.created_at < $2 \
         AND ($3 = '' OR s.path LIKE $3 || '%' OR u.path LIKE $3 || '%') \
         ORDER BY w.created_at, w.assignment_id LIMIT 20000"
    ))
    .bind(millis(from))
    .bind(millis(to))
    .bind(unit_path.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}
