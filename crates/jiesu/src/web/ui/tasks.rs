//! Proactive tasks in pages (主动治理任务): the form that opens one from a hotspot, a burst
//! alert, another task's 举一反三 list or a monthly topic (pre-filled with its description,
//! its requests and suggested units), and the task page with its orders, linked requests and
//! the same problem elsewhere. Opening goes through `services::tasks::open`.

use super::governance::{covered, parse_date, span, unit_lines, UnitLine};
use super::{done, enc, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::{AppError, FieldError};
use crate::services::handling::DispatchTarget;
use crate::services::hotspots::{self, HotspotView};
use crate::services::tasks::{self, NewTask, TaskSource, TaskSummary};
use crate::services::{alerts, directory, suggest, topics, views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus};
use jiesu_core::TaskOrigin;
use serde::Deserialize;

/// Days a hotspot or 举一反三 is mined over.
const DAYS: i64 = 30;
/// Linked requests shown on a form or a task page.
const MAX_LINKED: usize = 200;

/// A unit the datalists offer: (code, name).
type UnitOption = (String, String);

/// What a new task starts from.
struct Prefill {
    source_kind: TaskOrigin,
    source_ref: String,
    title: String,
    description: String,
    request_ids: Vec<String>,
    topic_id: String,
    lead: Option<String>,
}

struct LinkedRow {
    id: String,
    number: String,
    title: String,
    address: String,
    status: String,
    created: String,
}

struct SuggestedUnit {
    code: String,
    name: String,
    role_code: String,
    is_lead: bool,
    role: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "task_form.html")]
struct FormPage {
    ctx: Ctx,
    source_kind: String,
    source_label: String,
    source_ref: String,
    title: String,
    description: String,
    topic_id: String,
    linked: Vec<LinkedRow>,
    lead: String,
    co: String,
    suggested: Vec<SuggestedUnit>,
    units: Vec<UnitOption>,
    classes: Vec<(String, String)>,
}

/// The form's query: one of the sources.
#[derive(Deserialize, Default)]
pub struct NewParams {
    hotspot: Option<String>,
    alert: Option<String>,
    elsewhere: Option<String>,
    topic: Option<String>,
}

fn must_open(page: &Page) -> Result<(), UiError> {
    if page.actor.may(Action::OpenTask) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("opening proactive tasks")))
    }
}

/// A hotspot by key: the live index first, else mined from the database.
async fn find_hotspot(s: &AppState, page: &Page, key: &str) -> Result<HotspotView, AppError> {
    if let Some(h) = hotspots::live(s, &page.actor, 500)?
        .into_iter()
        .find(|h| h.key == key)
    {
        return Ok(h);
    }
    hotspots::problem(s, &page.actor, key, DAYS)
        .await?
        .ok_or(AppError::NotFound("hotspot"))
}

async fn from_hotspot(
    s: &AppState,
    page: &Page,
    key: &str,
    origin: Option<&str>,
) -> Result<Prefill, AppError> {
    let h = find_hotspot(s, page, key).await?;
    let (kind, reference) = match origin {
        Some(task) => (
            TaskOrigin::Elsewhere,
            tasks::get(s, &page.actor, task).await?.id,
        ),
        None => (TaskOrigin::Hotspot, h.key.clone()),
    };
    Ok(Prefill {
        source_kind: kind,
        source_ref: reference,
        description: format!(
            "{}：{}共{}件相关诉求。请现场核查，查明原因，依法处置，并向周边群众反馈处理结果。",
            h.description,
            span(s, h.from, h.to),
            h.size
        ),
        title: h.description,
        request_ids: h.request_ids,
        topic_id: String::new(),
        lead: None,
    })
}

async fn from_alert(s: &AppState, page: &Page, reference: &str) -> Result<Prefill, AppError> {
    let bad = || AppError::invalid("alert", "err.tasks.an_alert_is_place_category_date");
    let mut parts = reference.split('|');
    let (Some(place), Some(category), Some(date), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let day = parse_date("alert", date)?;
    let a = alerts::alerts(s, &page.actor, day)
        .await?
        .into_iter()
        .find(|a| a.place == place && a.category == category)
        .ok_or(AppError::NotFound("alert"))?;
    Ok(Prefill {
        source_kind: TaskOrigin::Alert,
        source_ref: reference.to_string(),
        title: format!("{}{}诉求突增", a.place, a.category_name),
        description: format!(
            "{}。请提前排查、主动处置（未诉先办），并反馈结果。",
            a.why_zh
        ),
        request_ids: a.request_ids,
        topic_id: String::new(),
        lead: None,
    })
}

async fn from_topic(s: &AppState, page: &Page, id: &str) -> Result<Prefill, AppError> {
    let (t, problems) = topics::find(s, &page.actor, id)
        .await?
        .ok_or(AppError::NotFound("topic"))?;
    let problems: Vec<&str> = problems.iter().map(|p| p.description.as_str()).collect();
    Ok(Prefill {
        source_kind: TaskOrigin::Topic,
        source_ref: t.id.clone(),
        description: format!("每月一题（{}）：{}。", t.month, problems.join("；")),
        title: t.title,
        request_ids: Vec::new(),
        topic_id: t.id,
        lead: Some(t.lead_unit),
    })
}

async fn prefill(s: &AppState, page: &Page, p: &NewParams) -> Result<Prefill, AppError> {
    let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    if let Some(key) = given(&p.hotspot) {
        let origin = given(&p.elsewhere);
        from_hotspot(s, page, &key, origin.as_deref()).await
    } else if let Some(a) = given(&p.alert) {
        from_alert(s, page, &a).await
    } else if let Some(t) = given(&p.topic) {
        from_topic(s, page, &t).await
    } else {
        Err(AppError::invalid(
            "hotspot",
            "err.tasks.open_a_task_from_a_hotspot",
        ))
    }
}

/// The units a task may go to (not communities or villages: too many for a list).
pub(super) async fn unit_options(s: &AppState) -> Result<Vec<UnitOption>, AppError> {
    Ok(directory::units(s, None, None)
        .await?
        .into_iter()
        .filter(|u| !matches!(u.level.as_str(), "center" | "community" | "village"))
        .map(|u| (u.code, u.name))
        .collect())
}

async fn linked_rows(
    s: &AppState,
    page: &Page,
    ids: &[String],
) -> Result<Vec<LinkedRow>, AppError> {
    let tr = page.ctx.tr;
    let ids: Vec<String> = ids.iter().take(MAX_LINKED).cloned().collect();
    Ok(views::briefs(s, &page.actor, &ids)
        .await?
        .into_iter()
        .map(|r| LinkedRow {
            status: tr.of("status", r.status.as_str()),
            created: local_time(s, r.created_at),
            id: r.id,
            number: r.number,
            title: r.title,
            address: r.address,
        })
        .collect())
}

/// `GET /ui/tasks/new?hotspot=|alert=|topic=[&elsewhere=]`: the pre-filled form.
pub async fn form(State(s): State<AppState>, page: Page, Query(p): Query<NewParams>) -> UiResult {
    must_open(&page)?;
    let tr = page.ctx.tr;
    let pre = prefill(&s, &page, &p).await?;
    let linked = linked_rows(&s, &page, &pre.request_ids).await?;
    let hint = suggest::advise(
        &s,
        suggest::SuggestInput {
            text: format!("{} {}", pre.title, pre.description),
            address: linked
                .first()
                .map(|r| r.address.clone())
                .unwrap_or_default(),
            location: None,
        },
    )
    .await?;
    let suggested: Vec<SuggestedUnit> = hint
        .units
        .into_iter()
        .map(|u| SuggestedUnit {
            role: tr.of("order_role", u.role.as_str()),
            role_code: u.role.as_str().to_string(),
            is_lead: u.role == AssignmentRole::Lead,
            code: u.unit_code,
            name: u.name,
        })
        .collect();
    let lead = pre
        .lead
        .clone()
        .or_else(|| suggested.iter().find(|u| u.is_lead).map(|u| u.code.clone()))
        .unwrap_or_default();
    let co = suggested
        .iter()
        .filter(|u| !u.is_lead && u.code != lead)
        .map(|u| u.code.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(FormPage {
        source_label: tr.of("source", pre.source_kind.as_str()),
        source_kind: pre.source_kind.as_str().to_string(),
        source_ref: pre.source_ref,
        title: pre.title,
        description: pre.description,
        topic_id: pre.topic_id,
        units: unit_options(&s).await?,
        classes: super::forms::classes(&s, tr).await?,
        ctx: page.ctx,
        linked,
        lead,
        co,
        suggested,
    }
    .into_response())
}

/// The form's lead and co-handlers; an error names the form's field.
fn units_of(f: &FormData) -> Result<Vec<DispatchTarget>, AppError> {
    Ok(super::forms::dispatch_input(f)?.assignments)
}

/// The service names `units[i]`; the form has `lead` (i = 0) and `co`.
fn form_fields(e: AppError) -> AppError {
    let rename = |mut f: FieldError| {
        f.field = match f.field.as_str() {
            "units" | "units[0].unit_code" => "lead".into(),
            x if x.starts_with("units[") => "co".into(),
            x if x.starts_with("request_ids[") => "request_id".into(),
            "source.kind" | "source.ref" => "source".into(),
            _ => f.field,
        };
        f
    };
    match e {
        AppError::Invalid(fields) => AppError::Invalid(fields.into_iter().map(rename).collect()),
        other => other,
    }
}

/// `POST /ui/tasks`: opens and dispatches the task, then shows it.
pub async fn create(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    must_open(&page)?;
    let input = NewTask {
        title: f.text("title"),
        description: f.text("description"),
        source: TaskSource {
            kind: f.text("source_kind"),
            reference: f.text("source_ref"),
        },
        request_ids: f.all("request_id"),
        units: units_of(&f)?,
        time_limit_class: f.opt("time_limit_class"),
        category_code: None,
        address: f.opt("address"),
        topic_id: f.opt("topic_id"),
    };
    let id = tasks::open(&s, &page.actor, input)
        .await
        .map_err(form_fields)?;
    Ok(done(&format!("/ui/tasks/{id}"), "task_opened"))
}

struct OrderLine {
    unit: UnitLine,
    round: i64,
    overdue: bool,
    reply_by: String,
    deadline_ms: i64,
    open: bool,
}

struct ElsewhereRow {
    description: String,
    place: String,
    size: usize,
    similarity: String,
    span: String,
    open_href: String,
    task: Option<String>,
}

/// One summoned unit of a whistle task (吹哨报到), as the task page shows it.
struct WhistleLine {
    unit: String,
    person: String,
    report_by: String,
    reported_at: String,
    state: String,
    state_code: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "task.html")]
struct TaskPage {
    ctx: Ctx,
    /// 吹哨报到: the summoned units and their reports, for a whistle task.
    whistle: Option<Vec<WhistleLine>>,
    id: String,
    number: String,
    title: String,
    status: String,
    status_code: String,
    text: String,
    address: String,
    source: String,
    source_href: String,
    topic: Option<(String, String)>,
    created: String,
    orders: Vec<OrderLine>,
    linked: Vec<LinkedRow>,
    elsewhere: Vec<ElsewhereRow>,
    may_open: bool,
}

/// Where a task came from, in words, and the page that shows it.
async fn source_of(
    s: &AppState,
    page: &Page,
    t: &TaskSummary,
) -> Result<(String, String), AppError> {
    let kind = page.ctx.tr.of("source", t.source_kind.as_str());
    let r = &t.source_ref;
    Ok(match t.source_kind {
        TaskOrigin::Hotspot | TaskOrigin::Elsewhere => {
            let number = views::briefs(s, &page.actor, std::slice::from_ref(r))
                .await?
                .into_iter()
                .next()
                .map(|b| format!("{} {}", b.number, b.title))
                .unwrap_or_else(|| r.clone());
            let href = if t.source_kind == TaskOrigin::Hotspot {
                format!("/ui/requests/{r}")
            } else {
                format!("/ui/tasks/{r}")
            };
            (format!("{kind} · {number}"), href)
        }
        TaskOrigin::Topic => {
            let title = topics::find(s, &page.actor, r)
                .await?
                .map(|(row, _)| row.title)
                .unwrap_or_else(|| r.clone());
            (format!("{kind} · {title}"), format!("/ui/topics/{r}"))
        }
        TaskOrigin::Whistle => {
            let name = directory::unit_names(s, std::slice::from_ref(r))
                .await?
                .of(r);
            (
                format!("{kind} · {name}"),
                format!("/ui/whistles/{}", enc(&t.id)),
            )
        }
        TaskOrigin::Alert => {
            let date = r.rsplit('|').next().unwrap_or_default();
            (
                format!("{kind} · {}", r.replace('|', " · ")),
                format!("/ui/governance?date={}", enc(date)),
            )
        }
    })
}

/// `GET /ui/tasks/{id}`: the task, its orders, its requests and 举一反三.
pub async fn page(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        return Err(UiError(AppError::Forbidden("proactive tasks")));
    }
    let tr = page.ctx.tr;
    let t = tasks::get(&s, &page.actor, &id).await?;
    let r = views::get(&s, &page.actor, &id).await?;
    let names = directory::unit_names(&s, r.assignments.iter().map(|a| &a.unit_code)).await?;
    let units = unit_lines(
        tr,
        r.assignments
            .iter()
            .map(|a| (names.of(&a.unit_code), a.role, a.status)),
    );
    let orders = r
        .assignments
        .iter()
        .zip(units)
        .map(|(a, unit)| OrderLine {
            unit,
            round: a.round,
            overdue: a.reply_overdue || a.ack_overdue,
            reply_by: local_time(&s, a.reply_by),
            deadline_ms: a.reply_by.timestamp_millis(),
            open: matches!(
                a.status,
                AssignmentStatus::Dispatched | AssignmentStatus::Acknowledged
            ),
        })
        .collect();
    let covered = covered(&s, &page.actor).await?;
    let elsewhere = tasks::elsewhere(&s, &page.actor, &id, DAYS)
        .await?
        .into_iter()
        .map(|h| ElsewhereRow {
            place: h
                .street
                .clone()
                .map(|x| x.1)
                .unwrap_or_else(|| h.place.clone()),
            size: h.size,
            similarity: format!("{:.2}", h.similarity.unwrap_or(0.0)),
            span: span(&s, h.from, h.to),
            open_href: format!(
                "/ui/tasks/new?hotspot={}&elsewhere={}",
                enc(&h.key),
                enc(&id)
            ),
            task: h.request_ids.iter().find_map(|x| covered.get(x).cloned()),
            description: h.description,
        })
        .collect();
    let topic = match &t.topic_id {
        Some(tid) => topics::find(&s, &page.actor, tid)
            .await?
            .map(|(row, _)| (row.id, row.title)),
        None => None,
    };
    let (source, source_href) = source_of(&s, &page, &t).await?;
    let whistle = if t.source_kind == TaskOrigin::Whistle {
        let w = crate::services::whistles::get(&s, &page.actor, &id).await?;
        Some(
            w.units
                .into_iter()
                .map(|u| WhistleLine {
                    unit: u.unit_name,
                    person: [u.person_in_charge, u.person_contact]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · "),
                    report_by: local_time(&s, u.report_by),
                    reported_at: u.reported_at.map(|t| local_time(&s, t)).unwrap_or_default(),
                    state: tr.of("whistle.report", u.report.as_str()),
                    state_code: u.report.as_str(),
                })
                .collect(),
        )
    } else {
        None
    };
    Ok(TaskPage {
        whistle,
        source,
        linked: linked_rows(&s, &page, &t.request_ids).await?,
        status: tr.of("status", r.status.as_str()),
        created: local_time(&s, r.created_at),
        may_open: page.actor.may(Action::OpenTask),
        ctx: page.ctx,
        status_code: r.status.as_str().to_string(),
        id: r.id,
        number: r.number,
        title: r.title,
        text: r.text,
        address: r.address,
        source_href,
        topic,
        orders,
        elsewhere,
    }
    .into_response())
}
