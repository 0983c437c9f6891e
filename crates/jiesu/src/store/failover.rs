//! PostgreSQL on several hosts (pg_auto_failover, issue 21): a URL naming more than one host
//! (`postgres://u@h1:p1,h2:p2/db?target_session_attrs=read-write`, which sqlx cannot parse)
//! is split into one URL per host; the pool connects to the one that takes writes, and a
//! watcher moves it to the new primary after a failover. It does not retry writes: a write
//! that fails during the switch fails whole (it is a transaction) and answers 503.

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, Connection};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the watcher asks the current host whether it still takes writes.
pub const WATCH_EVERY: Duration = Duration::from_millis(500);

/// Whether the host takes writes: a primary, and not read-only. pg_auto_failover promotes a
/// standby read-only first (`default_transaction_read_only`) until the old primary had its
/// time to step down; libpq's `target_session_attrs=read-write` asks the same.
pub const TAKES_WRITES: &str =
    "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off'";

/// How long one host may take to connect and answer before the next is tried.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The hosts of a multi-host URL, one single-host URL each, in the URL's order; `None` when
/// the URL names one host (it is used as it is). `target_session_attrs` is taken out: the
/// writable host is always the one sought.
pub fn split_hosts(url: &str) -> Result<Option<Vec<String>>, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("the database URL has no scheme".into());
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (&authority[..=at], &authority[at + 1..]),
        None => ("", authority),
    };
    if !hosts.contains(',') {
        return Ok(None);
    }
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("target_session_attrs="))
        .collect();
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    hosts
        .split(',')
        .map(|h| {
            let h = h.trim();
            if h.is_empty() {
                Err("the database URL lists an empty host".to_string())
            } else {
                Ok(format!("{scheme}://{userinfo}{h}{path}{query}"))
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A host's URL without its password, for the log.
pub fn shown(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let at = rest.rfind('@').unwrap_or(0);
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Whether `url`'s host answers and takes writes (is not in recovery).
pub async fn probe(url: &str) -> Result<bool, String> {
    let check = async {
        let mut conn = AnyConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let writable: bool = sqlx::query_scalar(TAKES_WRITES)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        let _ = conn.close().await;
        Ok(writable)
    };
    tokio::time::timeout(PROBE_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err("no answer within 2 s".into()))
}

/// The hosts, which one the pool connects to, and since when.
#[derive(Debug)]
pub struct Hosts {
    urls: Vec<String>,
    current: AtomicUsize,
    /// When the pool last moved, in ms after `born`: connections older are to the old host.
    moved_ms: AtomicU64,
    born: Instant,
    /// Whether the current host took writes at the last look (for `/readyz`).
    writable: AtomicBool,
}

impl Hosts {
    /// The hosts of a multi-host URL (see [`split_hosts`]).
    pub fn new(urls: Vec<String>) -> Arc<Hosts> {
        Arc::new(Hosts {
            urls,
            current: AtomicUsize::new(0),
            moved_ms: AtomicU64::new(0),
            born: Instant::now(),
            writable: AtomicBool::new(false),
        })
    }

    /// The first host, from `from` on and round the list, that takes writes.
    pub async fn find_writable(&self, from: usize) -> Option<usize> {
        let n = self.urls.len();
        for k in 0..n {
            let i = (from + k) % n;
            match probe(&self.urls[i]).await {
                Ok(true) => return Some(i),
                Ok(false) => tracing::info!(host = %shown(&self.urls[i]), "a standby"),
                Err(e) => tracing::info!(host = %shown(&self.urls[i]), error = %e, "no answer"),
            }
        }
        None
    }

    /// How many hosts.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// Whether there are none (never: a URL names at least one).
    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }

    /// Host `i`'s URL.
    pub fn url(&self, i: usize) -> &str {
        &self.urls[i]
    }

    /// The connect options of host `i`.
    pub fn options(&self, i: usize) -> Result<AnyConnectOptions, sqlx::Error> {
        AnyConnectOptions::from_str(&self.urls[i])
    }

    /// Makes host `i` current: connections made before now are to be dropped.
    pub fn moved_to(&self, i: usize) {
        self.current.store(i, Ordering::SeqCst);
        let ms = self.born.elapsed().as_millis() as u64;
        self.moved_ms.store(ms, Ordering::SeqCst);
        self.writable.store(true, Ordering::SeqCst);
    }

    /// The host the pool connects to.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::SeqCst)
    }

    /// Whether a pooled connection of this `age` was made before the pool last moved (it is
    /// to the old host, or was made while the move happened: dropped, never reused).
    pub fn is_stale(&self, age: Duration) -> bool {
        let since_move = self
            .born
            .elapsed()
            .saturating_sub(Duration::from_millis(self.moved_ms.load(Ordering::SeqCst)));
        age > since_move
    }

    /// Whether the current host took writes at the last look.
    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::SeqCst)
    }

    /// Records the last look.
    pub fn set_writable(&self, yes: bool) {
        self.writable.store(yes, Ordering::SeqCst);
    }

    /// The current host for the log.
    pub fn shown_current(&self) -> String {
        shown(&self.urls[self.current()])
    }
}

/// Watches the current host every [`WATCH_EVERY`] until the pool closes; when it stops
/// taking writes (it died, or was demoted to a standby), finds the host that does and moves
/// the pool there. Old connections are dropped as they come back (`is_stale`).
pub fn watch(hosts: Arc<Hosts>, pool: sqlx::AnyPool) {
    tokio::spawn(async move {
        while !pool.is_closed() {
            tokio::time::sleep(WATCH_EVERY).await;
            let check = tokio::time::timeout(
                PROBE_TIMEOUT,
                sqlx::query_scalar::<_, bool>(TAKES_WRITES).fetch_one(&pool),
            )
            .await;
            if let Ok(Ok(true)) = check {
                hosts.set_writable(true);
                continue;
            }
            hosts.set_writable(false);
            let from = hosts.current();
            // The current host last: a restarted old primary may briefly still claim writes.
            let Some(i) = hosts.find_writable(from + 1).await else {
                tracing::warn!("no database host takes writes");
                continue;
            };
            match hosts.options(i) {
                Ok(opts) => {
                    pool.set_connect_options(opts);
                    hosts.moved_to(i);
                    tracing::warn!(host = %hosts.shown_current(), "database moved to the host that takes writes");
                }
                Err(e) => tracing::error!(error = %e, "bad host URL"),
            }
        }
    });
}

/// Whether a database error means this host cannot take the write now and another may
/// (a failover): connection lost or refused, the pool timed out, the server shutting down
/// (SQLSTATE 57P01–57P03), or a read-only transaction (25006: a demoted primary).
pub fn is_failover(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c == "25006" || c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_two_hosts_becomes_two_urls_without_target_session_attrs() {
        let urls = split_hosts(
            "postgres://jiesu:pw@127.0.0.1:6001,127.0.0.1:6002/jiesu?target_session_attrs=read-write&sslmode=disable",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            urls,
            vec![
                "postgres://jiesu:pw@127.0.0.1:6001/jiesu?sslmode=disable",
                "postgres://jiesu:pw@127.0.0.1:6002/jiesu?sslmode=disable",
            ]
        );
    }

    #[test]
    fn a_url_with_one_host_is_left_as_it_is() {
        assert_eq!(
            split_hosts("postgres://u@db:5432/x?target_session_attrs=read-write").unwrap(),
            None
        );
        assert_eq!(split_hosts("sqlite://data/jiesu.db").unwrap(), None);
    }

    #[test]
    fn hosts_without_user_or_path_still_split() {
        let urls = split_hosts("postgresql://a,b:5433").unwrap().unwrap();
        assert_eq!(urls, vec!["postgresql://a", "postgresql://b:5433"]);
        assert!(split_hosts("postgres://u@a,,b/db").is_err());
        assert!(split_hosts("no-scheme").is_err());
    }

    #[test]
    fn the_log_never_shows_the_password() {
        assert_eq!(
            shown("postgres://jiesu:secret@10.0.0.2:5432/jiesu"),
            "postgres://jiesu@10.0.0.2:5432/jiesu"
        );
    }

    #[test]
    fn connections_made_before_the_move_are_stale_and_later_ones_are_not() {
        let hosts = Hosts::new(vec!["postgres://a".into(), "postgres://b".into()]);
        std::thread::sleep(Duration::from_millis(30));
        hosts.moved_to(1);
        assert_eq!(hosts.current(), 1);
        assert!(hosts.writable());
        assert!(hosts.is_stale(Duration::from_millis(25)));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!hosts.is_stale(Duration::from_millis(10)));
    }

    #[test]
    fn read_only_shutdown_and_lost_connections_are_failovers_and_bad_data_is_not() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(is_failover(&io));
        assert!(is_failover(&sqlx::Error::PoolTimedOut));
        assert!(!is_failover(&sqlx::Error::RowNotFound));
    }
}
