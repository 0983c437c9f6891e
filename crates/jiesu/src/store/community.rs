//! 小事不出社区: the separate tally of requests communities solved on the spot (channel
//! `community`), per community; kept out of the dispatched-order rates (`store::kpi`).

use super::{millis, StoreError};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// One community's requests solved on the spot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunityCounts {
    /// Recorded in the period.
    pub recorded: u64,
    /// Reached callbacks in the period.
    pub called_back: u64,
    /// … that said resolved.
    pub resolved: u64,
    /// … satisfied.
    pub satisfied: u64,
    /// … basically satisfied.
    pub basic: u64,
}

/// Per unit code (the community that solved them) under `unit_path` (all when None): the
/// requests recorded, and the reached callbacks, in [from, to).
pub async fn tally(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    unit_path: Option<&str>,
) -> Result<Vec<(String, CommunityCounts)>, StoreError> {
    let path = unit_path.unwrap_or("");
    let recorded = sqlx::query(
        "SELECT a.unit_code, COUNT(*) AS n FROM requests r \
         JOIN assignments a ON a.request_id = r.id AND a.round = 1 AND a.role = 'lead' \
         WHERE r.channel = 'community' AND r.created_at >= $1 AND r.created_at < $2 \
         AND ($3 = '' OR a.unit_path LIKE $3 || '%') GROUP BY a.unit_code",
    )
    .bind(millis(from))
    .bind(millis(to))
    .bind(path)
    .fetch_all(pool)
    .await?;
    let called = sqlx::query(
        "SELECT a.unit_code, COUNT(*) AS n, \
         SUM(CASE WHEN c.resolved = 1 THEN 1 ELSE 0 END) AS resolved, \
         SUM(CASE WHEN c.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS satisfied, \
         SUM(CASE WHEN c.satisfaction = 'basic' THEN 1 ELSE 0 END) AS basic \
         FROM callbacks c JOIN requests r ON r.id = c.request_id \
         JOIN assignments a ON a.request_id = r.id AND a.round = c.round AND a.role = 'lead' \
         WHERE r.channel = 'community' AND c.reached = 1 AND c.at >= $1 AND c.at < $2 \
         AND ($3 = '' OR a.unit_path LIKE $3 || '%') GROUP BY a.unit_code",
    )
    .bind(millis(from))
    .bind(millis(to))
    .bind(path)
    .fetch_all(pool)
    .await?;
    let mut out: std::collections::BTreeMap<String, CommunityCounts> = Default::default();
    let n = |r: &sqlx::any::AnyRow, c: &str| r.try_get::<i64, _>(c).map(|v| v as u64);
    for r in &recorded {
        out.entry(r.try_get("unit_code")?).or_default().recorded = n(r, "n")?;
    }
    for r in &called {
        let t = out.entry(r.try_get("unit_code")?).or_default();
        t.called_back = n(r, "n")?;
        t.resolved = n(r, "resolved")?;
        t.satisfied = n(r, "satisfied")?;
        t.basic = n(r, "basic")?;
    }
    Ok(out.into_iter().collect())
}
