//! Three rates per unit and period, and the monthly four-class ranking (四类排名) of
//! streets/townships, districts, departments and companies. A unit's counts include the units
//! under it (a street answers for its communities). A month can be frozen: the published
//! payload is stored with the rules version it used and served byte for byte from then on.

use super::AppState;
use crate::error::AppError;
use crate::store::{kpi as store, reference};
use chrono::NaiveDate;
use jiesu_core::access::Action;
use jiesu_core::kpi::{self, KpiRules, RankClass, RankInput, Tally};
pub use jiesu_core::kpi::{Level, Month};
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One unit in a ranking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnitRanking {
    pub code: String,
    pub name: String,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub composite: f64,
    /// None for a unit with no orders this month (listed, not ranked).
    pub rank: Option<usize>,
    pub previous_rank: Option<usize>,
    pub class: Option<RankClass>,
    /// Requests it (or a unit under it) led this month.
    pub volume: u64,
    pub dispatched: u64,
    pub called_back: u64,
    /// Requests led per 10,000 residents, when the rules rank volume that way and the unit's
    /// population is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_per_10k: Option<f64>,
}

/// A month's ranking at one level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ranking {
    pub month: String,
    pub level: String,
    pub rules_version: String,
    pub frozen: bool,
    pub units: Vec<UnitRanking>,
}

/// The rules of a month: the latest effective at its start, or the documented default.
pub async fn rules_for(state: &AppState, month: Month) -> Result<KpiRules, AppError> {
    let at = state.config.local_midnight(month.first_day());
    Ok(store::rules_at(state.store.reader(), at)
        .await?
        .unwrap_or_default())
}

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
pub async fn rebuild_rollups(state: &AppState) -> Result<usize, AppError> {
    let mut tx = state.store.begin().await?;
    store::ensure_rollup_offset(&mut tx, state.store.day_offset_ms(), true).await?;
    tx.commit().await?;
    refresh_rollups(state).await
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
async fn rolled_up(
    state: &AppState,
    month: Month,
    level: Level,
) -> Result<Vec<(reference::Unit, Tally)>, AppError> {
    let own = month_tallies(state, month).await?;
    let units = reference::units(state.store.reader(), None, None).await?;
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

/// Computes a month's ranking under `rules`; `previous` gives last month's ranks.
async fn compute(
    state: &AppState,
    month: Month,
    level: Level,
    rules: &KpiRules,
    previous: &HashMap<String, usize>,
) -> Result<Ranking, AppError> {
    let rows = rolled_up(state, month, level).await?;
    let population = if rules.volume_per_10k {
        store::populations(state.store.reader()).await?
    } else {
        HashMap::new()
    };
    // Per 10,000 residents, rounded like the composite so a frozen month reproduces exactly.
    let per_10k = |code: &str, volume: u64| {
        population
            .get(code)
            .filter(|p| **p > 0)
            .map(|p| (volume as f64 * 10_000.0 / *p as f64 * 1e6).round() / 1e6)
    };
    let inputs: Vec<RankInput> = rows
        .iter()
        .filter(|(_, t)| t.dispatched > 0)
        .map(|(u, t)| RankInput {
            code: u.code.clone(),
            rates: kpi::rates(t, rules),
            // Without a recorded population a unit cannot be compared per head: volume 0
            // keeps it out of the priority-governance class.
            volume: if rules.volume_per_10k {
                per_10k(&u.code, t.volume).unwrap_or(0.0)
            } else {
                t.volume as f64
            },
            previous_rank: previous.get(&u.code).copied(),
        })
        .collect();
    let ranked: HashMap<String, (usize, Option<RankClass>)> = kpi::rank(&inputs, rules)
        .into_iter()
        .map(|r| (r.code, (r.rank, r.class)))
        .collect();
    let mut units: Vec<UnitRanking> = rows
        .into_iter()
        .map(|(u, t)| {
            let r = kpi::rates(&t, rules);
            let (rank, class) = ranked
                .get(&u.code)
                .map_or((None, None), |(rank, class)| (Some(*rank), *class));
            let volume_per_10k = if rules.volume_per_10k {
                per_10k(&u.code, t.volume)
            } else {
                None
            };
            UnitRanking {
                previous_rank: previous.get(&u.code).copied(),
                code: u.code,
                name: u.name,
                response_rate: r.response_rate,
                resolution_rate: r.resolution_rate,
                satisfaction_rate: r.satisfaction_rate,
                composite: r.composite,
                rank,
                class,
                volume: t.volume,
                dispatched: t.dispatched,
                called_back: t.callbacks(rules).0,
                volume_per_10k,
            }
        })
        .collect();
    units.sort_by(|a, b| {
        a.rank
            .unwrap_or(usize::MAX)
            .cmp(&b.rank.unwrap_or(usize::MAX))
            .then(a.code.cmp(&b.code))
    });
    Ok(Ranking {
        month: month.label(),
        level: level.as_str().into(),
        rules_version: rules.version.clone(),
        frozen: false,
        units,
    })
}

async fn ranks_of(
    state: &AppState,
    month: Month,
    level: Level,
) -> Result<HashMap<String, usize>, AppError> {
    let r = match store::snapshot(state.store.reader(), &month.label(), level.as_str()).await? {
        Some((_, payload)) => {
            serde_json::from_str::<Ranking>(&payload).map_err(|e| AppError::Internal(e.into()))?
        }
        None => {
            compute(
                state,
                month,
                level,
                &rules_for(state, month).await?,
                &HashMap::new(),
            )
            .await?
        }
    };
    Ok(r.units
        .into_iter()
        .filter_map(|u| Some((u.code, u.rank?)))
        .collect())
}

/// The ranking as JSON: the frozen payload byte for byte when the month is frozen, else
/// computed now.
pub async fn ranking_json(
    state: &AppState,
    month: Month,
    level: Level,
) -> Result<String, AppError> {
    if let Some((_, payload)) =
        store::snapshot(state.store.reader(), &month.label(), level.as_str()).await?
    {
        return Ok(payload);
    }
    let previous = ranks_of(state, month.previous(), level).await?;
    let r = compute(
        state,
        month,
        level,
        &rules_for(state, month).await?,
        &previous,
    )
    .await?;
    serde_json::to_string(&r).map_err(|e| AppError::Internal(e.into()))
}

/// Recomputes a month with the rules version it was frozen with (for checking a frozen
/// month): equal to the frozen payload when nothing under it has changed since.
pub async fn recompute_frozen(
    state: &AppState,
    month: Month,
    level: Level,
) -> Result<Option<String>, AppError> {
    let Some((version, _)) =
        store::snapshot(state.store.reader(), &month.label(), level.as_str()).await?
    else {
        return Ok(None);
    };
    let rules = store::rules_version(state.store.reader(), &version)
        .await?
        .unwrap_or_default();
    let previous = ranks_of(state, month.previous(), level).await?;
    let mut r = compute(state, month, level, &rules, &previous).await?;
    r.frozen = true;
    Ok(Some(
        serde_json::to_string(&r).map_err(|e| AppError::Internal(e.into()))?,
    ))
}

/// Freezes a month at one level.
pub async fn freeze(
    state: &AppState,
    actor: &Actor,
    month: Month,
    level: Level,
) -> Result<String, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("freezing a ranking"));
    }
    let previous = ranks_of(state, month.previous(), level).await?;
    let rules = rules_for(state, month).await?;
    let mut r = compute(state, month, level, &rules, &previous).await?;
    r.frozen = true;
    let payload = serde_json::to_string(&r).map_err(|e| AppError::Internal(e.into()))?;
    let mut tx = state.store.begin().await?;
    if !store::insert_snapshot(
        &mut tx,
        &r.month,
        &r.level,
        &r.rules_version,
        &payload,
        &actor.user_id,
        state.clock.now(),
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "{} {} is already frozen",
            r.month, r.level
        )));
    }
    let ev = serde_json::json!({ "month": r.month, "level": r.level, "rules_version": r.rules_version, "ranked": r.units.iter().filter(|u| u.rank.is_some()).count() });
    tx.event(state.audit_event(&actor.user_id, actor.role.as_str(), "kpi.frozen", ev));
    tx.commit().await?;
    Ok(payload)
}

/// A unit's rates month by month.
#[derive(Debug, Serialize)]
pub struct TrendPoint {
    pub month: String,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub composite: f64,
    pub dispatched: u64,
    pub called_back: u64,
}

/// The monthly trend of one unit (its subtree included), at most 36 months.
pub async fn trend(
    state: &AppState,
    code: &str,
    from: Month,
    to: Month,
) -> Result<Vec<TrendPoint>, AppError> {
    let unit = reference::unit(state.store.reader(), code)
        .await?
        .ok_or(AppError::NotFound("unit"))?;
    if from > to {
        return Err(AppError::field(
            "from",
            "起始月份须不晚于结束月份",
            "from must not be after to",
        ));
    }
    let mut out = Vec::new();
    let level = Level::of_unit(&unit.level);
    let mut m = from;
    while m <= to {
        if out.len() >= 36 {
            return Err(AppError::field("to", "至多 36 个月", "at most 36 months"));
        }
        let rules = rules_for(state, m).await?;
        let t = rolled_up(state, m, level)
            .await?
            .into_iter()
            .find(|(u, _)| u.code == unit.code)
            .map(|(_, t)| t)
            .unwrap_or_default();
        let r = kpi::rates(&t, &rules);
        out.push(TrendPoint {
            month: m.label(),
            response_rate: r.response_rate,
            resolution_rate: r.resolution_rate,
            satisfaction_rate: r.satisfaction_rate,
            composite: r.composite,
            dispatched: t.dispatched,
            called_back: t.called_back,
        });
        m = m.next();
    }
    Ok(out)
}

/// New KPI rules as submitted.
#[derive(Debug, Deserialize)]
pub struct RulesInput {
    /// The rules.
    #[serde(flatten)]
    pub rules: KpiRules,
    /// The first day they apply to (a month's rules are those in force on its first day).
    pub effective_from: NaiveDate,
}

/// Adds a version of the rules (admin only).
pub async fn add_rules(state: &AppState, actor: &Actor, input: RulesInput) -> Result<(), AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("changing the KPI rules"));
    }
    input
        .rules
        .validate()
        .map_err(|m| AppError::field("rules", &m, &m))?;
    if input.rules.version.trim().is_empty() || input.rules.version.len() > 64 {
        return Err(AppError::field(
            "version",
            "版本名须为 1–64 个字符",
            "version must be 1–64 characters",
        ));
    }
    let mut tx = state.store.begin().await?;
    if !store::insert_rules(
        &mut tx,
        &input.rules,
        state.config.local_midnight(input.effective_from),
        &actor.user_id,
        state.clock.now(),
    )
    .await?
    {
        return Err(AppError::Conflict(format!(
            "rules version {} exists",
            input.rules.version
        )));
    }
    let ev = serde_json::json!({ "rules": input.rules, "effective_from": input.effective_from });
    tx.event(state.audit_event(&actor.user_id, actor.role.as_str(), "kpi.rules_added", ev));
    tx.commit().await?;
    Ok(())
}

/// One unit's residents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationInput {
    /// Unit code.
    pub unit_code: String,
    /// Residents (常住人口), at least 1.
    pub population: i64,
}

/// Records residents per unit (admin), for ranking volume per 10,000 residents; returns how
/// many units were set. All or nothing: one bad row refuses the whole list, naming it.
pub async fn set_populations(
    state: &AppState,
    actor: &Actor,
    rows: &[PopulationInput],
) -> Result<usize, AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("recording populations"));
    }
    let mut errors = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if r.population < 1 {
            errors.push(crate::error::FieldError::new(
                format!("units[{i}].population"),
                "人口须为正整数",
                "population must be a positive integer",
            ));
        }
        if reference::unit(state.store.reader(), &r.unit_code)
            .await?
            .is_none()
        {
            errors.push(crate::error::FieldError::new(
                format!("units[{i}].unit_code"),
                format!("没有这个单位：{}", r.unit_code),
                format!("no such unit: {}", r.unit_code),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    for r in rows {
        store::set_population(&mut tx, &r.unit_code, r.population, &actor.user_id, now).await?;
    }
    let payload = serde_json::json!({ "units": rows.iter().map(|r| serde_json::json!({ "unit_code": r.unit_code, "population": r.population })).collect::<Vec<_>>() });
    tx.event(state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "kpi.population_set",
        payload,
    ));
    tx.commit().await?;
    Ok(rows.len())
}

/// Exempts an order from its unit's rates (不纳入考核), with a reason; the approver is the
/// actor (a supervisor or admin).
pub async fn exempt(
    state: &AppState,
    actor: &Actor,
    assignment_id: &str,
    reason: &str,
) -> Result<String, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("approving exemptions"));
    }
    jiesu_core::workflow::require_text("reason", reason, 2000)?;
    let request_id =
        crate::store::requests::request_of_assignment(state.store.reader(), assignment_id)
            .await?
            .ok_or(AppError::NotFound("assignment"))?;
    let mut tx = state.store.begin().await?;
    if !store::insert_exemption(
        &mut tx,
        assignment_id,
        reason,
        &actor.user_id,
        state.clock.now(),
    )
    .await?
    {
        return Err(AppError::Conflict("this order is already exempt".into()));
    }
    state
        .event(
            actor,
            &request_id,
            Some(assignment_id),
            "assignment.exempted",
        )
        .payload(serde_json::json!({ "reason": reason }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(request_id)
}
