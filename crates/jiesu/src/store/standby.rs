//! Reports read from a standby (issue 21, "read scaling where it pays"): with
//! `JIESU_STANDBY_DATABASE_URL` (one host, or several as in `JIESU_DATABASE_URL`), rankings,
//! the dashboard and the maps read from a host that is in recovery (a streaming standby),
//! how far behind it is stated with every answer. A watcher looks every
//! [`WATCH_EVERY`]: when the host stops answering or is promoted (a failover made it the
//! primary), it looks for another standby among the hosts; with none, reports read from the
//! primary as before until one is back. Everything else (lists, a request, search, every
//! write) keeps reading the primary: an operator must see what they just wrote.

use super::failover::{self, Hosts};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often the watcher measures the standby's lag and checks it is still one.
pub const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Whether the host is a standby, and how far its replay is behind in ms: 0 while it streams
/// from the primary and has replayed everything it received (a synchronous standby receives
/// every commit before the primary answers); else (replay behind, or cut off from the primary,
/// when received and replayed agree but nothing new arrives) the age of the last transaction
/// it replayed, which overstates rather than hides the lag when the primary was idle.
const LAG: &str = "SELECT pg_is_in_recovery() AS standby, CASE \
     WHEN NOT pg_is_in_recovery() THEN 0 \
     WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') \
      AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
     ELSE COALESCE((EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())) * 1000)::bigint, 0) \
     END AS lag_ms";

/// How long a host may take to answer the watcher.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The standby that reports read from.
#[derive(Debug)]
pub struct Standby {
    hosts: Arc<Hosts>,
    pool: AnyPool,
    /// Whether the current host answered as a standby at the last look.
    usable: AtomicBool,
    /// Its replay lag then, in ms.
    lag_ms: AtomicI64,
}

/// How stale a report read from the standby may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staleness {
    /// The standby's replay lag at the watcher's last look, in ms.
    pub lag_ms: i64,
}

async fn lag_of(conn: &mut AnyConnection) -> Result<(bool, i64), sqlx::Error> {
    use sqlx::Row;
    let row = sqlx::query(LAG).fetch_one(conn).await?;
    Ok((row.try_get("standby")?, row.try_get("lag_ms")?))
}

/// Host `url`'s answer to [`LAG`], within [`PROBE_TIMEOUT`].
async fn probe(url: &str) -> Option<(bool, i64)> {
    let check = async {
        let mut conn = AnyConnection::connect(url).await.ok()?;
        let v = lag_of(&mut conn).await.ok();
        let _ = conn.close().await;
        v
    };
    tokio::time::timeout(PROBE_TIMEOUT, check)
        .await
        .ok()
        .flatten()
}

impl Standby {
    /// Finds a standby among the hosts of `url` and starts its watcher; with none found now,
    /// reports read from the primary until the watcher finds one.
    pub async fn open(url: &str) -> anyhow::Result<Arc<Standby>> {
        if !(url.starts_with("postgres:") || url.starts_with("postgresql:")) {
            anyhow::bail!("JIESU_STANDBY_DATABASE_URL must be a postgres: URL");
        }
        let urls = failover::split_hosts(url)
            .map_err(anyhow::Error::msg)?
            .unwrap_or_else(|| vec![url.to_string()]);
        let hosts = Hosts::new(urls);
        let stale = hosts.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .before_acquire(move |_, meta| {
                let fresh = !stale.is_stale(meta.age);
                Box::pin(async move { Ok(fresh) })
            })
            .connect_lazy_with(hosts.options(0)?);
        let standby = Arc::new(Standby {
            hosts,
            pool,
            usable: AtomicBool::new(false),
            lag_ms: AtomicI64::new(0),
        });
        standby.look().await;
        let watched = standby.clone();
        tokio::spawn(async move {
            while !watched.pool.is_closed() {
                tokio::time::sleep(WATCH_EVERY).await;
                watched.look().await;
            }
        });
        Ok(standby)
    }

    /// One look: the current host's lag, or another standby, or none.
    async fn look(&self) {
        let here = tokio::time::timeout(PROBE_TIMEOUT, async {
            let mut conn = self.pool.acquire().await.ok()?;
            lag_of(conn.as_mut()).await.ok()
        })
        .await
        .ok()
        .flatten();
        if let Some((true, lag)) = here {
            self.lag_ms.store(lag, Ordering::SeqCst);
            self.usable.store(true, Ordering::SeqCst);
            return;
        }
        let n = self.hosts.len();
        let from = self.hosts.current();
        for k in 1..=n {
            let i = (from + k) % n;
            if let Some((true, lag)) = probe(self.hosts.url(i)).await {
                // The pooled connections failed the look (or are to another host): drop them,
                // even when this is the same host come back after a restart.
                if i != from || !self.usable.load(Ordering::SeqCst) || here.is_none() {
                    if let Ok(opts) = self.hosts.options(i) {
                        self.pool.set_connect_options(opts);
                        self.hosts.moved_to(i);
                        tracing::info!(host = %self.hosts.shown_current(), lag_ms = lag, "reports read from this standby");
                    }
                }
                self.lag_ms.store(lag, Ordering::SeqCst);
                self.usable.store(true, Ordering::SeqCst);
                return;
            }
        }
        if self.usable.swap(false, Ordering::SeqCst) {
            tracing::warn!("no standby answers: reports read from the primary");
        }
    }

    /// The pool and its staleness when a standby answered at the last look.
    pub fn current(&self) -> Option<(&AnyPool, Staleness)> {
        self.usable.load(Ordering::SeqCst).then(|| {
            (
                &self.pool,
                Staleness {
                    lag_ms: self.lag_ms.load(Ordering::SeqCst),
                },
            )
        })
    }

    /// Closes the pool (its watcher stops).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
