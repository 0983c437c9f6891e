//! The three rates (三率), the composite score and the monthly four-class ranking (四类排名),
//! as pure functions over tallies. What counts and how much is configuration with a version
//! ([`KpiRules`]); a frozen ranking records the version it used. The month a ranking covers
//! is [`Month`]; the units it covers, [`Level`]; their tallies summed up the unit tree,
//! [`roll_up`].

use serde::{Deserialize, Serialize};

mod month;
mod units;

pub use month::Month;
pub use units::{roll_up, Level};

/// A month or ranking level as given is not one the KPIs know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not a `YYYY-MM` month.
    #[error("month must be YYYY-MM")]
    Month,
    /// A month, but outside the years input may name (2000-01 to 2100-12).
    #[error("month must be between 2000-01 and 2100-12")]
    MonthOutOfRange,
    /// Not one of the four ranking levels.
    #[error("level must be subdistrict, district, department or company")]
    Level,
}

impl ParseError {
    /// The input field it is about, as the API names it.
    pub fn field(self) -> &'static str {
        match self {
            ParseError::Month | ParseError::MonthOutOfRange => "month",
            ParseError::Level => "level",
        }
    }
}

/// What a unit did in a period, counted from orders and callbacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Orders dispatched to the unit (exempt ones excluded).
    pub dispatched: u64,
    /// Of those, acknowledged within their limit.
    pub acknowledged_on_time: u64,
    /// Callbacks that reached the requester, attributed to the unit.
    pub called_back: u64,
    /// Of those, resolved.
    pub resolved: u64,
    /// Of those, 满意.
    pub satisfied: u64,
    /// Of those, 基本满意.
    pub basic: u64,
    /// Requests the unit led (诉求量, for the priority-governance class).
    pub volume: u64,
    /// Reached callbacks on requests the unit co-handled in the callback's round (counted
    /// only under [`CallbackAttribution::LeadAndCo`]).
    #[serde(default)]
    pub co_called_back: u64,
    /// Of those, resolved.
    #[serde(default)]
    pub co_resolved: u64,
    /// Of those, 满意.
    #[serde(default)]
    pub co_satisfied: u64,
    /// Of those, 基本满意.
    #[serde(default)]
    pub co_basic: u64,
    /// Reached callbacks on its lead orders left out of the resolution rate by a granted
    /// appeal (考核申诉): counted in `called_back`, not in `resolved`.
    #[serde(default)]
    pub resolution_exempt: u64,
    /// The same for the satisfaction rate: counted in `called_back`, not in `satisfied` or
    /// `basic`.
    #[serde(default)]
    pub satisfaction_exempt: u64,
    /// [`Tally::resolution_exempt`] of its co-handled orders.
    #[serde(default)]
    pub co_resolution_exempt: u64,
    /// [`Tally::satisfaction_exempt`] of its co-handled orders.
    #[serde(default)]
    pub co_satisfaction_exempt: u64,
}

impl Tally {
    /// The reached callbacks left out of (the resolution, the satisfaction) rate by granted
    /// appeals, under the rules' attribution.
    pub fn exempt_callbacks(&self, rules: &KpiRules) -> (u64, u64) {
        match rules.callbacks_count_for {
            CallbackAttribution::Lead => (self.resolution_exempt, self.satisfaction_exempt),
            CallbackAttribution::LeadAndCo => (
                self.resolution_exempt + self.co_resolution_exempt,
                self.satisfaction_exempt + self.co_satisfaction_exempt,
            ),
        }
    }

    /// The callback counts (called back, resolved, satisfied, basic) that count for the unit
    /// under the rules' attribution.
    pub fn callbacks(&self, rules: &KpiRules) -> (u64, u64, u64, u64) {
        match rules.callbacks_count_for {
            CallbackAttribution::Lead => {
                (self.called_back, self.resolved, self.satisfied, self.basic)
            }
            CallbackAttribution::LeadAndCo => (
                self.called_back + self.co_called_back,
                self.resolved + self.co_resolved,
                self.satisfied + self.co_satisfied,
                self.basic + self.co_basic,
            ),
        }
    }
}

/// Who a callback's answers (resolved? satisfied?) count for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackAttribution {
    /// The lead unit of the callback's round only (the default).
    #[default]
    Lead,
    /// The lead and every co-handler of the round (each gets the callback).
    LeadAndCo,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.dispatched += o.dispatched;
        self.acknowledged_on_time += o.acknowledged_on_time;
        self.called_back += o.called_back;
        self.resolved += o.resolved;
        self.satisfied += o.satisfied;
        self.basic += o.basic;
        self.volume += o.volume;
        self.co_called_back += o.co_called_back;
        self.co_resolved += o.co_resolved;
        self.co_satisfied += o.co_satisfied;
        self.co_basic += o.co_basic;
        self.resolution_exempt += o.resolution_exempt;
        self.satisfaction_exempt += o.satisfaction_exempt;
        self.co_resolution_exempt += o.co_resolution_exempt;
        self.co_satisfaction_exempt += o.co_satisfaction_exempt;
    }
}

/// The versioned rules of the rates and the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiRules {
    /// The version this set of rules is known by.
    pub version: String,
    /// Weight of the response rate in the composite.
    pub w_response: f64,
    /// Weight of the resolution rate.
    pub w_resolution: f64,
    /// Weight of the satisfaction rate.
    pub w_satisfaction: f64,
    /// How much a 基本满意 counts towards satisfaction (0..1).
    pub basic_weight: f64,
    /// Units in each of the four classes.
    pub class_size: usize,
    /// Who callbacks count for (default: the lead of the round).
    #[serde(default)]
    pub callbacks_count_for: CallbackAttribution,
    /// Rank the priority-governance class by requests per 10,000 residents, for units with a
    /// recorded population (units without one are then not eligible for that class).
    #[serde(default)]
    pub volume_per_10k: bool,
}

impl Default for KpiRules {
    /// The documented default: 0.2 / 0.4 / 0.4, basic counts 0.8, ten units a class. The
    /// weights Beijing uses are not published.
    fn default() -> Self {
        KpiRules {
            version: "default-1".into(),
            w_response: 0.2,
            w_resolution: 0.4,
            w_satisfaction: 0.4,
            basic_weight: 0.8,
            class_size: 10,
            callbacks_count_for: CallbackAttribution::Lead,
            volume_per_10k: false,
        }
    }
}

impl KpiRules {
    /// Checks that weights are non-negative and sum to 1, and basic_weight is in [0, 1].
    pub fn validate(&self) -> Result<(), String> {
        let ws = [self.w_response, self.w_resolution, self.w_satisfaction];
        if ws.iter().any(|w| !w.is_finite() || *w < 0.0)
            || (ws.iter().sum::<f64>() - 1.0).abs() > 1e-9
        {
            return Err("weights must be non-negative and sum to 1".into());
        }
        if !(0.0..=1.0).contains(&self.basic_weight) {
            return Err("basic_weight must be between 0 and 1".into());
        }
        if self.class_size == 0 {
            return Err("class_size must be at least 1".into());
        }
        Ok(())
    }
}

/// A unit's rates. A rate with no denominator is `None` and counts as 1.0 in the composite
/// (no order, no failure); the ranking shows it as absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// 响应率.
    pub response_rate: Option<f64>,
    /// 解决率.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
    /// 综合成绩, 0..100.
    pub composite: f64,
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num.min(den) as f64 / den as f64)
}

/// The three rates and the composite of a tally under the rules. Callbacks left out of a
/// rate by a granted appeal leave its denominator too.
pub fn rates(t: &Tally, rules: &KpiRules) -> Rates {
    let response_rate = ratio(t.acknowledged_on_time, t.dispatched);
    let (called_back, resolved, satisfied, basic) = t.callbacks(rules);
    let (res_exempt, sat_exempt) = t.exempt_callbacks(rules);
    let resolution_rate = ratio(resolved, called_back.saturating_sub(res_exempt));
    let sat_base = called_back.saturating_sub(sat_exempt);
    let satisfaction_rate = (sat_base > 0).then(|| {
        ((satisfied as f64 + rules.basic_weight * basic as f64) / sat_base as f64).min(1.0)
    });
    let composite = 100.0
        * (rules.w_response * response_rate.unwrap_or(1.0)
            + rules.w_resolution * resolution_rate.unwrap_or(1.0)
            + rules.w_satisfaction * satisfaction_rate.unwrap_or(1.0));
    // Rounded to 1e-6 so that a frozen month recomputes to the same bytes on every platform.
    Rates {
        response_rate,
        resolution_rate,
        satisfaction_rate,
        composite: (composite * 1e6).round() / 1e6,
    }
}

/// 四类: the monthly class of a street/township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RankClass {
    /// 先进类: the top composites.
    Leading,
    /// 进步类: the largest rank gains over last month, outside the leading class.
    Improving,
    /// 整改类: the bottom composites.
    Rectify,
    /// 治理类: the highest request volumes.
    PriorityGovernance,
}

/// One unit's input to the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankInput {
    /// Unit code.
    pub code: String,
    /// Its rates this month.
    pub rates: Rates,
    /// Requests it led this month (per 10 k residents when a population is configured).
    pub volume: f64,
    /// Its rank last month, if it was ranked.
    pub previous_rank: Option<usize>,
}

/// One unit's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranked {
    /// Unit code.
    pub code: String,
    /// 1 = best composite.
    pub rank: usize,
    /// Last month's rank.
    pub previous_rank: Option<usize>,
    /// Its class, if any.
    pub class: Option<RankClass>,
}

/// Ranks units by composite (ties: higher volume first, then code) and assigns the four
/// classes, each unit at most one, each class up to `class_size` units, in this order:
/// priority governance (highest volume; ties by code), leading (best ranks), rectify (worst
/// ranks), improving (largest gain from last month's rank, ties by better rank; units new to
/// the ranking or not gaining are not "improving").
pub fn rank(units: &[RankInput], rules: &KpiRules) -> Vec<Ranked> {
    let mut order: Vec<&RankInput> = units.iter().collect();
    order.sort_by(|a, b| {
        b.rates
            .composite
            .total_cmp(&a.rates.composite)
            .then(b.volume.total_cmp(&a.volume))
            .then(a.code.cmp(&b.code))
    });
    let mut out: Vec<Ranked> = order
        .iter()
        .enumerate()
        .map(|(i, u)| Ranked {
            code: u.code.clone(),
            rank: i + 1,
            previous_rank: u.previous_rank,
            class: None,
        })
        .collect();
    let n = rules.class_size;
    // 治理类 by volume.
    let mut by_volume: Vec<usize> = (0..out.len()).collect();
    by_volume.sort_by(|&a, &b| {
        order[b]
            .volume
            .total_cmp(&order[a].volume)
            .then(order[a].code.cmp(&order[b].code))
    });
    for &i in by_volume.iter().filter(|&&i| order[i].volume > 0.0).take(n) {
        out[i].class = Some(RankClass::PriorityGovernance);
    }
    let free: Vec<usize> = (0..out.len()).filter(|&i| out[i].class.is_none()).collect();
    for &i in free.iter().take(n) {
        out[i].class = Some(RankClass::Leading);
    }
    let free: Vec<usize> = (0..out.len()).filter(|&i| out[i].class.is_none()).collect();
    for &i in free.iter().rev().take(n) {
        out[i].class = Some(RankClass::Rectify);
    }
    let mut gainers: Vec<(i64, usize)> = (0..out.len())
        .filter(|&i| out[i].class.is_none())
        .filter_map(|i| {
            out[i]
                .previous_rank
                .map(|p| (p as i64 - out[i].rank as i64, i))
        })
        .filter(|(gain, _)| *gain > 0)
        .collect();
    gainers.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in gainers.iter().take(n) {
        out[i].class = Some(RankClass::Improving);
    }
    out
}

#[cfg(test)]
mod tests;
