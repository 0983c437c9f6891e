//! What the KPIs count by: the versioned rules (a month's are those in force on its first
//! day), residents per unit for volume per 10,000, and orders exempt from their unit's rates.

use super::Month;
use crate::error::{AppError, FieldError};
use crate::services::accounts::By;
use crate::services::AppState;
use crate::store::{kpi as store, reference, Tx};
use chrono::NaiveDate;
use jiesu_core::access::Action;
use jiesu_core::kpi::KpiRules;
use jiesu_core::Actor;
use serde::Deserialize;

/// The rules of a month: the latest effective at its start, or the documented default.
pub async fn rules_for(state: &AppState, month: Month) -> Result<KpiRules, AppError> {
    let at = state.config.local_midnight(month.first_day());
    Ok(store::rules_at(state.store.reader(), at)
        .await?
        .unwrap_or_default())
}

/// New KPI rules as submitted.
#[derive(Debug, Deserialize)]
pub struct RulesInput {
    /// The rules.
    #[serde(flatten)]
    pub rules: KpiRules,
    /// The first day they apply to (a month's rules are those in force on its first day).
    pub effective_from: NaiveDate,
}

/// What is wrong with `input`, field by field (empty when nothing).
fn check(input: &RulesInput) -> Vec<FieldError> {
    let mut e = Vec::new();
    if let Err(m) = input.rules.validate() {
        e.push(FieldError::new("rules", &m, &m));
    }
    if input.rules.version.trim().is_empty() || input.rules.version.len() > 64 {
        e.push(FieldError::of(
            "version",
            "err.kpi.version_must_be_1_64_characters",
        ));
    }
    if !jiesu_core::dates::in_range(input.effective_from) {
        e.push(FieldError::of("effective_from", "err.date_out_of_range"));
    }
    e
}

/// Stores a checked version in `tx` with its event; false when the version name exists.
async fn insert_in(
    state: &AppState,
    tx: &mut Tx,
    by: By<'_>,
    input: &RulesInput,
) -> Result<bool, AppError> {
    let who = match by {
        By::User(a) => a.user_id.clone(),
        By::Console => "console".into(),
        By::System => "system".into(),
    };
    if !store::insert_rules(
        tx,
        &input.rules,
        state.config.local_midnight(input.effective_from),
        &who,
        state.clock.now(),
    )
    .await?
    {
        return Ok(false);
    }
    let ev = serde_json::json!({ "rules": input.rules, "effective_from": input.effective_from });
    tx.event(by.event(state, "kpi.rules_added", ev));
    Ok(true)
}

/// Adds a version of the rules (admin only).
pub async fn add_rules(state: &AppState, actor: &Actor, input: RulesInput) -> Result<(), AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("changing the KPI rules"));
    }
    if let Some(first) = check(&input).into_iter().next() {
        return Err(AppError::Invalid(vec![first]));
    }
    let mut tx = state.store.begin().await?;
    if !insert_in(state, &mut tx, By::User(actor), &input).await? {
        return Err(AppError::Conflict(format!(
            "rules version {} exists",
            input.rules.version
        )));
    }
    tx.commit().await?;
    Ok(())
}

/// Adds the rows' versions in order, all or nothing (a bad row refuses the list, named
/// `rows[i].field`): a row the same as a stored version (name, rules and first day) is
/// unchanged, a row reusing a stored version's name with anything else is refused, any other
/// row is a new version with `add_rules`' event (versions are never changed, so `changed` is
/// 0); `dry_run` keeps nothing.
pub async fn import_rules(
    state: &AppState,
    by: By<'_>,
    rows: &[RulesInput],
    dry_run: bool,
) -> Result<crate::services::imports::ImportSummary, AppError> {
    by.may_administer()?;
    let stored = crate::services::directory::kpi_rules(state).await?;
    let mut errors = Vec::new();
    let mut new = Vec::new();
    let mut unchanged = 0;
    for (i, row) in rows.iter().enumerate() {
        let at = |f: &str| format!("rows[{i}].{f}");
        match stored.iter().find(|v| v.rules.version == row.rules.version) {
            Some(v)
                if v.rules == row.rules
                    && v.effective_from == state.config.local_midnight(row.effective_from) =>
            {
                unchanged += 1;
            }
            Some(_) => errors.push(FieldError::of(at("version"), "err.kpi.version_exists")),
            None => {
                for mut e in check(row) {
                    e.field = at(&e.field);
                    errors.push(e);
                }
                new.push((i, row));
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = state.store.begin().await?;
    for (i, row) in &new {
        if !insert_in(state, &mut tx, by, row).await? {
            return Err(AppError::Invalid(vec![FieldError::of(
                format!("rows[{i}].version"),
                "err.kpi.version_exists",
            )]));
        }
    }
    if !dry_run {
        tx.commit().await?;
    }
    Ok(crate::services::imports::ImportSummary {
        added: new.len(),
        changed: 0,
        unchanged,
    })
}

/// One unit's residents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationInput {
    /// Unit code.
    pub unit_code: String,
    /// Residents (常住人口), at least 1.
    pub population: i64,
}

/// Records residents per unit (admin), for ranking volume per 10,000 residents; returns how
/// many units were set. All or nothing: one bad row refuses the whole list, naming it.
pub async fn set_populations(
    state: &AppState,
    actor: &Actor,
    rows: &[PopulationInput],
) -> Result<usize, AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("recording populations"));
    }
    let mut errors = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.population < 1 {
            errors.push(FieldError::of(
                format!("units[{i}].population"),
                "err.kpi.population_must_be_a_positive_integer",
            ));
        }
        if reference::unit(state.store.reader(), &r.unit_code)
            .await?
            .is_none()
        {
            errors.push(FieldError::with(
                format!("units[{i}].unit_code"),
                "err.kpi.no_such_unit",
                &[("unit", r.unit_code.to_string())],
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    for r in rows {
        store::set_population(&mut tx, &r.unit_code, r.population, &actor.user_id, now).await?;
    }
    let payload = serde_json::json!({ "units": rows.iter().map(|r| serde_json::json!({ "unit_code": r.unit_code, "population": r.population })).collect::<Vec<_>>() });
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "kpi.population_set",
        payload,
    ));
    tx.commit().await?;
    Ok(rows.len())
}

/// Exempts an order from its unit's rates (不纳入考核), with a reason; the approver is the
/// actor (a supervisor or admin).
pub async fn exempt(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    reason: &str,
) -> Result<String, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("approving exemptions"));
    }
    jiesu_core::workflow::require_text("reason", reason, 2000)?;
    let request_id =
        crate::store::assignments::request_of_assignment(state.store.reader(), assignment_id)
            .await?
            .ok_or(AppError::NotFound("assignment"))?;
    let mut tx = state.store.begin().await?;
    if !store::insert_exemption(
        &mut tx,
        assignment_id,
        reason,
        &actor.user_id,
        state.clock.now(),
    )
    .await?
    {
        return Err(AppError::Conflict("this order is already exempt".into()));
    }
    state
        .event(
            actor,
            &request_id,
            Some(assignment_id),
            "assignment.exempted",
        )
        .payload(serde_json::json!({ "reason": reason }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(request_id)
}
