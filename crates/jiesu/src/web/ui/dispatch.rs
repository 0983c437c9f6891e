//! The dispatcher's queue (派单): requests waiting for dispatch (new, or back after a return),
//! the dispatch form with the suggested units, and pending extension requests (延期审批).

use super::i18n::Tr;
use super::{done, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::{handling, suggest, supervision, views, AppState};
use crate::store::queues;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use std::collections::HashMap;

/// The time-limit classes in force, with their names, for a select.
pub async fn classes(s: &AppState, tr: Tr) -> Result<Vec<(String, String)>, AppError> {
    let now = s.clock.now();
    let mut latest: Vec<(String, String)> = Vec::new();
    for v in queues::time_limits(s.store.reader()).await? {
        if v.effective_from > now {
            continue;
        }
        let name = if tr.is_en() { v.name_en } else { v.name_zh };
        match latest.iter_mut().find(|(c, _)| *c == v.class) {
            Some(slot) => slot.1 = name,
            None => latest.push((v.class, name)),
        }
    }
    Ok(latest)
}

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

#[derive(Template, WebTemplate)]
#[template(path = "dispatch_queue.html")]
struct QueuePage {
    ctx: Ctx,
    waiting: Vec<Waiting>,
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
    let pool = s.store.reader();
    let returned = supervision::returned(&s, &page.actor, 200).await?;
    let codes: Vec<String> = returned.iter().map(|o| o.unit_code.clone()).collect();
    let names = queues::unit_names(pool, &codes).await?;
    let mut why: HashMap<String, String> = HashMap::new();
    for o in &returned {
        let unit = names.get(&o.unit_code).unwrap_or(&o.unit_code);
        let reason = o.return_reason.clone().unwrap_or_default();
        why.insert(o.request_id.clone(), format!("{unit}：{reason}"));
    }
    let list = views::list(&s, &page.actor, Some("received".into()), None, 1, 100).await?;
    let waiting = list
        .items
        .into_iter()
        .map(|r| Waiting {
            returned: why.remove(&r.id).unwrap_or_default(),
            kind: tr.of("kind", &r.kind),
            created: local_time(&s, r.created_at),
            id: r.id,
            number: r.number,
            title: r.title,
        })
        .collect();
    let extensions = pending_extensions(&s).await?;
    Ok(QueuePage {
        ctx: page.ctx,
        waiting,
        extensions,
    }
    .into_response())
}

/// Extension requests waiting for a decision, with their request and unit.
pub async fn pending_extensions(s: &AppState) -> Result<Vec<PendingExt>, AppError> {
    let pool = s.store.reader();
    let pending = queues::pending_extensions(pool, 100).await?;
    let req_ids: Vec<String> = pending.iter().map(|e| e.request_id.clone()).collect();
    let ord_ids: Vec<String> = pending.iter().map(|e| e.assignment_id.clone()).collect();
    let titles = queues::request_titles(pool, &req_ids).await?;
    let units = queues::assignment_units(pool, &ord_ids).await?;
    let unit_codes: Vec<String> = units.values().cloned().collect();
    let unit_names = queues::unit_names(pool, &unit_codes).await?;
    let extensions = pending
        .into_iter()
        .map(|e| {
            let (number, title) = titles.get(&e.request_id).cloned().unwrap_or_default();
            let code = units.get(&e.assignment_id).cloned().unwrap_or_default();
            PendingExt {
                unit: queues::name_or_code(&unit_names, &code),
                requested: local_time(s, e.requested_at),
                id: e.id,
                request_id: e.request_id,
                number,
                title,
                hours: e.hours,
                reason: e.reason,
            }
        })
        .collect::<Vec<_>>();
    Ok(extensions)
}

struct UnitChoice {
    code: String,
    name: String,
    role_code: String,
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
}

/// `GET /ui/dispatch/{id}`: the request and a dispatch form filled with the suggested units.
pub async fn form(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    center_may(&page, Action::Dispatch)?;
    let tr = page.ctx.tr;
    let r = views::get(&s, &page.actor, &id).await?;
    let suggestion = suggest::suggest(
        &s,
        suggest::SuggestInput {
            text: format!("{} {}", r.title, r.text),
            address: r.address.clone(),
        },
    )
    .await?;
    let returned: Vec<&str> = r
        .assignments
        .iter()
        .filter(|a| a.round == r.round && a.status == "returned")
        .map(|a| a.return_reason.as_deref().unwrap_or(""))
        .collect();
    let returned_units: Vec<&str> = r
        .assignments
        .iter()
        .filter(|a| a.round == r.round && a.status == "returned")
        .map(|a| a.unit_code.as_str())
        .collect();
    let units: Vec<UnitChoice> = suggestion
        .units
        .into_iter()
        .filter(|u| !returned_units.contains(&u.unit_code.as_str()))
        .map(|u| UnitChoice {
            role: tr.of("order_role", &u.role),
            role_code: u.role,
            code: u.unit_code,
            name: u.name,
            reasons: u
                .reasons
                .iter()
                .map(|r| super::intake::one_language(r, tr.is_en()))
                .collect::<Vec<_>>()
                .join("；"),
        })
        .collect();
    let lead = units
        .iter()
        .find(|u| u.role_code == "lead")
        .map(|u| u.code.clone())
        .unwrap_or_default();
    let co = units
        .iter()
        .filter(|u| u.role_code != "lead")
        .map(|u| u.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let category = r
        .category_code
        .clone()
        .or(suggestion.categories.first().map(|c| c.name.clone()))
        .unwrap_or_default();
    Ok(FormPage {
        classes: classes(&s, tr).await?,
        limit_class: r
            .time_limit_class
            .clone()
            .unwrap_or_else(|| "general".into()),
        kind: tr.of("kind", &r.kind),
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
    let input = super::intake::dispatch_input(&f)?;
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
