//! Unit changes with a date (issue 18) and every node following unit changes: the day a
//! change takes effect (`effective_from`), the sweep that applies the changes dated ahead
//! (`unit_schedule`) on their day, and the follower that rebuilds a node's gazetteer and unit
//! names when unit events arrive in the log. The change itself is `services::units`.

use super::accounts::By;
use super::units::{change_in, reload, UnitChange, When};
use super::AppState;
use crate::error::AppError;
use crate::store::units::{self as store, ScheduledChange};
use chrono::{DateTime, Utc};

/// Applies the dated changes whose day has come (each once, on whichever node takes it
/// first), in force from their day: a change no longer valid (its parent closed meanwhile)
/// is marked `failed` with the reason and an event `unit.change_failed`. Returns how many
/// were applied.
pub async fn apply_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.clock.now();
    let mut applied = 0;
    for c in store::due(state.store.reader(), now, 500).await? {
        let input: UnitChange = serde_json::from_value(c.change.clone()).unwrap_or_default();
        let mut tx = state.store.begin().await?;
        if !store::finish_scheduled(&mut tx, &c.id, "applied", "", now).await? {
            continue;
        }
        let mut effective = c.effective_from;
        if let Some(last) = store::latest_version_at(&mut tx, &c.code).await? {
            effective = effective.max(last);
        }
        let when = When {
            now,
            effective,
            schedule: Some(&c),
        };
        match change_in(state, &mut tx, By::System, "", &c.code, &input, when).await {
            Ok(_) => {
                tx.commit().await?;
                applied += 1;
            }
            Err(e @ (AppError::Invalid(_) | AppError::NotFound(_) | AppError::Conflict(_))) => {
                drop(tx);
                let note = reason(&e);
                let mut tx = state.store.begin().await?;
                if store::finish_scheduled(&mut tx, &c.id, "failed", &note, now).await? {
                    tx.event(By::System.event(
                        state,
                        "unit.change_failed",
                        serde_json::json!({ "code": c.code, "schedule_id": c.id, "reason": note }),
                    ));
                    tx.commit().await?;
                }
            }
            // A fault of ours (the database): the change stays pending for the next sweep.
            Err(e) => return Err(e),
        }
    }
    if applied > 0 {
        reload(state).await;
    }
    Ok(applied)
}

/// The first day of each unit's pending dated change (`YYYY-MM-DD`, the city's), by code.
pub async fn pending_days(
    state: &AppState,
) -> Result<std::collections::HashMap<String, String>, AppError> {
    let far = DateTime::<Utc>::MAX_UTC;
    let mut out = std::collections::HashMap::new();
    for c in store::due(state.store.reader(), far, 10_000).await? {
        let day = c
            .effective_from
            .with_timezone(&state.config.offset())
            .date_naive();
        out.entry(c.code).or_insert_with(|| day.to_string());
    }
    Ok(out)
}

/// A unit's changes dated ahead, by day: with `pending_only`, only those still waiting.
/// 404 when there is no such unit.
pub async fn changes_of(
    state: &AppState,
    code: &str,
    pending_only: bool,
) -> Result<Vec<ScheduledChange>, AppError> {
    if store::get(state.store.reader(), code).await?.is_none() {
        return Err(AppError::NotFound("unit"));
    }
    let mut all = store::scheduled_of(state.store.reader(), code).await?;
    if pending_only {
        all.retain(ScheduledChange::is_pending);
    }
    Ok(all)
}

/// Every pending change dated ahead, by day (the admin page's list).
pub async fn pending(state: &AppState) -> Result<Vec<ScheduledChange>, AppError> {
    Ok(store::due(state.store.reader(), DateTime::<Utc>::MAX_UTC, 10_000).await?)
}

/// Cancels a unit's pending dated change before its day (event `unit.change_cancelled`); the
/// sweep never applies it. 404 when the unit has no such change, 409 when it is no longer
/// pending (applied, failed or cancelled already).
pub async fn cancel(
    state: &AppState,
    by: By<'_>,
    code: &str,
    id: &str,
) -> Result<ScheduledChange, AppError> {
    by.may_administer()?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let Some(mut c) = store::scheduled_of(tx.conn(), code)
        .await?
        .into_iter()
        .find(|c| c.id == id)
    else {
        return Err(AppError::NotFound("scheduled change"));
    };
    if !store::finish_scheduled(&mut tx, &c.id, "cancelled", "", now).await? {
        return Err(AppError::Conflict(format!(
            "the change is {} already",
            c.status
        )));
    }
    c.status = "cancelled".into();
    tx.event(by.event(
        state,
        "unit.change_cancelled",
        serde_json::json!({ "code": code, "schedule_id": c.id, "change": c.change,
            "effective_from": c.effective_from }),
    ));
    tx.commit().await?;
    Ok(c)
}

/// Why a dated change could not apply, for its row (field by field, both languages).
fn reason(e: &AppError) -> String {
    match e {
        AppError::Invalid(fields) => fields
            .iter()
            .map(|f| format!("{}: {} / {}", f.field, f.message, f.message_en))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// Rebuilds this node's gazetteer and unit names when the event log holds unit events it has
/// not followed yet (another node's change, or a dated one applied anywhere). Returns whether
/// it rebuilt.
pub async fn follow(state: &AppState) -> Result<bool, AppError> {
    let seen = state.models.units_seq();
    let Some(last) =
        crate::store::events::last_unit_event_after(state.store.reader(), seen).await?
    else {
        return Ok(false);
    };
    state
        .models
        .reload_units(state.store.reader())
        .await
        .map_err(AppError::Internal)?;
    state.models.followed_units(last);
    Ok(true)
}
