//! The state machines of a request and its orders (工单), as pure functions over values: each
//! takes the current state, an action, the actor and the time, and returns the change or why
//! it is refused. The application stores the change and its event; it decides nothing here.

use crate::access::{Action, Actor};
use crate::request::{string_enum, CallbackInput, RequestKind, RequestStatus, Satisfaction};
use chrono::{DateTime, Duration, Utc};

string_enum! {
    /// A unit's role on a multi-dispatched request (主办 / 协办).
    AssignmentRole {
        /// 主办: the lead unit, answerable for the result.
        Lead = "lead",
        /// 协办: a co-handler.
        Co = "co",
    }
}

string_enum! {
    /// Where one order is.
    AssignmentStatus {
        /// 已派发: waiting for the unit to acknowledge.
        Dispatched = "dispatched",
        /// 已签收: the unit accepted it; its handling clock runs.
        Acknowledged = "acknowledged",
        /// 已反馈: the unit filed its reply.
        Replied = "replied",
        /// 已退单: the unit sent it back as not its responsibility.
        Returned = "returned",
    }
}

string_enum! {
    /// What the unit says it achieved (办理结果).
    Outcome {
        /// 已解决.
        Resolved = "resolved",
        /// 部分解决.
        Partly = "partly",
        /// 已解释说明: nothing to fix, or cannot be fixed; explained to the requester.
        Explained = "explained",
    }
}

string_enum! {
    /// State of an extension request (延期申请).
    ExtensionStatus {
        /// 待审批.
        Pending = "pending",
        /// 已批准.
        Approved = "approved",
        /// 已驳回.
        Refused = "refused",
    }
}

string_enum! {
    /// State of a unit's return awaiting the dispatcher (退单审核).
    ReturnReviewStatus {
        /// 待审核: the order stays with the unit, its clock running.
        Pending = "pending",
        /// 同意退单: the order is returned; the request waits for re-dispatch.
        Accepted = "accepted",
        /// 驳回退单: the order stays with the unit, which sees the reason.
        Rejected = "rejected",
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The actor's role may not do this at all.
    #[error("your role may not do this")]
    Forbidden,
    /// The order belongs to a unit outside the actor's.
    #[error("this order belongs to another unit")]
    NotYourUnit,
    /// The action is not possible in the current state.
    #[error("{0}")]
    InvalidState(String),
    /// An input field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as named in the API.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

fn invalid_state(msg: impl Into<String>) -> TransitionError {
    TransitionError::InvalidState(msg.into())
}

/// One order: a request × unit × round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The unit's code.
    pub unit_code: String,
    /// The unit's path in the unit tree.
    pub unit_path: String,
    /// Lead or co-handler.
    pub role: AssignmentRole,
    /// The handling round (1 for the first, +1 per rework).
    pub round: i64,
    /// Where the order is.
    pub status: AssignmentStatus,
    /// 签收时限.
    pub acknowledge_by: DateTime<Utc>,
    /// 办结时限.
    pub reply_by: DateTime<Utc>,
}

impl Assignment {
    /// Whether the order still counts (it was not returned).
    pub fn is_active(&self) -> bool {
        self.status != AssignmentStatus::Returned
    }
}

/// What a unit does to one of its orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitAction {
    /// 签收.
    Acknowledge,
    /// 办结反馈 (dual: to the requester and to the center; the texts are checked here).
    Reply {
        /// 给诉求人的答复.
        to_requester: String,
        /// 给中心的反馈.
        to_center: String,
    },
    /// 退单, with a reason.
    Return {
        /// Why it is not the unit's responsibility.
        reason: String,
    },
    /// 申请延期.
    RequestExtension {
        /// Extra hours wanted (1–720).
        hours: i64,
        /// Why.
        reason: String,
        /// Whether the order already has a pending extension request.
        has_pending: bool,
    },
}

/// Checks a unit action against the order, its request and the actor, and returns the
/// order's next status (unchanged for an extension request).
pub fn unit_action(
    request_status: RequestStatus,
    request_round: i64,
    order: &Assignment,
    action: &UnitAction,
    actor: &Actor,
) -> Result<AssignmentStatus, TransitionError> {
    let needed = match action {
        UnitAction::Acknowledge => Action::Acknowledge,
        UnitAction::Reply { .. } => Action::Reply,
        UnitAction::Return { .. } => Action::Return,
        UnitAction::RequestExtension { .. } => Action::RequestExtension,
    };
    if !actor.may(needed) {
        return Err(TransitionError::Forbidden);
    }
    if !actor.covers_unit(&order.unit_path) {
        return Err(TransitionError::NotYourUnit);
    }
    if request_status.is_final() {
        return Err(invalid_state(format!("the request is {request_status}")));
    }
    if order.round != request_round {
        return Err(invalid_state(
            "this order belongs to an earlier handling round",
        ));
    }
    use AssignmentStatus::*;
    match (action, order.status) {
        (UnitAction::Acknowledge, Dispatched) => Ok(Acknowledged),
        (UnitAction::Acknowledge, s) => Err(invalid_state(format!("the order is already {s}"))),
        (
            UnitAction::Reply {
                to_requester,
                to_center,
            },
            Acknowledged,
        ) => {
            require_text("to_requester", to_requester, 5000)?;
            require_text("to_center", to_center, 5000)?;
            Ok(Replied)
        }
        (UnitAction::Reply { .. }, Dispatched) => {
            Err(invalid_state("acknowledge the order before replying"))
        }
        (UnitAction::Reply { .. }, s) => Err(invalid_state(format!("the order is already {s}"))),
        // 退单 asks the dispatcher ([`review_return`]); until then the order stays as it is.
        (UnitAction::Return { reason }, s @ (Dispatched | Acknowledged)) => {
            require_text("reason", reason, 2000)?;
            Ok(s)
        }
        (UnitAction::Return { .. }, s) => Err(invalid_state(format!("the order is already {s}"))),
        (
            UnitAction::RequestExtension {
                hours,
                reason,
                has_pending,
            },
            Acknowledged,
        ) => {
            if !(1..=720).contains(hours) {
                return Err(TransitionError::Invalid {
                    field: "hours",
                    message: "must be between 1 and 720".into(),
                });
            }
            require_text("reason", reason, 2000)?;
            if *has_pending {
                return Err(invalid_state(
                    "an extension request for this order is already pending",
                ));
            }
            Ok(Acknowledged)
        }
        (UnitAction::RequestExtension { .. }, Dispatched) => Err(invalid_state(
            "acknowledge the order before asking for more time",
        )),
        (UnitAction::RequestExtension { .. }, s) => {
            Err(invalid_state(format!("the order is already {s}")))
        }
    }
}

/// Requires a non-blank text of at most `max` characters.
pub fn require_text(field: &'static str, text: &str, max: usize) -> Result<(), TransitionError> {
    if text.trim().is_empty() {
        return Err(TransitionError::Invalid {
            field,
            message: "must not be empty".into(),
        });
    }
    if text.chars().count() > max {
        return Err(TransitionError::Invalid {
            field,
            message: format!("must be at most {max} characters"),
        });
    }
    Ok(())
}

/// The status of a request that is not final, derived from the orders of its current round:
/// no active lead → received (waiting for (re-)dispatch); none acknowledged → dispatched;
/// every active order replied → replied; otherwise in progress.
pub fn derive_status(current_round: &[&Assignment]) -> RequestStatus {
    let active: Vec<_> = current_round.iter().filter(|a| a.is_active()).collect();
    let has_lead = active.iter().any(|a| a.role == AssignmentRole::Lead);
    if !has_lead {
        return RequestStatus::Received;
    }
    if active.iter().all(|a| a.status == AssignmentStatus::Replied) {
        return RequestStatus::Replied;
    }
    if active
        .iter()
        .all(|a| a.status == AssignmentStatus::Dispatched)
    {
        return RequestStatus::Dispatched;
    }
    RequestStatus::InProgress
}

/// Checks a dispatch (派单) of `new` (unit code, role) onto a request whose current round has
/// `existing` orders. After it the round must have exactly one active lead and no unit twice.
pub fn check_dispatch(
    status: RequestStatus,
    existing: &[&Assignment],
    new: &[(String, AssignmentRole)],
    actor: &Actor,
) -> Result<(), TransitionError> {
    if !actor.may(Action::Dispatch) {
        return Err(TransitionError::Forbidden);
    }
    check_targets(status, existing, new)
}

/// The dispatch rules without the actor: the request can take orders, no unit twice, exactly
/// one lead. Proactive tasks (opened with [`Action::OpenTask`]) check only this.
pub fn check_targets(
    status: RequestStatus,
    existing: &[&Assignment],
    new: &[(String, AssignmentRole)],
) -> Result<(), TransitionError> {
    if !matches!(
        status,
        RequestStatus::Received | RequestStatus::Dispatched | RequestStatus::InProgress
    ) {
        return Err(invalid_state(format!(
            "a {status} request cannot be dispatched"
        )));
    }
    if new.is_empty() {
        return Err(TransitionError::Invalid {
            field: "assignments",
            message: "name at least one unit".into(),
        });
    }
    let active: Vec<_> = existing.iter().filter(|a| a.is_active()).collect();
    let mut units: Vec<&str> = active.iter().map(|a| a.unit_code.as_str()).collect();
    for (code, _) in new {
        if units.contains(&code.as_str()) {
            return Err(TransitionError::Invalid {
                field: "assignments",
                message: format!("unit {code} is named twice or already holds this request"),
            });
        }
        units.push(code);
    }
    let leads = active
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead)
        .count()
        + new
            .iter()
            .filter(|(_, r)| *r == AssignmentRole::Lead)
            .count();
    if leads != 1 {
        return Err(TransitionError::Invalid {
            field: "assignments",
            message: format!("a request needs exactly one lead unit, this would give {leads}"),
        });
    }
    Ok(())
}

/// Checks answering a consultation at intake (直接答复).
pub fn check_answer(
    status: RequestStatus,
    kind: RequestKind,
    answer: &str,
    actor: &Actor,
) -> Result<(), TransitionError> {
    if !actor.may(Action::Answer) {
        return Err(TransitionError::Forbidden);
    }
    if kind != RequestKind::Consultation {
        return Err(invalid_state(
            "only a consultation can be answered at intake",
        ));
    }
    if status != RequestStatus::Received {
        return Err(invalid_state(format!(
            "a {status} request cannot be answered at intake"
        )));
    }
    require_text("answer", answer, 5000)
}

/// Checks merging a request into a primary (并单). Only a request not yet dispatched can be
/// merged, and only into a live, unmerged other request.
pub fn check_merge(
    id: &str,
    status: RequestStatus,
    primary_id: &str,
    primary_status: RequestStatus,
    actor: &Actor,
) -> Result<(), TransitionError> {
    if !actor.may(Action::Merge) {
        return Err(TransitionError::Forbidden);
    }
    if id == primary_id {
        return Err(TransitionError::Invalid {
            field: "into",
            message: "a request cannot be merged into itself".into(),
        });
    }
    if status != RequestStatus::Received {
        return Err(invalid_state(format!(
            "a {status} request cannot be merged"
        )));
    }
    // Merging into a merged request would make a chain (or, raced against the opposite
    // merge, a cycle): a conflict with the current state, like any other.
    if primary_status == RequestStatus::Merged {
        return Err(invalid_state(
            "the primary request is itself merged into another request",
        ));
    }
    if primary_status == RequestStatus::Answered {
        return Err(TransitionError::Invalid {
            field: "into",
            message: format!("the primary request is {primary_status}"),
        });
    }
    Ok(())
}

/// Checks a decision on an extension and returns the new reply deadline (unchanged when
/// refused).
pub fn decide_extension(
    status: ExtensionStatus,
    approve: bool,
    hours: i64,
    reply_by: DateTime<Utc>,
    actor: &Actor,
) -> Result<(ExtensionStatus, DateTime<Utc>), TransitionError> {
    if !actor.may(Action::DecideExtension) {
        return Err(TransitionError::Forbidden);
    }
    if status != ExtensionStatus::Pending {
        return Err(invalid_state(format!(
            "the extension request is already {status}"
        )));
    }
    Ok(if approve {
        (ExtensionStatus::Approved, reply_by + Duration::hours(hours))
    } else {
        (ExtensionStatus::Refused, reply_by)
    })
}

/// Checks the dispatcher's review of a return (退单审核): `accept` returns the order, a
/// rejection needs a reason (at most 500 characters). Returns the review's next state.
pub fn review_return(
    status: ReturnReviewStatus,
    accept: bool,
    reason: Option<&str>,
    actor: &Actor,
) -> Result<ReturnReviewStatus, TransitionError> {
    if !actor.may(Action::ReviewReturn) {
        return Err(TransitionError::Forbidden);
    }
    if status != ReturnReviewStatus::Pending {
        return Err(invalid_state(format!("the return is already {status}")));
    }
    if accept {
        if let Some(r) = reason {
            if r.chars().count() > 500 {
                return Err(TransitionError::Invalid {
                    field: "reason",
                    message: "must be at most 500 characters".into(),
                });
            }
        }
        return Ok(ReturnReviewStatus::Accepted);
    }
    require_text("reason", reason.unwrap_or(""), 500)?;
    Ok(ReturnReviewStatus::Rejected)
}

/// What a callback leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// 办结: resolved and (basically) satisfied.
    Close,
    /// 无法联系: closed after the allowed number of unreachable attempts.
    CloseUnreachable,
    /// Not reached; try again later.
    Retry,
    /// 二次办理: a new round for the same units.
    Rework,
    /// A merged request's requester answered; their answer is recorded, the primary decides
    /// the handling.
    Recorded,
}

/// Checks a callback on a request (回访) and decides what follows. `attempts` counts the
/// unreachable attempts before this one. A merged request is called back once its primary
/// has replied (`primary_status`).
pub fn check_callback(
    status: RequestStatus,
    primary_status: Option<RequestStatus>,
    input: &CallbackInput,
    attempts: i64,
    max_unreachable: i64,
    actor: &Actor,
) -> Result<CallbackOutcome, TransitionError> {
    if !actor.may(Action::Callback) {
        return Err(TransitionError::Forbidden);
    }
    let merged = status == RequestStatus::Merged;
    let due = match (status, primary_status) {
        (RequestStatus::Replied, _) => true,
        (RequestStatus::Merged, Some(p)) => {
            matches!(p, RequestStatus::Replied | RequestStatus::Closed)
        }
        _ => false,
    };
    if !due {
        return Err(invalid_state(format!(
            "a {status} request is not waiting for a callback"
        )));
    }
    // the note is kept whether or not the requester was reached
    if let Some(note) = &input.note {
        if note.chars().count() > 5000 {
            return Err(TransitionError::Invalid {
                field: "note",
                message: "must be at most 5000 characters".into(),
            });
        }
    }
    if !input.reached {
        return Ok(if attempts + 1 >= max_unreachable {
            if merged {
                CallbackOutcome::Recorded
            } else {
                CallbackOutcome::CloseUnreachable
            }
        } else {
            CallbackOutcome::Retry
        });
    }
    let resolved = input.resolved.ok_or(TransitionError::Invalid {
        field: "resolved",
        message: "required when the requester was reached".into(),
    })?;
    let satisfaction = input.satisfaction.ok_or(TransitionError::Invalid {
        field: "satisfaction",
        message: "required when the requester was reached".into(),
    })?;
    Ok(
        match (
            merged,
            resolved && satisfaction != Satisfaction::Unsatisfied,
        ) {
            (true, _) => CallbackOutcome::Recorded,
            (false, true) => CallbackOutcome::Close,
            (false, false) => CallbackOutcome::Rework,
        },
    )
}

#[cfg(test)]
#[path = "workflow_tests.rs"]
mod tests;
