//! The caller's history (issue 23): a number's earlier requests with their lead unit and
//! reminder count, follow-up calls recorded as reminders (催办), abusive-caller marks
//! (恶意来电), and the repeat-caller counts of the statistics. Numbers are compared as
//! `requests.requester_phone` stores them (normalised by `PhoneNumber`).

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// One earlier request of a caller.
#[derive(Debug, Clone)]
pub struct CallerRequest {
    pub id: String,
    pub number: String,
    pub status: String,
    pub kind: String,
    pub channel: String,
    pub category_code: Option<String>,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    /// The lead unit of the latest round, if dispatched.
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    /// Reminders (催办) recorded on it.
    pub reminders: i64,
}

/// The caller's requests, newest first, at most `limit`. Redacted requests no longer carry
/// the number and are not found.
pub async fn requests_of(
    pool: &AnyPool,
    phone: &str,
    limit: i64,
) -> Result<Vec<CallerRequest>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.status, r.kind, r.channel, r.category_code, r.title, r.body, r.created_at, \
         (SELECT a.unit_code FROM assignments a WHERE a.request_id = r.id AND a.role = 'lead' \
            ORDER BY a.round DESC, a.dispatched_at DESC LIMIT 1) AS unit_code, \
         (SELECT u.name FROM assignments a JOIN units u ON u.code = a.unit_code WHERE a.request_id = r.id \
            AND a.role = 'lead' ORDER BY a.round DESC, a.dispatched_at DESC LIMIT 1) AS unit_name, \
         (SELECT COUNT(*) FROM request_reminders m WHERE m.request_id = r.id) AS reminders \
         FROM requests r WHERE r.requester_phone = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2",
    )
    .bind(phone)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(CallerRequest {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            status: r.try_get("status")?,
            kind: r.try_get("kind")?,
            channel: r.try_get("channel")?,
            category_code: r.try_get("category_code")?,
            title: r.try_get("title")?,
            body: r.try_get("body")?,
            created_at: from_millis(r.try_get("created_at")?),
            unit_code: r.try_get("unit_code")?,
            unit_name: r.try_get("unit_name")?,
            reminders: r.try_get("reminders")?,
        });
    }
    Ok(out)
}

/// A reminder to store.
#[derive(Debug, Clone)]
pub struct NewReminder {
    pub id: String,
    pub request_id: String,
    pub channel: String,
    pub note: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Stores a reminder and answers how many the request now has.
pub async fn add_reminder(tx: &mut Tx, r: &NewReminder) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO request_reminders (id, request_id, channel, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&r.id)
    .bind(&r.request_id)
    .bind(&r.channel)
    .bind(&r.note)
    .bind(&r.created_by)
    .bind(millis(r.created_at))
    .execute(tx.conn())
    .await?;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM request_reminders WHERE request_id = $1")
        .bind(&r.request_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
    Ok(n)
}

/// The counts of the statistics over `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct CallerCounts {
    /// Requests recorded.
    pub intakes: i64,
    /// Numbers with two requests or more.
    pub repeat_callers: i64,
    /// Requests from those numbers.
    pub repeat_requests: i64,
    /// Follow-up calls recorded as reminders.
    pub reminders: i64,
}

/// Counts intake, repeat callers and reminders over `[from, to)`.
pub async fn counts(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<CallerCounts, StoreError> {
    let (f, t) = (millis(from), millis(to));
    let intakes: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM requests WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(f)
    .bind(t)
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    let repeat = sqlx::query(
        "SELECT COUNT(*) AS callers, CAST(COALESCE(SUM(n), 0) AS BIGINT) AS requests FROM (SELECT requester_phone, COUNT(*) AS n \
         FROM requests WHERE created_at >= $1 AND created_at < $2 AND requester_phone <> '' \
         AND redacted_at IS NULL GROUP BY requester_phone HAVING COUNT(*) >= 2) t",
    )
    .bind(f)
    .bind(t)
    .fetch_one(pool)
    .await?;
    let reminders: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM request_reminders WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(f)
    .bind(t)
    .fetch_one(pool)
    .await?
    .try_get("n")?;
    Ok(CallerCounts {
        intakes,
        repeat_callers: repeat.try_get("callers")?,
        repeat_requests: repeat.try_get("requests")?,
        reminders,
    })
}

/// An abusive-caller mark (恶意来电).
#[derive(Debug, Clone)]
pub struct CallerMark {
    pub id: String,
    /// As stored: never answered unmasked.
    pub phone: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub revoked_by: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const MARK_COLUMNS: &str =
    "id, phone, reason, expires_at, created_by, created_at, revoked_by, revoked_at";

fn mark_from(r: &sqlx::any::AnyRow) -> Result<CallerMark, sqlx::Error> {
    Ok(CallerMark {
        id: r.try_get("id")?,
        phone: r.try_get("phone")?,
        reason: r.try_get("reason")?,
        expires_at: from_millis(r.try_get("expires_at")?),
        created_by: r.try_get("created_by")?,
        created_at: from_millis(r.try_get("created_at")?),
        revoked_by: r.try_get("revoked_by")?,
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
    })
}

/// Stores a mark.
pub async fn add_mark(tx: &mut Tx, m: &CallerMark) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO caller_marks (id, phone, reason, expires_at, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&m.id)
    .bind(&m.phone)
    .bind(&m.reason)
    .bind(millis(m.expires_at))
    .bind(&m.created_by)
    .bind(millis(m.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The marks in force at `now`, of one number or (None) of all, newest first.
pub async fn marks_in_force(
    pool: &AnyPool,
    phone: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<CallerMark>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {MARK_COLUMNS} FROM caller_marks WHERE revoked_at IS NULL AND expires_at > $1 \
         AND ($2 = '' OR phone = $2) ORDER BY created_at DESC, id DESC LIMIT 500"
    ))
    .bind(millis(now))
    .bind(phone.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(mark_from).collect::<Result<_, _>>()?)
}

/// Lifts a mark still in force; the lifted mark, or None when there is no such mark in force.
pub async fn revoke_mark(
    tx: &mut Tx,
    id: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<CallerMark>, StoreError> {
    let done = sqlx::query(
        "UPDATE caller_marks SET revoked_by = $2, revoked_at = $3 \
         WHERE id = $1 AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(id)
    .bind(by)
    .bind(millis(now))
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(None);
    }
    let row = sqlx::query(&format!(
        "SELECT {MARK_COLUMNS} FROM caller_marks WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.as_ref().map(mark_from).transpose()?)
}

/// Every mark ever set on a number (lifted and expired ones too), oldest first: for the
/// export of what is held about a number.
pub async fn marks_of<'c, E>(conn: E, phone: &str) -> Result<Vec<CallerMark>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {MARK_COLUMNS} FROM caller_marks WHERE phone = $1 ORDER BY created_at, id"
    ))
    .bind(phone)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(mark_from).collect::<Result<_, _>>()?)
}

/// A request's reminders as (time, channel, note), oldest first.
pub async fn reminders_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<(DateTime<Utc>, String, String)>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT created_at, channel, note FROM request_reminders WHERE request_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                from_millis(r.try_get("created_at")?),
                r.try_get("channel")?,
                r.try_get("note")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Marks no longer in force at `now` (expired or lifted) that still hold their number,
/// oldest first, at most `limit`: for the retention job.
pub async fn lapsed_marks(
    pool: &AnyPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<CallerMark>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {MARK_COLUMNS} FROM caller_marks WHERE phone <> $1 \
         AND (revoked_at IS NOT NULL OR expires_at <= $2) ORDER BY created_at, id LIMIT $3"
    ))
    .bind(super::privacy::REDACTED)
    .bind(millis(now))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(mark_from).collect::<Result<_, _>>()?)
}

/// Removes the number of a mark no longer in force at `now`; false when it is in force,
/// gone, or already without its number.
pub async fn redact_mark(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE caller_marks SET phone = $2 WHERE id = $1 AND phone <> $2 \
         AND (revoked_at IS NOT NULL OR expires_at <= $3)",
    )
    .bind(id)
    .bind(super::privacy::REDACTED)
    .bind(millis(now))
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(done > 0)
}
