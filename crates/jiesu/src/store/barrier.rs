//! The durability barrier of PostgreSQL's early lock release (see [`super::Store::begin`]),
//! shared by concurrent commits. A barrier is a tiny transaction that writes WAL and commits
//! synchronously; WAL is flushed in order, so when it returns every commit record written
//! before it started is on disk. One barrier therefore covers every commit that finished
//! before it began: commits wait in a queue, one task runs barriers back to back, and each
//! barrier answers the commits queued before it started. Under load one barrier serves many
//! commits instead of one each; alone, a commit waits for one barrier as before.

use sqlx::AnyPool;
use std::sync::{Arc, Mutex};
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
    queue: Arc<Mutex<Queue>>,
}

#[derive(Debug, Default)]
struct Queue {
    /// A task is running barriers.
    running: bool,
    /// Commits that finished and wait for the next barrier to start.
    waiting: Vec<Waiter>,
}

impl Barrier {
    pub(super) fn new(pool: AnyPool) -> Self {
        Barrier {
            pool,
            queue: Arc::default(),
        }
    }

    /// Returns once everything committed before the call is on disk.
    pub(super) async fn wait(&self) -> Result<(), sqlx::Error> {
        let (waiter, done) = oneshot::channel();
        let start = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.waiting.push(waiter);
            !std::mem::replace(&mut q.running, true)
        };
        if start {
            // A task of its own: a cancelled caller cannot leave the queue without a runner.
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
async fn run(pool: AnyPool, queue: Arc<Mutex<Queue>>) {
    loop {
        let batch = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            if q.waiting.is_empty() {
                q.running = false;
                return;
            }
            std::mem::take(&mut q.waiting)
        };
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
