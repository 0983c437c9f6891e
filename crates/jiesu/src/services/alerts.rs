//! Burst alerts (未诉先办): daily request counts per (street × category) from the database,
//! run through `jiesu_text::bursts`, and the alerts of the day asked about. Owns the series
//! key; the requests come annotated from `hotspots::load`.

use super::hotspots::{load, Mined};
use super::AppState;
use crate::error::AppError;
use crate::store::millis;
use chrono::{Duration, NaiveDate};
use jiesu_core::access::Action;
use jiesu_core::Actor;
use jiesu_text::bursts::{BurstConfig, BurstDetector};
use jiesu_text::hotspots::time::DAY_MS;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Days the burst detector reads before the day asked about (its warm-up is 28).
pub const ALERT_HISTORY_DAYS: i64 = 90;

/// A burst alert as the API shows it.
#[derive(Debug, Serialize)]
pub struct AlertView {
    /// The street (or district) name; 未定位 when the request names no known place.
    pub place: String,
    /// The category code.
    pub category: String,
    /// The category's name.
    pub category_name: String,
    /// The day, YYYY-MM-DD local.
    pub date: String,
    /// Requests that day.
    pub count: u64,
    /// Expected that day from the series' baseline.
    pub expected: f64,
    /// −log10 of the Poisson tail probability: 4 means a 1-in-10,000 day.
    pub score: f64,
    /// Why, in Chinese.
    pub why_zh: String,
    /// Why, in English.
    pub why_en: String,
    /// The requests of that day in the series.
    pub request_ids: Vec<String>,
}

fn series_place(m: &Mined) -> String {
    m.at.street
        .as_ref()
        .or(m.at.district.as_ref())
        .map(|p| p.1.clone())
        .unwrap_or_else(|| "未定位".into())
}

/// Runs the burst detector over the daily counts per (street × category) of the
/// [`ALERT_HISTORY_DAYS`] before `date` and returns that day's alerts (center roles).
pub async fn alerts(
    state: &AppState,
    actor: &Actor,
    date: NaiveDate,
) -> Result<Vec<AlertView>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("burst alerts"));
    }
    let offset = state.config.utc_offset_hours * 60;
    let end = state.config.local_midnight(date.succ_opt().unwrap_or(date));
    let requests = load(state, end - Duration::days(ALERT_HISTORY_DAYS), end, None).await?;
    let day_of = |ms: i64| jiesu_text::hotspots::time::local_day(ms, offset);
    let target = day_of(millis(end) - 1);
    let mut by_day: BTreeMap<i64, FxHashMap<(String, String), Vec<&str>>> = BTreeMap::new();
    for m in &requests {
        let key = (
            series_place(m),
            m.category.clone().unwrap_or_else(|| "未分类".into()),
        );
        by_day
            .entry(day_of(m.row.created_at))
            .or_default()
            .entry(key)
            .or_default()
            .push(&m.row.id);
    }
    let Some(&first) = by_day.keys().next() else {
        return Ok(Vec::new());
    };
    let mut detector = BurstDetector::new(BurstConfig::default());
    let mut out = Vec::new();
    for day in first..=target {
        let ids = by_day.remove(&day).unwrap_or_default();
        let counts = ids
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect();
        let fired = detector.day(day, &counts);
        if day == target {
            for a in fired {
                let key = (a.place.clone(), a.category.clone());
                out.push(AlertView {
                    category_name: state
                        .models
                        .category_name(&a.category)
                        .unwrap_or_else(|| a.category.clone()),
                    date: jiesu_text::hotspots::time::format_date(day * DAY_MS, 0),
                    count: a.count,
                    expected: a.expected,
                    score: -a.p_value.max(1e-300).log10(),
                    request_ids: ids
                        .get(&key)
                        .map(|v| v.iter().map(|s| s.to_string()).collect())
                        .unwrap_or_default(),
                    place: a.place,
                    category: a.category,
                    why_zh: a.why_zh,
                    why_en: a.why_en,
                });
            }
        }
    }
    Ok(out)
}
