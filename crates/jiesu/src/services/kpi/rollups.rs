//! The maintained daily tallies (rollups) behind the rates: a month's counts from them or
//! from a full recount, their refresh and rebuild, the check of one against the other, and a
//! month's counts summed up the unit tree.

use super::{Level, Month};
use crate::error::AppError;
use crate::services::AppState;
use crate::store::{kpi as store, reference};
use jiesu_core::kpi::{self, Tally};
use std::collections::HashMap;

/// The local day numbers [first, next month's first) of a month.
fn day_range(state: &AppState, month: Month) -> (i64, i64) {
    let offset = state.store.day_offset_ms();
    (
        store::day_of(state.config.local_midnight(month.first_day()), offset),
        store::day_of(
            state.config.local_midnight(month.next().first_day()),
            offset,
        ),
    )
}

/// Each unit's own counts for a month, from the daily rollups (days not yet refreshed are
/// recounted on the fly, so the answer is always exact).
pub async fn month_tallies(
    state: &AppState,
    month: Month,
) -> Result<HashMap<String, Tally>, AppError> {
    let (from, to) = day_range(state, month);
    Ok(store::day_range_tallies(&state.store, from, to).await?)
}

/// Each unit's own counts for a month, recounted from the orders and callbacks themselves:
/// the full scan the rollups are checked against.
pub async fn month_tallies_recounted(
    state: &AppState,
    month: Month,
) -> Result<HashMap<String, Tally>, AppError> {
    let (from, to) = (
        state.config.local_midnight(month.first_day()),
        state.config.local_midnight(month.next().first_day()),
    );
    Ok(store::tallies(state.store.reader(), from, to).await?)
}

/// Recounts the days marked dirty and stores their rollups; returns how many days it
/// refreshed. Idempotent and safe on any number of nodes at once: a day changed during its
/// recount stays dirty for the next run.
pub async fn refresh_rollups(state: &AppState) -> Result<usize, AppError> {
    refresh_rollups_with(state, &crate::progress::Silent).await
}

/// [`refresh_rollups`], reporting each day recounted to `progress`.
pub async fn refresh_rollups_with(
    state: &AppState,
    progress: &dyn crate::progress::Progress,
) -> Result<usize, AppError> {
    let offset = state.store.day_offset_ms();
    let mut done = 0;
    for _ in 0..8 {
        let days = store::dirty_days(state.store.reader(), 256).await?;
        let mut progressed = false;
        for (day, version) in days {
            let counts = store::recount_day(state.store.reader(), day, offset).await?;
            let mut tx = state.store.begin().await?;
            if store::replace_day(&mut tx, day, version, &counts).await? {
                done += 1;
                progressed = true;
                progress.report(done as u64, 0, "days");
            }
            tx.commit().await?;
        }
        if !progressed {
            break;
        }
    }
    Ok(done)
}

/// Drops the rollups, marks every day with data dirty and refreshes them all; returns the
/// number of days rebuilt.
pub async fn rebuild_rollups(
    state: &AppState,
    progress: &dyn crate::progress::Progress,
) -> Result<usize, AppError> {
    let mut tx = state.store.begin().await?;
    store::ensure_rollup_offset(&mut tx, state.store.day_offset_ms(), true).await?;
    tx.commit().await?;
    refresh_rollups_with(state, progress).await
}

/// Units whose rollup counts for the month differ from a full recount: (unit, rollups,
/// recount). Empty when they agree.
pub async fn check_rollups(
    state: &AppState,
    month: Month,
) -> Result<Vec<(String, Tally, Tally)>, AppError> {
    let rolled = month_tallies(state, month).await?;
    let recounted = month_tallies_recounted(state, month).await?;
    let mut units: Vec<&String> = rolled.keys().chain(recounted.keys()).collect();
    units.sort();
    units.dedup();
    Ok(units
        .into_iter()
        .filter_map(|u| {
            let (a, b) = (
                rolled.get(u).copied().unwrap_or_default(),
                recounted.get(u).copied().unwrap_or_default(),
            );
            (a != b).then(|| (u.clone(), a, b))
        })
        .collect())
}

/// Counts of one month, summed up the unit tree onto the units of `level`.
pub(super) async fn rolled_up(
    state: &AppState,
    month: Month,
    level: Level,
) -> Result<Vec<(reference::Unit, Tally)>, AppError> {
    let own = month_tallies(state, month).await?;
    // The units as they were at the month's end (names, tree, open or closed), so an old
    // month keeps ranking a unit that was since renamed, moved, merged or closed.
    let end =
        state.config.local_midnight(month.next().first_day()) - chrono::Duration::milliseconds(1);
    let units: Vec<reference::Unit> = crate::store::units::active_at(state.store.reader(), end)
        .await?
        .into_iter()
        .map(|u| reference::Unit {
            code: u.code,
            name: u.name,
            level: u.level,
            parent_code: u.parent_code,
            path: u.path,
            short_name: u.short_name,
        })
        .collect();
    let sums = kpi::roll_up(
        &own,
        units.iter().map(|u| (u.code.as_str(), u.path.as_str())),
    );
    Ok(units
        .into_iter()
        .filter(|u| level.covers(&u.level))
        .map(|u| {
            let t = sums.get(&u.code).copied().unwrap_or_default();
            (u, t)
        })
        .collect())
}
