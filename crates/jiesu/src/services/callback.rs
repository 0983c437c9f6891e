//! Callback (回访): the center asks the requester whether the problem was resolved and how
//! satisfied they are. A good answer closes the request; a bad one opens a new round for the
//! same units (二次办理); an unreachable requester is tried again up to the configured limit.

use super::handling::{open_orders, settle_status};
use super::AppState;
use crate::error::AppError;
use crate::store::callbacks::{self, CallbackRow};
use crate::store::reference;
use crate::store::{assignments, requests};
use jiesu_core::workflow::{self, AssignmentStatus, CallbackOutcome};
use jiesu_core::{Actor, CallbackInput, RequestStatus};

/// Records a callback on a request; returns what followed.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: CallbackInput,
) -> Result<CallbackOutcome, AppError> {
    record_via(state, actor, id, input, "phone").await
}

/// [`record`], made through `channel`: `phone` (an agent's call) or `sms` (the requester's
/// answer to the rating text, `services::sms`).
pub async fn record_via(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: CallbackInput,
    channel: &str,
) -> Result<CallbackOutcome, AppError> {
    super::require(actor, jiesu_core::access::Action::Callback)?;
    // A merged request's callback depends on its primary's state: both rows are locked, in
    // one order (by id) as every two-request action does, and read inside the transaction.
    let seen = requests::get(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("request"))?;
    let (mut tx, mut req, primary_status) = match &seen.primary_id {
        Some(p) => {
            let mut tx = state.store.begin().await?;
            let (req, primary) = requests::lock_pair(&mut tx, &seen.id, p).await?;
            let req = req.ok_or(AppError::NotFound("request"))?;
            (tx, req, primary.map(|p| p.status))
        }
        None => {
            let (tx, req) = state.lock_request(&seen.id).await?;
            (tx, req, None)
        }
    };
    let status = req.status;
    // 办结审核: no callback while a reply waits for the center's check.
    let own = req.primary_id.clone().unwrap_or_else(|| req.id.clone());
    if crate::store::reply_reviews::has_pending(tx.conn(), &own).await? {
        return Err(AppError::Conflict(
            "a reply of this request is waiting for the center's check (办结待审核)".into(),
        ));
    }
    if status == RequestStatus::Merged && req.callback_done {
        return Err(AppError::Conflict(
            "this requester has already been called back".into(),
        ));
    }
    let outcome = workflow::check_callback(
        status,
        primary_status,
        &input,
        req.callback_attempts,
        state.config.max_unreachable_callbacks,
        actor,
    )?;
    let now = state.clock.now();
    let row = CallbackRow {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: req.id.clone(),
        round: req.round,
        reached: input.reached,
        resolved: input.resolved.filter(|_| input.reached),
        satisfaction: input
            .satisfaction
            .filter(|_| input.reached)
            .map(|s| s.as_str().to_string()),
        note: input.note.clone(),
        outcome: outcome_name(outcome).into(),
        agent_id: actor.user_id.clone(),
        at: now,
        channel: channel.to_string(),
    };
    callbacks::insert_callback(&mut tx, &row).await?;
    if !input.reached {
        req.callback_attempts += 1;
    }
    req.updated_at = now;
    let payload = serde_json::json!({
        "callback_id": row.id, "round": row.round, "reached": row.reached, "resolved": row.resolved,
        "satisfaction": row.satisfaction, "outcome": row.outcome, "note": row.note,
        "channel": row.channel,
    });
    match outcome {
        CallbackOutcome::Retry => {
            requests::save(&mut tx, &req).await?;
            state
                .event(actor, &req.id, None, "callback.unreachable")
                .payload(payload)
                .record(&mut tx);
        }
        CallbackOutcome::Recorded => {
            req.callback_done = true;
            requests::save(&mut tx, &req).await?;
            state
                .event(actor, &req.id, None, "callback.recorded")
                .payload(payload)
                .record(&mut tx);
        }
        CallbackOutcome::Close | CallbackOutcome::CloseUnreachable => {
            req.status = RequestStatus::Closed;
            req.callback_done = true;
            req.closed_at = Some(now);
            req.close_reason = Some(
                if outcome == CallbackOutcome::Close {
                    "resolved"
                } else {
                    "unreachable"
                }
                .into(),
            );
            requests::save(&mut tx, &req).await?;
            state
                .event(actor, &req.id, None, "callback.closed")
                .change(status.as_str(), "closed")
                .payload(payload)
                .record(&mut tx);
        }
        CallbackOutcome::Rework => {
            state
                .event(actor, &req.id, None, "callback.rework")
                .payload(payload)
                .record(&mut tx);
            rework(state, &mut tx, actor, &mut req).await?;
        }
    }
    tx.commit().await?;
    Ok(outcome)
}

fn outcome_name(o: CallbackOutcome) -> &'static str {
    match o {
        CallbackOutcome::Close => "closed",
        CallbackOutcome::CloseUnreachable => "closed_unreachable",
        CallbackOutcome::Retry => "retry",
        CallbackOutcome::Rework => "rework",
        CallbackOutcome::Recorded => "recorded",
    }
}

/// 二次办理: a new round with the same lead and co-handlers as the round that replied.
async fn rework(
    state: &AppState,
    tx: &mut crate::store::Tx,
    actor: &Actor,
    req: &mut crate::store::requests::RequestRow,
) -> Result<(), AppError> {
    let previous: Vec<_> = assignments::assignments_of(tx.conn(), &req.id)
        .await?
        .into_iter()
        .filter(|a| a.round == req.round && a.status != AssignmentStatus::Returned)
        .collect();
    req.round += 1;
    req.callback_attempts = 0;
    let mut targets = Vec::new();
    for a in &previous {
        if let Some(unit) = reference::unit(tx.conn(), &a.unit_code).await? {
            targets.push((unit, a.role));
        }
    }
    let class = req
        .time_limit_class
        .clone()
        .unwrap_or_else(|| "general".into());
    let orders = open_orders(state, tx, actor, req, &targets, &class).await?;
    settle_status(state, tx, actor, req, &orders).await
}
