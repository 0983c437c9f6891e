//! 办结审核 (per category, optional): when a category's `reply_review` flag is on, a unit's
//! reply on a request of that category waits for the center's check before the callback. A
//! dispatcher or supervisor approves it (the reply goes to the requester and the callback
//! proceeds) or sends it back with a reason (the order returns to handling, its deadline
//! unchanged, so its clock keeps running). The admin sets the flag. Each step is an event.

use super::handling::{enqueue_reply, settle_status};
use super::AppState;
use crate::error::AppError;
use crate::store::assignments;
use crate::store::reply_reviews::{self as store, ReplyReviewRow};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::workflow::AssignmentStatus;
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};

/// The center's decision on a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 审核通过: the callback proceeds.
    Approve,
    /// 退回重办: the order returns to handling.
    SendBack,
}

/// A decision as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// `approve` or `send_back`.
    pub decision: Decision,
    /// Why (required when sending back, at most 1,000 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A check as shown.
#[derive(Debug, Serialize)]
pub struct ReplyReview {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    pub status: String,
    pub replied_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

impl From<ReplyReviewRow> for ReplyReview {
    fn from(r: ReplyReviewRow) -> Self {
        ReplyReview {
            id: r.id,
            assignment_id: r.assignment_id,
            request_id: r.request_id,
            unit_code: r.unit_code,
            status: r.status,
            replied_at: r.replied_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            reason: r.reason,
        }
    }
}

/// Approves a reply or sends it back (dispatcher, supervisor, admin). 409 when it was decided
/// already.
pub async fn decide(
    state: &AppState,
    actor: &Actor,
    review_id: &str,
    input: DecisionInput,
) -> Result<ReplyReview, AppError> {
    super::require(actor, Action::ReviewReturn)?;
    let reason = input
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if input.decision == Decision::SendBack || reason.is_some() {
        jiesu_core::workflow::require_text("reason", reason.as_deref().unwrap_or(""), 1000)?;
    }
    let review = store::get(state.store.reader(), review_id)
        .await?
        .ok_or(AppError::NotFound("reply review"))?;
    let (mut tx, mut req) = state.lock_request(&review.request_id).await?;
    let mut orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let idx = orders
        .iter()
        .position(|a| a.id == review.assignment_id)
        .ok_or(AppError::NotFound("assignment"))?;
    let now = state.clock.now();
    let status = match input.decision {
        Decision::Approve => "approved",
        Decision::SendBack => "sent_back",
    };
    if !store::decide(
        &mut tx,
        review_id,
        status,
        &actor.user_id,
        reason.as_deref(),
        now,
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "this reply was already checked ({})",
            review.status
        )));
    }
    let mut order = orders[idx].clone();
    if order.status != AssignmentStatus::Replied || order.round != req.round {
        return Err(AppError::Conflict(
            "the order is no longer waiting with its reply".into(),
        ));
    }
    match input.decision {
        Decision::Approve => {
            // The requester half of the reply goes out now.
            enqueue_reply(state, &mut tx, &req, &order).await?;
            state
                .event(actor, &req.id, Some(&order.id), "reply_review.approved")
                .payload(serde_json::json!({ "review_id": review.id, "unit_code": order.unit_code, "reason": reason }))
                .record(&mut tx);
        }
        Decision::SendBack => {
            order.status = AssignmentStatus::Acknowledged;
            order.replied_at = None;
            order.outcome = None;
            order.reply_to_requester = None;
            order.reply_to_center = None;
            assignments::save_assignment(&mut tx, &order).await?;
            state
                .event(actor, &req.id, Some(&order.id), "assignment.reply_sent_back")
                .change(
                    AssignmentStatus::Replied.as_str(),
                    AssignmentStatus::Acknowledged.as_str(),
                )
                .payload(serde_json::json!({
                    "review_id": review.id, "unit_code": order.unit_code, "reason": reason, "reply_by": order.reply_by,
                }))
                .record(&mut tx);
            orders[idx] = order;
            settle_status(state, &mut tx, actor, &mut req, &orders).await?;
        }
    }
    tx.commit().await?;
    Ok(ReplyReview {
        status: status.into(),
        decided_by: Some(actor.user_id.clone()),
        decided_at: Some(now),
        reason,
        ..review.into()
    })
}

/// Checks by status (`pending`, `approved`, `sent_back`; all when None): the center.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: Option<&str>,
) -> Result<Vec<ReplyReview>, AppError> {
    super::require(actor, Action::ReviewReturn)?;
    if let Some(s) = status {
        if !["pending", "approved", "sent_back"].contains(&s) {
            return Err(AppError::invalid(
                "status",
                "err.reply_review.status_pending_approved_or_sent_back",
            ));
        }
    }
    Ok(store::list(state.store.reader(), status)
        .await?
        .into_iter()
        .map(ReplyReview::from)
        .collect())
}

/// A request's checks (for its page): the center.
pub async fn of_request(state: &AppState, request_id: &str) -> Result<Vec<ReplyReview>, AppError> {
    Ok(store::of_request(state.store.reader(), request_id)
        .await?
        .into_iter()
        .map(ReplyReview::from)
        .collect())
}

/// A request's checks still waiting for the center (for the simulator's dispatcher).
pub async fn pending_of(state: &AppState, request_id: &str) -> Result<Vec<ReplyReview>, AppError> {
    Ok(store::pending_of_request(state.store.reader(), request_id)
        .await?
        .into_iter()
        .map(ReplyReview::from)
        .collect())
}

/// The categories whose replies are checked.
pub async fn flagged(state: &AppState, actor: &Actor) -> Result<Vec<String>, AppError> {
    super::require(actor, Action::ReviewReturn)?;
    Ok(store::flagged_categories(state.store.reader()).await?)
}

/// Turns a category's 办结审核 on or off (admin), with an event.
pub async fn set_category(
    state: &AppState,
    actor: &Actor,
    code: &str,
    on: bool,
) -> Result<(), AppError> {
    super::require(actor, Action::Administer)?;
    // Effective-dated like every category change (a version from now on).
    let input = super::categories::CategoryChange {
        reply_review: Some(on),
        ..Default::default()
    };
    super::categories::change_as(
        state,
        super::accounts::By::User(actor),
        code,
        &input,
        "category.reply_review",
    )
    .await?;
    Ok(())
}
