//! The monthly ranking: three rates and a composite per unit, ranks and the four classes,
//! frozen rankings served byte for byte, and a unit's rates month by month.

use super::rollups::rolled_up;
use super::rules::rules_for;
use super::{Level, Month};
use crate::error::AppError;
use crate::services::AppState;
use crate::store::{kpi as store, reference};
use jiesu_core::access::Action;
use jiesu_core::kpi::{self, KpiRules, RankClass, RankInput, Tally};
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One unit in a ranking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UnitRanking {
    /// Unit code.
    pub code: String,
    /// Unit name.
    pub name: String,
    /// 响应率 (None without orders).
    pub response_rate: Option<f64>,
    /// 解决率 (None without reached callbacks).
    pub resolution_rate: Option<f64>,
    /// 满意率 (None without reached callbacks).
    pub satisfaction_rate: Option<f64>,
    /// 综合成绩, 0..100.
    pub composite: f64,
    /// None for a unit with no orders this month (listed, not ranked).
    pub rank: Option<usize>,
    /// Its rank last month, if it was ranked.
    pub previous_rank: Option<usize>,
    /// Its class (四类), if any.
    pub class: Option<RankClass>,
    /// Requests it (or a unit under it) led this month.
    pub volume: u64,
    /// Orders dispatched to it (or a unit under it), exempt ones excluded.
    pub dispatched: u64,
    /// Reached callbacks that count for it under the rules.
    pub called_back: u64,
    /// Requests led per 10,000 residents, when the rules rank volume that way and the unit's
    /// population is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_per_10k: Option<f64>,
    /// Assessment appeals (考核申诉) of this month filed by it (or a unit under it).
    #[serde(default)]
    pub appealed: u64,
    /// Of those, granted.
    #[serde(default)]
    pub appeals_granted: u64,
}

/// A month's ranking at one level.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Ranking {
    /// `YYYY-MM`.
    pub month: String,
    /// The level's API name.
    pub level: String,
    /// The version of the rules it was computed with.
    pub rules_version: String,
    /// Whether this is the month's frozen ranking.
    pub frozen: bool,
    /// Ranked units by rank, then the unranked ones by code.
    pub units: Vec<UnitRanking>,
}

/// What each unit's row of one month's ranking is computed with.
struct Basis<'a> {
    rules: &'a KpiRules,
    /// Residents per unit, read only when the rules rank volume per 10,000 residents.
    population: HashMap<String, i64>,
    /// Last month's ranks.
    previous: &'a HashMap<String, usize>,
}

/// Each ranked unit's rank and class.
type Places = HashMap<String, (usize, Option<RankClass>)>;

impl Basis<'_> {
    /// Requests per 10,000 residents of a unit with a recorded population, rounded like the
    /// composite so a frozen month reproduces exactly.
    fn per_10k(&self, code: &str, volume: u64) -> Option<f64> {
        self.population
            .get(code)
            .filter(|p| **p > 0)
            .map(|p| (volume as f64 * 10_000.0 / *p as f64 * 1e6).round() / 1e6)
    }

    /// The ranking's input: every unit with orders this month.
    fn inputs(&self, rows: &[(reference::Unit, Tally)]) -> Vec<RankInput> {
        let rules = self.rules;
        rows.iter()
            .filter(|(_, t)| t.dispatched > 0)
            .map(|(u, t)| RankInput {
                code: u.code.clone(),
                rates: kpi::rates(t, rules),
                // Without a recorded population a unit cannot be compared per head: volume 0
                // keeps it out of the priority-governance class.
                volume: if rules.volume_per_10k {
                    self.per_10k(&u.code, t.volume).unwrap_or(0.0)
                } else {
                    t.volume as f64
                },
                previous_rank: self.previous.get(&u.code).copied(),
            })
            .collect()
    }

    /// A unit's row, at its place if it was ranked.
    fn row(&self, u: reference::Unit, t: Tally, places: &Places) -> UnitRanking {
        let rules = self.rules;
        let r = kpi::rates(&t, rules);
        let (rank, class) = places
            .get(&u.code)
            .map_or((None, None), |(rank, class)| (Some(*rank), *class));
        let volume_per_10k = if rules.volume_per_10k {
            self.per_10k(&u.code, t.volume)
        } else {
            None
        };
        UnitRanking {
            previous_rank: self.previous.get(&u.code).copied(),
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
            appealed: 0,
            appeals_granted: 0,
        }
    }
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
    let basis = Basis {
        rules,
        population,
        previous,
    };
    let places: Places = kpi::rank(&basis.inputs(&rows), rules)
        .into_iter()
        .map(|r| (r.code, (r.rank, r.class)))
        .collect();
    // Appeals of the month by the filing unit's path, summed onto every unit above it.
    let appeals = crate::store::appeals::month_counts(state.store.reader(), &month.label()).await?;
    let mut units: Vec<UnitRanking> = rows
        .into_iter()
        .map(|(u, t)| {
            let (n, granted) = appeals
                .iter()
                .filter(|(path, _, _)| path.starts_with(&u.path))
                .fold((0, 0), |(n, g), (_, a, b)| (n + a, g + b));
            UnitRanking {
                appealed: n,
                appeals_granted: granted,
                ..basis.row(u, t, &places)
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

/// The ranks of a month: its frozen payload's, or computed now (with no ranks before it).
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
    /// `YYYY-MM`.
    pub month: String,
    /// 响应率.
    pub response_rate: Option<f64>,
    /// 解决率.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
    /// 综合成绩, 0..100.
    pub composite: f64,
    /// Orders dispatched to it (or a unit under it).
    pub dispatched: u64,
    /// Reached callbacks on orders it (or a unit under it) led.
    pub called_back: u64,
}

/// The monthly trend of one unit (its subtree included), at most 36 months.
pub async fn trend(
    state: &AppState,
    code: &str,
    from: Month,
    to: Month,
) -> Result<Vec<TrendPoint>, AppError> {
    // A closed or merged unit still has its past months.
    let unit = crate::store::units::get(state.store.reader(), code)
        .await?
        .ok_or(AppError::NotFound("unit"))?;
    if from > to {
        return Err(AppError::invalid(
            "from",
            "err.kpi.from_must_not_be_after_to",
        ));
    }
    let mut out = Vec::new();
    let level = Level::of_unit(&unit.level);
    let mut m = from;
    while m <= to {
        if out.len() >= 36 {
            return Err(AppError::invalid("to", "err.kpi.at_most_36_months"));
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
