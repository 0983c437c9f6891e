//! Time limits (办理时限) as administrators change them: a change is a new version of the
//! class in force from its effective time (now or later, never in the past), so orders keep
//! the deadlines they were given and an old month keeps the limits in force then. Each
//! version is an event; the shipped file never adds a version over an administrator's class.

use super::accounts::By;
pub use super::imports::ImportSummary;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::{queues, reference, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::time_limit::DayKind;
use serde::Deserialize;

pub use crate::store::queues::TimeLimitVersion;

/// A new version as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitInput {
    /// Class (`general`, or a new one: lowercase letters, digits, `_`).
    pub class: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Minutes to acknowledge (1 to 10,080).
    pub acknowledge_minutes: i64,
    /// Minutes (or working-day minutes) to reply (at least the acknowledge minutes, at most a
    /// year).
    pub reply_minutes: i64,
    /// `calendar` or `working`.
    pub day_kind: String,
    /// In force from (default now; not in the past).
    #[serde(default)]
    pub effective_from: Option<DateTime<Utc>>,
}

/// What is wrong with `input` at `now`, field by field (empty when nothing).
pub fn check(input: &LimitInput, now: DateTime<Utc>) -> Vec<FieldError> {
    let mut e = Vec::new();
    let class_ok = !input.class.is_empty()
        && input.class.len() <= 32
        && input
            .class
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !class_ok {
        e.push(FieldError::of("class", "err.limits.class"));
    }
    for (field, v) in [("name_zh", &input.name_zh), ("name_en", &input.name_en)] {
        let n = v.trim().chars().count();
        if n == 0 || n > 32 || v.chars().any(char::is_control) {
            e.push(FieldError::of(field, "err.limits.name"));
        }
    }
    if !(1..=10_080).contains(&input.acknowledge_minutes) {
        e.push(FieldError::of("acknowledge_minutes", "err.limits.minutes"));
    }
    if !(1..=525_600).contains(&input.reply_minutes)
        || input.reply_minutes < input.acknowledge_minutes
    {
        e.push(FieldError::of("reply_minutes", "err.limits.reply_minutes"));
    }
    if DayKind::parse(&input.day_kind).is_none() {
        e.push(FieldError::of("day_kind", "err.limits.day_kind"));
    }
    if input.effective_from.is_some_and(|t| t < now) {
        e.push(FieldError::of(
            "effective_from",
            "err.limits.effective_from",
        ));
    }
    e
}

/// Every version of every time limit, by class and date.
pub async fn list(state: &AppState) -> Result<Vec<TimeLimitVersion>, AppError> {
    Ok(queues::time_limits(state.store.reader()).await?)
}

/// Adds a version (an event `time_limit.version_added` with the version it follows). 409 when
/// the class already has a version from that instant.
pub async fn add_version(
    state: &AppState,
    by: By<'_>,
    input: &LimitInput,
) -> Result<TimeLimitVersion, AppError> {
    by.may_administer()?;
    let now = state.clock.now();
    let errors = check(input, now);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.store.begin().await?;
    let v = add_in(state, &mut tx, by, input, now).await?;
    tx.commit().await?;
    Ok(v)
}

/// Adds a checked version in `tx` with its event.
async fn add_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    input: &LimitInput,
    now: DateTime<Utc>,
) -> Result<TimeLimitVersion, AppError> {
    let v = TimeLimitVersion {
        class: input.class.clone(),
        effective_from: input.effective_from.unwrap_or(now),
        name_zh: input.name_zh.trim().to_string(),
        name_en: input.name_en.trim().to_string(),
        acknowledge_minutes: input.acknowledge_minutes,
        reply_minutes: input.reply_minutes,
        day_kind: input.day_kind.clone(),
    };
    let who = match by {
        By::User(a) => a.user_id.clone(),
        By::Console => "console".into(),
        By::System => "system".into(),
    };
    let before = reference::time_limit(tx.conn(), &v.class, v.effective_from).await?;
    if !reference::add_time_limit(tx, &v, &who).await? {
        return Err(AppError::Conflict(format!(
            "{} already has a version from {}",
            v.class, v.effective_from
        )));
    }
    let before = before.map(|b| {
        serde_json::json!({ "acknowledge_minutes": b.acknowledge_minutes, "reply_minutes": b.reply_minutes, "day_kind": b.day_kind.as_str() })
    });
    tx.event(by.event(
        state,
        "time_limit.version_added",
        serde_json::json!({ "version": v, "before": before }),
    ));
    Ok(v)
}

fn same(v: &TimeLimitVersion, input: &LimitInput) -> bool {
    v.class == input.class
        && v.name_zh == input.name_zh.trim()
        && v.name_en == input.name_en.trim()
        && v.acknowledge_minutes == input.acknowledge_minutes
        && v.reply_minutes == input.reply_minutes
        && v.day_kind == input.day_kind
}

/// Applies rows in order, all or nothing (a bad row refuses the list, named `rows[i].field`):
/// a row the same as a version there is (with its date, or without a date as the version in
/// force now) is unchanged; any other row is a new version from its date (now when empty, never
/// in the past), with the same event as `add_version`. `dry_run` counts without keeping
/// anything.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[LimitInput],
    dry_run: bool,
) -> Result<ImportSummary, AppError> {
    by.may_administer()?;
    let now = state.clock.now();
    let versions = list(state).await?;
    let mut errors = Vec::new();
    let mut new = Vec::new();
    let mut sum = ImportSummary::default();
    for (i, row) in rows.iter().enumerate() {
        let existing = match row.effective_from {
            Some(t) => versions
                .iter()
                .find(|v| v.class == row.class && v.effective_from == t),
            None => versions
                .iter()
                .rfind(|v| v.class == row.class && v.effective_from <= now),
        };
        if existing.is_some_and(|v| same(v, row)) {
            sum.unchanged += 1;
            continue;
        }
        let mut found = check(row, now);
        if existing.is_some()
            && row.effective_from.is_some()
            && !found.iter().any(|e| e.field == "effective_from")
        {
            found.push(FieldError::of(
                "effective_from",
                "err.limits.effective_from",
            ));
        }
        for mut e in found {
            e.field = format!("rows[{i}].{}", e.field);
            errors.push(e);
        }
        new.push(row);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.store.begin().await?;
    for row in new {
        add_in(state, &mut tx, by, row, now).await?;
        sum.added += 1;
    }
    if dry_run {
        drop(tx);
    } else {
        tx.commit().await?;
    }
    Ok(sum)
}
