//! Start-up configuration. Every field has an environment variable (and most a CLI flag);
//! tests build the real `Config` and override fields.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The platform's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`--addr`, `JIESU_ADDR`; default 127.0.0.1:8080).
    pub addr: SocketAddr,
    /// Data folder for the SQLite file and derived indexes (`--data-dir`, `JIESU_DATA_DIR`;
    /// default `./jiesu-data`).
    pub data_dir: PathBuf,
    /// `JIESU_DATABASE_URL`: `postgres://…` for PostgreSQL; unset means SQLite in the data
    /// folder (`jiesu.db`).
    pub database_url: Option<String>,
    /// `JIESU_ADMIN_PASSWORD`: the password of `admin` at first start; unset means a
    /// generated one, printed once.
    pub admin_password: Option<SecretString>,
    /// `JIESU_JURISDICTION`: the division code of the city this node serves (default 110000,
    /// Beijing), stored on every request, order and event.
    pub jurisdiction: String,
    /// `JIESU_UTC_OFFSET_HOURS`: the city's offset from UTC (default 8); local days decide
    /// request numbers and working days.
    pub utc_offset_hours: i32,
    /// `JIESU_SQLITE_SYNCHRONOUS`: FULL (default: a commit survives power loss) or NORMAL.
    pub sqlite_synchronous: String,
    /// `JIESU_WEBHOOK_URL`: deliver requester messages by HTTP POST there; unset means the
    /// log sender (messages are written to the log).
    pub webhook_url: Option<String>,
    /// `JIESU_SWEEP_SECONDS`: how often the deadline and outbox jobs run (default 30; 0 turns
    /// the background jobs off, as tests do to run them by hand).
    pub sweep_interval: Duration,
    /// `JIESU_PRE_BREACH_PERCENT`: an order is warned when less than this share of its reply
    /// time is left (default 20).
    pub pre_breach_percent: i64,
    /// `JIESU_MAX_UNREACHABLE`: unreachable callback attempts before a request closes as
    /// unreachable (default 3).
    pub max_unreachable_callbacks: i64,
    /// `JIESU_SESSION_HOURS`: how long a login lasts (default 12).
    pub session_hours: i64,
    /// `JIESU_MODEL_DIR`: the trained classifier (`jiesu text train --out`); default
    /// `<data dir>/model`. Absent means suggestions fall back to keywords; a folder that does
    /// not load stops the start.
    pub model_dir: Option<PathBuf>,
    /// `JIESU_SEARCH_REFRESH_MS`: how often the search index catches up with the event log
    /// (default 1000; 0 turns it off).
    pub search_refresh: Duration,
    /// `JIESU_OUTBOX_MAX_ATTEMPTS`: delivery attempts before a message is marked failed
    /// (default 10; backoff doubles from 10 s up to 1 h).
    pub outbox_max_attempts: i64,
    /// `JIESU_TRUSTED_PROXIES`: comma-separated addresses of reverse proxies in front of this
    /// node (default none). Only when the peer is one of them is `X-Forwarded-For` read, and
    /// then the client is the rightmost address in it that is not a trusted proxy; otherwise
    /// the client is the peer. Per-client limits key on this address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `JIESU_HEADER_TIMEOUT_SECS`: a connection that has not sent a whole request head within
    /// this is closed (default 10).
    pub header_read_timeout: Duration,
    /// `JIESU_BODY_TIMEOUT_SECS`: a request body that sends nothing for this long is refused
    /// with 408 (default 10).
    pub body_timeout: Duration,
    /// `JIESU_REQUEST_TIMEOUT_SECS`: a request not answered within this is answered 503
    /// `timeout` (default 30; the body's reading counts).
    pub request_timeout: Duration,
    /// `JIESU_MAX_CONNECTIONS`: open connections at most; further clients wait in the
    /// listen queue until one closes (default 1024).
    pub max_connections: usize,
    /// `JIESU_SHUTDOWN_GRACE_SECS`: on SIGTERM or Ctrl-C, how long requests in flight may
    /// take to finish before their connections are closed and the process exits (default 10).
    pub shutdown_grace: Duration,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v} is not valid")),
        _ => Ok(default),
    }
}

impl Config {
    /// Reads the environment, with defaults for what is unset.
    pub fn from_env() -> anyhow::Result<Config> {
        let nonempty = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Config {
            addr: env("JIESU_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            data_dir: env("JIESU_DATA_DIR", PathBuf::from("jiesu-data"))?,
            database_url: nonempty("JIESU_DATABASE_URL"),
            admin_password: nonempty("JIESU_ADMIN_PASSWORD").map(SecretString::from),
            jurisdiction: env("JIESU_JURISDICTION", "110000".to_string())?,
            utc_offset_hours: env("JIESU_UTC_OFFSET_HOURS", 8)?,
            sqlite_synchronous: env("JIESU_SQLITE_SYNCHRONOUS", "FULL".to_string())?,
            webhook_url: nonempty("JIESU_WEBHOOK_URL"),
            sweep_interval: Duration::from_secs(env("JIESU_SWEEP_SECONDS", 30)?),
            pre_breach_percent: env("JIESU_PRE_BREACH_PERCENT", 20)?,
            max_unreachable_callbacks: env("JIESU_MAX_UNREACHABLE", 3)?,
            session_hours: env("JIESU_SESSION_HOURS", 12)?,
            outbox_max_attempts: env("JIESU_OUTBOX_MAX_ATTEMPTS", 10)?,
            model_dir: nonempty("JIESU_MODEL_DIR").map(PathBuf::from),
            search_refresh: Duration::from_millis(env("JIESU_SEARCH_REFRESH_MS", 1000)?),
            header_read_timeout: Duration::from_secs(
                env::<u64>("JIESU_HEADER_TIMEOUT_SECS", 10)?.max(1),
            ),
            body_timeout: Duration::from_secs(env::<u64>("JIESU_BODY_TIMEOUT_SECS", 10)?.max(1)),
            request_timeout: Duration::from_secs(
                env::<u64>("JIESU_REQUEST_TIMEOUT_SECS", 30)?.max(1),
            ),
            max_connections: env::<usize>("JIESU_MAX_CONNECTIONS", 1024)?.max(1),
            shutdown_grace: Duration::from_secs(
                env::<u64>("JIESU_SHUTDOWN_GRACE_SECS", 10)?.max(1),
            ),
            trusted_proxies: match nonempty("JIESU_TRUSTED_PROXIES") {
                Some(list) => list
                    .split(',')
                    .map(|a| {
                        a.trim().parse().map_err(|_| {
                            anyhow::anyhow!("JIESU_TRUSTED_PROXIES: {a:?} is not an IP address")
                        })
                    })
                    .collect::<anyhow::Result<_>>()?,
                None => Vec::new(),
            },
        })
    }

    /// The database URL in force: the configured one, or SQLite in the data folder.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("jiesu.db").display()
            ),
        }
    }

    /// The model folder in force.
    pub fn model_dir(&self) -> PathBuf {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("model"))
    }

    /// The start of a local day, as an instant.
    /// Total: a date at the very ends of chrono's range saturates instead of panicking (dates
    /// from input are bounded to 2000..=2100 before they get here, see `jiesu_core::dates`).
    pub fn local_midnight(&self, day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
        jiesu_core::dates::local_midnight(day, self.offset())
    }

    /// The city's UTC offset.
    pub fn offset(&self) -> chrono::FixedOffset {
        self.utc_offset_hours
            .checked_mul(3600)
            .and_then(chrono::FixedOffset::east_opt)
            .unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
    }
}
