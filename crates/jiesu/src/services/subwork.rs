//! Three levels of handling (issue #18). 下派: the unit holding an order passes it down to
//! units under it in the unit tree (communities, villages, and the property companies
//! registered with it as their parent) as child orders with limits inside its own; a child
//! may pass down again. 签批: a child's reply waits for the unit that passed it down, which
//! approves it (it becomes, or with its siblings feeds, that unit's own reply; at the top the
//! center's order is replied through the normal path) or sends it back with a reason; and
//! where a unit requires it, a handler's reply waits for a manager. Lists are in
//! [`super::subwork_lists`]. Every step is an event on the request.

use super::handling::{self, UnitActionInput, UnitVerb};
use super::subwork_hooks::withdraw_below;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::assignments::{self, AssignmentRow};
use crate::store::requests::RequestRow;
use crate::store::sub_orders::{self as store, SignoffRow, SubOrderRow};
use crate::store::{reference, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::subwork::{self, SignoffStatus, SubAction, SubOrderStatus, Target};
use jiesu_core::workflow::{AssignmentStatus, Outcome};
use jiesu_core::Actor;
use serde::Deserialize;

/// A pass-down (下派) as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassDownInput {
    /// The codes of the units under the holder that receive a child order each.
    pub units: Vec<String>,
    /// The child's reply limit: after now, not after the order's own.
    pub reply_by: DateTime<Utc>,
    /// The child's acknowledge limit (default: the order's own acknowledge window from now,
    /// capped at `reply_by`).
    #[serde(default)]
    pub acknowledge_by: Option<DateTime<Utc>>,
    /// What the unit above asks of them (at most 2,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

/// A child's reply to the unit above.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubReplyInput {
    /// The result.
    pub outcome: Option<Outcome>,
    /// The answer meant for the requester.
    pub to_requester: Option<String>,
    /// The account meant for the center.
    pub to_center: Option<String>,
}

/// The decision on a sign-off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignoffDecision {
    /// 签批同意: the reply goes up.
    Approve,
    /// 退回: the reply goes back with a reason.
    SendBack,
}

/// A sign-off decision as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignoffInput {
    /// `approve` or `send_back`.
    pub decision: SignoffDecision,
    /// Why: required to send back (at most 1,000 characters); the unit reads it.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a child order is passed down from.
#[derive(Debug, Clone, Copy)]
pub enum PassFrom<'a> {
    /// The center's order (工单) itself.
    Order(&'a str),
    /// A child order, passed down again.
    SubOrder(&'a str),
}

/// Everything under one request, loaded inside its transaction.
pub(super) struct Work {
    pub(super) tx: Tx,
    pub(super) req: RequestRow,
    pub(super) orders: Vec<AssignmentRow>,
    pub(super) subs: Vec<SubOrderRow>,
    pub(super) signoffs: Vec<SignoffRow>,
}

pub(super) async fn load(state: &AppState, request_id: &str) -> Result<Work, AppError> {
    let (mut tx, req) = state.lock_request(request_id).await?;
    let orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let subs = store::of_request(tx.conn(), &req.id).await?;
    let signoffs = store::signoffs_of(tx.conn(), &req.id).await?;
    Ok(Work {
        tx,
        req,
        orders,
        subs,
        signoffs,
    })
}

impl Work {
    /// The center's order, if it is still being handled (acknowledged, current round, the
    /// request not final): child orders and sign-offs only move while it is.
    pub(super) fn open_order(&self, assignment_id: &str) -> Result<usize, AppError> {
        let idx = self
            .orders
            .iter()
            .position(|a| a.id == assignment_id)
            .ok_or(AppError::NotFound("assignment"))?;
        let a = &self.orders[idx];
        if self.req.status.is_final()
            || a.round != self.req.round
            || a.status != AssignmentStatus::Acknowledged
        {
            return Err(AppError::Conflict(format!(
                "the order is {} and no longer being handled",
                a.status
            )));
        }
        Ok(idx)
    }

    pub(super) fn sub(&self, id: &str) -> Result<usize, AppError> {
        self.subs
            .iter()
            .position(|s| s.id == id)
            .ok_or(AppError::NotFound("sub_order"))
    }
}

fn text(s: &Option<String>) -> String {
    s.as_deref().unwrap_or("").trim().to_string()
}

/// Passes an order, or a child order, down to units under its unit (下派). Returns the
/// request id and the new child orders' ids.
pub async fn pass_down(
    state: &AppState,
    actor: &Actor,
    from: PassFrom<'_>,
    input: PassDownInput,
) -> Result<(String, Vec<String>), AppError> {
    let pool = state.store.reader();
    let request_id = match from {
        PassFrom::Order(id) => assignments::request_of_assignment(pool, id).await?,
        PassFrom::SubOrder(id) => store::request_of(pool, id).await?,
    };
    let request_id = request_id.ok_or(AppError::NotFound(match from {
        PassFrom::Order(_) => "assignment",
        PassFrom::SubOrder(_) => "sub_order",
    }))?;
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for (i, code) in input.units.iter().enumerate() {
        match reference::unit(pool, code).await? {
            Some(u) if u.level != "center" => targets.push(u),
            _ => errors.push(FieldError::with(
                format!("units[{i}]"),
                "err.no_such_handling_unit",
                &[("unit", code.to_string())],
            )),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(AppError::invalid("note", "err.subwork.note_too_long"));
    }
    let mut w = load(state, &request_id).await?;
    let now = state.clock.now();
    // The holder: (assignment, parent child order, unit, path, open, limits, window).
    let (assignment_id, parent_id, holder_code, holder_path, open, reply_limit, window) = match from
    {
        PassFrom::Order(id) => {
            let a = w
                .orders
                .iter()
                .find(|a| a.id == id)
                .ok_or(AppError::NotFound("assignment"))?;
            let open = w.open_order(id).is_ok();
            (
                a.id.clone(),
                None,
                a.unit_code.clone(),
                a.unit_path.clone(),
                open,
                a.reply_by,
                a.acknowledge_by - a.dispatched_at,
            )
        }
        PassFrom::SubOrder(id) => {
            let s = &w.subs[w.sub(id)?];
            let open =
                s.status == SubOrderStatus::Acknowledged && w.open_order(&s.assignment_id).is_ok();
            (
                s.assignment_id.clone(),
                Some(s.id.clone()),
                s.unit_code.clone(),
                s.unit_path.clone(),
                open,
                s.reply_by,
                s.acknowledge_by - s.created_at,
            )
        }
    };
    let busy: Vec<&str> = w
        .subs
        .iter()
        .filter(|s| {
            s.assignment_id == assignment_id && s.parent_id == parent_id && !s.status.is_closed()
        })
        .map(|s| s.unit_code.as_str())
        .collect();
    let acknowledge_by = input
        .acknowledge_by
        .unwrap_or_else(|| (now + window).min(input.reply_by));
    let t: Vec<Target<'_>> = targets
        .iter()
        .map(|u| Target {
            code: &u.code,
            path: &u.path,
            active: true,
        })
        .collect();
    subwork::check_pass_down(
        actor,
        &holder_code,
        &holder_path,
        open,
        reply_limit,
        now,
        &t,
        &busy,
        acknowledge_by,
        input.reply_by,
    )?;
    let mut ids = Vec::new();
    for u in &targets {
        let row = SubOrderRow {
            id: uuid::Uuid::now_v7().to_string(),
            request_id: w.req.id.clone(),
            assignment_id: assignment_id.clone(),
            parent_id: parent_id.clone(),
            jurisdiction: w.req.jurisdiction.clone(),
            from_unit_code: holder_code.clone(),
            unit_code: u.code.clone(),
            unit_path: u.path.clone(),
            status: SubOrderStatus::Dispatched,
            note: note.map(str::to_string),
            created_by: actor.user_id.clone(),
            created_at: now,
            acknowledge_by,
            reply_by: input.reply_by,
            acknowledged_at: None,
            replied_at: None,
            outcome: None,
            reply_to_requester: None,
            reply_to_center: None,
            closed_at: None,
            overdue_at: None,
            return_reason: None,
        };
        store::insert(&mut w.tx, &row).await?;
        state
            .event(
                actor,
                &w.req.id,
                Some(&assignment_id),
                "sub_order.passed_down",
            )
            .change("", "dispatched")
            .payload(serde_json::json!({
                "sub_order_id": row.id, "parent_id": row.parent_id, "from_unit_code": holder_code,
                "unit_code": u.code, "unit_name": u.name, "acknowledge_by": acknowledge_by,
                "reply_by": row.reply_by, "note": row.note,
            }))
            .record(&mut w.tx);
        ids.push(row.id);
    }
    w.tx.commit().await?;
    Ok((request_id, ids))
}

/// A sub-unit acknowledges (签收) its child order. Returns the request id.
pub async fn acknowledge(state: &AppState, actor: &Actor, id: &str) -> Result<String, AppError> {
    sub_act(state, actor, id, SubAction::Acknowledge, None).await
}

/// A sub-unit replies to its child order; the reply waits for the unit above (签批).
/// Returns the request id.
pub async fn reply(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: SubReplyInput,
) -> Result<String, AppError> {
    let outcome = input.outcome.ok_or_else(|| {
        AppError::invalid(
            "outcome",
            "err.handling.outcome_is_required_resolved_partly_or",
        )
    })?;
    let action = SubAction::Reply {
        to_requester: text(&input.to_requester),
        to_center: text(&input.to_center),
    };
    sub_act(state, actor, id, action, Some(outcome)).await
}

async fn sub_act(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: SubAction,
    outcome: Option<Outcome>,
) -> Result<String, AppError> {
    let request_id = store::request_of(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("sub_order"))?;
    let mut w = load(state, &request_id).await?;
    let i = w.sub(id)?;
    let mut s = w.subs[i].clone();
    let next = subwork::sub_action(actor, &s.unit_code, s.status, &action)?;
    w.open_order(&s.assignment_id)?;
    let now = state.clock.now();
    let before = s.status;
    s.status = next;
    match &action {
        SubAction::Acknowledge => {
            s.acknowledged_at = Some(now);
            store::save(&mut w.tx, &s).await?;
            state
                .event(actor, &w.req.id, Some(&s.assignment_id), "sub_order.acknowledged")
                .change(before.as_str(), next.as_str())
                .payload(serde_json::json!({
                    "sub_order_id": s.id, "unit_code": s.unit_code, "on_time": now <= s.acknowledge_by,
                }))
                .record(&mut w.tx);
        }
        SubAction::Reply {
            to_requester,
            to_center,
        } => {
            // Answering itself, the unit withdraws what it passed further down.
            withdraw_below(
                state,
                &mut w.tx,
                &w.req.id,
                &mut w.subs,
                &mut w.signoffs,
                actor,
                Some(&s.id),
                &s.assignment_id,
            )
            .await?;
            super::subwork_hooks::withdraw_extensions(
                state,
                &mut w.tx,
                actor,
                &w.req.id,
                std::slice::from_ref(&s.id),
            )
            .await?;
            let outcome = outcome.unwrap_or(Outcome::Explained);
            submit_sub_reply(
                state,
                &mut w,
                actor,
                s,
                outcome,
                to_requester,
                to_center,
                before,
            )
            .await?;
        }
    }
    w.tx.commit().await?;
    Ok(request_id)
}

/// Records a child order's reply and the sign-off it waits for.
#[allow(clippy::too_many_arguments)]
async fn submit_sub_reply(
    state: &AppState,
    w: &mut Work,
    actor: &Actor,
    mut s: SubOrderRow,
    outcome: Outcome,
    to_requester: &str,
    to_center: &str,
    before: SubOrderStatus,
) -> Result<(), AppError> {
    let now = state.clock.now();
    s.status = SubOrderStatus::Replied;
    s.replied_at = Some(now);
    s.outcome = Some(outcome);
    s.reply_to_requester = Some(to_requester.to_string());
    s.reply_to_center = Some(to_center.to_string());
    store::save(&mut w.tx, &s).await?;
    let signoff = SignoffRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: w.req.id.clone(),
        assignment_id: s.assignment_id.clone(),
        sub_order_id: Some(s.id.clone()),
        unit_code: s.from_unit_code.clone(),
        outcome,
        to_requester: to_requester.to_string(),
        to_center: to_center.to_string(),
        submitted_by: actor.user_id.clone(),
        submitted_at: now,
        status: SignoffStatus::Pending,
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    store::insert_signoff(&mut w.tx, &signoff).await?;
    state
        .event(
            actor,
            &w.req.id,
            Some(&s.assignment_id),
            "sub_order.replied",
        )
        .change(before.as_str(), s.status.as_str())
        .payload(serde_json::json!({
            "sub_order_id": s.id, "signoff_id": signoff.id, "unit_code": s.unit_code,
            "to_unit_code": s.from_unit_code, "outcome": outcome.as_str(),
            "to_requester": to_requester, "to_center": to_center, "on_time": now <= s.reply_by,
        }))
        .record(&mut w.tx);
    let i = w.sub(&s.id)?;
    w.subs[i] = s;
    Ok(())
}

/// Decides a sign-off (签批): approves the reply (it goes up) or sends it back with a reason.
/// Returns the request id.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: SignoffInput,
) -> Result<String, AppError> {
    let request_id = store::request_of_signoff(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("signoff"))?;
    let mut w = load(state, &request_id).await?;
    let gi = w
        .signoffs
        .iter()
        .position(|g| g.id == id)
        .ok_or(AppError::NotFound("signoff"))?;
    let mut g = w.signoffs[gi].clone();
    let approve = input.decision == SignoffDecision::Approve;
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let next = subwork::check_signoff(
        actor,
        &g.unit_code,
        g.sub_order_id.is_none(),
        g.status,
        approve,
        reason,
    )?;
    let oi = w.open_order(&g.assignment_id)?;
    let now = state.clock.now();
    g.status = next;
    g.decided_by = Some(actor.user_id.clone());
    g.decided_at = Some(now);
    g.reason = if approve {
        None
    } else {
        reason.map(str::to_string)
    };
    store::save_signoff(&mut w.tx, &g).await?;
    w.signoffs[gi] = g.clone();
    match g.sub_order_id.clone() {
        None => {
            let action = if approve {
                "signoff.approved"
            } else {
                "signoff.sent_back"
            };
            state
                .event(actor, &w.req.id, Some(&g.assignment_id), action)
                .change("pending", next.as_str())
                .payload(serde_json::json!({
                    "signoff_id": g.id, "unit_code": g.unit_code, "submitted_by": g.submitted_by, "reason": g.reason,
                }))
                .record(&mut w.tx);
            if approve {
                let input = UnitActionInput {
                    outcome: Some(g.outcome),
                    to_requester: Some(g.to_requester.clone()),
                    to_center: Some(g.to_center.clone()),
                    ..Default::default()
                };
                handling::act_in_tx(
                    state,
                    &mut w.tx,
                    actor,
                    &mut w.req,
                    &mut w.orders,
                    oi,
                    UnitVerb::Reply,
                    input,
                )
                .await?;
            }
        }
        Some(sid) => {
            let si = w.sub(&sid)?;
            let mut s = w.subs[si].clone();
            let before = s.status;
            s.status = if approve {
                SubOrderStatus::Approved
            } else {
                SubOrderStatus::Acknowledged
            };
            s.closed_at = approve.then_some(now);
            store::save(&mut w.tx, &s).await?;
            let action = if approve {
                "sub_order.approved"
            } else {
                "sub_order.sent_back"
            };
            state
                .event(actor, &w.req.id, Some(&s.assignment_id), action)
                .change(before.as_str(), s.status.as_str())
                .payload(serde_json::json!({
                    "sub_order_id": s.id, "signoff_id": g.id, "unit_code": s.unit_code, "reason": g.reason,
                }))
                .record(&mut w.tx);
            w.subs[si] = s.clone();
            if approve {
                feed_up(state, &mut w, actor, &s).await?;
            }
        }
    }
    w.tx.commit().await?;
    Ok(request_id)
}

/// Once every live child of an order is approved, their replies become the order's reply: a
/// child order's, waiting for its own sign-off above, or the center's order's, through the
/// normal reply path (双反馈, callback).
async fn feed_up(
    state: &AppState,
    w: &mut Work,
    actor: &Actor,
    child: &SubOrderRow,
) -> Result<(), AppError> {
    let siblings: Vec<&SubOrderRow> = w
        .subs
        .iter()
        .filter(|s| {
            s.assignment_id == child.assignment_id
                && s.parent_id == child.parent_id
                && !matches!(
                    s.status,
                    SubOrderStatus::Withdrawn | SubOrderStatus::Returned
                )
        })
        .collect();
    if !siblings
        .iter()
        .all(|s| s.status == SubOrderStatus::Approved)
    {
        return Ok(());
    }
    let outcomes: Vec<Outcome> = siblings.iter().filter_map(|s| s.outcome).collect();
    let outcome = subwork::combine_outcomes(&outcomes);
    let (to_requester, to_center) = if siblings.len() == 1 {
        (
            siblings[0].reply_to_requester.clone().unwrap_or_default(),
            siblings[0].reply_to_center.clone().unwrap_or_default(),
        )
    } else {
        let names =
            super::directory::unit_names(state, siblings.iter().map(|s| s.unit_code.as_str()))
                .await?;
        let join = |f: fn(&SubOrderRow) -> &Option<String>| {
            let all: Vec<String> = siblings
                .iter()
                .map(|s| {
                    format!(
                        "【{}】{}",
                        names.of(&s.unit_code),
                        f(s).as_deref().unwrap_or("")
                    )
                })
                .collect();
            // The reply path takes at most 5,000 characters.
            all.join("\n").chars().take(5000).collect::<String>()
        };
        (
            join(|s| &s.reply_to_requester),
            join(|s| &s.reply_to_center),
        )
    };
    match child.parent_id.clone() {
        Some(pid) => {
            let p = w.subs[w.sub(&pid)?].clone();
            if p.status != SubOrderStatus::Acknowledged {
                return Err(AppError::Conflict(format!(
                    "the child order above is already {}",
                    p.status
                )));
            }
            submit_sub_reply(
                state,
                w,
                actor,
                p,
                outcome,
                &to_requester,
                &to_center,
                SubOrderStatus::Acknowledged,
            )
            .await
        }
        None => {
            let oi = w.open_order(&child.assignment_id)?;
            let input = UnitActionInput {
                outcome: Some(outcome),
                to_requester: Some(to_requester),
                to_center: Some(to_center),
                ..Default::default()
            };
            handling::act_in_tx(
                state,
                &mut w.tx,
                actor,
                &mut w.req,
                &mut w.orders,
                oi,
                UnitVerb::Reply,
                input,
            )
            .await
        }
    }
}

/// The codes of the units whose replies wait for their manager's sign-off (签批).
pub async fn signoff_units(
    state: &AppState,
) -> Result<std::collections::HashSet<String>, AppError> {
    Ok(store::signoff_units(state.store.reader())
        .await?
        .into_iter()
        .collect())
}

/// Sets whether a unit's handlers' replies wait for its manager's sign-off (admins); an
/// event records it.
pub async fn set_signoff_required(
    state: &AppState,
    actor: &Actor,
    unit_code: &str,
    required: bool,
) -> Result<(), AppError> {
    super::require(actor, jiesu_core::access::Action::Administer)?;
    let mut tx = state.store.begin().await?;
    if !store::set_signoff_required(&mut tx, unit_code, required).await? {
        return Err(AppError::NotFound("unit"));
    }
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "unit.signoff_required",
        serde_json::json!({ "unit_code": unit_code, "required": required }),
    ));
    tx.commit().await?;
    Ok(())
}
