//! The dispatcher's queue (派单): requests waiting for dispatch (new, or back after a return),
//! the dispatch form with the suggested units, units' returns waiting for review (退单审核) and
//! pending extension requests (延期审批).

use super::{done, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::returns::{self, ReturnDecision, ReviewInput};
use crate::services::{handling, queues, suggest, views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus, ReturnReviewStatus};
use jiesu_core::RequestStatus;
use std::collections::HashMap;

struct Waiting {
    id: String,
    number: String,
    title: String,
    kind: String,
    created: String,
    returned: String,
}

/// A pending extension request, as listed.
pub struct PendingExt {
    pub(super) id: String,
    pub(super) request_id: String,
    pub(super) number: String,
    pub(super) title: String,
    pub(super) unit: String,
    pub(super) hours: i64,
    pub(super) reason: String,
    pub(super) requested: String,
}

/// A return waiting for review (退单待审核), as listed.
struct PendingReturn {
    order_id: String,
    request_id: String,
    number: String,
    title: String,
    unit: String,
    role: String,
    reason: String,
    requested: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dispatch_queue.html")]
struct QueuePage {
    ctx: Ctx,
    waiting: Vec<Waiting>,
    returns: Vec<PendingReturn>,
    extensions: Vec<PendingExt>,
}

fn center_may(page: &Page, action: Action) -> Result<(), UiError> {
    if page.actor.may(action) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("the dispatch queue")))
    }
}

/// `GET /ui/dispatch`.
pub async fn queue(State(s): State<AppState>, page: Page) -> UiResult {
    center_may(&page, Action::Dispatch)?;
    let tr = page.ctx.tr;
    let mut why: HashMap<String, String> = queues::returned(&s, &page.actor, 200)
        .await?
        .into_iter()
        .map(|o| {
            let reason = o.order.return_reason.unwrap_or_default();
            (o.order.request_id, format!("{}：{reason}", o.unit_name))
        })
        .collect();
    let received = Some(RequestStatus::Received.as_str().to_string());
    let list = views::list(&s, &page.actor, received, None, 1, 100).await?;
    let waiting = list
        .items
        .into_iter()
        .map(|r| Waiting {
            returned: why.remove(&r.id).unwrap_or_default(),
            kind: tr.of("kind", r.kind.as_str()),
            created: local_time(&s, r.created_at),
            id: r.id,
            number: r.number,
            title: r.title,
        })
        .collect();
    let extensions = pending_extensions(&s, &page).await?;
    let returns = pending_returns(&s, &page).await?;
    Ok(QueuePage {
        ctx: page.ctx,
        waiting,
        returns,
        extensions,
    }
    .into_response())
}

/// Extension requests waiting for a decision, with their request and unit.
pub async fn pending_extensions(s: &AppState, page: &Page) -> Result<Vec<PendingExt>, AppError> {
    Ok(queues::pending_extensions(s, &page.actor, 100)
        .await?
        .into_iter()
        .map(|p| {
            let e = p.extension;
            PendingExt {
                unit: p.unit_name,
                requested: local_time(s, e.requested_at),
                id: e.id,
                request_id: e.request_id,
                number: p.number,
                title: p.title,
                hours: e.hours,
                reason: e.reason,
            }
        })
        .collect())
}

/// Returns waiting for review, oldest first.
async fn pending_returns(s: &AppState, page: &Page) -> Result<Vec<PendingReturn>, AppError> {
    let tr = page.ctx.tr;
    Ok(
        returns::list(s, &page.actor, ReturnReviewStatus::Pending, 100)
            .await?
            .into_iter()
            .map(|p| PendingReturn {
                role: p
                    .role
                    .map(|r| tr.of("order_role", r.as_str()))
                    .unwrap_or_default(),
                requested: local_time(s, p.review.requested_at),
                order_id: p.review.assignment_id,
                request_id: p.review.request_id,
                number: p.number,
                title: p.title,
                unit: p.unit_name,
                reason: p.review.reason,
            })
            .collect(),
    )
}

struct UnitChoice {
    code: String,
    name: String,
    role_code: String,
    is_lead: bool,
    role: String,
    reasons: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dispatch_form.html")]
struct FormPage {
    ctx: Ctx,
    id: String,
    number: String,
    title: String,
    text: String,
    address: String,
    kind: String,
    category: String,
    returned: String,
    lead: String,
    co: String,
    limit_class: String,
    classes: Vec<(String, String)>,
    units: Vec<UnitChoice>,
    /// The suggested place (district › street › community), "" when none.
    place: String,
    /// The suggestion's remarks (a place decided by the map point, an ambiguity, …).
    notes: Vec<String>,
}

/// `GET /ui/dispatch/{id}`: the request and a dispatch form filled with the suggested units.
pub async fn form(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    center_may(&page, Action::Dispatch)?;
    let tr = page.ctx.tr;
    let r = views::get(&s, &page.actor, &id).await?;
    // A request placed on a map: its district decides (issue 20).
    let location = crate::services::maps::of_request(&s, &r.id)
        .await?
        .map(|l| crate::services::maps::LocationInput {
            lat: l.lat,
            lon: l.lon,
            coord_system: None,
        });
    let suggestion = suggest::advise(
        &s,
        suggest::SuggestInput {
            text: format!("{} {}", r.title, r.text),
            address: r.address.clone(),
            location,
        },
    )
    .await?;
    let returned: Vec<&str> = r
        .assignments
        .iter()
        .filter(|a| a.round == r.round && a.status == AssignmentStatus::Returned)
        .map(|a| a.return_reason.as_deref().unwrap_or(""))
        .collect();
    let returned_units: Vec<&str> = r
        .assignments
        .iter()
        .filter(|a| a.round == r.round && a.status == AssignmentStatus::Returned)
        .map(|a| a.unit_code.as_str())
        .collect();
    let place = super::intake::place_line(&suggestion.place);
    let notes = suggestion
        .notes
        .iter()
        .map(|n| super::i18n::one_language(n, tr.is_en()))
        .collect();
    let units: Vec<UnitChoice> = suggestion
        .units
        .into_iter()
        .filter(|u| !returned_units.contains(&u.unit_code.as_str()))
        .map(|u| UnitChoice {
            role: tr.of("order_role", u.role.as_str()),
            role_code: u.role.as_str().to_string(),
            is_lead: u.role == AssignmentRole::Lead,
            code: u.unit_code,
            name: u.name,
            reasons: u
                .reasons
                .iter()
                .map(|r| super::i18n::one_language(r, tr.is_en()))
                .collect::<Vec<_>>()
                .join("；"),
        })
        .collect();
    let lead = units
        .iter()
        .find(|u| u.is_lead)
        .map(|u| u.code.clone())
        .unwrap_or_default();
    let co = units
        .iter()
        .filter(|u| !u.is_lead)
        .map(|u| u.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let category = r
        .category_code
        .clone()
        .or(suggestion.categories.first().map(|c| c.name.clone()))
        .unwrap_or_default();
    Ok(FormPage {
        place,
        notes,
        classes: super::forms::classes(&s, tr).await?,
        limit_class: r
            .time_limit_class
            .clone()
            .unwrap_or_else(|| "general".into()),
        kind: tr.of("kind", r.kind.as_str()),
        returned: returned.join("；"),
        ctx: page.ctx,
        id: r.id,
        number: r.number,
        title: r.title,
        text: r.text,
        address: r.address,
        category,
        lead,
        co,
        units,
    }
    .into_response())
}

/// `POST /ui/requests/{id}/dispatch`.
pub async fn dispatch(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let input = super::forms::dispatch_input(&f)?;
    handling::dispatch(&s, &page.actor, &id, input).await?;
    Ok(done("/ui/dispatch", "dispatched"))
}

/// `POST /ui/extensions/{id}/decision`.
pub async fn decide(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let approve = f.flag("approve");
    handling::decide_extension(&s, &page.actor, &id, approve).await?;
    let back = if page.actor.may(Action::Dispatch) {
        "/ui/dispatch"
    } else {
        "/ui/dashboard"
    };
    Ok(done(back, if approve { "approved" } else { "refused" }))
}

/// `POST /ui/assignments/{id}/return-review`: accept or reject a unit's return (退单审核).
pub async fn review_return(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let decision = match f.text("decision").as_str() {
        "accept" => ReturnDecision::Accept,
        "reject" => ReturnDecision::Reject,
        _ => {
            return Err(UiError(AppError::invalid(
                "decision",
                "err.returns.decision",
            )))
        }
    };
    let input = ReviewInput {
        decision,
        reason: f.opt("reason"),
    };
    returns::review(&s, &page.actor, &id, input).await?;
    let what = match decision {
        ReturnDecision::Accept => "return_accepted",
        ReturnDecision::Reject => "return_rejected",
    };
    Ok(done("/ui/dispatch", what))
}
