//! Three rates per unit and period, and the monthly four-class ranking (四类排名) of
//! streets/townships, districts, departments and companies. A unit's counts include the units
//! under it (a street answers for its communities). A month can be frozen: the published
//! payload is stored with the rules version it used and served byte for byte from then on.
//!
//! `rollups` keeps the daily tallies the rates are read from and sums them up the unit tree;
//! `ranking` turns a month's tallies into rates, ranks, classes, frozen rankings and trends;
//! `rules` holds what the KPIs count by (rules versions, populations, exemptions). The month
//! and the level are the core's ([`Month`], [`Level`]).

mod ranking;
mod rollups;
mod rules;

pub use jiesu_core::kpi::{Level, Month};
pub use ranking::{
    freeze, ranking_json, recompute_frozen, trend, Ranking, TrendPoint, UnitRanking,
};
pub use rollups::{
    check_rollups, month_tallies, month_tallies_recounted, rebuild_rollups, refresh_rollups,
    refresh_rollups_with,
};
pub use rules::{
    add_rules, exempt, import_rules, rules_for, set_populations, PopulationInput, RulesInput,
};
