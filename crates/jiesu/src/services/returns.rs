//! Return review (退单审核): a unit's return (退单) no longer takes effect at once; it waits for
//! the dispatcher, who accepts it (the order is returned, the request goes back to the
//! dispatch queue when it was the lead) or rejects it with a reason (the order stays with the
//! unit, its clock running, and the unit sees why). The unit's side is in [`super::handling`].

use super::directory::unit_names;
use super::handling::settle_status;
use super::AppState;
use crate::error::AppError;
use crate::store::assignments;
use crate::store::queues;
use crate::store::returns::{self, ReturnReviewRow};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::workflow::{self, AssignmentRole, AssignmentStatus, ReturnReviewStatus};
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};

/// The dispatcher's decision on a return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnDecision {
    /// 同意退单.
    Accept,
    /// 驳回退单 (with a reason).
    Reject,
}

/// A review as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// `accept` or `reject`.
    pub decision: ReturnDecision,
    /// Why: required for a rejection (the unit reads it), at most 500 characters.
    pub reason: Option<String>,
}

/// A return review as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnReviewView {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub unit_code: String,
    /// The unit's reason for returning.
    pub reason: String,
    pub status: ReturnReviewStatus,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The dispatcher's reason (required for a rejection).
    pub decision_reason: Option<String>,
}

impl From<&ReturnReviewRow> for ReturnReviewView {
    fn from(r: &ReturnReviewRow) -> Self {
        ReturnReviewView {
            id: r.id.clone(),
            assignment_id: r.assignment_id.clone(),
            request_id: r.request_id.clone(),
            unit_code: r.unit_code.clone(),
            reason: r.reason.clone(),
            status: r.status,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            decision_reason: r.decision_reason.clone(),
        }
    }
}

/// Accepts or rejects the pending return of an order (退单审核). Returns the request id.
/// 403 for those who may not review, 404 for no such order, 409 when it has no pending return.
pub async fn review(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    input: ReviewInput,
) -> Result<String, AppError> {
    super::require(actor, Action::ReviewReturn)?;
    let request_id = assignments::request_of_assignment(state.store.reader(), assignment_id)
        .await?
        .ok_or(AppError::NotFound("assignment"))?;
    let (mut tx, mut req) = state.lock_request(&request_id).await?;
    let mut orders = assignments::assignments_of(tx.conn(), &req.id).await?;
    let idx = orders
        .iter()
        .position(|a| a.id == assignment_id)
        .ok_or(AppError::NotFound("assignment"))?;
    let mut pending = returns::reviews_of(tx.conn(), &req.id)
        .await?
        .into_iter()
        .find(|r| r.assignment_id == assignment_id && r.status == ReturnReviewStatus::Pending)
        .ok_or_else(|| AppError::Conflict("this order has no return waiting for review".into()))?;
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let accept = input.decision == ReturnDecision::Accept;
    let next = workflow::review_return(pending.status, accept, input.reason.as_deref(), actor)?;
    let now = state.clock.now();
    pending.status = next;
    pending.decided_by = Some(actor.user_id.clone());
    pending.decided_at = Some(now);
    pending.decision_reason = reason.map(str::to_string);
    returns::save(&mut tx, &pending).await?;
    let mut order = orders[idx].clone();
    let before = order.status;
    if accept {
        order.status = AssignmentStatus::Returned;
        order.returned_at = Some(now);
        order.return_reason = Some(pending.reason.clone());
        assignments::save_assignment(&mut tx, &order).await?;
        // 下派: child orders of a returned order are withdrawn.
        super::subwork_hooks::close_under_order(state, &mut tx, actor, &req.id, &order.id).await?;
    }
    let action = if accept {
        "assignment.return_accepted"
    } else {
        "assignment.return_rejected"
    };
    state
        .event(actor, &req.id, Some(&order.id), action)
        .change(before.as_str(), order.status.as_str())
        .payload(serde_json::json!({
            "review_id": pending.id, "unit_code": order.unit_code, "role": order.role,
            "return_reason": pending.reason, "reason": pending.decision_reason,
        }))
        .record(&mut tx);
    orders[idx] = order;
    settle_status(state, &mut tx, actor, &mut req, &orders).await?;
    tx.commit().await?;
    Ok(req.id)
}

/// A return review in a list, with its request and unit.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnReviewItem {
    /// The review.
    #[serde(flatten)]
    pub review: ReturnReviewView,
    /// The request's number.
    pub number: String,
    /// The request's title.
    pub title: String,
    /// The returning unit's name (its code where it has none).
    pub unit_name: String,
    /// The order's role (lead or co-handler).
    pub role: Option<AssignmentRole>,
}

/// Return reviews in `status` (pending: oldest first; decided: newest decision first), with
/// request numbers and unit names; those who review returns.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: ReturnReviewStatus,
    limit: i64,
) -> Result<Vec<ReturnReviewItem>, AppError> {
    if !actor.may(Action::ReviewReturn) {
        return Err(AppError::Forbidden("return reviews"));
    }
    let pool = state.store.reader();
    let rows = returns::by_status(pool, status, limit.clamp(1, 1000)).await?;
    let req_ids: Vec<String> = rows.iter().map(|r| r.request_id.clone()).collect();
    let titles = queues::request_titles(pool, &req_ids).await?;
    let orders = assignments::assignments_of_many(pool, &req_ids).await?;
    let names = unit_names(state, rows.iter().map(|r| &r.unit_code)).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (number, title) = titles.get(&r.request_id).cloned().unwrap_or_default();
            ReturnReviewItem {
                review: ReturnReviewView::from(r),
                number,
                title,
                unit_name: names.of(&r.unit_code),
                role: orders
                    .iter()
                    .find(|a| a.id == r.assignment_id)
                    .map(|a| a.role),
            }
        })
        .collect())
}

/// The latest return review of each of these orders (those with none are absent); for the
/// pages that show an order's pending or rejected return. The caller has already scoped the
/// orders to the actor.
pub async fn latest_of_orders(
    state: &AppState,
    assignment_ids: &[String],
) -> Result<std::collections::HashMap<String, ReturnReviewView>, AppError> {
    let mut out = std::collections::HashMap::new();
    for chunk in assignment_ids.chunks(500) {
        for r in returns::of_orders(state.store.reader(), chunk).await? {
            out.insert(r.assignment_id.clone(), ReturnReviewView::from(&r));
        }
    }
    Ok(out)
}
