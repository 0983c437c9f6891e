//! The raw counts behind the three rates, per unit and period, plus the versioned KPI rules,
//! exemptions and frozen monthly snapshots.

use super::{millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::kpi::{KpiRules, Tally};
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// Reached callbacks in [$1, $2), each joined to the order it counts for: the lead of its
/// round (a merged requester's callback: the primary request's lead), not returned, not exempt.
const ATTRIBUTED_CALLBACKS: &str = "FROM callbacks c JOIN requests r ON r.id = c.request_id \
    JOIN assignments a ON a.request_id = COALESCE(r.primary_id, r.id) AND a.round = c.round AND a.role = 'lead' \
    AND a.status <> 'returned' WHERE c.reached = 1 AND c.at >= $1 AND c.at < $2 \
    AND NOT EXISTS (SELECT 1 FROM exemptions e WHERE e.assignment_id = a.id)";

/// Counts per unit code for orders dispatched and callbacks made in [from, to). Returned
/// orders and exempt orders are left out; a callback counts for the lead unit of its round
/// (a merged requester's callback for the primary request's lead); only reached requesters
/// count.
pub async fn tallies(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<String, Tally>, StoreError> {
    let mut out: HashMap<String, Tally> = HashMap::new();
    let rows = sqlx::query(
        "SELECT a.unit_code, COUNT(*) AS dispatched, \
         SUM(CASE WHEN a.acknowledged_at IS NOT NULL AND a.acknowledged_at <= a.acknowledge_by THEN 1 ELSE 0 END) AS on_time, \
         SUM(CASE WHEN a.role = 'lead' AND a.round = 1 THEN 1 ELSE 0 END) AS led \
         FROM assignments a WHERE a.dispatched_at >= $1 AND a.dispatched_at < $2 AND a.status <> 'returned' \
         AND NOT EXISTS (SELECT 1 FROM exemptions e WHERE e.assignment_id = a.id) GROUP BY a.unit_code",
    )
    .bind(millis(from))
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    for r in rows {
        let t = out.entry(r.try_get("unit_code")?).or_default();
        t.dispatched = r.try_get::<i64, _>("dispatched")? as u64;
        t.acknowledged_on_time = r.try_get::<i64, _>("on_time")? as u64;
        t.volume = r.try_get::<i64, _>("led")? as u64;
    }
    let rows = sqlx::query(
        &format!(
            "SELECT a.unit_code, COUNT(*) AS called_back, SUM(CASE WHEN c.resolved = 1 THEN 1 ELSE 0 END) AS resolved, \
             SUM(CASE WHEN c.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, \
             SUM(CASE WHEN c.satisfaction = 'basic' THEN 1 ELSE 0 END) AS basic {ATTRIBUTED_CALLBACKS} GROUP BY a.unit_code"
        ),
    )
    .bind(millis(from))
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    for r in rows {
        let t = out.entry(r.try_get("unit_code")?).or_default();
        t.called_back = r.try_get::<i64, _>("called_back")? as u64;
        t.resolved = r.try_get::<i64, _>("resolved")? as u64;
        t.satisfied = r.try_get::<i64, _>("satisfied")? as u64;
        t.basic = r.try_get::<i64, _>("basic")? as u64;
    }
    Ok(out)
}

/// The rules in force at `at` (the latest effective), with their version.
pub async fn rules_at(pool: &AnyPool, at: DateTime<Utc>) -> Result<Option<KpiRules>, StoreError> {
    let row = sqlx::query("SELECT rules FROM kpi_rules WHERE effective_from <= $1 ORDER BY effective_from DESC, created_at DESC LIMIT 1")
        .bind(millis(at))
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        serde_json::from_str(&r.try_get::<String, _>("rules")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

/// Rules by version.
pub async fn rules_version(pool: &AnyPool, version: &str) -> Result<Option<KpiRules>, StoreError> {
    let row = sqlx::query("SELECT rules FROM kpi_rules WHERE version = $1")
        .bind(version)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        serde_json::from_str(&r.try_get::<String, _>("rules")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .transpose()
}

/// Adds a version of the rules; false when the version name is taken.
pub async fn insert_rules(
    tx: &mut Tx,
    rules: &KpiRules,
    effective_from: DateTime<Utc>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO kpi_rules (version, effective_from, rules, created_by, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (version) DO NOTHING",
    )
    .bind(&rules.version)
    .bind(millis(effective_from))
    .bind(serde_json::to_string(rules).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .bind(actor)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A frozen ranking: (rules version, payload).
pub async fn snapshot(
    pool: &AnyPool,
    month: &str,
    level: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT rules_version, payload FROM kpi_snapshots WHERE month = $1 AND level = $2",
    )
    .bind(month)
    .bind(level)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|r| Ok::<_, sqlx::Error>((r.try_get("rules_version")?, r.try_get("payload")?)))
        .transpose()?)
}

/// Stores a frozen ranking; false when the month and level are already frozen.
pub async fn insert_snapshot(
    tx: &mut Tx,
    month: &str,
    level: &str,
    version: &str,
    payload: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO kpi_snapshots (month, level, rules_version, payload, frozen_by, frozen_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (month, level) DO NOTHING",
    )
    .bind(month)
    .bind(level)
    .bind(version)
    .bind(payload)
    .bind(actor)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records an exemption; false when the order is already exempt.
pub async fn insert_exemption(
    tx: &mut Tx,
    assignment_id: &str,
    reason: &str,
    approver: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO exemptions (assignment_id, reason, approved_by, approved_at) VALUES ($1, $2, $3, $4) ON CONFLICT (assignment_id) DO NOTHING",
    )
    .bind(assignment_id)
    .bind(reason)
    .bind(approver)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Units (lead of the callback's round, exempt orders left out) with at least `min` reached
/// callbacks in [from, to) that were unresolved or unsatisfied, most first.
pub async fn repeated_unsatisfied(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    min: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        &format!(
            "SELECT a.unit_code, COUNT(*) AS n {ATTRIBUTED_CALLBACKS} AND (c.resolved = 0 OR c.satisfaction = 'unsatisfied') \
             GROUP BY a.unit_code HAVING COUNT(*) >= $3 ORDER BY n DESC, a.unit_code"
        ),
    )
    .bind(millis(from))
    .bind(millis(to))
    .bind(min)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("unit_code")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
