//! Supervision (督办): orders past their deadlines and requests waiting for a callback.
//! Unit staff see only their own unit's part.

use super::views::{order_view, OrderView};
use super::AppState;
use crate::error::AppError;
use crate::store::requests;
use jiesu_core::access::Action;
use jiesu_core::Actor;

/// Open orders past their acknowledge or reply deadline, most overdue first.
pub async fn overdue(
    state: &AppState,
    actor: &Actor,
    limit: i64,
) -> Result<Vec<OrderView>, AppError> {
    let scope = if actor.may(Action::Supervise) {
        "/".to_string()
    } else if let Some(u) = actor.unit.as_ref().filter(|_| actor.role.is_unit_role()) {
        u.path.clone()
    } else {
        return Err(AppError::Forbidden("supervision lists"));
    };
    let rows = requests::overdue(
        state.store.reader(),
        state.clock.now(),
        &scope,
        limit.clamp(1, 1000),
    )
    .await?;
    Ok(rows.iter().map(order_view).collect())
}
