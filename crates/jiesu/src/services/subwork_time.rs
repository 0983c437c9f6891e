//! Child orders keep time (下派工单的时限): a sub-unit asks the unit that passed its order
//! down for a later reply limit (that unit approves inside its own limit, or refuses with a
//! reason), or returns the order to it with a reason (退回上级), after which that unit passes
//! it to another sub-unit or handles it itself. The deadline sweep's mark is in
//! [`crate::jobs`]. Every step is an event on the request.

use super::subwork::{load, Work};
use super::subwork_hooks::{withdraw_below, withdraw_extensions};
use super::AppState;
use crate::error::AppError;
use crate::store::sub_extensions::{self as xstore, SubExtensionRow};

/// A child order's request for more time (下派工单延期申请), as stored and shown.
pub use crate::store::sub_extensions::SubExtensionRow as SubExtension;
use crate::store::sub_orders::{self as store, SubOrderRow};
use chrono::{DateTime, Utc};
use jiesu_core::subwork::{self, SubExtensionStatus};
use jiesu_core::Actor;
use serde::Deserialize;

/// A child's request for more time as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubExtensionInput {
    /// The reply limit asked for: after the current one, not after the parent order's.
    pub reply_by: DateTime<Utc>,
    /// Why (at most 500 characters).
    pub reason: String,
}

/// The decision on a child's request for more time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubExtensionDecision {
    /// 批准: the child's limit moves.
    Approve,
    /// 驳回: it stays.
    Refuse,
}

/// A decision as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubExtensionDecisionInput {
    /// `approve` or `refuse`.
    pub decision: SubExtensionDecision,
    /// The limit granted (default: the one asked); inside the deciding unit's own limit.
    #[serde(default)]
    pub reply_by: Option<DateTime<Utc>>,
    /// Why: required to refuse (at most 500 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A child's return to the unit above as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubReturnInput {
    /// Why (at most 500 characters); the unit above reads it.
    pub reason: String,
}

/// The reply limit of what a child order was passed down from: its parent child order's, or
/// the center's order's.
fn parent_limit(w: &Work, s: &SubOrderRow) -> Result<DateTime<Utc>, AppError> {
    match &s.parent_id {
        Some(pid) => Ok(w.subs[w.sub(pid)?].reply_by),
        None => w
            .orders
            .iter()
            .find(|a| a.id == s.assignment_id)
            .map(|a| a.reply_by)
            .ok_or(AppError::NotFound("assignment")),
    }
}

async fn load_sub(state: &AppState, id: &str) -> Result<(Work, usize), AppError> {
    let request_id = store::request_of(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("sub_order"))?;
    let w = load(state, &request_id).await?;
    let i = w.sub(id)?;
    Ok((w, i))
}

/// A sub-unit asks the unit above for a later reply limit on its child order. Returns the
/// request id and the new request's id.
pub async fn ask(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: SubExtensionInput,
) -> Result<(String, String), AppError> {
    let (mut w, i) = load_sub(state, id).await?;
    let s = w.subs[i].clone();
    let reason = input.reason.trim().to_string();
    subwork::check_sub_extension(
        actor,
        &s.unit_code,
        s.status,
        s.reply_by,
        input.reply_by,
        parent_limit(&w, &s)?,
        &reason,
    )?;
    w.open_order(&s.assignment_id)?;
    let exts = xstore::of_request(w.tx.conn(), &w.req.id).await?;
    if exts
        .iter()
        .any(|x| x.sub_order_id == s.id && x.status == SubExtensionStatus::Pending)
    {
        return Err(AppError::Conflict(
            "a request for more time on this child order is already waiting".into(),
        ));
    }
    let now = state.clock.now();
    let x = SubExtensionRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: w.req.id.clone(),
        sub_order_id: s.id.clone(),
        unit_code: s.unit_code.clone(),
        from_unit_code: s.from_unit_code.clone(),
        old_reply_by: s.reply_by,
        asked_reply_by: input.reply_by,
        reason,
        status: SubExtensionStatus::Pending,
        requested_by: actor.user_id.clone(),
        requested_at: now,
        decided_by: None,
        decided_at: None,
        new_reply_by: None,
        decision_reason: None,
    };
    xstore::insert(&mut w.tx, &x).await?;
    state
        .event(
            actor,
            &w.req.id,
            Some(&s.assignment_id),
            "sub_extension.requested",
        )
        .change("", "pending")
        .payload(serde_json::json!({
            "extension_id": x.id, "sub_order_id": s.id, "unit_code": s.unit_code,
            "to_unit_code": s.from_unit_code, "old_reply_by": x.old_reply_by,
            "asked_reply_by": x.asked_reply_by, "reason": x.reason,
        }))
        .record(&mut w.tx);
    w.tx.commit().await?;
    Ok((w.req.id, x.id))
}

/// The unit above decides a child's request for more time. Returns the request id.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: SubExtensionDecisionInput,
) -> Result<String, AppError> {
    let request_id = xstore::request_of(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("sub_extension"))?;
    let mut w = load(state, &request_id).await?;
    let mut x = xstore::of_request(w.tx.conn(), &request_id)
        .await?
        .into_iter()
        .find(|x| x.id == id)
        .ok_or(AppError::NotFound("sub_extension"))?;
    let si = w.sub(&x.sub_order_id)?;
    let mut s = w.subs[si].clone();
    let approve = input.decision == SubExtensionDecision::Approve;
    let new = input.reply_by.unwrap_or(x.asked_reply_by);
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let next = subwork::check_sub_extension_decision(
        actor,
        &x.from_unit_code,
        x.status,
        approve,
        s.reply_by,
        new,
        parent_limit(&w, &s)?,
        reason,
    )?;
    w.open_order(&s.assignment_id)?;
    if !s.status.is_open() {
        return Err(AppError::Conflict(format!(
            "the child order is already {}",
            s.status
        )));
    }
    let now = state.clock.now();
    x.status = next;
    x.decided_by = Some(actor.user_id.clone());
    x.decided_at = Some(now);
    x.new_reply_by = approve.then_some(new);
    x.decision_reason = if approve {
        None
    } else {
        reason.map(str::to_string)
    };
    xstore::save(&mut w.tx, &x).await?;
    if approve {
        s.reply_by = new;
        // A limit moved past now is no longer overdue; a mark set before stays in history.
        if new > now {
            s.overdue_at = None;
        }
        store::save(&mut w.tx, &s).await?;
    }
    let action = if approve {
        "sub_extension.approved"
    } else {
        "sub_extension.refused"
    };
    state
        .event(actor, &w.req.id, Some(&s.assignment_id), action)
        .change("pending", next.as_str())
        .payload(serde_json::json!({
            "extension_id": x.id, "sub_order_id": s.id, "unit_code": s.unit_code,
            "reply_by": s.reply_by, "overdue_at": s.overdue_at, "reason": x.decision_reason,
        }))
        .record(&mut w.tx);
    w.tx.commit().await?;
    Ok(request_id)
}

/// A sub-unit returns its child order to the unit above with a reason (退回上级): it closes,
/// what it passed further down is withdrawn, and the unit above passes the work to another
/// sub-unit or handles it itself. Returns the request id.
pub async fn give_back(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: SubReturnInput,
) -> Result<String, AppError> {
    let (mut w, i) = load_sub(state, id).await?;
    let mut s = w.subs[i].clone();
    let reason = input.reason.trim().to_string();
    let next = subwork::check_sub_return(actor, &s.unit_code, s.status, &reason)?;
    w.open_order(&s.assignment_id)?;
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
    withdraw_extensions(state, &mut w.tx, actor, &w.req.id, &[s.id.clone()]).await?;
    let now = state.clock.now();
    let before = s.status;
    s.status = next;
    s.closed_at = Some(now);
    s.return_reason = Some(reason);
    store::save(&mut w.tx, &s).await?;
    state
        .event(
            actor,
            &w.req.id,
            Some(&s.assignment_id),
            "sub_order.returned",
        )
        .change(before.as_str(), next.as_str())
        .payload(serde_json::json!({
            "sub_order_id": s.id, "unit_code": s.unit_code, "to_unit_code": s.from_unit_code,
            "reason": s.return_reason,
        }))
        .record(&mut w.tx);
    w.subs[i] = s;
    w.tx.commit().await?;
    Ok(w.req.id)
}

/// The requests for more time the actor's unit decides or asked, in `status` (all when
/// None), newest first; unit staff only.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: Option<SubExtensionStatus>,
    limit: i64,
) -> Result<Vec<SubExtensionRow>, AppError> {
    let unit = match (&actor.unit, actor.role.is_unit_role()) {
        (Some(u), true) => u.code.clone(),
        _ => return Err(AppError::Forbidden("a unit's child orders")),
    };
    Ok(xstore::of_unit(state.store.reader(), &unit, status, limit.clamp(1, 1000)).await?)
}
