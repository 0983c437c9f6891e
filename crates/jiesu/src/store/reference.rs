//! Reference data the product ships (units, categories, time limits, the official
//! working-day calendar) and its lookups. The
//! shipped CSV files are embedded in the binary and loaded at start when their version (a
//! digest of the file) differs from the loaded one; time limits keep their history.

use super::{millis, StoreError, Tx};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_core::time_limit::{Calendar, CalendarDayKind, DayKind, TimeLimit};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// The shipped files: (name, contents).
pub const SHIPPED: [(&str, &str); 4] = [
    ("units", include_str!("../../../../reference/units.csv")),
    (
        "categories",
        include_str!("../../../../reference/categories.csv"),
    ),
    (
        "time_limits",
        include_str!("../../../../reference/time_limits.csv"),
    ),
    (
        "holidays",
        include_str!("../../../../reference/holidays.csv"),
    ),
];

/// A handling unit.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    /// Code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// `district`, `subdistrict`, `township`, `zone`, `community`, `village`, `department`,
    /// `company` or `center`.
    pub level: String,
    /// Parent unit.
    pub parent_code: Option<String>,
    /// Path in the unit tree.
    pub path: String,
    /// Spoken short name.
    pub short_name: String,
}

/// A category of the taxonomy.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    /// Code.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Parent category.
    pub parent_code: Option<String>,
    /// 1, 2 or 3.
    pub level: i64,
    /// The unit that usually handles it.
    pub default_unit_code: Option<String>,
    /// Its time-limit class.
    pub time_limit_class: String,
    /// Whether new requests may be filed in it (`services::categories`).
    pub active: bool,
}

fn digest(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

fn records(csv_text: &str) -> anyhow::Result<Vec<HashMap<String, String>>> {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers()?.clone();
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        out.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(out)
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Loads every shipped file whose version is not the loaded one. Returns the names loaded.
pub async fn load_shipped(tx: &mut Tx, now: DateTime<Utc>) -> anyhow::Result<Vec<&'static str>> {
    let mut loaded = Vec::new();
    for (name, text) in SHIPPED {
        let version = digest(text);
        let current: Option<String> =
            sqlx::query_scalar("SELECT version FROM reference_versions WHERE name = $1")
                .bind(name)
                .fetch_optional(tx.conn())
                .await?;
        if current.as_deref() == Some(version.as_str()) {
            continue;
        }
        // A city built by `jiesu init --city` keeps its own units (store/city.rs).
        if name == "units" && !super::city::ships_beijing_units(tx).await? {
            continue;
        }
        let rows = records(text)?;
        // The first load is in force since always (a simulated past month must find its time
        // limits); a changed file takes effect from now on.
        let effective = if current.is_none() {
            DateTime::<Utc>::UNIX_EPOCH
        } else {
            now
        };
        match name {
            "units" => load_units(tx, &rows).await?,
            "categories" => load_categories(tx, &rows).await?,
            "holidays" => {
                super::calendar::load_shipped(tx, &rows, now).await?;
            }
            _ => load_time_limits(tx, &rows, effective).await?,
        }
        sqlx::query(
            "INSERT INTO reference_versions (name, version, loaded_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET version = excluded.version, loaded_at = excluded.loaded_at",
        )
        .bind(name)
        .bind(&version)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
        loaded.push(name);
    }
    Ok(loaded)
}

/// Inserts or updates rows in batches of multi-row statements (one round trip per batch).
/// `literal` columns get the same SQL literal in every row (`("active", "1")`); `guard` is a
/// `WHERE` on the conflict update (which existing rows may change), or empty.
async fn upsert_batched(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    literal: (&str, &str),
    key: &str,
    guard: &str,
    rows: Vec<Vec<Option<String>>>,
) -> Result<(), StoreError> {
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| **c != key)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    for chunk in rows.chunks(400) {
        let mut sql = format!(
            "INSERT INTO {table} ({}, {}) VALUES ",
            columns.join(", "),
            literal.0
        );
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let ps: Vec<String> = columns
                .iter()
                .map(|_| {
                    n += 1;
                    format!("${n}")
                })
                .collect();
            sql.push_str(&format!("({}, {})", ps.join(", "), literal.1));
        }
        sql.push_str(&format!(
            " ON CONFLICT ({key}) DO UPDATE SET {}{guard}",
            updates.join(", ")
        ));
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for v in row {
                q = q.bind(v.clone());
            }
        }
        q.execute(tx.conn()).await?;
    }
    Ok(())
}

async fn load_units(tx: &mut Tx, rows: &[HashMap<String, String>]) -> anyhow::Result<()> {
    let parents: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["code"].as_str(), r["parent_code"].as_str()))
        .collect();
    let path_of = |code: &str| -> anyhow::Result<String> {
        let mut chain = vec![code];
        let mut cur = code;
        while let Some(p) = parents.get(cur).filter(|p| !p.is_empty()) {
            anyhow::ensure!(
                chain.len() < 10 && parents.contains_key(p),
                "unit {code}: bad parent {p}"
            );
            chain.push(p);
            cur = p;
        }
        chain.reverse();
        Ok(format!("/{}/", chain.join("/")))
    };
    let mut prepared = Vec::with_capacity(rows.len());
    for r in rows {
        jiesu_core::UnitCode::parse(&r["code"])
            .map_err(|e| anyhow::anyhow!("unit {}: {e}", r["code"]))?;
        let path = path_of(&r["code"])?;
        prepared.push((
            path.matches('/').count(),
            vec![
                Some(r["code"].clone()),
                Some(r["name"].clone()),
                Some(r["level"].clone()),
                opt(&r["parent_code"]),
                Some(path),
                Some(r["short_name"].clone()),
                Some(r["aliases"].clone()),
            ],
        ));
    }
    // Parents before children, for the foreign key.
    prepared.sort_by_key(|(depth, _)| *depth);
    let rows: Vec<_> = prepared.into_iter().map(|(_, r)| r).collect();
    let cols = [
        "code",
        "name",
        "level",
        "parent_code",
        "path",
        "short_name",
        "aliases",
    ];
    // A unit an administrator added or edited (`source = 'admin'`) keeps its row: the shipped
    // file only adds missing codes and follows its own rows.
    let guard = " WHERE units.source = 'shipped'";
    upsert_batched(tx, "units", &cols, ("active", "1"), "code", guard, rows).await?;
    Ok(())
}

/// Loads the shipped categories. A category an administrator added or edited
/// (`source = 'admin'`) keeps its row: the shipped file only adds missing codes and follows
/// its own rows (as for units).
async fn load_categories(tx: &mut Tx, rows: &[HashMap<String, String>]) -> anyhow::Result<()> {
    let mut sorted: Vec<_> = rows.iter().collect();
    sorted.sort_by_key(|r| r["level"].parse::<i64>().unwrap_or(9));
    for r in sorted {
        let level: i64 = r["level"]
            .parse()
            .map_err(|_| anyhow::anyhow!("category {}: bad level", r["code"]))?;
        sqlx::query(
            "INSERT INTO categories (code, name, name_en, parent_code, level, default_unit_code, time_limit_class, keywords) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             name_en = excluded.name_en, parent_code = excluded.parent_code, level = excluded.level, \
             default_unit_code = excluded.default_unit_code, time_limit_class = excluded.time_limit_class, \
             keywords = excluded.keywords WHERE categories.source = 'shipped'",
        )
        .bind(&r["code"]).bind(&r["name"]).bind(&r["name_en"]).bind(opt(&r["parent_code"])).bind(level)
        .bind(opt(&r["default_unit_code"])).bind(&r["time_limit_class"]).bind(&r["keywords"])
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

async fn load_time_limits(
    tx: &mut Tx,
    rows: &[HashMap<String, String>],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    // A class an administrator gave a version of keeps the administrator's versions.
    let edited: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT class FROM time_limits WHERE source = 'admin'")
            .fetch_all(tx.conn())
            .await?;
    for r in rows.iter().filter(|r| !edited.contains(&r["class"])) {
        let ack: i64 = r["acknowledge_minutes"].parse()?;
        let reply: i64 = r["reply_minutes"].parse()?;
        let kind = DayKind::parse(&r["day_kind"])
            .ok_or_else(|| anyhow::anyhow!("time limit {}: bad day_kind", r["class"]))?;
        let current = time_limit(tx.conn(), &r["class"], now).await?;
        let same = current.as_ref().is_some_and(|c| {
            c.acknowledge_minutes == ack && c.reply_minutes == reply && c.day_kind == kind
        });
        if same {
            continue;
        }
        sqlx::query(
            "INSERT INTO time_limits (class, effective_from, name_zh, name_en, acknowledge_minutes, reply_minutes, day_kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&r["class"]).bind(millis(now)).bind(&r["name_zh"]).bind(&r["name_en"]).bind(ack).bind(reply).bind(kind.as_str())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Adds an administrator's version of a time limit (in force from `v.effective_from`).
/// False when the class already has a version from that instant.
pub async fn add_time_limit(
    tx: &mut Tx,
    v: &super::queues::TimeLimitVersion,
    by: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO time_limits (class, effective_from, name_zh, name_en, acknowledge_minutes, reply_minutes, day_kind, source, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'admin', $8) ON CONFLICT (class, effective_from) DO NOTHING",
    )
    .bind(&v.class)
    .bind(millis(v.effective_from))
    .bind(&v.name_zh)
    .bind(&v.name_en)
    .bind(v.acknowledge_minutes)
    .bind(v.reply_minutes)
    .bind(&v.day_kind)
    .bind(by)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The time limit of `class` in force at `at`.
pub async fn time_limit<'c, E>(
    conn: E,
    class: &str,
    at: DateTime<Utc>,
) -> Result<Option<TimeLimit>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT class, acknowledge_minutes, reply_minutes, day_kind FROM time_limits \
         WHERE class = $1 AND effective_from <= $2 ORDER BY effective_from DESC LIMIT 1",
    )
    .bind(class)
    .bind(millis(at))
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        let kind: String = r.try_get("day_kind")?;
        Ok(TimeLimit {
            class: r.try_get("class")?,
            acknowledge_minutes: r.try_get("acknowledge_minutes")?,
            reply_minutes: r.try_get("reply_minutes")?,
            day_kind: DayKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("day_kind {kind}")))?,
        })
    })
    .transpose()
}

/// The working-day calendar from the local date `from` on (a deadline never looks back).
pub async fn calendar<'c, E>(
    conn: E,
    offset_hours: i32,
    from: NaiveDate,
) -> Result<Calendar, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query("SELECT day, kind FROM calendar_days WHERE day >= $1")
        .bind(from.to_string())
        .fetch_all(conn)
        .await?;
    let mut cal = Calendar {
        offset: chrono::FixedOffset::east_opt(offset_hours * 3600),
        ..Calendar::default()
    };
    for r in rows {
        let day: String = r.try_get("day")?;
        let kind: String = r.try_get("kind")?;
        let date = NaiveDate::parse_from_str(&day, "%Y-%m-%d")
            .map_err(|_| StoreError::Corrupt(format!("calendar day {day}")))?;
        let kind = CalendarDayKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("calendar kind {kind}")))?;
        cal.insert(date, kind);
    }
    Ok(cal)
}

fn unit_from_row(r: &sqlx::any::AnyRow) -> Result<Unit, sqlx::Error> {
    Ok(Unit {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        level: r.try_get("level")?,
        parent_code: r.try_get("parent_code")?,
        path: r.try_get("path")?,
        short_name: r.try_get("short_name")?,
    })
}

/// One unit by code.
pub async fn unit<'c, E>(conn: E, code: &str) -> Result<Option<Unit>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT code, name, level, parent_code, path, short_name FROM units WHERE code = $1 AND active = 1")
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(unit_from_row).transpose()?)
}

/// Units, optionally of one level and/or under one parent, by code.
pub async fn units(
    pool: &AnyPool,
    level: Option<&str>,
    parent: Option<&str>,
) -> Result<Vec<Unit>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name, level, parent_code, path, short_name FROM units \
         WHERE active = 1 AND ($1 = '' OR level = $1) AND ($2 = '' OR parent_code = $2) ORDER BY code",
    )
    .bind(level.unwrap_or(""))
    .bind(parent.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(unit_from_row).collect::<Result<_, _>>()?)
}

/// The whole category taxonomy, by code.
pub async fn categories(pool: &AnyPool) -> Result<Vec<Category>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name, name_en, parent_code, level, default_unit_code, time_limit_class, active FROM categories ORDER BY code",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                name_en: r.try_get("name_en")?,
                parent_code: r.try_get("parent_code")?,
                level: r.try_get("level")?,
                default_unit_code: r.try_get("default_unit_code")?,
                time_limit_class: r.try_get("time_limit_class")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

/// One category's time-limit class, by code.
pub async fn category_class<'c, E>(conn: E, code: &str) -> Result<Option<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT time_limit_class FROM categories WHERE code = $1")
            .bind(code)
            .fetch_optional(conn)
            .await?,
    )
}

/// A category's default unit, by code.
pub async fn category_default_unit(
    pool: &AnyPool,
    code: &str,
) -> Result<Option<String>, StoreError> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("SELECT default_unit_code FROM categories WHERE code = $1")
            .bind(code)
            .fetch_optional(pool)
            .await?;
    Ok(v.flatten())
}

/// Every category's (code, name, `|`-separated keywords).
pub async fn category_keywords(
    pool: &AnyPool,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT code, name, keywords FROM categories ORDER BY code")
            .fetch_all(pool)
            .await?,
    )
}
