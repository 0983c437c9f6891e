//! The points where the center's order meets 下派 and 签批 inside its own transaction
//! (called from [`super::handling`] and [`super::returns`]): a handler's reply held for the
//! unit's manager, and what is still open below an order that was answered or returned
//! (child orders, their sign-offs and requests for more time). The
//! rest of the feature is in [`super::subwork`].

use super::AppState;
use crate::error::AppError;
use crate::store::assignments::AssignmentRow;
use crate::store::requests::RequestRow;
use crate::store::sub_extensions as xstore;
use crate::store::sub_orders::{self as store, SignoffRow, SubOrderRow};
use crate::store::Tx;
use jiesu_core::subwork::{SignoffStatus, SubExtensionStatus, SubOrderStatus};
use jiesu_core::workflow::{Outcome, UnitAction};
use jiesu_core::{Actor, Role};

/// Withdraws the open child orders (and their pending sign-offs) under `parent` (None: under
/// the center's order itself, at every depth) when the unit above answers itself.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn withdraw_below(
    state: &AppState,
    tx: &mut Tx,
    request_id: &str,
    subs: &mut [SubOrderRow],
    signoffs: &mut [SignoffRow],
    actor: &Actor,
    parent: Option<&str>,
    assignment_id: &str,
) -> Result<(), AppError> {
    let now = state.clock.now();
    // The ids under `parent`, at every depth.
    let mut under: Vec<String> = Vec::new();
    let mut frontier: Vec<Option<String>> = vec![parent.map(str::to_string)];
    while let Some(p) = frontier.pop() {
        for s in subs
            .iter()
            .filter(|s| s.assignment_id == assignment_id && s.parent_id == p)
        {
            under.push(s.id.clone());
            frontier.push(Some(s.id.clone()));
        }
    }
    for s in subs.iter_mut() {
        if !under.contains(&s.id) || s.status.is_closed() {
            continue;
        }
        let before = s.status;
        s.status = SubOrderStatus::Withdrawn;
        s.closed_at = Some(now);
        store::save(tx, s).await?;
        state
            .event(
                actor,
                request_id,
                Some(assignment_id),
                "sub_order.withdrawn",
            )
            .change(before.as_str(), s.status.as_str())
            .payload(serde_json::json!({ "sub_order_id": s.id, "unit_code": s.unit_code }))
            .record(tx);
    }
    for g in signoffs.iter_mut() {
        let mine = match (&g.sub_order_id, parent) {
            (Some(sid), _) => under.contains(sid),
            // A handler's reply held for the manager goes when the order is answered.
            (None, None) => g.assignment_id == assignment_id,
            (None, Some(_)) => false,
        };
        if !mine || g.status != SignoffStatus::Pending {
            continue;
        }
        g.status = SignoffStatus::Withdrawn;
        g.decided_at = Some(now);
        g.decided_by = Some(actor.user_id.clone());
        store::save_signoff(tx, g).await?;
        // So that a replay of the events rebuilds the sign-off (`store/replay.rs`).
        state
            .event(
                actor,
                request_id,
                Some(&g.assignment_id),
                "signoff.withdrawn",
            )
            .change("pending", "withdrawn")
            .payload(serde_json::json!({ "signoff_id": g.id, "sub_order_id": g.sub_order_id }))
            .record(tx);
    }
    withdraw_extensions(state, tx, actor, request_id, &under).await?;
    Ok(())
}

/// After the center's order was answered (by its unit, or on a manager's approval): withdraws
/// whatever is still open under it. Called from [`super::handling`] in the reply's transaction.
pub(crate) async fn close_under_order(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    request_id: &str,
    assignment_id: &str,
) -> Result<(), AppError> {
    let mut subs = store::of_request(tx.conn(), request_id).await?;
    let mut signoffs = store::signoffs_of(tx.conn(), request_id).await?;
    withdraw_below(
        state,
        tx,
        request_id,
        &mut subs,
        &mut signoffs,
        actor,
        None,
        assignment_id,
    )
    .await
}

/// Where the order's unit requires its manager's sign-off (签批), holds a handler's reply for
/// it instead of sending it to the center: true when held. Called from [`super::handling`] after
/// the reply was checked.
pub(crate) async fn hold_for_signoff(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    req: &RequestRow,
    order: &AssignmentRow,
    outcome: Option<Outcome>,
    action: &UnitAction,
) -> Result<bool, AppError> {
    let UnitAction::Reply {
        to_requester,
        to_center,
    } = action
    else {
        return Ok(false);
    };
    if actor.role != Role::UnitHandler
        || !store::signoff_required(tx.conn(), &order.unit_code).await?
    {
        return Ok(false);
    }
    let waiting = store::signoffs_of(tx.conn(), &req.id)
        .await?
        .iter()
        .any(|g| {
            g.assignment_id == order.id
                && g.sub_order_id.is_none()
                && g.status == SignoffStatus::Pending
        });
    if waiting {
        return Err(AppError::Conflict(
            "a reply of this order is already waiting for the manager's sign-off (待签批)".into(),
        ));
    }
    let outcome = outcome.unwrap_or(Outcome::Explained);
    let g = SignoffRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: req.id.clone(),
        assignment_id: order.id.clone(),
        sub_order_id: None,
        unit_code: order.unit_code.clone(),
        outcome,
        to_requester: to_requester.trim().to_string(),
        to_center: to_center.trim().to_string(),
        submitted_by: actor.user_id.clone(),
        submitted_at: state.clock.now(),
        status: SignoffStatus::Pending,
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    store::insert_signoff(tx, &g).await?;
    state
        .event(actor, &req.id, Some(&order.id), "signoff.requested")
        .change("", "pending")
        .payload(serde_json::json!({
            "signoff_id": g.id, "unit_code": g.unit_code, "outcome": outcome.as_str(),
            "to_requester": g.to_requester, "to_center": g.to_center,
        }))
        .record(tx);
    Ok(true)
}

/// Withdraws the pending requests for more time of these child orders (they were returned,
/// withdrawn or replied first), each with an event.
pub(crate) async fn withdraw_extensions(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    request_id: &str,
    sub_ids: &[String],
) -> Result<(), AppError> {
    let now = state.clock.now();
    for mut x in xstore::of_request(tx.conn(), request_id).await? {
        if x.status != SubExtensionStatus::Pending || !sub_ids.contains(&x.sub_order_id) {
            continue;
        }
        x.status = SubExtensionStatus::Withdrawn;
        x.decided_by = Some(actor.user_id.clone());
        x.decided_at = Some(now);
        xstore::save(tx, &x).await?;
        state
            .event(actor, request_id, None, "sub_extension.withdrawn")
            .change("pending", "withdrawn")
            .payload(serde_json::json!({ "extension_id": x.id, "sub_order_id": x.sub_order_id }))
            .record(tx);
    }
    Ok(())
}
