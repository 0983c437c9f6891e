//! The dispatch catalogue (派单目录) rules, with history: a change retires a rule and adds a
//! new one.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::dispatch::{CatalogueRule, RuleUnit};
use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A stored rule with its bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRule {
    /// The rule.
    #[serde(flatten)]
    pub rule: CatalogueRule,
    /// Why it exists.
    pub note: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// Every rule in force.
pub async fn active(pool: &AnyPool) -> Result<Vec<StoredRule>, StoreError> {
    let rows = sqlx::query("SELECT id, category_code, area_code, units, note, created_at FROM dispatch_rules WHERE active = 1 ORDER BY category_code, area_code, id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let units: String = r.try_get("units")?;
            let units: Vec<RuleUnit> =
                serde_json::from_str(&units).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(StoredRule {
                rule: CatalogueRule {
                    id: r.try_get("id")?,
                    category_code: r.try_get("category_code")?,
                    area_code: r.try_get("area_code")?,
                    units,
                },
                note: r.try_get("note")?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// Adds a rule.
pub async fn insert(
    tx: &mut Tx,
    rule: &CatalogueRule,
    note: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO dispatch_rules (id, category_code, area_code, units, note, active, created_by, created_at, retired_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, NULL)",
    )
    .bind(&rule.id)
    .bind(&rule.category_code)
    .bind(&rule.area_code)
    .bind(serde_json::to_string(&rule.units).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .bind(note)
    .bind(actor)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Retires a rule; returns whether it was in force.
pub async fn retire(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE dispatch_rules SET active = 0, retired_at = $2 WHERE id = $1 AND active = 1",
    )
    .bind(id)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether any rule was ever stored.
pub async fn is_empty(tx: &mut Tx) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dispatch_rules")
        .fetch_one(tx.conn())
        .await?;
    Ok(n == 0)
}
