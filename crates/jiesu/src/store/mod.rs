//! All SQL lives here. One code base for SQLite and PostgreSQL through sqlx's `Any` driver:
//! portable SQL with `$n` parameters, BIGINT times and flags, TEXT ids. The few dialect
//! differences are in [`Dialect`]. Writes go through [`Tx`], which appends the change's events
//! to the hash chain just before it commits.

pub mod appeals;
pub mod assignments;
pub mod attachments;
pub mod audit;
mod barrier;
mod batch;
pub mod calendar;
pub mod callbacks;
pub mod callers;
pub mod catalogue;
pub mod categories;
mod chain;
pub mod city;
pub mod community;
pub mod creates;
pub mod disputes;
pub mod events;
pub mod extensions;
pub mod failover;
pub mod gauges;
mod group;
pub mod hotspots;
pub mod kb;
pub mod kpi;
pub mod lead;
pub mod locations;
pub mod logins;
pub mod open311;
pub mod outbox;
pub mod privacy;
pub mod queues;
pub mod reference;
pub mod replay;
pub mod reply_reviews;
pub mod request_keys;
pub mod requests;
pub mod returns;
pub mod sms;
pub mod sms_followups;
pub mod standby;
pub mod sub_extensions;
pub mod sub_orders;
pub mod suggestions;
pub mod text_models;
pub mod tracking;
mod turn;
pub mod unit_quiet;
pub mod units;
pub mod users;
pub mod whistles;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

pub use chain::AtOnceStatement;

/// A query on either backend, its parameters bound by value or by reference for `'q`.
pub type AnyQuery<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

pub use events::{Event, NewEvent};

/// The database backend, chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file in the data directory, WAL.
    Sqlite,
    /// Production.
    Postgres,
}

impl Dialect {
    /// The row-locking suffix of a `SELECT` inside a write transaction. SQLite needs none: it
    /// has a single writer connection, so a write transaction already sees the latest state.
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// A stored value could not be read back (a corrupt row).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database refused the data itself (SQLSTATE class 22, a data exception, or 23, an
    /// integrity constraint): a batch that fails so is retried one by one, so that only the
    /// one at fault fails. Other failures (the database or the connection) would fail each
    /// again.
    pub(crate) fn is_about_the_data(&self) -> bool {
        match self {
            StoreError::Db(sqlx::Error::Database(e)) => e
                .code()
                .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
            _ => false,
        }
    }

    /// A unique or primary key refused the write (two writers with the same key).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e))
            if e.kind() == sqlx::error::ErrorKind::UniqueViolation)
    }

    /// Whether [`StoreError::is_unique_violation`] is anywhere in `e`'s chain of causes.
    pub fn is_unique_violation_in(e: &anyhow::Error) -> bool {
        let unique = |e: &sqlx::Error| matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation);
        e.chain().any(|c| {
            c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_unique_violation)
                || c.downcast_ref::<sqlx::Error>().is_some_and(unique)
        })
    }

    /// The database cannot take this now and another host may soon (a failover: see
    /// [`failover::is_failover`]); nothing of the failed transaction was kept.
    pub fn is_failover(&self) -> bool {
        match self {
            StoreError::Db(e) => failover::is_failover(e),
            StoreError::Corrupt(_) => false,
        }
    }

    /// Whether a failover error is anywhere in `e`'s chain of causes.
    pub fn is_failover_in(e: &anyhow::Error) -> bool {
        e.chain().any(|c| {
            c.downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_failover)
                || c.downcast_ref::<sqlx::Error>()
                    .is_some_and(failover::is_failover)
        })
    }
}

/// The database: a writer pool and a reader pool (the same pool on PostgreSQL).
#[derive(Clone, Debug)]
pub struct Store {
    writer: AnyPool,
    reader: AnyPool,
    dialect: Dialect,
    /// SQLite: the group-commit writer over the one writer connection.
    group: Option<group::GroupWriter>,
    /// The city's UTC offset in ms: local days bucket the KPI rollups.
    day_offset_ms: i64,
    /// PostgreSQL: commit without waiting for the WAL flush, then wait for it with this
    /// barrier, shared by concurrent commits (see [`Store::begin`]); `None` on SQLite and
    /// where the barrier function is refused.
    barrier: Option<barrier::Barrier>,
    /// The node's turn at the event chain, with the head it last wrote (`turn.rs`). On
    /// SQLite the single writer already serialises writes, so the turn is never waited for;
    /// it keeps the head.
    chain_turn: Option<turn::ChainTurn>,
    /// PostgreSQL with the barrier: new requests waiting for their batch (`creates.rs`).
    creates: Option<creates::Queue>,
    /// PostgreSQL with the barrier: stored suggestions waiting for their batch.
    suggestions: Option<suggestions::Queue>,
    /// PostgreSQL on several hosts: which takes writes (`failover.rs`).
    hosts: Option<Arc<failover::Hosts>>,
    /// PostgreSQL: the standby that reports read from, if configured (`standby.rs`).
    standby: Option<Arc<standby::Standby>>,
}

/// The default UTC offset (Beijing, +8 h) in ms.
const DEFAULT_DAY_OFFSET_MS: i64 = 8 * 3_600_000;

/// How the SQLite file syncs: FULL survives power loss, NORMAL only process crashes.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// `PRAGMA synchronous` value.
    pub synchronous: String,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and runs the migrations.
    pub async fn open(url: &str, sqlite: &SqliteOptions) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            anyhow::bail!("JIESU_DATABASE_URL must start with sqlite: or postgres:");
        };
        let hosts = match failover::split_hosts(url).map_err(anyhow::Error::msg)? {
            Some(urls) if dialect == Dialect::Postgres => Some(failover::Hosts::new(urls)),
            Some(_) => anyhow::bail!("only a postgres: URL may list several hosts"),
            None => None,
        };
        let opts = match &hosts {
            Some(h) => {
                let Some(i) = h.find_writable(0).await else {
                    anyhow::bail!("no host of JIESU_DATABASE_URL takes writes");
                };
                h.moved_to(i);
                tracing::info!(host = %h.shown_current(), "the database host that takes writes");
                h.options(i)?
            }
            None => AnyConnectOptions::from_str(url)?,
        };
        let store = match dialect {
            Dialect::Sqlite => {
                let sync = sqlite.synchronous.clone();
                let pragmas = move || {
                    format!(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {sync}; \
                         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;"
                    )
                };
                let p1 = pragmas.clone();
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _| {
                        let sql = p1();
                        Box::pin(async move { conn.execute(sql.as_str()).await.map(|_| ()) })
                    })
                    .connect_with(opts.clone())
                    .await?;
                let reader = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(move |conn, _| {
                        let sql = pragmas();
                        Box::pin(async move { conn.execute(sql.as_str()).await.map(|_| ()) })
                    })
                    .connect_with(opts)
                    .await?;
                Store {
                    group: Some(group::GroupWriter::new(writer.clone())),
                    writer,
                    reader,
                    dialect,
                    day_offset_ms: DEFAULT_DAY_OFFSET_MS,
                    barrier: None,
                    chain_turn: Some(turn::ChainTurn::default()),
                    creates: None,
                    suggestions: None,
                    hosts: None,
                    standby: None,
                }
            }
            Dialect::Postgres => {
                let mut pool = AnyPoolOptions::new();
                if let Some(h) = hosts.clone() {
                    // After a move to another host, connections made before it are dropped
                    // instead of handed out (no round trip: their age decides).
                    pool = pool.before_acquire(move |_, meta| {
                        let fresh = !h.is_stale(meta.age);
                        Box::pin(async move { Ok(fresh) })
                    });
                }
                let pool = pool
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    // No ping before handing out a pooled connection: it is a round trip per
                    // acquire (four per intake). A connection that died (PostgreSQL restarted)
                    // fails its next query instead, and the pool drops it.
                    .test_before_acquire(false)
                    .connect_with(opts)
                    .await?;
                if let Some(h) = &hosts {
                    failover::watch(h.clone(), pool.clone());
                }
                let early_release = match sqlx::query(barrier::DURABILITY_BARRIER)
                    .execute(&pool)
                    .await
                {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::warn!(
                            error = %e,
                            "pg_logical_emit_message is refused: every write commits synchronously, \
                             holding the event chain's lock through the WAL flush (slower intake)"
                        );
                        false
                    }
                };
                Store {
                    barrier: early_release.then(|| barrier::Barrier::new(pool.clone())),
                    creates: early_release.then(creates::Queue::default),
                    suggestions: early_release.then(suggestions::Queue::default),
                    chain_turn: Some(turn::ChainTurn::default()),
                    writer: pool.clone(),
                    reader: pool,
                    dialect,
                    group: None,
                    day_offset_ms: DEFAULT_DAY_OFFSET_MS,
                    hosts,
                    standby: None,
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> anyhow::Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(&self.writer)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(&self.writer)
                    .await?
            }
        }
        Ok(())
    }

    /// The backend.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// True on PostgreSQL when commits release their locks before the WAL flush and wait
    /// for it with the durability barrier (see [`Store::begin`]).
    pub fn commits_early(&self) -> bool {
        self.barrier.is_some()
    }

    /// Sets the city's UTC offset, which decides the local days of the KPI rollups.
    pub fn set_utc_offset_hours(&mut self, hours: i32) {
        self.day_offset_ms = i64::from(hours) * 3_600_000;
    }

    /// The city's UTC offset in ms.
    pub fn day_offset_ms(&self) -> i64 {
        self.day_offset_ms
    }

    /// Whether this node can serve: the database answers, and on PostgreSQL it is a primary
    /// (a standby after a failover refuses every write). For `/readyz`.
    pub async fn ready(&self) -> Result<(), String> {
        let check = async {
            if self.hosts.as_ref().is_some_and(|h| !h.writable()) {
                return Err("no database host takes writes (a failover is under way)".into());
            }
            match self.dialect {
                Dialect::Postgres => {
                    let writable: bool = sqlx::query_scalar(failover::TAKES_WRITES)
                        .fetch_one(&self.writer)
                        .await
                        .map_err(|e| e.to_string())?;
                    if !writable {
                        return Err("the database is a standby or read-only".to_string());
                    }
                }
                Dialect::Sqlite => {
                    sqlx::query("SELECT 1")
                        .execute(&self.reader)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        };
        tokio::time::timeout(std::time::Duration::from_secs(2), check)
            .await
            .unwrap_or_else(|_| Err("the database did not answer within 2 s".to_string()))
    }

    /// The pool for reads outside a transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// A read-only transaction whose statements all see one snapshot of the database: what a
    /// page built from several queries reads, so it never shows half of a write that committed
    /// between two of them (a request still in round 1 next to its round-2 events).
    /// PostgreSQL runs it at REPEATABLE READ; SQLite's deferred transaction in WAL mode takes
    /// its snapshot at the first read and keeps it to the end. Drop or roll it back when done.
    pub async fn read_snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.reader.begin().await?;
        if self.dialect == Dialect::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Runs `read` on one [`read_snapshot`](Self::read_snapshot) and ends it. The snapshot
    /// only read: a rollback that fails loses nothing, and `read`'s answer stands.
    pub async fn in_snapshot<T, E>(
        &self,
        read: impl AsyncFnOnce(&mut sqlx::AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut snap = self.read_snapshot().await?;
        let out = read(&mut snap).await;
        let _ = snap.rollback().await;
        out
    }

    /// Reads reports from the standby of `url` (`JIESU_STANDBY_DATABASE_URL`, PostgreSQL
    /// only; see `standby.rs`).
    pub async fn with_standby(&mut self, url: &str) -> anyhow::Result<()> {
        if self.dialect != Dialect::Postgres {
            anyhow::bail!("JIESU_STANDBY_DATABASE_URL needs PostgreSQL (JIESU_DATABASE_URL)");
        }
        self.standby = Some(standby::Standby::open(url).await?);
        Ok(())
    }

    /// The store for a report (a ranking, the dashboard, the maps): reading from the standby
    /// with its staleness when one is configured and answering, else this store as it is.
    /// Writes through it still go to the primary.
    pub fn for_reports(&self) -> (Store, Option<standby::Staleness>) {
        match self.standby.as_ref().and_then(|s| s.current()) {
            Some((pool, staleness)) => {
                let mut store = self.clone();
                store.reader = pool.clone();
                (store, Some(staleness))
            }
            None => (self.clone(), None),
        }
    }

    /// Starts a write transaction (on SQLite, a savepoint in a group-committed transaction of
    /// the single writer; see `group.rs`).
    ///
    /// On PostgreSQL every write transaction takes the event chain's head row lock, so writes
    /// are serial while they hold it. Committing synchronously would hold it through the WAL
    /// flush (one fsync per write, ~400 writes/s here). Instead the transaction commits with
    /// `synchronous_commit = off`, which releases the locks as soon as the commit record is in
    /// the WAL buffer, and [`Tx::commit`] then waits for a durability barrier: a tiny
    /// transaction that writes WAL and commits synchronously. WAL is flushed in order, so when
    /// a barrier begun after our commit returns, our commit is on disk; one barrier serves
    /// every commit queued before it began (`barrier.rs`). Nothing is
    /// answered before the barrier returns. The one difference from a synchronous commit: for
    /// the few milliseconds between commit and barrier, other sessions can read a change that a
    /// crash of PostgreSQL would still lose; anything they write after reading it lands later
    /// in the WAL, so it is lost with it, never kept without it.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let tx = match &self.group {
            Some(g) => Inner::Grouped(g.begin().await?),
            None => Inner::Plain(self.begin_pooled().await?),
        };
        Ok(Tx {
            tx,
            events: Vec::new(),
            dialect: self.dialect,
            day_offset_ms: self.day_offset_ms,
            barrier: self.barrier.clone(),
            chain_turn: self.chain_turn.clone(),
            turn: turn::Turn::NotTaken,
        })
    }

    /// A transaction on the pool (PostgreSQL), committing early where the barrier works.
    async fn begin_pooled(&self) -> Result<sqlx::Transaction<'static, Any>, sqlx::Error> {
        if self.barrier.is_some() {
            self.writer.begin_with(BEGIN_EARLY).await
        } else {
            self.writer.begin().await
        }
    }

    /// PostgreSQL: runs `early`, an autocommitted statement that increments a counter row
    /// (`$1`) by `by` (`$2`) and returns the new value, so the row's lock is not held through
    /// a longer transaction (every intake takes the same day's counter). `early` must turn `synchronous_commit` off for its
    /// own transaction (`set_config('synchronous_commit', 'off', true)` inside it), so the lock
    /// is released before the WAL flush; where the durability barrier is refused, `plain` (the
    /// same statement without it) runs instead. Call it before [`Store::begin`]: a transaction
    /// waiting for a second connection of the pool could starve it. A value taken by a
    /// transaction that then fails is skipped, never reused; its commit lands in the WAL before
    /// the later transaction's, so that one's durability covers it. SQLite: `None` (its one
    /// writer increments inside the transaction, without gaps).
    pub async fn side_counter(
        &self,
        early: &str,
        plain: &str,
        key: &str,
        by: i64,
    ) -> Result<Option<i64>, StoreError> {
        if self.dialect == Dialect::Sqlite {
            return Ok(None);
        }
        let sql = if self.barrier.is_some() { early } else { plain };
        let n = sqlx::query_scalar(sql)
            .bind(key)
            .bind(by)
            .fetch_one(&self.writer)
            .await?;
        Ok(Some(n))
    }

    /// Runs one write statement that records no events (an advisory record, such as a stored
    /// suggestion) as a transaction of its own, durable when this returns: on PostgreSQL an
    /// autocommitted statement that commits synchronously (stored suggestions use it only
    /// where the barrier is refused; otherwise they go in batches), on SQLite a grouped
    /// transaction without a savepoint. Returns the rows affected.
    pub async fn write_one<'q>(&self, query: AnyQuery<'q>) -> Result<u64, StoreError> {
        if let Some(group) = &self.group {
            Ok(group.write_one(query).await?)
        } else {
            Ok(query.execute(&self.writer).await?.rows_affected())
        }
    }

    /// PostgreSQL: one write with its events as one autocommitted statement (see
    /// [`AtOnceStatement`]): one round trip where a transaction takes four (begin, write,
    /// append, commit), and this node's turn at the chain is held for that one round trip
    /// instead of two. `bind` binds the statement's own parameters; the events are linked
    /// after the head this node last wrote, which the statement checks. Durable (the barrier)
    /// when it returns [`AtOnce::Written`].
    ///
    /// Nothing is written, and the events come back as [`AtOnce::NotHere`], where it cannot be
    /// done at once: on SQLite (its writer groups transactions anyway), without the
    /// durability barrier, when this node does not know the head or another writer moved it,
    /// or when an event touches the KPI rollups. The caller then writes in a transaction.
    pub async fn write_at_once<'q>(
        &self,
        statement: &'q AtOnceStatement,
        bind: impl FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
        events: Vec<NewEvent>,
    ) -> Result<AtOnce, StoreError> {
        let (outcome, durable) = self.write_at_once_unsynced(statement, bind, events).await?;
        if let AtOnce::Written(_) = outcome {
            durable.wait().await?;
        }
        Ok(outcome)
    }

    /// [`Store::write_at_once`], returning as soon as the statement has committed: the
    /// caller must wait for [`Durable`] before it answers anyone.
    pub(super) async fn write_at_once_unsynced<'q>(
        &self,
        statement: &'q AtOnceStatement,
        bind: impl FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
        events: Vec<NewEvent>,
    ) -> Result<(AtOnce, Durable), StoreError> {
        let durable = self.durable();
        let (Some(_), Some(chain_turn)) = (&self.barrier, &self.chain_turn) else {
            return Ok((AtOnce::NotHere(events), durable));
        };
        if events.iter().any(|e| kpi::touches_rollups(&e.action)) {
            return Ok((AtOnce::NotHere(events), durable));
        }
        // The connection before the turn, as a transaction takes them: a turn holder never
        // waits for a connection held by someone waiting for the turn.
        let mut conn = self.writer.acquire().await?;
        let mut turn = chain_turn.take().await;
        let Some(known) = turn.known_head() else {
            return Ok((AtOnce::NotHere(events), durable));
        };
        let unwritten = events.clone();
        let query = bind(sqlx::query(statement.sql()));
        let (query, stored, head) = match chain::bind_at_once(statement, query, events, &known) {
            Ok(bound) => bound,
            Err(events) => {
                turn.remember(known);
                return Ok((AtOnce::NotHere(events), durable));
            }
        };
        // An error leaves the head forgotten (the statement was undone; the next append reads
        // the head).
        // The whole reply, not only its row: an error after the row (at commit) must not
        // read as written.
        let rows = query.fetch_all(&mut *conn).await?;
        let row = rows
            .first()
            .ok_or_else(|| StoreError::Corrupt("a write at once answered no row".into()))?;
        let (at_head, go): (bool, bool) = (row.try_get("at_head")?, row.try_get("go")?);
        let outcome = match (at_head, go) {
            (true, true) => {
                turn.remember(head);
                AtOnce::Written(stored)
            }
            (true, false) => {
                turn.remember(known);
                AtOnce::Refused
            }
            (false, _) => AtOnce::NotHere(unwritten),
        };
        Ok((outcome, durable))
    }

    /// What a write committed early (`synchronous_commit = off`) must wait for before anyone
    /// hears of it.
    pub(super) fn durable(&self) -> Durable {
        Durable(self.barrier.clone())
    }

    /// Returns once everything committed before the call is durable (PostgreSQL with early
    /// lock release: the durability barrier; at once elsewhere). For answering with a row
    /// another write committed and may not have made durable yet (a replayed request key).
    pub async fn settled(&self) -> Result<(), StoreError> {
        self.durable().wait().await
    }

    /// The writer pool, for statements of their own outside a transaction.
    pub(super) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Commits what is pending and closes both pools.
    pub async fn close(&self) {
        if let Some(g) = &self.group {
            g.close().await;
        }
        self.writer.close().await;
        self.reader.close().await;
        if let Some(s) = &self.standby {
            s.close().await;
        }
    }
}

/// What [`Store::write_at_once`] did.
#[derive(Debug)]
pub enum AtOnce {
    /// Written with its events, which are durable; the events as stored.
    Written(Vec<Event>),
    /// The statement's condition did not hold: nothing was written.
    Refused,
    /// Not done at once here: nothing was written; the events, to write in a transaction.
    NotHere(Vec<NewEvent>),
}

/// What a write committed early waits for before anyone hears of it (PostgreSQL: the
/// durability barrier; nothing where commits are synchronous).
#[derive(Debug)]
pub(crate) struct Durable(Option<barrier::Barrier>);

impl Durable {
    /// Returns once the write is on disk.
    pub(crate) async fn wait(self) -> Result<(), StoreError> {
        if let Some(barrier) = self.0 {
            barrier.wait().await?;
        }
        Ok(())
    }
}

/// A write transaction that collects the events of its change and appends them to the
/// chain at commit, so every change and its history land together or not at all.
pub struct Tx {
    tx: Inner,
    events: Vec<NewEvent>,
    dialect: Dialect,
    day_offset_ms: i64,
    /// PostgreSQL with early lock release: the durability barrier to wait on.
    barrier: Option<barrier::Barrier>,
    /// The node's turn at the event chain (see [`Store`]'s field).
    chain_turn: Option<turn::ChainTurn>,
    /// This transaction's standing with the turn.
    turn: turn::Turn,
}

/// Begins a PostgreSQL transaction that commits without waiting for the WAL flush (one round
/// trip: a simple query may hold several statements).
const BEGIN_EARLY: &str = "BEGIN; SET LOCAL synchronous_commit = off";

enum Inner {
    Plain(sqlx::Transaction<'static, Any>),
    Grouped(group::Slot),
}

impl Tx {
    /// The connection, for queries inside the transaction.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.tx {
            Inner::Plain(tx) => tx,
            Inner::Grouped(slot) => slot.conn(),
        }
    }

    /// The backend.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Takes this node's turn at the event chain now rather than at commit (see `turn.rs`);
    /// call it before the first statement that locks the day counter inside the
    /// transaction. Does nothing when already asked for.
    pub async fn take_turn(&mut self) {
        if let (turn::Turn::NotTaken, Some(chain)) = (&self.turn, &self.chain_turn) {
            self.turn = chain.take().await;
        }
    }

    /// Records an event to append at commit.
    pub fn event(&mut self, event: NewEvent) {
        self.events.push(event);
    }

    /// Appends the collected events to the chain, marks the KPI rollup days the change
    /// touched, and commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.commit_events().await.map(|_| ())
    }

    /// [`Tx::commit`], returning the events appended, as stored, each with its request.
    pub async fn commit_events(mut self) -> Result<Vec<(Option<String>, Event)>, StoreError> {
        let events = std::mem::take(&mut self.events);
        let touched: std::collections::BTreeSet<&str> = events
            .iter()
            .filter(|e| kpi::touches_rollups(&e.action))
            .filter_map(|e| e.request_id.as_deref())
            .collect();
        for request_id in touched {
            let offset = self.day_offset_ms;
            kpi::mark_dirty(self.conn(), request_id, offset).await?;
        }
        let requests: Vec<Option<String>> = events.iter().map(|e| e.request_id.clone()).collect();
        let (stored, head) = if events.is_empty() {
            (Vec::new(), None)
        } else {
            // PostgreSQL: held through the commit, which releases the head row.
            self.take_turn().await;
            let known = self.turn.known_head();
            let dialect = self.dialect;
            let (stored, head) = chain::append(self.conn(), dialect, events, known).await?;
            (stored, Some(head))
        };
        // Remembered before the commit: should it fail, the remembered head is stale, which the
        // next append notices (it checks the head before writing after it).
        let mut turn = std::mem::take(&mut self.turn);
        if let Some(head) = head {
            turn.remember(head);
        }
        match self.tx {
            Inner::Plain(tx) => {
                // PostgreSQL: the turn is held through the commit, which releases the head
                // row, so the next holder does not wait for the row in the database.
                tx.commit().await?;
                drop(turn);
                if let Some(barrier) = &self.barrier {
                    barrier.wait().await?;
                }
            }
            Inner::Grouped(slot) => {
                // SQLite: the turn is given back before the batch commits: the next
                // transaction of the batch, on the same connection, appends after this one
                // (and would wait for the turn while this one waits for it to commit).
                drop(turn);
                slot.commit().await?
            }
        }
        Ok(requests.into_iter().zip(stored).collect())
    }
}

/// Tests: a SQLite store in `file` (synchronous=FULL, as served), and its URL for reopening.
#[cfg(test)]
pub(crate) async fn open_test_sqlite(file: &std::path::Path) -> (Store, String) {
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let store = Store::open(
        &url,
        &SqliteOptions {
            synchronous: "FULL".into(),
        },
    )
    .await
    .unwrap();
    (store, url)
}

/// `$1, $2, …, $n`: the parameters of an `IN (…)` list of `n` values.
pub(crate) fn placeholders(n: usize) -> String {
    placeholders_from(1, n)
}

/// `$first, …, $(first + n - 1)`: `n` parameters from number `first`.
pub(crate) fn placeholders_from(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Milliseconds since the Unix epoch, the stored form of every time.
pub fn millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored vocabulary word (a status, kind, channel or role) decoded into its enum once,
/// where the row is read; a word the code does not know makes the row corrupt.
pub(crate) fn word<T>(
    r: &sqlx::any::AnyRow,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, sqlx::Error> {
    use sqlx::Row;
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| unknown_word(col, &s))
}

/// The decode error of a word [`word`] does not know.
pub(crate) fn unknown_word(col: &str, s: &str) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: format!("unknown {col} {s:?}").into(),
    }
}

/// The time of a stored millisecond value.
pub fn from_millis(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
