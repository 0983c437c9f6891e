//! Handling (办理): dispatch to one or several units, their acknowledgements, return requests
//! (reviewed in [`super::returns`]), extension requests and dual replies, and the center's extension decisions. After every
//! change the request's status is derived again from its current round.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::assignments::{self, AssignmentRow};
use crate::store::extensions::{self, ExtensionRow};
use crate::store::requests::{self, RequestRow};
use crate::store::returns::ReturnReviewRow;
use crate::store::{reference, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::workflow::{
    self, Assignment, AssignmentRole, AssignmentStatus, ExtensionStatus, Outcome,
    ReturnReviewStatus, UnitAction,
};
use jiesu_core::Actor;
use serde::Deserialize;

/// A dispatch as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchInput {
    /// The units and their roles; exactly one lead per round.
    pub assignments: Vec<DispatchTarget>,
    /// Overrides the time-limit class (else the request's category's, else `general`).
    pub time_limit_class: Option<String>,
}

/// One unit of a dispatch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchTarget {
    /// The unit's code.
    pub unit_code: String,
    /// `lead` or `co`.
    pub role: AssignmentRole,
}

/// When an order running from `from` to `reply_by` gets its pre-breach warning: when less than
/// the configured share of its time is left.
pub(crate) fn warn_at(
    state: &AppState,
    from: DateTime<Utc>,
    reply_by: DateTime<Utc>,
) -> DateTime<Utc> {
    reply_by - (reply_by - from) * state.config.pre_breach_percent.clamp(0, 100) as i32 / 100
}

/// Derives the request's status from its current round, saves it, and records the change.
pub(crate) async fn settle_status(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    req: &mut RequestRow,
    orders: &[AssignmentRow],
) -> Result<(), AppError> {
    let before = req.status;
    let domain: Vec<Assignment> = orders
        .iter()
        .filter(|a| a.round == req.round)
        .map(Assignment::from)
        .collect();
    let refs: Vec<&Assignment> = domain.iter().collect();
    let after = workflow::derive_status(&refs);
    req.updated_at = state.clock.now();
    if after != before {
        req.status = after;
        state
            .event(actor, &req.id, None, "request.status")
            .change(before.as_str(), after.as_str())
            .record(tx);
        // 短信回访 (issue 19): the requester is asked to rate once the round is replied.
        if after == jiesu_core::RequestStatus::Replied {
            super::sms_texts::ask_rating(state, tx, req).await?;
        }
    }
    requests::save(tx, req).await?;
    Ok(())
}

/// Creates orders for `targets` in the request's current round, with deadlines from the
/// time limit of `class` in force now.
pub(crate) async fn open_orders(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    req: &RequestRow,
    targets: &[(reference::Unit, AssignmentRole)],
    class: &str,
) -> Result<Vec<AssignmentRow>, AppError> {
    let now = state.clock.now();
    let limit = reference::time_limit(tx.conn(), class, now)
        .await?
        .ok_or_else(|| {
            AppError::invalid("time_limit_class", "err.handling.no_such_time_limit_class")
        })?;
    // A day of margin either side of the offset: the calendar only needs the days ahead.
    let today = now.date_naive().pred_opt().unwrap_or(now.date_naive());
    let calendar = reference::calendar(tx.conn(), state.config.utc_offset_hours, today).await?;
    let deadlines = limit.deadlines(now, &calendar);
    let reply_warn_at = warn_at(state, now, deadlines.reply_by);
    let mut rows = Vec::new();
    for (unit, role) in targets {
        let row = AssignmentRow {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: req.id.clone(),
            jurisdiction: req.jurisdiction.clone(),
            unit_code: unit.code.clone(),
            unit_path: unit.path.clone(),
            role: *role,
            round: req.round,
            status: AssignmentStatus::Dispatched,
            time_limit_class: class.to_string(),
            dispatched_at: now,
            acknowledge_by: deadlines.acknowledge_by,
            reply_by: deadlines.reply_by,
            reply_warn_at,
            acknowledged_at: None,
            replied_at: None,
            returned_at: None,
            return_reason: None,
            outcome: None,
            reply_to_requester: None,
            reply_to_center: None,
            ack_overdue_at: None,
            reply_warned_at: None,
            reply_overdue_at: None,
            dispatched_by: actor.user_id.clone(),
        };
        assignments::insert_assignment(tx, &row).await?;
        state
            .event(actor, &req.id, Some(&row.id), "assignment.dispatched")
            .change("", "dispatched")
            .payload(serde_json::json!({
                "unit_code": unit.code, "unit_name": unit.name, "role": row.role, "round": row.round,
                "time_limit_class": class, "acknowledge_by": row.acknowledge_by, "reply_by": row.reply_by,
                "reply_warn_at": row.reply_warn_at,
            }))
            .record(tx);
        if class == "emergency" {
            use super::sms_units::{remind, UnitReminder};
            remind(state, tx, &row, UnitReminder::NewEmergency).await?;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Dispatches a request (派单) to one or several units.
pub async fn dispatch(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: DispatchInput,
) -> Result<(), AppError> {
    super::require(actor, jiesu_core::access::Action::Dispatch)?;
    dispatch_with(state, actor, id, input, None).await
}

/// Decides a dispatch dispute (派单争议仲裁): the request's lead has been returned in this
/// round; the center names the responsible unit, which leads the re-dispatch and may not
/// return it. The decision and its reason are stored and leave an event.
pub async fn arbitrate(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: DispatchInput,
    reason: &str,
) -> Result<(), AppError> {
    super::require(actor, jiesu_core::access::Action::Dispatch)?;
    if reason.trim().is_empty() || reason.chars().count() > 2000 {
        return Err(AppError::invalid(
            "reason",
            "err.handling.give_the_reason_for_the_decision",
        ));
    }
    dispatch_with(state, actor, id, input, Some(reason.trim())).await
}

async fn dispatch_with(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: DispatchInput,
    arbitration: Option<&str>,
) -> Result<(), AppError> {
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for (i, t) in input.assignments.iter().enumerate() {
        match reference::unit(state.store.reader(), &t.unit_code).await? {
            Some(u) if u.level != "center" => targets.push((u, t.role)),
            // A closed or merged unit takes no orders (its past ones stay readable).
            None if crate::store::units::get(state.store.reader(), &t.unit_code)
                .await?
                .is_some() =>
            {
                errors.push(FieldError::with(
                    format!("assignments[{i}].unit_code"),
                    "err.units.closed",
                    &[("unit", t.unit_code.to_string())],
                ))
            }
            _ => errors.push(FieldError::with(
                format!("assignments[{i}].unit_code"),
                "err.no_such_handling_unit",
                &[("unit", t.unit_code.to_string())],
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (mut tx, mut req) = state.lock_request(id).await?;
    let mut orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let current: Vec<Assignment> = orders
        .iter()
        .filter(|a| a.round == req.round)
        .map(Assignment::from)
        .collect();
    let refs: Vec<&Assignment> = current.iter().collect();
    let wanted: Vec<(String, AssignmentRole)> =
        targets.iter().map(|(u, r)| (u.code.clone(), *r)).collect();
    workflow::check_dispatch(req.status, &refs, &wanted, actor)?;
    if let Some(reason) = arbitration {
        let returned = orders
            .iter()
            .filter(|a| {
                a.round == req.round
                    && a.role == AssignmentRole::Lead
                    && a.status == AssignmentStatus::Returned
            })
            .count();
        if returned == 0 {
            return Err(AppError::Conflict(
                "nothing to arbitrate: no unit has returned this request in its current round"
                    .into(),
            ));
        }
        let lead = targets
            .iter()
            .find(|(_, r)| *r == AssignmentRole::Lead)
            .map(|(u, _)| u.code.clone())
            .ok_or_else(|| {
                AppError::invalid(
                    "assignments",
                    "err.handling.an_arbitration_names_the_lead_unit",
                )
            })?;
        let decided = crate::store::disputes::Arbitration {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: req.id.clone(),
            round: req.round,
            unit_code: lead.clone(),
            reason: reason.to_string(),
            decided_by: actor.user_id.clone(),
            decided_at: state.clock.now(),
        };
        crate::store::disputes::insert(&mut tx, &decided).await?;
        state
            .event(actor, &req.id, None, "request.arbitrated")
            .payload(serde_json::json!({ "unit_code": lead, "reason": reason, "round": req.round, "returns": returned }))
            .record(&mut tx);
    }
    let class = input
        .time_limit_class
        .clone()
        .or_else(|| req.time_limit_class.clone())
        .unwrap_or_else(|| "general".to_string());
    req.time_limit_class = Some(class.clone());
    // Returned by its lead and now led by another unit: the requester hears who has it.
    let returned_leads: Vec<String> = orders
        .iter()
        .filter(|a| {
            a.round == req.round
                && a.role == AssignmentRole::Lead
                && a.status == AssignmentStatus::Returned
        })
        .map(|a| a.unit_code.clone())
        .collect();
    let new_lead = targets
        .iter()
        .find(|(u, r)| *r == AssignmentRole::Lead && !returned_leads.contains(&u.code))
        .filter(|_| !returned_leads.is_empty())
        .map(|(u, _)| {
            if u.short_name.is_empty() {
                u.name.clone()
            } else {
                u.short_name.clone()
            }
        });
    orders.extend(open_orders(state, &mut tx, actor, &req, &targets, &class).await?);
    // The learning loop: whether the lead the intake suggestion named was taken.
    if let Some((lead, _)) = targets.iter().find(|(_, r)| *r == AssignmentRole::Lead) {
        crate::store::text_models::record_dispatch(&mut tx, &req.id, &lead.code, state.clock.now())
            .await?;
    }
    settle_status(state, &mut tx, actor, &mut req, &orders).await?;
    if let Some(unit) = new_lead {
        super::sms_changes::redispatched(state, &mut tx, &req, &unit).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a unit submits with an action on its order.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct UnitActionInput {
    /// For a return or extension: why.
    pub reason: Option<String>,
    /// For an extension: extra hours.
    pub hours: Option<i64>,
    /// For a reply: the answer to the requester.
    pub to_requester: Option<String>,
    /// For a reply: the account to the center.
    pub to_center: Option<String>,
    /// For a reply: the result.
    pub outcome: Option<Outcome>,
}

/// The unit actions.
#[derive(Debug, Clone, Copy)]
pub enum UnitVerb {
    /// 签收.
    Acknowledge,
    /// 退单.
    Return,
    /// 申请延期.
    Extension,
    /// 办结反馈.
    Reply,
}

/// Acts on one order of the actor's unit. Returns the request id.
pub async fn unit_act(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    verb: UnitVerb,
    input: UnitActionInput,
) -> Result<String, AppError> {
    let request_id = assignments::request_of_assignment(state.store.reader(), assignment_id)
        .await?
        .ok_or(AppError::NotFound("assignment"))?;
    let (mut tx, mut req) = state.lock_request(&request_id).await?;
    let mut orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let idx = orders
        .iter()
        .position(|a| a.id == assignment_id)
        .ok_or(AppError::NotFound("assignment"))?;
    act_in_tx(
        state,
        &mut tx,
        actor,
        &mut req,
        &mut orders,
        idx,
        verb,
        input,
    )
    .await?;
    tx.commit().await?;
    Ok(req.id)
}

/// [`unit_act`] on `orders[idx]` inside the caller's transaction, the request locked (a
/// sign-off's approval replies through it too, see `services::subwork`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn act_in_tx(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    req: &mut RequestRow,
    orders: &mut [AssignmentRow],
    idx: usize,
    verb: UnitVerb,
    input: UnitActionInput,
) -> Result<(), AppError> {
    let assignment_id = orders[idx].id.clone();
    let assignment_id = assignment_id.as_str();
    let extensions = extensions::extensions_of(tx.conn(), &req.id).await?;
    let has_pending = extensions
        .iter()
        .any(|e| e.assignment_id == assignment_id && e.status == ExtensionStatus::Pending);
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let action = match verb {
        UnitVerb::Acknowledge => UnitAction::Acknowledge,
        UnitVerb::Return => UnitAction::Return {
            reason: text(&input.reason),
        },
        UnitVerb::Extension => UnitAction::RequestExtension {
            hours: input
                .hours
                .ok_or_else(|| AppError::invalid("hours", "err.handling.hours_is_required"))?,
            reason: text(&input.reason),
            has_pending,
        },
        UnitVerb::Reply => {
            if input.outcome.is_none() {
                return Err(AppError::invalid(
                    "outcome",
                    "err.handling.outcome_is_required_resolved_partly_or",
                ));
            }
            UnitAction::Reply {
                to_requester: text(&input.to_requester),
                to_center: text(&input.to_center),
            }
        }
    };
    let order = &orders[idx];
    let return_pending = crate::store::returns::reviews_of(tx.conn(), &req.id)
        .await?
        .iter()
        .any(|r| r.assignment_id == assignment_id && r.status == ReturnReviewStatus::Pending);
    if return_pending && matches!(verb, UnitVerb::Return | UnitVerb::Reply) {
        return Err(AppError::Conflict(
            "a return of this order is waiting for the dispatcher's review (退单待审核)".into(),
        ));
    }
    if matches!(verb, UnitVerb::Return)
        && crate::store::disputes::is_arbitrated(tx.conn(), &req.id, order.round, &order.unit_code)
            .await?
    {
        return Err(AppError::Conflict(
            "the center decided this unit is responsible for the request (派单争议已仲裁); it cannot be returned".into(),
        ));
    }
    let next = workflow::unit_action(
        req.status,
        req.round,
        &Assignment::from(order),
        &action,
        actor,
    )?;
    // 办结需附照片: evidence rules hold a reply until the order carries a photo (issue 20).
    if matches!(verb, UnitVerb::Reply) {
        super::attachments::check_reply_evidence(tx, req.category_code.as_deref(), assignment_id)
            .await?;
    }
    // 签批: a handler's reply may have to wait for the unit's manager.
    if super::subwork_hooks::hold_for_signoff(state, tx, actor, req, order, input.outcome, &action)
        .await?
    {
        return Ok(());
    }
    let now = state.clock.now();
    let before = order.status;
    let mut order = order.clone();
    order.status = next;
    // 办结审核: a reply on a category whose replies the center checks (as in force at the
    // reply: the switch is effective-dated) waits for that check.
    let review = match (&verb, &req.category_code) {
        (UnitVerb::Reply, Some(code)) => {
            match crate::store::categories::version_at(tx.conn(), code, now).await? {
                Some(c) => c.reply_review,
                None => crate::store::reply_reviews::category_flag(tx.conn(), code)
                    .await?
                    .unwrap_or(false),
            }
        }
        _ => false,
    };
    let (event, payload) = apply_unit_action(
        state,
        tx,
        actor,
        req,
        &mut order,
        &action,
        input.outcome,
        now,
        review,
    )
    .await?;
    assignments::save_assignment(tx, &order).await?;
    state
        .event(actor, &req.id, Some(&order.id), event)
        .change(before.as_str(), order.status.as_str())
        .payload(payload)
        .record(tx);
    if review {
        // The check waits for the center (services::reply_reviews decides it).
        let row = crate::store::reply_reviews::ReplyReviewRow {
            id: uuid::Uuid::now_v7().to_string(),
            assignment_id: order.id.clone(),
            request_id: req.id.clone(),
            unit_code: order.unit_code.clone(),
            status: "pending".into(),
            replied_at: now,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        crate::store::reply_reviews::insert(tx, &row).await?;
        state
            .event(actor, &req.id, Some(&order.id), "reply_review.requested")
            .payload(serde_json::json!({ "review_id": row.id, "unit_code": order.unit_code, "category_code": req.category_code }))
            .record(tx);
    }
    if matches!(verb, UnitVerb::Reply) {
        // 下派: what is still open below an answered order is withdrawn.
        super::subwork_hooks::close_under_order(state, tx, actor, &req.id, &order.id).await?;
    }
    orders[idx] = order;
    settle_status(state, tx, actor, req, orders).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn apply_unit_action(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    req: &RequestRow,
    order: &mut AssignmentRow,
    action: &UnitAction,
    outcome: Option<Outcome>,
    now: DateTime<Utc>,
    hold_message: bool,
) -> Result<(&'static str, serde_json::Value), AppError> {
    Ok(match action {
        UnitAction::Acknowledge => {
            order.acknowledged_at = Some(now);
            (
                "assignment.acknowledged",
                serde_json::json!({ "unit_code": order.unit_code, "on_time": now <= order.acknowledge_by }),
            )
        }
        // 退单审核: the order stays as it is until the dispatcher decides (services::returns).
        UnitAction::Return { reason } => {
            let review = ReturnReviewRow {
                id: uuid::Uuid::now_v7().to_string(),
                assignment_id: order.id.clone(),
                request_id: req.id.clone(),
                unit_code: order.unit_code.clone(),
                reason: reason.trim().to_string(),
                status: ReturnReviewStatus::Pending,
                requested_by: actor.user_id.clone(),
                requested_at: now,
                decided_by: None,
                decided_at: None,
                decision_reason: None,
            };
            crate::store::returns::insert(tx, &review).await?;
            (
                "assignment.return_requested",
                serde_json::json!({ "review_id": review.id, "unit_code": order.unit_code, "role": order.role, "reason": review.reason }),
            )
        }
        UnitAction::RequestExtension { hours, reason, .. } => {
            let ext = ExtensionRow {
                id: uuid::Uuid::now_v7().to_string(),
                assignment_id: order.id.clone(),
                request_id: req.id.clone(),
                hours: *hours,
                reason: reason.clone(),
                status: ExtensionStatus::Pending,
                requested_by: actor.user_id.clone(),
                requested_at: now,
                decided_by: None,
                decided_at: None,
                old_reply_by: order.reply_by,
                new_reply_by: None,
            };
            extensions::insert_extension(tx, &ext).await?;
            (
                "extension.requested",
                serde_json::json!({ "extension_id": ext.id, "hours": hours, "reason": reason, "old_reply_by": ext.old_reply_by }),
            )
        }
        UnitAction::Reply {
            to_requester,
            to_center,
        } => {
            let outcome = outcome.unwrap_or(Outcome::Explained);
            order.replied_at = Some(now);
            order.outcome = Some(outcome);
            order.reply_to_requester = Some(to_requester.clone());
            order.reply_to_center = Some(to_center.clone());
            // 双反馈: the requester half goes to the outbox in this transaction (after the
            // center's check when the category has 办结审核: services::reply_reviews).
            if !hold_message {
                enqueue_reply(state, tx, req, order).await?;
            }
            (
                "assignment.replied",
                serde_json::json!({
                    "unit_code": order.unit_code, "outcome": outcome.as_str(), "to_requester": to_requester,
                    "to_center": to_center, "on_time": now <= order.reply_by,
                }),
            )
        }
    })
}

/// Sends the requester half of an order's reply to the outbox.
pub(crate) async fn enqueue_reply(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    order: &AssignmentRow,
) -> Result<(), AppError> {
    let payload = serde_json::json!({
        "number": req.number, "kind": "reply", "unit_code": order.unit_code,
        "outcome": order.outcome.map(|o| o.as_str()), "text": order.reply_to_requester,
    });
    let unit = crate::store::reference::unit(tx.conn(), &order.unit_code)
        .await?
        .map_or_else(|| order.unit_code.clone(), |u| u.name);
    let text = order.reply_to_requester.clone().unwrap_or_default();
    let vars = [
        ("number", req.number.as_str()),
        ("unit", unit.as_str()),
        ("text", text.as_str()),
    ];
    super::sms_texts::enqueue(state, tx, req, "reply", payload, &vars, false).await?;
    Ok(())
}

/// Approves or refuses an extension request (延期审批). Returns the request id.
pub async fn decide_extension(
    state: &AppState,
    actor: &Actor,
    extension_id: &str,
    approve: bool,
) -> Result<String, AppError> {
    super::require(actor, jiesu_core::access::Action::DecideExtension)?;
    let request_id = extensions::request_of_extension(state.store.reader(), extension_id)
        .await?
        .ok_or(AppError::NotFound("extension"))?;
    let (mut tx, req) = state.lock_request(&request_id).await?;
    let mut ext = extensions::extensions_of(tx.conn(), &req.id)
        .await?
        .into_iter()
        .find(|e| e.id == extension_id)
        .ok_or(AppError::NotFound("extension"))?;
    let mut order = assignments::assignments_of(tx.conn(), &req.id)
        .await?
        .into_iter()
        .find(|a| a.id == ext.assignment_id)
        .ok_or(AppError::NotFound("assignment"))?;
    let status = ext.status;
    let (next, reply_by) =
        workflow::decide_extension(status, approve, ext.hours, order.reply_by, actor)?;
    let now = state.clock.now();
    ext.status = next;
    ext.decided_by = Some(actor.user_id.clone());
    ext.decided_at = Some(now);
    if approve {
        ext.new_reply_by = Some(reply_by);
        order.reply_by = reply_by;
        order.reply_warn_at = warn_at(state, now, reply_by);
        // A new deadline earns new warnings.
        order.reply_warned_at = None;
        order.reply_overdue_at = None;
        assignments::save_assignment(&mut tx, &order).await?;
        if order.role == AssignmentRole::Lead {
            super::sms_changes::extended(state, &mut tx, &req, reply_by).await?;
        }
    }
    extensions::save_extension(&mut tx, &ext).await?;
    state
        .event(actor, &req.id, Some(&order.id), if approve { "extension.approved" } else { "extension.refused" })
        .change(status.as_str(), next.as_str())
        .payload(serde_json::json!({
            "extension_id": ext.id, "hours": ext.hours, "reply_by": order.reply_by, "reply_warn_at": order.reply_warn_at,
        }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(req.id)
}
