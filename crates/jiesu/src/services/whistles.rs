//! 吹哨报到: a street (街道/乡镇) opens a proactive task and summons named departments and
//! units (吹哨). Each summoned unit must report (报到: acknowledge and name a person in charge)
//! within the summons' time limit, then replies like any order. Who reported in time is
//! counted per unit; the deadline sweep (`jobs::sweep_whistle_reports`) marks the late ones.
//!
//! A whistle IS a proactive task (`tasks.source_kind = 'whistle'`, source ref the street), so
//! its orders, deadlines, replies, supervision and callbacks are those of every task.

use super::directory::unit_names;
use super::handling::{settle_status, DispatchTarget};
use super::tasks::{self, NewTask, TaskSource};
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::whistles::{self as store, ReportRow};
use crate::store::{assignments, reference};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::access::Action;
use jiesu_core::workflow::{self, Assignment, AssignmentRole, AssignmentStatus, UnitAction};
use jiesu_core::{Actor, TaskOrigin};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hours a summoned unit has to report when the summons does not say.
pub const DEFAULT_REPORT_HOURS: i64 = 24;
/// The longest report time limit a summons may set (a week).
pub const MAX_REPORT_HOURS: i64 = 168;

/// Unit levels that may blow the whistle: streets, townships and zones.
const STREET_LEVELS: [&str; 3] = ["subdistrict", "township", "zone"];

/// A whistle as submitted by a street.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhistleInput {
    /// Title.
    pub title: String,
    /// The problem and what the summoned units are to do.
    pub description: String,
    /// The summoned units and their roles; exactly one lead.
    pub units: Vec<DispatchTarget>,
    /// Hours each summoned unit has to report (1–168, default 24).
    pub report_within_hours: Option<i64>,
    /// The handling time-limit class (default: the category's, else `general`).
    pub time_limit_class: Option<String>,
    /// The category.
    pub category_code: Option<String>,
    /// Where.
    pub address: Option<String>,
}

/// A report (报到).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportInput {
    /// The person in charge (负责人), 1–50 characters.
    pub person: String,
    /// How to reach them (a phone or office), at most 50 characters.
    #[serde(default)]
    pub contact: Option<String>,
}

/// Where a summoned unit's report stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Not reported, still in time.
    Pending,
    /// Not reported and past the deadline.
    Overdue,
    /// 按时报到.
    OnTime,
    /// 迟到报到.
    Late,
}

impl ReportState {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Pending => "pending",
            ReportState::Overdue => "overdue",
            ReportState::OnTime => "on_time",
            ReportState::Late => "late",
        }
    }

    fn of(row: &ReportRow, now: DateTime<Utc>) -> ReportState {
        match row.reported_at {
            Some(at) if at <= row.report_by => ReportState::OnTime,
            Some(_) => ReportState::Late,
            None if now > row.report_by => ReportState::Overdue,
            None => ReportState::Pending,
        }
    }
}

/// A summoned unit as shown.
#[derive(Debug, Serialize)]
pub struct Summoned {
    pub assignment_id: String,
    pub unit_code: String,
    pub unit_name: String,
    pub role: AssignmentRole,
    pub order_status: AssignmentStatus,
    pub report_by: DateTime<Utc>,
    pub reported_at: Option<DateTime<Utc>>,
    pub person_in_charge: Option<String>,
    pub person_contact: Option<String>,
    pub report: ReportState,
    pub late_marked_at: Option<DateTime<Utc>>,
}

/// A whistle task with its summoned units.
#[derive(Debug, Serialize)]
pub struct Whistle {
    pub task_id: String,
    pub number: String,
    pub title: String,
    pub status: jiesu_core::RequestStatus,
    pub whistle_unit: String,
    pub whistle_unit_name: String,
    pub report_within_hours: i64,
    pub created_at: DateTime<Utc>,
    pub units: Vec<Summoned>,
}

/// Per summoned unit: how it answered whistles.
#[derive(Debug, Default, Serialize)]
pub struct TallyRow {
    pub unit_code: String,
    pub unit_name: String,
    /// 被吹哨次数.
    pub summoned: u64,
    /// 按时报到.
    pub reported_on_time: u64,
    /// 迟到报到.
    pub reported_late: u64,
    /// 尚未报到 (of which `overdue` past the deadline).
    pub not_reported: u64,
    /// Not reported and past the deadline.
    pub overdue: u64,
}

fn street_of(actor: &Actor) -> Result<&jiesu_core::access::UnitScope, AppError> {
    match &actor.unit {
        Some(u) if actor.role.is_unit_role() => Ok(u),
        _ => Err(AppError::Forbidden("blowing the whistle (吹哨)")),
    }
}

fn validate(input: &WhistleInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(h) = input.report_within_hours {
        if !(1..=MAX_REPORT_HOURS).contains(&h) {
            errors.push(FieldError::with(
                "report_within_hours",
                "err.whistle.report_hours_1_to_max",
                &[("max", MAX_REPORT_HOURS.to_string())],
            ));
        }
    }
    if input.units.is_empty() || input.units.len() > 30 {
        errors.push(FieldError::of("units", "err.whistle.summon_1_to_30_units"));
    }
    errors
}

/// Blows the whistle: a street's staff open a task and summon units. Returns the whistle.
pub async fn open(
    state: &AppState,
    actor: &Actor,
    input: WhistleInput,
) -> Result<Whistle, AppError> {
    let scope = street_of(actor)?;
    let street = reference::unit(state.store.reader(), &scope.code)
        .await?
        .ok_or(AppError::Forbidden("blowing the whistle (吹哨)"))?;
    if !STREET_LEVELS.contains(&street.level.as_str()) {
        return Err(AppError::Forbidden(
            "blowing the whistle (吹哨): only streets and townships summon units",
        ));
    }
    let errors = validate(&input);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if let Some(i) = input.units.iter().position(|u| u.unit_code == street.code) {
        return Err(AppError::Invalid(vec![FieldError::of(
            format!("units[{i}].unit_code"),
            "err.whistle.a_street_does_not_summon_itself",
        )]));
    }
    let hours = input.report_within_hours.unwrap_or(DEFAULT_REPORT_HOURS);
    let task = NewTask {
        title: input.title,
        description: input.description,
        source: TaskSource {
            kind: TaskOrigin::Whistle.as_str().to_string(),
            reference: street.code.clone(),
        },
        request_ids: Vec::new(),
        units: input.units,
        time_limit_class: input.time_limit_class,
        category_code: input.category_code,
        address: input.address,
        topic_id: None,
    };
    let requester = format!("{}（吹哨报到）", street.name);
    let (mut tx, req, orders) = tasks::open_uncommitted(state, actor, task, &requester).await?;
    let now = state.clock.now();
    let report_by = now + Duration::hours(hours);
    for o in &orders {
        store::insert(
            &mut tx,
            &ReportRow {
                assignment_id: o.id.clone(),
                task_id: req.id.clone(),
                whistle_unit: street.code.clone(),
                unit_code: o.unit_code.clone(),
                report_hours: hours,
                report_by,
                reported_at: None,
                reported_by: None,
                person_in_charge: None,
                person_contact: None,
                late_marked_at: None,
                created_at: now,
            },
        )
        .await?;
    }
    state
        .event(actor, &req.id, None, "whistle.blown")
        .payload(serde_json::json!({
            "whistle_unit": street.code, "report_within_hours": hours, "report_by": report_by,
            "units": orders.iter().map(|o| serde_json::json!({ "unit_code": o.unit_code, "assignment_id": o.id })).collect::<Vec<_>>(),
        }))
        .record(&mut tx);
    tx.commit().await?;
    view(state, &req.id).await
}

/// Whether the actor may see a whistle: the center, the whistling street (or a unit above
/// it), and the summoned units.
fn sees(actor: &Actor, street_path: &str, unit_paths: &[String]) -> bool {
    actor.may(Action::Supervise)
        || actor.covers_unit(street_path)
        || unit_paths.iter().any(|p| actor.covers_unit(p))
}

async fn view(state: &AppState, task_id: &str) -> Result<Whistle, AppError> {
    let rows = store::of_task(state.store.reader(), task_id).await?;
    let first = rows.first().ok_or(AppError::NotFound("whistle"))?;
    let req = crate::store::requests::get(state.store.reader(), task_id)
        .await?
        .ok_or(AppError::NotFound("whistle"))?;
    let orders = assignments::assignments_of(state.store.reader(), task_id).await?;
    let names = unit_names(
        state,
        rows.iter()
            .map(|r| r.unit_code.clone())
            .chain([first.whistle_unit.clone()]),
    )
    .await?;
    let now = state.clock.now();
    let units = rows
        .iter()
        .filter_map(|r| {
            let o = orders.iter().find(|o| o.id == r.assignment_id)?;
            Some(Summoned {
                assignment_id: r.assignment_id.clone(),
                unit_code: r.unit_code.clone(),
                unit_name: names.of(&r.unit_code),
                role: o.role,
                order_status: o.status,
                report_by: r.report_by,
                reported_at: r.reported_at,
                person_in_charge: r.person_in_charge.clone(),
                person_contact: r.person_contact.clone(),
                report: ReportState::of(r, now),
                late_marked_at: r.late_marked_at,
            })
        })
        .collect();
    Ok(Whistle {
        task_id: req.id.clone(),
        number: req.number.clone(),
        title: req.title.clone(),
        status: req.status,
        whistle_unit: first.whistle_unit.clone(),
        whistle_unit_name: names.of(&first.whistle_unit),
        report_within_hours: first.report_hours,
        created_at: first.created_at,
        units,
    })
}

/// One whistle (404 for one the actor does not see, as for a missing one).
pub async fn get(state: &AppState, actor: &Actor, task_id: &str) -> Result<Whistle, AppError> {
    let w = view(state, task_id).await?;
    let street = reference::unit(state.store.reader(), &w.whistle_unit)
        .await?
        .map(|u| u.path)
        .unwrap_or_default();
    let paths: Vec<String> = assignments::assignments_of(state.store.reader(), task_id)
        .await?
        .into_iter()
        .filter(|o| w.units.iter().any(|u| u.assignment_id == o.id))
        .map(|o| o.unit_path)
        .collect();
    if !sees(actor, &street, &paths) {
        return Err(AppError::NotFound("whistle"));
    }
    Ok(w)
}

/// 报到: a summoned unit's staff acknowledge the order (when not yet) and name the person in
/// charge. 409 when it reported already; on time when before the summons' deadline.
pub async fn report(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    input: ReportInput,
) -> Result<Whistle, AppError> {
    if !actor.may(Action::Acknowledge) {
        return Err(AppError::Forbidden("reporting to a whistle (报到)"));
    }
    let row = store::of_order(state.store.reader(), assignment_id)
        .await?
        .ok_or(AppError::NotFound("whistle order"))?;
    let (mut tx, mut req) = state.lock_request(&row.task_id).await?;
    let mut orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let idx = orders
        .iter()
        .position(|a| a.id == assignment_id)
        .ok_or(AppError::NotFound("whistle order"))?;
    if !actor.covers_unit(&orders[idx].unit_path) {
        return Err(AppError::NotFound("whistle order"));
    }
    workflow::require_text("person", &input.person, 50)?;
    let contact = input.contact.filter(|c| !c.trim().is_empty());
    if contact.as_ref().is_some_and(|c| c.chars().count() > 50) {
        return Err(AppError::invalid(
            "contact",
            "err.whistle.contact_at_most_50_characters",
        ));
    }
    let now = state.clock.now();
    if orders[idx].status == AssignmentStatus::Dispatched {
        // 报到 acknowledges the order as 签收 does.
        let order = &orders[idx];
        let next = workflow::unit_action(
            req.status,
            req.round,
            &Assignment::from(order),
            &UnitAction::Acknowledge,
            actor,
        )?;
        let mut order = order.clone();
        let before = order.status;
        order.status = next;
        order.acknowledged_at = Some(now);
        assignments::save_assignment(&mut tx, &order).await?;
        state
            .event(actor, &req.id, Some(&order.id), "assignment.acknowledged")
            .change(before.as_str(), order.status.as_str())
            .payload(serde_json::json!({ "unit_code": order.unit_code, "on_time": now <= order.acknowledge_by }))
            .record(&mut tx);
        orders[idx] = order;
    }
    let person = input.person.trim().to_string();
    if !store::report(
        &mut tx,
        assignment_id,
        &actor.user_id,
        &person,
        contact.as_deref(),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(
            "this unit has already reported to the whistle (已报到)".into(),
        ));
    }
    state
        .event(actor, &req.id, Some(assignment_id), "whistle.reported")
        .payload(serde_json::json!({
            "unit_code": row.unit_code, "person_in_charge": person, "contact": contact,
            "report_by": row.report_by, "on_time": now <= row.report_by,
        }))
        .record(&mut tx);
    settle_status(state, &mut tx, actor, &mut req, &orders).await?;
    tx.commit().await?;
    view(state, &row.task_id).await
}

/// Per summoned unit, the whistles blown in `month` (`YYYY-MM`): summoned, reported on time,
/// late, not yet. The center sees every unit; unit staff the whistles of their street and
/// the summons of their unit (and of the units under them).
pub async fn tally(
    state: &AppState,
    actor: &Actor,
    month: &str,
) -> Result<Vec<TallyRow>, AppError> {
    let path = if actor.may(Action::Supervise) {
        None
    } else if actor.role.is_unit_role() {
        Some(
            actor
                .unit
                .as_ref()
                .ok_or(AppError::Forbidden("whistle tallies"))?
                .path
                .clone(),
        )
    } else {
        return Err(AppError::Forbidden("whistle tallies"));
    };
    let m = super::topics::parse_month(month)?;
    let from = state.config.local_midnight(m.first_day());
    let to = state.config.local_midnight(m.next().first_day());
    let rows = store::between(state.store.reader(), from, to, path.as_deref()).await?;
    let now = state.clock.now();
    let mut by_unit: BTreeMap<String, TallyRow> = BTreeMap::new();
    for r in &rows {
        let t = by_unit.entry(r.unit_code.clone()).or_default();
        t.summoned += 1;
        match ReportState::of(r, now) {
            ReportState::OnTime => t.reported_on_time += 1,
            ReportState::Late => t.reported_late += 1,
            ReportState::Pending => t.not_reported += 1,
            ReportState::Overdue => {
                t.not_reported += 1;
                t.overdue += 1;
            }
        }
    }
    let names = unit_names(state, by_unit.keys()).await?;
    Ok(by_unit
        .into_iter()
        .map(|(code, mut t)| {
            t.unit_name = names.of(&code);
            t.unit_code = code;
            t
        })
        .collect())
}

/// Whistle tasks blown by a street or summoning a unit under the actor's unit (or all, for
/// the center) in `month`: the ids, newest first.
pub async fn task_ids_in(
    state: &AppState,
    actor: &Actor,
    month: &str,
) -> Result<Vec<String>, AppError> {
    let path = if actor.may(Action::Supervise) {
        None
    } else {
        Some(
            actor
                .unit
                .as_ref()
                .filter(|_| actor.role.is_unit_role())
                .ok_or(AppError::Forbidden("whistles"))?
                .path
                .clone(),
        )
    };
    let m = super::topics::parse_month(month)?;
    let from = state.config.local_midnight(m.first_day());
    let to = state.config.local_midnight(m.next().first_day());
    let mut ids: Vec<String> = Vec::new();
    for r in store::between(state.store.reader(), from, to, path.as_deref())
        .await?
        .into_iter()
        .rev()
    {
        if !ids.contains(&r.task_id) {
            ids.push(r.task_id);
        }
    }
    Ok(ids)
}

/// Whistles of a month, newest first (see [`task_ids_in`] for who sees which).
pub async fn list(state: &AppState, actor: &Actor, month: &str) -> Result<Vec<Whistle>, AppError> {
    let mut out = Vec::new();
    for id in task_ids_in(state, actor, month)
        .await?
        .into_iter()
        .take(200)
    {
        out.push(view(state, &id).await?);
    }
    Ok(out)
}
