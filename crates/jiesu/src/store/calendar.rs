//! The working-day calendar's rows (`calendar_days`): the shipped official days
//! (reference/holidays.csv, loaded at start) and the days administrators add. A shipped load
//! never touches a row an administrator set. Reading it as a [`Calendar`] is
//! `reference::calendar`.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_core::time_limit::CalendarDayKind;
use serde::Serialize;
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};

/// One listed day.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarDay {
    /// The local date.
    pub date: NaiveDate,
    /// Day off or worked weekend day.
    pub kind: CalendarDayKind,
    /// The festival (春节, 国庆节, …), or empty.
    pub name: String,
    /// `shipped` (the official calendar the product ships) or `admin`.
    pub source: String,
    /// Who set it last (`system` for the shipped file).
    pub updated_by: String,
    /// When it was set last.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "day, kind, name, source, updated_by, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<CalendarDay, StoreError> {
    let day: String = r.try_get("day")?;
    let kind: String = r.try_get("kind")?;
    Ok(CalendarDay {
        date: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("calendar day {day}")))?,
        kind: CalendarDayKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("calendar kind {kind}")))?,
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// Loads the shipped calendar's rows (`date,kind,name`): new days are added, changed shipped
/// days follow the file, shipped days the file no longer lists are removed; days an
/// administrator set are left as they are. Returns the number of rows in the file.
pub async fn load_shipped(
    tx: &mut Tx,
    rows: &[HashMap<String, String>],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let mut days = BTreeSet::new();
    let mut values = Vec::with_capacity(rows.len());
    for r in rows {
        let date = NaiveDate::parse_from_str(&r["date"], "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("holidays: bad date {}", r["date"]))?;
        let kind = CalendarDayKind::parse(&r["kind"])
            .filter(|k| k.fits(date))
            .ok_or_else(|| anyhow::anyhow!("holidays {date}: bad kind {}", r["kind"]))?;
        anyhow::ensure!(days.insert(date), "holidays: {date} listed twice");
        values.push((date.to_string(), kind.as_str(), r["name"].clone()));
    }
    for chunk in values.chunks(300) {
        let mut sql = format!("INSERT INTO calendar_days ({COLUMNS}) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = i * 4;
            sql.push_str(&format!(
                "(${}, ${}, ${}, 'shipped', 'system', ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4
            ));
        }
        sql.push_str(
            " ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
             updated_at = excluded.updated_at WHERE calendar_days.source = 'shipped'",
        );
        let mut q = sqlx::query(&sql);
        for (day, kind, name) in chunk {
            q = q
                .bind(day.clone())
                .bind(*kind)
                .bind(name.clone())
                .bind(millis(now));
        }
        q.execute(tx.conn()).await?;
    }
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT day FROM calendar_days WHERE source = 'shipped'")
            .fetch_all(tx.conn())
            .await?;
    let listed: BTreeSet<String> = days.iter().map(|d| d.to_string()).collect();
    for day in stored.iter().filter(|d| !listed.contains(*d)) {
        sqlx::query("DELETE FROM calendar_days WHERE day = $1 AND source = 'shipped'")
            .bind(day)
            .execute(tx.conn())
            .await?;
    }
    Ok(values.len())
}

/// The listed days from `from` to `to` (inclusive), by date.
pub async fn list<'c, E>(
    conn: E,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CalendarDay>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM calendar_days WHERE day >= $1 AND day <= $2 ORDER BY day"
    ))
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// One listed day.
pub async fn get<'c, E>(conn: E, date: NaiveDate) -> Result<Option<CalendarDay>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM calendar_days WHERE day = $1"
    ))
    .bind(date.to_string())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sets a day as an administrator's row (the shipped file will not change it again).
pub async fn set(tx: &mut Tx, day: &CalendarDay) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO calendar_days ({COLUMNS}) VALUES ($1, $2, $3, 'admin', $4, $5) \
         ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
         source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at"
    ))
    .bind(day.date.to_string())
    .bind(day.kind.as_str())
    .bind(day.name.clone())
    .bind(day.updated_by.clone())
    .bind(millis(day.updated_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Removes a listed day (it becomes an ordinary weekday or weekend day). Whether it was there.
pub async fn remove(tx: &mut Tx, date: NaiveDate) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM calendar_days WHERE day = $1")
        .bind(date.to_string())
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() > 0)
}
