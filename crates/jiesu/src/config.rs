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
    /// `JIESU_STANDBY_DATABASE_URL`: PostgreSQL host(s) whose standby the reports (rankings,
    /// the dashboard, the maps) read from, the lag stated with them; unset: the primary.
    pub standby_database_url: Option<String>,
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
    /// `JIESU_TEXT_CONFIDENT`: a classifier suggestion whose calibrated probability is below
    /// this is marked "not sure" (不确定) for the operator (default 0.6, from the reliability
    /// table in BENCHMARKS.md; 0 never marks, 1 always does).
    pub text_confident: f64,
    /// `JIESU_RETRAIN_HOURS`: how often the learning loop retrains on the newest history and
    /// judges the candidate against the model in force (default 168, weekly; 0 turns it off).
    pub retrain_interval: Duration,
    /// `JIESU_RETRAIN_HOLDOUT_WEEKS`: the most recent weeks of closed requests held back to
    /// judge a candidate against the model in force (default 2, 1 to 52).
    pub retrain_holdout_weeks: u32,
    /// `JIESU_SEARCH_REFRESH_MS`: how often the search index catches up with the event log
    /// (default 1000; 0 turns it off).
    pub search_refresh: Duration,
    /// `JIESU_AUDIT_KEY`: the key that seals the event chain's checkpoints (at least 32
    /// characters); it wins over `JIESU_AUDIT_KEY_FILE`.
    pub audit_key: Option<SecretString>,
    /// `JIESU_AUDIT_KEY_FILE`: a file holding that key; unset means `<data dir>/audit.key`,
    /// created (0600, 32 random bytes, hex) at the server's first start.
    pub audit_key_file: Option<PathBuf>,
    /// `JIESU_AUDIT_CHECKPOINT_SECONDS`: how often the chain's head is sealed (default 60; 0
    /// turns the job off; the head is also sealed at shutdown).
    pub audit_checkpoint_interval: Duration,
    /// `JIESU_PRIVACY_RETENTION_DAYS`: requesters' names and phones are removed this many
    /// days after their request closed (default 1095, three years).
    pub privacy_retention_days: i64,
    /// `JIESU_OUTBOX_MAX_ATTEMPTS`: delivery attempts before a message is marked failed
    /// (default 10; with the default backoff that is about 2½ hours of a gateway down).
    pub outbox_max_attempts: i64,
    /// `JIESU_OUTBOX_RETRY_SECONDS`: the wait after a message's first failed attempt; it
    /// doubles with each further failure (default 10).
    pub outbox_retry_base: Duration,
    /// `JIESU_OUTBOX_RETRY_MAX_SECONDS`: the longest wait between two attempts (default 3600).
    pub outbox_retry_max: Duration,
    /// `JIESU_OUTBOX_CONCURRENCY`: messages one node hands to its sender at once (default 8,
    /// 1–256).
    pub outbox_concurrency: usize,
    /// `JIESU_TRUSTED_PROXIES`: comma-separated addresses of reverse proxies in front of this
    /// node (default none). Only when the peer is one of them is `X-Forwarded-For` read, and
    /// then the client is the rightmost address in it that is not a trusted proxy; otherwise
    /// the client is the peer. Per-client limits key on this address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Per-client-address limits (the address of `JIESU_TRUSTED_PROXIES`), each `N/S` (N
    /// requests per S seconds, at most N at once; one more is allowed every S/N seconds) or
    /// `off`; over it the answer is 429 with `Retry-After`. Kept in each node's memory.
    /// `JIESU_RATE_TRACK` (default 20/60): the portal's tracking form.
    pub rate_track: Option<RateLimit>,
    /// `JIESU_RATE_PORTAL` (default 10/3600): submissions on the public portal (citizen and
    /// enterprise forms).
    pub rate_portal: Option<RateLimit>,
    /// `JIESU_RATE_LOGIN` (default 30/60): the login form and `POST /auth/token` (the
    /// per-account throttle is separate).
    pub rate_login: Option<RateLimit>,
    /// `JIESU_RATE_SUGGEST` (default 600/60): intake suggestions (`POST /requests/suggest`
    /// and the intake page's live suggestions).
    pub rate_suggest: Option<RateLimit>,
    /// `JIESU_RATE_OPEN311` (default 600/60): Open311 submissions per client key (each key its
    /// own allowance, in each node's memory); over it 429. Ten a second stops a runaway client
    /// (a city's whole hotline takes about one a second) and lets the conformance kit's burst
    /// of a few hundred submissions through.
    pub rate_open311: Option<RateLimit>,
    /// `JIESU_TRACK_MAX_ATTEMPTS` (default 10) tracking attempts per request number per
    /// `JIESU_TRACK_WINDOW_SECONDS` (default 900); further attempts at that number, right or
    /// wrong, wait for the window's end (429). Counted in the database, so across nodes.
    pub track_max_attempts: i64,
    /// See `track_max_attempts`.
    pub track_window: Duration,
    /// `JIESU_PORTAL_BODY_LIMIT` (default 262144 bytes: the form's 20,000-character text, URL-encoded, fits): the largest portal form accepted
    /// (staff forms and the API take up to 1 MiB); over it, 413.
    pub portal_body_limit: usize,
    // issue 16: logins
    /// `JIESU_SESSION_IDLE_MINUTES`: a session (browser cookie or API bearer token) unused
    /// this long ends (default 30; 0 turns the idle timeout off).
    pub session_idle_minutes: i64,
    /// `JIESU_LOGIN_HASHERS`: password checks run at once (default: the CPU count); each
    /// takes ~19 MiB while it runs.
    pub login_hashers: usize,
    /// `JIESU_LOGIN_QUEUE`: logins that may wait for a password check (default 32); more are
    /// answered 503 with `Retry-After`.
    pub login_queue: usize,
    /// `JIESU_SECURE_COOKIES`: `1` marks cookies `Secure` with the `__Host-` prefix (served
    /// over HTTPS), `0` never; unset (auto) does so when a trusted proxy
    /// (`JIESU_TRUSTED_PROXIES`) says `X-Forwarded-Proto: https`.
    pub secure_cookies: Option<bool>,
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
    /// `JIESU_METRICS_TOKEN`: when set (16 characters or more), `GET /metrics` wants
    /// `Authorization: Bearer` with it; unset, only clients on this host are answered.
    pub metrics_token: Option<SecretString>,
    /// `JIESU_METRICS_REFRESH_SECONDS`: how often the gauges that need queries (orders,
    /// outbox, chain head...) are recounted (default 15; 0: at every scrape instead).
    pub metrics_refresh: Duration,
    // issue 19: SMS through a gateway
    /// The Kannel gateway requester messages go through (`JIESU_KANNEL_URL` and friends);
    /// when set it wins over `JIESU_WEBHOOK_URL`.
    pub kannel: Option<KannelConfig>,
    /// `JIESU_SMS_TEXTS`: `1` writes the SMS-only texts (receipt at intake, rating request)
    /// and applies the SMS rules (opt-out, quiet hours, daily cap) to every requester
    /// message; default on when `JIESU_KANNEL_URL` is set, off otherwise.
    pub sms_texts: bool,
    /// `JIESU_SMS_SECRET`: the shared secret the gateway sends back to
    /// `/api/v1/sms/inbound` and `/api/v1/sms/dlr` (`secret` parameter or `X-Sms-Secret`
    /// header; 16+ characters). Unset: both answer 401.
    pub sms_secret: Option<SecretString>,
    /// `JIESU_SMS_CALLBACK_URL`: where the gateway reaches this node (e.g.
    /// `http://10.0.0.5:8080`), for the delivery-report URL of each message.
    pub sms_callback_url: Option<String>,
    /// `JIESU_SMS_DAILY_LIMIT`: texts to one number per local day at most (default 10);
    /// more are not sent (an event says so).
    pub sms_daily_limit: i64,
    /// `JIESU_SMS_QUIET_HOURS`: `22-8` (default): texts to requesters written from 22:00 to
    /// 08:00 local time wait for 08:00, except receipts of emergencies; `off` for none.
    pub sms_quiet_hours: Option<(u32, u32)>,
    /// `JIESU_SMS_UNIT_QUIET_HOURS`: `22-8` (default): reminders to units (催办) written from
    /// 22:00 to 08:00 local time wait for 08:00, except those of emergency orders; `off`.
    pub sms_unit_quiet_hours: Option<(u32, u32)>,
    /// `JIESU_SMS_UNIT_HOURLY_LIMIT`: reminders to one unit per clock hour at most (default
    /// 20); more wait for the next hour with room.
    pub sms_unit_hourly_limit: i64,
    /// `JIESU_SMS_RATING_HOURS`: how long a rating asked by SMS holds the request out of the
    /// callback agents' queue (default 24).
    pub sms_rating_hours: i64,
    /// `JIESU_SMS_LANGUAGE`: `zh` (default) or `en`, the template language sent.
    pub sms_language: String,
    // issue 20: attachments
    /// Where attachments are kept and how large they may be (the `JIESU_ATTACHMENTS_DIR` family below).
    pub attachments: AttachmentSettings,
}

/// Attachments (issue 20): storage, size limits per kind, the scan hook.
#[derive(Debug, Clone)]
pub struct AttachmentSettings {
    /// `JIESU_ATTACHMENTS_DIR`: keep the bytes in files named by their hash in this folder
    /// instead of in the database (every node must see the same folder).
    pub dir: Option<PathBuf>,
    /// `JIESU_ATTACHMENTS_MAX_PHOTO_MB` (default 20): the largest photo.
    pub max_photo: u64,
    /// `JIESU_ATTACHMENTS_MAX_AUDIO_MB` (default 50): the largest recording.
    pub max_audio: u64,
    /// `JIESU_ATTACHMENTS_MAX_VIDEO_MB` (default 100): the largest video.
    pub max_video: u64,
    /// `JIESU_ATTACHMENTS_MAX_PDF_MB` (default 20): the largest PDF.
    pub max_pdf: u64,
    /// `JIESU_ATTACHMENTS_KEEP_ORIGINAL` (default 0): 1 also keeps a photo as uploaded,
    /// EXIF and all, visible to the center only.
    pub keep_original: bool,
    /// `JIESU_ATTACHMENTS_SCAN_COMMAND`: a virus scanner run through `sh -c` with the file's
    /// path as `$1` and its bytes on standard input; a non-zero exit refuses the upload.
    pub scan_command: Option<String>,
}

impl AttachmentSettings {
    fn from_env() -> anyhow::Result<AttachmentSettings> {
        let nonempty = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mb = |name: &str, default: u64| -> anyhow::Result<u64> {
            Ok(env::<u64>(name, default)?.max(1) * 1024 * 1024)
        };
        Ok(AttachmentSettings {
            dir: nonempty("JIESU_ATTACHMENTS_DIR").map(PathBuf::from),
            max_photo: mb("JIESU_ATTACHMENTS_MAX_PHOTO_MB", 20)?,
            max_audio: mb("JIESU_ATTACHMENTS_MAX_AUDIO_MB", 50)?,
            max_video: mb("JIESU_ATTACHMENTS_MAX_VIDEO_MB", 100)?,
            max_pdf: mb("JIESU_ATTACHMENTS_MAX_PDF_MB", 20)?,
            keep_original: match nonempty("JIESU_ATTACHMENTS_KEEP_ORIGINAL").as_deref() {
                None | Some("0") => false,
                Some("1") => true,
                Some(v) => {
                    anyhow::bail!("JIESU_ATTACHMENTS_KEEP_ORIGINAL={v} is not valid: 1 or 0")
                }
            },
            scan_command: nonempty("JIESU_ATTACHMENTS_SCAN_COMMAND"),
        })
    }
}

/// Kannel's `sendsms` interface (smsbox).
#[derive(Debug, Clone)]
pub struct KannelConfig {
    /// `JIESU_KANNEL_URL`: the sendsms URL, e.g. `http://127.0.0.1:13013/cgi-bin/sendsms`.
    pub url: String,
    /// `JIESU_KANNEL_USER`: the sendsms-user's name (default `jiesu`).
    pub username: String,
    /// `JIESU_KANNEL_PASSWORD`: its password.
    pub password: SecretString,
    /// `JIESU_KANNEL_FROM`: the sender number shown to requesters (default 12345).
    pub from: String,
}

/// Every environment variable Jiesu reads: (name, default, meaning). `jiesu serve --help`
/// lists them; a test keeps every `JIESU_` name in the sources in here.
pub const ENV_VARS: &[(&str, &str, &str)] = &[
    (
        "JIESU_ADDR",
        "127.0.0.1:8080",
        "address to listen on (also --addr)",
    ),
    (
        "JIESU_DATA_DIR",
        "./jiesu-data",
        "data folder: SQLite file, derived indexes, model, audit key (also --data-dir)",
    ),
    (
        "JIESU_DATABASE_URL",
        "SQLite in the data folder",
        "postgres://… for PostgreSQL (several hosts h1:p1,h2:p2: the one that takes writes), or sqlite:…",
    ),
    (
        "JIESU_STANDBY_DATABASE_URL",
        "unset: reports read the primary",
        "PostgreSQL host(s) whose standby the ranking, dashboard and maps read from, lag stated",
    ),
    (
        "JIESU_ADMIN_PASSWORD",
        "generated, printed once",
        "the password of admin at first start",
    ),
    (
        "JIESU_JURISDICTION",
        "110000",
        "division code of the city this node serves",
    ),
    (
        "JIESU_UTC_OFFSET_HOURS",
        "8",
        "the city's offset from UTC; local days decide numbers and working days",
    ),
    (
        "JIESU_SQLITE_SYNCHRONOUS",
        "FULL",
        "FULL (a commit survives power loss) or NORMAL",
    ),
    (
        "JIESU_WEBHOOK_URL",
        "unset: the log sender",
        "deliver requester messages by HTTP POST there",
    ),
    (
        "JIESU_SWEEP_SECONDS",
        "30",
        "how often the deadline and outbox jobs run (0: off)",
    ),
    (
        "JIESU_PRE_BREACH_PERCENT",
        "20",
        "warn an order when less than this share of its reply time is left",
    ),
    (
        "JIESU_MAX_UNREACHABLE",
        "3",
        "unreachable callback attempts before a request closes as unreachable",
    ),
    ("JIESU_SESSION_HOURS", "12", "how long a login lasts"),
    (
        "JIESU_SESSION_IDLE_MINUTES",
        "30",
        "a session unused this long ends (0: no idle timeout)",
    ),
    (
        "JIESU_MODEL_DIR",
        "<data dir>/model",
        "the trained classifier (jiesu text train --out)",
    ),
    (
        "JIESU_TEXT_CONFIDENT",
        "0.6",
        "classifier suggestions below this calibrated probability are marked not sure (不确定)",
    ),
    (
        "JIESU_RETRAIN_HOURS",
        "168",
        "how often the learning loop retrains on the newest history (0: off)",
    ),
    (
        "JIESU_RETRAIN_HOLDOUT_WEEKS",
        "2",
        "recent weeks held back to judge a retrained model against the one in force",
    ),
    (
        "JIESU_SEARCH_REFRESH_MS",
        "1000",
        "how often the search index catches up with the event log (0: off)",
    ),
    (
        "JIESU_AUDIT_KEY",
        "unset",
        "the key (32+ characters) sealing the event chain's checkpoints",
    ),
    (
        "JIESU_AUDIT_KEY_FILE",
        "<data dir>/audit.key",
        "a file holding that key (created at first start)",
    ),
    (
        "JIESU_AUDIT_CHECKPOINT_SECONDS",
        "60",
        "how often the chain's head is sealed (0: off)",
    ),
    (
        "JIESU_PRIVACY_RETENTION_DAYS",
        "1095",
        "requesters' names and phones are removed this long after closing (30-36500)",
    ),
    (
        "JIESU_OUTBOX_MAX_ATTEMPTS",
        "10",
        "delivery attempts before a message is marked failed",
    ),
    (
        "JIESU_OUTBOX_RETRY_SECONDS",
        "10",
        "wait after a message's first failed delivery; doubles with each further failure",
    ),
    (
        "JIESU_OUTBOX_RETRY_MAX_SECONDS",
        "3600",
        "longest wait between two delivery attempts",
    ),
    (
        "JIESU_OUTBOX_CONCURRENCY",
        "8",
        "messages one node hands to its sender (SMS gateway, webhook) at once, 1-256",
    ),
    (
        "JIESU_TRUSTED_PROXIES",
        "none",
        "comma-separated reverse proxies whose X-Forwarded-For is read",
    ),
    (
        "JIESU_RATE_TRACK",
        "20/60",
        "per-address limit of the portal's tracking form (N/SECONDS or off)",
    ),
    (
        "JIESU_RATE_PORTAL",
        "10/3600",
        "per-address limit of portal submissions (N/SECONDS or off)",
    ),
    (
        "JIESU_RATE_LOGIN",
        "30/60",
        "per-address limit of logins (N/SECONDS or off)",
    ),
    (
        "JIESU_RATE_SUGGEST",
        "600/60",
        "per-address limit of intake suggestions (N/SECONDS or off)",
    ),
    (
        "JIESU_TRACK_MAX_ATTEMPTS",
        "10",
        "tracking attempts per request number per window",
    ),
    (
        "JIESU_TRACK_WINDOW_SECONDS",
        "900",
        "the window of JIESU_TRACK_MAX_ATTEMPTS",
    ),
    (
        "JIESU_PORTAL_BODY_LIMIT",
        "262144",
        "the largest portal form accepted, in bytes",
    ),
    (
        "JIESU_LOGIN_HASHERS",
        "the CPU count",
        "password checks run at once (~19 MiB each)",
    ),
    (
        "JIESU_LOGIN_QUEUE",
        "32",
        "logins that may wait for a password check; more get 503",
    ),
    (
        "JIESU_SECURE_COOKIES",
        "auto",
        "1: Secure __Host- cookies, 0: never, auto: when a trusted proxy says https",
    ),
    (
        "JIESU_HEADER_TIMEOUT_SECS",
        "10",
        "a connection must send a whole request head within this",
    ),
    (
        "JIESU_BODY_TIMEOUT_SECS",
        "10",
        "a request body that sends nothing this long gets 408",
    ),
    (
        "JIESU_REQUEST_TIMEOUT_SECS",
        "30",
        "a request not answered within this gets 503 timeout",
    ),
    ("JIESU_MAX_CONNECTIONS", "1024", "open connections at most"),
    (
        "JIESU_SHUTDOWN_GRACE_SECS",
        "10",
        "how long requests in flight may finish after SIGTERM",
    ),
    (
        "JIESU_RATE_OPEN311",
        "600/60",
        "Open311 submissions per client key (N/SECONDS or off)",
    ),
    (
        "JIESU_METRICS_TOKEN",
        "unset: this host only",
        "GET /metrics wants Authorization: Bearer with it (16+ characters)",
    ),
    (
        "JIESU_METRICS_REFRESH_SECONDS",
        "15",
        "how often the gauges that need queries are recounted (0: at every scrape)",
    ),
    (
        "JIESU_KANNEL_URL",
        "unset",
        "Kannel's sendsms URL: requester messages go out as SMS through it",
    ),
    ("JIESU_KANNEL_USER", "jiesu", "Kannel sendsms-user name"),
    (
        "JIESU_KANNEL_PASSWORD",
        "unset",
        "Kannel sendsms-user password",
    ),
    (
        "JIESU_KANNEL_FROM",
        "12345",
        "the sender number requesters see",
    ),
    (
        "JIESU_SMS_TEXTS",
        "1 with Kannel, else 0",
        "write receipts and rating texts and apply the SMS rules",
    ),
    (
        "JIESU_SMS_SECRET",
        "unset: 401",
        "shared secret of /api/v1/sms/inbound and /api/v1/sms/dlr (16+ characters)",
    ),
    (
        "JIESU_SMS_CALLBACK_URL",
        "unset",
        "where the gateway reaches this node, for delivery reports",
    ),
    (
        "JIESU_SMS_DAILY_LIMIT",
        "10",
        "texts to one number per local day at most",
    ),
    (
        "JIESU_SMS_QUIET_HOURS",
        "22-8",
        "local hours when requester texts wait (except emergency receipts), or off",
    ),
    (
        "JIESU_SMS_UNIT_QUIET_HOURS",
        "22-8",
        "local hours when reminders to units wait (except emergency orders), or off",
    ),
    (
        "JIESU_SMS_UNIT_HOURLY_LIMIT",
        "20",
        "reminders to one unit per clock hour; more wait for the next hour",
    ),
    (
        "JIESU_SMS_RATING_HOURS",
        "24",
        "how long an SMS rating holds a request out of the callback queue",
    ),
    (
        "JIESU_SMS_LANGUAGE",
        "zh",
        "zh or en: the template language sent",
    ),
    (
        "JIESU_ATTACHMENTS_DIR",
        "unset: in the database",
        "keep attachment bytes in this folder, named by their hash",
    ),
    (
        "JIESU_ATTACHMENTS_MAX_PHOTO_MB",
        "20",
        "the largest photo accepted (JPEG, PNG, WebP)",
    ),
    (
        "JIESU_ATTACHMENTS_MAX_AUDIO_MB",
        "50",
        "the largest recording accepted (WAV, MP3, AMR)",
    ),
    (
        "JIESU_ATTACHMENTS_MAX_VIDEO_MB",
        "100",
        "the largest video accepted (MP4)",
    ),
    (
        "JIESU_ATTACHMENTS_MAX_PDF_MB",
        "20",
        "the largest PDF accepted",
    ),
    (
        "JIESU_ATTACHMENTS_KEEP_ORIGINAL",
        "0",
        "1: also keep photos as uploaded (EXIF and all), for the center only",
    ),
    (
        "JIESU_ATTACHMENTS_SCAN_COMMAND",
        "unset",
        "virus scan: sh -c COMMAND with the file as $1 and on stdin; non-zero refuses",
    ),
    (
        "JIESU_LOG",
        "info,sqlx=warn",
        "log filter (tracing EnvFilter syntax)",
    ),
    (
        "JIESU_LOG_FORMAT",
        "text",
        "text, or json: one JSON object per log line",
    ),
    (
        "JIESU_DEMO_PASSWORD",
        "jiesu-demo",
        "jiesu demo only: the demo users' password",
    ),
];

/// The environment variables as a help text: one line each, name, default and meaning.
pub fn env_help() -> String {
    let width = ENV_VARS.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
    let mut out = String::from("Environment variables (default in brackets):\n");
    for (name, default, meaning) in ENV_VARS {
        out.push_str(&format!("  {name:<width$}  {meaning} [{default}]\n"));
    }
    out
}

/// A per-client rate: `count` requests per `per`, at most `count` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per period, and the most at once.
    pub count: u32,
    /// The period.
    pub per: Duration,
}

impl RateLimit {
    /// `N/S` (N ≥ 1 requests per S ≥ 1 seconds), or `off`/`0` for none.
    pub fn parse(s: &str) -> Option<Option<RateLimit>> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") || s == "0" {
            return Some(None);
        }
        let (n, secs) = s.split_once('/')?;
        let count: u32 = n.trim().parse().ok().filter(|n| *n > 0)?;
        let secs: u64 = secs.trim().parse().ok().filter(|s| *s > 0)?;
        Some(Some(RateLimit {
            count,
            per: Duration::from_secs(secs),
        }))
    }
}

fn rate(name: &str, default: &str) -> anyhow::Result<Option<RateLimit>> {
    let v = std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string());
    RateLimit::parse(&v).ok_or_else(|| {
        anyhow::anyhow!("{name}={v} is not valid: give N/SECONDS (e.g. 20/60) or off")
    })
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v.parse().map_err(|_| {
            let want = match std::any::type_name::<T>() {
                "u64" | "usize" => "a whole number, 0 or more",
                "i32" | "i64" => "a whole number",
                t if t.ends_with("SocketAddr") => "an address such as 127.0.0.1:8080",
                _ => "see jiesu serve --help",
            };
            anyhow::anyhow!("{name}={v} is not valid: give {want}")
        }),
        _ => Ok(default),
    }
}

fn kannel_from_env() -> anyhow::Result<Option<KannelConfig>> {
    let nonempty = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let Some(url) = nonempty("JIESU_KANNEL_URL") else {
        return Ok(None);
    };
    Ok(Some(KannelConfig {
        url,
        username: nonempty("JIESU_KANNEL_USER").unwrap_or_else(|| "jiesu".into()),
        password: SecretString::from(nonempty("JIESU_KANNEL_PASSWORD").ok_or_else(|| {
            anyhow::anyhow!("JIESU_KANNEL_URL is set: give JIESU_KANNEL_PASSWORD too")
        })?),
        from: nonempty("JIESU_KANNEL_FROM").unwrap_or_else(|| "12345".into()),
    }))
}

/// `FROM-TO` local hours (`22-8`), or `off`: `Some(None)`; `None` when not valid.
pub fn parse_quiet_hours(v: &str) -> Option<Option<(u32, u32)>> {
    if v.trim().eq_ignore_ascii_case("off") {
        return Some(None);
    }
    let (from, to) = v.trim().split_once('-')?;
    let (from, to): (u32, u32) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
    (from < 24 && to < 24 && from != to).then_some(Some((from, to)))
}

impl Config {
    /// Reads the environment, with defaults for what is unset.
    pub fn from_env() -> anyhow::Result<Config> {
        let nonempty = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Ok(Config {
            addr: env("JIESU_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            data_dir: env("JIESU_DATA_DIR", PathBuf::from("jiesu-data"))?,
            database_url: nonempty("JIESU_DATABASE_URL"),
            standby_database_url: nonempty("JIESU_STANDBY_DATABASE_URL"),
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
            outbox_retry_base: Duration::from_secs(env("JIESU_OUTBOX_RETRY_SECONDS", 10)?),
            outbox_retry_max: Duration::from_secs(env("JIESU_OUTBOX_RETRY_MAX_SECONDS", 3600)?),
            outbox_concurrency: match env("JIESU_OUTBOX_CONCURRENCY", 8usize)? {
                n @ 1..=256 => n,
                _ => anyhow::bail!("JIESU_OUTBOX_CONCURRENCY must be 1-256"),
            },
            audit_key: nonempty("JIESU_AUDIT_KEY").map(SecretString::from),
            audit_key_file: nonempty("JIESU_AUDIT_KEY_FILE").map(PathBuf::from),
            audit_checkpoint_interval: Duration::from_secs(env(
                "JIESU_AUDIT_CHECKPOINT_SECONDS",
                60,
            )?),
            privacy_retention_days: match env("JIESU_PRIVACY_RETENTION_DAYS", 1095i64)? {
                d if (30..=36_500).contains(&d) => d,
                d => anyhow::bail!("JIESU_PRIVACY_RETENTION_DAYS={d}: give 30 to 36500 days"),
            },
            model_dir: nonempty("JIESU_MODEL_DIR").map(PathBuf::from),
            text_confident: match env("JIESU_TEXT_CONFIDENT", 0.6f64)? {
                p if (0.0..=1.0).contains(&p) => p,
                p => anyhow::bail!("JIESU_TEXT_CONFIDENT={p}: give a probability from 0 to 1"),
            },
            retrain_interval: Duration::from_secs(env::<u64>("JIESU_RETRAIN_HOURS", 168)? * 3600),
            retrain_holdout_weeks: match env("JIESU_RETRAIN_HOLDOUT_WEEKS", 2u32)? {
                w if (1..=52).contains(&w) => w,
                w => anyhow::bail!("JIESU_RETRAIN_HOLDOUT_WEEKS={w}: give 1 to 52 weeks"),
            },
            search_refresh: Duration::from_millis(env("JIESU_SEARCH_REFRESH_MS", 1000)?),
            session_idle_minutes: env("JIESU_SESSION_IDLE_MINUTES", 30)?,
            login_hashers: env(
                "JIESU_LOGIN_HASHERS",
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )?
            .max(1),
            login_queue: env("JIESU_LOGIN_QUEUE", 32)?,
            secure_cookies: match nonempty("JIESU_SECURE_COOKIES").as_deref() {
                None | Some("auto") => None,
                Some("1" | "true" | "yes") => Some(true),
                Some("0" | "false" | "no") => Some(false),
                Some(v) => anyhow::bail!("JIESU_SECURE_COOKIES={v} is not valid: 1, 0 or auto"),
            },
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
            rate_track: rate("JIESU_RATE_TRACK", "20/60")?,
            rate_portal: rate("JIESU_RATE_PORTAL", "10/3600")?,
            rate_login: rate("JIESU_RATE_LOGIN", "30/60")?,
            rate_suggest: rate("JIESU_RATE_SUGGEST", "600/60")?,
            rate_open311: rate("JIESU_RATE_OPEN311", "600/60")?,
            track_max_attempts: env("JIESU_TRACK_MAX_ATTEMPTS", 10_i64)?.max(1),
            track_window: Duration::from_secs(env("JIESU_TRACK_WINDOW_SECONDS", 900_u64)?.max(1)),
            portal_body_limit: env("JIESU_PORTAL_BODY_LIMIT", 262_144_usize)?.max(1024),
            metrics_token: match nonempty("JIESU_METRICS_TOKEN") {
                Some(t) if t.trim().chars().count() < 16 => anyhow::bail!(
                    "JIESU_METRICS_TOKEN is too short: give at least 16 characters (or unset it to answer /metrics to this host only)"
                ),
                t => t.map(|t| SecretString::from(t.trim().to_string())),
            },
            metrics_refresh: Duration::from_secs(env("JIESU_METRICS_REFRESH_SECONDS", 15_u64)?),
            kannel: kannel_from_env()?,
            sms_texts: match nonempty("JIESU_SMS_TEXTS").as_deref() {
                None => nonempty("JIESU_KANNEL_URL").is_some(),
                Some("1") => true,
                Some("0") => false,
                Some(v) => anyhow::bail!("JIESU_SMS_TEXTS={v} is not valid: 1 or 0"),
            },
            sms_secret: match nonempty("JIESU_SMS_SECRET") {
                Some(t) if t.trim().chars().count() < 16 => {
                    anyhow::bail!("JIESU_SMS_SECRET is too short: give at least 16 characters")
                }
                t => t.map(|t| SecretString::from(t.trim().to_string())),
            },
            sms_callback_url: nonempty("JIESU_SMS_CALLBACK_URL"),
            sms_daily_limit: env("JIESU_SMS_DAILY_LIMIT", 10_i64)?.max(1),
            sms_quiet_hours: match nonempty("JIESU_SMS_QUIET_HOURS") {
                None => Some((22, 8)),
                Some(v) => parse_quiet_hours(&v).ok_or_else(|| {
                    anyhow::anyhow!("JIESU_SMS_QUIET_HOURS={v} is not valid: give FROM-TO hours (22-8) or off")
                })?,
            },
            sms_unit_quiet_hours: match nonempty("JIESU_SMS_UNIT_QUIET_HOURS") {
                None => Some((22, 8)),
                Some(v) => parse_quiet_hours(&v).ok_or_else(|| {
                    anyhow::anyhow!("JIESU_SMS_UNIT_QUIET_HOURS={v} is not valid: give FROM-TO hours (22-8) or off")
                })?,
            },
            sms_unit_hourly_limit: env("JIESU_SMS_UNIT_HOURLY_LIMIT", 20_i64)?.max(1),
            sms_rating_hours: env("JIESU_SMS_RATING_HOURS", 24_i64)?.max(0),
            sms_language: match nonempty("JIESU_SMS_LANGUAGE").as_deref() {
                None | Some("zh") => "zh".into(),
                Some("en") => "en".into(),
                Some(v) => anyhow::bail!("JIESU_SMS_LANGUAGE={v} is not valid: zh or en"),
            },
            attachments: AttachmentSettings::from_env()?,
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

#[cfg(test)]
mod tests {
    use super::ENV_VARS;

    /// Every `JIESU_` name in the sources is in `ENV_VARS` (so `serve --help` lists it), once.
    #[test]
    fn every_environment_variable_is_listed() {
        let listed: std::collections::HashSet<&str> = ENV_VARS.iter().map(|v| v.0).collect();
        assert_eq!(listed.len(), ENV_VARS.len(), "a name listed twice");
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let (mut stack, mut missing) = (vec![root], Vec::new());
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap_or_default();
                for (at, _) in src.match_indices("JIESU_") {
                    let name: String = src[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if name != "JIESU_" && !listed.contains(name.as_str()) {
                        missing.push(format!("{}: {name}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "not in config::ENV_VARS: {missing:?}");
    }
}
