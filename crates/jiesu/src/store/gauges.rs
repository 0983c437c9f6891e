//! The counts behind the metrics gauges (`services::gauges`): orders by state, overdue
//! orders, the outbox backlog, and the connection pools. Each is one indexed query.

use super::{millis, StoreError};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::AssignmentStatus;
use sqlx::{AnyPool, Row};

/// What the gauges show of the database at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Orders per state (every state, 0 where none).
    pub orders: Vec<(AssignmentStatus, i64)>,
    /// Open orders (dispatched or acknowledged) whose reply deadline has passed.
    pub overdue: i64,
    /// Outbox messages still to be delivered (pending, due or waiting for a retry).
    pub outbox_backlog: i64,
}

/// Counts the orders and the outbox as of `now`.
pub async fn counts(pool: &AnyPool, now: DateTime<Utc>) -> Result<Counts, StoreError> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM assignments GROUP BY status")
        .fetch_all(pool)
        .await?;
    let mut orders: Vec<(AssignmentStatus, i64)> =
        AssignmentStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for r in rows {
        let status: String = r.try_get("status")?;
        let n: i64 = r.try_get("n")?;
        let status = AssignmentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?;
        if let Some(slot) = orders.iter_mut().find(|(s, _)| *s == status) {
            slot.1 = n;
        }
    }
    let overdue: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE status IN ('dispatched', 'acknowledged') AND reply_by <= $1",
    )
    .bind(millis(now))
    .fetch_one(pool)
    .await?;
    let outbox_backlog: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .fetch_one(pool)
            .await?;
    Ok(Counts {
        orders,
        overdue,
        outbox_backlog,
    })
}

/// One connection pool's use: its name, connections in use and idle ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    /// `writer` or `reader` (on PostgreSQL one pool serves both: it is reported as `shared`).
    pub pool: &'static str,
    /// Connections handed out.
    pub in_use: u32,
    /// Connections open and waiting.
    pub idle: u32,
}

impl super::Store {
    /// The connection pools' use now.
    pub fn pool_use(&self) -> Vec<PoolUse> {
        let one = |pool: &'static str, p: &AnyPool| {
            let (size, idle) = (p.size(), p.num_idle() as u32);
            PoolUse {
                pool,
                in_use: size.saturating_sub(idle),
                idle,
            }
        };
        if self.dialect() == super::Dialect::Postgres {
            vec![one("shared", self.reader())]
        } else {
            vec![one("writer", self.writer()), one("reader", self.reader())]
        }
    }
}
