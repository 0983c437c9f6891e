//! Knowledge-base entries (知识库), their versions and the operators' verdicts on them.

use super::{from_millis, millis, placeholders_from, Dialect, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::kb::KbStatus;
use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A knowledge-base entry.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KbEntry {
    /// Id.
    pub id: String,
    /// The question it answers.
    pub title: String,
    /// The answer an operator reads out.
    pub answer: String,
    /// Keywords (`|`-separated in storage, a list here).
    pub tags: Vec<String>,
    /// A category code or name the city files it under ('' for none).
    pub category: String,
    /// The unit that owns the answer (its staff keep it).
    pub unit_code: Option<String>,
    /// Where the answer comes from (a document, a regulation, a former knowledge base).
    pub source: String,
    /// Before this the entry is not offered.
    pub valid_from: Option<DateTime<Utc>>,
    /// From this on the entry is not offered.
    pub valid_until: Option<DateTime<Utc>>,
    /// Where it is in the workflow.
    pub status: KbStatus,
    /// 1 for the first text; each edit adds one.
    pub version: i64,
    /// When an operator last answered from it or rated it.
    pub last_used_at: Option<DateTime<Utc>>,
    /// False once deleted.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed (text or status).
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, title, answer, tags, category, unit_code, source, valid_from, valid_until, \
     status, version, last_used_at, active, created_at, updated_at";

fn opt_time(r: &sqlx::any::AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(from_millis))
}

impl KbEntry {
    /// Whether the entry is offered at intake at `now`: active, published and inside its
    /// validity.
    pub fn offered_at(&self, now: DateTime<Utc>) -> bool {
        self.active
            && self.status == KbStatus::Published
            && self.valid_from.is_none_or(|f| f <= now)
            && self.valid_until.is_none_or(|u| u > now)
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<KbEntry, sqlx::Error> {
    let tags: String = r.try_get("tags")?;
    let status: String = r.try_get("status")?;
    Ok(KbEntry {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        answer: r.try_get("answer")?,
        tags: tags
            .split('|')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect(),
        category: r.try_get("category")?,
        unit_code: r.try_get("unit_code")?,
        source: r.try_get("source")?,
        valid_from: opt_time(r, "valid_from")?,
        valid_until: opt_time(r, "valid_until")?,
        status: KbStatus::parse(&status).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "status".into(),
            source: format!("unknown knowledge-base status {status:?}").into(),
        })?,
        version: r.try_get("version")?,
        last_used_at: opt_time(r, "last_used_at")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

const INSERT: &str = "INSERT INTO kb_entries (id, title, answer, tags, category, unit_code, source, valid_from, \
     valid_until, status, version, last_used_at, active, created_by, created_at, updated_at) VALUES ";
const VERSION_INSERT: &str =
    "INSERT INTO kb_versions (entry_id, version, status, title, answer, tags, category, \
     unit_code, source, valid_from, valid_until, batch_id, changed_by, changed_at) VALUES ";

/// Rows per statement of a bulk insert (16 parameters a row stays under SQLite's limit).
const CHUNK: usize = 1000;

/// Inserts or replaces an entry and records the version as it now is.
pub async fn upsert(tx: &mut Tx, e: &KbEntry, actor: &str) -> Result<(), StoreError> {
    let sql = format!(
        "{INSERT}({}) ON CONFLICT (id) DO UPDATE SET title = excluded.title, answer = excluded.answer, \
         tags = excluded.tags, category = excluded.category, unit_code = excluded.unit_code, \
         source = excluded.source, valid_from = excluded.valid_from, valid_until = excluded.valid_until, \
         status = excluded.status, version = excluded.version, active = excluded.active, \
         updated_at = excluded.updated_at",
        placeholders_from(1, 16)
    );
    bind_entry(sqlx::query(&sql), e, actor)
        .execute(tx.conn())
        .await?;
    insert_versions(tx, std::slice::from_ref(e), None, actor).await
}

/// What an entry was when it was read: a change is written only over that.
#[derive(Debug, Clone, Copy)]
pub struct AsRead {
    /// Its version.
    pub version: i64,
    /// Its workflow status.
    pub status: KbStatus,
    /// Whether it was active (a delete changes only this).
    pub active: bool,
}

impl AsRead {
    /// What `e` is now.
    pub fn of(e: &KbEntry) -> AsRead {
        AsRead {
            version: e.version,
            status: e.status,
            active: e.active,
        }
    }
}

/// Replaces entry `e` where it still is as it was read, and records the version as it now is
/// (with `batch_id` for an import); false (nothing written) where another change came first.
pub async fn update_if(
    tx: &mut Tx,
    e: &KbEntry,
    actor: &str,
    read: AsRead,
    batch_id: Option<&str>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE kb_entries SET title = $1, answer = $2, tags = $3, category = $4, unit_code = $5, \
         source = $6, valid_from = $7, valid_until = $8, status = $9, version = $10, active = $11, \
         updated_at = $12 WHERE id = $13 AND version = $14 AND status = $15 AND active = $16",
    )
    .bind(&e.title)
    .bind(&e.answer)
    .bind(e.tags.join("|"))
    .bind(&e.category)
    .bind(&e.unit_code)
    .bind(&e.source)
    .bind(e.valid_from.map(millis))
    .bind(e.valid_until.map(millis))
    .bind(e.status.as_str())
    .bind(e.version)
    .bind(e.active as i64)
    .bind(millis(e.updated_at))
    .bind(&e.id)
    .bind(read.version)
    .bind(read.status.as_str())
    .bind(read.active as i64)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    insert_versions(tx, std::slice::from_ref(e), batch_id, actor).await?;
    Ok(true)
}

fn bind_entry<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    e: &'q KbEntry,
    actor: &'q str,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&e.id)
        .bind(&e.title)
        .bind(&e.answer)
        .bind(e.tags.join("|"))
        .bind(&e.category)
        .bind(&e.unit_code)
        .bind(&e.source)
        .bind(e.valid_from.map(millis))
        .bind(e.valid_until.map(millis))
        .bind(e.status.as_str())
        .bind(e.version)
        .bind(e.last_used_at.map(millis))
        .bind(e.active as i64)
        .bind(actor)
        .bind(millis(e.created_at))
        .bind(millis(e.updated_at))
}

/// `head` followed by `rows` rows of `per_row` parameters. SQLite gets anonymous `?`
/// parameters: it reads each `$n` as a name and looks it up among the names seen so far, a
/// linear search, so a statement of 16,000 `$n` cost quadratic time to prepare (a 200,000-row
/// import took 108 s, nearly all of it in preparing).
fn rows_sql(dialect: Dialect, head: &str, rows: usize, per_row: usize) -> String {
    let row = |r: usize| match dialect {
        Dialect::Sqlite => format!("({})", vec!["?"; per_row].join(", ")),
        Dialect::Postgres => format!("({})", placeholders_from(r * per_row + 1, per_row)),
    };
    let values: Vec<String> = (0..rows).map(row).collect();
    format!("{head}{}", values.join(", "))
}

/// Inserts new entries (ids unused), many rows a statement, with their first versions.
pub async fn insert_many(
    tx: &mut Tx,
    entries: &[KbEntry],
    batch_id: &str,
    actor: &str,
) -> Result<(), StoreError> {
    for chunk in entries.chunks(CHUNK) {
        let sql = rows_sql(tx.dialect(), INSERT, chunk.len(), 16);
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = bind_entry(q, e, actor);
        }
        q.execute(tx.conn()).await?;
        insert_versions(tx, chunk, Some(batch_id), actor).await?;
    }
    Ok(())
}

async fn insert_versions(
    tx: &mut Tx,
    entries: &[KbEntry],
    batch_id: Option<&str>,
    actor: &str,
) -> Result<(), StoreError> {
    for chunk in entries.chunks(CHUNK) {
        let sql = rows_sql(tx.dialect(), VERSION_INSERT, chunk.len(), 14);
        let mut q = sqlx::query(&sql);
        for e in chunk {
            q = q
                .bind(&e.id)
                .bind(e.version)
                .bind(e.status.as_str())
                .bind(&e.title)
                .bind(&e.answer)
                .bind(e.tags.join("|"))
                .bind(&e.category)
                .bind(&e.unit_code)
                .bind(&e.source)
                .bind(e.valid_from.map(millis))
                .bind(e.valid_until.map(millis))
                .bind(batch_id)
                .bind(actor)
                .bind(millis(e.updated_at));
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

/// Which entries a list, an export or a bulk step takes (every set field must match).
#[derive(Debug, Clone, Default)]
pub struct KbFilter {
    /// In this status.
    pub status: Option<KbStatus>,
    /// Filed under this category.
    pub category: Option<String>,
    /// Owned by this unit.
    pub unit_code: Option<String>,
    /// From this source.
    pub source: Option<String>,
    /// Title containing this text.
    pub title: Option<String>,
}

impl KbFilter {
    /// ` AND …` conditions from parameter `$first` on, with their values in order.
    fn sql(&self, first: usize) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut values = Vec::new();
        let status = self.status.map(|s| s.as_str().to_string());
        let title = self.title.as_ref().map(|t| format!("%{t}%"));
        for (col, op, v) in [
            ("status", "=", status.as_ref()),
            ("category", "=", self.category.as_ref()),
            ("unit_code", "=", self.unit_code.as_ref()),
            ("source", "=", self.source.as_ref()),
            ("title", "LIKE", title.as_ref()),
        ] {
            if let Some(v) = v {
                sql.push_str(&format!(" AND {col} {op} ${}", first + values.len()));
                values.push(v.clone());
            }
        }
        (sql, values)
    }
}

/// Active entries matching `filter`, newest change first, `limit` from `offset`.
pub async fn list(
    pool: &AnyPool,
    filter: &KbFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<KbEntry>, StoreError> {
    let (cond, values) = filter.sql(3);
    let sql = format!(
        "SELECT {COLUMNS} FROM kb_entries WHERE active = 1{cond} ORDER BY updated_at DESC, id LIMIT $1 OFFSET $2"
    );
    let mut q = sqlx::query(&sql).bind(limit).bind(offset);
    for v in &values {
        q = q.bind(v);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// How many active entries match `filter`.
pub async fn count(pool: &AnyPool, filter: &KbFilter) -> Result<i64, StoreError> {
    let (cond, values) = filter.sql(1);
    let sql = format!("SELECT COUNT(*) FROM kb_entries WHERE active = 1{cond}");
    let mut q = sqlx::query_scalar(&sql);
    for v in &values {
        q = q.bind(v);
    }
    Ok(q.fetch_one(pool).await?)
}

/// Moves every active entry matching `filter` (whose status must be `from`) to `to`, as
/// one batch; returns how many moved.
pub async fn set_status_many(
    tx: &mut Tx,
    filter: &KbFilter,
    to: KbStatus,
    batch_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let (cond, values) = filter.sql(5);
    let version_sql = format!(
        "INSERT INTO kb_versions (entry_id, version, status, title, answer, tags, category, unit_code, source, \
         valid_from, valid_until, batch_id, changed_by, changed_at) SELECT id, version, CAST($1 AS TEXT), title, \
         answer, tags, category, unit_code, source, valid_from, valid_until, CAST($2 AS TEXT), CAST($3 AS TEXT), \
         CAST($4 AS BIGINT) FROM kb_entries WHERE active = 1{cond}"
    );
    let mut q = sqlx::query(&version_sql)
        .bind(to.as_str())
        .bind(batch_id)
        .bind(actor)
        .bind(millis(now));
    for v in &values {
        q = q.bind(v);
    }
    q.execute(tx.conn()).await?;
    let (cond, values) = filter.sql(3);
    let sql = format!("UPDATE kb_entries SET status = $1, updated_at = $2 WHERE active = 1{cond}");
    let mut q = sqlx::query(&sql).bind(to.as_str()).bind(millis(now));
    for v in &values {
        q = q.bind(v);
    }
    Ok(q.execute(tx.conn()).await?.rows_affected())
}

/// One entry.
pub async fn get<'c, E>(conn: E, id: &str) -> Result<Option<KbEntry>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM kb_entries WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// The entries with these ids (in no order).
pub async fn get_many(pool: &AnyPool, ids: &[String]) -> Result<Vec<KbEntry>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM kb_entries WHERE id IN ({})",
        placeholders_from(1, ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Which of `ids` exist (for an import that may update them).
pub async fn existing(pool: &AnyPool, ids: &[String]) -> Result<Vec<KbEntry>, StoreError> {
    let mut found = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        found.extend(get_many(pool, chunk).await?);
    }
    Ok(found)
}

/// What search keeps of an entry.
pub struct KbSearchRow {
    /// The entry's id.
    pub id: String,
    /// Title and keywords.
    pub head: String,
    /// The answer.
    pub body: String,
    /// Validity start, milliseconds.
    pub valid_from: Option<i64>,
    /// Validity end, milliseconds.
    pub valid_until: Option<i64>,
    /// Last change, milliseconds.
    pub updated_at: i64,
    /// Whether it is active and published (else search drops it).
    pub offered: bool,
}

/// Entries changed at or after `since` (milliseconds; every entry for `None`), for search.
pub async fn search_rows(
    pool: &AnyPool,
    since: Option<i64>,
) -> Result<Vec<KbSearchRow>, StoreError> {
    const COLS: &str = "SELECT id, title, tags, answer, valid_from, valid_until, updated_at, status, active FROM kb_entries";
    let rows = match since {
        Some(since) => {
            sqlx::query(&format!("{COLS} WHERE updated_at >= $1"))
                .bind(since)
                .fetch_all(pool)
                .await?
        }
        None => {
            sqlx::query(&format!("{COLS} WHERE status = 'published' AND active = 1"))
                .fetch_all(pool)
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            let tags: String = r.try_get("tags")?;
            let title: String = r.try_get("title")?;
            Ok(KbSearchRow {
                id: r.try_get("id")?,
                head: format!("{title} {}", tags.replace('|', " ")),
                body: r.try_get("answer")?,
                valid_from: r.try_get("valid_from")?,
                valid_until: r.try_get("valid_until")?,
                updated_at: r.try_get("updated_at")?,
                offered: KbStatus::parse(&status) == Some(KbStatus::Published)
                    && r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The last knowledge-base event after `seq`, if any.
pub async fn event_after(pool: &AnyPool, seq: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE seq > $1 AND action LIKE 'kb.%'")
            .bind(seq)
            .fetch_one(pool)
            .await?,
    )
}

/// The last event of the log (0 when empty).
pub async fn last_seq(pool: &AnyPool) -> Result<i64, StoreError> {
    let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(seq.unwrap_or(0))
}

/// An entry's versions, oldest first: by version, then by the step within it (the workflow's order,
/// not the clock: a CLI import and a server on different clocks, or two nodes, may disagree).
pub async fn versions(pool: &AnyPool, id: &str) -> Result<Vec<KbVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT v.version, v.status, v.title, v.answer, v.batch_id, v.changed_by, v.changed_at, \
         COALESCE(u.username, v.changed_by) AS changed_by_name \
         FROM kb_versions v LEFT JOIN users u ON u.id = v.changed_by \
         WHERE v.entry_id = $1 ORDER BY v.version, CASE v.status WHEN 'draft' THEN 0 WHEN 'reviewed' THEN 1 \
         WHEN 'published' THEN 2 WHEN 'expired' THEN 3 ELSE 4 END, v.changed_at",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(KbVersion {
                version: r.try_get("version")?,
                status: KbStatus::parse(&status).unwrap_or(KbStatus::Draft),
                title: r.try_get("title")?,
                answer: r.try_get("answer")?,
                batch_id: r.try_get("batch_id")?,
                changed_by: r.try_get("changed_by")?,
                changed_by_name: r.try_get("changed_by_name")?,
                changed_at: from_millis(r.try_get("changed_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// One step of an entry's history.
#[derive(Debug, Clone, Serialize)]
pub struct KbVersion {
    /// The version number.
    pub version: i64,
    /// The status it reached.
    pub status: KbStatus,
    /// Its title then.
    pub title: String,
    /// Its answer then.
    pub answer: String,
    /// The bulk import or step that made it, if any.
    pub batch_id: Option<String>,
    /// Who (user id, or `console`).
    pub changed_by: String,
    /// Their username (the id when no user has it), for the pages.
    #[serde(skip_serializing)]
    pub changed_by_name: String,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// Records an operator's verdict and that the entry was used.
pub async fn add_feedback(
    tx: &mut Tx,
    entry_id: &str,
    on: (Option<&str>, Option<&str>),
    helpful: bool,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let (request_id, call) = on;
    // One verdict a person a call: again on the same request, or at the desk in the same call
    // (its form key), the latest replaces the earlier; without either (an API client), the
    // latest of the last hour does.
    let earlier = match (request_id, call) {
        (Some(r), _) => sqlx::query(
            "DELETE FROM kb_feedback WHERE entry_id = $1 AND created_by = $2 AND request_id = $3",
        )
        .bind(entry_id)
        .bind(by)
        .bind(r),
        (None, Some(c)) => sqlx::query(
            "DELETE FROM kb_feedback WHERE entry_id = $1 AND created_by = $2 \
             AND request_id IS NULL AND call_key = $3",
        )
        .bind(entry_id)
        .bind(by)
        .bind(c),
        (None, None) => sqlx::query(
            "DELETE FROM kb_feedback WHERE entry_id = $1 AND created_by = $2 \
             AND request_id IS NULL AND call_key IS NULL AND created_at >= $3",
        )
        .bind(entry_id)
        .bind(by)
        .bind(millis(now - chrono::Duration::hours(1))),
    };
    earlier.execute(tx.conn()).await?;
    sqlx::query(
        "INSERT INTO kb_feedback (id, entry_id, request_id, call_key, helpful, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(entry_id)
    .bind(request_id)
    .bind(call)
    .bind(helpful as i64)
    .bind(by)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    touch_used(tx, entry_id, now).await
}

/// The latest verdict on `entry_id` given for request `request_id`, if any.
pub async fn verdict(
    pool: &AnyPool,
    entry_id: &str,
    request_id: &str,
) -> Result<Option<bool>, StoreError> {
    let row = sqlx::query(
        "SELECT helpful FROM kb_feedback WHERE entry_id = $1 AND request_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(entry_id)
    .bind(request_id)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get::<i64, _>("helpful")? != 0),
        None => None,
    })
}

/// Deletes an entry (it stays, inactive, with its history).
pub async fn deactivate(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE kb_entries SET active = 0, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Notes that an operator answered from the entry (or rated it) at `now`.
pub async fn touch_used(tx: &mut Tx, entry_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query("UPDATE kb_entries SET last_used_at = $2 WHERE id = $1")
        .bind(entry_id)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// A published entry that needs a look, with its verdict counts.
pub struct StaleRow {
    /// The entry.
    pub entry: KbEntry,
    /// Verdicts given.
    pub rated: i64,
    /// Of which unhelpful.
    pub unhelpful: i64,
}

/// Published entries past their validity, unused since `unused_before` (milliseconds), or
/// rated at least `min_rated` times with more than half unhelpful; oldest change first.
pub async fn stale(
    pool: &AnyPool,
    now: DateTime<Utc>,
    unused_before: DateTime<Utc>,
    min_rated: i64,
    limit: i64,
) -> Result<Vec<StaleRow>, StoreError> {
    let cols: String = COLUMNS
        .split(", ")
        .map(|c| format!("e.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {cols}, COALESCE(f.n, 0) AS rated, COALESCE(f.bad, 0) AS unhelpful FROM kb_entries e \
         LEFT JOIN (SELECT entry_id, COUNT(*) AS n, CAST(SUM(1 - helpful) AS BIGINT) AS bad FROM kb_feedback GROUP BY entry_id) f \
         ON f.entry_id = e.id WHERE e.active = 1 AND e.status = 'published' AND ( \
         (e.valid_until IS NOT NULL AND e.valid_until <= $1) \
         OR COALESCE(e.last_used_at, e.updated_at) < $2 \
         OR (COALESCE(f.n, 0) >= $3 AND 2 * COALESCE(f.bad, 0) > COALESCE(f.n, 0))) \
         ORDER BY e.updated_at, e.id LIMIT $4"
    );
    let rows = sqlx::query(&sql)
        .bind(millis(now))
        .bind(millis(unused_before))
        .bind(min_rated)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StaleRow {
                entry: from_row(r)?,
                rated: r.try_get("rated")?,
                unhelpful: r.try_get("unhelpful")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The entries a batch (an import, a step of many) added or changed.
pub async fn entries_of_batch(pool: &AnyPool, batch_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT DISTINCT entry_id FROM kb_versions WHERE batch_id = $1")
            .bind(batch_id)
            .fetch_all(pool)
            .await?,
    )
}

/// Links the verdicts `by` gave at the desk in the call whose form key is `call` (before the
/// request existed) to the request that call made; returns how many.
pub async fn link_call_verdicts(
    tx: &mut Tx,
    by: &str,
    call: &str,
    request_id: &str,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE kb_feedback SET request_id = $1 WHERE created_by = $2 AND call_key = $3 \
         AND request_id IS NULL",
    )
    .bind(request_id)
    .bind(by)
    .bind(call)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// The entries owned by a unit at or under `path` (a unit moved: their owners' paths changed).
pub async fn owned_under(pool: &AnyPool, path: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT e.id FROM kb_entries e JOIN units u ON u.code = e.unit_code \
         WHERE u.path LIKE $1 || '%'",
    )
    .bind(path)
    .fetch_all(pool)
    .await?)
}
