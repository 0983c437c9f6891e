//! 下派 and 签批 on the pages: an order's (or a child order's) page with the pass-down form
//! and its child orders with their sign-off buttons, and the posts of the workbench's child
//! orders and sign-offs. The services decide; these pages only show and forward.

use super::i18n::Tr;
use super::{done, local_time, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::subwork::{
    self, PassDownInput, PassFrom, SignoffDecision, SignoffInput, SubReplyInput,
};
use crate::services::subwork_lists::{self, SignoffView, SubOrderView};
use crate::services::subwork_time::{
    self, SubExtensionDecision, SubExtensionDecisionInput, SubExtensionInput, SubReturnInput,
};
use crate::services::{directory, views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chrono::{DateTime, NaiveDateTime, Utc};
use jiesu_core::subwork::{is_staff_of, SignoffStatus, SubExtensionStatus, SubOrderStatus};
use jiesu_core::workflow::{AssignmentStatus, Outcome};

/// One child order as the holder's page lists it.
pub struct ChildLine {
    pub id: String,
    pub unit: String,
    pub status: String,
    pub reply_by: String,
    pub reply: String,
    pub outcome: String,
    /// The pending sign-off the viewer may decide, if any.
    pub signoff: String,
    pub sent_back: String,
    /// Whether the sweep marked it past its limit (超期).
    pub late: bool,
    /// Why it was returned to the viewer's unit (退回上级), if it was.
    pub returned: String,
    /// The pending request for more time the viewer may decide, if any.
    pub ext_id: String,
    pub ext_asked: String,
    pub ext_reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "sub_orders.html")]
struct HolderPage {
    ctx: Ctx,
    request_id: String,
    number: String,
    title: String,
    holder_unit: String,
    holder_status: String,
    reply_by: String,
    /// Where the pass-down form posts; empty when the viewer may not pass it down.
    pass_action: String,
    /// The default reply limit, `YYYY-MM-DDTHH:MM` local.
    default_reply_by: String,
    units: Vec<(String, String)>,
    children: Vec<ChildLine>,
    /// The child order's own page (its unit's staff, while open): where its requests for
    /// more time and its return post; empty otherwise.
    time_action: String,
    /// The latest limit it may ask for, `YYYY-MM-DDTHH:MM` local.
    parent_limit: String,
    /// This page, for the decision forms to come back to.
    back: String,
}

fn local_input(s: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&s.config.offset())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// `GET /ui/orders/{id}`: the order's page for the unit holding it.
pub async fn order_page(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    holder_page(&s, page, PassFrom::Order(&id)).await
}

/// `GET /ui/sub-orders/{id}`: a child order's page for its unit.
pub async fn sub_page(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    holder_page(&s, page, PassFrom::SubOrder(&id)).await
}

/// The order or child order a page is about.
struct Holder {
    unit: String,
    status: String,
    reply_by: DateTime<Utc>,
    /// Whether it may be passed down now.
    open: bool,
    /// Where the pass-down form posts.
    action: String,
    /// Its children's (assignment, parent child order).
    parent: (String, Option<String>),
    /// A child order: the limit of what it was passed down from, while it is open.
    asks_within: Option<DateTime<Utc>>,
    /// This page.
    page: String,
}

async fn holder_page(s: &AppState, page: Page, from: PassFrom<'_>) -> UiResult {
    let tr = page.ctx.tr;
    let request_id = subwork_lists::request_of(s, from).await?;
    let view = views::get(s, &page.actor, &request_id).await?;
    let subs = view.sub_orders.clone().unwrap_or_default();
    let signoffs = view.signoffs.clone().unwrap_or_default();
    let Holder {
        unit,
        status,
        reply_by,
        open,
        action,
        parent,
        asks_within,
        page: this_page,
    } = match from {
        PassFrom::Order(id) => {
            let a = view
                .assignments
                .iter()
                .find(|a| a.id == id)
                .ok_or(AppError::NotFound("order"))?;
            Holder {
                unit: a.unit_code.clone(),
                status: tr.of("order_status", a.status.as_str()),
                reply_by: a.reply_by,
                open: a.status == AssignmentStatus::Acknowledged && !view.status.is_final(),
                action: format!("/ui/orders/{id}/pass-down"),
                parent: (a.id.clone(), None),
                asks_within: None,
                page: format!("/ui/orders/{id}"),
            }
        }
        PassFrom::SubOrder(id) => {
            let c = subs
                .iter()
                .find(|c| c.id == id)
                .ok_or(AppError::NotFound("order"))?;
            Holder {
                unit: c.unit_code.clone(),
                status: tr.of("sub_status", c.status.as_str()),
                reply_by: c.reply_by,
                open: c.status == SubOrderStatus::Acknowledged,
                action: format!("/ui/sub-orders/{id}/pass-down"),
                parent: (c.assignment_id.clone(), Some(c.id.clone())),
                asks_within: c.status.is_open().then(|| {
                    let above = match &c.parent_id {
                        Some(p) => subs.iter().find(|x| &x.id == p).map(|x| x.reply_by),
                        None => view
                            .assignments
                            .iter()
                            .find(|a| a.id == c.assignment_id)
                            .map(|a| a.reply_by),
                    };
                    above.unwrap_or(c.reply_by)
                }),
                page: format!("/ui/sub-orders/{id}"),
            }
        }
    };
    let mine = is_staff_of(&page.actor, &unit);
    let unit_path = directory::unit(s, &unit).await?.map(|u| u.path);
    let units = match (&unit_path, mine && open) {
        (Some(p), true) => subwork_lists::units_under(s, p).await?,
        _ => Vec::new(),
    };
    let children: Vec<&SubOrderView> = subs
        .iter()
        .filter(|c| c.assignment_id == parent.0 && c.parent_id == parent.1)
        .collect();
    let names = directory::unit_names(
        s,
        children
            .iter()
            .map(|c| c.unit_code.as_str())
            .chain([unit.as_str()]),
    )
    .await?;
    let children = children
        .into_iter()
        .map(|c| child_line(s, tr, c, &signoffs, mine, &names))
        .collect();
    Ok(HolderPage {
        request_id: view.id.clone(),
        number: view.number.clone(),
        title: view.title.clone(),
        holder_unit: names.of(&unit),
        holder_status: status,
        reply_by: local_time(s, reply_by),
        pass_action: if mine && open && !units.is_empty() {
            action
        } else {
            String::new()
        },
        default_reply_by: local_input(s, reply_by),
        units,
        children,
        time_action: match (mine, asks_within, from) {
            (true, Some(_), PassFrom::SubOrder(id)) => format!("/ui/sub-orders/{id}"),
            _ => String::new(),
        },
        parent_limit: asks_within.map(|t| local_input(s, t)).unwrap_or_default(),
        back: this_page,
        ctx: page.ctx,
    }
    .into_response())
}

fn child_line(
    s: &AppState,
    tr: Tr,
    c: &SubOrderView,
    signoffs: &[SignoffView],
    mine: bool,
    names: &directory::UnitNames,
) -> ChildLine {
    let signoff = signoffs
        .iter()
        .find(|g| {
            mine && g.sub_order_id.as_deref() == Some(&c.id) && g.status == SignoffStatus::Pending
        })
        .map(|g| g.id.clone())
        .unwrap_or_default();
    let ext = c
        .extensions
        .iter()
        .find(|x| mine && x.status == SubExtensionStatus::Pending);
    ChildLine {
        id: c.id.clone(),
        unit: names.of(&c.unit_code),
        status: tr.of("sub_status", c.status.as_str()),
        reply_by: local_time(s, c.reply_by),
        reply: c.reply_to_center.clone().unwrap_or_default(),
        outcome: c
            .outcome
            .map(|o| tr.of("outcome", o.as_str()))
            .unwrap_or_default(),
        signoff,
        sent_back: c.sent_back_reason.clone().unwrap_or_default(),
        late: c.overdue_at.is_some(),
        returned: c.return_reason.clone().unwrap_or_default(),
        ext_id: ext.map(|x| x.id.clone()).unwrap_or_default(),
        ext_asked: ext
            .map(|x| local_time(s, x.asked_reply_by))
            .unwrap_or_default(),
        ext_reason: ext.map(|x| x.reason.clone()).unwrap_or_default(),
    }
}

/// A `YYYY-MM-DDTHH:MM` (or RFC 3339) time from a form, in the city's local time.
fn form_time(s: &AppState, field: &str, v: &str) -> Result<DateTime<Utc>, AppError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(s.config.offset()).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::invalid(field.to_string(), "err.subwork.reply_by_format"))
}

fn pass_input(s: &AppState, f: &FormData) -> Result<PassDownInput, AppError> {
    Ok(PassDownInput {
        units: f.all("units"),
        reply_by: form_time(s, "reply_by", &f.text("reply_by"))?,
        acknowledge_by: None,
        note: f.opt("note"),
    })
}

/// `POST /ui/orders/{id}/pass-down`.
pub async fn pass_order(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    subwork::pass_down(&s, &page.actor, PassFrom::Order(&id), pass_input(&s, &f)?).await?;
    Ok(done(&format!("/ui/orders/{id}"), "passed_down"))
}

/// `POST /ui/sub-orders/{id}/pass-down`.
pub async fn pass_sub(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    subwork::pass_down(
        &s,
        &page.actor,
        PassFrom::SubOrder(&id),
        pass_input(&s, &f)?,
    )
    .await?;
    Ok(done(&format!("/ui/sub-orders/{id}"), "passed_down"))
}

/// `POST /ui/sub-orders/{id}/acknowledge`.
pub async fn acknowledge(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> UiResult {
    subwork::acknowledge(&s, &page.actor, &id).await?;
    Ok(done("/ui/unit", "sub_acknowledged"))
}

/// `POST /ui/sub-orders/{id}/reply`.
pub async fn reply(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let outcome = match f.opt("outcome") {
        Some(o) => Some(
            Outcome::parse(&o)
                .ok_or_else(|| AppError::invalid("outcome", "err.unit.no_such_outcome"))?,
        ),
        None => None,
    };
    let input = SubReplyInput {
        outcome,
        to_requester: f.opt("to_requester"),
        to_center: f.opt("to_center"),
    };
    subwork::reply(&s, &page.actor, &id, input).await?;
    Ok(done("/ui/unit", "sub_replied"))
}

/// `POST /ui/signoffs/{id}/decision`: approve or send back; back to the page it came from.
pub async fn decide(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let decision = match f.text("decision").as_str() {
        "approve" => SignoffDecision::Approve,
        _ => SignoffDecision::SendBack,
    };
    let input = SignoffInput {
        decision,
        reason: f.opt("reason"),
    };
    subwork::decide(&s, &page.actor, &id, input).await?;
    let back = f.text("back");
    let back = if back.starts_with("/ui/") && !back.contains("//") {
        back
    } else {
        "/ui/unit".to_string()
    };
    let what = match decision {
        SignoffDecision::Approve => "signoff_approved",
        SignoffDecision::SendBack => "signoff_sent_back",
    };
    Ok(done(&back, what))
}

/// `POST /ui/sub-orders/{id}/extension`: the child's unit asks the unit above for more time.
pub async fn ask_time(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let input = SubExtensionInput {
        reply_by: form_time(&s, "reply_by", &f.text("reply_by"))?,
        reason: f.text("reason"),
    };
    subwork_time::ask(&s, &page.actor, &id, input).await?;
    Ok(done(&format!("/ui/sub-orders/{id}"), "sub_time_asked"))
}

/// `POST /ui/sub-orders/{id}/return`: the child's unit gives it back to the unit above.
pub async fn give_back(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let input = SubReturnInput {
        reason: f.text("reason"),
    };
    subwork_time::give_back(&s, &page.actor, &id, input).await?;
    Ok(done("/ui/unit", "sub_returned"))
}

/// `POST /ui/sub-extensions/{id}/decision`: the unit above approves or refuses; back to the
/// page it came from.
pub async fn decide_time(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let decision = match f.text("decision").as_str() {
        "approve" => SubExtensionDecision::Approve,
        _ => SubExtensionDecision::Refuse,
    };
    let input = SubExtensionDecisionInput {
        decision,
        reply_by: None,
        reason: f.opt("reason"),
    };
    subwork_time::decide(&s, &page.actor, &id, input).await?;
    let back = f.text("back");
    let back = if back.starts_with("/ui/") && !back.contains("//") {
        back
    } else {
        "/ui/unit".to_string()
    };
    let what = match decision {
        SubExtensionDecision::Approve => "sub_time_approved",
        SubExtensionDecision::Refuse => "sub_time_refused",
    };
    Ok(done(&back, what))
}
