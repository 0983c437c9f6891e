//! Units as administrators keep them while the platform runs (承办单位管理): add, edit (name,
//! short name, level, parent, contacts), merge into another, close, reopen, import a list.
//! Each change is an event and a version with its effective time, so an old month ranks its
//! units as they were. A change may be dated (`effective_from`, a day): from the current
//! month's start up to today it applies now, in force from that day; a later day keeps it in
//! `unit_schedule` until the sweep applies it (`services::unit_schedule`, which also has other
//! nodes follow unit events in the log). The code never changes: a renamed unit keeps its
//! orders and KPIs.
//! A merge is refused while the unit has open orders (its past months stay its own).

use super::accounts::By;
pub use super::imports::ImportSummary;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::units as store;
pub use crate::store::units::{ScheduledChange, UnitFilter, UnitRecord, UnitVersion};
use crate::store::Tx;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// The levels a unit may have (the hotline center is shipped, never added).
pub const LEVELS: [&str; 9] = [
    "district",
    "subdistrict",
    "township",
    "zone",
    "community",
    "village",
    "department",
    "company",
    "property",
];

/// A new unit as submitted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// Code (letters, digits, `.`, `_`, `-`; at most 32).
    pub code: String,
    /// Official name.
    pub name: String,
    /// Spoken short name (the name when empty).
    #[serde(default)]
    pub short_name: String,
    /// Level (one of [`LEVELS`]).
    pub level: String,
    /// Parent unit code.
    #[serde(default)]
    pub parent_code: Option<String>,
    /// 值班电话.
    #[serde(default)]
    pub duty_phone: String,
    /// 联络人.
    #[serde(default)]
    pub liaison_name: String,
    /// The liaison's phone.
    #[serde(default)]
    pub liaison_phone: String,
}

/// A change to a unit: the fields given change, the others stay.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UnitChange {
    /// New name (rename: same code, same history).
    pub name: Option<String>,
    /// New short name.
    pub short_name: Option<String>,
    /// New level.
    pub level: Option<String>,
    /// New parent (move); empty for none.
    pub parent_code: Option<String>,
    /// 值班电话.
    pub duty_phone: Option<String>,
    /// 联络人.
    pub liaison_name: Option<String>,
    /// The liaison's phone.
    pub liaison_phone: Option<String>,
    /// false closes the unit, true reopens a closed (not merged) one.
    pub active: Option<bool>,
    /// Quiet hours for reminders to this unit (催办短信): `22-7` (local hours), `off`, or
    /// empty for the configured default (`JIESU_SMS_UNIT_QUIET_HOURS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms_quiet_hours: Option<String>,
    /// The day it takes effect (`YYYY-MM-DD`, the city's midnight; default now): not before
    /// the current month's first day; a day after today schedules the change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<String>,
}

/// What a change did: applied now, or kept until its day.
#[derive(Debug, Clone)]
pub enum Changed {
    /// Applied: the unit as it is now.
    Now(UnitRecord),
    /// Dated ahead: waits in `unit_schedule`.
    Scheduled(ScheduledChange),
}

/// A unit with its history.
#[derive(Debug, Clone, Serialize)]
pub struct UnitHistory {
    /// The unit now.
    pub unit: UnitRecord,
    /// Its own quiet hours for reminders ('' for the configured default, `off`, `22-7`).
    pub sms_quiet_hours: String,
    /// Its versions, oldest first (empty: as shipped since always).
    pub versions: Vec<UnitVersion>,
    /// Its changes dated ahead (pending, and done ones with their outcome).
    pub scheduled: Vec<ScheduledChange>,
}

/// Units matching the filter (at most `limit`, by code).
pub async fn list(
    state: &AppState,
    filter: &UnitFilter,
    limit: i64,
) -> Result<Vec<UnitRecord>, AppError> {
    for (field, v) in [("level", &filter.level), ("state", &filter.state)] {
        if v.chars().count() > 64 || v.chars().any(char::is_control) {
            return Err(AppError::invalid(field, "err.units.bad_filter"));
        }
    }
    if !["", "active", "closed"].contains(&filter.state.as_str()) {
        return Err(AppError::invalid("state", "err.units.bad_filter"));
    }
    if filter.q.chars().count() > 64 || filter.q.chars().any(char::is_control) {
        return Err(AppError::invalid("q", "err.units.bad_filter"));
    }
    Ok(store::list(state.store.reader(), filter, limit).await?)
}

/// One unit with its versions, or 404.
pub async fn history(state: &AppState, code: &str) -> Result<UnitHistory, AppError> {
    let unit = store::get(state.store.reader(), code)
        .await?
        .ok_or(AppError::NotFound("unit"))?;
    let versions = store::versions(state.store.reader(), code).await?;
    let scheduled = store::scheduled_of(state.store.reader(), code).await?;
    Ok(UnitHistory {
        sms_quiet_hours: crate::store::unit_quiet::get(state.store.reader(), code).await?,
        unit,
        versions,
        scheduled,
    })
}

fn who(by: By<'_>) -> String {
    match by {
        By::User(a) => a.user_id.clone(),
        By::Console => "console".into(),
        By::System => "system".into(),
    }
}

fn tier(level: &str) -> u8 {
    match level {
        "district" => 0,
        "subdistrict" | "township" | "zone" => 1,
        "community" | "village" => 2,
        "property" => 3,
        "center" => 9,
        _ => 5,
    }
}

/// Whether a unit of `level` may sit under a parent of `parent` level (None: at the top).
fn parent_fits(level: &str, parent: Option<&str>) -> bool {
    matches!(
        (tier(level), parent.map(tier)),
        (0, None) | (1, Some(0)) | (2, Some(1)) | (3, Some(1 | 2)) | (5, None | Some(5))
    )
}

fn check_text(field: &str, v: &str, min: usize, max: usize, key: &str, e: &mut Vec<FieldError>) {
    let n = v.trim().chars().count();
    if n < min || n > max || v.chars().any(char::is_control) {
        e.push(FieldError::of(field, key));
    }
}

fn check_phone(field: &str, v: &str, e: &mut Vec<FieldError>) {
    let v = v.trim();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let ok = v.is_empty()
        || (v.len() <= 20
            && digits >= 3
            && v.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '+')));
    if !ok {
        e.push(FieldError::of(field, "err.units.phone"));
    }
}

/// Checks the fields every unit has; `at` prefixes the field names (`rows[3].`).
fn check_fields(at: &str, u: &UnitRecord, e: &mut Vec<FieldError>) {
    check_text(&format!("{at}name"), &u.name, 1, 64, "err.units.name", e);
    check_text(
        &format!("{at}short_name"),
        &u.short_name,
        0,
        32,
        "err.units.short_name",
        e,
    );
    if !LEVELS.contains(&u.level.as_str()) && u.level != "center" {
        e.push(FieldError::of(format!("{at}level"), "err.units.level"));
    }
    check_phone(&format!("{at}duty_phone"), &u.duty_phone, e);
    check_phone(&format!("{at}liaison_phone"), &u.liaison_phone, e);
    check_text(
        &format!("{at}liaison_name"),
        &u.liaison_name,
        0,
        32,
        "err.units.liaison_name",
        e,
    );
}

/// The parent of `u` (checked: exists, active, fits the level, not `u` or under it) and `u`'s
/// path under it.
async fn place_under(
    tx: &mut Tx,
    at: &str,
    u: &UnitRecord,
    own_path: Option<&str>,
) -> Result<String, AppError> {
    let field = format!("{at}parent_code");
    let Some(code) = u.parent_code.as_deref() else {
        if !parent_fits(&u.level, None) {
            return Err(AppError::invalid_with(
                field,
                "err.units.parent_level",
                &[("level", u.level.clone())],
            ));
        }
        return Ok(format!("/{}/", u.code));
    };
    let parent = store::get(tx.conn(), code).await?;
    let Some(parent) = parent.filter(|p| p.active) else {
        return Err(AppError::invalid_with(
            field,
            "err.no_such_handling_unit",
            &[("unit", code.to_string())],
        ));
    };
    if own_path.is_some_and(|p| parent.path.starts_with(p)) {
        return Err(AppError::invalid(field, "err.units.parent_cycle"));
    }
    if !parent_fits(&u.level, Some(&parent.level)) {
        return Err(AppError::invalid_with(
            field,
            "err.units.parent_level",
            &[("level", u.level.clone())],
        ));
    }
    Ok(format!("{}{}/", parent.path, u.code))
}

/// Adds a unit (an event `unit.added` and its first version).
pub async fn add(state: &AppState, by: By<'_>, input: &NewUnit) -> Result<UnitRecord, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let u = add_in(state, &mut tx, by, "", input).await?;
    tx.commit().await?;
    reload(state).await;
    Ok(u)
}

fn record_of(input: &NewUnit, by: &str, now: chrono::DateTime<chrono::Utc>) -> UnitRecord {
    let name = input.name.trim().to_string();
    let short = input.short_name.trim();
    UnitRecord {
        code: input.code.trim().to_string(),
        short_name: if short.is_empty() {
            name.clone()
        } else {
            short.to_string()
        },
        name,
        level: input.level.trim().to_string(),
        parent_code: input
            .parent_code
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        path: String::new(),
        active: true,
        merged_into: None,
        duty_phone: input.duty_phone.trim().to_string(),
        liaison_name: input.liaison_name.trim().to_string(),
        liaison_phone: input.liaison_phone.trim().to_string(),
        source: "admin".into(),
        updated_by: by.to_string(),
        updated_at: now,
    }
}

async fn add_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    at: &str,
    input: &NewUnit,
) -> Result<UnitRecord, AppError> {
    let mut u = record_of(input, &who(by), state.clock.now());
    let mut e = Vec::new();
    if jiesu_core::UnitCode::parse(&u.code).is_err() {
        e.push(FieldError::of(format!("{at}code"), "err.units.code"));
    }
    check_fields(at, &u, &mut e);
    if u.level == "center" {
        e.push(FieldError::of(format!("{at}level"), "err.units.level"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if store::get(tx.conn(), &u.code).await?.is_some() {
        return Err(AppError::invalid_with(
            format!("{at}code"),
            "err.units.code_taken",
            &[("code", u.code.clone())],
        ));
    }
    u.path = place_under(tx, at, &u, None).await?;
    store::save(tx, &u).await?;
    store::record_version(tx, None, &u, "added", u.updated_at).await?;
    tx.event(by.event(state, "unit.added", serde_json::json!({ "unit": u })));
    Ok(u)
}

/// Changes a unit (rename, contacts, level, move under another parent, close or reopen): one
/// event `unit.changed` with before and after, and a version; a move also moves the units
/// under it and their orders' unit paths. Dated after today, the change is checked against
/// the unit as it is now and kept (event `unit.change_scheduled`) until its day.
pub async fn change(
    state: &AppState,
    by: By<'_>,
    code: &str,
    input: &UnitChange,
) -> Result<Changed, AppError> {
    by.may_administer()?;
    let now = state.clock.now();
    let day = effective_day(state, input.effective_from.as_deref(), now)?;
    let mut tx = state.store.begin().await?;
    match day {
        Some(day) if day > now => {
            // Checked now (the unit, its parent, its fields); checked again when due.
            change_in(state, &mut tx, by, "", code, input, When::now(now)).await?;
            drop(tx);
            let mut tx = state.store.begin().await?;
            let mut what = serde_json::to_value(input).unwrap_or_default();
            if let Some(m) = what.as_object_mut() {
                m.remove("effective_from");
            }
            let c = ScheduledChange {
                id: uuid::Uuid::now_v7().to_string(),
                code: code.to_string(),
                change: what,
                effective_from: day,
                status: "pending".into(),
                note: String::new(),
                scheduled_by: who(by),
                scheduled_at: now,
            };
            store::schedule(&mut tx, &c).await?;
            tx.event(by.event(
                state,
                "unit.change_scheduled",
                serde_json::json!({ "code": code, "scheduled": c }),
            ));
            tx.commit().await?;
            Ok(Changed::Scheduled(c))
        }
        day => {
            // Never before the unit's latest version: versions stay in order.
            let mut effective = day.unwrap_or(now);
            if let Some(last) = store::latest_version_at(&mut tx, code).await? {
                effective = effective.max(last);
            }
            let when = When {
                now,
                effective,
                schedule: None,
            };
            let u = change_in(state, &mut tx, by, "", code, input, when).await?;
            tx.commit().await?;
            reload(state).await;
            Ok(Changed::Now(u))
        }
    }
}

async fn existing(tx: &mut Tx, field: &str, code: &str) -> Result<UnitRecord, AppError> {
    store::get(tx.conn(), code).await?.ok_or_else(|| {
        AppError::invalid_with(
            field,
            "err.no_such_handling_unit",
            &[("unit", code.to_string())],
        )
    })
}

fn changed(before: &UnitRecord, input: &UnitChange) -> UnitRecord {
    let mut u = before.clone();
    let set = |slot: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *slot = v.trim().to_string();
        }
    };
    set(&mut u.name, &input.name);
    set(&mut u.short_name, &input.short_name);
    set(&mut u.level, &input.level);
    set(&mut u.duty_phone, &input.duty_phone);
    set(&mut u.liaison_name, &input.liaison_name);
    set(&mut u.liaison_phone, &input.liaison_phone);
    if let Some(p) = &input.parent_code {
        u.parent_code = Some(p.trim().to_string()).filter(|p| !p.is_empty());
    }
    if u.short_name.is_empty() {
        u.short_name = u.name.clone();
    }
    if let Some(a) = input.active {
        u.active = a;
    }
    u
}

/// When a change happens and from when it is in force.
#[derive(Clone, Copy)]
pub(super) struct When<'a> {
    pub(super) now: DateTime<Utc>,
    pub(super) effective: DateTime<Utc>,
    pub(super) schedule: Option<&'a ScheduledChange>,
}

impl When<'_> {
    pub(super) fn now(now: DateTime<Utc>) -> When<'static> {
        When {
            now,
            effective: now,
            schedule: None,
        }
    }
}

/// The city's midnight of `effective_from` (None: now); refused before the current month's
/// first day or malformed, naming the field.
fn effective_day(
    state: &AppState,
    day: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(day) = day.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    let day = jiesu_core::dates::parse_day(day)
        .map_err(|_| AppError::invalid("effective_from", "err.units.effective_from_format"))?;
    let today = now.with_timezone(&state.config.offset()).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    if day < month_start {
        return Err(AppError::invalid_with(
            "effective_from",
            "err.units.effective_from",
            &[("day", month_start.to_string())],
        ));
    }
    Ok(Some(state.config.local_midnight(day)))
}

pub(super) async fn change_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    at: &str,
    code: &str,
    input: &UnitChange,
    when: When<'_>,
) -> Result<UnitRecord, AppError> {
    let before = store::get(tx.conn(), code)
        .await?
        .ok_or(AppError::NotFound("unit"))?;
    let mut u = changed(&before, input);
    let mut e = Vec::new();
    check_fields(at, &u, &mut e);
    let quiet = match &input.sms_quiet_hours {
        Some(v) => super::unit_quiet::normalize(&format!("{at}sms_quiet_hours"), v)
            .map_err(|f| e.push(f))
            .ok(),
        None => None,
    };
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if let Some(q) = quiet {
        if let Some(was) = super::unit_quiet::set(tx, code, &q).await? {
            tx.event(by.event(
                state,
                "unit.sms_quiet_hours",
                serde_json::json!({ "code": code, "before": was, "after": q }),
            ));
        }
    }
    if u == before {
        return Ok(before);
    }
    if before.merged_into.is_some() {
        e.push(FieldError::with(
            format!("{at}code"),
            "err.units.closed",
            &[("unit", code.to_string())],
        ));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    if before.active && !u.active {
        check_closable(tx, at, &before).await?;
    }
    let moved = u.parent_code != before.parent_code
        || u.level != before.level
        || (u.active && !before.active);
    if moved {
        u.path = place_under(tx, at, &u, Some(&before.path)).await?;
        check_children_fit(tx, at, &before, &u.level).await?;
    }
    u.source = "admin".into();
    u.updated_by = when
        .schedule
        .map_or_else(|| who(by), |c| c.scheduled_by.clone());
    u.updated_at = when.now;
    let what = match (before.active, u.active) {
        (true, false) => "closed",
        (false, true) => "reopened",
        _ if u.path != before.path => "moved",
        _ => "changed",
    };
    store::save(tx, &u).await?;
    store::record_version(tx, Some(&before), &u, what, when.effective).await?;
    let mut orders = 0;
    if u.path != before.path {
        orders = move_subtree(tx, &before.path, &u.path, &u, when.effective).await?;
    }
    let action = if what == "closed" {
        "unit.closed"
    } else {
        "unit.changed"
    };
    tx.event(by.event(
        state,
        action,
        serde_json::json!({ "code": code, "change": what, "before": before, "after": u, "orders_moved": orders,
            "effective_from": when.effective, "schedule_id": when.schedule.map(|c| c.id.clone()) }),
    ));
    Ok(u)
}

/// A unit may close when nothing active hangs under it.
async fn check_closable(tx: &mut Tx, at: &str, u: &UnitRecord) -> Result<(), AppError> {
    if u.level == "center" {
        return Err(AppError::invalid(format!("{at}code"), "err.units.center"));
    }
    let active = store::descendants(tx, &u.path)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .count();
    if active > 0 {
        return Err(AppError::invalid_with(
            format!("{at}code"),
            "err.units.has_children",
            &[("n", active.to_string())],
        ));
    }
    Ok(())
}

/// The direct children of a unit must still fit under its new level.
async fn check_children_fit(
    tx: &mut Tx,
    at: &str,
    before: &UnitRecord,
    level: &str,
) -> Result<(), AppError> {
    let path = before.path.clone();
    for d in store::descendants(tx, &path).await? {
        if d.parent_code.as_deref() == Some(before.code.as_str())
            && d.active
            && !parent_fits(&d.level, Some(level))
        {
            return Err(AppError::invalid_with(
                format!("{at}level"),
                "err.units.children_level",
                &[("unit", d.code)],
            ));
        }
    }
    Ok(())
}

/// Moves the units under `old` to `new` (each a version) and their orders' paths.
async fn move_subtree(
    tx: &mut Tx,
    old: &str,
    new: &str,
    by: &UnitRecord,
    effective: DateTime<Utc>,
) -> Result<u64, AppError> {
    for d in store::descendants(tx, old).await? {
        let mut moved = d.clone();
        moved.path = format!("{new}{}", &d.path[old.len()..]);
        moved.source = "admin".into();
        moved.updated_by = by.updated_by.clone();
        moved.updated_at = by.updated_at;
        store::save(tx, &moved).await?;
        store::record_version(tx, Some(&d), &moved, "moved", effective).await?;
    }
    Ok(store::move_order_paths(tx, old, new).await?)
}

/// Closes a unit: it takes no more orders (dispatch names `unit_code`), its orders and
/// months stay readable. Refused while active units hang under it.
pub async fn close(state: &AppState, by: By<'_>, code: &str) -> Result<UnitRecord, AppError> {
    let input = UnitChange {
        active: Some(false),
        ..UnitChange::default()
    };
    match change(state, by, code, &input).await? {
        Changed::Now(u) => Ok(u),
        Changed::Scheduled(_) => Err(AppError::Internal(anyhow::anyhow!(
            "a close without a day was dated"
        ))),
    }
}

/// Merges a unit into another of the same tier: the units under it move to the target, it
/// closes with `merged_into` set; its past orders and months stay its own. Refused while it
/// has open orders (re-dispatch or finish them first).
pub async fn merge(
    state: &AppState,
    by: By<'_>,
    code: &str,
    into: &str,
) -> Result<UnitRecord, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let before = store::get(tx.conn(), code)
        .await?
        .ok_or(AppError::NotFound("unit"))?;
    let target = existing(&mut tx, "into", into.trim()).await?;
    if !before.active || before.level == "center" {
        return Err(AppError::invalid_with(
            "code",
            "err.units.closed",
            &[("unit", code.to_string())],
        ));
    }
    if !target.active || target.code == before.code || target.path.starts_with(&before.path) {
        return Err(AppError::invalid("into", "err.units.merge_target"));
    }
    if tier(&target.level) != tier(&before.level) {
        return Err(AppError::invalid("into", "err.units.merge_level"));
    }
    let open = store::open_orders(tx.conn(), code).await?;
    if open > 0 {
        return Err(AppError::invalid_with(
            "code",
            "err.units.has_open_orders",
            &[("n", open.to_string())],
        ));
    }
    let now = state.clock.now();
    let children: Vec<UnitRecord> = store::descendants(&mut tx, &before.path)
        .await?
        .into_iter()
        .filter(|d| d.parent_code.as_deref() == Some(code) && d.active)
        .collect();
    for c in &children {
        let input = UnitChange {
            parent_code: Some(target.code.clone()),
            ..UnitChange::default()
        };
        change_in(state, &mut tx, by, "", &c.code, &input, When::now(now)).await?;
    }
    let mut u = before.clone();
    u.active = false;
    u.merged_into = Some(target.code.clone());
    u.source = "admin".into();
    u.updated_by = who(by);
    u.updated_at = now;
    store::save(&mut tx, &u).await?;
    store::record_version(&mut tx, Some(&before), &u, "merged", now).await?;
    let moved: Vec<&str> = children.iter().map(|c| c.code.as_str()).collect();
    tx.event(by.event(
        state,
        "unit.merged",
        serde_json::json!({ "code": code, "into": target.code, "children_moved": moved }),
    ));
    tx.commit().await?;
    reload(state).await;
    Ok(u)
}

/// One row of an import: the unit as it should be.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The unit's fields.
    pub unit: NewUnit,
    /// Whether it should be active.
    pub active: bool,
}

/// Applies rows in order, all or nothing (a bad row refuses the list, named `rows[i].field`);
/// `dry_run` counts without keeping anything.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<ImportSummary, AppError> {
    by.may_administer()?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut sum = ImportSummary::default();
    for (i, row) in rows.iter().enumerate() {
        let at = format!("rows[{i}].");
        let code = row.unit.code.trim();
        match store::get(tx.conn(), code).await? {
            None => {
                add_in(state, &mut tx, by, &at, &row.unit).await?;
                if !row.active {
                    let close = UnitChange {
                        active: Some(false),
                        ..UnitChange::default()
                    };
                    change_in(state, &mut tx, by, &at, code, &close, When::now(now)).await?;
                }
                sum.added += 1;
            }
            Some(before) => {
                let u = &row.unit;
                let input = UnitChange {
                    name: Some(u.name.clone()),
                    short_name: Some(u.short_name.clone()),
                    level: Some(u.level.clone()),
                    parent_code: Some(u.parent_code.clone().unwrap_or_default()),
                    duty_phone: Some(u.duty_phone.clone()),
                    liaison_name: Some(u.liaison_name.clone()),
                    liaison_phone: Some(u.liaison_phone.clone()),
                    active: (before.merged_into.is_none()).then_some(row.active),
                    effective_from: None,
                    sms_quiet_hours: None,
                };
                let after =
                    change_in(state, &mut tx, by, &at, code, &input, When::now(now)).await?;
                if after == before {
                    sum.unchanged += 1;
                } else {
                    sum.changed += 1;
                }
            }
        }
    }
    if dry_run {
        drop(tx);
    } else {
        tx.commit().await?;
        reload(state).await;
    }
    Ok(sum)
}

/// Rebuilds this node's gazetteer and unit names after a change (a failure is logged: the
/// change is committed and the next start rebuilds them).
pub(super) async fn reload(state: &AppState) {
    if let Err(e) = state.models.reload_units(state.store.reader()).await {
        tracing::error!(error = %e, "units changed but the gazetteer did not rebuild");
    }
}
