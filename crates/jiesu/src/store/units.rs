//! Units as managed data: the `units` rows with their contacts and who set them, and their
//! effective-dated history (`unit_versions`) from which the units as they were at an instant
//! are read back (an old month ranks its units as they were), and the changes dated ahead
//! (`unit_schedule`) until the sweep applies them. Rules are in `services::units`; the
//! shipped load is `reference::load_shipped`; `jiesu init --city` writes its versions in bulk
//! ([`record_versions_bulk`]).

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// A unit with everything an administrator keeps about it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitRecord {
    /// Code (kept for life: a renamed unit keeps its code, KPIs and history).
    pub code: String,
    /// Official name.
    pub name: String,
    /// Spoken short name.
    pub short_name: String,
    /// `district`, `subdistrict`, `township`, `zone`, `community`, `village`, `department`,
    /// `company`, `property` or `center`.
    pub level: String,
    /// Parent unit.
    pub parent_code: Option<String>,
    /// Path in the unit tree (`/110105/110105001/`).
    pub path: String,
    /// Whether it takes orders (closed and merged units do not).
    pub active: bool,
    /// The unit it was merged into.
    pub merged_into: Option<String>,
    /// 值班电话.
    pub duty_phone: String,
    /// 联络人.
    pub liaison_name: String,
    /// The liaison's phone.
    pub liaison_phone: String,
    /// `shipped` (follows reference/units.csv) or `admin` (never overwritten by it).
    pub source: String,
    /// Who set it last.
    pub updated_by: String,
    /// When it was set last.
    pub updated_at: DateTime<Utc>,
}

/// One version of a unit: its state from `effective_from` on.
#[derive(Debug, Clone, Serialize)]
pub struct UnitVersion {
    /// In force from.
    pub effective_from: DateTime<Utc>,
    /// `baseline`, `added`, `changed`, `moved`, `merged`, `closed`, `reopened`.
    pub change: String,
    /// Who made it.
    pub changed_by: String,
    /// The unit's state (source, updated_* as of the version).
    pub unit: UnitRecord,
}

const COLUMNS: &str = "code, name, short_name, level, parent_code, path, active, merged_into, \
    duty_phone, liaison_name, liaison_phone, source, updated_by, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<UnitRecord, StoreError> {
    Ok(UnitRecord {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        short_name: r.try_get("short_name")?,
        level: r.try_get("level")?,
        parent_code: r.try_get("parent_code")?,
        path: r.try_get("path")?,
        active: r.try_get::<i64, _>("active")? != 0,
        merged_into: r.try_get("merged_into")?,
        duty_phone: r.try_get("duty_phone")?,
        liaison_name: r.try_get("liaison_name")?,
        liaison_phone: r.try_get("liaison_phone")?,
        source: r.try_get("source")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// One unit, active or not.
pub async fn get<'c, E>(conn: E, code: &str) -> Result<Option<UnitRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM units WHERE code = $1"))
        .bind(code)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// What a unit list is filtered by (empty: any).
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    /// A piece of the code, name or short name.
    pub q: String,
    /// Level.
    pub level: String,
    /// Parent code.
    pub parent: String,
    /// `active`, `closed` (closed or merged) or empty for both.
    pub state: String,
}

/// Units matching `f`, by code, at most `limit`.
pub async fn list<'c, E>(conn: E, f: &UnitFilter, limit: i64) -> Result<Vec<UnitRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM units WHERE ($1 = '' OR level = $1) AND ($2 = '' OR parent_code = $2) \
         AND ($3 = '' OR code LIKE $3 OR name LIKE $3 OR short_name LIKE $3) \
         AND ($4 = '' OR ($4 = 'active' AND active = 1) OR ($4 = 'closed' AND active = 0)) \
         ORDER BY code LIMIT $5"
    ))
    .bind(&f.level)
    .bind(&f.parent)
    .bind(if f.q.is_empty() {
        String::new()
    } else {
        format!("%{}%", f.q.replace(['%', '_'], ""))
    })
    .bind(&f.state)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Every unit, active or not, by code.
pub async fn all<'c, E>(conn: E) -> Result<Vec<UnitRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM units ORDER BY code"))
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Writes a unit as an administrator's row (inserted or replaced whole).
pub async fn save(tx: &mut Tx, u: &UnitRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO units (code, name, short_name, level, parent_code, path, active, merged_into, \
         duty_phone, liaison_name, liaison_phone, source, updated_by, updated_at, aliases) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'admin', $12, $13, '') \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, short_name = excluded.short_name, \
         level = excluded.level, parent_code = excluded.parent_code, path = excluded.path, \
         active = excluded.active, merged_into = excluded.merged_into, duty_phone = excluded.duty_phone, \
         liaison_name = excluded.liaison_name, liaison_phone = excluded.liaison_phone, \
         source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(&u.code)
    .bind(&u.name)
    .bind(&u.short_name)
    .bind(&u.level)
    .bind(&u.parent_code)
    .bind(&u.path)
    .bind(i64::from(u.active))
    .bind(&u.merged_into)
    .bind(&u.duty_phone)
    .bind(&u.liaison_name)
    .bind(&u.liaison_phone)
    .bind(&u.updated_by)
    .bind(millis(u.updated_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether a unit has any recorded version.
async fn has_versions(tx: &mut Tx, code: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unit_versions WHERE code = $1")
        .bind(code)
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}

async fn insert_version(
    tx: &mut Tx,
    u: &UnitRecord,
    change: &str,
    at: DateTime<Utc>,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO unit_versions (id, code, effective_from, change, name, short_name, level, \
         parent_code, path, active, merged_into, duty_phone, liaison_name, liaison_phone, changed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&u.code)
    .bind(millis(at))
    .bind(change)
    .bind(&u.name)
    .bind(&u.short_name)
    .bind(&u.level)
    .bind(&u.parent_code)
    .bind(&u.path)
    .bind(i64::from(u.active))
    .bind(&u.merged_into)
    .bind(&u.duty_phone)
    .bind(&u.liaison_name)
    .bind(&u.liaison_phone)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records a unit's change: `before` (None for a new unit) becomes `after` from `at` on. A
/// unit changed for the first time gets its old state as a baseline in force since always.
pub async fn record_version(
    tx: &mut Tx,
    before: Option<&UnitRecord>,
    after: &UnitRecord,
    change: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Some(b) = before {
        if !has_versions(tx, &b.code).await? {
            insert_version(tx, b, "baseline", DateTime::<Utc>::UNIX_EPOCH, "system").await?;
        }
    }
    insert_version(tx, after, change, at, &after.updated_by).await
}

/// A unit's versions, oldest first.
pub async fn versions<'c, E>(conn: E, code: &str) -> Result<Vec<UnitVersion>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT code, name, short_name, level, parent_code, path, active, merged_into, duty_phone, \
         liaison_name, liaison_phone, 'admin' AS source, changed_by AS updated_by, \
         effective_from AS updated_at, effective_from, change, changed_by \
         FROM unit_versions WHERE code = $1 ORDER BY effective_from, id",
    )
    .bind(code)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UnitVersion {
                effective_from: from_millis(r.try_get("effective_from")?),
                change: r.try_get("change")?,
                changed_by: r.try_get("changed_by")?,
                unit: from_row(r)?,
            })
        })
        .collect()
}

/// The units that were active at `at`, as they were then (name, level, path), by code.
pub async fn active_at<'c, E>(conn: E, at: DateTime<Utc>) -> Result<Vec<UnitRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any> + Copy,
{
    let now = all(conn).await?;
    let rows = sqlx::query(
        "SELECT code, name, short_name, level, parent_code, path, active, merged_into, duty_phone, \
         liaison_name, liaison_phone, 'admin' AS source, changed_by AS updated_by, \
         effective_from AS updated_at FROM unit_versions WHERE effective_from <= $1 \
         ORDER BY effective_from, id",
    )
    .bind(millis(at))
    .fetch_all(conn)
    .await?;
    let mut then: HashMap<String, UnitRecord> = HashMap::new();
    for r in &rows {
        let u = from_row(r)?;
        then.insert(u.code.clone(), u);
    }
    let versioned: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT DISTINCT code FROM unit_versions")
            .fetch_all(conn)
            .await?
            .into_iter()
            .collect();
    Ok(now
        .into_iter()
        .filter_map(|u| {
            if versioned.contains(&u.code) {
                then.remove(&u.code)
            } else {
                Some(u)
            }
        })
        .filter(|u| u.active)
        .collect())
}

/// The units under `path` (not the unit itself), by depth.
pub async fn descendants(tx: &mut Tx, path: &str) -> Result<Vec<UnitRecord>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM units WHERE path LIKE $1 || '%' AND path <> $1 ORDER BY length(path), code"
    ))
    .bind(path)
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(from_row).collect()
}

/// Rewrites the stored unit path of orders under `old` (a moved unit's subtree) to `new`, so
/// the unit's staff and its new parents see them. Returns the orders changed.
pub async fn move_order_paths(tx: &mut Tx, old: &str, new: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE assignments SET unit_path = $1 || substr(unit_path, CAST($2 AS INTEGER)) \
         WHERE unit_path LIKE $3 || '%'",
    )
    .bind(new)
    .bind(old.chars().count() as i64 + 1)
    .bind(old)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// How many of the unit's orders are open (dispatched or acknowledged).
pub async fn open_orders<'c, E>(conn: E, code: &str) -> Result<i64, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE unit_code = $1 AND status IN ('dispatched', 'acknowledged')",
    )
    .bind(code)
    .fetch_one(conn)
    .await?)
}

/// A unit change dated ahead (`unit_schedule`): it waits until `effective_from`.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduledChange {
    /// Id.
    pub id: String,
    /// The unit.
    pub code: String,
    /// The change as submitted (without its date).
    pub change: serde_json::Value,
    /// When it takes effect.
    pub effective_from: DateTime<Utc>,
    /// `pending`, `applied`, `failed` or `cancelled`.
    pub status: String,
    /// Why it failed, when it did.
    pub note: String,
    /// Who scheduled it.
    pub scheduled_by: String,
    /// When.
    pub scheduled_at: DateTime<Utc>,
}

impl ScheduledChange {
    /// Whether it still waits for its day (not applied, failed or cancelled).
    pub fn is_pending(&self) -> bool {
        self.status == "pending"
    }
}

fn scheduled_from(r: &sqlx::any::AnyRow) -> Result<ScheduledChange, StoreError> {
    let change: String = r.try_get("change")?;
    Ok(ScheduledChange {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        change: serde_json::from_str(&change).unwrap_or(serde_json::Value::Null),
        effective_from: from_millis(r.try_get("effective_from")?),
        status: r.try_get("status")?,
        note: r.try_get("note")?,
        scheduled_by: r.try_get("scheduled_by")?,
        scheduled_at: from_millis(r.try_get("scheduled_at")?),
    })
}

const SCHEDULE_COLUMNS: &str =
    "id, code, change, effective_from, status, note, scheduled_by, scheduled_at";

/// Keeps a change dated ahead.
pub async fn schedule(tx: &mut Tx, c: &ScheduledChange) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO unit_schedule (id, code, change, effective_from, status, note, scheduled_by, \
         scheduled_at) VALUES ($1, $2, $3, $4, 'pending', '', $5, $6)",
    )
    .bind(&c.id)
    .bind(&c.code)
    .bind(c.change.to_string())
    .bind(millis(c.effective_from))
    .bind(&c.scheduled_by)
    .bind(millis(c.scheduled_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A unit's scheduled changes (all states), by effective date.
pub async fn scheduled_of<'c, E>(conn: E, code: &str) -> Result<Vec<ScheduledChange>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM unit_schedule WHERE code = $1 ORDER BY effective_from, id"
    ))
    .bind(code)
    .fetch_all(conn)
    .await?;
    rows.iter().map(scheduled_from).collect()
}

/// Pending changes due at `now`, oldest first (at most `limit`).
pub async fn due<'c, E>(
    conn: E,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ScheduledChange>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM unit_schedule WHERE status = 'pending' \
         AND effective_from <= $1 ORDER BY effective_from, id LIMIT $2"
    ))
    .bind(millis(now))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(scheduled_from).collect()
}

/// Marks a pending change done (`applied`, `failed` or `cancelled`); false when it was not
/// pending any more (another node took it).
pub async fn finish_scheduled(
    tx: &mut Tx,
    id: &str,
    status: &str,
    note: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE unit_schedule SET status = $1, note = $2, done_at = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(note)
    .bind(millis(at))
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When the unit's latest version took effect (None: no versions).
pub async fn latest_version_at(
    tx: &mut Tx,
    code: &str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let at: Option<i64> =
        sqlx::query_scalar("SELECT MAX(effective_from) FROM unit_versions WHERE code = $1")
            .bind(code)
            .fetch_one(tx.conn())
            .await?;
    Ok(at.map(from_millis))
}

/// Records a version of many units at once, read from their rows (`jiesu init --city`).
/// With `baseline`, a unit without versions gets its state now as a version in force since
/// always (call it before the rows change); otherwise each unit gets its version at `at`:
/// `added` for one of `new_codes`, `closed` for one no longer active, `changed` for the
/// others. `codes` empty means every unit. Returns the versions written.
pub async fn record_versions_bulk(
    tx: &mut Tx,
    codes: &[String],
    baseline: bool,
    new_codes: &std::collections::HashSet<String>,
    at: DateTime<Utc>,
    by: &str,
) -> Result<u64, StoreError> {
    let all: Vec<String> = if codes.is_empty() {
        sqlx::query_scalar("SELECT code FROM units ORDER BY code")
            .fetch_all(tx.conn())
            .await?
    } else {
        codes.to_vec()
    };
    let (added, others): (Vec<String>, Vec<String>) = all
        .into_iter()
        .partition(|c| !baseline && new_codes.contains(c));
    let mut done = 0;
    for (group, change) in [
        (added, "'added'"),
        (
            others,
            if baseline {
                "'baseline'"
            } else {
                "CASE WHEN active = 0 THEN 'closed' ELSE 'changed' END"
            },
        ),
    ] {
        for chunk in group.chunks(400) {
            done += bulk_versions(tx, chunk, change, baseline, at, by).await?;
        }
    }
    Ok(done)
}

async fn bulk_versions(
    tx: &mut Tx,
    chunk: &[String],
    change: &str,
    baseline: bool,
    at: DateTime<Utc>,
    by: &str,
) -> Result<u64, StoreError> {
    let cols = "name, short_name, level, parent_code, path, active, merged_into, duty_phone, \
                liaison_name, liaison_phone";
    let only_new = if baseline {
        " AND NOT EXISTS (SELECT 1 FROM unit_versions v WHERE v.code = units.code)"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO unit_versions (id, code, effective_from, change, {cols}, changed_by) \
         SELECT $1 || code, code, $2, {change}, {cols}, $3 FROM units WHERE code IN ({}){only_new}",
        super::placeholders_from(4, chunk.len())
    );
    let mut q = sqlx::query(&sql)
        .bind(format!("{}:", uuid::Uuid::now_v7()))
        .bind(if baseline { 0 } else { millis(at) })
        .bind(by.to_string());
    for c in chunk {
        q = q.bind(c.clone());
    }
    Ok(q.execute(tx.conn()).await?.rows_affected())
}

/// The requests with an order at a unit under `path` (after a move: their index entries name
/// the unit paths).
pub async fn requests_under<'c, E>(conn: E, path: &str) -> Result<Vec<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT request_id FROM assignments WHERE unit_path LIKE $1 || '%'",
    )
    .bind(path)
    .fetch_all(conn)
    .await?)
}
