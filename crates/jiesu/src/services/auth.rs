//! Logins, sessions and users. Passwords are argon2 hashes; repeated failures make the next
//! attempt wait (doubling from 1 s after five failures, up to 15 min), recorded in the
//! database so every node enforces it.

use super::AppState;
use crate::error::AppError;
use crate::store::users::{self, NewUser, User};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Actor, Role, UnitCode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Failures allowed before attempts are slowed down.
const FREE_FAILURES: i64 = 5;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

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

/// Logs in and starts a session.
pub async fn login(state: &AppState, username: &str, password: &str) -> Result<Session, AppError> {
    let now = state.clock.now();
    let user = users::by_username(state.store.reader(), username).await?;
    let (ok, user) = {
        let password = password.to_string();
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || match hash {
            Some(h) => verify_password(&password, &h),
            // Spend the same time on unknown names, so timing does not tell which exist.
            None => {
                let _ = hash_password(&password);
                false
            }
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        (ok, user)
    };
    let Some(user) = user.filter(|u| u.active) else {
        return Err(AppError::BadCredentials);
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now.timestamp_millis()) {
        return Err(AppError::TooManyAttempts(
            (until - now.timestamp_millis() + 999) / 1000,
        ));
    }
    let mut tx = state.store.begin().await?;
    if !ok {
        let failed = user.failed_logins + 1;
        let wait = (failed >= FREE_FAILURES)
            .then(|| Duration::seconds((1i64 << (failed - FREE_FAILURES).min(10)).min(900)));
        users::record_failure(&mut tx, &user.id, failed, wait.map(|w| now + w)).await?;
        tx.commit().await?;
        return Err(AppError::BadCredentials);
    }
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
}

/// Entries kept at most; the map is emptied when full (sessions are cheap to look up again).
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<Actor> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let c = entries.get(digest)?;
        (c.fetched.elapsed().as_secs() < SESSION_CACHE_SECONDS && c.expires_at > now)
            .then(|| c.actor.clone())
    }

    fn put(&self, digest: String, actor: Actor, expires_at: DateTime<Utc>) {
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
    let found = users::actor_for_session(state.store.reader(), &digest, now).await?;
    Ok(found.map(|(actor, expires_at)| {
        state.sessions.put(digest, actor.clone(), expires_at);
        actor
    }))
}

/// Creates a user; a unit role needs an existing unit, a center role must have none.
pub async fn create_user(
    state: &AppState,
    username: &str,
    role: Role,
    unit: Option<&str>,
    password: &str,
) -> Result<String, AppError> {
    let valid_name = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        return Err(AppError::invalid(
            "username",
            "err.auth.username_must_be_1_64_letters",
        ));
    }
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "err.auth.password_must_have_at_least_8",
        ));
    }
    match (role.is_unit_role(), unit) {
        (true, None) => return Err(AppError::invalid("unit", "err.auth.a_unit_role_needs_unit")),
        (false, Some(_)) => {
            return Err(AppError::invalid(
                "unit",
                "err.auth.a_center_role_has_no_unit",
            ))
        }
        (true, Some(code)) => {
            UnitCode::parse(code)
                .map_err(|_| AppError::invalid("unit", "err.auth.malformed_unit_code"))?;
            if crate::store::reference::unit(state.store.reader(), code)
                .await?
                .is_none()
            {
                return Err(AppError::invalid("unit", "err.auth.no_such_unit"));
            }
        }
        (false, None) => {}
    }
    if users::by_username(state.store.reader(), username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "user {username} already exists"
        )));
    }
    let hash = {
        let p = password.to_string();
        tokio::task::spawn_blocking(move || hash_password(&p))
            .await
            .map_err(|e| AppError::Internal(e.into()))??
    };
    let mut tx = state.store.begin().await?;
    let id = users::insert(
        &mut tx,
        &NewUser {
            username,
            display_name: username,
            password_hash: &hash,
            role,
            unit_code: unit,
        },
        state.clock.now(),
    )
    .await?;
    let payload = serde_json::json!({ "user_id": id, "username": username, "role": role.as_str(), "unit": unit });
    tx.event(state.audit_event("system", "system", "user.created", payload));
    tx.commit().await?;
    Ok(id)
}

/// All users.
pub async fn list_users(state: &AppState) -> Result<Vec<User>, AppError> {
    Ok(users::list(state.store.reader()).await?)
}

/// Makes sure `admin` exists; returns the generated password when one was generated.
pub async fn ensure_admin(
    state: &AppState,
    password: Option<&str>,
) -> Result<Option<String>, AppError> {
    if users::by_username(state.store.reader(), "admin")
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let generated = password.is_none().then(|| {
        let mut b = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut b);
        hex::encode(b)
    });
    let pw = password
        .map(str::to_string)
        .or(generated.clone())
        .expect("one of them");
    create_user(state, "admin", Role::Admin, None, &pw).await?;
    Ok(generated)
}
