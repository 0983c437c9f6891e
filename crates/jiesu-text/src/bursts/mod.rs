//! Burst detection (未诉先办): per (place × category) daily request counts, an alert when a
//! day breaks from the series' own baseline. Pure and incremental: the caller feeds each
//! day's counts in day order and acts on the alerts; a seeded synthetic stream (`sim`)
//! measures detection delay and false alarms.
//!
//! Method. Each series keeps a weekday-seasonal EWMA baseline: a level (EWMA of the
//! deseasonalised counts, α = 0.1; the first 28 days are a running mean and raise no alert)
//! times a factor for the day of the week (EWMA of count/level per weekday, β = 0.05, mean
//! kept at 1, clamped to 0.3–3). The expected count is `max(level × factor, 0.05)`. A day
//! raises an alert when its count is at least `min_count` (3) and either today's count or
//! today's plus yesterday's is improbable under the baseline: the Poisson upper tail
//! P(X ≥ observed | expected) is below `p_threshold` (3·10⁻⁴ each; two tests, so at most
//! about 6·10⁻⁴ false alarms per series-day when the baseline is right). The baseline
//! learns from each day's count capped at `expected + 3√expected + 1`, so a burst does not
//! become the new normal in a day, while a lasting shift is absorbed over a few weeks.

pub mod sim;

#[cfg(test)]
mod tests;

use rustc_hash::FxHashMap;
use serde::Serialize;

/// Settings of burst detection.
#[derive(Debug, Clone, PartialEq)]
pub struct BurstConfig {
    /// EWMA weight of a new day in the level (default 0.1).
    pub alpha: f64,
    /// EWMA weight of a new day in its weekday factor (default 0.05).
    pub beta: f64,
    /// Days a new series only learns (default 28).
    pub warmup_days: u32,
    /// Poisson tail probability below which a window is a burst (default 3e-4).
    pub p_threshold: f64,
    /// No alert for fewer requests than this in a day (default 3).
    pub min_count: u64,
    /// Floor of the expected daily count (default 0.05).
    pub min_expected: f64,
}

impl Default for BurstConfig {
    fn default() -> Self {
        Self {
            alpha: 0.1,
            beta: 0.05,
            warmup_days: 28,
            p_threshold: 3e-4,
            min_count: 3,
            min_expected: 0.05,
        }
    }
}

/// A burst: a place and category whose count today breaks from its baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstAlert {
    /// The place key of the series.
    pub place: String,
    /// The category of the series.
    pub category: String,
    /// The day (days since 1970-01-01, local).
    pub day: i64,
    /// Requests today.
    pub count: u64,
    /// Expected today from the baseline.
    pub expected: f64,
    /// Days in the window that fired: 1 (today) or 2 (yesterday and today).
    pub window_days: u32,
    /// Requests in that window.
    pub window_count: u64,
    /// Expected in that window.
    pub window_expected: f64,
    /// Poisson upper-tail probability of the window's count.
    pub p_value: f64,
    /// Why, in Chinese.
    pub why_zh: String,
    /// Why, in English.
    pub why_en: String,
}

#[derive(Debug, Clone)]
struct Series {
    level: f64,
    season: [f64; 7],
    days: u32,
    last_day: i64,
    prev_count: u64,
    prev_expected: f64,
}

/// The per-series baselines. Feed [`BurstDetector::day`] once per day in day order.
#[derive(Debug, Clone, Default)]
pub struct BurstDetector {
    cfg: BurstConfig,
    series: FxHashMap<(String, String), Series>,
}

impl BurstDetector {
    /// A detector with no series yet.
    pub fn new(cfg: BurstConfig) -> Self {
        Self {
            cfg,
            series: FxHashMap::default(),
        }
    }

    /// Number of series seen.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series was seen.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Closes `day`: `counts` holds the day's requests per (place, category); every series
    /// seen before and missing here had none. Days must not go backwards per series (an
    /// earlier day is ignored). Alerts come sorted by p-value, then place and category.
    pub fn day(&mut self, day: i64, counts: &FxHashMap<(String, String), u64>) -> Vec<BurstAlert> {
        let mut alerts = Vec::new();
        for key in counts.keys() {
            if !self.series.contains_key(key) {
                self.series.insert(key.clone(), Series::new(day));
            }
        }
        let cfg = self.cfg.clone();
        for (key, s) in self.series.iter_mut() {
            let count = counts.get(key).copied().unwrap_or(0);
            if let Some(a) = s.observe(&cfg, day, count) {
                alerts.push(a.named(&key.0, &key.1));
            }
        }
        alerts.sort_by(|a, b| {
            a.p_value
                .total_cmp(&b.p_value)
                .then_with(|| (&a.place, &a.category).cmp(&(&b.place, &b.category)))
        });
        alerts
    }

    /// One series-day, for a caller that keeps its own series keys; `None` unless a burst.
    pub fn observe(
        &mut self,
        place: &str,
        category: &str,
        day: i64,
        count: u64,
    ) -> Option<BurstAlert> {
        let key = (place.to_string(), category.to_string());
        let cfg = self.cfg.clone();
        let s = self.series.entry(key).or_insert_with(|| Series::new(day));
        s.observe(&cfg, day, count)
            .map(|a| a.named(place, category))
    }
}

impl Series {
    fn new(day: i64) -> Self {
        Series {
            level: 0.0,
            season: [1.0; 7],
            days: 0,
            last_day: day - 1,
            prev_count: 0,
            prev_expected: 0.0,
        }
    }

    fn expected(&self, cfg: &BurstConfig, day: i64) -> f64 {
        (self.level * self.season[weekday(day)]).max(cfg.min_expected)
    }

    fn observe(&mut self, cfg: &BurstConfig, day: i64, count: u64) -> Option<BurstAlert> {
        if day <= self.last_day {
            return None;
        }
        // days nobody reported on are zeros; a long silence only needs a few to settle
        let gap = (day - self.last_day - 1).min(120);
        for d in day - gap..day {
            self.step(cfg, d, 0);
        }
        let expected = self.expected(cfg, day);
        let alert = self.test(cfg, day, count, expected);
        self.step(cfg, day, count);
        alert
    }

    fn test(&self, cfg: &BurstConfig, day: i64, count: u64, expected: f64) -> Option<BurstAlert> {
        if self.days < cfg.warmup_days || count < cfg.min_count {
            return None;
        }
        let p1 = poisson_tail(count, expected);
        let two = (count + self.prev_count, expected + self.prev_expected);
        let p2 = poisson_tail(two.0, two.1);
        let (window_days, window_count, window_expected, p_value) = if p1 <= p2 {
            (1, count, expected, p1)
        } else {
            (2, two.0, two.1, p2)
        };
        (p_value < cfg.p_threshold).then(|| BurstAlert {
            place: String::new(),
            category: String::new(),
            day,
            count,
            expected,
            window_days,
            window_count,
            window_expected,
            p_value,
            why_zh: String::new(),
            why_en: String::new(),
        })
    }

    fn step(&mut self, cfg: &BurstConfig, day: i64, count: u64) {
        let expected = self.expected(cfg, day);
        let capped = (count as f64).min(expected + 3.0 * expected.sqrt() + 1.0);
        let wd = weekday(day);
        self.days += 1;
        let alpha = cfg.alpha.max(1.0 / self.days as f64);
        let deseason = capped / self.season[wd];
        self.level = (1.0 - alpha) * self.level + alpha * deseason;
        if self.days > 7 && self.level > 0.0 {
            let ratio = (capped / self.level).clamp(0.3, 3.0);
            self.season[wd] = (1.0 - cfg.beta) * self.season[wd] + cfg.beta * ratio;
            let mean = self.season.iter().sum::<f64>() / 7.0;
            for f in &mut self.season {
                *f = (*f / mean).clamp(0.3, 3.0);
            }
        }
        self.prev_count = count;
        self.prev_expected = expected;
        self.last_day = day;
    }
}

impl BurstAlert {
    fn named(mut self, place: &str, category: &str) -> Self {
        self.place = place.to_string();
        self.category = category.to_string();
        let (zh_window, en_window) = if self.window_days == 1 {
            (
                format!("今日{}件", self.count),
                format!("{} requests today", self.count),
            )
        } else {
            (
                format!("今日{}件、近两日共{}件", self.count, self.window_count),
                format!(
                    "{} requests today, {} in two days",
                    self.count, self.window_count
                ),
            )
        };
        self.why_zh = format!(
            "{place}「{category}」{zh_window}，按其同星期几的基线预计{:.1}件；若无异常，出现这么多的概率仅为{:.1e}。",
            self.window_expected, self.p_value
        );
        self.why_en = format!(
            "{en_window} about {category} at {place}, against {:.1} expected from its weekday baseline; by chance that is p = {:.1e}.",
            self.window_expected, self.p_value
        );
        self
    }
}

/// Day of the week of a day number, 0 = Thursday (1970-01-01); only used as an index.
fn weekday(day: i64) -> usize {
    day.rem_euclid(7) as usize
}

/// P(X ≥ k) for X ~ Poisson(μ), accurate in the far tail.
pub fn poisson_tail(k: u64, mu: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if mu <= 0.0 {
        return 0.0;
    }
    let ln_term = |i: u64| -mu + i as f64 * mu.ln() - ln_factorial(i);
    if (k as f64) <= mu {
        let lower: f64 = (0..k).map(|i| ln_term(i).exp()).sum();
        return (1.0 - lower).clamp(0.0, 1.0);
    }
    let mut term = ln_term(k).exp();
    let mut sum = term;
    let mut i = k;
    while term > sum * 1e-15 && i < k + 10_000 {
        i += 1;
        term *= mu / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

fn ln_factorial(n: u64) -> f64 {
    if n < 256 {
        (2..=n).map(|i| (i as f64).ln()).sum()
    } else {
        // Stirling's series; error below 1e-10 here
        let x = n as f64;
        x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
            - 1.0 / (360.0 * x * x * x)
    }
}
