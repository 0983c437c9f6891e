//! Table-driven tests of every transition, legal and illegal.

use super::*;
use crate::access::{Role, UnitScope};
use chrono::TimeZone;
use AssignmentStatus::*;
use RequestStatus as R;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
}

fn actor(role: Role, unit_path: Option<&str>) -> Actor {
    Actor {
        user_id: "u1".into(),
        username: "u1".into(),
        role,
        unit: unit_path.map(|p| UnitScope {
            code: "x".into(),
            path: p.into(),
        }),
    }
}

fn manager() -> Actor {
    actor(Role::UnitManager, Some("/110105/110105001/"))
}

fn order(status: AssignmentStatus, role: AssignmentRole) -> Assignment {
    Assignment {
        unit_code: "110105001".into(),
        unit_path: "/110105/110105001/".into(),
        role,
        round: 1,
        status,
        acknowledge_by: t0(),
        reply_by: t0(),
    }
}

fn reply() -> UnitAction {
    UnitAction::Reply {
        to_requester: "已修复".into(),
        to_center: "已派人维修".into(),
    }
}

fn ret() -> UnitAction {
    UnitAction::Return {
        reason: "非本单位职责".into(),
    }
}

fn ext(has_pending: bool) -> UnitAction {
    UnitAction::RequestExtension {
        hours: 48,
        reason: "需协调".into(),
        has_pending,
    }
}

#[test]
fn unit_actions_follow_the_order_state_machine() {
    type Want = Result<AssignmentStatus, &'static str>;
    let table: Vec<(AssignmentStatus, UnitAction, Want)> = vec![
        (Dispatched, UnitAction::Acknowledge, Ok(Acknowledged)),
        (Acknowledged, UnitAction::Acknowledge, Err("state")),
        (Replied, UnitAction::Acknowledge, Err("state")),
        (Returned, UnitAction::Acknowledge, Err("state")),
        (Dispatched, reply(), Err("state")),
        (Acknowledged, reply(), Ok(Replied)),
        (Replied, reply(), Err("state")),
        (Returned, reply(), Err("state")),
        (Dispatched, ret(), Ok(Dispatched)),
        (Acknowledged, ret(), Ok(Acknowledged)),
        (Replied, ret(), Err("state")),
        (Returned, ret(), Err("state")),
        (Dispatched, ext(false), Err("state")),
        (Acknowledged, ext(false), Ok(Acknowledged)),
        (Acknowledged, ext(true), Err("state")),
        (Replied, ext(false), Err("state")),
        (Returned, ext(false), Err("state")),
    ];
    for (from, action, want) in table {
        let got = unit_action(
            R::InProgress,
            1,
            &order(from, AssignmentRole::Lead),
            &action,
            &manager(),
        );
        let got = got.map_err(|e| match e {
            TransitionError::InvalidState(_) => "state",
            TransitionError::Invalid { .. } => "invalid",
            TransitionError::Forbidden => "forbidden",
            TransitionError::NotYourUnit => "unit",
        });
        assert_eq!(got, want, "{from} {action:?}");
    }
}

#[test]
fn unit_actions_check_role_unit_round_and_request() {
    let o = order(Dispatched, AssignmentRole::Lead);
    let handler = actor(Role::UnitHandler, Some("/110105/110105001/"));
    assert_eq!(
        unit_action(R::Dispatched, 1, &o, &UnitAction::Acknowledge, &handler),
        Ok(Acknowledged)
    );
    assert_eq!(
        unit_action(R::Dispatched, 1, &o, &ret(), &handler),
        Err(TransitionError::Forbidden)
    );
    let neighbour = actor(Role::UnitManager, Some("/110105/110105002/"));
    assert_eq!(
        unit_action(R::Dispatched, 1, &o, &UnitAction::Acknowledge, &neighbour),
        Err(TransitionError::NotYourUnit)
    );
    let district = actor(Role::UnitManager, Some("/110105/"));
    assert_eq!(
        unit_action(R::Dispatched, 1, &o, &UnitAction::Acknowledge, &district),
        Ok(Acknowledged)
    );
    let center = actor(Role::Admin, None);
    assert_eq!(
        unit_action(R::Dispatched, 1, &o, &UnitAction::Acknowledge, &center),
        Err(TransitionError::Forbidden)
    );
    assert!(matches!(
        unit_action(R::Dispatched, 2, &o, &UnitAction::Acknowledge, &handler),
        Err(TransitionError::InvalidState(_))
    ));
    assert!(matches!(
        unit_action(R::Closed, 1, &o, &UnitAction::Acknowledge, &handler),
        Err(TransitionError::InvalidState(_))
    ));
}

#[test]
fn unit_action_texts_and_hours_are_validated() {
    let o = order(Acknowledged, AssignmentRole::Lead);
    let blank = UnitAction::Reply {
        to_requester: " ".into(),
        to_center: "x".into(),
    };
    assert!(matches!(
        unit_action(R::InProgress, 1, &o, &blank, &manager()),
        Err(TransitionError::Invalid {
            field: "to_requester",
            ..
        })
    ));
    let no_center = UnitAction::Reply {
        to_requester: "x".into(),
        to_center: "".into(),
    };
    assert!(matches!(
        unit_action(R::InProgress, 1, &o, &no_center, &manager()),
        Err(TransitionError::Invalid {
            field: "to_center",
            ..
        })
    ));
    let no_reason = UnitAction::Return { reason: "".into() };
    assert!(matches!(
        unit_action(R::InProgress, 1, &o, &no_reason, &manager()),
        Err(TransitionError::Invalid {
            field: "reason",
            ..
        })
    ));
    for hours in [0, -1, 721] {
        let a = UnitAction::RequestExtension {
            hours,
            reason: "x".into(),
            has_pending: false,
        };
        assert!(
            matches!(
                unit_action(R::InProgress, 1, &o, &a, &manager()),
                Err(TransitionError::Invalid { field: "hours", .. })
            ),
            "{hours}"
        );
    }
}

#[test]
fn request_status_derives_from_the_current_round() {
    use AssignmentRole::{Co, Lead};
    let table: Vec<(Vec<(AssignmentStatus, AssignmentRole)>, RequestStatus)> = vec![
        (vec![], R::Received),
        (vec![(Dispatched, Lead)], R::Dispatched),
        (vec![(Dispatched, Lead), (Dispatched, Co)], R::Dispatched),
        (vec![(Acknowledged, Lead), (Dispatched, Co)], R::InProgress),
        (vec![(Dispatched, Lead), (Acknowledged, Co)], R::InProgress),
        (vec![(Replied, Lead), (Acknowledged, Co)], R::InProgress),
        (vec![(Replied, Lead), (Replied, Co)], R::Replied),
        (vec![(Replied, Lead), (Returned, Co)], R::Replied),
        (vec![(Returned, Lead), (Acknowledged, Co)], R::Received),
        (vec![(Returned, Lead)], R::Received),
        (vec![(Returned, Lead), (Dispatched, Lead)], R::Dispatched),
    ];
    for (orders, want) in table {
        let orders: Vec<_> = orders.into_iter().map(|(s, r)| order(s, r)).collect();
        let refs: Vec<_> = orders.iter().collect();
        assert_eq!(derive_status(&refs), want, "{orders:?}");
    }
}

#[test]
fn dispatch_needs_exactly_one_lead_and_distinct_units() {
    use AssignmentRole::{Co, Lead};
    let d = actor(Role::Dispatcher, None);
    let lead = |c: &str| (c.to_string(), Lead);
    let co = |c: &str| (c.to_string(), Co);
    assert_eq!(
        check_dispatch(R::Received, &[], &[lead("a"), co("b"), co("c")], &d),
        Ok(())
    );
    assert!(check_dispatch(R::Received, &[], &[], &d).is_err());
    assert!(check_dispatch(R::Received, &[], &[co("a")], &d).is_err());
    assert!(check_dispatch(R::Received, &[], &[lead("a"), lead("b")], &d).is_err());
    assert!(check_dispatch(R::Received, &[], &[lead("a"), co("a")], &d).is_err());
    // A returned lead can be replaced; the co-handlers stay.
    let returned = Assignment {
        unit_code: "a".into(),
        ..order(Returned, Lead)
    };
    let co_b = Assignment {
        unit_code: "b".into(),
        ..order(Acknowledged, Co)
    };
    assert_eq!(
        check_dispatch(R::Received, &[&returned, &co_b], &[lead("c")], &d),
        Ok(())
    );
    assert_eq!(
        check_dispatch(R::Received, &[&returned, &co_b], &[lead("a")], &d),
        Ok(())
    );
    assert!(check_dispatch(R::Received, &[&returned, &co_b], &[lead("b")], &d).is_err());
    // With an active lead, only co-handlers can be added.
    let lead_a = Assignment {
        unit_code: "a".into(),
        ..order(Acknowledged, Lead)
    };
    assert_eq!(
        check_dispatch(R::InProgress, &[&lead_a], &[co("d")], &d),
        Ok(())
    );
    assert!(check_dispatch(R::InProgress, &[&lead_a], &[lead("d")], &d).is_err());
    for s in [R::Replied, R::Closed, R::Answered, R::Merged] {
        assert!(
            matches!(
                check_dispatch(s, &[], &[lead("a")], &d),
                Err(TransitionError::InvalidState(_))
            ),
            "{s}"
        );
    }
    assert_eq!(
        check_dispatch(R::Received, &[], &[lead("a")], &actor(Role::Operator, None)),
        Err(TransitionError::Forbidden)
    );
}

#[test]
fn only_received_consultations_are_answered_at_intake() {
    let op = actor(Role::Operator, None);
    assert_eq!(
        check_answer(R::Received, RequestKind::Consultation, "办理地点在…", &op),
        Ok(())
    );
    assert!(matches!(
        check_answer(R::Received, RequestKind::Complaint, "x", &op),
        Err(TransitionError::InvalidState(_))
    ));
    assert!(matches!(
        check_answer(R::Dispatched, RequestKind::Consultation, "x", &op),
        Err(TransitionError::InvalidState(_))
    ));
    assert!(matches!(
        check_answer(R::Received, RequestKind::Consultation, "", &op),
        Err(TransitionError::Invalid {
            field: "answer",
            ..
        })
    ));
    assert_eq!(
        check_answer(
            R::Received,
            RequestKind::Consultation,
            "x",
            &actor(Role::Dispatcher, None)
        ),
        Err(TransitionError::Forbidden)
    );
}

#[test]
fn merge_rules() {
    let op = actor(Role::Operator, None);
    assert_eq!(
        check_merge("a", R::Received, "b", R::InProgress, &op),
        Ok(())
    );
    assert_eq!(check_merge("a", R::Received, "b", R::Closed, &op), Ok(()));
    assert!(check_merge("a", R::Received, "a", R::Received, &op).is_err());
    assert!(check_merge("a", R::Dispatched, "b", R::Received, &op).is_err());
    assert!(matches!(
        check_merge("a", R::Received, "b", R::Merged, &op),
        Err(TransitionError::InvalidState(_))
    ));
    assert!(check_merge("a", R::Received, "b", R::Answered, &op).is_err());
    assert_eq!(
        check_merge(
            "a",
            R::Received,
            "b",
            R::Received,
            &actor(Role::CallbackAgent, None)
        ),
        Err(TransitionError::Forbidden)
    );
}

#[test]
fn extension_decisions() {
    let sup = actor(Role::Supervisor, None);
    let approved = decide_extension(ExtensionStatus::Pending, true, 48, t0(), &sup).unwrap();
    assert_eq!(
        approved,
        (ExtensionStatus::Approved, t0() + Duration::hours(48))
    );
    assert_eq!(
        decide_extension(ExtensionStatus::Pending, false, 48, t0(), &sup).unwrap(),
        (ExtensionStatus::Refused, t0())
    );
    assert!(decide_extension(ExtensionStatus::Approved, true, 48, t0(), &sup).is_err());
    assert!(decide_extension(ExtensionStatus::Refused, false, 48, t0(), &sup).is_err());
    assert_eq!(
        decide_extension(ExtensionStatus::Pending, true, 48, t0(), &manager()),
        Err(TransitionError::Forbidden)
    );
}

#[test]
fn callbacks_close_retry_or_rework() {
    use CallbackOutcome::*;
    let agent = actor(Role::CallbackAgent, None);
    let cb = |reached, resolved, sat| CallbackInput {
        reached,
        resolved,
        satisfaction: sat,
        note: None,
    };
    type Row = (
        RequestStatus,
        Option<RequestStatus>,
        CallbackInput,
        i64,
        Result<CallbackOutcome, &'static str>,
    );
    let table: Vec<Row> = vec![
        (
            R::Replied,
            None,
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Ok(Close),
        ),
        (
            R::Replied,
            None,
            cb(true, Some(true), Some(Satisfaction::Basic)),
            0,
            Ok(Close),
        ),
        (
            R::Replied,
            None,
            cb(true, Some(true), Some(Satisfaction::Unsatisfied)),
            0,
            Ok(Rework),
        ),
        (
            R::Replied,
            None,
            cb(true, Some(false), Some(Satisfaction::Satisfied)),
            0,
            Ok(Rework),
        ),
        (R::Replied, None, cb(false, None, None), 0, Ok(Retry)),
        (R::Replied, None, cb(false, None, None), 1, Ok(Retry)),
        (
            R::Replied,
            None,
            cb(false, None, None),
            2,
            Ok(CloseUnreachable),
        ),
        (
            R::Replied,
            None,
            cb(true, None, Some(Satisfaction::Satisfied)),
            0,
            Err("resolved"),
        ),
        (
            R::Replied,
            None,
            cb(true, Some(true), None),
            0,
            Err("satisfaction"),
        ),
        (
            R::Merged,
            Some(R::Replied),
            cb(true, Some(false), Some(Satisfaction::Unsatisfied)),
            0,
            Ok(Recorded),
        ),
        (
            R::Merged,
            Some(R::Closed),
            cb(false, None, None),
            2,
            Ok(Recorded),
        ),
        (
            R::Merged,
            Some(R::InProgress),
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Err("state"),
        ),
        (
            R::InProgress,
            None,
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Err("state"),
        ),
        (
            R::Dispatched,
            None,
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Err("state"),
        ),
        (
            R::Closed,
            None,
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Err("state"),
        ),
        (
            R::Received,
            None,
            cb(true, Some(true), Some(Satisfaction::Satisfied)),
            0,
            Err("state"),
        ),
    ];
    for (status, primary, input, attempts, want) in table {
        let got =
            check_callback(status, primary, &input, attempts, 3, &agent).map_err(|e| match e {
                TransitionError::Invalid { field, .. } => field,
                TransitionError::InvalidState(_) => "state",
                _ => "other",
            });
        assert_eq!(got, want, "{status} {input:?} {attempts}");
    }
    let ok = cb(true, Some(true), Some(Satisfaction::Satisfied));
    assert_eq!(
        check_callback(R::Replied, None, &ok, 0, 3, &actor(Role::Operator, None)),
        Err(TransitionError::Forbidden)
    );
}

#[test]
fn a_return_is_reviewed_by_the_center_once_and_a_rejection_needs_a_reason() {
    use ReturnReviewStatus as S;
    let dispatcher = actor(Role::Dispatcher, None);
    let supervisor = actor(Role::Supervisor, None);
    let unit = manager();
    let long = "理".repeat(501);
    type Want = Result<S, &'static str>;
    let table: Vec<(S, bool, Option<&str>, &Actor, Want)> = vec![
        (S::Pending, true, None, &dispatcher, Ok(S::Accepted)),
        (S::Pending, true, Some("同意"), &supervisor, Ok(S::Accepted)),
        (
            S::Pending,
            false,
            Some("属本单位职责"),
            &dispatcher,
            Ok(S::Rejected),
        ),
        (S::Pending, false, None, &dispatcher, Err("invalid")),
        (S::Pending, false, Some("  "), &dispatcher, Err("invalid")),
        (S::Pending, false, Some(&long), &dispatcher, Err("invalid")),
        (S::Pending, true, None, &unit, Err("forbidden")),
        (S::Accepted, true, None, &dispatcher, Err("state")),
        (
            S::Rejected,
            false,
            Some("再次驳回"),
            &dispatcher,
            Err("state"),
        ),
    ];
    for (from, accept, reason, who, want) in table {
        let got = review_return(from, accept, reason, who).map_err(|e| match e {
            TransitionError::InvalidState(_) => "state",
            TransitionError::Invalid { .. } => "invalid",
            TransitionError::Forbidden => "forbidden",
            TransitionError::NotYourUnit => "unit",
        });
        assert_eq!(got, want, "{from} {accept} {reason:?}");
    }
}
