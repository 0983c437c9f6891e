//! Assessment appeals (考核申诉): a unit's manager contests one part of an order's assessment
//! (response, resolution or satisfaction) before the month is frozen; the center grants it
//! (that part of that order no longer counts in the unit's rates, see store::kpi) or refuses
//! it with a reason. Each step is an event.

use crate::error::AppError;
use crate::services::AppState;
use crate::store::{appeals as store, assignments};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::kpi::Month;
use jiesu_core::{Actor, Role};
use serde::{Deserialize, Serialize};

/// Which part of an order's assessment an appeal contests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// 响应 (acknowledged in time): counted in the month the order was dispatched.
    Response,
    /// 解决 (resolved at callback): counted in the month of the callback.
    Resolution,
    /// 满意 (satisfied at callback): counted in the month of the callback.
    Satisfaction,
}

impl Part {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Response => "response",
            Part::Resolution => "resolution",
            Part::Satisfaction => "satisfaction",
        }
    }

    /// A part by its name.
    pub fn parse(s: &str) -> Option<Part> {
        [Part::Response, Part::Resolution, Part::Satisfaction]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealStatus {
    /// Waiting for the center.
    Open,
    /// 申诉成立: the part is exempt.
    Granted,
    /// 申诉不成立.
    Refused,
}

impl AppealStatus {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealStatus::Open => "open",
            AppealStatus::Granted => "granted",
            AppealStatus::Refused => "refused",
        }
    }

    /// A status by its name.
    pub fn parse(s: &str) -> Option<AppealStatus> {
        [
            AppealStatus::Open,
            AppealStatus::Granted,
            AppealStatus::Refused,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// An appeal as filed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    /// The part contested.
    pub part: Part,
    /// Why (required, at most 1,000 characters).
    pub reason: String,
    /// Evidence: text or links (at most 2,000 characters).
    #[serde(default)]
    pub evidence: Option<String>,
}

/// The center's decision.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `grant` or `refuse`.
    pub decision: Decision,
    /// Why (required when refusing, at most 1,000 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Grant or refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 申诉成立: the part is exempt.
    Grant,
    /// 申诉不成立.
    Refuse,
}

/// An appeal as shown.
#[derive(Debug, Serialize)]
pub struct Appeal {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    pub part: Part,
    /// The month (`YYYY-MM`) whose rates the part counts in.
    pub month: String,
    pub reason: String,
    pub evidence: Option<String>,
    pub status: AppealStatus,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
}

impl TryFrom<store::AppealRow> for Appeal {
    type Error = AppError;

    fn try_from(r: store::AppealRow) -> Result<Self, AppError> {
        let corrupt = |what: &str, v: &str| {
            AppError::Internal(anyhow::anyhow!("appeal {}: unknown {what} {v:?}", r.id))
        };
        Ok(Appeal {
            part: Part::parse(&r.part).ok_or_else(|| corrupt("part", &r.part))?,
            status: AppealStatus::parse(&r.status).ok_or_else(|| corrupt("status", &r.status))?,
            id: r.id,
            assignment_id: r.assignment_id,
            request_id: r.request_id,
            unit_code: r.unit_code,
            month: r.month,
            reason: r.reason,
            evidence: r.evidence,
            filed_by: r.filed_by,
            filed_at: r.filed_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_reason: r.decision_reason,
        })
    }
}

fn month_of(state: &AppState, at: DateTime<Utc>) -> String {
    let d = at.with_timezone(&state.config.offset()).date_naive();
    format!("{}", d.format("%Y-%m"))
}

/// Files an appeal of one part of an order (the manager of the order's unit or of a unit
/// above it). 404 for an order the actor does not see, 409 when the month is frozen or the
/// part already has an open or granted appeal.
pub async fn file(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    input: AppealInput,
) -> Result<Appeal, AppError> {
    if !actor.role.is_unit_role() || actor.unit.is_none() {
        return Err(AppError::Forbidden("appealing an assessment"));
    }
    let request_id = assignments::request_of_assignment(state.store.reader(), assignment_id)
        .await?
        .ok_or(AppError::NotFound("assignment"))?;
    let order = assignments::assignments_of(state.store.reader(), &request_id)
        .await?
        .into_iter()
        .find(|a| a.id == assignment_id)
        .ok_or(AppError::NotFound("assignment"))?;
    if !actor.covers_unit(&order.unit_path) {
        return Err(AppError::NotFound("assignment"));
    }
    if actor.role != Role::UnitManager {
        return Err(AppError::Forbidden("appealing an assessment"));
    }
    jiesu_core::workflow::require_text("reason", &input.reason, 1000)?;
    let evidence = input.evidence.filter(|e| !e.trim().is_empty());
    if let Some(e) = &evidence {
        if e.chars().count() > 2000 {
            return Err(AppError::invalid(
                "evidence",
                "err.appeal.evidence_at_most_2000_characters",
            ));
        }
    }
    let counted_at = match input.part {
        Part::Response => order.dispatched_at,
        Part::Resolution | Part::Satisfaction => {
            store::last_reached_callback(state.store.reader(), &request_id, order.round)
                .await?
                .ok_or_else(|| {
                    AppError::Conflict(format!(
                "the {} of this order is not assessed yet: no callback reached the requester",
                input.part.as_str()
            ))
                })?
        }
    };
    let month = month_of(state, counted_at);
    let now = state.clock.now();
    let row = store::AppealRow {
        id: uuid::Uuid::now_v7().to_string(),
        assignment_id: assignment_id.to_string(),
        request_id: request_id.clone(),
        unit_code: order.unit_code.clone(),
        part: input.part.as_str().to_string(),
        month: month.clone(),
        reason: input.reason.clone(),
        evidence: evidence.clone(),
        status: "open".into(),
        filed_by: actor.user_id.clone(),
        filed_at: now,
        decided_by: None,
        decided_at: None,
        decision_reason: None,
    };
    let (mut tx, _req) = state.lock_request(&request_id).await?;
    if store::month_frozen(state.store.reader(), &month).await? {
        return Err(AppError::Conflict(format!(
            "the ranking of {month} is frozen: its assessments can no longer be appealed"
        )));
    }
    if !store::insert(&mut tx, &row).await? {
        return Err(AppError::Conflict(format!(
            "the {} of this order already has an open or granted appeal",
            input.part.as_str()
        )));
    }
    state
        .event(actor, &request_id, Some(assignment_id), "appeal.filed")
        .payload(serde_json::json!({ "appeal_id": row.id, "part": row.part, "month": month, "reason": row.reason, "evidence": evidence }))
        .record(&mut tx);
    tx.commit().await?;
    row.try_into()
}

/// Grants or refuses an open appeal (a supervisor or the administrator; 403 for a
/// dispatcher). 409 when it is decided already or its
/// month is frozen.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    appeal_id: &str,
    input: DecisionInput,
) -> Result<Appeal, AppError> {
    if actor.role.is_unit_role() {
        // A unit sees its own appeals but never decides them.
        return Err(AppError::Forbidden("deciding appeals"));
    }
    if !actor.may(Action::DecideAppeal) {
        return Err(AppError::Forbidden("deciding appeals"));
    }
    let reason = input.reason.unwrap_or_default();
    if input.decision == Decision::Refuse || !reason.trim().is_empty() {
        jiesu_core::workflow::require_text("reason", &reason, 1000)?;
    }
    let appeal = store::get(state.store.reader(), appeal_id)
        .await?
        .ok_or(AppError::NotFound("appeal"))?;
    let (mut tx, _req) = state.lock_request(&appeal.request_id).await?;
    if store::month_frozen(state.store.reader(), &appeal.month).await? {
        return Err(AppError::Conflict(format!(
            "the ranking of {} is frozen: its appeals can no longer be decided",
            appeal.month
        )));
    }
    let (status, action) = match input.decision {
        Decision::Grant => (AppealStatus::Granted, "appeal.granted"),
        Decision::Refuse => (AppealStatus::Refused, "appeal.refused"),
    };
    let now = state.clock.now();
    if !store::decide(
        &mut tx,
        appeal_id,
        status.as_str(),
        &actor.user_id,
        &reason,
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "this appeal is already {}",
            appeal.status
        )));
    }
    state
        .event(actor, &appeal.request_id, Some(&appeal.assignment_id), action)
        .payload(serde_json::json!({ "appeal_id": appeal.id, "part": appeal.part, "month": appeal.month, "reason": reason }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(Appeal {
        status,
        decided_by: Some(actor.user_id.clone()),
        decided_at: Some(now),
        decision_reason: Some(reason),
        ..appeal.try_into()?
    })
}

/// Appeals by status and month: a unit's staff see those of their unit and the units under
/// it, the center all.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: Option<&str>,
    month: Option<&str>,
) -> Result<Vec<Appeal>, AppError> {
    let status = status
        .map(|s| {
            AppealStatus::parse(s).ok_or_else(|| {
                AppError::invalid(
                    "status",
                    "err.appeal.status_must_be_open_granted_or_refused",
                )
            })
        })
        .transpose()?;
    let month = month
        .map(|m| Month::parse(m).map(Month::label))
        .transpose()?;
    let path = if actor.role.is_unit_role() {
        Some(
            actor
                .unit
                .as_ref()
                .ok_or(AppError::Forbidden("reading appeals"))?
                .path
                .clone(),
        )
    } else if actor.may(Action::Supervise) {
        None
    } else {
        return Err(AppError::Forbidden("reading appeals"));
    };
    store::list(
        state.store.reader(),
        path.as_deref(),
        status.map(AppealStatus::as_str),
        month.as_deref(),
    )
    .await?
    .into_iter()
    .map(Appeal::try_from)
    .collect()
}
