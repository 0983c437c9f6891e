//! The work queues as the pages list them, each row ready to show (request number and title,
//! unit names resolved) in a fixed number of queries per queue: a unit's open orders (承办),
//! requests due for their callback (回访), requests waiting for dispatch with the reason of a
//! return (派单), and extension requests waiting for a decision (延期审批). Who may see each
//! queue is decided here, not in the page.

use super::directory::{unit_names, UnitNames};
use super::supervision::DeadlineList;
use super::views::{requester_view, OrderView, RequesterView};
use super::AppState;
use crate::error::AppError;
use crate::store::requests::RequestRow;
use crate::store::{assignments, queues};
use jiesu_core::access::Action;
use jiesu_core::{Actor, RequestStatus};
use std::collections::HashMap;

pub use crate::store::assignments::AssignmentRow;
pub use crate::store::extensions::ExtensionRow;

/// An open order of a unit, with its request and the unit's name.
#[derive(Debug, Clone)]
pub struct UnitOrder {
    /// The order.
    pub order: AssignmentRow,
    /// Its request's number.
    pub number: String,
    /// Its request's title.
    pub title: String,
    /// The unit's name (its code where it has none).
    pub unit_name: String,
}

/// The open orders (dispatched or acknowledged) of the actor's unit and the units under it,
/// soonest deadline first; unit roles only.
pub async fn unit_orders(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<UnitOrder>, AppError> {
    let scope = match (&actor.unit, actor.role.is_unit_role()) {
        (Some(u), true) => u.path.clone(),
        _ => return Err(AppError::Forbidden("the unit workbench")),
    };
    let rows = queues::unit_open_orders(state.store.reader(), &scope, limit).await?;
    with_titles(state, rows).await
}

/// The replied orders (办结) of the actor's unit and the units under it, latest first: the
/// workbench's list of finished orders, each still open to an appeal until its month is
/// frozen; unit roles only.
pub async fn unit_replied_orders(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<UnitOrder>, AppError> {
    let scope = match (&actor.unit, actor.role.is_unit_role()) {
        (Some(u), true) => u.path.clone(),
        _ => return Err(AppError::Forbidden("the unit workbench")),
    };
    let rows = queues::unit_replied_orders(state.store.reader(), &scope, limit).await?;
    with_titles(state, rows).await
}

async fn with_titles(
    state: &AppState,
    rows: Vec<AssignmentRow>,
) -> Result<Vec<UnitOrder>, AppError> {
    let pool = state.store.reader();
    let ids: Vec<String> = rows.iter().map(|a| a.request_id.clone()).collect();
    let titles = queues::request_titles(pool, &ids).await?;
    let names = unit_names(state, rows.iter().map(|a| &a.unit_code)).await?;
    Ok(rows
        .into_iter()
        .map(|order| {
            let (number, title) = titles.get(&order.request_id).cloned().unwrap_or_default();
            UnitOrder {
                unit_name: names.of(&order.unit_code),
                number,
                title,
                order,
            }
        })
        .collect())
}

/// A unit's reply to the requester, as the callback agent reads it out.
#[derive(Debug, Clone)]
pub struct UnitReply {
    /// The unit's name (empty where the unit is unknown).
    pub unit_name: String,
    /// What the unit told the requester.
    pub text: String,
}

/// A request due for its callback (a merged one is called back on its primary's replies).
#[derive(Debug, Clone)]
pub struct DueCallback {
    /// Request id.
    pub id: String,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Its round.
    pub round: i64,
    /// Whether it was merged into another request.
    pub merged: bool,
    /// Unreachable attempts so far.
    pub attempts: i64,
    /// The requester as the actor may see them (the phone in full for callback agents).
    pub requester: Option<RequesterView>,
    /// The replies of the last round to the requester.
    pub replies: Vec<UnitReply>,
    /// What the requester answered the rating text (短信回访) when that sent the request here.
    pub sms_answer: Option<String>,
}

/// Requests waiting for their callback, oldest first, with the replies of their last round
/// (a merged request's requester hears about the primary's replies); callback agents and
/// the center. A request whose requester was asked to rate by SMS joins once they answered
/// badly or not at all within `JIESU_SMS_RATING_HOURS`.
pub async fn callbacks_due(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<DueCallback>, AppError> {
    if !actor.may(Action::Callback) {
        return Err(AppError::Forbidden("callbacks"));
    }
    let pool = state.store.reader();
    // A rating asked by SMS holds its request back for a while (issue 19).
    let cutoff = state.clock.now() - chrono::Duration::hours(state.config.sms_rating_hours);
    let rows = queues::callback_due(pool, limit, cutoff).await?;
    let source = |r: &RequestRow| r.primary_id.clone().unwrap_or_else(|| r.id.clone());
    let mut sources: Vec<String> = rows.iter().map(source).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut orders: HashMap<String, Vec<AssignmentRow>> = HashMap::new();
    for a in assignments::assignments_of_many(pool, &sources).await? {
        orders.entry(a.request_id.clone()).or_default().push(a);
    }
    let names = unit_names(state, orders.values().flatten().map(|a| &a.unit_code)).await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut answers = crate::store::sms::queued_answers(pool, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|request| {
            let mine = orders.get(&source(&request)).map_or(&[][..], Vec::as_slice);
            let round = mine.iter().map(|a| a.round).max().unwrap_or(request.round);
            DueCallback {
                sms_answer: answers.remove(&request.id),
                replies: replies_of(mine, round, &names),
                requester: requester_view(actor, &request),
                merged: request.status == RequestStatus::Merged,
                attempts: request.callback_attempts,
                round: request.round,
                id: request.id,
                number: request.number,
                title: request.title,
            }
        })
        .collect())
}

/// The replies to the requester of one round's orders.
fn replies_of(orders: &[AssignmentRow], round: i64, names: &UnitNames) -> Vec<UnitReply> {
    orders
        .iter()
        .filter(|a| a.round == round)
        .filter_map(|a| {
            Some(UnitReply {
                text: a.reply_to_requester.clone()?,
                unit_name: names.get(&a.unit_code).unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// A request the lead unit returned, with who returned it and why.
#[derive(Debug, Clone)]
pub struct ReturnedOrder {
    /// The returned order.
    pub order: OrderView,
    /// The unit's name (its code where it has none).
    pub unit_name: String,
}

/// Requests waiting for re-dispatch after their lead unit returned them, oldest return first,
/// with the unit names; dispatchers and the center.
pub async fn returned(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<ReturnedOrder>, AppError> {
    let rows = super::supervision::returned(state, actor, limit).await?;
    let names = unit_names(state, rows.iter().map(|o| &o.unit_code)).await?;
    Ok(rows
        .into_iter()
        .map(|order| ReturnedOrder {
            unit_name: names.of(&order.unit_code),
            order,
        })
        .collect())
}

/// An extension request waiting for a decision, with its request and unit.
#[derive(Debug, Clone)]
pub struct PendingExtension {
    /// The extension request.
    pub extension: ExtensionRow,
    /// Its request's number.
    pub number: String,
    /// Its request's title.
    pub title: String,
    /// The asking unit's name (its code where it has none).
    pub unit_name: String,
}

/// Extension requests waiting for a decision, oldest first; those who decide them.
pub async fn pending_extensions(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<PendingExtension>, AppError> {
    if !actor.may(Action::DecideExtension) {
        return Err(AppError::Forbidden("extension requests"));
    }
    let pool = state.store.reader();
    let pending = queues::pending_extensions(pool, limit).await?;
    let req_ids: Vec<String> = pending.iter().map(|e| e.request_id.clone()).collect();
    let ord_ids: Vec<String> = pending.iter().map(|e| e.assignment_id.clone()).collect();
    let titles = queues::request_titles(pool, &req_ids).await?;
    let units = queues::assignment_units(pool, &ord_ids).await?;
    let names = unit_names(state, units.values()).await?;
    Ok(pending
        .into_iter()
        .map(|extension| {
            let (number, title) = titles
                .get(&extension.request_id)
                .cloned()
                .unwrap_or_default();
            let code = units
                .get(&extension.assignment_id)
                .cloned()
                .unwrap_or_default();
            PendingExtension {
                unit_name: names.of(&code),
                number,
                title,
                extension,
            }
        })
        .collect())
}

/// An order on a deadline list, with its request's number and the unit's name.
#[derive(Debug)]
pub struct WatchedOrder {
    /// The order.
    pub order: OrderView,
    /// Its request's number.
    pub number: String,
    /// The unit's name (its code where it has none).
    pub unit_name: String,
}

/// Open orders past, or about to pass, their deadlines, with numbers and unit names; the
/// center sees all, unit staff their own unit's.
pub async fn deadline_orders(
    state: &AppState,
    actor: &Actor,
    list: DeadlineList,
    limit: i64,
) -> Result<Vec<WatchedOrder>, AppError> {
    let orders = super::supervision::overdue(state, actor, list, limit).await?;
    let ids: Vec<String> = orders.iter().map(|o| o.request_id.clone()).collect();
    let titles = queues::request_titles(state.store.reader(), &ids).await?;
    let names = unit_names(state, orders.iter().map(|o| &o.unit_code)).await?;
    Ok(orders
        .into_iter()
        .map(|order| WatchedOrder {
            number: titles
                .get(&order.request_id)
                .map(|t| t.0.clone())
                .unwrap_or_default(),
            unit_name: names.of(&order.unit_code),
            order,
        })
        .collect())
}
