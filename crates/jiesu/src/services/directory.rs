//! The reference data as pages and the API read it: units, categories, the time limits and
//! KPI rules with their versions, and unit names for lists. Read-only; changing reference
//! data is `catalogue`, `kb` and the start-up load. Every lookup of names for a list is one
//! query, whatever the list's length.

use super::AppState;
use crate::error::AppError;
use crate::store::{queues, reference};
use chrono::{DateTime, Utc};
use jiesu_core::kpi::KpiRules;
use std::collections::HashMap;

pub use crate::store::queues::TimeLimitVersion;
pub use crate::store::reference::{Category, Unit};

/// Unit names for the codes of one list, looked up at once.
#[derive(Debug, Clone, Default)]
pub struct UnitNames(HashMap<String, String>);

impl UnitNames {
    /// The unit's name, or its code where it has none.
    pub fn of(&self, code: &str) -> String {
        self.0
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }

    /// The unit's name, if the unit is known.
    pub fn get(&self, code: &str) -> Option<&str> {
        self.0.get(code).map(String::as_str)
    }
}

/// The names of the units with these codes (one query).
pub async fn unit_names<S: AsRef<str>>(
    state: &AppState,
    codes: impl IntoIterator<Item = S>,
) -> Result<UnitNames, AppError> {
    let mut codes: Vec<String> = codes.into_iter().map(|c| c.as_ref().to_string()).collect();
    codes.sort_unstable();
    codes.dedup();
    Ok(UnitNames(
        queues::unit_names(state.store.reader(), &codes).await?,
    ))
}

/// One unit, by code.
pub async fn unit(state: &AppState, code: &str) -> Result<Option<Unit>, AppError> {
    Ok(reference::unit(state.store.reader(), code).await?)
}

/// Units, optionally of one level and under one parent.
pub async fn units(
    state: &AppState,
    level: Option<&str>,
    parent: Option<&str>,
) -> Result<Vec<Unit>, AppError> {
    Ok(reference::units(state.store.reader(), level, parent).await?)
}

/// Every category of the taxonomy.
pub async fn categories(state: &AppState) -> Result<Vec<Category>, AppError> {
    Ok(reference::categories(state.store.reader()).await?)
}

/// A category's (Chinese, English) name, by code.
pub async fn category_name(
    state: &AppState,
    code: &str,
) -> Result<Option<(String, String)>, AppError> {
    Ok(queues::category_name(state.store.reader(), code).await?)
}

/// Every version of every time limit, by class and date.
pub async fn time_limits(state: &AppState) -> Result<Vec<TimeLimitVersion>, AppError> {
    Ok(queues::time_limits(state.store.reader()).await?)
}

/// A time-limit class in force, with its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitClass {
    /// Class code (`emergency`, `utilities`, `general`, `complex`).
    pub class: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// The time-limit classes in force now, each with the names of its latest version.
pub async fn limit_classes(state: &AppState) -> Result<Vec<LimitClass>, AppError> {
    Ok(in_force(time_limits(state).await?, state.clock.now()))
}

/// The latest version of each class that took effect by `now`, in class order.
fn in_force(versions: Vec<TimeLimitVersion>, now: DateTime<Utc>) -> Vec<LimitClass> {
    let mut latest: Vec<LimitClass> = Vec::new();
    for v in versions.into_iter().filter(|v| v.effective_from <= now) {
        let class = LimitClass {
            class: v.class,
            name_zh: v.name_zh,
            name_en: v.name_en,
        };
        match latest.iter_mut().find(|c| c.class == class.class) {
            Some(slot) => *slot = class,
            None => latest.push(class),
        }
    }
    latest
}

/// One stored version of the KPI rules.
#[derive(Debug, Clone)]
pub struct KpiRulesVersion {
    /// In force from.
    pub effective_from: DateTime<Utc>,
    /// The rules.
    pub rules: KpiRules,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Every stored version of the KPI rules, oldest first.
pub async fn kpi_rules(state: &AppState) -> Result<Vec<KpiRulesVersion>, AppError> {
    Ok(queues::kpi_rules(state.store.reader())
        .await?
        .into_iter()
        .map(|(effective_from, rules, created_at)| KpiRulesVersion {
            effective_from,
            rules,
            created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn version(class: &str, day: u32, zh: &str) -> TimeLimitVersion {
        TimeLimitVersion {
            class: class.into(),
            effective_from: Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap(),
            name_zh: zh.into(),
            name_en: zh.into(),
            acknowledge_minutes: 60,
            reply_minutes: 600,
            day_kind: "calendar".into(),
        }
    }

    #[test]
    fn the_latest_version_in_force_names_each_class_and_future_ones_wait() {
        let now = Utc.with_ymd_and_hms(2026, 1, 10, 0, 0, 0).unwrap();
        let all = vec![
            version("emergency", 1, "紧急"),
            version("emergency", 5, "紧急件"),
            version("emergency", 20, "将来"),
            version("general", 1, "一般"),
            version("complex", 15, "将来复杂"),
        ];
        let names: Vec<(String, String)> = in_force(all, now)
            .into_iter()
            .map(|c| (c.class, c.name_zh))
            .collect();
        assert_eq!(
            names,
            vec![
                ("emergency".to_string(), "紧急件".to_string()),
                ("general".to_string(), "一般".to_string())
            ]
        );
    }
}
