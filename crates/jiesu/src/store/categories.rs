//! Categories as managed data: the `categories` rows (the state in force now) with who set
//! them, and their effective-dated history (`category_versions`), from which a category as it
//! was (or is announced to be) at an instant is read back. Rules are in
//! `services::categories`; the shipped load is `reference::load_shipped`.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use std::collections::HashMap;

/// A category with everything an administrator keeps about it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryRecord {
    /// Code (kept for life: a renamed category keeps its requests and history).
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Parent category (a level-1 category has none).
    pub parent_code: Option<String>,
    /// 1, 2 or 3.
    pub level: i64,
    /// The unit that usually handles it.
    pub default_unit_code: Option<String>,
    /// Its time-limit class.
    pub time_limit_class: String,
    /// Intake keywords, `|`-separated.
    pub keywords: String,
    /// 办结审核: replies wait for the center's check before the callback.
    pub reply_review: bool,
    /// Whether new requests may be filed in it (old requests keep it either way).
    pub active: bool,
    /// `shipped` (follows reference/categories.csv) or `admin` (never overwritten by it).
    pub source: String,
    /// Who set it last.
    pub updated_by: String,
    /// When it was set last.
    pub updated_at: DateTime<Utc>,
}

/// One version of a category: its state from `valid_from` on.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryVersion {
    /// The version's id.
    pub id: String,
    /// In force from.
    pub valid_from: DateTime<Utc>,
    /// `baseline`, `added`, `changed`, `moved`, `deactivated`, `reactivated`.
    pub change: String,
    /// Who made it.
    pub changed_by: String,
    /// False while an announced change waits for its date.
    pub applied: bool,
    /// The category's state (source, updated_* as of the version).
    pub category: CategoryRecord,
}

const COLUMNS: &str = "code, name, name_en, parent_code, level, default_unit_code, \
    time_limit_class, keywords, reply_review, active, source, updated_by, updated_at";

const VERSION_COLUMNS: &str = "id, code, name, name_en, parent_code, level, default_unit_code, \
    time_limit_class, keywords, reply_review, active, 'admin' AS source, changed_by AS updated_by, \
    valid_from AS updated_at, valid_from, change, changed_by, applied";

fn from_row(r: &sqlx::any::AnyRow) -> Result<CategoryRecord, StoreError> {
    Ok(CategoryRecord {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        name_en: r.try_get("name_en")?,
        parent_code: r.try_get("parent_code")?,
        level: r.try_get("level")?,
        default_unit_code: r.try_get("default_unit_code")?,
        time_limit_class: r.try_get("time_limit_class")?,
        keywords: r.try_get("keywords")?,
        reply_review: r.try_get::<i64, _>("reply_review")? != 0,
        active: r.try_get::<i64, _>("active")? != 0,
        source: r.try_get("source")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

fn version_from_row(r: &sqlx::any::AnyRow) -> Result<CategoryVersion, StoreError> {
    Ok(CategoryVersion {
        id: r.try_get("id")?,
        valid_from: from_millis(r.try_get("valid_from")?),
        change: r.try_get("change")?,
        changed_by: r.try_get("changed_by")?,
        applied: r.try_get::<i64, _>("applied")? != 0,
        category: from_row(r)?,
    })
}

/// One category as it is now, active or not.
pub async fn get<'c, E>(conn: E, code: &str) -> Result<Option<CategoryRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM categories WHERE code = $1"))
        .bind(code)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every category as it is now, by code.
pub async fn all<'c, E>(conn: E) -> Result<Vec<CategoryRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM categories ORDER BY code"))
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The direct children of a category, as they are now.
pub async fn children<'c, E>(conn: E, code: &str) -> Result<Vec<CategoryRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM categories WHERE parent_code = $1 ORDER BY code"
    ))
    .bind(code)
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Writes a category's row as an administrator's (inserted or replaced whole).
pub async fn save(tx: &mut Tx, c: &CategoryRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO categories (code, name, name_en, parent_code, level, default_unit_code, \
         time_limit_class, keywords, reply_review, active, source, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'admin', $11, $12) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, \
         parent_code = excluded.parent_code, level = excluded.level, \
         default_unit_code = excluded.default_unit_code, time_limit_class = excluded.time_limit_class, \
         keywords = excluded.keywords, reply_review = excluded.reply_review, active = excluded.active, \
         source = excluded.source, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(&c.code)
    .bind(&c.name)
    .bind(&c.name_en)
    .bind(&c.parent_code)
    .bind(c.level)
    .bind(&c.default_unit_code)
    .bind(&c.time_limit_class)
    .bind(&c.keywords)
    .bind(i64::from(c.reply_review))
    .bind(i64::from(c.active))
    .bind(&c.updated_by)
    .bind(millis(c.updated_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Whether a category has any recorded version.
async fn has_versions(tx: &mut Tx, code: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM category_versions WHERE code = $1")
        .bind(code)
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}

/// A version about to be written.
pub struct NewVersion<'a> {
    /// The state.
    pub category: &'a CategoryRecord,
    /// What changed.
    pub change: &'a str,
    /// In force from.
    pub valid_from: DateTime<Utc>,
    /// When it was recorded (a version from after it is announced, not applied).
    pub now: DateTime<Utc>,
}

async fn insert_version(tx: &mut Tx, v: &NewVersion<'_>, by: &str) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    let c = v.category;
    sqlx::query(
        "INSERT INTO category_versions (id, code, valid_from, change, name, name_en, parent_code, \
         level, default_unit_code, time_limit_class, keywords, reply_review, active, applied, \
         changed_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&id)
    .bind(&c.code)
    .bind(millis(v.valid_from))
    .bind(v.change)
    .bind(&c.name)
    .bind(&c.name_en)
    .bind(&c.parent_code)
    .bind(c.level)
    .bind(&c.default_unit_code)
    .bind(&c.time_limit_class)
    .bind(&c.keywords)
    .bind(i64::from(c.reply_review))
    .bind(i64::from(c.active))
    .bind(i64::from(v.valid_from <= v.now))
    .bind(by)
    .bind(millis(v.now))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Records a category's version; `before` (None for a new category) is recorded first as a
/// baseline in force since always when the category has no version yet. Returns its id.
pub async fn record_version(
    tx: &mut Tx,
    before: Option<&CategoryRecord>,
    v: &NewVersion<'_>,
) -> Result<String, StoreError> {
    if let Some(b) = before {
        if !has_versions(tx, &b.code).await? {
            let base = NewVersion {
                category: b,
                change: "baseline",
                valid_from: DateTime::<Utc>::UNIX_EPOCH,
                now: v.now,
            };
            insert_version(tx, &base, "system").await?;
        }
    }
    insert_version(tx, v, &v.category.updated_by).await
}

/// Replaces the state a version records (a change dated before an announced one is carried
/// into it).
pub async fn rewrite_version(tx: &mut Tx, id: &str, c: &CategoryRecord) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE category_versions SET name = $1, name_en = $2, parent_code = $3, level = $4, \
         default_unit_code = $5, time_limit_class = $6, keywords = $7, reply_review = $8, \
         active = $9 WHERE id = $10",
    )
    .bind(&c.name)
    .bind(&c.name_en)
    .bind(&c.parent_code)
    .bind(c.level)
    .bind(&c.default_unit_code)
    .bind(&c.time_limit_class)
    .bind(&c.keywords)
    .bind(i64::from(c.reply_review))
    .bind(i64::from(c.active))
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A category's versions, oldest first.
pub async fn versions<'c, E>(conn: E, code: &str) -> Result<Vec<CategoryVersion>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM category_versions WHERE code = $1 ORDER BY valid_from, id"
    ))
    .bind(code)
    .fetch_all(conn)
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// The category's latest version from no later than `at` (None: never versioned, or
/// unknown).
pub async fn version_at<'c, E>(
    conn: E,
    code: &str,
    at: DateTime<Utc>,
) -> Result<Option<CategoryRecord>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM category_versions WHERE code = $1 AND valid_from <= $2 \
         ORDER BY valid_from DESC, id DESC LIMIT 1"
    ))
    .bind(code)
    .bind(millis(at))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The category as it was (or is announced to be) at `at`: its latest version from no later
/// than `at`, else (never changed) the row as it is.
pub async fn at(
    pool: &sqlx::AnyPool,
    code: &str,
    at: DateTime<Utc>,
) -> Result<Option<CategoryRecord>, StoreError> {
    match version_at(pool, code, at).await? {
        Some(c) => Ok(Some(c)),
        None => get(pool, code).await,
    }
}

/// Every category's (Chinese, English) names as they were at `at`, by code.
pub async fn names_at<'c, E>(
    conn: E,
    at: DateTime<Utc>,
) -> Result<HashMap<String, (String, String)>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any> + Copy,
{
    let mut names: HashMap<String, (String, String)> =
        sqlx::query_as::<_, (String, String, String)>("SELECT code, name, name_en FROM categories")
            .fetch_all(conn)
            .await?
            .into_iter()
            .map(|(c, n, e)| (c, (n, e)))
            .collect();
    let versions: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT code, name, name_en FROM category_versions WHERE valid_from <= $1 \
         ORDER BY valid_from, id",
    )
    .bind(millis(at))
    .fetch_all(conn)
    .await?;
    for (c, n, e) in versions {
        names.insert(c, (n, e));
    }
    Ok(names)
}

/// The announced versions whose date has come (`valid_from <= now`, not yet applied), oldest
/// first: (version id, code).
pub async fn due<'c, E>(conn: E, now: DateTime<Utc>) -> Result<Vec<(String, String)>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query_as(
        "SELECT id, code FROM category_versions WHERE applied = 0 AND valid_from <= $1 \
         ORDER BY valid_from, id",
    )
    .bind(millis(now))
    .fetch_all(conn)
    .await?)
}

/// When an announced version that makes the category active takes effect (the first after
/// `now` not applied yet), if there is one.
pub async fn announced_from(
    pool: &sqlx::AnyPool,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(valid_from) FROM category_versions WHERE code = $1 AND applied = 0 \
         AND active = 1 AND valid_from > $2",
    )
    .bind(code)
    .bind(millis(now))
    .fetch_one(pool)
    .await?;
    Ok(first.map(from_millis))
}

/// Marks an announced version applied; false when another node did it first.
pub async fn mark_applied(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE category_versions SET applied = 1 WHERE id = $1 AND applied = 0")
            .bind(id)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The versions of a category dated after `from` (announced or backdated later ones).
pub async fn later_versions(
    tx: &mut Tx,
    code: &str,
    from: DateTime<Utc>,
) -> Result<Vec<CategoryVersion>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM category_versions WHERE code = $1 AND valid_from > $2 \
         ORDER BY valid_from, id"
    ))
    .bind(code)
    .bind(millis(from))
    .fetch_all(tx.conn())
    .await?;
    rows.iter().map(version_from_row).collect()
}

/// The sequence number of the latest category event after `seq` (None when there is none):
/// a node that sees one reloads its category tables. Reads only the log's tail.
pub async fn event_after<'c, E>(conn: E, seq: i64) -> Result<Option<i64>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(sqlx::query_scalar(
        "SELECT MAX(seq) FROM events WHERE seq > $1 AND action LIKE 'category.%'",
    )
    .bind(seq)
    .fetch_one(conn)
    .await?)
}

/// The earliest announced version still waiting for its date.
pub async fn next_announced<'c, E>(conn: E) -> Result<Option<DateTime<Utc>>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let v: Option<i64> =
        sqlx::query_scalar("SELECT MIN(valid_from) FROM category_versions WHERE applied = 0")
            .fetch_one(conn)
            .await?;
    Ok(v.map(from_millis))
}
