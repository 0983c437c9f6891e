//! The raw counts behind the three rates, per unit and period, plus the versioned KPI rules,
//! exemptions and frozen monthly snapshots.

use super::{millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::kpi::{KpiRules, Tally};
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::HashMap;

/// Reached callbacks in [$1, $2), each joined to the order of `role` (`lead` or `co`) in its
/// round that it counts for (a merged requester's callback: the primary request's orders),
/// not returned, not exempt.
fn attributed_callbacks(role: &str) -> String {
    format!(
        "FROM callbacks c JOIN requests r ON r.id = c.request_id \
         JOIN assignments a ON a.request_id = COALESCE(r.primary_id, r.id) AND a.round = c.round AND a.role = '{role}' \
         AND a.status <> 'returned' WHERE c.reached = 1 AND c.at >= $1 AND c.at < $2 \
         AND NOT EXISTS (SELECT 1 FROM exemptions e WHERE e.assignment_id = a.id) AND {NOT_COMMUNITY}"
    )
}

/// 小事不出社区 (issue 18): requests a community solved on the spot are tallied on their own
/// (`store::community`), never in the dispatched-order rates of the order aliased `a`.
const NOT_COMMUNITY: &str =
    "NOT EXISTS (SELECT 1 FROM requests rc WHERE rc.id = a.request_id AND rc.channel = 'community')";

/// Whether a granted appeal (考核申诉) exempts the `part` of the order aliased `a`.
fn appeal_granted(part: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM appeals p WHERE p.assignment_id = a.id AND p.part = '{part}' AND p.status = 'granted')"
    )
}

/// Per unit: (called back, resolved, satisfied, basic, resolution exempt, satisfaction
/// exempt) of the callbacks in [from, to) attributed to its orders of `role`. A callback whose
/// order has a granted appeal of the resolution (satisfaction) part counts as exempt from that
/// rate instead of as resolved (satisfied or basic).
async fn callback_counts(
    conn: &mut AnyConnection,
    role: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(String, [u64; 6])>, StoreError> {
    let (res_ex, sat_ex) = (appeal_granted("resolution"), appeal_granted("satisfaction"));
    let rows = sqlx::query(&format!(
        "SELECT a.unit_code, COUNT(*) AS called_back, \
         SUM(CASE WHEN c.resolved = 1 AND NOT {res_ex} THEN 1 ELSE 0 END) AS resolved, \
         SUM(CASE WHEN c.satisfaction = 'satisfied' AND NOT {sat_ex} THEN 1 ELSE 0 END) AS satisfied, \
         SUM(CASE WHEN c.satisfaction = 'basic' AND NOT {sat_ex} THEN 1 ELSE 0 END) AS basic, \
         SUM(CASE WHEN {res_ex} THEN 1 ELSE 0 END) AS res_exempt, \
         SUM(CASE WHEN {sat_ex} THEN 1 ELSE 0 END) AS sat_exempt {} GROUP BY a.unit_code",
        attributed_callbacks(role)
    ))
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?;
    let n = |r: &sqlx::any::AnyRow, c: &str| r.try_get::<i64, _>(c).map(|v| v as u64);
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("unit_code")?,
                [
                    n(r, "called_back")?,
                    n(r, "resolved")?,
                    n(r, "satisfied")?,
                    n(r, "basic")?,
                    n(r, "res_exempt")?,
                    n(r, "sat_exempt")?,
                ],
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Counts per unit code for orders dispatched and callbacks made in [from, to), recounted from
/// the base tables (the full scan the rollups must agree with). Returned orders and exempt
/// orders are left out; a callback counts for the lead unit of its round (a merged
/// requester's callback for the primary request's lead); only reached requesters count.
pub async fn tallies(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<HashMap<String, Tally>, StoreError> {
    let mut conn = pool.acquire().await?;
    recount(&mut conn, millis(from), millis(to)).await
}

async fn recount(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
) -> Result<HashMap<String, Tally>, StoreError> {
    let mut out: HashMap<String, Tally> = HashMap::new();
    let rows = sqlx::query(
        &format!(
            "SELECT a.unit_code, SUM(CASE WHEN NOT {resp} THEN 1 ELSE 0 END) AS dispatched, \
             SUM(CASE WHEN a.acknowledged_at IS NOT NULL AND a.acknowledged_at <= a.acknowledge_by AND NOT {resp} THEN 1 ELSE 0 END) AS on_time, \
             SUM(CASE WHEN a.role = 'lead' AND a.round = 1 THEN 1 ELSE 0 END) AS led \
             FROM assignments a WHERE a.dispatched_at >= $1 AND a.dispatched_at < $2 AND a.status <> 'returned' \
             AND NOT EXISTS (SELECT 1 FROM exemptions e WHERE e.assignment_id = a.id) AND {NOT_COMMUNITY} GROUP BY a.unit_code",
            resp = appeal_granted("response")
        ),
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let t = out.entry(r.try_get("unit_code")?).or_default();
        t.dispatched = r.try_get::<i64, _>("dispatched")? as u64;
        t.acknowledged_on_time = r.try_get::<i64, _>("on_time")? as u64;
        t.volume = r.try_get::<i64, _>("led")? as u64;
    }
    for (unit, [called_back, resolved, satisfied, basic, res_ex, sat_ex]) in
        callback_counts(conn, "lead", from, to).await?
    {
        let t = out.entry(unit).or_default();
        (t.called_back, t.resolved, t.satisfied, t.basic) =
            (called_back, resolved, satisfied, basic);
        (t.resolution_exempt, t.satisfaction_exempt) = (res_ex, sat_ex);
    }
    for (unit, [called_back, resolved, satisfied, basic, res_ex, sat_ex]) in
        callback_counts(conn, "co", from, to).await?
    {
        let t = out.entry(unit).or_default();
        (t.co_called_back, t.co_resolved, t.co_satisfied, t.co_basic) =
            (called_back, resolved, satisfied, basic);
        (t.co_resolution_exempt, t.co_satisfaction_exempt) = (res_ex, sat_ex);
    }
    Ok(out)
}

/// One local day in ms.
const DAY_MS: i64 = 86_400_000;

/// The local day number of a time: (ms + offset) / one day. Times are after 1970, so the
/// integer division of both databases agrees.
pub fn day_of(at: DateTime<Utc>, offset_ms: i64) -> i64 {
    (millis(at) + offset_ms).div_euclid(DAY_MS)
}

/// Whether an event's action can change a unit's counts (so its request's days are marked).
pub fn touches_rollups(action: &str) -> bool {
    action.starts_with("callback.")
        || matches!(
            action,
            "assignment.dispatched"
                | "assignment.acknowledged"
                | "assignment.returned"
                | "assignment.return_accepted"
                | "assignment.exempted"
                | "appeal.granted"
                | "request.merged"
                | "request.duplicate_merged"
        )
}

/// Marks dirty every local day a request's counts live on: the dispatch days of its orders and
/// the days of its callbacks and of its merged requesters' callbacks (which count for its lead).
pub(crate) async fn mark_dirty(
    conn: &mut AnyConnection,
    request_id: &str,
    offset_ms: i64,
) -> Result<(), StoreError> {
    // SQLite needs a WHERE in an INSERT … SELECT before ON CONFLICT (a parsing ambiguity).
    sqlx::query(
        "INSERT INTO kpi_dirty_days (day, version) SELECT DISTINCT d, 1 FROM ( \
         SELECT (a.dispatched_at + $1) / 86400000 AS d FROM assignments a WHERE a.request_id = $2 \
         UNION SELECT (c.at + $1) / 86400000 AS d FROM callbacks c WHERE c.request_id = $2 \
         UNION SELECT (c.at + $1) / 86400000 AS d FROM callbacks c JOIN requests r ON r.id = c.request_id WHERE r.primary_id = $2 \
         ) t WHERE d IS NOT NULL \
         ON CONFLICT (day) DO UPDATE SET version = kpi_dirty_days.version + 1",
    )
    .bind(offset_ms)
    .bind(request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes sure the rollups were built with `offset_ms`; when not (a database from before the
/// rollups, or a changed offset), drops them and marks every day with data dirty. True when
/// it did.
pub async fn ensure_rollup_offset(
    tx: &mut Tx,
    offset_ms: i64,
    force: bool,
) -> Result<bool, StoreError> {
    let stored: Option<i64> = sqlx::query("SELECT offset_ms FROM kpi_rollup_state WHERE id = 1")
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get("offset_ms"))
        .transpose()?;
    if stored == Some(offset_ms) && !force {
        return Ok(false);
    }
    sqlx::query("DELETE FROM kpi_daily")
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM kpi_dirty_days")
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "INSERT INTO kpi_dirty_days (day, version) SELECT DISTINCT d, 1 FROM ( \
         SELECT (dispatched_at + $1) / 86400000 AS d FROM assignments \
         UNION SELECT (at + $1) / 86400000 AS d FROM callbacks) t WHERE d IS NOT NULL",
    )
    .bind(offset_ms)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM kpi_rollup_state")
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO kpi_rollup_state (id, offset_ms) VALUES (1, $1)")
        .bind(offset_ms)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Dirty days (day, version), oldest first, at most `limit`.
pub async fn dirty_days(pool: &AnyPool, limit: i64) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows = sqlx::query("SELECT day, version FROM kpi_dirty_days ORDER BY day LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("day")?, r.try_get("version")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Recounts one local day from the base tables (read outside any write transaction).
pub async fn recount_day(
    pool: &AnyPool,
    day: i64,
    offset_ms: i64,
) -> Result<HashMap<String, Tally>, StoreError> {
    let mut conn = pool.acquire().await?;
    let from = day * DAY_MS - offset_ms;
    recount(&mut conn, from, from + DAY_MS).await
}

/// Replaces a day's rollup rows with a recount, if the day is still dirty at the version the
/// recount started from; otherwise (a change landed meanwhile, or another node already did
/// it) leaves everything as is and returns false.
pub async fn replace_day(
    tx: &mut Tx,
    day: i64,
    version: i64,
    counts: &HashMap<String, Tally>,
) -> Result<bool, StoreError> {
    let lock = tx.dialect().for_update();
    let current: Option<i64> = sqlx::query(&format!(
        "SELECT version FROM kpi_dirty_days WHERE day = $1{lock}"
    ))
    .bind(day)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.try_get("version"))
    .transpose()?;
    if current != Some(version) {
        return Ok(false);
    }
    sqlx::query("DELETE FROM kpi_daily WHERE day = $1")
        .bind(day)
        .execute(tx.conn())
        .await?;
    for (unit, t) in counts {
        sqlx::query(
            "INSERT INTO kpi_daily (day, unit_code, dispatched, on_time, led, called_back, resolved, satisfied, basic, \
             co_called_back, co_resolved, co_satisfied, co_basic, resolution_exempt, satisfaction_exempt, \
             co_resolution_exempt, co_satisfaction_exempt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(day)
        .bind(unit)
        .bind(t.dispatched as i64)
        .bind(t.acknowledged_on_time as i64)
        .bind(t.volume as i64)
        .bind(t.called_back as i64)
        .bind(t.resolved as i64)
        .bind(t.satisfied as i64)
        .bind(t.basic as i64)
        .bind(t.co_called_back as i64)
        .bind(t.co_resolved as i64)
        .bind(t.co_satisfied as i64)
        .bind(t.co_basic as i64)
        .bind(t.resolution_exempt as i64)
        .bind(t.satisfaction_exempt as i64)
        .bind(t.co_resolution_exempt as i64)
        .bind(t.co_satisfaction_exempt as i64)
        .execute(tx.conn())
        .await?;
    }
    sqlx::query("DELETE FROM kpi_dirty_days WHERE day = $1")
        .bind(day)
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Counts per unit code for local days [from_day, to_day): the rollups of clean days plus a
/// recount of the days still marked dirty, read in one snapshot, so the answer is exact
/// whether or not the rollup job has caught up.
pub async fn day_range_tallies(
    store: &super::Store,
    from_day: i64,
    to_day: i64,
) -> Result<HashMap<String, Tally>, StoreError> {
    let offset_ms = store.day_offset_ms();
    let mut tx = store.read_snapshot().await?;
    let dirty: Vec<i64> =
        sqlx::query("SELECT day FROM kpi_dirty_days WHERE day >= $1 AND day < $2 ORDER BY day")
            .bind(from_day)
            .bind(to_day)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("day"))
            .collect::<Result<_, _>>()?;
    let mut out = clean_days(&mut tx, from_day, to_day).await?;
    for day in dirty {
        let from = day * DAY_MS - offset_ms;
        for (unit, t) in recount(&mut tx, from, from + DAY_MS).await? {
            *out.entry(unit).or_default() += t;
        }
    }
    tx.rollback().await?;
    Ok(out)
}

async fn clean_days(
    conn: &mut AnyConnection,
    from_day: i64,
    to_day: i64,
) -> Result<HashMap<String, Tally>, StoreError> {
    let rows = sqlx::query(
        "SELECT unit_code, CAST(SUM(dispatched) AS BIGINT) AS dispatched, CAST(SUM(on_time) AS BIGINT) AS on_time, CAST(SUM(led) AS BIGINT) AS led, \
         CAST(SUM(called_back) AS BIGINT) AS called_back, CAST(SUM(resolved) AS BIGINT) AS resolved, CAST(SUM(satisfied) AS BIGINT) AS satisfied, CAST(SUM(basic) AS BIGINT) AS basic, \
         CAST(SUM(co_called_back) AS BIGINT) AS co_called_back, CAST(SUM(co_resolved) AS BIGINT) AS co_resolved, \
         CAST(SUM(co_satisfied) AS BIGINT) AS co_satisfied, CAST(SUM(co_basic) AS BIGINT) AS co_basic, \
         CAST(SUM(resolution_exempt) AS BIGINT) AS resolution_exempt, CAST(SUM(satisfaction_exempt) AS BIGINT) AS satisfaction_exempt, \
         CAST(SUM(co_resolution_exempt) AS BIGINT) AS co_resolution_exempt, CAST(SUM(co_satisfaction_exempt) AS BIGINT) AS co_satisfaction_exempt \
         FROM kpi_daily k WHERE day >= $1 AND day < $2 \
         AND NOT EXISTS (SELECT 1 FROM kpi_dirty_days d WHERE d.day = k.day) GROUP BY unit_code",
    )
    .bind(from_day)
    .bind(to_day)
    .fetch_all(conn)
    .await?;
    let get = |r: &sqlx::any::AnyRow, c: &str| -> Result<u64, sqlx::Error> {
        Ok(r.try_get::<i64, _>(c)? as u64)
    };
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("unit_code")?,
                Tally {
                    dispatched: get(r, "dispatched")?,
                    acknowledged_on_time: get(r, "on_time")?,
                    volume: get(r, "led")?,
                    called_back: get(r, "called_back")?,
                    resolved: get(r, "resolved")?,
                    satisfied: get(r, "satisfied")?,
                    basic: get(r, "basic")?,
                    co_called_back: get(r, "co_called_back")?,
                    co_resolved: get(r, "co_resolved")?,
                    co_satisfied: get(r, "co_satisfied")?,
                    co_basic: get(r, "co_basic")?,
                    resolution_exempt: get(r, "resolution_exempt")?,
                    satisfaction_exempt: get(r, "satisfaction_exempt")?,
                    co_resolution_exempt: get(r, "co_resolution_exempt")?,
                    co_satisfaction_exempt: get(r, "co_satisfaction_exempt")?,
                },
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
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
    // A failure whose part was granted on appeal (考核申诉) no longer counts against the unit.
    let (res_ex, sat_ex) = (appeal_granted("resolution"), appeal_granted("satisfaction"));
    let rows = sqlx::query(
        &format!(
            "SELECT a.unit_code, COUNT(*) AS n {} \
             AND ((c.resolved = 0 AND NOT {res_ex}) OR (c.satisfaction = 'unsatisfied' AND NOT {sat_ex})) \
             GROUP BY a.unit_code HAVING COUNT(*) >= $3 ORDER BY n DESC, a.unit_code",
            attributed_callbacks("lead")
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

/// Recorded residents per unit code.
pub async fn populations(pool: &AnyPool) -> Result<HashMap<String, i64>, StoreError> {
    let rows = sqlx::query("SELECT unit_code, population FROM unit_population")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("unit_code")?, r.try_get("population")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Records (or replaces) a unit's population.
pub async fn set_population(
    tx: &mut Tx,
    unit_code: &str,
    population: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO unit_population (unit_code, population, updated_by, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (unit_code) DO UPDATE SET population = $2, updated_by = $3, updated_at = $4",
    )
    .bind(unit_code)
    .bind(population)
    .bind(actor)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}
