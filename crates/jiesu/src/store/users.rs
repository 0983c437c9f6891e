//! Users and their sessions. Passwords are argon2 hashes; session tokens are kept only as
//! SHA-256 digests.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::access::UnitScope;
use jiesu_core::{Actor, Role};
use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A stored user.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// Id (UUIDv7).
    pub id: String,
    /// Login name.
    pub username: String,
    /// Shown name.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Unit code, for unit roles.
    pub unit_code: Option<String>,
    /// Whether the user may log in.
    pub active: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    #[serde(skip)]
    pub(crate) password_hash: String,
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        unit_code: r.try_get("unit_code")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: from_millis(r.try_get("created_at")?),
        password_hash: r.try_get("password_hash")?,
    })
}

// `failed_logins` and `locked_until` are no longer read: the throttle is in `login_throttle`.
const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, role, unit_code, active, created_at";

/// A user to create.
pub struct NewUser<'a> {
    /// Login name.
    pub username: &'a str,
    /// Shown name.
    pub display_name: &'a str,
    /// Argon2 hash.
    pub password_hash: &'a str,
    /// Role.
    pub role: Role,
    /// Unit, for unit roles.
    pub unit_code: Option<&'a str>,
}

/// Inserts a user and returns its id.
pub async fn insert(
    tx: &mut Tx,
    u: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash, role, unit_code, active, failed_logins, locked_until, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, 0, NULL, $7)",
    )
    .bind(&id)
    .bind(u.username)
    .bind(u.display_name)
    .bind(u.password_hash)
    .bind(u.role.as_str())
    .bind(u.unit_code)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// Finds a user by login name.
pub async fn by_username(pool: &AnyPool, username: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
    let row = sqlx::query(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

/// Every user, by login name.
pub async fn list(pool: &AnyPool) -> Result<Vec<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(user_from_row).collect()
}

/// Starts a session after a good login.
pub async fn start_session(
    tx: &mut Tx,
    user_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)")
        .bind(token_hash)
        .bind(user_id)
        .bind(millis(now))
        .bind(millis(expires))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends every session of a user; returns how many.
pub async fn end_sessions_of(tx: &mut Tx, user_id: &str) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected())
}

/// Deletes sessions expired at `now` or unused since `idle_since` (ms; `None`: no idle
/// timeout); returns how many.
pub async fn purge_sessions(
    tx: &mut Tx,
    now: DateTime<Utc>,
    idle_since: Option<i64>,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(millis(now))
            .bind(idle_since.unwrap_or(i64::MIN))
            .execute(tx.conn())
            .await?
            .rows_affected(),
    )
}

/// Marks a session used at `now`, when it was last marked before `stale` (ms): one write
/// per session per idle-timeout step at most, not one per call.
pub async fn touch_session(
    tx: &mut Tx,
    token_hash: &str,
    now: DateTime<Utc>,
    stale: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $3",
    )
    .bind(millis(now))
    .bind(token_hash)
    .bind(stale)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Turns a user's login on or off; false when there is no such user.
pub async fn set_active(tx: &mut Tx, user_id: &str, active: bool) -> Result<bool, StoreError> {
    Ok(sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
        .bind(i64::from(active))
        .bind(user_id)
        .execute(tx.conn())
        .await?
        .rows_affected()
        == 1)
}

/// Replaces a user's password hash.
pub async fn set_password(tx: &mut Tx, user_id: &str, hash: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(hash)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Ends a session.
pub async fn end_session(tx: &mut Tx, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The actor behind a live session token digest: not expired, used since `idle_since` (ms),
/// its user active; with when it expires and when it was last marked used.
pub async fn actor_for_session(
    pool: &AnyPool,
    token_hash: &str,
    now: DateTime<Utc>,
    idle_since: i64,
) -> Result<Option<(Actor, DateTime<Utc>, i64)>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.role, u.unit_code, un.path, s.expires_at, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN units un ON un.code = u.unit_code \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.active = 1",
    )
    .bind(token_hash)
    .bind(millis(now))
    .bind(idle_since)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let role: String = r.try_get("role")?;
    let unit_code: Option<String> = r.try_get("unit_code")?;
    let path: Option<String> = r.try_get("path")?;
    let actor = Actor {
        user_id: r.try_get("id")?,
        username: r.try_get("username")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        unit: unit_code
            .zip(path)
            .map(|(code, path)| UnitScope { code, path }),
    };
    Ok(Some((
        actor,
        from_millis(r.try_get("expires_at")?),
        r.try_get("last_seen_at")?,
    )))
}
