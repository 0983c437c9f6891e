//! Users as administrators manage them: create, disable and enable, reset passwords, revoke
//! sessions. Each change is an event naming who made it (a logged-in administrator, the
//! console, or the system at start-up). Disabling, a new password and revocation end the
//! user's sessions at once on this node and within `SESSION_CACHE_SECONDS` on the others.

use super::AppState;
use crate::error::AppError;
use crate::store::logins::account_key;
pub use crate::store::users::User;
use crate::store::users::{self, NewUser};
use crate::store::{logins, NewEvent};
use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use jiesu_core::access::Action;
use jiesu_core::{Actor, Role, UnitCode};
use rand::RngCore;

/// Who makes a change to users.
#[derive(Debug, Clone, Copy)]
pub enum By<'a> {
    /// A logged-in user (must be an administrator).
    User(&'a Actor),
    /// Someone at the server's console (`jiesu user …`): the event names the OS user.
    Console,
    /// The platform itself (the first `admin`, test set-up).
    System,
}

impl By<'_> {
    pub(crate) fn may_administer(self) -> Result<(), AppError> {
        match self {
            By::User(a) if !a.may(Action::Administer) => Err(AppError::Forbidden("administration")),
            _ => Ok(()),
        }
    }

    pub(crate) fn event(
        self,
        state: &AppState,
        action: &str,
        mut payload: serde_json::Value,
    ) -> NewEvent {
        let (id, role) = match self {
            By::User(a) => (a.user_id.clone(), a.role.as_str().to_string()),
            By::Console => {
                let who = std::env::var("USER").unwrap_or_default();
                payload["console_user"] = serde_json::json!(who);
                ("console".to_string(), "console".to_string())
            }
            By::System => ("system".to_string(), "system".to_string()),
        };
        state.audit_event(&id, &role, action, payload)
    }
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
        .to_string())
}

fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 {
        return Err(AppError::invalid(
            "password",
            "err.auth.password_must_have_at_least_8",
        ));
    }
    Ok(())
}

pub(crate) async fn hash(password: &str) -> Result<String, AppError> {
    let p = password.to_string();
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(AppError::Internal)
}

/// Creates a user as the system (start-up, test set-up); see [`create_user_by`].
pub async fn create_user(
    state: &AppState,
    username: &str,
    role: Role,
    unit: Option<&str>,
    password: &str,
) -> Result<String, AppError> {
    create_user_by(state, By::System, username, role, unit, password).await
}

/// Creates a user; a unit role needs an existing unit, a center role must have none. The
/// event names who did it.
pub async fn create_user_by(
    state: &AppState,
    by: By<'_>,
    username: &str,
    role: Role,
    unit: Option<&str>,
    password: &str,
) -> Result<String, AppError> {
    by.may_administer()?;
    check_new_user(state, "", username, role, unit).await?;
    check_password(password)?;
    if users::by_username(state.store.reader(), username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "user {username} already exists"
        )));
    }
    let hash = hash(password).await?;
    let mut tx = state.store.begin().await?;
    let id = insert_user_in(state, &mut tx, by, username, role, unit, &hash).await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks a new user's name, and its role against its unit (a unit role needs an existing
/// unit, a center role none); fields are named `{at}username`, `{at}unit`.
pub(crate) async fn check_new_user(
    state: &AppState,
    at: &str,
    username: &str,
    role: Role,
    unit: Option<&str>,
) -> Result<(), AppError> {
    let valid_name = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        return Err(AppError::invalid(
            format!("{at}username"),
            "err.auth.username_must_be_1_64_letters",
        ));
    }
    let field = format!("{at}unit");
    match (role.is_unit_role(), unit) {
        (true, None) => return Err(AppError::invalid(field, "err.auth.a_unit_role_needs_unit")),
        (false, Some(_)) => {
            return Err(AppError::invalid(
                field,
                "err.auth.a_center_role_has_no_unit",
            ))
        }
        (true, Some(code)) => {
            UnitCode::parse(code)
                .map_err(|_| AppError::invalid(field.clone(), "err.auth.malformed_unit_code"))?;
            if crate::store::reference::unit(state.store.reader(), code)
                .await?
                .is_none()
            {
                return Err(AppError::invalid(field, "err.auth.no_such_unit"));
            }
        }
        (false, None) => {}
    }
    Ok(())
}

/// Inserts a checked user with its password hash in `tx`, with the `user.created` event.
pub(crate) async fn insert_user_in(
    state: &AppState,
    tx: &mut crate::store::Tx,
    by: By<'_>,
    username: &str,
    role: Role,
    unit: Option<&str>,
    hash: &str,
) -> Result<String, AppError> {
    let id = users::insert(
        tx,
        &NewUser {
            username,
            display_name: username,
            password_hash: hash,
            role,
            unit_code: unit,
        },
        state.clock.now(),
    )
    .await?;
    let payload = serde_json::json!({ "user_id": id, "username": username, "role": role.as_str(), "unit": unit });
    tx.event(by.event(state, "user.created", payload));
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
    match create_user(state, "admin", Role::Admin, None, &pw).await {
        Ok(_) => Ok(generated),
        // Another node starting at the same time made it first (issue 21): theirs stands.
        Err(e) => match users::by_username(state.store.reader(), "admin").await? {
            Some(_) => Ok(None),
            None => Err(e),
        },
    }
}

/// A change to one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Login off; sessions end.
    Disable,
    /// Login on again.
    Enable,
    /// Every session ends.
    RevokeSessions,
}

/// Disables, enables a user or revokes their sessions; returns the user as it is now.
pub async fn change_user(
    state: &AppState,
    by: By<'_>,
    username: &str,
    change: Change,
) -> Result<User, AppError> {
    by.may_administer()?;
    let user = find(state, username).await?;
    if let (By::User(a), Change::Disable) = (by, change) {
        if a.user_id == user.id {
            return Err(AppError::Conflict("you cannot disable yourself".into()));
        }
    }
    let mut tx = state.store.begin().await?;
    change_in(state, &mut tx, by, &user.id, &user.username, change).await?;
    tx.commit().await?;
    state.sessions.clear();
    find(state, username).await
}

/// Applies a change to a user in `tx`, with its event (`user.disabled`, `user.enabled`,
/// `user.sessions_revoked`).
pub(crate) async fn change_in(
    state: &AppState,
    tx: &mut crate::store::Tx,
    by: By<'_>,
    user_id: &str,
    username: &str,
    change: Change,
) -> Result<(), AppError> {
    let (action, ended) = match change {
        Change::Disable => {
            users::set_active(tx, user_id, false).await?;
            ("user.disabled", users::end_sessions_of(tx, user_id).await?)
        }
        Change::Enable => {
            users::set_active(tx, user_id, true).await?;
            ("user.enabled", 0)
        }
        Change::RevokeSessions => (
            "user.sessions_revoked",
            users::end_sessions_of(tx, user_id).await?,
        ),
    };
    let payload =
        serde_json::json!({ "user_id": user_id, "username": username, "sessions_ended": ended });
    tx.event(by.event(state, action, payload));
    Ok(())
}

/// Sets a new password, ends the user's sessions and forgets their failed logins.
pub async fn reset_password(
    state: &AppState,
    by: By<'_>,
    username: &str,
    password: &str,
) -> Result<User, AppError> {
    by.may_administer()?;
    check_password(password)?;
    let user = find(state, username).await?;
    let hash = hash(password).await?;
    let mut tx = state.store.begin().await?;
    users::set_password(&mut tx, &user.id, &hash).await?;
    let ended = users::end_sessions_of(&mut tx, &user.id).await?;
    logins::clear_account(&mut tx, &account_key(&user.username)).await?;
    let payload = serde_json::json!({ "user_id": user.id, "username": user.username, "sessions_ended": ended });
    tx.event(by.event(state, "user.password_reset", payload));
    tx.commit().await?;
    state.sessions.clear();
    Ok(user)
}

async fn find(state: &AppState, username: &str) -> Result<User, AppError> {
    users::by_username(state.store.reader(), username)
        .await?
        .ok_or(AppError::NotFound("user"))
}
