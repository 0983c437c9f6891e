//! The supervisor's governance page (主动治理): the live hot problems, the day's burst alerts
//! (未诉先办), the proactive tasks still open, and the monthly topics (每月一题) with their
//! progress; each hotspot and alert links to the task form. Reads `services::{hotspots,
//! alerts, tasks, topics}`; the forms and detail pages are `tasks` and `topics`.

use super::{enc, local_time, Ctx, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::{alerts, directory, hotspots, maps, tasks, topics, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use chrono::NaiveDate;
use jiesu_core::access::Action;
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus};
use jiesu_core::Actor;
use serde::Deserialize;
use std::collections::HashMap;

/// Hot problems shown on the page.
const HOTSPOTS: usize = 20;
/// Open tasks shown on the page.
const OPEN_TASKS: usize = 50;

struct HotRow {
    key: String,
    heat: String,
    description: String,
    street: String,
    size: usize,
    span: String,
    open_href: String,
    task: Option<String>,
}

struct AlertRow {
    place: String,
    category: String,
    count: u64,
    expected: String,
    score: String,
    why: String,
    open_href: String,
    task: Option<String>,
}

/// One order of a task, as a line in a list.
pub(super) struct UnitLine {
    pub(super) name: String,
    pub(super) role: String,
    pub(super) status: String,
}

struct TaskLine {
    id: String,
    number: String,
    title: String,
    source: String,
    status: String,
    status_code: String,
    units: Vec<UnitLine>,
    reply_by: String,
    deadline_ms: i64,
    progress: String,
}

struct TopicLine {
    id: String,
    month: String,
    title: String,
    lead: String,
    problems: String,
    done: usize,
    total: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "governance.html")]
struct GovernancePage {
    ctx: Ctx,
    date: String,
    may_open: bool,
    hotspots: Vec<HotRow>,
    alerts: Vec<AlertRow>,
    tasks: Vec<TaskLine>,
    topics: Vec<TopicLine>,
    /// The map's layers (JSON for app.js): located requests clustered, hot problems, alerts.
    map: String,
}

/// The page's query.
#[derive(Deserialize, Default)]
pub struct GovParams {
    date: Option<String>,
}

/// A `YYYY-MM-DD` form field.
pub(super) fn parse_date(field: &str, value: &str) -> Result<NaiveDate, AppError> {
    crate::web::extract::day(field, value)
}

/// Which citizen requests already have a task, by request id → task id.
pub(super) async fn covered(
    s: &AppState,
    actor: &Actor,
) -> Result<HashMap<String, String>, AppError> {
    let mut out = HashMap::new();
    for t in tasks::list(s, actor, None).await? {
        for r in &t.request_ids {
            out.entry(r.clone()).or_insert_with(|| t.id.clone());
        }
    }
    Ok(out)
}

/// `GET /ui/governance?date=`.
pub async fn page(State(s): State<AppState>, page: Page, Query(p): Query<GovParams>) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        return Err(UiError(AppError::Forbidden("proactive governance")));
    }
    let today = s.clock.now().with_timezone(&s.config.offset()).date_naive();
    let date = match p.date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => parse_date("date", d)?,
        None => today,
    };
    let covered = covered(&s, &page.actor).await?;
    let map = map_layers(&s, &page, date).await?;
    Ok(GovernancePage {
        map,
        date: date.format("%Y-%m-%d").to_string(),
        may_open: page.actor.may(Action::OpenTask),
        hotspots: hot_rows(&s, &page, &covered)?,
        alerts: alert_rows(&s, &page, date, &covered).await?,
        tasks: task_lines(&s, &page).await?,
        topics: topic_lines(&s, &page).await?,
        ctx: page.ctx,
    }
    .into_response())
}

/// `from – to` as local dates.
pub(super) fn span(
    s: &AppState,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> String {
    format!(
        "{} – {}",
        local_time(s, from).get(..10).unwrap_or_default(),
        local_time(s, to).get(..10).unwrap_or_default()
    )
}

fn hot_rows(
    s: &AppState,
    page: &Page,
    covered: &HashMap<String, String>,
) -> Result<Vec<HotRow>, AppError> {
    Ok(hotspots::live(s, &page.actor, HOTSPOTS)?
        .into_iter()
        .map(|h| HotRow {
            heat: format!("{:.1}", h.heat),
            street: h
                .street
                .map(|x| x.1)
                .or(h.district.map(|x| x.1))
                .unwrap_or_default(),
            size: h.size,
            span: span(s, h.from, h.to),
            open_href: format!("/ui/tasks/new?hotspot={}", enc(&h.key)),
            task: h.request_ids.iter().find_map(|r| covered.get(r).cloned()),
            description: h.description,
            key: h.key,
        })
        .collect())
}

async fn alert_rows(
    s: &AppState,
    page: &Page,
    date: NaiveDate,
    covered: &HashMap<String, String>,
) -> Result<Vec<AlertRow>, AppError> {
    let en = page.ctx.tr.is_en();
    Ok(alerts::alerts(s, &page.actor, date)
        .await?
        .into_iter()
        .map(|a| AlertRow {
            open_href: format!(
                "/ui/tasks/new?alert={}",
                enc(&format!("{}|{}|{}", a.place, a.category, a.date))
            ),
            task: a.request_ids.iter().find_map(|r| covered.get(r).cloned()),
            expected: format!("{:.1}", a.expected),
            score: format!("{:.1}", a.score),
            why: if en { a.why_en } else { a.why_zh },
            count: a.count,
            category: format!("{} ({})", a.category_name, a.category),
            place: a.place,
        })
        .collect())
}

/// Orders (unit name, role, status) as lines.
pub(super) fn unit_lines(
    tr: super::i18n::Tr,
    orders: impl IntoIterator<Item = (String, AssignmentRole, AssignmentStatus)>,
) -> Vec<UnitLine> {
    orders
        .into_iter()
        .map(|(name, role, status)| UnitLine {
            name,
            role: tr.of("order_role", role.as_str()),
            status: tr.of("order_status", status.as_str()),
        })
        .collect()
}

async fn task_lines(s: &AppState, page: &Page) -> Result<Vec<TaskLine>, AppError> {
    let tr = page.ctx.tr;
    Ok(tasks::open_tasks(s, &page.actor, OPEN_TASKS)
        .await?
        .into_iter()
        .map(|t| {
            // the nearest deadline of an order still to reply
            let next = t
                .orders
                .iter()
                .filter(|o| o.order.status != AssignmentStatus::Replied)
                .map(|o| o.order.reply_by)
                .min();
            let units = t
                .orders
                .into_iter()
                .map(|o| (o.unit_name, o.order.role, o.order.status));
            TaskLine {
                units: unit_lines(tr, units),
                reply_by: next.map(|d| local_time(s, d)).unwrap_or_else(|| "—".into()),
                deadline_ms: next.map(|d| d.timestamp_millis()).unwrap_or(0),
                progress: format!("{}/{}", t.task.replied, t.task.orders),
                source: tr.of("source", t.task.source_kind.as_str()),
                status: tr.of("status", t.task.status.as_str()),
                status_code: t.task.status.as_str().to_string(),
                id: t.task.id,
                number: t.task.number,
                title: t.task.title,
            }
        })
        .collect())
}

async fn topic_lines(s: &AppState, page: &Page) -> Result<Vec<TopicLine>, AppError> {
    let list = topics::list(s, &page.actor, 24).await?;
    let names = directory::unit_names(s, list.iter().map(|t| &t.topic.lead_unit)).await?;
    Ok(list
        .into_iter()
        .map(|t| TopicLine {
            lead: names.of(&t.topic.lead_unit),
            problems: t
                .problems
                .iter()
                .map(|p| p.description.as_str())
                .collect::<Vec<_>>()
                .join("；"),
            done: t.tasks_done,
            total: t.tasks_total,
            id: t.topic.id,
            month: t.topic.month,
            title: t.topic.title,
        })
        .collect())
}

/// The governance map (issue 20): requests with coordinates of the 30 days up to `date`,
/// clustered; the hot problems and the day's burst alerts, each where its located requests
/// are (their mean) or else at its district; each mark links to its page.
async fn map_layers(s: &AppState, page: &Page, date: NaiveDate) -> Result<String, AppError> {
    let tr = page.ctx.tr;
    let to = s.config.local_midnight(date + chrono::Duration::days(1));
    let marks = maps::marks(s, &page.actor, to - chrono::Duration::days(30), to).await?;
    let clusters: Vec<serde_json::Value> = marks
        .clusters
        .iter()
        .map(|c| serde_json::json!([c[0], c[1], c[2], "", ""]))
        .collect();
    let hot: Vec<serde_json::Value> = hotspots::live(s, &page.actor, HOTSPOTS)?
        .into_iter()
        .filter_map(|h| {
            let names = [
                h.street.as_ref().map(|x| x.1.as_str()),
                h.district.as_ref().map(|x| x.1.as_str()),
            ];
            let at = marks.place_of(&h.request_ids, names.into_iter().flatten())?;
            Some(serde_json::json!([
                at[0],
                at[1],
                h.size,
                h.description,
                format!("/ui/requests/{}", h.key)
            ]))
        })
        .collect();
    let bursts: Vec<serde_json::Value> = alerts::alerts(s, &page.actor, date)
        .await?
        .into_iter()
        .filter_map(|a| {
            let at = marks.place_of(&a.request_ids, [a.place.as_str()])?;
            let href = format!(
                "/ui/tasks/new?alert={}",
                enc(&format!("{}|{}|{}", a.place, a.category, a.date))
            );
            Some(serde_json::json!([
                at[0],
                at[1],
                a.count,
                format!("{} · {}", a.place, a.category_name),
                href
            ]))
        })
        .collect();
    Ok(serde_json::json!({
        "geo": "/api/v1/maps/districts",
        "layers": [
            { "name": tr.s("governance.map_points"), "type": "scatter", "data": clusters },
            { "name": tr.s("governance.map_hot"), "type": "effectScatter", "data": hot },
            { "name": tr.s("governance.map_alerts"), "type": "scatter", "data": bursts },
        ]
    })
    .to_string())
}
