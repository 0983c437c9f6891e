//! Group commit for SQLite's single writer. A SQLite commit with `synchronous=FULL` costs an
//! fsync, which caps one-transaction-per-request writes at the disk's fsync rate. Here each
//! write transaction of the application (a *logical* transaction) runs inside a savepoint of a
//! shared *physical* transaction on the one writer connection. At its commit, if another
//! logical transaction is already waiting for the writer, the physical transaction is handed
//! on; the last one in line commits it (one fsync for the batch) and every logical commit in
//! the batch returns only then. So nothing is acknowledged before it is durable, a failed
//! logical transaction rolls back to its own savepoint without touching the others, and a
//! failed physical commit fails every logical commit in it.

//!
//! Every statement is a round trip to the driver's thread, and the writer is the one serial
//! part of intake, so the bookkeeping rides along with other statements: a committed logical
//! transaction leaves its savepoint open (*lingering*) and the next one releases it and sets
//! its own in one call (`RELEASE SAVEPOINT lt; SAVEPOINT lt`); a batch begins with `BEGIN
//! IMMEDIATE; SAVEPOINT lt`. A lingering savepoint is never rolled back to (an abandoned
//! transaction rolls back to its own, the newest one of that name), and the batch's `COMMIT`
//! commits it with the rest.

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

/// Logical commits per physical commit at most.
const MAX_BATCH: usize = 256;

type Ack = oneshot::Sender<Result<(), String>>;

/// The writer connection and its physical transaction.
#[derive(Default)]
pub(super) struct Writer {
    conn: Option<PoolConnection<Any>>,
    /// A physical transaction is open.
    open: bool,
    /// A logical transaction is inside its savepoint.
    in_savepoint: bool,
    /// A logical transaction was abandoned: roll back to its savepoint before going on.
    abandoned: bool,
    /// The savepoint of a committed logical transaction is still open (released by the next
    /// savepoint or the batch's commit).
    lingering: bool,
    /// Logical commits waiting for the physical commit.
    pending: Vec<Ack>,
}

/// The shared writer of one SQLite database.
#[derive(Clone)]
pub(super) struct GroupWriter {
    pool: AnyPool,
    writer: Arc<Mutex<Writer>>,
    waiting: Arc<AtomicUsize>,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter")
            .field("waiting", &self.waiting.load(Ordering::SeqCst))
            .finish()
    }
}

/// Counts a task waiting for the writer; if it gives up (its future is dropped), a flush is
/// started in case a batch was handed on to it.
struct Waiting {
    group: GroupWriter,
    acquired: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.group.waiting.fetch_sub(1, Ordering::SeqCst);
        if !self.acquired {
            self.group.spawn_flush();
        }
    }
}

impl GroupWriter {
    pub(super) fn new(pool: AnyPool) -> Self {
        GroupWriter {
            pool,
            writer: Arc::new(Mutex::new(Writer::default())),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Starts a logical transaction: waits for the writer, opens the physical transaction
    /// if none is open, and sets a savepoint.
    pub(super) async fn begin(&self) -> Result<Slot, sqlx::Error> {
        self.slot(true).await
    }

    /// Runs one statement as a logical transaction of its own, without a savepoint (a
    /// statement is atomic by itself): two statements fewer on the single writer. Should it
    /// fail, the whole physical transaction is rolled back and every logical commit in it
    /// fails, since SQLite may already have rolled it back (an I/O error, a full disk).
    pub(super) async fn write_one<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<u64, sqlx::Error> {
        let mut slot = self.slot(false).await?;
        match query.execute(slot.conn()).await {
            Ok(done) => {
                slot.commit().await?;
                Ok(done.rows_affected())
            }
            Err(e) => {
                if let Some(w) = slot.guard.as_mut() {
                    w.fail(&e.to_string()).await;
                }
                Err(e)
            }
        }
    }

    /// Waits for the writer and prepares it for a logical transaction, in a savepoint or not.
    async fn slot(&self, savepoint: bool) -> Result<Slot, sqlx::Error> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut waiting = Waiting {
            group: self.clone(),
            acquired: false,
        };
        let guard = self.writer.clone().lock_owned().await;
        waiting.acquired = true;
        drop(waiting);
        let mut slot = Slot {
            guard: Some(guard),
            group: self.clone(),
            savepoint,
        };
        let w = slot.guard.as_mut().expect("held");
        w.prepare(&self.pool, savepoint).await?;
        Ok(slot)
    }

    /// Commits whatever is pending, in a task of its own (so a cancelled caller cannot cut a
    /// COMMIT in half).
    fn spawn_flush(&self) {
        let writer = self.writer.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let mut w = writer.lock_owned().await;
                w.flush().await;
            });
        }
    }

    /// Commits what is pending and gives the connection back (at shutdown).
    pub(super) async fn close(&self) {
        let mut w = self.writer.clone().lock_owned().await;
        w.flush().await;
        w.conn = None;
    }
}

impl Writer {
    async fn conn(&mut self, pool: &AnyPool) -> Result<&mut AnyConnection, sqlx::Error> {
        if self.conn.is_none() {
            self.conn = Some(pool.acquire().await?);
        }
        Ok(&mut **self.conn.as_mut().expect("just set"))
    }

    /// Undoes an abandoned logical transaction (rolls back to its savepoint), if any; on
    /// failure the whole physical transaction fails.
    async fn undo_abandoned(&mut self) -> Result<(), sqlx::Error> {
        if !(self.abandoned || self.in_savepoint) {
            return Ok(());
        }
        self.abandoned = false;
        self.in_savepoint = false;
        let Some(c) = self.conn.as_deref_mut() else {
            return Ok(());
        };
        if let Err(e) = c
            .execute("ROLLBACK TO SAVEPOINT lt; RELEASE SAVEPOINT lt")
            .await
        {
            self.fail(&e.to_string()).await;
            return Err(e);
        }
        Ok(())
    }

    /// Opens the physical transaction if none is open and, for a logical transaction with a
    /// savepoint, sets it: one call to the driver at most.
    async fn prepare(&mut self, pool: &AnyPool, savepoint: bool) -> Result<(), sqlx::Error> {
        self.undo_abandoned().await?;
        let sql = match (self.open, savepoint) {
            (false, true) => "BEGIN IMMEDIATE; SAVEPOINT lt",
            (false, false) => "BEGIN IMMEDIATE",
            (true, true) if self.lingering => "RELEASE SAVEPOINT lt; SAVEPOINT lt",
            (true, true) => "SAVEPOINT lt",
            // A lone statement may run inside a lingering savepoint: that one is never rolled
            // back to, so the statement stays with the batch.
            (true, false) => return Ok(()),
        };
        let opening = !self.open;
        let c = self.conn(pool).await?;
        if let Err(e) = c.execute(sql).await {
            if opening {
                // Nothing of the batch is pending; make sure no half-opened transaction stays.
                if let Some(c) = self.conn.as_deref_mut() {
                    let _ = c.execute("ROLLBACK").await;
                }
            } else {
                self.fail(&e.to_string()).await;
            }
            return Err(e);
        }
        self.open = true;
        if savepoint {
            self.lingering = false;
            self.in_savepoint = true;
        }
        Ok(())
    }

    /// Ends the physical transaction with COMMIT and answers every logical commit in it.
    async fn flush(&mut self) {
        if !self.open {
            return;
        }
        if self.undo_abandoned().await.is_err() {
            return;
        }
        let result = match self.conn.as_deref_mut() {
            Some(c) => c.execute("COMMIT").await.map(|_| ()),
            None => Err(sqlx::Error::PoolClosed),
        };
        match result {
            Ok(()) => {
                self.open = false;
                self.lingering = false;
                for ack in self.pending.drain(..) {
                    let _ = ack.send(Ok(()));
                }
            }
            Err(e) => self.fail(&e.to_string()).await,
        }
    }

    /// Rolls the physical transaction back and fails every logical commit in it; the
    /// connection is dropped and a fresh one taken next time.
    async fn fail(&mut self, message: &str) {
        if let Some(c) = self.conn.as_deref_mut() {
            let _ = c.execute("ROLLBACK").await;
        }
        self.conn = None;
        self.open = false;
        self.in_savepoint = false;
        self.abandoned = false;
        self.lingering = false;
        for ack in self.pending.drain(..) {
            let _ = ack.send(Err(message.to_string()));
        }
    }
}

/// A logical transaction's hold on the writer.
pub(super) struct Slot {
    guard: Option<OwnedMutexGuard<Writer>>,
    group: GroupWriter,
    /// In a savepoint of its own (all but [`GroupWriter::write_one`]).
    savepoint: bool,
}

impl Slot {
    /// The writer connection, inside this transaction's savepoint.
    pub(super) fn conn(&mut self) -> &mut AnyConnection {
        let conn = self
            .guard
            .as_mut()
            .and_then(|w| w.conn.as_mut())
            .expect("a prepared slot holds the connection");
        conn
    }

    /// Ends the logical transaction (its savepoint lingers, see the module's comment) and
    /// waits until the physical transaction holding it commits.
    pub(super) async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mut w = self.guard.take().expect("held until commit");
        if w.conn.is_none() {
            return Err(sqlx::Error::PoolClosed);
        }
        if self.savepoint {
            w.in_savepoint = false;
            w.lingering = true;
        }
        let (ack, done) = oneshot::channel();
        w.pending.push(ack);
        if self.group.waiting.load(Ordering::SeqCst) > 0 && w.pending.len() < MAX_BATCH {
            // Someone is waiting for the writer: let them add to this physical transaction;
            // the last in line commits it.
            drop(w);
        } else {
            tokio::spawn(async move { w.flush().await })
                .await
                .map_err(|e| sqlx::Error::Protocol(format!("commit task failed: {e}")))?;
        }
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(sqlx::Error::Protocol(format!("commit failed: {message}"))),
            Err(_) => Err(sqlx::Error::Protocol("commit abandoned".into())),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(mut w) = self.guard.take() {
            if w.in_savepoint {
                w.in_savepoint = false;
                w.abandoned = true;
            }
            let idle = self.group.waiting.load(Ordering::SeqCst) == 0;
            let open = w.open;
            drop(w);
            if idle && open {
                self.group.spawn_flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::open_test_sqlite;
    use sqlx::Executor;

    /// Logical transactions, and lone statements without savepoints, interleave in shared
    /// physical ones: the committed ones are all there, the abandoned ones (dropped after
    /// writing) left nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn committed_writes_stay_and_abandoned_ones_roll_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = open_test_sqlite(&dir.path().join("g.db")).await;
        let mut tx = store.begin().await.unwrap();
        tx.conn()
            .execute("CREATE TABLE scratch (id BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                if i % 4 == 1 {
                    // One statement alone, without a savepoint, in the same batches.
                    let query = sqlx::query("INSERT INTO scratch (id) VALUES ($1)").bind(i);
                    assert_eq!(store.write_one(query).await.unwrap(), 1);
                    return true;
                }
                let mut tx = store.begin().await.unwrap();
                sqlx::query("INSERT INTO scratch (id) VALUES ($1)")
                    .bind(i)
                    .execute(tx.conn())
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                if i % 4 == 3 {
                    drop(tx); // abandoned after writing
                    false
                } else {
                    tx.commit().await.unwrap();
                    true
                }
            }));
        }
        let mut committed = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            if t.await.unwrap() {
                committed.push(i as i64);
            }
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM scratch ORDER BY id")
            .fetch_all(store.reader())
            .await
            .unwrap();
        assert_eq!(ids, committed);
        assert_eq!(ids.len(), 150);
        // A failing lone statement fails alone here (nothing else pending) and the writer
        // goes on.
        let duplicate = sqlx::query("INSERT INTO scratch (id) VALUES ($1)").bind(1i64);
        assert!(store.write_one(duplicate).await.is_err());
        let next = sqlx::query("INSERT INTO scratch (id) VALUES ($1)").bind(1000i64);
        assert_eq!(store.write_one(next).await.unwrap(), 1);
        store.close().await;
        // Reopened, everything committed is still there.
        let (store, _) = open_test_sqlite(&dir.path().join("g.db")).await;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scratch")
            .fetch_one(store.reader())
            .await
            .unwrap();
        assert_eq!(n, 151);
    }
}
