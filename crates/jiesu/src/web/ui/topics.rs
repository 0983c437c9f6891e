//! The monthly topic in pages (每月一题): proposals ranked from the data, the form that makes
//! one a topic (lead department, 2–3 concrete problems, tasks), and the topic page with its
//! progress. Everything goes through `services::topics` and `services::tasks`.

use super::{done, pct, Ctx, FormData, Page, UiError, UiResult};
use crate::error::{AppError, FieldError};
use crate::services::kpi::Month;
use crate::services::topics::{self, NewProblem, NewTopic};
use crate::services::{directory, tasks, views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use serde::Deserialize;
use serde_json::json;

/// Rows for concrete problems on the form (the service takes 2–3).
const PROBLEM_ROWS: usize = 3;

struct ProposalRow {
    rank: usize,
    category: String,
    description: String,
    volume: usize,
    districts: usize,
    months: usize,
    unhappy: String,
    score: String,
    problems: Vec<String>,
    choose_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "topic_proposals.html")]
struct ProposalsPage {
    ctx: Ctx,
    month: String,
    may_open: bool,
    proposals: Vec<ProposalRow>,
}

/// The month asked about, default this month.
#[derive(Deserialize, Default)]
pub struct MonthParams {
    month: Option<String>,
    category: Option<String>,
}

fn this_month(s: &AppState) -> String {
    s.clock
        .now()
        .with_timezone(&s.config.offset())
        .format("%Y-%m")
        .to_string()
}

fn month_of(s: &AppState, p: &MonthParams) -> Result<Month, AppError> {
    let m = p
        .month
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| this_month(s));
    topics::parse_month(&m)
}

/// `GET /ui/topics/proposals?month=`.
pub async fn proposals(
    State(s): State<AppState>,
    page: Page,
    Query(p): Query<MonthParams>,
) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        return Err(UiError(AppError::Forbidden("monthly topics")));
    }
    let month = month_of(&s, &p)?;
    let rows = topics::proposals(&s, &page.actor, month)
        .await?
        .into_iter()
        .map(|p| ProposalRow {
            choose_href: format!(
                "/ui/topics/new?month={}&category={}",
                month.label(),
                super::enc(&p.category_code)
            ),
            rank: p.rank,
            category: format!("{} ({})", p.category_name, p.category_code),
            description: p.description,
            volume: p.volume,
            districts: p.districts,
            months: p.months_present,
            unhappy: pct(Some(p.dissatisfied_share)),
            score: format!("{:.2}", p.score),
            problems: p.problems,
        })
        .collect();
    Ok(ProposalsPage {
        month: month.label(),
        may_open: page.actor.may(Action::OpenTask),
        proposals: rows,
        ctx: page.ctx,
    }
    .into_response())
}

struct ProblemRow {
    n: usize,
    category: String,
    description: String,
}

struct TaskChoice {
    id: String,
    number: String,
    title: String,
    status: String,
    checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "topic_form.html")]
struct FormPage {
    ctx: Ctx,
    month: String,
    title: String,
    lead: String,
    problems: Vec<ProblemRow>,
    categories: Vec<(String, String)>,
    units: Vec<(String, String)>,
    tasks: Vec<TaskChoice>,
}

fn must_open(page: &Page) -> Result<(), UiError> {
    if page.actor.may(Action::OpenTask) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("monthly topics")))
    }
}

fn in_category(code: Option<&str>, category: &str) -> bool {
    !category.is_empty() && code.is_some_and(|c| jiesu_core::dispatch::covers(category, c))
}

/// Tasks not yet in a topic, those on the category ticked.
async fn task_choices(
    s: &AppState,
    page: &Page,
    category: &str,
) -> Result<Vec<TaskChoice>, AppError> {
    let free: Vec<_> = tasks::list(s, &page.actor, None)
        .await?
        .into_iter()
        .filter(|t| t.topic_id.is_none())
        .collect();
    let ids: Vec<String> = free.iter().map(|t| t.id.clone()).collect();
    let rows = views::briefs(s, &page.actor, &ids).await?;
    let tr = page.ctx.tr;
    Ok(free
        .into_iter()
        .map(|t| TaskChoice {
            checked: rows
                .iter()
                .find(|r| r.id == t.id)
                .is_some_and(|r| in_category(r.category_code.as_deref(), category)),
            status: tr.of("status", t.status.as_str()),
            id: t.id,
            number: t.number,
            title: t.title,
        })
        .collect())
}

/// `GET /ui/topics/new?month=&category=`: the form, filled from the chosen proposal.
pub async fn form(State(s): State<AppState>, page: Page, Query(p): Query<MonthParams>) -> UiResult {
    must_open(&page)?;
    let month = month_of(&s, &p)?;
    let category = p.category.clone().unwrap_or_default();
    let chosen = topics::proposals(&s, &page.actor, month)
        .await?
        .into_iter()
        .find(|x| x.category_code == category);
    let all = directory::categories(&s).await?;
    let lead = all
        .iter()
        .find(|c| c.code == category)
        .and_then(|c| c.default_unit_code.clone())
        .unwrap_or_default();
    let en = page.ctx.tr.is_en();
    let categories = all
        .into_iter()
        .map(|c| (c.code, if en { c.name_en } else { c.name }))
        .collect();
    // the proposal's concrete problems (hotspots of its category), else its description
    let mut found: Vec<String> = chosen
        .as_ref()
        .map(|c| c.problems.clone())
        .unwrap_or_default();
    if found.is_empty() {
        found.extend(chosen.as_ref().map(|c| c.description.clone()));
    }
    let problems = (0..PROBLEM_ROWS)
        .map(|i| ProblemRow {
            n: i + 1,
            category: if i < found.len() {
                category.clone()
            } else {
                String::new()
            },
            description: found.get(i).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(FormPage {
        month: month.label(),
        title: chosen.map(|c| c.category_name).unwrap_or_default(),
        tasks: task_choices(&s, &page, &category).await?,
        units: super::tasks::unit_options(&s).await?,
        ctx: page.ctx,
        lead,
        problems,
        categories,
    }
    .into_response())
}

/// The filled problem rows, each with its row number on the form.
fn problem_rows(f: &FormData) -> Vec<(usize, NewProblem)> {
    (1..=PROBLEM_ROWS)
        .filter_map(|n| {
            let category = f.text(&format!("p{n}_category"));
            let description = f.text(&format!("p{n}_description"));
            (!category.is_empty() || !description.is_empty()).then_some((
                n,
                NewProblem {
                    category_code: category,
                    description,
                },
            ))
        })
        .collect()
}

/// The service names `problems[i].x` and `lead_unit`; the form has `p{row}_x` and `lead`.
fn form_fields(e: AppError, rows: &[usize]) -> AppError {
    let rename = |mut f: FieldError| {
        if f.field == "lead_unit" {
            f.field = "lead".into();
        } else if let Some(rest) = f.field.strip_prefix("problems[") {
            if let Some((i, x)) = rest.split_once("].") {
                let row = i.parse::<usize>().ok().and_then(|i| rows.get(i)).copied();
                let x = x.strip_suffix("_code").unwrap_or(x);
                f.field = row.map(|r| format!("p{r}_{x}")).unwrap_or(f.field);
            }
        }
        f
    };
    match e {
        AppError::Invalid(fields) => AppError::Invalid(fields.into_iter().map(rename).collect()),
        other => other,
    }
}

/// `POST /ui/topics`: sets up the topic, then shows it.
pub async fn create(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    must_open(&page)?;
    let rows = problem_rows(&f);
    let numbers: Vec<usize> = rows.iter().map(|r| r.0).collect();
    let input = NewTopic {
        month: f.text("month"),
        title: f.text("title"),
        lead_unit: f.text("lead"),
        problems: rows.into_iter().map(|r| r.1).collect(),
        tasks: f.all("task"),
    };
    let id = topics::create(&s, &page.actor, input)
        .await
        .map_err(|e| form_fields(e, &numbers))?;
    Ok(done(&format!("/ui/topics/{id}"), "topic_created"))
}

struct TopicTask {
    id: String,
    number: String,
    title: String,
    status: String,
    status_code: String,
    progress: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "topic.html")]
struct TopicPage {
    ctx: Ctx,
    id: String,
    month: String,
    title: String,
    lead: String,
    problems: Vec<(String, String)>,
    months: Vec<(String, Vec<usize>)>,
    chart: String,
    tasks: Vec<TopicTask>,
    done: usize,
    total: usize,
    satisfied: i64,
    basic: i64,
    unsatisfied: i64,
    rate: String,
    may_open: bool,
}

/// `GET /ui/topics/{id}`: the topic and its progress.
pub async fn page(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        return Err(UiError(AppError::Forbidden("monthly topics")));
    }
    let tr = page.ctx.tr;
    let t = topics::get(&s, &page.actor, &id).await?;
    let names = directory::unit_names(&s, std::slice::from_ref(&t.topic.lead_unit)).await?;
    let problems: Vec<(String, String)> = t
        .problems
        .iter()
        .map(|p| {
            let code = p.category_code.clone().unwrap_or_default();
            let name = s.models.category_name(&code).unwrap_or_default();
            (p.description.clone(), format!("{name} ({code})"))
        })
        .collect();
    let chart = json!({
        "animation": false,
        "tooltip": { "trigger": "axis" },
        "legend": { "top": 0 },
        "grid": { "left": 40, "right": 20, "top": 36, "bottom": 24 },
        "xAxis": { "type": "category", "data": t.months.iter().map(|m| m.month.clone()).collect::<Vec<_>>() },
        "yAxis": { "type": "value", "minInterval": 1 },
        "series": problems.iter().enumerate().map(|(i, (d, _))| json!({
            "name": d, "type": "bar",
            "data": t.months.iter().map(|m| m.requests.get(i).copied().unwrap_or(0)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let tasks = t
        .tasks
        .iter()
        .map(|x| TopicTask {
            id: x.id.clone(),
            number: x.number.clone(),
            title: x.title.clone(),
            status: tr.of("status", x.status.as_str()),
            status_code: x.status.as_str().to_string(),
            progress: format!("{}/{}", x.replied, x.orders),
        })
        .collect();
    Ok(TopicPage {
        lead: names.of(&t.topic.lead_unit),
        months: t
            .months
            .into_iter()
            .map(|m| (m.month, m.requests))
            .collect(),
        chart: chart.to_string(),
        done: t.tasks_done,
        total: t.tasks_total,
        satisfied: t.satisfaction.satisfied,
        basic: t.satisfaction.basic,
        unsatisfied: t.satisfaction.unsatisfied,
        rate: pct(t.satisfaction.rate),
        may_open: page.actor.may(Action::OpenTask),
        ctx: page.ctx,
        id: t.topic.id,
        month: t.topic.month,
        title: t.topic.title,
        problems,
        tasks,
    }
    .into_response())
}
