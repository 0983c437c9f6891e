//! Who may do what. Every permission is decided here against an explicit `Actor`; handlers
//! only ask. Center roles see every request; unit staff see only orders of their own unit and
//! of the units under it (a district sees its streets and communities).

use crate::request::string_enum;
use serde::{Deserialize, Serialize};

string_enum! {
    /// A user's role.
    Role {
        /// 系统管理员: users, configuration, and every center action.
        Admin = "admin",
        /// 话务员: takes calls, records requests, answers consultations, merges duplicates.
        Operator = "operator",
        /// 派单员: dispatches, re-dispatches returned orders, decides extensions.
        Dispatcher = "dispatcher",
        /// 回访员: calls requesters back; the one center role that sees their number.
        CallbackAgent = "callback_agent",
        /// 督办/分析: reads everything, chases overdue orders, decides extensions.
        Supervisor = "supervisor",
        /// 承办人: acknowledges and replies to its unit's orders.
        UnitHandler = "unit_handler",
        /// 单位负责人: a handler who may also return orders and ask for extensions.
        UnitManager = "unit_manager",
    }
}

impl Role {
    /// Whether the role belongs to a handling unit (and so needs a unit).
    pub fn is_unit_role(self) -> bool {
        matches!(self, Role::UnitHandler | Role::UnitManager)
    }
}

/// Something a user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Record a new request.
    CreateRequest,
    /// Answer a consultation at intake (直接答复).
    Answer,
    /// Merge a duplicate into a primary request (并单).
    Merge,
    /// Dispatch or re-dispatch (派单).
    Dispatch,
    /// Approve or refuse an extension (延期审批).
    DecideExtension,
    /// Record a callback (回访).
    Callback,
    /// Read supervision lists (督办).
    Supervise,
    /// Manage users and configuration.
    Administer,
    /// Acknowledge an order of one's unit (签收).
    Acknowledge,
    /// Reply to an order of one's unit (办结反馈).
    Reply,
    /// Return an order of one's unit (退单).
    Return,
    /// Ask for more time on an order of one's unit (申请延期).
    RequestExtension,
    /// Open a proactive task (主动治理任务) or a monthly topic (每月一题) and dispatch it.
    OpenTask,
    /// Accept or reject a unit's return (退单审核).
    ReviewReturn,
    /// Grant or refuse a unit's assessment appeal (考核申诉): supervisors and the
    /// administrator, not the dispatchers whose dispatch the appeal may contest.
    DecideAppeal,
    /// Read a caller's earlier requests at the intake desk (来电历史).
    CallerHistory,
    /// Record a follow-up call on an open request as a reminder (催办).
    Remind,
    /// Mark a number as abusive (恶意来电) or lift the mark.
    MarkCaller,
}

/// The unit a user belongs to, with its place in the unit tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitScope {
    /// The unit's code.
    pub code: String,
    /// `/`-separated codes from the root to this unit, with leading and trailing `/`
    /// (`/110105/110105001/`).
    pub path: String,
}

/// The user performing an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user's id.
    pub user_id: String,
    /// The user's login name.
    pub username: String,
    /// The role.
    pub role: Role,
    /// The unit, for unit roles.
    pub unit: Option<UnitScope>,
}

impl Actor {
    /// Whether the actor may perform `action` at all (unit actions additionally need
    /// [`Actor::covers_unit`] on the order's unit).
    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match action {
            CreateRequest | Answer => matches!(self.role, Admin | Operator),
            Merge => matches!(self.role, Admin | Operator | Dispatcher),
            Dispatch => matches!(self.role, Admin | Dispatcher),
            DecideExtension | ReviewReturn => matches!(self.role, Admin | Dispatcher | Supervisor),
            Callback => matches!(self.role, Admin | CallbackAgent),
            Supervise => matches!(self.role, Admin | Dispatcher | Supervisor),
            OpenTask | DecideAppeal | MarkCaller => matches!(self.role, Admin | Supervisor),
            CallerHistory => matches!(self.role, Admin | Operator | Dispatcher | Supervisor),
            Remind => matches!(self.role, Admin | Operator | Dispatcher),
            Administer => self.role == Admin,
            Acknowledge | Reply => self.role.is_unit_role() && self.unit.is_some(),
            Return | RequestExtension => self.role == UnitManager && self.unit.is_some(),
        }
    }

    /// Whether the actor's unit is `unit_path` or one of its ancestors.
    pub fn covers_unit(&self, unit_path: &str) -> bool {
        match &self.unit {
            Some(scope) if self.role.is_unit_role() => unit_path.starts_with(&scope.path),
            _ => false,
        }
    }

    /// Whether the actor sees every request (center roles) rather than only its unit's.
    pub fn sees_all(&self) -> bool {
        !self.role.is_unit_role()
    }

    /// Whether the actor may see a request whose orders went to units with these paths.
    pub fn may_view<'a>(&self, mut unit_paths: impl Iterator<Item = &'a str>) -> bool {
        self.sees_all() || unit_paths.any(|p| self.covers_unit(p))
    }

    /// Whether the actor sees the requester's full phone number: only those who must call
    /// back (回访员). Everyone else sees it masked.
    pub fn sees_full_phone(&self) -> bool {
        self.role == Role::CallbackAgent
    }

    /// Whether the actor sees who the requester is at all: a confidential request (保密)
    /// hides the requester from every unit.
    pub fn sees_requester(&self, confidential: bool) -> bool {
        !(confidential && self.role.is_unit_role())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, unit: Option<&str>) -> Actor {
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            role,
            unit: unit.map(|p| UnitScope {
                code: p.trim_matches('/').rsplit('/').next().unwrap().into(),
                path: p.into(),
            }),
        }
    }

    #[test]
    fn each_role_may_do_exactly_its_actions() {
        use Action::*;
        let all = [
            CreateRequest,
            Answer,
            Merge,
            Dispatch,
            DecideExtension,
            Callback,
            Supervise,
            Administer,
            Acknowledge,
            Reply,
            Return,
            RequestExtension,
            OpenTask,
            DecideAppeal,
            CallerHistory,
            Remind,
            MarkCaller,
        ];
        let table: [(Role, &[Action]); 7] = [
            (
                Role::Admin,
                &[
                    CreateRequest,
                    Answer,
                    Merge,
                    Dispatch,
                    DecideExtension,
                    Callback,
                    Supervise,
                    Administer,
                    OpenTask,
                    DecideAppeal,
                    CallerHistory,
                    Remind,
                    MarkCaller,
                ],
            ),
            (
                Role::Operator,
                &[CreateRequest, Answer, Merge, CallerHistory, Remind],
            ),
            (
                Role::Dispatcher,
                &[
                    Merge,
                    Dispatch,
                    DecideExtension,
                    Supervise,
                    CallerHistory,
                    Remind,
                ],
            ),
            (Role::CallbackAgent, &[Callback]),
            (
                Role::Supervisor,
                &[
                    DecideExtension,
                    Supervise,
                    OpenTask,
                    DecideAppeal,
                    CallerHistory,
                    MarkCaller,
                ],
            ),
            (Role::UnitHandler, &[Acknowledge, Reply]),
            (
                Role::UnitManager,
                &[Acknowledge, Reply, Return, RequestExtension],
            ),
        ];
        for (role, allowed) in table {
            let a = actor(role, role.is_unit_role().then_some("/110105/110105001/"));
            for action in all {
                assert_eq!(
                    a.may(action),
                    allowed.contains(&action),
                    "{role} {action:?}"
                );
            }
        }
    }

    #[test]
    fn a_unit_role_without_a_unit_may_do_nothing() {
        let a = actor(Role::UnitManager, None);
        assert!(!a.may(Action::Acknowledge));
        assert!(!a.covers_unit("/110105/"));
    }

    #[test]
    fn a_district_sees_its_streets_but_a_street_not_its_neighbour() {
        let district = actor(Role::UnitHandler, Some("/110105/"));
        let street = actor(Role::UnitHandler, Some("/110105/110105001/"));
        assert!(district.covers_unit("/110105/110105001/"));
        assert!(street.covers_unit("/110105/110105001/110105001001/"));
        assert!(!street.covers_unit("/110105/110105002/"));
        assert!(!street.covers_unit("/110105/"));
        // Prefix of the code alone is not enough: 11010 is not an ancestor of 110105.
        let odd = actor(Role::UnitHandler, Some("/11010/"));
        assert!(!odd.covers_unit("/110105/"));
        assert!(!street.may_view(["/110106/110106001/"].into_iter()));
        assert!(actor(Role::Supervisor, None).may_view(std::iter::empty()));
    }

    #[test]
    fn only_callback_agents_see_the_full_number_and_units_never_see_confidential_requesters() {
        for role in Role::ALL {
            let a = actor(*role, role.is_unit_role().then_some("/110105/"));
            assert_eq!(a.sees_full_phone(), *role == Role::CallbackAgent);
            assert_eq!(a.sees_requester(true), !role.is_unit_role());
            assert!(a.sees_requester(false));
        }
    }
}
