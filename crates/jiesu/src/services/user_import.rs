//! Users as a table (`jiesu user export|import`): every user's login name, role, unit and
//! active flag, never a password or its hash. An import adds the users it does not know (each
//! with a random one-time password that the console prints once) and disables or enables the
//! ones it does, through the users API's checks and events, all or nothing. A user's role and
//! unit are fixed once created: a row that changes them is refused (disable the user and add
//! another).

use super::accounts::{self, By, Change};
use super::imports::ImportSummary;
use super::AppState;
use crate::error::AppError;
use crate::store::users;
use jiesu_core::Role;
use rand::RngCore;
use std::collections::HashSet;

/// One row of a user import: the user as it should be.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// Login name.
    pub username: String,
    /// Role, as written (`operator`, `unit_handler`, …).
    pub role: String,
    /// Unit code for unit roles (empty for center roles).
    pub unit: String,
    /// Whether the user may log in.
    pub active: bool,
}

/// What an import did, with the one-time password of each user it added (none on a dry run).
#[derive(Debug, Clone, Default)]
pub struct UserImport {
    /// The counts.
    pub summary: ImportSummary,
    /// `(username, password)` of each added user, to be shown once.
    pub passwords: Vec<(String, String)>,
}

/// A random one-time password (24 hex digits).
fn one_time_password() -> String {
    let mut b = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Applies rows in order, all or nothing (a bad row refuses the list, named `rows[i].field`);
/// `dry_run` counts without keeping anything.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[UserRow],
    dry_run: bool,
) -> Result<UserImport, AppError> {
    by.may_administer()?;
    let mut out = UserImport::default();
    let mut seen = HashSet::new();
    let mut tx = state.store.begin().await?;
    for (i, row) in rows.iter().enumerate() {
        let at = format!("rows[{i}].");
        let name = row.username.trim();
        let role = Role::parse(row.role.trim())
            .ok_or_else(|| AppError::invalid(format!("{at}role"), "err.admin.no_such_role"))?;
        let unit = Some(row.unit.trim()).filter(|u| !u.is_empty());
        if !seen.insert(name.to_string()) {
            return Err(AppError::invalid(
                format!("{at}username"),
                "err.users.listed_twice",
            ));
        }
        match users::by_username(state.store.reader(), name).await? {
            None => {
                accounts::check_new_user(state, &at, name, role, unit).await?;
                let password = one_time_password();
                let hash = accounts::hash(&password).await?;
                let id =
                    accounts::insert_user_in(state, &mut tx, by, name, role, unit, &hash).await?;
                if !row.active {
                    accounts::change_in(state, &mut tx, by, &id, name, Change::Disable).await?;
                }
                out.summary.added += 1;
                out.passwords.push((name.to_string(), password));
            }
            Some(user) => {
                if user.role != role {
                    return Err(AppError::invalid(
                        format!("{at}role"),
                        "err.users.role_is_fixed",
                    ));
                }
                if user.unit_code.as_deref() != unit {
                    return Err(AppError::invalid(
                        format!("{at}unit"),
                        "err.users.unit_is_fixed",
                    ));
                }
                if user.active == row.active {
                    out.summary.unchanged += 1;
                    continue;
                }
                if let (By::User(a), false) = (by, row.active) {
                    if a.user_id == user.id {
                        return Err(AppError::invalid(
                            format!("{at}active"),
                            "err.users.not_yourself",
                        ));
                    }
                }
                let change = if row.active {
                    Change::Enable
                } else {
                    Change::Disable
                };
                accounts::change_in(state, &mut tx, by, &user.id, name, change).await?;
                out.summary.changed += 1;
            }
        }
    }
    if dry_run {
        drop(tx);
        out.passwords.clear();
    } else {
        tx.commit().await?;
        state.sessions.clear();
    }
    Ok(out)
}
