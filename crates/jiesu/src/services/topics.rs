//! The monthly topic (每月一题): candidate problems ranked from the data, a topic with its
//! lead unit, 2–3 concrete problems and tasks, and its progress. Owns the proposal score;
//! the tasks themselves are `tasks`.

use super::hotspots::{index_of, load, view, Mined};
use super::kpi::Month;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::hotspots::{self as store, TaskSummary};

pub use crate::store::hotspots::{TopicProblem, TopicRow};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::{Actor, RequestStatus};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Months a proposal looks back over (the month asked about and the two before).
pub const PROPOSAL_MONTHS: usize = 3;

fn month_start(state: &AppState, m: Month) -> DateTime<Utc> {
    state.config.local_midnight(m.first_day())
}

fn month_of(state: &AppState, at_ms: i64) -> String {
    crate::store::from_millis(at_ms)
        .with_timezone(&state.config.offset())
        .format("%Y-%m")
        .to_string()
}

/// Parses `YYYY-MM` strictly (chrono alone also takes `2026-1`).
pub fn parse_month(s: &str) -> Result<Month, AppError> {
    let shaped = s.len() == 7 && s.as_bytes()[4] == b'-';
    if !shaped {
        return Err(AppError::invalid("month", "err.month_must_be_yyyy_mm"));
    }
    Ok(Month::parse(s)?)
}

/// A candidate problem for the monthly topic.
#[derive(Debug, Serialize)]
pub struct Proposal {
    /// 1 for the best.
    pub rank: usize,
    /// The category (stored, else the best keyword category).
    pub category_code: String,
    /// Its name.
    pub category_name: String,
    /// The hottest hotspot of the category over the months, as a concrete problem.
    pub description: String,
    /// Requests of the category over the months.
    pub volume: usize,
    /// Districts they came from.
    pub districts: usize,
    /// Months (of [`PROPOSAL_MONTHS`]) with at least one request.
    pub months_present: usize,
    /// Share of them a callback found unresolved or unsatisfied.
    pub dissatisfied_share: f64,
    /// `ln(1 + volume) × (1 + 0.25·(districts − 1)) × months_present / 3 × (1 + dissatisfied_share)`.
    pub score: f64,
    /// Up to three concrete problems (hotspots) of the category.
    pub problems: Vec<String>,
}

#[derive(Default)]
struct Tally<'a> {
    members: Vec<&'a Mined>,
    districts: BTreeSet<String>,
    months: BTreeSet<String>,
    unhappy: usize,
}

/// Candidate problems for `month`, best first (center roles).
pub async fn proposals(
    state: &AppState,
    actor: &Actor,
    month: Month,
) -> Result<Vec<Proposal>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("monthly topics"));
    }
    let mut first = month;
    for _ in 1..PROPOSAL_MONTHS {
        first = first.previous();
    }
    let requests = load(
        state,
        month_start(state, first),
        month_start(state, month.next()),
        None,
    )
    .await?;
    let mut tallies: FxHashMap<String, Tally> = FxHashMap::default();
    for m in &requests {
        let Some(c) = &m.category else { continue };
        let t = tallies.entry(c.clone()).or_default();
        t.members.push(m);
        t.districts
            .extend(m.at.district.as_ref().map(|d| d.0.clone()));
        t.months.insert(month_of(state, m.row.created_at));
        t.unhappy += m.row.dissatisfied as usize;
    }
    let mut out: Vec<Proposal> = tallies
        .into_iter()
        .map(|(code, t)| proposal(state, code, &t))
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.category_code.cmp(&b.category_code))
    });
    for (i, p) in out.iter_mut().enumerate() {
        p.rank = i + 1;
    }
    out.truncate(20);
    Ok(out)
}

fn proposal(state: &AppState, code: String, t: &Tally) -> Proposal {
    let volume = t.members.len();
    let districts = t.districts.len().max(1);
    let share = t.unhappy as f64 / volume.max(1) as f64;
    let score = (1.0 + volume as f64).ln()
        * (1.0 + 0.25 * (districts as f64 - 1.0))
        * (t.months.len() as f64 / PROPOSAL_MONTHS as f64)
        * (1.0 + share);
    let by_id: FxHashMap<&str, &Mined> =
        t.members.iter().map(|m| (m.row.id.as_str(), *m)).collect();
    let problems: Vec<String> = index_of(t.members.iter().copied())
        .problems(3, None)
        .into_iter()
        .map(|p| view(p, |id| by_id.get(id).copied()).description)
        .collect();
    let name = state
        .models
        .category_name(&code)
        .unwrap_or_else(|| code.clone());
    Proposal {
        rank: 0,
        description: problems.first().cloned().unwrap_or_else(|| name.clone()),
        category_name: name,
        category_code: code,
        volume,
        districts,
        months_present: t.months.len(),
        dissatisfied_share: share,
        score,
        problems,
    }
}

/// A topic as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTopic {
    /// YYYY-MM.
    pub month: String,
    /// Title.
    pub title: String,
    /// The lead unit (牵头单位).
    pub lead_unit: String,
    /// 2–3 concrete problems.
    pub problems: Vec<NewProblem>,
    /// Task ids to link.
    #[serde(default)]
    pub tasks: Vec<String>,
}

/// One concrete problem of a new topic.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProblem {
    /// The category progress is measured on.
    pub category_code: String,
    /// What the problem is.
    pub description: String,
}

async fn validate(state: &AppState, input: &NewTopic) -> Result<Month, AppError> {
    let month = parse_month(&input.month)?;
    let mut errors = Vec::new();
    if input.title.trim().is_empty() || input.title.chars().count() > 200 {
        errors.push(FieldError::of(
            "title",
            "err.topics.must_be_1_200_characters",
        ));
    }
    if crate::store::reference::unit(state.store.reader(), &input.lead_unit)
        .await?
        .is_none()
    {
        errors.push(FieldError::of("lead_unit", "err.no_such_unit"));
    }
    if !(2..=3).contains(&input.problems.len()) {
        errors.push(FieldError::of(
            "problems",
            "err.topics.name_2_3_concrete_problems",
        ));
    }
    for (i, p) in input.problems.iter().enumerate() {
        if state.models.category_name(&p.category_code).is_none() {
            errors.push(FieldError::of(
                format!("problems[{i}].category_code"),
                "err.no_such_category",
            ));
        }
        if p.description.trim().is_empty() || p.description.chars().count() > 500 {
            errors.push(FieldError::of(
                format!("problems[{i}].description"),
                "err.topics.must_be_1_500_characters",
            ));
        }
    }
    for (i, t) in input.tasks.iter().enumerate() {
        if store::task_links(state.store.reader(), t).await?.is_none() {
            errors.push(FieldError::of(
                format!("tasks[{i}]"),
                "err.topics.no_such_proactive_task",
            ));
        }
    }
    if errors.is_empty() {
        Ok(month)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Creates a topic and links its tasks; returns its id.
pub async fn create(state: &AppState, actor: &Actor, input: NewTopic) -> Result<String, AppError> {
    if !actor.may(Action::OpenTask) {
        return Err(AppError::Forbidden("monthly topics"));
    }
    let month = validate(state, &input).await?;
    let topic = TopicRow {
        id: uuid::Uuid::now_v7().to_string(),
        month: month.label(),
        title: input.title.trim().to_string(),
        lead_unit: input.lead_unit.clone(),
        created_by: actor.user_id.clone(),
        created_at: state.clock.now(),
    };
    let problems: Vec<TopicProblem> = input
        .problems
        .iter()
        .map(|p| TopicProblem {
            category_code: Some(p.category_code.clone()),
            description: p.description.trim().to_string(),
        })
        .collect();
    let mut tx = state.store.begin().await?;
    store::insert_topic(&mut tx, &topic, &problems).await?;
    for t in &input.tasks {
        store::set_task_topic(&mut tx, t, &topic.id).await?;
        state
            .event(actor, t, None, "task.topic_linked")
            .payload(serde_json::json!({ "topic_id": topic.id, "month": topic.month }))
            .record(&mut tx);
    }
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "topic.created",
        serde_json::json!({ "topic_id": topic.id, "month": topic.month, "title": topic.title,
            "lead_unit": topic.lead_unit, "problems": input.problems.iter().map(|p| &p.category_code).collect::<Vec<_>>(), "tasks": input.tasks }),
    ));
    tx.commit().await?;
    Ok(topic.id)
}

/// Requests on one problem's category in one month.
#[derive(Debug, Serialize)]
pub struct MonthVolume {
    /// YYYY-MM.
    pub month: String,
    /// Requests per problem, in the topic's order.
    pub requests: Vec<usize>,
}

/// Callback answers on the topic's categories since the topic's month.
#[derive(Debug, Serialize)]
pub struct Satisfaction {
    /// 满意.
    pub satisfied: i64,
    /// 基本满意.
    pub basic: i64,
    /// 不满意.
    pub unsatisfied: i64,
    /// (satisfied + basic) / all, None without answers.
    pub rate: Option<f64>,
}

/// A topic with its progress.
#[derive(Debug, Serialize)]
pub struct TopicView {
    /// The topic.
    #[serde(flatten)]
    pub topic: TopicRow,
    /// Its problems.
    pub problems: Vec<TopicProblem>,
    /// From three months before the topic's month to the current month.
    pub months: Vec<MonthVolume>,
    /// Its tasks.
    pub tasks: Vec<TaskSummary>,
    /// Tasks replied or closed.
    pub tasks_done: usize,
    /// All its tasks.
    pub tasks_total: usize,
    /// Callback answers on its categories since its month (stored categories).
    pub satisfaction: Satisfaction,
}

fn in_category(m: &Mined, code: &str) -> bool {
    m.category
        .as_deref()
        .is_some_and(|c| jiesu_core::dispatch::covers(code, c))
}

/// A topic as stored, with its problems and without progress (center roles); None when there
/// is no such topic.
pub async fn find(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Option<(TopicRow, Vec<TopicProblem>)>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("monthly topics"));
    }
    Ok(store::topic(state.store.reader(), id).await?)
}

/// A topic and its progress (center roles).
pub async fn get(state: &AppState, actor: &Actor, id: &str) -> Result<TopicView, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("monthly topics"));
    }
    let (topic, problems) = store::topic(state.store.reader(), id)
        .await?
        .ok_or(AppError::NotFound("topic"))?;
    let month = Month::parse(&topic.month)?;
    let now_month = Month::parse(
        &state
            .clock
            .now()
            .with_timezone(&state.config.offset())
            .format("%Y-%m")
            .to_string(),
    )?;
    let mut m = month.previous().previous().previous();
    let mut labels = Vec::new();
    while m.first_day() <= now_month.first_day().max(month.first_day()) && labels.len() < 24 {
        labels.push(m);
        m = m.next();
    }
    let start = month_start(state, labels[0]);
    let end = month_start(state, labels[labels.len() - 1].next());
    let requests = load(state, start, end, None).await?;
    let months = labels
        .iter()
        .map(|l| MonthVolume {
            month: l.label(),
            requests: problems
                .iter()
                .map(|p| {
                    let code = p.category_code.as_deref().unwrap_or("");
                    requests
                        .iter()
                        .filter(|r| {
                            month_of(state, r.row.created_at) == l.label() && in_category(r, code)
                        })
                        .count()
                })
                .collect(),
        })
        .collect();
    let tasks = store::list_tasks(state.store.reader(), None, Some(id), 1000).await?;
    let tasks_done = tasks.iter().filter(|t| is_done(t.status)).count();
    let (mut s, mut b, mut u) = (0, 0, 0);
    for p in &problems {
        if let Some(code) = &p.category_code {
            let (x, y, z) =
                store::satisfaction_in(state.store.reader(), code, month_start(state, month), end)
                    .await?;
            (s, b, u) = (s + x, b + y, u + z);
        }
    }
    let all = s + b + u;
    Ok(TopicView {
        topic,
        problems,
        months,
        tasks_total: tasks.len(),
        tasks_done,
        tasks,
        satisfaction: Satisfaction {
            satisfied: s,
            basic: b,
            unsatisfied: u,
            rate: (all > 0).then(|| (s + b) as f64 / all as f64),
        },
    })
}

/// A topic with the progress of its tasks, for lists.
#[derive(Debug, Serialize)]
pub struct TopicSummary {
    /// The topic.
    #[serde(flatten)]
    pub topic: TopicRow,
    /// Its problems.
    pub problems: Vec<TopicProblem>,
    /// Tasks replied or closed.
    pub tasks_done: usize,
    /// All its tasks.
    pub tasks_total: usize,
}

/// The `limit` latest topics, newest month first, with task progress (center roles).
pub async fn list(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<TopicSummary>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("monthly topics"));
    }
    let pool = state.store.reader();
    let topics = store::list_topics(pool, limit).await?;
    let ids: Vec<String> = topics.iter().map(|t| t.id.clone()).collect();
    let mut problems = store::problems_of(pool, &ids).await?;
    let mut tasks = store::task_statuses_of(pool, &ids).await?;
    Ok(topics
        .into_iter()
        .map(|topic| {
            let statuses = tasks.remove(&topic.id).unwrap_or_default();
            TopicSummary {
                tasks_done: statuses.iter().filter(|s| is_done(**s)).count(),
                tasks_total: statuses.len(),
                problems: problems.remove(&topic.id).unwrap_or_default(),
                topic,
            }
        })
        .collect())
}

/// A task counts as done once its units replied (or it was closed).
fn is_done(status: RequestStatus) -> bool {
    matches!(status, RequestStatus::Replied | RequestStatus::Closed)
}
