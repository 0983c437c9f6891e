//! What the KPIs count by: the versioned rules (a month's are those in force on its first
//! day), residents per unit for volume per 10,000, and orders exempt from their unit's rates.

use super::Month;
use crate::error::{AppError, FieldError};
use crate::services::AppState;
use crate::store::{kpi as store, reference};
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

/// Adds a version of the rules (admin only).
pub async fn add_rules(state: &AppState, actor: &Actor, input: RulesInput) -> Result<(), AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("changing the KPI rules"));
    }
    input
        .rules
        .validate()
        .map_err(|m| AppError::field("rules", &m, &m))?;
    if input.rules.version.trim().is_empty() || input.rules.version.len() > 64 {
        return Err(AppError::invalid(
            "version",
            "err.kpi.version_must_be_1_64_characters",
        ));
    }
    if !jiesu_core::dates::in_range(input.effective_from) {
        return Err(AppError::invalid("effective_from", "err.date_out_of_range"));
    }
    let mut tx = state.store.begin().await?;
    if !store::insert_rules(
        &mut tx,
        &input.rules,
        state.config.local_midnight(input.effective_from),
        &actor.user_id,
        state.clock.now(),
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "rules version {} exists",
            input.rules.version
        )));
    }
    let ev = serde_json::json!({ "rules": input.rules, "effective_from": input.effective_from });
    tx.event(state.audit_event(&actor.user_id, actor.role.as_str(), "kpi.rules_added", ev));
    tx.commit().await?;
    Ok(())
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
