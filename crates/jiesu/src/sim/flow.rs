//! The simulator's three levels and the center's checks: 下派 with returns, extensions and
//! late children; 吹哨报到 (streets summon departments, which report, some late, and reply);
//! 小事不出社区 (communities record what they solve on the spot, called back like any request);
//! 办结审核 on the categories the center checks. Each draws on its own generator, so that a
//! seed's city stays the same city around them.

use super::{reply_texts, sim_user, Ev, Sim};
use crate::error::AppError;
use crate::services::handling::{self, DispatchTarget, UnitActionInput, UnitVerb};
use crate::services::reply_reviews::{self, Decision, DecisionInput};
use crate::services::subwork::{
    self, PassDownInput, PassFrom, SignoffDecision, SignoffInput, SubReplyInput,
};
use crate::services::subwork_time::{
    self, SubExtensionDecision, SubExtensionDecisionInput, SubExtensionInput, SubReturnInput,
};
use crate::services::{community, whistles};
use crate::store::{reference, sub_orders};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::workflow::{AssignmentRole, Outcome};
use jiesu_core::{RequestKind, Role};

/// The categories whose replies the center checks before the callback (办结审核): safety
/// matters where a wrong "resolved" hurts (food safety, elevator faults).
pub(super) const CHECKED_CATEGORIES: [&str; 2] = ["wsjs.spyp.sp", "scjg.tzsb.dt"];

/// Whistles per request taken in: a street summons departments for a few per cent of its
/// problems (joint enforcement, 联合执法).
const WHISTLE_SHARE: f64 = 0.02;

/// Requests solved on the spot per request taken in by the hotline.
const COMMUNITY_SHARE: f64 = 0.04;

/// The problems a street blows the whistle on: title, what the departments are to do, the
/// departments (the lead first).
const JOINT: [(&str, &str, &[&str]); 5] = [
    (
        "背街小巷占道经营联合整治",
        "辖区背街小巷占道经营、店外经营反复出现，请各部门到场联合执法并建立长效机制。",
        &["dept.cgzf", "dept.scjgj", "dept.ga"],
    ),
    (
        "违法建设联合拆除",
        "小区楼顶及绿地违法建设经多次劝阻未拆除，请规划、住建、城管联合认定并依法拆除。",
        &["dept.cgzf", "dept.ghzrzyw", "dept.zjw"],
    ),
    (
        "工地夜间施工扰民联合执法",
        "工地夜间违规施工噪音扰民，请住建、城管、生态环境部门联合检查夜间施工许可。",
        &["dept.zjw", "dept.cgzf", "dept.sthjj"],
    ),
    (
        "老旧小区电梯安全隐患排查",
        "老旧小区电梯频繁停运，请市场监管、住建部门联合排查并督促维保单位整改。",
        &["dept.scjgj", "dept.zjw"],
    ),
    (
        "河道垃圾与污水直排整治",
        "沿河垃圾堆放、疑似污水直排，请水务、生态环境、城管委联合排查治理。",
        &["dept.swj", "dept.sthjj", "dept.cgw"],
    ),
];

/// Small matters a community solves on the spot: what the requester said, the answer, the
/// account for the center.
const SMALL: [(&str, &str, &str); 5] = [
    (
        "楼道里的声控灯坏了好几天，晚上上下楼很不方便。",
        "社区已联系物业当场更换楼道灯，已恢复照明。",
        "楼道声控灯损坏，社区协调物业当场更换。",
    ),
    (
        "小区门口垃圾桶满了没人清，味道很大。",
        "社区已安排保洁当天清运并增加清运频次。",
        "垃圾桶满溢，社区协调保洁当日清运，增加频次。",
    ),
    (
        "楼上邻居晚上经常拖动家具，噪音影响休息。",
        "社区网格员已上门沟通，邻居表示会注意。",
        "邻里噪音纠纷，网格员上门调解，双方达成一致。",
    ),
    (
        "小区健身器材的扶手松动了，怕老人摔倒。",
        "社区已联系维修人员加固，并张贴安全提示。",
        "健身器材松动，社区当场报修加固。",
    ),
    (
        "单元门禁坏了，陌生人随便进出。",
        "社区已联系物业修复门禁，恢复正常使用。",
        "单元门禁故障，社区协调物业修复。",
    ),
];

/// A fraction of a span, for times drawn inside it.
fn part_of(span: Duration, f: f64) -> Duration {
    Duration::milliseconds((span.num_milliseconds() as f64 * f) as i64)
}

impl Sim<'_> {
    /// Turns the center's checks on for [`CHECKED_CATEGORIES`] (as an administrator would).
    pub(super) async fn flag_reply_reviews(&mut self) -> Result<(), AppError> {
        let admin = sim_user(self.state, "sim.admin", Role::Admin, None).await?;
        for code in CHECKED_CATEGORIES {
            match reply_reviews::set_category(self.state, &admin, code, true).await {
                Ok(()) | Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The day's whistles and requests solved on the spot, at working hours of day `t`.
    pub(super) fn schedule_day_extras(&mut self, t: DateTime<Utc>) {
        let per_day = f64::from(self.opts.per_day);
        let count = |rng: &mut jiesu_text::seeded::Rng, expected: f64| {
            expected.floor() as usize + usize::from(rng.chance(expected.fract()))
        };
        let whistles = count(&mut self.whistle_rng, per_day * WHISTLE_SHARE);
        for _ in 0..whistles {
            let at = t + Duration::minutes(9 * 60 + self.whistle_rng.below(8 * 60) as i64);
            self.at(at, Ev::Whistle);
        }
        let small = count(&mut self.community_rng, per_day * COMMUNITY_SHARE);
        for _ in 0..small {
            let at = t + Duration::minutes(8 * 60 + self.community_rng.below(10 * 60) as i64);
            self.at(at, Ev::Community);
        }
    }

    /// A street summons two or three departments (吹哨); each reports (报到) inside the limit
    /// most of the time, about one in six late.
    pub(super) async fn whistle(&mut self) -> Result<(), AppError> {
        let place = self.places[self.whistle_rng.weighted(&self.place_weights)].clone();
        let (title, description, units) = JOINT[self.whistle_rng.below(JOINT.len())];
        let hours = [4, 8, 24][self.whistle_rng.below(3)];
        let actor = self.unit_actor(&place.street).await?;
        let input = whistles::WhistleInput {
            title: format!("{}{title}", place.street_name),
            description: description.to_string(),
            units: units
                .iter()
                .enumerate()
                .map(|(i, u)| DispatchTarget {
                    unit_code: u.to_string(),
                    role: if i == 0 {
                        AssignmentRole::Lead
                    } else {
                        AssignmentRole::Co
                    },
                })
                .collect(),
            report_within_hours: Some(hours),
            time_limit_class: None,
            category_code: None,
            address: Some(format!(
                "{}{}{}",
                place.district_name, place.street_name, place.spoken
            )),
        };
        let w = whistles::open(self.state, &actor, input).await?;
        self.summary.whistles += 1;
        self.summary.summoned += w.units.len() as u64;
        self.summary.orders += w.units.len() as u64;
        let window = Duration::hours(hours);
        for u in &w.units {
            let at = if self.whistle_rng.chance(1.0 / 6.0) {
                u.report_by + part_of(window, self.whistle_rng.between(0.1, 1.0))
            } else {
                self.clock_now() + part_of(window, self.whistle_rng.between(0.05, 0.9))
            };
            self.at(
                at,
                Ev::WhistleReport {
                    order: u.assignment_id.clone(),
                    unit: u.unit_code.clone(),
                },
            );
        }
        Ok(())
    }

    /// A summoned department reports, naming its person in charge, then replies 1–3 days on.
    pub(super) async fn whistle_report(&mut self, order: &str, unit: &str) -> Result<(), AppError> {
        let actor = self.unit_actor(unit).await?;
        let persons = ["王科长", "李队长", "张主任", "刘副局长", "陈科员"];
        let input = whistles::ReportInput {
            person: persons[self.whistle_rng.below(persons.len())].to_string(),
            contact: Some(format!("010-{:08}", self.whistle_rng.below(100_000_000))),
        };
        let w = whistles::report(self.state, &actor, order, input).await?;
        if w.units
            .iter()
            .any(|u| u.assignment_id == order && u.report == whistles::ReportState::Late)
        {
            self.summary.reports_late += 1;
        }
        let at = self.clock_now() + Duration::hours(20 + self.whistle_rng.below(48) as i64);
        self.at(
            at,
            Ev::WhistleReply {
                order: order.to_string(),
                unit: unit.to_string(),
            },
        );
        Ok(())
    }

    /// A summoned department replies to the whistle task (a task has no requester to call).
    pub(super) async fn whistle_reply(&mut self, order: &str, unit: &str) -> Result<(), AppError> {
        let actor = self.unit_actor(unit).await?;
        let input = UnitActionInput {
            to_requester: Some("已按街道吹哨要求到场处置，联合整治已完成。".into()),
            to_center: Some("已报到并参加联合执法，现场问题已处置，长效机制已建立。".into()),
            outcome: Some(Outcome::Resolved),
            ..Default::default()
        };
        handling::unit_act(self.state, &actor, order, UnitVerb::Reply, input).await?;
        self.summary.replies += 1;
        Ok(())
    }

    /// A community records a small matter it solved on the spot; the requester is called
    /// back a day or two later like anyone else.
    pub(super) async fn community(&mut self) -> Result<(), AppError> {
        let mut place = None;
        for _ in 0..10 {
            let p = &self.places[self.community_rng.weighted(&self.place_weights)];
            if p.community.is_some() {
                place = Some(p.clone());
                break;
            }
        }
        let Some(place) = place else { return Ok(()) };
        let code = place.community.clone().expect("a community place");
        let actor = self.unit_actor(&code).await?;
        let (text, to_requester, to_center) = SMALL[self.community_rng.below(SMALL.len())];
        let phone = format!(
            "1{}{:09}",
            [3, 5, 8][self.community_rng.below(3)],
            self.community_rng.below(1_000_000_000)
        );
        let input = community::CommunityInput {
            kind: RequestKind::Complaint,
            text: text.to_string(),
            title: None,
            address: format!(
                "{}{}{}",
                place.district_name, place.street_name, place.spoken
            ),
            category_code: None,
            requester: community::CommunityRequester {
                name: "居民".into(),
                phone,
            },
            to_requester: to_requester.to_string(),
            to_center: to_center.to_string(),
            outcome: Some(Outcome::Resolved),
        };
        let r = community::record(self.state, &actor, input).await?;
        self.summary.community += 1;
        self.summary.orders += 1;
        let at = self.clock_now() + Duration::hours(20 + self.community_rng.below(24) as i64);
        self.at(at, Ev::Callback { request: r.id });
        Ok(())
    }

    /// Whether a reply on the request waits for the center's check (办结审核).
    pub(super) async fn review_pending(&self, request: &str) -> Result<bool, AppError> {
        Ok(!reply_reviews::pending_of(self.state, request)
            .await?
            .is_empty())
    }

    /// The dispatcher checks the replies waiting on a request: approves most (the callback
    /// follows), sends about one in eight back for rework (the unit replies again a day on).
    pub(super) async fn review_reply(&mut self, request: &str) -> Result<(), AppError> {
        for r in reply_reviews::pending_of(self.state, request).await? {
            let send_back = self.review_rng.chance(0.125);
            let input = DecisionInput {
                decision: if send_back {
                    Decision::SendBack
                } else {
                    Decision::Approve
                },
                reason: send_back
                    .then(|| "反馈未说明整改结果，请补充现场核查情况后重新反馈。".into()),
            };
            reply_reviews::decide(self.state, &self.dispatcher, &r.id, input).await?;
            self.summary.reply_reviews += 1;
            if send_back {
                self.summary.reviews_sent_back += 1;
                let at = self.clock_now() + Duration::hours(18 + self.review_rng.below(12) as i64);
                self.at(
                    at,
                    Ev::Reply {
                        order: r.assignment_id.clone(),
                        unit: r.unit_code.clone(),
                        request: request.to_string(),
                    },
                );
            }
        }
        self.after_reply(request).await
    }

    /// 下派: about one street order in six is passed down to one of the street's
    /// communities, which acknowledges it. About one in twelve is returned (退回上级: not in
    /// that community's area) and passed to another; about one in eight asks for a day more,
    /// which the street approves four times in five inside its own limit. The community
    /// replies later (`Ev::SubReply`), about one in ten after its limit. Returns whether it
    /// passed the order down (false when the limit is near or the unit has no communities).
    pub(super) async fn pass_down(
        &mut self,
        order: &str,
        unit: &str,
        request: &str,
        actor: &jiesu_core::Actor,
        outcome: Outcome,
    ) -> Result<bool, AppError> {
        if !self.sub_rng.chance(1.0 / 6.0) {
            return Ok(false);
        }
        let street = reference::unit(self.state.store.reader(), unit).await?;
        let Some(street) = street.filter(|u| u.level == "subdistrict" || u.level == "township")
        else {
            return Ok(false);
        };
        let o = super::handling_order(self.state, order).await?;
        let now = self.clock_now();
        if o.reply_by <= now + Duration::hours(2) {
            return Ok(false);
        }
        let communities =
            reference::units(self.state.store.reader(), None, Some(&street.code)).await?;
        if communities.is_empty() {
            return Ok(false);
        }
        let mut pick = self.sub_rng.below(communities.len());
        let reply_by = now + (o.reply_by - now) / 2;
        let mut community = communities[pick].code.clone();
        let mut child = self.pass_to(actor, order, &community, reply_by).await?;
        self.summary.passed_down += 1;
        if communities.len() >= 2 && self.sub_rng.chance(1.0 / 12.0) {
            let c_actor = self.unit_actor(&community).await?;
            let input = SubReturnInput {
                reason: "经核实，该地址不在本社区辖区，请转相邻社区办理。".into(),
            };
            subwork_time::give_back(self.state, &c_actor, &child, input).await?;
            self.summary.sub_returned += 1;
            pick = (pick + 1) % communities.len();
            community = communities[pick].code.clone();
            child = self.pass_to(actor, order, &community, reply_by).await?;
        }
        let mut limit = reply_by;
        let asked = (reply_by + Duration::days(1)).min(o.reply_by - Duration::hours(1));
        if asked > reply_by && self.sub_rng.chance(0.125) {
            let c_actor = self.unit_actor(&community).await?;
            let input = SubExtensionInput {
                reply_by: asked,
                reason: "需协调物业和产权单位共同处理，申请延期一天。".into(),
            };
            let (_, x) = subwork_time::ask(self.state, &c_actor, &child, input).await?;
            self.summary.sub_extensions += 1;
            let approve = self.sub_rng.chance(0.8);
            let input = SubExtensionDecisionInput {
                decision: if approve {
                    SubExtensionDecision::Approve
                } else {
                    SubExtensionDecision::Refuse
                },
                reply_by: None,
                reason: (!approve).then(|| "街道办结时限紧，请在原时限内办结。".into()),
            };
            subwork_time::decide(self.state, actor, &x, input).await?;
            if approve {
                limit = asked;
            }
        }
        let at = if self.sub_rng.chance(0.1) {
            limit + part_of(o.reply_by - limit, self.sub_rng.between(0.2, 0.8))
        } else {
            now + part_of(limit - now, self.sub_rng.between(0.1, 0.9))
        };
        self.at(
            at,
            Ev::SubReply {
                child,
                street: unit.to_string(),
                community,
                request: request.to_string(),
                outcome,
            },
        );
        Ok(true)
    }

    /// Passes the order down to one community, which acknowledges at once; the child's id.
    async fn pass_to(
        &mut self,
        actor: &jiesu_core::Actor,
        order: &str,
        community: &str,
        reply_by: DateTime<Utc>,
    ) -> Result<String, AppError> {
        let input = PassDownInput {
            units: vec![community.to_string()],
            reply_by,
            acknowledge_by: None,
            note: Some("请社区入户核实并反馈处理情况。".into()),
        };
        let (_, ids) = subwork::pass_down(self.state, actor, PassFrom::Order(order), input).await?;
        let child = ids
            .into_iter()
            .next()
            .ok_or(AppError::NotFound("sub_order"))?;
        let c_actor = self.unit_actor(community).await?;
        subwork::acknowledge(self.state, &c_actor, &child).await?;
        Ok(child)
    }

    /// The community replies; the street sends about one reply in five back once, then signs
    /// it off, which becomes the street's reply to the center.
    pub(super) async fn sub_reply(
        &mut self,
        child: &str,
        street: &str,
        community: &str,
        request: &str,
        outcome: Outcome,
    ) -> Result<(), AppError> {
        let c_actor = self.unit_actor(community).await?;
        let s_actor = self.unit_actor(street).await?;
        let (to_requester, to_center) = reply_texts(outcome);
        let reply = || SubReplyInput {
            outcome: Some(outcome),
            to_requester: Some(to_requester.into()),
            to_center: Some(to_center.into()),
        };
        let limit = sub_orders::of_request(self.state.store.reader(), request)
            .await?
            .into_iter()
            .find(|s| s.id == child)
            .map(|s| s.reply_by)
            .ok_or(AppError::NotFound("sub_order"))?;
        subwork::reply(self.state, &c_actor, child, reply()).await?;
        if self.clock_now() > limit {
            self.summary.sub_late += 1;
        }
        if self.sub_rng.chance(0.2) {
            let g = self.pending_signoff(&s_actor, child).await?;
            let input = SignoffInput {
                decision: SignoffDecision::SendBack,
                reason: Some("请补充现场照片和诉求人沟通情况。".into()),
            };
            subwork::decide(self.state, &s_actor, &g, input).await?;
            self.summary.sent_back += 1;
            subwork::reply(self.state, &c_actor, child, reply()).await?;
        }
        let g = self.pending_signoff(&s_actor, child).await?;
        let input = SignoffInput {
            decision: SignoffDecision::Approve,
            reason: None,
        };
        subwork::decide(self.state, &s_actor, &g, input).await?;
        self.summary.sub_approved += 1;
        self.summary.replies += 1;
        self.after_reply(request).await
    }

    async fn pending_signoff(
        &self,
        street: &jiesu_core::Actor,
        child: &str,
    ) -> Result<String, AppError> {
        crate::services::subwork_lists::pending_signoffs(self.state, street, 1000)
            .await?
            .into_iter()
            .find(|g| g.signoff.sub_order_id.as_deref() == Some(child))
            .map(|g| g.signoff.id)
            .ok_or(AppError::NotFound("signoff"))
    }
}
