//! Jobs that run once across the nodes sharing a database (issue 21): on PostgreSQL a run
//! holds a session advisory lock on a connection of its own, so a second node's run of the
//! same job skips; when the holder dies its session ends and the lock with it, and the next
//! run anywhere takes over. On SQLite there is one node, and every run leads.

use super::{Dialect, Store, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::Any;

/// A job's turn to run on this node; the lock goes when it is dropped.
pub struct Lead {
    /// PostgreSQL: the session that holds the lock. It is closed, not returned to the pool,
    /// when the lead is dropped, which releases the lock even if the job failed half way.
    _session: Option<PoolConnection<Any>>,
}

/// Takes the job `key`'s lock if no other session holds it: `None` when another node (or
/// another run here) leads.
pub async fn try_lead(store: &Store, key: i64) -> Result<Option<Lead>, StoreError> {
    if store.dialect() == Dialect::Sqlite {
        return Ok(Some(Lead { _session: None }));
    }
    let mut conn = store.writer().acquire().await?;
    conn.close_on_drop();
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(got.then_some(Lead {
        _session: Some(conn),
    }))
}

/// The lock key of a node's start (migrations done, shipped data and the first admin).
const START: i64 = 0x6a69_6573_0100;

/// Makes nodes that start at once on one PostgreSQL take turns at loading the shipped
/// reference data in `tx`: the lock is held until `tx` ends, so the second node finds the
/// rows the first wrote rather than failing on their keys. SQLite has one node.
pub async fn starting(tx: &mut super::Tx) -> Result<(), StoreError> {
    if tx.dialect() == Dialect::Sqlite {
        return Ok(());
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(START)
        .execute(tx.conn())
        .await?;
    Ok(())
}
