//! The unit workbench (承办单位工作台): the unit's open orders with live countdowns to their
//! deadlines, and the unit's actions: acknowledge, return with a reason, ask for more time,
//! and the dual reply (to the requester; to the center with evidence notes).

use super::i18n::Tr;
use super::{done, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::handling::{self, UnitActionInput, UnitVerb};
use crate::services::queues::{self, UnitOrder};
use crate::services::{returns, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::workflow::{AssignmentStatus, Outcome, ReturnReviewStatus};
use jiesu_core::Role;

struct OrderRow {
    id: String,
    request_id: String,
    number: String,
    title: String,
    unit: String,
    role: String,
    round: i64,
    status: String,
    dispatched: bool,
    acknowledged: bool,
    deadline_label: &'static str,
    deadline: String,
    deadline_ms: i64,
    warn_ms: i64,
    /// 退单待审核: a return waits for the dispatcher.
    return_pending: bool,
    /// The dispatcher's reason when the latest return was rejected (驳回), else empty.
    return_rejected: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "unit.html")]
struct Workbench {
    ctx: Ctx,
    orders: Vec<OrderRow>,
    manager: bool,
    outcomes: Vec<(&'static str, String)>,
    /// The unit's appeals (考核申诉) with their outcomes, newest first.
    appeals: Vec<super::appeals::AppealLine>,
    /// Appeals are decided on the center's page, not here.
    decide: bool,
    /// 下派: child orders passed down to this unit.
    subs: Vec<SubLine>,
    /// 签批: replies waiting for this unit's sign-off.
    signoffs: Vec<SignoffLine>,
    /// The sub-units' tallies this month.
    tallies: Vec<crate::services::subwork_lists::TallyRow>,
    /// Finished (replied) orders, latest first, each open to an appeal (考核申诉) by the
    /// manager: a round-1 order after a rework stays here when it left the open list.
    replied: Vec<OrderRow>,
}

/// A child order passed down to the unit.
struct SubLine {
    id: String,
    request_id: String,
    number: String,
    title: String,
    from: String,
    status: String,
    dispatched: bool,
    acknowledged: bool,
    reply_by: String,
    deadline_ms: i64,
    note: String,
    sent_back: String,
}

/// A reply waiting for the unit's sign-off.
struct SignoffLine {
    id: String,
    request_id: String,
    number: String,
    from: String,
    outcome: String,
    to_requester: String,
    to_center: String,
    may_decide: bool,
    manager_only: bool,
}

/// `GET /ui/unit`.
pub async fn workbench(State(s): State<AppState>, page: Page) -> UiResult {
    let tr = page.ctx.tr;
    let open = queues::unit_orders(&s, &page.actor, 200).await?;
    let ids: Vec<String> = open.iter().map(|o| o.order.id.clone()).collect();
    let mut reviews = returns::latest_of_orders(&s, &ids).await?;
    let orders = open
        .into_iter()
        .map(|o| {
            let review = reviews.remove(&o.order.id);
            let mut row = order_row(&s, tr, o);
            match review {
                Some(r) if r.status == ReturnReviewStatus::Pending => row.return_pending = true,
                Some(r) if r.status == ReturnReviewStatus::Rejected => {
                    row.return_rejected = r.decision_reason.unwrap_or_default()
                }
                _ => {}
            }
            row
        })
        .collect();
    let outcomes = Outcome::ALL
        .iter()
        .map(|o| (o.as_str(), tr.of("outcome", o.as_str())))
        .collect();
    let appeals = crate::services::appeals::list(&s, &page.actor, None, None).await?;
    let appeals = super::appeals::lines(&s, tr, appeals.into_iter().take(50).collect()).await?;
    let (subs, signoffs, tallies) = subwork_blocks(&s, tr, &page.actor).await?;
    let replied = queues::unit_replied_orders(&s, &page.actor, 100)
        .await?
        .into_iter()
        .map(|o| order_row(&s, tr, o))
        .collect();
    Ok(Workbench {
        replied,
        appeals,
        decide: false,
        subs,
        signoffs,
        tallies,
        manager: page.actor.role == Role::UnitManager,
        ctx: page.ctx,
        orders,
        outcomes,
    }
    .into_response())
}

/// The workbench's 下派 and 签批 blocks: child orders passed down to the unit, replies waiting
/// for its sign-off, and its sub-units' tallies this month.
async fn subwork_blocks(
    s: &AppState,
    tr: Tr,
    actor: &jiesu_core::Actor,
) -> Result<
    (
        Vec<SubLine>,
        Vec<SignoffLine>,
        Vec<crate::services::subwork_lists::TallyRow>,
    ),
    AppError,
> {
    use crate::services::subwork_lists;
    use jiesu_core::subwork::SubOrderStatus;
    let subs = subwork_lists::queue(s, actor, None, 200)
        .await?
        .into_iter()
        .map(|i| {
            let c = i.sub_order;
            SubLine {
                dispatched: c.status == SubOrderStatus::Dispatched,
                acknowledged: c.status == SubOrderStatus::Acknowledged,
                status: tr.of("sub_status", c.status.as_str()),
                reply_by: local_time(s, c.reply_by),
                deadline_ms: c.reply_by.timestamp_millis(),
                note: c.note.unwrap_or_default(),
                sent_back: c.sent_back_reason.unwrap_or_default(),
                id: c.id,
                request_id: c.request_id,
                number: i.number,
                title: i.title,
                from: i.from_unit_name,
            }
        })
        .collect();
    let manager = actor.role == Role::UnitManager;
    let signoffs = subwork_lists::pending_signoffs(s, actor, 200)
        .await?
        .into_iter()
        .map(|g| SignoffLine {
            may_decide: manager || !g.manager_only,
            manager_only: g.manager_only,
            outcome: tr.of("outcome", g.signoff.outcome.as_str()),
            to_requester: g.signoff.to_requester,
            to_center: g.signoff.to_center,
            id: g.signoff.id,
            request_id: g.request_id,
            number: g.number,
            from: g.from_unit_name,
        })
        .collect();
    let tallies = subwork_lists::tallies(s, actor, None, None).await?.units;
    Ok((subs, signoffs, tallies))
}

fn order_row(s: &AppState, tr: Tr, o: UnitOrder) -> OrderRow {
    let a = o.order;
    let dispatched = a.status == AssignmentStatus::Dispatched;
    let (by, label) = if dispatched {
        (a.acknowledge_by, tr.s("unit.ack_by"))
    } else {
        (a.reply_by, tr.s("unit.reply_by"))
    };
    OrderRow {
        unit: o.unit_name,
        role: tr.of("order_role", a.role.as_str()),
        status: tr.of("order_status", a.status.as_str()),
        dispatched,
        acknowledged: a.status == AssignmentStatus::Acknowledged,
        deadline_label: label,
        deadline: local_time(s, by),
        deadline_ms: by.timestamp_millis(),
        warn_ms: if dispatched {
            by.timestamp_millis()
        } else {
            a.reply_warn_at.timestamp_millis()
        },
        id: a.id,
        request_id: a.request_id,
        number: o.number,
        title: o.title,
        round: a.round,
        return_pending: false,
        return_rejected: String::new(),
    }
}

/// `POST /ui/orders/{id}/{verb}`: acknowledge, return, extension or reply.
pub async fn act(
    State(s): State<AppState>,
    page: Page,
    Path((id, verb)): Path<(String, String)>,
    f: FormData,
) -> UiResult {
    let verb = match verb.as_str() {
        "acknowledge" => UnitVerb::Acknowledge,
        "return" => UnitVerb::Return,
        "extension" => UnitVerb::Extension,
        "reply" => UnitVerb::Reply,
        _ => return Err(UiError(AppError::NotFound("action"))),
    };
    let hours = match f.opt("hours") {
        Some(h) => Some(
            h.parse::<i64>()
                .map_err(|_| AppError::invalid("hours", "err.unit.hours_must_be_a_whole_number"))?,
        ),
        None => None,
    };
    let outcome = match f.opt("outcome") {
        Some(o) => Some(
            Outcome::parse(&o)
                .ok_or_else(|| AppError::invalid("outcome", "err.unit.no_such_outcome"))?,
        ),
        None => None,
    };
    let input = UnitActionInput {
        reason: f.opt("reason"),
        hours,
        to_requester: f.opt("to_requester"),
        to_center: f.opt("to_center"),
        outcome,
    };
    handling::unit_act(&s, &page.actor, &id, verb, input).await?;
    let what = match verb {
        UnitVerb::Acknowledge => "acknowledged",
        UnitVerb::Return => "return_requested",
        UnitVerb::Extension => "extension",
        UnitVerb::Reply => "replied",
    };
    Ok(done("/ui/unit", what))
}
