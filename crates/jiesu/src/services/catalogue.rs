//! The dispatch catalogue (派单目录): dispatchers and supervisors keep the rules that say who
//! handles what where; intake suggestions apply them. The shipped starting rules are loaded
//! once into an empty catalogue.

use super::accounts::By;
pub use super::imports::ImportSummary;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::catalogue;
use crate::store::{reference, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::dispatch::{CatalogueRule, RuleUnit};
use jiesu_core::workflow::AssignmentRole;
use jiesu_core::Actor;
use serde::Deserialize;

pub use crate::store::catalogue::StoredRule;

/// The shipped starting rules.
pub const SHIPPED: &str = include_str!("../../../../reference/dispatch_rules.csv");

/// A rule as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// The category (and everything under it).
    pub category_code: String,
    /// A district or street code, or empty for the whole city.
    #[serde(default)]
    pub area_code: String,
    /// The units; exactly one lead.
    pub units: Vec<RuleUnit>,
    /// Why.
    #[serde(default)]
    pub note: String,
}

const PLACEHOLDERS: [&str; 3] = ["{street}", "{community}", "{district}"];

/// Checks a rule: its category exists and is active (or announced to be), its area is a
/// district or street, its units exist, exactly one leads.
async fn validate(
    conn: &sqlx::AnyPool,
    now: DateTime<Utc>,
    input: &RuleInput,
) -> Result<Vec<FieldError>, AppError> {
    let mut errors = Vec::new();
    let code = input.category_code.as_str();
    match crate::store::categories::get(conn, code).await? {
        None => errors.push(FieldError::of("category_code", "err.no_such_category")),
        Some(c) if !c.active => {
            // A category announced for a later day may have its rules ready for that day.
            let announced = crate::store::categories::announced_from(conn, code, now).await?;
            if announced.is_none() {
                errors.push(FieldError::with(
                    "category_code",
                    "err.categories.inactive",
                    &[("code", code.to_string())],
                ));
            }
        }
        Some(_) => {}
    }
    if !input.area_code.is_empty() {
        let area = reference::unit(conn, &input.area_code).await?;
        if !area.is_some_and(|u| {
            matches!(
                u.level.as_str(),
                "district" | "subdistrict" | "township" | "zone"
            )
        }) {
            errors.push(FieldError::of(
                "area_code",
                "err.catalogue.must_be_a_district_or_street",
            ));
        }
    }
    for (i, u) in input.units.iter().enumerate() {
        if !PLACEHOLDERS.contains(&u.unit.as_str())
            && reference::unit(conn, &u.unit).await?.is_none()
        {
            errors.push(FieldError::of(
                format!("units[{i}].unit"),
                "err.catalogue.no_such_unit_or_use_street",
            ));
        }
    }
    if input
        .units
        .iter()
        .filter(|u| u.role == AssignmentRole::Lead)
        .count()
        != 1
    {
        errors.push(FieldError::of(
            "units",
            "err.catalogue.exactly_one_lead_unit",
        ));
    }
    if input.note.chars().count() > 500 {
        errors.push(FieldError::of(
            "note",
            "err.catalogue.at_most_500_characters",
        ));
    }
    Ok(errors)
}

fn may_edit(actor: &Actor) -> Result<(), AppError> {
    if actor.may(Action::Supervise) {
        Ok(())
    } else {
        Err(AppError::Forbidden("editing the dispatch catalogue"))
    }
}

/// Adds a rule, retiring `replaces` in the same transaction when given.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    replaces: Option<&str>,
    input: RuleInput,
) -> Result<StoredRule, AppError> {
    may_edit(actor)?;
    let errors = validate(state.store.reader(), state.clock.now(), &input).await?;
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.clock.now();
    let rule = CatalogueRule {
        id: uuid::Uuid::now_v7().to_string(),
        category_code: input.category_code,
        area_code: input.area_code,
        units: input.units,
    };
    let mut tx = state.store.begin().await?;
    if let Some(old) = replaces {
        if !catalogue::retire(&mut tx, old, now).await? {
            return Err(AppError::NotFound("dispatch rule"));
        }
    }
    catalogue::insert(&mut tx, &rule, &input.note, &actor.user_id, now).await?;
    let payload = serde_json::json!({ "rule": rule, "note": input.note, "replaces": replaces });
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "catalogue.rule_added",
        payload,
    ));
    tx.commit().await?;
    state.models.forget_rules();
    Ok(StoredRule {
        rule,
        note: input.note,
        created_at: now,
    })
}

/// Retires a rule.
pub async fn retire(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    may_edit(actor)?;
    let mut tx = state.store.begin().await?;
    if !catalogue::retire(&mut tx, id, state.clock.now()).await? {
        return Err(AppError::NotFound("dispatch rule"));
    }
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "catalogue.rule_retired",
        serde_json::json!({ "rule_id": id }),
    ));
    tx.commit().await?;
    state.models.forget_rules();
    Ok(())
}

/// One row of a catalogue import: `id` names the rule in force it stands for (empty: a new
/// rule); `active` false retires that rule.
#[derive(Debug)]
pub struct ImportRow {
    /// The rule in force the row stands for, or empty.
    pub id: String,
    /// The rule as the row has it.
    pub input: RuleInput,
    /// Whether the rule stays in force.
    pub active: bool,
}

/// Applies rows in order, all or nothing (a bad row refuses the list, named `rows[i].field`),
/// each change the same events as `save` and `retire`; `dry_run` counts without keeping
/// anything. Rules in force that no row names stay as they are.
pub async fn import(
    state: &AppState,
    by: By<'_>,
    rows: &[ImportRow],
    dry_run: bool,
) -> Result<ImportSummary, AppError> {
    if let By::User(actor) = by {
        may_edit(actor)?;
    }
    let current: std::collections::HashMap<String, StoredRule> = list(state)
        .await?
        .into_iter()
        .map(|r| (r.rule.id.clone(), r))
        .collect();
    let mut errors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let at = |f: &str| format!("rows[{i}].{f}");
        if !row.id.is_empty() && !current.contains_key(&row.id) {
            errors.push(FieldError::of(at("id"), "err.catalogue.no_such_rule"));
        }
        if row.active {
            for mut e in validate(state.store.reader(), state.clock.now(), &row.input).await? {
                e.field = at(&e.field);
                errors.push(e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut sum = ImportSummary::default();
    for row in rows {
        let old = current.get(&row.id);
        if let Some(old) = old {
            let same = old.rule.category_code == row.input.category_code
                && old.rule.area_code == row.input.area_code
                && old.rule.units == row.input.units
                && old.note == row.input.note;
            if row.active && same {
                sum.unchanged += 1;
                continue;
            }
            if !catalogue::retire(&mut tx, &row.id, now).await? {
                return Err(AppError::NotFound("dispatch rule"));
            }
            if !row.active {
                tx.event(by.event(
                    state,
                    "catalogue.rule_retired",
                    serde_json::json!({ "rule_id": row.id }),
                ));
                sum.changed += 1;
                continue;
            }
            sum.changed += 1;
        } else if !row.active {
            sum.unchanged += 1;
            continue;
        } else {
            sum.added += 1;
        }
        let rule = CatalogueRule {
            id: uuid::Uuid::now_v7().to_string(),
            category_code: row.input.category_code.clone(),
            area_code: row.input.area_code.clone(),
            units: row.input.units.clone(),
        };
        let who = match by {
            By::User(a) => a.user_id.as_str(),
            By::Console => "console",
            By::System => "system",
        };
        catalogue::insert(&mut tx, &rule, &row.input.note, who, now).await?;
        let replaces = old.map(|o| o.rule.id.as_str());
        let payload =
            serde_json::json!({ "rule": rule, "note": row.input.note, "replaces": replaces });
        tx.event(by.event(state, "catalogue.rule_added", payload));
    }
    if dry_run {
        drop(tx);
    } else {
        tx.commit().await?;
        state.models.forget_rules();
    }
    Ok(sum)
}

/// `unit:role|unit:role` (the shipped file's and the import's form of a rule's units).
pub fn parse_units(s: &str) -> anyhow::Result<Vec<RuleUnit>> {
    s.split('|')
        .map(|pair| {
            let (unit, role) = pair
                .split_once(':')
                .ok_or_else(|| anyhow::anyhow!("bad unit {pair}"))?;
            let role =
                AssignmentRole::parse(role).ok_or_else(|| anyhow::anyhow!("bad role {role}"))?;
            Ok(RuleUnit {
                unit: unit.to_string(),
                role,
            })
        })
        .collect()
}

/// Loads the shipped rules when the catalogue has never had any.
pub async fn load_shipped(
    state_jurisdiction: &str,
    tx: &mut Tx,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if !catalogue::is_empty(tx).await? {
        return Ok(0);
    }
    let mut rdr = csv::Reader::from_reader(SHIPPED.as_bytes());
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec?;
        let rule = CatalogueRule {
            id: uuid::Uuid::now_v7().to_string(),
            category_code: rec[0].to_string(),
            area_code: rec[1].to_string(),
            units: parse_units(&rec[2])?,
        };
        catalogue::insert(tx, &rule, &rec[3], "system", now).await?;
        n += 1;
    }
    tx.event(crate::store::NewEvent {
        jurisdiction: state_jurisdiction.to_string(),
        request_id: None,
        assignment_id: None,
        actor_id: "system".into(),
        actor_role: "system".into(),
        action: "catalogue.shipped_loaded".into(),
        before: None,
        after: None,
        payload: serde_json::json!({ "rules": n }),
        at: now,
    });
    Ok(n)
}

/// The rules in force.
pub async fn list(state: &AppState) -> Result<Vec<StoredRule>, AppError> {
    Ok(catalogue::active(state.store.reader()).await?)
}
