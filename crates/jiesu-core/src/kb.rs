//! The knowledge base's workflow (知识库): an entry's statuses, who may move it from one to
//! the next, and who may edit it. Units keep the entries of their own domain (the entry's
//! owner unit, or a unit under theirs); the center reviews and publishes. Storage and search
//! are the application's.

use crate::access::{Action, Actor};
use crate::request::string_enum;

string_enum! {
    /// Where an entry is in its workflow.
    KbStatus {
        /// 草稿: written or edited, not yet checked.
        Draft = "draft",
        /// 已审核: checked by the center, waiting to be published.
        Reviewed = "reviewed",
        /// 已发布: offered at intake while in its validity.
        Published = "published",
        /// 已失效: withdrawn, or past its validity.
        Expired = "expired",
    }
}

string_enum! {
    /// A step of the workflow.
    KbStep {
        /// Draft → reviewed.
        Review = "review",
        /// Reviewed → published.
        Publish = "publish",
        /// Published (or reviewed) → expired.
        Expire = "expire",
    }
}

/// Why a step or an edit is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    /// The actor may not do this at all, or not to this unit's entry.
    #[error("not allowed")]
    Forbidden,
    /// The entry's status does not allow the step.
    #[error("the entry is {0}")]
    WrongStatus(KbStatus),
}

/// Whether `actor` is center staff who keep the knowledge base (review, publish, edit any).
pub fn is_keeper(actor: &Actor) -> bool {
    actor.may(Action::Supervise) || actor.may(Action::Administer)
}

/// Whether `actor` may edit (or create) an entry owned by the unit at `owner_path` (None:
/// a center entry). Unit staff edit the entries of their unit and the units under it.
pub fn may_edit(actor: &Actor, owner_path: Option<&str>) -> bool {
    is_keeper(actor)
        || (actor.may(Action::Acknowledge) && owner_path.is_some_and(|p| actor.covers_unit(p)))
}

/// The status after `step` on an entry now `status`, for `actor`.
pub fn step(actor: &Actor, status: KbStatus, step: KbStep) -> Result<KbStatus, KbError> {
    if !is_keeper(actor) {
        return Err(KbError::Forbidden);
    }
    step_status(status, step)
}

/// The status after `step`, whoever asks (the console and the expiry sweep).
pub fn step_status(status: KbStatus, step: KbStep) -> Result<KbStatus, KbError> {
    use KbStatus::*;
    match (step, status) {
        (KbStep::Review, Draft) => Ok(Reviewed),
        (KbStep::Publish, Reviewed) => Ok(Published),
        (KbStep::Expire, Reviewed | Published) => Ok(Expired),
        (_, s) => Err(KbError::WrongStatus(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{Role, UnitScope};

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
    fn units_edit_their_own_domain_and_the_center_reviews() {
        let street = actor(Role::UnitHandler, Some("/110105/110105001/"));
        let sup = actor(Role::Supervisor, None);
        let op = actor(Role::Operator, None);
        assert!(may_edit(&street, Some("/110105/110105001/")));
        assert!(may_edit(&street, Some("/110105/110105001/c1/")));
        assert!(!may_edit(&street, Some("/110105/110105002/")));
        assert!(!may_edit(&street, None));
        assert!(!may_edit(&op, None));
        assert!(may_edit(&sup, None));
        assert_eq!(
            step(&street, KbStatus::Draft, KbStep::Review),
            Err(KbError::Forbidden)
        );
        assert_eq!(
            step(&sup, KbStatus::Draft, KbStep::Review),
            Ok(KbStatus::Reviewed)
        );
    }

    #[test]
    fn steps_follow_draft_reviewed_published_expired() {
        use KbStatus::*;
        let table = [
            (Draft, KbStep::Review, Ok(Reviewed)),
            (Draft, KbStep::Publish, Err(KbError::WrongStatus(Draft))),
            (Reviewed, KbStep::Publish, Ok(Published)),
            (
                Reviewed,
                KbStep::Review,
                Err(KbError::WrongStatus(Reviewed)),
            ),
            (Published, KbStep::Expire, Ok(Expired)),
            (
                Published,
                KbStep::Publish,
                Err(KbError::WrongStatus(Published)),
            ),
            (Expired, KbStep::Expire, Err(KbError::WrongStatus(Expired))),
            (Expired, KbStep::Publish, Err(KbError::WrongStatus(Expired))),
        ];
        for (from, s, to) in table {
            assert_eq!(step_status(from, s), to, "{from} {s}");
        }
    }
}
