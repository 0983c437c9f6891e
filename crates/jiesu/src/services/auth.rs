//! Logins and sessions. Passwords are argon2 hashes, checked a few at a time (a flood of
//! logins waits in a bounded queue or is turned away, instead of taking the memory). Failed
//! logins are counted in the database, so every node enforces them, by one atomic UPDATE per
//! attempt (`store::logins`), per (account, client address) and per account:
//!
//! * a source may fail [`FREE_FAILURES`] times on an account; then it waits 1 s, doubling
//!   with each further failure up to 15 min. Another source is not held back by it, so an
//!   attacker elsewhere cannot keep the owner (or `admin`) out;
//! * past [`ACCOUNT_CEILING`] failures on an account from all sources together, every source
//!   gets one free failure instead of five: a guesser with many addresses is slowed, the
//!   owner is not locked out (a right password from a source with no failures goes through);
//! * counters quiet for [`FORGET_MS`] start again.
//!
//! Unknown usernames, wrong passwords and disabled users get the same answer (401, then 429
//! on the same count, keyed on the name as typed) after the same work (one argon2 check).
//! Users themselves (create, disable, passwords, revocation) are in `services::accounts`.

use super::AppState;
use crate::error::AppError;
use crate::store::logins::{self, Gate};
use crate::store::users;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use jiesu_core::Actor;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

pub use super::accounts::{create_user, ensure_admin, hash_password, list_users};
pub use crate::store::logins::account_key;

/// Failures a source may make on an account before it must wait.
pub const FREE_FAILURES: i64 = 5;
/// Failures on one account from all sources after which each source has one free failure.
pub const ACCOUNT_CEILING: i64 = 50;
/// A counter with no attempt for this long (1 h) starts again.
pub const FORGET_MS: i64 = 3_600_000;

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash no password matches in practice, checked for unknown names so that they cost what
/// a known name costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    hash_password(&hex::encode(b)).unwrap_or_default()
});

/// The SHA-256 digest under which a session token is stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session.
#[derive(Debug, serde::Serialize)]
pub struct Session {
    /// The bearer token (also the browser cookie value).
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The node's bound on password checks, and the key that signs anonymous CSRF secrets.
pub struct LoginGate {
    hashers: tokio::sync::Semaphore,
    queue: usize,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak: AtomicUsize,
    /// Signs the anti-forgery secret browsers get before login (shared by every node).
    pub anon_key: Vec<u8>,
}

/// A running password check: counted while it lives.
struct Hashing<'a> {
    gate: &'a LoginGate,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Drop for Hashing<'_> {
    fn drop(&mut self) {
        self.gate.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl LoginGate {
    /// A gate for `hashers` checks at once and `queue` waiting, with the shared key.
    pub fn new(hashers: usize, queue: usize, anon_key: Vec<u8>) -> LoginGate {
        LoginGate {
            hashers: tokio::sync::Semaphore::new(hashers.max(1)),
            queue,
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            anon_key,
        }
    }

    /// Loads (or creates) the shared key and builds the gate the configuration asks for.
    pub async fn load(
        store: &crate::store::Store,
        config: &crate::config::Config,
        now: DateTime<Utc>,
    ) -> anyhow::Result<LoginGate> {
        let mut fresh = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        let mut tx = store.begin().await?;
        let key = logins::server_key(
            &mut tx,
            "anon_csrf",
            &hex::encode(fresh),
            crate::store::millis(now),
        )
        .await?;
        tx.commit().await?;
        Ok(LoginGate::new(
            config.login_hashers,
            config.login_queue,
            key.into_bytes(),
        ))
    }

    /// The most password checks that ran at once on this node.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    /// A turn at checking a password, or `Busy` when the queue is full.
    async fn enter(&self) -> Result<Hashing<'_>, AppError> {
        let permit = match self.hashers.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(AppError::Busy(1));
                }
                let p = self.hashers.acquire().await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                p.map_err(|e| AppError::Internal(e.into()))?
            }
        };
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Ok(Hashing {
            gate: self,
            _permit: permit,
        })
    }
}

/// Checks `password` against `hash` (or the dummy hash) on a blocking thread, holding a turn.
async fn check(state: &AppState, password: &str, hash: Option<String>) -> Result<bool, AppError> {
    let turn = state.logins.enter().await?;
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            let _ = verify_password(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    drop(turn);
    Ok(ok)
}

/// Logs in from `client` and starts a session (see the module doc for the throttle).
pub async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    client: IpAddr,
) -> Result<Session, AppError> {
    let now = state.clock.now();
    let (now_ms, forget) = (now.timestamp_millis(), now.timestamp_millis() - FORGET_MS);
    let account = account_key(username);
    let (source, whole) = (format!("s:{account}:{client}"), format!("a:{account}"));
    let free = if logins::failures(state.store.reader(), &whole, forget).await? >= ACCOUNT_CEILING {
        1
    } else {
        FREE_FAILURES
    };
    let mut tx = state.store.begin().await?;
    let gate = logins::admit(&mut tx, &source, &account, now_ms, forget, free).await?;
    tx.commit().await?;
    if let Gate::Blocked { until } = gate {
        return Err(AppError::TooManyAttempts((until - now_ms + 999) / 1000));
    }
    let user = users::by_username(state.store.reader(), username).await?;
    let judged = check(
        state,
        password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let ok = match judged {
        Ok(ok) => ok,
        Err(e) => {
            // Not judged (the queue was full): the attempt does not count.
            let mut tx = state.store.begin().await?;
            logins::give_back(&mut tx, &source).await?;
            tx.commit().await?;
            return Err(e);
        }
    };
    let mut tx = state.store.begin().await?;
    let Some(user) = user.filter(|u| ok && u.active) else {
        logins::count_failure(&mut tx, &whole, &account, now_ms, forget).await?;
        tx.commit().await?;
        metrics::counter!(crate::telemetry::LOGIN_FAILURES).increment(1);
        return Err(AppError::BadCredentials);
    };
    logins::give_back(&mut tx, &source).await?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let expires_at = now + Duration::hours(state.config.session_hours);
    users::start_session(&mut tx, &user.id, &token_digest(&token), now, expires_at).await?;
    tx.commit().await?;
    Ok(Session { token, expires_at })
}

/// Ends a session.
pub async fn logout(state: &AppState, token: &str) -> Result<(), AppError> {
    let digest = token_digest(token);
    let mut tx = state.store.begin().await?;
    users::end_session(&mut tx, &digest).await?;
    tx.commit().await?;
    state.sessions.forget(&digest);
    Ok(())
}

/// How long a node trusts a session it looked up without asking the database again: the
/// longest a logout on another node goes unnoticed here. A logout on this node is immediate.
pub const SESSION_CACHE_SECONDS: u64 = 5;

/// The sessions a node looked up in the last [`SESSION_CACHE_SECONDS`]: every API call
/// carries its bearer token, and at intake rates the lookup was two of the few queries a
/// request costs.
#[derive(Default)]
pub struct SessionCache {
    entries: std::sync::Mutex<HashMap<String, CachedSession>>,
}

struct CachedSession {
    actor: Actor,
    expires_at: DateTime<Utc>,
    fetched: std::time::Instant,
    /// The platform clock's time when fetched: an entry is also stale once that clock moved
    /// on (the idle timeout is checked against it).
    fetched_at: DateTime<Utc>,
}

/// Entries kept at most; the map is emptied when full (sessions are cheap to look up again).
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Actor> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let c = entries.get(digest)?;
        let fresh = c.fetched.elapsed().as_secs() < SESSION_CACHE_SECONDS
            && now >= c.fetched_at
            && (now - c.fetched_at).num_seconds() < SESSION_CACHE_SECONDS as i64;
        (fresh && c.expires_at > now).then(|| c.actor.clone())
    }

    fn put(&self, digest: String, actor: Actor, expires_at: DateTime<Utc>, now: DateTime<Utc>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SESSION_CACHE_MAX {
            entries.clear();
        }
        entries.insert(
            digest,
            CachedSession {
                actor,
                expires_at,
                fetched: std::time::Instant::now(),
                fetched_at: now,
            },
        );
    }

    /// Drops a session (at logout).
    pub fn forget(&self, digest: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(digest);
    }

    /// Drops every session (when users change).
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// The actor behind a token, if the session is live.
pub async fn actor_for_token(state: &AppState, token: &str) -> Result<Option<Actor>, AppError> {
    let digest = token_digest(token);
    let now = state.clock.now();
    if let Some(actor) = state.sessions.get(&digest, now) {
        return Ok(Some(actor));
    }
    let idle_ms = state.config.session_idle_minutes * 60_000;
    let idle_since = if idle_ms > 0 {
        now.timestamp_millis() - idle_ms
    } else {
        i64::MIN
    };
    let found = users::actor_for_session(state.store.reader(), &digest, now, idle_since).await?;
    let Some((actor, expires_at, last_seen)) = found else {
        return Ok(None);
    };
    // Marked used at most once per 1/30 of the idle timeout (a minute at the default).
    let stale = now.timestamp_millis() - (idle_ms / 30).max(1000);
    if idle_ms > 0 && last_seen < stale {
        let mut tx = state.store.begin().await?;
        users::touch_session(&mut tx, &digest, now, stale).await?;
        tx.commit().await?;
    }
    state.sessions.put(digest, actor.clone(), expires_at, now);
    Ok(Some(actor))
}

/// Deletes expired and idle sessions and quiet login counters; returns (sessions, counters).
pub async fn purge(state: &AppState) -> Result<(u64, u64), AppError> {
    let now = state.clock.now();
    let idle_ms = state.config.session_idle_minutes * 60_000;
    let idle_since = (idle_ms > 0).then(|| now.timestamp_millis() - idle_ms);
    let mut tx = state.store.begin().await?;
    let sessions = users::purge_sessions(&mut tx, now, idle_since).await?;
    let counters = logins::purge(&mut tx, now.timestamp_millis() - FORGET_MS).await?;
    tx.commit().await?;
    Ok((sessions, counters))
}
