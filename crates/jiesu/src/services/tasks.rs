//! Proactive tasks (主动治理任务, 未诉先办): a task IS a request of channel `proactive`,
//! recorded by the center and dispatched in the same transaction, so orders, deadlines,
//! acknowledgements, replies, supervision, events and KPIs are the ones every request has.
//! This module owns opening them and saying where they came from; not the handling.

use super::directory::unit_names;
use super::handling::{open_orders, settle_status, DispatchTarget};
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::hotspots::{self as store, TaskRow};

use crate::store::assignments;
pub use crate::store::hotspots::TaskSummary;
use crate::store::reference;
use crate::store::requests::{self, RequestDraft, RequestRow};
use jiesu_core::access::Action;
use jiesu_core::workflow::{check_targets, AssignmentStatus};
use jiesu_core::{Actor, Channel, RequestKind, RequestStatus, TaskOrigin};
use serde::Deserialize;
use std::collections::HashMap;

/// A task as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Title.
    pub title: String,
    /// What the units are to do.
    pub description: String,
    /// What prompted it.
    pub source: TaskSource,
    /// The citizen requests behind it (may be empty for a topic task).
    #[serde(default)]
    pub request_ids: Vec<String>,
    /// The units and their roles; exactly one lead.
    pub units: Vec<DispatchTarget>,
    /// The time-limit class (default: the category's, else `general`).
    pub time_limit_class: Option<String>,
    /// The category (default: the most common of its requests).
    pub category_code: Option<String>,
    /// Where (default: the first request's address).
    pub address: Option<String>,
    /// The monthly topic it belongs to.
    pub topic_id: Option<String>,
}

/// Where a task came from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSource {
    /// `hotspot`, `alert`, `topic` or `elsewhere` (举一反三 from another task or problem).
    pub kind: String,
    /// The problem key, alert, topic id or task id.
    #[serde(rename = "ref")]
    pub reference: String,
}

fn validate(input: &NewTask) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut text = |field: &str, value: &str, max: usize| {
        if value.trim().is_empty() || value.chars().count() > max {
            errors.push(FieldError::with(
                field,
                "err.tasks.must_be_1_max_characters",
                &[("max", max.to_string())],
            ));
        }
    };
    text("title", &input.title, 200);
    text("description", &input.description, 20_000);
    text("source.ref", &input.source.reference, 200);
    if input
        .address
        .as_ref()
        .is_some_and(|a| a.chars().count() > 500)
    {
        errors.push(FieldError::with(
            "address",
            "err.intake.must_be_at_most_max_characters",
            &[("max", "500".to_string())],
        ));
    }
    if TaskOrigin::parse(&input.source.kind).is_none() {
        errors.push(FieldError::of(
            "source.kind",
            "err.tasks.must_be_hotspot_alert_topic_or",
        ));
    }
    if input.request_ids.len() > 1000 {
        errors.push(FieldError::of(
            "request_ids",
            "err.tasks.at_most_1000_requests",
        ));
    }
    errors
}

/// Checks the units and the linked requests; returns the units and the linked rows.
async fn resolve(
    state: &AppState,
    input: &NewTask,
) -> Result<
    (
        Vec<(reference::Unit, jiesu_core::workflow::AssignmentRole)>,
        Vec<RequestRow>,
    ),
    AppError,
> {
    let mut errors = validate(input);
    let mut targets = Vec::new();
    for (i, t) in input.units.iter().enumerate() {
        match reference::unit(state.store.reader(), &t.unit_code).await? {
            Some(u) if u.level != "center" => targets.push((u, t.role)),
            _ => errors.push(FieldError::with(
                format!("units[{i}].unit_code"),
                "err.no_such_handling_unit",
                &[("unit", t.unit_code.to_string())],
            )),
        }
    }
    let mut linked = Vec::new();
    for (i, id) in input.request_ids.iter().enumerate() {
        match requests::get(state.store.reader(), id).await? {
            Some(r) if r.channel != Channel::Proactive => linked.push(r),
            _ => errors.push(FieldError::with(
                format!("request_ids[{i}]"),
                "err.tasks.no_such_citizen_request_id",
                &[("id", id.to_string())],
            )),
        }
    }
    if let Some(t) = &input.topic_id {
        if store::topic(state.store.reader(), t).await?.is_none() {
            errors.push(FieldError::of(
                "topic_id",
                "err.tasks.no_such_monthly_topic",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok((targets, linked))
}

fn most_common(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|c| c.0 == v) {
            Some(c) => c.1 += 1,
            None => counts.push((v, 1)),
        }
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|c| c.0)
}

/// The task's category (given, or the most common of its requests) and that category's
/// time-limit class. Read before the task's transaction begins: on PostgreSQL a transaction
/// that waits for a second pooled connection can starve the pool.
async fn category_and_class(
    state: &AppState,
    input: &NewTask,
    linked: &[RequestRow],
) -> Result<(Option<String>, Option<String>), AppError> {
    let category = input
        .category_code
        .clone()
        .or_else(|| most_common(linked.iter().filter_map(|r| r.category_code.clone())));
    // A category named for the task must take new work; one taken from its requests (which
    // keep theirs) only lends its class.
    let class = match (&category, &input.category_code) {
        (Some(code), Some(_)) => Some(
            super::categories::usable(state, "category_code", code)
                .await?
                .time_limit_class,
        ),
        (Some(code), None) => {
            crate::store::categories::at(state.store.reader(), code, state.clock.now())
                .await?
                .map(|c| c.time_limit_class)
        }
        (None, _) => None,
    };
    Ok((category, class))
}

async fn task_row(
    state: &AppState,
    tx: &mut crate::store::Tx,
    actor: &Actor,
    input: &NewTask,
    linked: &[RequestRow],
    (category, class): (Option<String>, Option<String>),
) -> Result<RequestRow, AppError> {
    let now = state.clock.now();
    let day = now
        .with_timezone(&state.config.offset())
        .format("%Y%m%d")
        .to_string();
    Ok(RequestRow::new(RequestDraft {
        number: requests::next_number(tx, &day).await?,
        jurisdiction: state.config.jurisdiction.clone(),
        kind: most_common(linked.iter().map(|r| r.kind.as_str().to_string()))
            .and_then(|k| RequestKind::parse(&k))
            .unwrap_or(RequestKind::Suggestion),
        channel: Channel::Proactive,
        merged_line: None,
        title: input.title.trim().to_string(),
        body: input.description.clone(),
        address: input
            .address
            .clone()
            .or_else(|| linked.first().map(|r| r.address.clone()))
            .unwrap_or_default(),
        category_code: category,
        time_limit_class: class,
        requester_name: "12345 中心（主动治理）".into(),
        requester_phone: "12345".into(),
        enterprise_name: None,
        credit_code: None,
        confidential: false,
        created_by: actor.user_id.clone(),
        created_at: now,
    }))
}

/// Opens a task and dispatches it to its units; returns the task's request id.
pub async fn open(state: &AppState, actor: &Actor, input: NewTask) -> Result<String, AppError> {
    if !actor.may(Action::OpenTask) {
        return Err(AppError::Forbidden("opening proactive tasks"));
    }
    if input.source.kind == TaskOrigin::Whistle.as_str() {
        return Err(AppError::invalid(
            "source.kind",
            "err.whistle.opened_by_a_street_through_whistles",
        ));
    }
    let (tx, req, _) = open_uncommitted(state, actor, input, "12345 中心（主动治理）").await?;
    tx.commit().await?;
    Ok(req.id)
}

/// Opens a task and dispatches it in a transaction left open for the caller (吹哨报到 adds its
/// summons to it); returns the transaction, the task's request and its orders.
pub(crate) async fn open_uncommitted(
    state: &AppState,
    actor: &Actor,
    input: NewTask,
    requester_name: &str,
) -> Result<
    (
        crate::store::Tx,
        RequestRow,
        Vec<assignments::AssignmentRow>,
    ),
    AppError,
> {
    let (targets, linked) = resolve(state, &input).await?;
    let wanted: Vec<_> = targets.iter().map(|(u, r)| (u.code.clone(), *r)).collect();
    check_targets(RequestStatus::Received, &[], &wanted).map_err(|e| rename_units(e.into()))?;
    let category_class = category_and_class(state, &input, &linked).await?;
    let mut tx = state.store.begin().await?;
    let mut req = task_row(state, &mut tx, actor, &input, &linked, category_class).await?;
    req.requester_name = requester_name.to_string();
    requests::insert(&mut tx, &req).await?;
    let links: Vec<String> = linked.iter().map(|r| r.id.clone()).collect();
    let task = TaskRow {
        request_id: req.id.clone(),
        source_kind: TaskOrigin::parse(&input.source.kind).ok_or_else(|| {
            AppError::invalid("source.kind", "err.tasks.must_be_hotspot_alert_topic_or")
        })?,
        source_ref: input.source.reference.clone(),
        topic_id: input.topic_id.clone(),
        created_by: actor.user_id.clone(),
        created_at: req.created_at,
    };
    store::insert_task(&mut tx, &task, &links).await?;
    state
        .event(actor, &req.id, None, "request.created")
        .change("", RequestStatus::Received.as_str())
        .payload(serde_json::json!({
            "number": req.number, "kind": req.kind, "channel": req.channel, "category_code": req.category_code,
            "source": { "kind": task.source_kind, "ref": task.source_ref }, "topic_id": task.topic_id, "request_ids": links,
            "confidential": req.confidential, "time_limit_class": req.time_limit_class,
        }))
        .record(&mut tx);
    for id in &links {
        state
            .event(actor, id, None, "request.task_opened")
            .payload(serde_json::json!({ "task_id": req.id, "task_number": req.number }))
            .record(&mut tx);
    }
    let class = input
        .time_limit_class
        .clone()
        .or_else(|| req.time_limit_class.clone())
        .unwrap_or_else(|| "general".into());
    req.time_limit_class = Some(class.clone());
    let orders = open_orders(state, &mut tx, actor, &req, &targets, &class).await?;
    settle_status(state, &mut tx, actor, &mut req, &orders).await?;
    Ok((tx, req, orders))
}

/// The dispatch rules name the field `assignments`; a task calls it `units`.
fn rename_units(e: AppError) -> AppError {
    match e {
        AppError::Invalid(fields) => AppError::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    if f.field == "assignments" {
                        f.field = "units".into();
                    }
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

/// Tasks, newest first (center roles), optionally by request status.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    status: Option<&str>,
) -> Result<Vec<TaskSummary>, AppError> {
    if !actor.may(Action::Supervise) && !actor.may(Action::OpenTask) {
        return Err(AppError::Forbidden("proactive tasks"));
    }
    if let Some(s) = status {
        if RequestStatus::parse(s).is_none() {
            return Err(AppError::invalid(
                "status",
                "err.tasks.no_such_request_status",
            ));
        }
    }
    Ok(store::list_tasks(state.store.reader(), status, None, 500).await?)
}

/// The same problem elsewhere as a task (举一反三), over the `days` before now.
pub async fn elsewhere(
    state: &AppState,
    actor: &Actor,
    task_id: &str,
    days: i64,
) -> Result<Vec<super::hotspots::HotspotView>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("proactive tasks"));
    }
    let links = store::task_links(state.store.reader(), task_id)
        .await?
        .ok_or(AppError::NotFound("task"))?;
    super::hotspots::elsewhere(state, &links, days).await
}

/// One task: where it came from, its topic and its linked requests (center roles).
pub async fn get(state: &AppState, actor: &Actor, task_id: &str) -> Result<TaskSummary, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("proactive tasks"));
    }
    store::task(state.store.reader(), task_id)
        .await?
        .ok_or(AppError::NotFound("task"))
}

/// An order of a task's current round, with its unit's name.
#[derive(Debug)]
pub struct TaskOrder {
    /// The order.
    pub order: assignments::AssignmentRow,
    /// The unit's name (its code where it has none).
    pub unit_name: String,
}

/// A task still being worked on, with the orders of its current round.
#[derive(Debug)]
pub struct OpenTask {
    /// The task.
    pub task: TaskSummary,
    /// Its orders of the current round that were not returned: units, roles, deadlines.
    pub orders: Vec<TaskOrder>,
}

/// Tasks not yet closed, newest first, with their current orders and unit names (center
/// roles); three queries whatever the number of tasks.
pub async fn open_tasks(
    state: &AppState,
    actor: &Actor,
    limit: usize,
) -> Result<Vec<OpenTask>, AppError> {
    let open: Vec<TaskSummary> = list(state, actor, None)
        .await?
        .into_iter()
        .filter(|t| t.status != RequestStatus::Closed)
        .take(limit)
        .collect();
    let ids: Vec<String> = open.iter().map(|t| t.id.clone()).collect();
    let mut by_task: HashMap<String, Vec<assignments::AssignmentRow>> = HashMap::new();
    for a in assignments::assignments_of_many(state.store.reader(), &ids).await? {
        by_task.entry(a.request_id.clone()).or_default().push(a);
    }
    let names = unit_names(state, by_task.values().flatten().map(|a| &a.unit_code)).await?;
    Ok(open
        .into_iter()
        .map(|task| {
            let all = by_task.remove(&task.id).unwrap_or_default();
            let round = all.iter().map(|a| a.round).max().unwrap_or(1);
            let orders = all
                .into_iter()
                .filter(|a| a.round == round && a.status != AssignmentStatus::Returned)
                .map(|order| TaskOrder {
                    unit_name: names.of(&order.unit_code),
                    order,
                })
                .collect();
            OpenTask { task, orders }
        })
        .collect())
}
