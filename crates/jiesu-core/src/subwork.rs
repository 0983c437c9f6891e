//! Three levels of handling: 下派 (a unit passes its order down to units under it as child
//! orders) and 签批 (a reply waits for the unit above, or for the unit's own manager, to sign it
//! off). Pure checks over values; the application stores the change and its events.

use crate::access::{Action, Actor, Role};
use crate::request::string_enum;
use crate::workflow::{require_text, Outcome, TransitionError};
use chrono::{DateTime, Utc};

string_enum! {
    /// Where a child order (下派工单) is.
    SubOrderStatus {
        /// 已下派: waiting for the sub-unit to acknowledge.
        Dispatched = "dispatched",
        /// 已签收: the sub-unit works on it (also after a reply was sent back).
        Acknowledged = "acknowledged",
        /// 已反馈待签批: its reply waits for the unit that passed it down.
        Replied = "replied",
        /// 已签批: its reply was approved and went up.
        Approved = "approved",
        /// 已撤回: the unit above answered itself before this child finished.
        Withdrawn = "withdrawn",
        /// 已退回上级: the sub-unit gave it back to the unit above with a reason; that unit
        /// passes it to another sub-unit or handles it itself.
        Returned = "returned",
    }
}

impl SubOrderStatus {
    /// Whether the sub-unit still owes work on it (its reply limit runs).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            SubOrderStatus::Dispatched | SubOrderStatus::Acknowledged
        )
    }

    /// Whether it is finished one way or another (approved, withdrawn or returned).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            SubOrderStatus::Approved | SubOrderStatus::Withdrawn | SubOrderStatus::Returned
        )
    }
}

string_enum! {
    /// Where a child's request for more time (下派工单延期) is.
    SubExtensionStatus {
        /// 待审批 by the unit above.
        Pending = "pending",
        /// 已批准: the child's reply limit moved.
        Approved = "approved",
        /// 已驳回.
        Refused = "refused",
        /// 已撤回: the child was returned or closed before a decision.
        Withdrawn = "withdrawn",
    }
}

string_enum! {
    /// Where a sign-off (签批) is.
    SignoffStatus {
        /// 待签批.
        Pending = "pending",
        /// 已签批: the reply went up.
        Approved = "approved",
        /// 已退回: the reply went back to its unit with a reason.
        SentBack = "sent_back",
        /// 已撤回: the order above was answered another way.
        Withdrawn = "withdrawn",
    }
}

/// A unit a child order may go to.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    /// Its code.
    pub code: &'a str,
    /// Its path in the unit tree.
    pub path: &'a str,
    /// Whether it is active.
    pub active: bool,
}

/// Whether the actor is staff of exactly this unit (a unit above it is not: child orders are
/// worked by their own unit only).
pub fn is_staff_of(actor: &Actor, unit_code: &str) -> bool {
    actor.may(Action::Acknowledge) && actor.unit.as_ref().is_some_and(|u| u.code == unit_code)
}

/// Checks a pass-down (下派) by `actor` of an order held by `holder_code` at `holder_path`
/// (acknowledged when `holder_open`) that must be answered by `parent_reply_by`, to `targets`
/// with the limits `acknowledge_by` and `reply_by`. `busy` are the units that already hold an
/// open child of this order.
#[allow(clippy::too_many_arguments)]
pub fn check_pass_down(
    actor: &Actor,
    holder_code: &str,
    holder_path: &str,
    holder_open: bool,
    parent_reply_by: DateTime<Utc>,
    now: DateTime<Utc>,
    targets: &[Target<'_>],
    busy: &[&str],
    acknowledge_by: DateTime<Utc>,
    reply_by: DateTime<Utc>,
) -> Result<(), TransitionError> {
    if !actor.may(Action::Acknowledge) {
        return Err(TransitionError::Forbidden);
    }
    if !is_staff_of(actor, holder_code) {
        return Err(TransitionError::NotYourUnit);
    }
    if !holder_open {
        return Err(TransitionError::InvalidState(
            "only an acknowledged order that is still being handled can be passed down".into(),
        ));
    }
    if targets.is_empty() {
        return Err(invalid("units", "name at least one unit"));
    }
    let mut seen: Vec<&str> = Vec::new();
    for t in targets {
        if t.code == holder_code || !t.path.starts_with(holder_path) || t.path == holder_path {
            return Err(invalid(
                "units",
                &format!("unit {} is not under the unit holding this order", t.code),
            ));
        }
        if !t.active {
            return Err(invalid("units", &format!("unit {} is closed", t.code)));
        }
        if seen.contains(&t.code) || busy.contains(&t.code) {
            return Err(invalid(
                "units",
                &format!("unit {} is named twice or already holds this order", t.code),
            ));
        }
        seen.push(t.code);
    }
    if reply_by <= now || reply_by > parent_reply_by {
        return Err(invalid(
            "reply_by",
            "must lie after now and not after the reply limit of the order passed down",
        ));
    }
    if acknowledge_by <= now || acknowledge_by > reply_by {
        return Err(invalid(
            "acknowledge_by",
            "must lie after now and not after reply_by",
        ));
    }
    Ok(())
}

/// What a sub-unit does to its child order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubAction {
    /// 签收.
    Acknowledge,
    /// 反馈 to the unit above (its texts checked here).
    Reply {
        /// The answer meant for the requester.
        to_requester: String,
        /// The account meant for the center.
        to_center: String,
    },
}

/// Checks a sub-unit's action on its child order and returns the next status.
pub fn sub_action(
    actor: &Actor,
    unit_code: &str,
    status: SubOrderStatus,
    action: &SubAction,
) -> Result<SubOrderStatus, TransitionError> {
    if !actor.may(Action::Acknowledge) {
        return Err(TransitionError::Forbidden);
    }
    if !is_staff_of(actor, unit_code) {
        return Err(TransitionError::NotYourUnit);
    }
    use SubOrderStatus::*;
    match (action, status) {
        (SubAction::Acknowledge, Dispatched) => Ok(Acknowledged),
        (
            SubAction::Reply {
                to_requester,
                to_center,
            },
            Acknowledged,
        ) => {
            require_text("to_requester", to_requester, 5000)?;
            require_text("to_center", to_center, 5000)?;
            Ok(Replied)
        }
        (SubAction::Reply { .. }, Dispatched) => Err(TransitionError::InvalidState(
            "acknowledge the child order before replying".into(),
        )),
        (_, s) => Err(TransitionError::InvalidState(format!(
            "the child order is already {s}"
        ))),
    }
}

/// Checks a sub-unit's request for a later reply limit on its open child order: `asked`
/// must lie after its current limit and not after `parent_limit` (the limit of the order it
/// was passed down from), with a reason.
pub fn check_sub_extension(
    actor: &Actor,
    unit_code: &str,
    status: SubOrderStatus,
    current: DateTime<Utc>,
    asked: DateTime<Utc>,
    parent_limit: DateTime<Utc>,
    reason: &str,
) -> Result<(), TransitionError> {
    check_sub_staff(actor, unit_code, status)?;
    check_limit(current, asked, parent_limit)?;
    require_text("reason", reason, 500)
}

/// Checks a sub-unit's return (退回上级) of its open child order, with a reason.
pub fn check_sub_return(
    actor: &Actor,
    unit_code: &str,
    status: SubOrderStatus,
    reason: &str,
) -> Result<SubOrderStatus, TransitionError> {
    check_sub_staff(actor, unit_code, status)?;
    require_text("reason", reason, 500)?;
    Ok(SubOrderStatus::Returned)
}

fn check_sub_staff(
    actor: &Actor,
    unit_code: &str,
    status: SubOrderStatus,
) -> Result<(), TransitionError> {
    if !actor.may(Action::Acknowledge) {
        return Err(TransitionError::Forbidden);
    }
    if !is_staff_of(actor, unit_code) {
        return Err(TransitionError::NotYourUnit);
    }
    if !status.is_open() {
        return Err(TransitionError::InvalidState(format!(
            "the child order is already {status}"
        )));
    }
    Ok(())
}

/// A new reply limit must lie after the current one and not after the parent's.
fn check_limit(
    current: DateTime<Utc>,
    new: DateTime<Utc>,
    parent_limit: DateTime<Utc>,
) -> Result<(), TransitionError> {
    if new <= current || new > parent_limit {
        return Err(invalid(
            "reply_by",
            "must lie after the child order's current limit and not after the limit of the order it was passed down from",
        ));
    }
    Ok(())
}

/// Checks the decision on a child's request for more time by the unit above
/// (`deciding_unit`): approved, the new limit (`new`, default the one asked) must lie after
/// the child's current limit and inside the parent's own; refused, a reason is required.
#[allow(clippy::too_many_arguments)]
pub fn check_sub_extension_decision(
    actor: &Actor,
    deciding_unit: &str,
    status: SubExtensionStatus,
    approve: bool,
    current: DateTime<Utc>,
    new: DateTime<Utc>,
    parent_limit: DateTime<Utc>,
    reason: Option<&str>,
) -> Result<SubExtensionStatus, TransitionError> {
    if !actor.may(Action::Acknowledge) {
        return Err(TransitionError::Forbidden);
    }
    if !is_staff_of(actor, deciding_unit) {
        return Err(TransitionError::NotYourUnit);
    }
    if status != SubExtensionStatus::Pending {
        return Err(TransitionError::InvalidState(format!(
            "the request for more time is already {status}"
        )));
    }
    if approve {
        check_limit(current, new, parent_limit)?;
        return Ok(SubExtensionStatus::Approved);
    }
    require_text("reason", reason.unwrap_or(""), 500)?;
    Ok(SubExtensionStatus::Refused)
}

/// Who decides a sign-off: the staff of the unit above for a child's reply, the manager of
/// the unit for a handler's reply on a unit that requires sign-off (`manager_only`).
pub fn check_signoff(
    actor: &Actor,
    deciding_unit: &str,
    manager_only: bool,
    status: SignoffStatus,
    approve: bool,
    reason: Option<&str>,
) -> Result<SignoffStatus, TransitionError> {
    if !actor.may(Action::Acknowledge) {
        return Err(TransitionError::Forbidden);
    }
    if !is_staff_of(actor, deciding_unit) {
        return Err(TransitionError::NotYourUnit);
    }
    if manager_only && actor.role != Role::UnitManager {
        return Err(TransitionError::Forbidden);
    }
    if status != SignoffStatus::Pending {
        return Err(TransitionError::InvalidState(format!(
            "the sign-off is already {status}"
        )));
    }
    if approve {
        return Ok(SignoffStatus::Approved);
    }
    require_text("reason", reason.unwrap_or(""), 1000)?;
    Ok(SignoffStatus::SentBack)
}

/// The outcome of replies put together: theirs when they agree, else partly resolved.
pub fn combine_outcomes(outcomes: &[Outcome]) -> Outcome {
    match outcomes.first() {
        Some(first) if outcomes.iter().all(|o| o == first) => *first,
        Some(_) => Outcome::Partly,
        None => Outcome::Explained,
    }
}

fn invalid(field: &'static str, message: &str) -> TransitionError {
    TransitionError::Invalid {
        field,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::UnitScope;
    use chrono::{Duration, TimeZone};

    fn staff(role: Role, code: &str, path: &str) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            unit: Some(UnitScope {
                code: code.into(),
                path: path.into(),
            }),
        }
    }

    const STREET: &str = "/110105/110105026/";
    const COMMUNITY: &str = "/110105/110105026/110105026034/";

    #[test]
    fn a_street_passes_down_only_to_units_under_it_within_its_own_limit() {
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap();
        let limit = now + Duration::days(7);
        let a = staff(Role::UnitHandler, "110105026", STREET);
        let under = Target {
            code: "110105026034",
            path: COMMUNITY,
            active: true,
        };
        let check = |t: &[Target<'_>], ack, reply| {
            check_pass_down(
                &a,
                "110105026",
                STREET,
                true,
                limit,
                now,
                t,
                &[],
                ack,
                reply,
            )
        };
        let ack = now + Duration::hours(2);
        assert_eq!(check(std::slice::from_ref(&under), ack, limit), Ok(()));
        let field = |r: Result<(), TransitionError>| match r {
            Err(TransitionError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check(
                std::slice::from_ref(&under),
                ack,
                limit + Duration::hours(1)
            )),
            "reply_by"
        );
        assert_eq!(
            field(check(std::slice::from_ref(&under), ack, now)),
            "reply_by"
        );
        assert_eq!(
            field(check(
                std::slice::from_ref(&under),
                limit + Duration::hours(1),
                limit
            )),
            "acknowledge_by"
        );
        let neighbour = Target {
            code: "110105027001",
            path: "/110105/110105027/110105027001/",
            active: true,
        };
        assert_eq!(field(check(&[neighbour], ack, limit)), "units");
        assert_eq!(field(check(&[under.clone(), under], ack, limit)), "units");
        // Another unit's staff, even the district above, may not pass the street's order.
        let district = staff(Role::UnitManager, "110105", "/110105/");
        assert_eq!(
            check_pass_down(
                &district,
                "110105026",
                STREET,
                true,
                limit,
                now,
                &[],
                &[],
                ack,
                limit
            ),
            Err(TransitionError::NotYourUnit)
        );
    }

    #[test]
    fn only_the_child_unit_acts_and_only_the_unit_above_or_its_manager_signs_off() {
        let c = staff(Role::UnitHandler, "110105026034", COMMUNITY);
        let reply = SubAction::Reply {
            to_requester: "已处理".into(),
            to_center: "已核实".into(),
        };
        use SubOrderStatus::*;
        assert!(sub_action(&c, "110105026034", Dispatched, &reply).is_err());
        assert_eq!(
            sub_action(&c, "110105026034", Dispatched, &SubAction::Acknowledge),
            Ok(Acknowledged)
        );
        assert_eq!(
            sub_action(&c, "110105026034", Acknowledged, &reply),
            Ok(Replied)
        );
        let street = staff(Role::UnitHandler, "110105026", STREET);
        assert_eq!(
            sub_action(&street, "110105026034", Acknowledged, &reply),
            Err(TransitionError::NotYourUnit)
        );
        let p = SignoffStatus::Pending;
        assert_eq!(
            check_signoff(&street, "110105026", false, p, true, None),
            Ok(SignoffStatus::Approved)
        );
        assert!(matches!(
            check_signoff(&street, "110105026", false, p, false, Some(" ")),
            Err(TransitionError::Invalid {
                field: "reason",
                ..
            })
        ));
        assert_eq!(
            check_signoff(&street, "110105026", true, p, true, None),
            Err(TransitionError::Forbidden)
        );
        let mgr = staff(Role::UnitManager, "110105026", STREET);
        assert_eq!(
            check_signoff(&mgr, "110105026", true, p, false, Some("证据不足")),
            Ok(SignoffStatus::SentBack)
        );
        assert_eq!(
            check_signoff(&c, "110105026", false, p, true, None),
            Err(TransitionError::NotYourUnit)
        );
    }

    #[test]
    fn a_child_asks_for_time_inside_its_parents_limit_and_returns_with_a_reason() {
        let now = Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap();
        let current = now + Duration::days(2);
        let parent = now + Duration::days(5);
        let c = staff(Role::UnitHandler, "110105026034", COMMUNITY);
        let street = staff(Role::UnitHandler, "110105026", STREET);
        use SubOrderStatus::*;
        let ask = |who: &Actor, st, asked| {
            check_sub_extension(
                who,
                "110105026034",
                st,
                current,
                asked,
                parent,
                "需协调物业",
            )
        };
        assert_eq!(ask(&c, Acknowledged, parent), Ok(()));
        assert!(matches!(
            ask(&c, Acknowledged, parent + Duration::hours(1)),
            Err(TransitionError::Invalid {
                field: "reply_by",
                ..
            })
        ));
        assert!(matches!(
            ask(&c, Acknowledged, current),
            Err(TransitionError::Invalid {
                field: "reply_by",
                ..
            })
        ));
        assert_eq!(
            ask(&street, Acknowledged, parent),
            Err(TransitionError::NotYourUnit)
        );
        assert!(matches!(
            ask(&c, Replied, parent),
            Err(TransitionError::InvalidState(_))
        ));
        let p = SubExtensionStatus::Pending;
        assert_eq!(
            check_sub_extension_decision(
                &street,
                "110105026",
                p,
                true,
                current,
                parent,
                parent,
                None
            ),
            Ok(SubExtensionStatus::Approved)
        );
        assert!(matches!(
            check_sub_extension_decision(
                &street,
                "110105026",
                p,
                true,
                current,
                parent + Duration::hours(1),
                parent,
                None
            ),
            Err(TransitionError::Invalid {
                field: "reply_by",
                ..
            })
        ));
        assert!(matches!(
            check_sub_extension_decision(
                &street,
                "110105026",
                p,
                false,
                current,
                parent,
                parent,
                None
            ),
            Err(TransitionError::Invalid {
                field: "reason",
                ..
            })
        ));
        assert_eq!(
            check_sub_extension_decision(&c, "110105026", p, true, current, parent, parent, None),
            Err(TransitionError::NotYourUnit)
        );
        assert_eq!(
            check_sub_return(&c, "110105026034", Dispatched, "不属本社区"),
            Ok(Returned)
        );
        assert!(matches!(
            check_sub_return(&c, "110105026034", Acknowledged, " "),
            Err(TransitionError::Invalid {
                field: "reason",
                ..
            })
        ));
        assert!(matches!(
            check_sub_return(&c, "110105026034", Returned, "再退"),
            Err(TransitionError::InvalidState(_))
        ));
    }

    #[test]
    fn outcomes_put_together_agree_or_are_partly() {
        use Outcome::*;
        assert_eq!(combine_outcomes(&[Resolved, Resolved]), Resolved);
        assert_eq!(combine_outcomes(&[Resolved, Explained]), Partly);
    }
}
