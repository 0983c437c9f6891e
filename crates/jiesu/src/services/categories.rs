//! Categories as administrators keep them while the platform runs (诉求分类管理): add, change
//! (rename, move under another parent of the right level, time-limit class, default unit,
//! keywords, 办结审核, deactivate and reactivate; never delete), import a list. Each change is
//! an event and a version with its effective date (`valid_from`: now by default, later for an
//! announced change, never before the current month), so an old month shows the names in
//! force then. The code never changes: old requests keep their category.

use super::accounts::By;
pub use super::imports::ImportSummary;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::categories as store;
pub use crate::store::categories::{CategoryRecord, CategoryVersion};
use crate::store::Tx;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

/// A new category as submitted.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    /// Code (lower-case letters, digits, `.`, `_`, `-`; at most 48).
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name (the Chinese one when empty).
    #[serde(default)]
    pub name_en: String,
    /// Parent category (none for a level-1 category); the level follows from it.
    #[serde(default)]
    pub parent_code: Option<String>,
    /// Time-limit class (the parent's, else `general`, when empty).
    #[serde(default)]
    pub time_limit_class: String,
    /// The unit that usually handles it.
    #[serde(default)]
    pub default_unit_code: Option<String>,
    /// Intake keywords, `|`-separated.
    #[serde(default)]
    pub keywords: String,
    /// 办结审核.
    #[serde(default)]
    pub reply_review: bool,
    /// In force from (default now; not before the current month's first day). Dated later,
    /// the category is announced: kept inactive, usable at intake from its day.
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
}

/// A change to a category: the fields given change, the others stay.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryChange {
    /// New Chinese name (rename: same code, same requests).
    pub name: Option<String>,
    /// New English name.
    pub name_en: Option<String>,
    /// New parent (move), of the level above the category's.
    pub parent_code: Option<String>,
    /// New time-limit class (orders already dispatched keep their deadlines).
    pub time_limit_class: Option<String>,
    /// New default unit; empty for none.
    pub default_unit_code: Option<String>,
    /// New keywords, `|`-separated.
    pub keywords: Option<String>,
    /// 办结审核 on or off.
    pub reply_review: Option<bool>,
    /// false deactivates (no new requests), true reactivates.
    pub active: Option<bool>,
    /// In force from (default now; not before the current month's first day).
    pub valid_from: Option<DateTime<Utc>>,
}

impl CategoryChange {
    fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.name_en.is_none()
            && self.parent_code.is_none()
            && self.time_limit_class.is_none()
            && self.default_unit_code.is_none()
            && self.keywords.is_none()
            && self.reply_review.is_none()
            && self.active.is_none()
    }
}

/// A category with its history.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryHistory {
    /// The category now.
    pub category: CategoryRecord,
    /// Its versions, oldest first (empty: as shipped since always); `applied` false marks an
    /// announced change.
    pub versions: Vec<CategoryVersion>,
}

/// Every category as it is now (active or not), by code.
pub async fn list(state: &AppState) -> Result<Vec<CategoryRecord>, AppError> {
    Ok(store::all(state.store.reader()).await?)
}

/// One category with its versions, or 404.
pub async fn history(state: &AppState, code: &str) -> Result<CategoryHistory, AppError> {
    let category = store::get(state.store.reader(), code)
        .await?
        .ok_or(AppError::NotFound("category"))?;
    let versions = store::versions(state.store.reader(), code).await?;
    Ok(CategoryHistory { category, versions })
}

/// The category a new request (or task, or catalogue rule) is filed in, as in force now:
/// 422 on `field` when it is unknown or inactive.
pub async fn usable(state: &AppState, field: &str, code: &str) -> Result<CategoryRecord, AppError> {
    let found = store::at(state.store.reader(), code, state.clock.now()).await?;
    match found {
        None => Err(AppError::invalid(field, "err.no_such_category")),
        Some(c) if !c.active => {
            let now = state.clock.now();
            if let Some(from) = store::announced_from(state.store.reader(), code, now).await? {
                let day = from.with_timezone(&state.config.offset()).date_naive();
                return Err(AppError::invalid_with(
                    field,
                    "err.categories.not_yet",
                    &[("code", code.to_string()), ("day", day.to_string())],
                ));
            }
            Err(AppError::invalid_with(
                field,
                "err.categories.inactive",
                &[("code", code.to_string())],
            ))
        }
        Some(c) => Ok(c),
    }
}

fn who(by: By<'_>) -> String {
    match by {
        By::User(a) => a.user_id.clone(),
        By::Console => "console".into(),
        By::System => "system".into(),
    }
}

fn check_text(field: &str, v: &str, min: usize, max: usize, key: &str, e: &mut Vec<FieldError>) {
    let n = v.trim().chars().count();
    if n < min || n > max || v.chars().any(char::is_control) {
        e.push(FieldError::of(field, key));
    }
}

fn code_ok(code: &str) -> bool {
    (1..=48).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// Normalises keywords (`|`, `,` or `，` between them) to `a|b|c`.
fn normal_keywords(v: &str) -> String {
    v.split(['|', ',', '，'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect::<Vec<_>>()
        .join("|")
}

/// Checks the fields every category has; `at` prefixes the field names (`rows[3].`).
async fn check_fields(
    tx: &mut Tx,
    at: &str,
    c: &CategoryRecord,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut e = Vec::new();
    check_text(
        &format!("{at}name"),
        &c.name,
        1,
        64,
        "err.categories.name",
        &mut e,
    );
    check_text(
        &format!("{at}name_en"),
        &c.name_en,
        1,
        128,
        "err.categories.name_en",
        &mut e,
    );
    let kws: Vec<&str> = c.keywords.split('|').filter(|k| !k.is_empty()).collect();
    if kws.len() > 64
        || kws
            .iter()
            .any(|k| k.chars().count() > 16 || k.chars().any(char::is_control))
    {
        e.push(FieldError::of(
            format!("{at}keywords"),
            "err.categories.keywords",
        ));
    }
    let class_known = !c.time_limit_class.is_empty()
        && crate::store::reference::time_limit(tx.conn(), &c.time_limit_class, now)
            .await?
            .is_some();
    if !class_known {
        e.push(FieldError::with(
            format!("{at}time_limit_class"),
            "err.handling.no_such_time_limit_class",
            &[("class", c.time_limit_class.clone())],
        ));
    }
    if let Some(u) = &c.default_unit_code {
        if crate::store::reference::unit(tx.conn(), u).await?.is_none() {
            e.push(FieldError::with(
                format!("{at}default_unit_code"),
                "err.no_such_handling_unit",
                &[("unit", u.clone())],
            ));
        }
    }
    if e.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(e))
    }
}

/// The level under `parent` (checked: exists and is active, at most level 3).
async fn level_under(tx: &mut Tx, at: &str, parent: Option<&str>) -> Result<i64, AppError> {
    let field = format!("{at}parent_code");
    let Some(code) = parent else { return Ok(1) };
    let p = store::get(tx.conn(), code).await?;
    let Some(p) = p.filter(|p| p.active) else {
        return Err(AppError::invalid_with(
            field,
            "err.categories.no_such_parent",
            &[("code", code.to_string())],
        ));
    };
    if p.level >= 3 {
        return Err(AppError::invalid(field, "err.categories.parent_level"));
    }
    Ok(p.level + 1)
}

fn record_of(input: &NewCategory, by: &str, now: DateTime<Utc>) -> CategoryRecord {
    let name = input.name.trim().to_string();
    let en = input.name_en.trim();
    CategoryRecord {
        code: input.code.trim().to_string(),
        name_en: if en.is_empty() {
            name.clone()
        } else {
            en.to_string()
        },
        name,
        parent_code: input
            .parent_code
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string),
        level: 1,
        default_unit_code: input
            .default_unit_code
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string),
        time_limit_class: input.time_limit_class.trim().to_string(),
        keywords: normal_keywords(&input.keywords),
        reply_review: input.reply_review,
        active: true,
        source: "admin".into(),
        updated_by: by.to_string(),
        updated_at: now,
    }
}

/// Adds a category (an event `category.added` and its first version): in force at once, or
/// from `valid_from` when that is later (announced: inactive until the sweep applies it).
pub async fn add(
    state: &AppState,
    by: By<'_>,
    input: &NewCategory,
) -> Result<CategoryRecord, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let c = add_in(state, &mut tx, by, "", input).await?;
    tx.commit().await?;
    reload(state).await;
    Ok(c)
}

async fn add_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    at: &str,
    input: &NewCategory,
) -> Result<CategoryRecord, AppError> {
    let now = state.clock.now();
    let when = input.valid_from.unwrap_or(now);
    if when < month_start(state, now) {
        return Err(AppError::invalid(
            format!("{at}valid_from"),
            "err.categories.valid_from",
        ));
    }
    let announced = when > now;
    let mut c = record_of(input, &who(by), now);
    if !code_ok(&c.code) {
        return Err(AppError::invalid(
            format!("{at}code"),
            "err.categories.code",
        ));
    }
    if store::get(tx.conn(), &c.code).await?.is_some() {
        return Err(AppError::invalid_with(
            format!("{at}code"),
            "err.categories.code_taken",
            &[("code", c.code.clone())],
        ));
    }
    c.level = level_under(tx, at, c.parent_code.as_deref()).await?;
    if c.time_limit_class.is_empty() {
        c.time_limit_class = match &c.parent_code {
            Some(p) => store::get(tx.conn(), p)
                .await?
                .map(|p| p.time_limit_class)
                .unwrap_or_else(|| "general".into()),
            None => "general".into(),
        };
    }
    check_fields(tx, at, &c, now).await?;
    let v = store::NewVersion {
        category: &c,
        change: "added",
        valid_from: if announced { when } else { now },
        now,
    };
    store::record_version(tx, None, &v).await?;
    // Announced: the row waits inactive (refused at intake) until its version is applied.
    let row = CategoryRecord {
        active: !announced,
        ..c.clone()
    };
    store::save(tx, &row).await?;
    tx.event(by.event(
        state,
        "category.added",
        serde_json::json!({ "category": c, "valid_from": v.valid_from, "announced": announced }),
    ));
    Ok(row)
}

/// Changes a category from `valid_from` (now when absent): one event (`category.changed`,
/// or `action` when given) with before and after, and a version. A change dated later is
/// announced: it is stored and takes effect on its date (see [`apply_due`]).
pub async fn change(
    state: &AppState,
    by: By<'_>,
    code: &str,
    input: &CategoryChange,
) -> Result<CategoryRecord, AppError> {
    change_as(state, by, code, input, "category.changed").await
}

/// [`change`] recorded under another event name (the 办结审核 switch keeps its own).
pub async fn change_as(
    state: &AppState,
    by: By<'_>,
    code: &str,
    input: &CategoryChange,
    action: &str,
) -> Result<CategoryRecord, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let c = change_in(state, &mut tx, by, "", code, input, action).await?;
    tx.commit().await?;
    reload(state).await;
    Ok(c)
}

/// The first instant of the current month (local), before which no change may be dated.
fn month_start(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&state.config.offset()).date_naive();
    state
        .config
        .local_midnight(today.with_day(1).unwrap_or(today))
}

fn apply(before: &CategoryRecord, input: &CategoryChange) -> CategoryRecord {
    let mut c = before.clone();
    let set = |slot: &mut String, v: &Option<String>| {
        if let Some(v) = v {
            *slot = v.trim().to_string();
        }
    };
    set(&mut c.name, &input.name);
    set(&mut c.name_en, &input.name_en);
    set(&mut c.time_limit_class, &input.time_limit_class);
    if let Some(k) = &input.keywords {
        c.keywords = normal_keywords(k);
    }
    if let Some(p) = &input.parent_code {
        c.parent_code = Some(p.trim().to_string()).filter(|p| !p.is_empty());
    }
    if let Some(u) = &input.default_unit_code {
        c.default_unit_code = Some(u.trim().to_string()).filter(|u| !u.is_empty());
    }
    if let Some(r) = input.reply_review {
        c.reply_review = r;
    }
    if let Some(a) = input.active {
        c.active = a;
    }
    c
}

/// The change that turns `a` into `b` (only the fields that differ).
fn diff(a: &CategoryRecord, b: &CategoryRecord) -> CategoryChange {
    fn field<T: PartialEq + Clone>(a: &T, b: &T) -> Option<T> {
        (a != b).then(|| b.clone())
    }
    CategoryChange {
        name: field(&a.name, &b.name),
        name_en: field(&a.name_en, &b.name_en),
        parent_code: field(&a.parent_code, &b.parent_code).map(Option::unwrap_or_default),
        time_limit_class: field(&a.time_limit_class, &b.time_limit_class),
        default_unit_code: field(&a.default_unit_code, &b.default_unit_code)
            .map(Option::unwrap_or_default),
        keywords: field(&a.keywords, &b.keywords),
        reply_review: field(&a.reply_review, &b.reply_review),
        active: field(&a.active, &b.active),
        valid_from: None,
    }
}

/// Whether two states differ in what a version records.
fn same_state(a: &CategoryRecord, b: &CategoryRecord) -> bool {
    let strip = |c: &CategoryRecord| CategoryRecord {
        source: String::new(),
        updated_by: String::new(),
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
        ..c.clone()
    };
    strip(a) == strip(b)
}

async fn change_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    at: &str,
    code: &str,
    input: &CategoryChange,
    action: &str,
) -> Result<CategoryRecord, AppError> {
    let now = state.clock.now();
    let current = store::get(tx.conn(), code)
        .await?
        .ok_or(AppError::NotFound("category"))?;
    let when = input.valid_from.unwrap_or(now);
    if when < month_start(state, now) {
        return Err(AppError::invalid(
            format!("{at}valid_from"),
            "err.categories.valid_from",
        ));
    }
    if input.is_empty() {
        return Ok(current);
    }
    // The state as it will be at `when` (an earlier announced change included).
    let base = match store::version_at(tx.conn(), code, when).await? {
        Some(b) => b,
        None => current.clone(),
    };
    let mut after = apply(&base, input);
    check_fields(tx, at, &after, now).await?;
    check_place(tx, at, &base, &after).await?;
    if same_state(&after, &base) {
        return Ok(current);
    }
    let what = match (base.active, after.active) {
        (true, false) => "deactivated",
        (false, true) => "reactivated",
        _ if after.parent_code != base.parent_code => "moved",
        _ => "changed",
    };
    after.source = "admin".into();
    after.updated_by = who(by);
    after.updated_at = now;
    let v = store::NewVersion {
        category: &after,
        change: what,
        valid_from: when,
        now,
    };
    store::record_version(tx, Some(&current), &v).await?;
    // A change dated before a later version (announced, or backdated) is carried into it:
    // only what changed, so a form that sends every field does not undo the later change.
    let delta = diff(&base, &after);
    for later in store::later_versions(tx, code, when).await? {
        store::rewrite_version(tx, &later.id, &apply(&later.category, &delta)).await?;
    }
    let in_force = in_force_now(tx, code, now, &current).await?;
    tx.event(by.event(
        state,
        action,
        serde_json::json!({ "code": code, "change": what, "valid_from": when,
            "announced": when > now, "before": base, "after": after }),
    ));
    Ok(in_force)
}

/// Writes the row as in force at `now` (from the versions) when it differs; returns it.
async fn in_force_now(
    tx: &mut Tx,
    code: &str,
    now: DateTime<Utc>,
    current: &CategoryRecord,
) -> Result<CategoryRecord, AppError> {
    let Some(mut c) = store::version_at(tx.conn(), code, now).await? else {
        return Ok(current.clone());
    };
    if same_state(&c, current) {
        return Ok(current.clone());
    }
    c.source = "admin".into();
    store::save(tx, &c).await?;
    Ok(c)
}

/// A move keeps the level (the new parent is of the level above); deactivating needs no
/// active category under it; reactivating needs an active parent.
async fn check_place(
    tx: &mut Tx,
    at: &str,
    before: &CategoryRecord,
    after: &CategoryRecord,
) -> Result<(), AppError> {
    if after.parent_code != before.parent_code
        || (after.active && !before.active && after.parent_code.is_some())
    {
        let level = level_under(tx, at, after.parent_code.as_deref()).await?;
        if level != before.level {
            return Err(AppError::invalid_with(
                format!("{at}parent_code"),
                "err.categories.move_level",
                &[("level", before.level.to_string())],
            ));
        }
    }
    if before.active && !after.active {
        let active = store::children(tx.conn(), &before.code)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .count();
        if active > 0 {
            return Err(AppError::invalid_with(
                format!("{at}active"),
                "err.categories.has_children",
                &[("n", active.to_string())],
            ));
        }
    }
    Ok(())
}

/// Applies the announced changes whose date has come: the row takes the state in force, an
/// event `category.changed` (change `applied`) says so. Idempotent; any node may run it.
/// Returns how many were applied.
pub async fn apply_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.now();
    let due = store::due(state.store.reader(), now).await?;
    let mut applied = 0;
    for (id, code) in due {
        let mut tx = state.store.begin().await?;
        if !store::mark_applied(&mut tx, &id).await? {
            continue;
        }
        let Some(current) = store::get(tx.conn(), &code).await? else {
            continue;
        };
        let after = in_force_now(&mut tx, &code, now, &current).await?;
        tx.event(By::System.event(
            state,
            "category.changed",
            serde_json::json!({ "code": code, "change": "applied", "version": id,
                "before": current, "after": after }),
        ));
        tx.commit().await?;
        applied += 1;
    }
    if applied > 0 {
        reload(state).await;
    }
    Ok(applied)
}

/// Keeps this node's category tables up with the log: applies announced changes that are
/// due, and reloads when another node changed a category (a `category.*` event this node
/// has not seen).
pub async fn follow(state: &AppState) -> Result<(), AppError> {
    apply_due(state).await?;
    let seen = state.models.category_seq.load(Ordering::SeqCst);
    if let Some(seq) = store::event_after(state.store.reader(), seen).await? {
        if let Err(e) = state.models.reload_categories(state.store.reader()).await {
            tracing::error!(error = %e, "categories changed but the tables did not rebuild");
            return Ok(());
        }
        state.models.category_seq.fetch_max(seq, Ordering::SeqCst);
    }
    Ok(())
}

/// One row of an import: the category as it should be.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// The category's fields.
    pub category: NewCategory,
    /// Whether it should be active.
    pub active: bool,
}

/// Applies rows in order, all or nothing (a bad row refuses the list, named `rows[i].field`),
/// in force now; `dry_run` counts without keeping anything.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<ImportSummary, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let mut sum = ImportSummary::default();
    for (i, row) in rows.iter().enumerate() {
        let at = format!("rows[{i}].");
        let code = row.category.code.trim();
        match store::get(tx.conn(), code).await? {
            None => {
                add_in(state, &mut tx, by, &at, &row.category).await?;
                if !row.active {
                    let off = CategoryChange {
                        active: Some(false),
                        ..CategoryChange::default()
                    };
                    change_in(state, &mut tx, by, &at, code, &off, "category.changed").await?;
                }
                sum.added += 1;
            }
            Some(before) => {
                let c = &row.category;
                let input = CategoryChange {
                    name: Some(c.name.clone()),
                    name_en: Some(if c.name_en.trim().is_empty() {
                        c.name.clone()
                    } else {
                        c.name_en.clone()
                    }),
                    parent_code: Some(c.parent_code.clone().unwrap_or_default()),
                    time_limit_class: Some(c.time_limit_class.clone()),
                    default_unit_code: Some(c.default_unit_code.clone().unwrap_or_default()),
                    keywords: Some(c.keywords.clone()),
                    reply_review: Some(c.reply_review),
                    active: Some(row.active),
                    valid_from: None,
                };
                let after =
                    change_in(state, &mut tx, by, &at, code, &input, "category.changed").await?;
                if same_state(&after, &before) {
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

/// Rebuilds this node's category tables after a change (a failure is logged: the change is
/// committed and the follower or the next start rebuilds them).
async fn reload(state: &AppState) {
    // Read before the reload: whatever commits meanwhile is reloaded again by the follower.
    let head = crate::store::events::head_seq(state.store.reader()).await;
    match state.models.reload_categories(state.store.reader()).await {
        Ok(()) => {
            if let Ok(seq) = head {
                state.models.category_seq.fetch_max(seq, Ordering::SeqCst);
            }
        }
        Err(e) => tracing::error!(error = %e, "categories changed but the tables did not rebuild"),
    }
}
