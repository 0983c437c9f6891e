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
    #[serde(skip)]
    pub(crate) failed_logins: i64,
    #[serde(skip)]
    pub(crate) locked_until: Option<i64>,
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
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
    })
}

const USER_COLUMNS: &str =
    "id, username, display_name, password_hash, role, unit_code, active, failed_logins, locked_until, created_at";

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

/// Records a failed login and how long further attempts must wait.
pub async fn record_failure(
    tx: &mut Tx,
    user_id: &str,
    failed: i64,
    locked_until: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET failed_logins = $1, locked_until = $2 WHERE id = $3")
        .bind(failed)
        .bind(locked_until.map(millis))
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Starts a session after a good login, clearing the failure count.
pub async fn start_session(
    tx: &mut Tx,
    user_id: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(user_id)
        .bind(millis(now))
        .bind(millis(expires))
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

/// The actor behind a live session token digest.
pub async fn actor_for_session(
    pool: &AnyPool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Actor, DateTime<Utc>)>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.role, u.unit_code, un.path, s.expires_at FROM sessions s \
         JOIN users u ON u.id = s.user_id LEFT JOIN units un ON un.code = u.unit_code \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active = 1",
    )
    .bind(token_hash)
    .bind(millis(now))
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
    Ok(Some((actor, from_millis(r.try_get("expires_at")?))))
}
