//! The durability barrier of PostgreSQL's early lock release (see [`super::Store::begin`]),
//! shared by concurrent commits. A barrier is a tiny transaction that writes WAL and commits
//! synchronously; WAL is flushed in order, so when it returns every commit record written
//! before it started is on disk. One barrier therefore covers every commit that finished
//! before it began: commits wait in a queue, one task runs barriers back to back, and each
//! barrier answers the commits queued before it started. Under load one barrier serves many
//! commits instead of one each; alone, a commit waits for one barrier as before.

use super::batch::Queue;
use sqlx::AnyPool;
use tokio::sync::oneshot;

/// A transaction that writes WAL (a transactional logical message, which forces a
/// transaction id) and so commits synchronously: the WAL flush it waits for covers every
/// commit record written before it.
pub(super) const DURABILITY_BARRIER: &str =
    "SELECT pg_logical_emit_message(true, 'jiesu', '')::text";

type Waiter = oneshot::Sender<Result<(), String>>;

/// The shared barrier of one PostgreSQL pool.
#[derive(Clone, Debug)]
pub(super) struct Barrier {
    pool: AnyPool,
    /// Commits that finished and wait for the next barrier to start.
    queue: Queue<Waiter>,
}

impl Barrier {
    pub(super) fn new(pool: AnyPool) -> Self {
        Barrier {
            pool,
            queue: Queue::default(),
        }
    }

    /// Returns once everything committed before the call is on disk.
    pub(super) async fn wait(&self) -> Result<(), sqlx::Error> {
        let (waiter, done) = oneshot::channel();
        if self.queue.push(waiter) {
            tokio::spawn(run(self.pool.clone(), self.queue.clone()));
        }
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(sqlx::Error::Protocol(format!(
                "durability barrier failed: {message}"
            ))),
            Err(_) => Err(sqlx::Error::Protocol("durability barrier abandoned".into())),
        }
    }
}

/// Runs barriers while commits wait for one; each answers the commits queued before it began.
async fn run(pool: AnyPool, queue: Queue<Waiter>) {
    let _leading = queue.leading();
    while let Some(batch) = queue.next(usize::MAX) {
        let result = sqlx::query(DURABILITY_BARRIER)
            .execute(&pool)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        for waiter in batch {
            let _ = waiter.send(result.clone());
        }
    }
}
