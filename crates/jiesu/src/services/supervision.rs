//! Supervision (督办): orders past or about to pass their deadlines, requests waiting for
//! re-dispatch after a return, dispatch disputes waiting for the center's decision, units with
//! repeated unsatisfied callbacks, and the units due for the monthly summons (the rectify
//! class). Unit staff see only their own unit's orders.

use super::views::OrderView;
use super::AppState;
use crate::error::AppError;
use crate::store::{assignments, requests};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::workflow::{AssignmentRole, AssignmentStatus};
use jiesu_core::Actor;
use std::collections::HashMap;

/// Which deadline list.
#[derive(Debug, Clone, Copy)]
pub enum DeadlineList {
    /// Past the acknowledge or reply deadline.
    Overdue,
    /// In the last share of the reply time (pre-breach).
    AboutToBreach,
}

/// Open orders past, or about to pass, their deadlines.
pub async fn overdue(
    state: &AppState,
    actor: &Actor,
    list: DeadlineList,
    limit: i64,
) -> Result<Vec<OrderView>, AppError> {
    let scope = if actor.may(Action::Supervise) {
        "/".to_string()
    } else if let Some(u) = actor.unit.as_ref().filter(|_| actor.role.is_unit_role()) {
        u.path.clone()
    } else {
        return Err(AppError::Forbidden("supervision lists"));
    };
    let (pool, now, limit) = (
        state.store.reader(),
        state.clock.now(),
        limit.clamp(1, 1000),
    );
    let rows = match list {
        DeadlineList::Overdue => assignments::overdue(pool, now, &scope, limit).await?,
        DeadlineList::AboutToBreach => {
            assignments::about_to_breach(pool, now, &scope, limit).await?
        }
    };
    Ok(rows.iter().map(OrderView::from).collect())
}

fn center_only(actor: &Actor) -> Result<(), AppError> {
    if actor.may(Action::Supervise) {
        Ok(())
    } else {
        Err(AppError::Forbidden("supervision lists"))
    }
}

/// The categories requests of `[from, to)` were filed under, most requests first, at most
/// `top`: (category code and Chinese name, or None for uncategorised; count). Center roles.
pub async fn volume_by_category(
    state: &AppState,
    actor: &Actor,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    top: usize,
) -> Result<Vec<(Option<(String, String)>, i64)>, AppError> {
    center_only(actor)?;
    let pool = state.store.reader();
    let mut counts = requests::volume_by_category(pool, from, to).await?;
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    counts.truncate(top);
    // The names in force at the period's end (a category renamed since keeps its old name).
    let as_of = state.clock.now().min(to) - chrono::Duration::milliseconds(1);
    let names: HashMap<String, String> = crate::store::categories::names_at(pool, as_of)
        .await?
        .into_iter()
        .map(|(code, (name, _))| (code, name))
        .collect();
    Ok(counts
        .into_iter()
        .map(|(code, n)| {
            let named = code.map(|c| {
                let name = names.get(&c).cloned().unwrap_or_else(|| c.clone());
                (c, name)
            });
            (named, n)
        })
        .collect())
}

/// Lead orders returned and waiting for the dispatcher (退单待处理).
pub async fn returned(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<OrderView>, AppError> {
    center_only(actor)?;
    Ok(
        assignments::returned_waiting(state.store.reader(), limit.clamp(1, 1000))
            .await?
            .iter()
            .map(OrderView::from)
            .collect(),
    )
}

/// A dispatch dispute (派单争议): units returned the request at least twice in its round.
#[derive(Debug, serde::Serialize)]
pub struct Dispute {
    /// Request id.
    pub request_id: String,
    /// Request number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Category, if known.
    pub category_code: Option<String>,
    /// The round.
    pub round: i64,
    /// Each return, oldest first, with the unit's reason.
    pub returns: Vec<OrderView>,
}

/// Requests returned by at least two lead units in their current round and waiting for the
/// center to decide who is responsible (`POST /requests/{id}/arbitrate`).
pub async fn disputes(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<Dispute>, AppError> {
    center_only(actor)?;
    let pool = state.store.reader();
    let mut out = Vec::new();
    for id in crate::store::disputes::disputed(pool, 2, limit.clamp(1, 500)).await? {
        let Some(req) = requests::get(pool, &id).await? else {
            continue;
        };
        let returns = assignments::assignments_of(pool, &id)
            .await?
            .iter()
            .filter(|a| {
                a.round == req.round
                    && a.role == AssignmentRole::Lead
                    && a.status == AssignmentStatus::Returned
            })
            .map(OrderView::from)
            .collect();
        out.push(Dispute {
            request_id: req.id,
            number: req.number,
            title: req.title,
            category_code: req.category_code,
            round: req.round,
            returns,
        });
    }
    Ok(out)
}

/// A unit with repeated unsatisfied callbacks.
#[derive(Debug, serde::Serialize)]
pub struct UnsatisfiedUnit {
    /// Unit code.
    pub unit_code: String,
    /// Name.
    pub name: String,
    /// Unresolved or unsatisfied reached callbacks in the month.
    pub unsatisfied: i64,
}

/// Units with at least `min` unresolved or unsatisfied callbacks in the month.
pub async fn unsatisfied(
    state: &AppState,
    actor: &Actor,
    month: super::kpi::Month,
    min: i64,
) -> Result<Vec<UnsatisfiedUnit>, AppError> {
    center_only(actor)?;
    let (from, to) = (
        state.config.local_midnight(month.first_day()),
        state.config.local_midnight(month.next().first_day()),
    );
    let mut out = Vec::new();
    for (code, n) in
        crate::store::kpi::repeated_unsatisfied(state.store.reader(), from, to, min.max(1)).await?
    {
        let name = crate::store::reference::unit(state.store.reader(), &code)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        out.push(UnsatisfiedUnit {
            unit_code: code,
            name,
            unsatisfied: n,
        });
    }
    Ok(out)
}

/// The units due for the monthly summons (点名/约谈): the rectify class of the month's ranking.
pub async fn summons(
    state: &AppState,
    actor: &Actor,
    month: super::kpi::Month,
    level: super::kpi::Level,
) -> Result<Vec<super::kpi::UnitRanking>, AppError> {
    center_only(actor)?;
    let json = super::kpi::ranking_json(state, month, level).await?;
    let r: super::kpi::Ranking =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(r.units
        .into_iter()
        .filter(|u| u.class == Some(jiesu_core::kpi::RankClass::Rectify))
        .collect())
}
