//! Per-unit quiet hours for reminders (催办, issue 19): a unit may keep its own hours when no
//! reminder is texted (`PATCH /units/{code}` with `sms_quiet_hours`: `22-7`, `off`, or empty
//! for `JIESU_SMS_UNIT_QUIET_HOURS`); emergency orders' texts always go.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::{unit_quiet, Tx};

/// The setting as stored: '' (the default; also for `default`), `off`, or `FROM-TO`; an
/// error naming `field`
/// when it is none of these.
pub fn normalize(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("default") {
        return Ok(String::new());
    }
    match crate::config::parse_quiet_hours(v) {
        Some(None) => Ok("off".into()),
        Some(Some((from, to))) => Ok(format!("{from}-{to}")),
        None => Err(FieldError::of(field, "err.units.sms_quiet_hours")),
    }
}

/// The quiet hours that hold the reminders to unit `code`: its own, else the configured ones.
pub async fn hours_of(
    state: &AppState,
    tx: &mut Tx,
    code: &str,
) -> Result<Option<(u32, u32)>, AppError> {
    let own = unit_quiet::get(tx.conn(), code).await?;
    Ok(match crate::config::parse_quiet_hours(&own) {
        Some(h) if !own.trim().is_empty() => h,
        _ => state.config.sms_unit_quiet_hours,
    })
}

/// Sets unit `code`'s quiet hours to `value` (already normalized) in the caller's
/// transaction; the previous value, or `None` when nothing changed.
pub(crate) async fn set(tx: &mut Tx, code: &str, value: &str) -> Result<Option<String>, AppError> {
    let before = unit_quiet::get(tx.conn(), code).await?;
    if before == value {
        return Ok(None);
    }
    unit_quiet::set(tx, code, value).await?;
    Ok(Some(before))
}

/// Unit `code`'s own setting ('' when it follows the default).
pub async fn of(state: &AppState, code: &str) -> Result<String, AppError> {
    Ok(unit_quiet::get(state.store.reader(), code).await?)
}

/// Every unit's own setting that is not the default, by code (the admin units page).
pub async fn all(state: &AppState) -> Result<std::collections::HashMap<String, String>, AppError> {
    Ok(unit_quiet::all(state.store.reader()).await?)
}
